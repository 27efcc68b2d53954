//! The behaviour every `Store` backend must show, written once.
//!
//! A backend's test file calls [`conformance_suite!`] with an async function
//! that makes a fresh, empty, migrated store for the test it names (or `None`
//! to skip, when the backend's database is not available on this machine). Each check then
//! becomes one `#[tokio::test]` in that backend's test binary.

pub mod checks;
pub mod migrations;

use std::any::Any;

use basic_admin_core::store::Store;

/// A store for one test, and whatever must live as long as it (a temporary
/// folder, a throw-away schema).
pub struct Fixture {
    pub store: Box<dyn Store>,
    _guard: Box<dyn Any + Send>,
}

impl Fixture {
    pub fn new(store: impl Store, guard: impl Any + Send) -> Self {
        Self { store: Box::new(store), _guard: Box::new(guard) }
    }
}

/// Expands to one test per check in [`checks`]; `$make` is an
/// `async fn(test_name: &str) -> Option<Fixture>`.
#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        $crate::conformance_suite!(@each $make;
            ping_answers,
            migrations_are_recorded,
            migrate_is_idempotent,
            accounts_are_stored_and_found,
            account_emails_and_usernames_are_unique_ignoring_case,
            email_links_are_spent_once_and_prove_their_address,
            concurrent_link_uses_have_one_winner,
            a_password_reset_ends_every_sign_in_of_the_account,
            an_account_sees_and_ends_its_own_sign_ins,
            an_email_changes_with_its_link_and_profiles_change_within_the_rules,
            an_authenticator_is_confirmed_once_and_each_code_and_recovery_code_works_once,
            teams_and_projects_are_stored,
            memberships_list_teams_and_their_projects,
            members_change_roles_and_ownership_moves,
            invites_are_pending_until_accepted_once,
            teams_with_projects_are_not_deleted,
            projects_update_and_settings_change_only_if_unchanged,
            schema_versions_are_kept_in_order_and_unique,
            api_keys_are_kept_changed_and_touched,
            signing_keys_are_kept_and_retired,
            auth_codes_are_spent_once,
            concurrent_code_uses_have_one_winner,
            refresh_tokens_rotate_and_reuse_is_seen,
            expired_refresh_tokens_do_not_rotate,
            revoked_families_are_listed_since_a_time,
            sessions_expire_and_end,
            expired_sign_ins_are_purged_in_batches,
            users_connect_once_and_count_activity_per_day,
            user_meta_changes_only_if_unchanged,
            items_belong_to_a_user_and_a_table_in_order,
            identity_keys_are_made_once_per_project,
            uploads_are_recorded_with_the_profile,
            every_write_takes_the_next_revision_and_the_log_keeps_one_entry_per_record,
            client_identities_are_given_once_per_user,
            concurrent_writes_of_one_user_take_distinct_revisions,
        );
    };
    (@each $make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                if let Some(fixture) = $make(concat!(module_path!(), "::", stringify!($check))).await {
                    $crate::checks::$check(&*fixture.store).await;
                    fixture.store.close().await;
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    /// The checks the suite runs, as `conformance_suite!` lists them.
    fn listed() -> Vec<String> {
        let source = include_str!("lib.rs");
        let start = source.find("@each $make;").expect("the suite's list");
        let list = &source[start..source[start..].find(");").map(|end| start + end).expect("its end")];
        list.lines().skip(1).map(|l| l.trim().trim_end_matches(',').to_owned()).filter(|l| !l.is_empty()).collect()
    }

    const CHECK_FILES: [&str; 5] = ["accounts", "oauth", "projects", "sync", "users"];

    /// Every `pub async fn name(store: &dyn Store)` of the checks.
    fn written() -> Vec<String> {
        let modules: Vec<&str> =
            include_str!("checks.rs").lines().filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';')).collect();
        assert_eq!(modules, CHECK_FILES, "a new file of checks is read below too");
        let sources = [
            include_str!("checks.rs"),
            include_str!("checks/accounts.rs"),
            include_str!("checks/oauth.rs"),
            include_str!("checks/projects.rs"),
            include_str!("checks/sync.rs"),
            include_str!("checks/users.rs"),
        ];
        sources
            .iter()
            .flat_map(|s| s.lines())
            .filter_map(|l| l.strip_prefix("pub async fn "))
            .filter(|l| l.contains("(store: &dyn Store)"))
            .map(|l| l[..l.find('(').unwrap()].to_owned())
            .collect()
    }

    #[test]
    fn every_check_written_is_in_the_suite_and_nothing_else() {
        let (mut listed, mut written) = (listed(), written());
        listed.sort();
        written.sort();
        assert!(written.len() > 20, "the checks were found: {written:?}");
        assert_eq!(listed, written, "conformance_suite! must list every check, and only checks");
    }
}
