use basic_admin_core::store::{
    AccountLink, AuthCode, Constraint, LinkPurpose, LinkUse, NewAccount, RefreshToken, Session, Store, StoreError,
    TokenFamily,
};
use basic_admin_core::time;
use chrono::Duration;
use futures_util::future::join_all;
use uuid::Uuid;

/// A new account with a unique email, for checks that need one.
pub fn new_account(email: &str) -> NewAccount {
    NewAccount {
        id: Uuid::new_v4(),
        email: email.to_owned(),
        username: None,
        name: "Ada Lovelace".to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_at: time::now(),
    }
}

pub async fn accounts_are_stored_and_found(store: &dyn Store) {
    let new = NewAccount { username: Some("Ada".into()), ..new_account("Ada@Example.com") };
    let created = store.create_account(new.clone()).await.unwrap();
    assert_eq!(
        (created.id, created.email.as_str(), created.username.as_deref()),
        (new.id, "Ada@Example.com", Some("Ada"))
    );
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(created.created_at.timestamp_millis(), new.created_at.timestamp_millis());

    assert_eq!(store.account_by_id(new.id).await.unwrap(), Some(created.clone()));
    assert_eq!(store.account_by_email("ada@example.COM").await.unwrap(), Some(created.clone()));
    assert_eq!(store.account_by_username("ADA").await.unwrap(), Some(created));
    assert_eq!(store.account_by_id(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(store.account_by_email("nobody@example.com").await.unwrap(), None);
}

pub async fn account_emails_and_usernames_are_unique_ignoring_case(store: &dyn Store) {
    let first = NewAccount { username: Some("grace".into()), ..new_account("grace@example.com") };
    store.create_account(first).await.unwrap();

    let same_email = new_account("GRACE@example.com");
    match store.create_account(same_email).await {
        Err(StoreError::Unique(taken)) => assert_eq!(taken, Constraint::AccountEmail),
        other => panic!("expected a conflict on the email, got {other:?}"),
    }
    let same_username = NewAccount { username: Some("Grace".into()), ..new_account("other@example.com") };
    match store.create_account(same_username).await {
        Err(StoreError::Unique(taken)) => assert_eq!(taken, Constraint::AccountUsername),
        other => panic!("expected a conflict on the username, got {other:?}"),
    }
    // Accounts without usernames do not collide with each other.
    store.create_account(new_account("a1@example.com")).await.unwrap();
    store.create_account(new_account("a2@example.com")).await.unwrap();
}

fn link(account: &basic_admin_core::model::Account, hash: &str, purpose: LinkPurpose) -> AccountLink {
    let now = time::now();
    AccountLink {
        token_hash: hash.into(),
        account_id: account.id,
        purpose,
        email: account.email.clone(),
        created_at: now,
        expires_at: now + Duration::hours(1),
    }
}

pub async fn email_links_are_spent_once_and_prove_their_address(store: &dyn Store) {
    let account = store.create_account(new_account("link@example.com")).await.unwrap();
    assert_eq!(account.email_verified_at, None);
    let fresh = link(&account, "verify-1", LinkPurpose::VerifyEmail);
    store.create_account_link(fresh.clone()).await.unwrap();
    let now = time::now();
    assert_eq!(
        store.account_link("verify-1", LinkPurpose::VerifyEmail, now).await.unwrap(),
        LinkUse::Fresh(fresh.clone())
    );
    assert_eq!(
        store.account_link("verify-1", LinkPurpose::ResetPassword, now).await.unwrap(),
        LinkUse::Unknown,
        "a link does only what it was made for"
    );
    assert_eq!(store.verify_email("verify-1", now).await.unwrap(), LinkUse::Fresh(fresh));
    let verified = store.account_by_id(account.id).await.unwrap().unwrap();
    assert_eq!(verified.email_verified_at.map(|t| t.timestamp()), Some(now.timestamp()));
    assert_eq!(store.verify_email("verify-1", now).await.unwrap(), LinkUse::Used);
    assert_eq!(store.verify_email("never-made", now).await.unwrap(), LinkUse::Unknown);

    let old =
        AccountLink { expires_at: now - Duration::seconds(1), ..link(&account, "verify-2", LinkPurpose::VerifyEmail) };
    store.create_account_link(old).await.unwrap();
    assert_eq!(store.verify_email("verify-2", now).await.unwrap(), LinkUse::Expired);

    // A link to another address (the account's before a change) proves nothing now.
    let other = store.create_account(new_account("other-link@example.com")).await.unwrap();
    let stale =
        AccountLink { email: "before@example.com".into(), ..link(&other, "verify-3", LinkPurpose::VerifyEmail) };
    store.create_account_link(stale).await.unwrap();
    assert!(matches!(store.verify_email("verify-3", now).await.unwrap(), LinkUse::Fresh(_)));
    assert_eq!(store.account_by_id(other.id).await.unwrap().unwrap().email_verified_at, None);
    assert!(!store.mark_email_verified(other.id, "before@example.com", now).await.unwrap());
    assert!(store.mark_email_verified(other.id, "OTHER-link@example.com", now).await.unwrap());
    assert!(store.account_by_id(other.id).await.unwrap().unwrap().email_verified());
}

pub async fn concurrent_link_uses_have_one_winner(store: &dyn Store) {
    let account = store.create_account(new_account("race@example.com")).await.unwrap();
    store.create_account_link(link(&account, "race", LinkPurpose::ResetPassword)).await.unwrap();
    let now = time::now();
    let uses = join_all((0..4).map(|_| store.reset_password("race", "$argon2id$new", now))).await;
    let fresh = uses.iter().filter(|u| matches!(u, Ok(LinkUse::Fresh(_)))).count();
    assert_eq!(fresh, 1, "{uses:?}");
    assert!(uses.iter().all(|u| matches!(u, Ok(LinkUse::Fresh(_) | LinkUse::Used))), "{uses:?}");
}

pub async fn a_password_reset_ends_every_sign_in_of_the_account(store: &dyn Store) {
    let account = store.create_account(new_account("reset@example.com")).await.unwrap();
    let bystander = store.create_account(new_account("bystander@example.com")).await.unwrap();
    let now = time::now();
    let session = |id: &str, account_id| Session {
        id_hash: id.into(),
        account_id,
        device: None,
        created_at: now,
        last_used_at: now,
        expires_at: now + Duration::hours(1),
    };
    let family = |account_id| TokenFamily {
        id: Uuid::new_v4(),
        account_id,
        client_id: "client".into(),
        scope: "openid".into(),
        created_at: now,
        revoked_at: None,
    };
    store.create_session(session("mine", account.id)).await.unwrap();
    store.create_session(session("theirs", bystander.id)).await.unwrap();
    let (mine, theirs) = (family(account.id), family(bystander.id));
    for f in [&mine, &theirs] {
        let code = AuthCode {
            code_hash: format!("code-{}", f.id),
            family_id: f.id,
            redirect_uri: "http://localhost/cb".into(),
            code_challenge: None,
            nonce: None,
            created_at: now,
            expires_at: now + Duration::seconds(60),
        };
        store.create_auth_code(f.clone(), code).await.unwrap();
    }
    store.create_account_link(link(&account, "reset-1", LinkPurpose::ResetPassword)).await.unwrap();
    store.create_account_link(link(&account, "reset-2", LinkPurpose::ResetPassword)).await.unwrap();
    let since = store.revoked_token_families(now - Duration::days(1)).await.unwrap().1;

    assert!(matches!(store.reset_password("reset-1", "$argon2id$new", now).await.unwrap(), LinkUse::Fresh(_)));
    let after = store.account_by_id(account.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash, "$argon2id$new");
    assert!(after.email_verified(), "the mail reached the address");
    assert_eq!(store.session("mine", now).await.unwrap(), None);
    assert!(store.session("theirs", now).await.unwrap().is_some());
    let revoked = store.revoked_token_families(since).await.unwrap().0;
    assert!(revoked.contains(&mine.id) && !revoked.contains(&theirs.id), "{revoked:?}");
    assert_eq!(
        store.reset_password("reset-2", "$argon2id$other", now).await.unwrap(),
        LinkUse::Used,
        "one reset spends all"
    );
    assert_eq!(store.reset_password("reset-1", "$argon2id$other", now).await.unwrap(), LinkUse::Used);
    assert_eq!(store.account_by_id(account.id).await.unwrap().unwrap().password_hash, "$argon2id$new");
}

pub async fn an_account_sees_and_ends_its_own_sign_ins(store: &dyn Store) {
    let account = store.create_account(new_account("signins@example.com")).await.unwrap();
    let other = store.create_account(new_account("other-signins@example.com")).await.unwrap();
    let now = time::now();
    let session = |id: &str, account_id, minutes_ago: i64| Session {
        id_hash: id.into(),
        account_id,
        device: Some(format!("browser {id}")),
        created_at: now - Duration::minutes(minutes_ago),
        last_used_at: now - Duration::minutes(minutes_ago),
        expires_at: now + Duration::hours(1),
    };
    store.create_session(session("old", account.id, 60)).await.unwrap();
    store.create_session(session("new", account.id, 1)).await.unwrap();
    store.create_session(session("theirs", other.id, 1)).await.unwrap();
    let ids = |sessions: Vec<Session>| sessions.into_iter().map(|s| s.id_hash).collect::<Vec<_>>();
    assert_eq!(ids(store.sessions_of(account.id, now).await.unwrap()), ["new", "old"], "latest used first");

    store.touch_session("old", now).await.unwrap();
    let listed = store.sessions_of(account.id, now).await.unwrap();
    assert_eq!(listed[0].id_hash, "old", "seen again: first");
    assert_eq!(listed[0].device.as_deref(), Some("browser old"));
    store.touch_session("new", now).await.unwrap();
    let new = store.session("new", now).await.unwrap().unwrap();
    assert_eq!(
        new.last_used_at.timestamp(),
        (now - Duration::minutes(1)).timestamp(),
        "seen a minute ago: not written"
    );

    let family = |account_id, id| TokenFamily {
        id,
        account_id,
        client_id: "cli".into(),
        scope: "admin".into(),
        created_at: now,
        revoked_at: None,
    };
    let (mine, spent, theirs) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (account_id, id, expires_at) in [
        (account.id, mine, now + Duration::days(1)),
        (account.id, spent, now - Duration::seconds(1)),
        (other.id, theirs, now + Duration::days(1)),
    ] {
        let code = AuthCode {
            code_hash: format!("code-{id}"),
            family_id: id,
            redirect_uri: "http://localhost/cb".into(),
            code_challenge: None,
            nonce: None,
            created_at: now,
            expires_at: now + Duration::seconds(60),
        };
        store.create_auth_code(family(account_id, id), code).await.unwrap();
        let token = RefreshToken { token_hash: format!("refresh-{id}"), family_id: id, created_at: now, expires_at };
        store.insert_refresh_token(token).await.unwrap();
    }
    let live = store.live_sign_ins_of(account.id, now).await.unwrap();
    assert_eq!(live.iter().map(|s| s.family.id).collect::<Vec<_>>(), [mine], "only live sign-ins, only the account's");
    assert_eq!(live[0].last_used_at.timestamp(), now.timestamp());

    assert_eq!(store.end_sign_ins_of(account.id, Some("new")).await.unwrap(), 1);
    assert_eq!(ids(store.sessions_of(account.id, now).await.unwrap()), ["new"], "this browser stays");
    assert!(store.live_sign_ins_of(account.id, now).await.unwrap().is_empty());
    assert_eq!(store.live_sign_ins_of(other.id, now).await.unwrap().len(), 1, "others untouched");
    assert!(store.session("theirs", now).await.unwrap().is_some());

    store.change_password(account.id, "$argon2id$changed", "new", now).await.unwrap();
    assert_eq!(store.account_by_id(account.id).await.unwrap().unwrap().password_hash, "$argon2id$changed");
    assert!(matches!(store.change_password(Uuid::new_v4(), "x", "new", now).await, Err(StoreError::NotFound)));
}

pub async fn an_authenticator_is_confirmed_once_and_each_code_and_recovery_code_works_once(store: &dyn Store) {
    let account = store.create_account(new_account("totp@example.com")).await.unwrap();
    let now = time::now();
    assert_eq!(store.totp(account.id).await.unwrap(), None);
    assert!(store.begin_totp(account.id, &[1, 2, 3], now).await.unwrap());
    assert!(store.begin_totp(account.id, &[4, 5, 6], now).await.unwrap(), "a new set-up replaces an unfinished one");
    let pending = store.totp(account.id).await.unwrap().unwrap();
    assert_eq!((pending.sealed_secret.as_slice(), pending.confirmed_at), (&[4u8, 5, 6][..], None));
    assert!(!store.use_totp_step(account.id, 10).await.unwrap(), "not confirmed: no code works");

    let hashes: Vec<String> = (0..3).map(|n| format!("hash-{n}")).collect();
    assert!(store.confirm_totp(account.id, 100, &hashes, now).await.unwrap());
    assert!(!store.confirm_totp(account.id, 101, &hashes, now).await.unwrap(), "confirmed once");
    assert!(!store.begin_totp(account.id, &[7], now).await.unwrap(), "a confirmed one stays");
    let confirmed = store.totp(account.id).await.unwrap().unwrap();
    assert!(confirmed.confirmed_at.is_some() && confirmed.last_step == 100);

    assert!(!store.use_totp_step(account.id, 100).await.unwrap(), "the confirming code is spent");
    assert!(store.use_totp_step(account.id, 101).await.unwrap());
    assert!(!store.use_totp_step(account.id, 101).await.unwrap(), "a code works once");
    assert!(!store.use_totp_step(account.id, 99).await.unwrap(), "nor an older one");

    assert_eq!(store.recovery_codes_left(account.id).await.unwrap(), 3);
    assert!(store.use_recovery_code(account.id, "hash-1", now).await.unwrap());
    assert!(!store.use_recovery_code(account.id, "hash-1", now).await.unwrap(), "a recovery code works once");
    assert!(!store.use_recovery_code(account.id, "unknown", now).await.unwrap());
    assert_eq!(store.recovery_codes_left(account.id).await.unwrap(), 2);

    store.remove_totp(account.id).await.unwrap();
    assert_eq!(store.totp(account.id).await.unwrap(), None);
    assert_eq!(store.recovery_codes_left(account.id).await.unwrap(), 0);
}

pub async fn an_email_changes_with_its_link_and_profiles_change_within_the_rules(store: &dyn Store) {
    let account = store.create_account(new_account("before@example.com")).await.unwrap();
    store
        .create_account(NewAccount { username: Some("taken".into()), ..new_account("other@example.com") })
        .await
        .unwrap();
    let now = time::now();
    let to =
        |hash: &str, email: &str| AccountLink { email: email.into(), ..link(&account, hash, LinkPurpose::ChangeEmail) };
    store.create_account_link(to("change-taken", "OTHER@example.com")).await.unwrap();
    assert!(matches!(store.change_email("change-taken", now).await, Err(StoreError::Unique(Constraint::AccountEmail))));
    assert!(
        matches!(store.account_link("change-taken", LinkPurpose::ChangeEmail, now).await.unwrap(), LinkUse::Fresh(_)),
        "not spent"
    );
    assert!(matches!(store.verify_email("change-taken", now).await.unwrap(), LinkUse::Unknown), "nor another purpose");

    store.create_account_link(to("change-1", "after@example.com")).await.unwrap();
    assert!(matches!(store.change_email("change-1", now).await.unwrap(), LinkUse::Fresh(_)));
    let changed = store.account_by_id(account.id).await.unwrap().unwrap();
    assert_eq!(changed.email, "after@example.com");
    assert!(changed.email_verified());
    assert_eq!(store.change_email("change-1", now).await.unwrap(), LinkUse::Used);

    let unproven = store.set_unproven_email(account.id, "later@example.com", now).await.unwrap();
    assert_eq!((unproven.email.as_str(), unproven.email_verified_at), ("later@example.com", None));
    assert!(matches!(
        store.set_unproven_email(account.id, "other@example.com", now).await,
        Err(StoreError::Unique(Constraint::AccountEmail))
    ));

    let renamed = store.update_profile(account.id, "Ada King", Some("ada"), now).await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.username.as_deref()), ("Ada King", Some("ada")));
    assert!(matches!(
        store.update_profile(account.id, "Ada", Some("TAKEN"), now).await,
        Err(StoreError::Unique(Constraint::AccountUsername))
    ));
    assert_eq!(store.update_profile(account.id, "Ada", None, now).await.unwrap().username, None);
}
