//! Project API keys as developers manage them.

use basic_admin_core::authz::Action;
use basic_admin_core::model::api_key::{KeyRoles, PresentedKey};
use basic_admin_core::store::ApiKey;
use basic_admin_core::time;
use std::net::IpAddr;
use uuid::Uuid;

use super::access::{self, ProjectAccess};
use crate::Caller;
use crate::Context;
use crate::auth::api_keys::{self, secret_hash};
use crate::cache::Change;
use crate::error::{AppError, AppResult, Thing};

fn label(text: &str) -> AppResult<String> {
    let label = text.trim();
    if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(AppError::invalid("invalid_label", "A label is 1 to 100 characters."));
    }
    Ok(label.to_owned())
}

fn roles(text: &str, private: bool) -> AppResult<KeyRoles> {
    KeyRoles::parse(text, private)
        .map_err(|e| AppError::invalid("invalid_roles", format!("{}.", capitalize(&e.to_string()))))
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A key may create, change, regenerate or delete only keys whose roles it
/// holds itself (`admin` holds all): otherwise a `keys:write` key could mint
/// an `admin` key. Developers are judged by their team role alone.
fn may_manage(caller: &Caller, roles: &KeyRoles) -> AppResult<()> {
    match caller {
        Caller::ApiKey(own) if !own.roles.covers(roles) => Err(AppError::forbidden(
            "insufficient_role",
            format!(
                "This API key holds {}, not every role of that key ({}): a key manages only keys with roles it holds itself.",
                own.key.roles,
                roles.to_list()
            ),
        )),
        _ => Ok(()),
    }
}

fn new_secret(id: Uuid) -> PresentedKey {
    PresentedKey::generate(id, rand::random::<u8>)
}

pub async fn list(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<Vec<ApiKey>> {
    let ProjectAccess { project, .. } = access::project(ctx, caller, project_id, Action::ListKeys).await?;
    Ok(ctx.store.keys_of_project(project.id).await?)
}

/// A new key, and its full value: shown this once, stored only as a hash.
pub async fn create(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    label_text: &str,
    roles_text: &str,
    is_private: bool,
) -> AppResult<(ApiKey, String)> {
    let ProjectAccess { project, .. } = access::project(ctx, caller, project_id, Action::ManageKeys).await?;
    let label = label(label_text)?;
    let roles = roles(roles_text, is_private)?;
    may_manage(caller, &roles)?;
    let presented = new_secret(Uuid::new_v4());
    let now = time::now();
    let key = ApiKey {
        id: presented.id,
        project_id: project.id,
        label,
        roles: roles.to_list(),
        is_private,
        secret_hash: secret_hash(&presented),
        created_at: now,
        updated_at: now,
        last_used: None,
    };
    ctx.store.create_key(key.clone()).await?;
    Ok((key, presented.reveal()))
}

async fn key_of(ctx: &Context, project: Uuid, key_id: &str) -> AppResult<ApiKey> {
    let id = access::parse_id(key_id, Thing::Key)?;
    ctx.store.key_by_id(id).await?.filter(|k| k.project_id == project).ok_or(AppError::NotFound(Thing::Key))
}

pub async fn get(ctx: &Context, caller: &Caller, project_id: &str, key_id: &str) -> AppResult<ApiKey> {
    let ProjectAccess { project, .. } = access::project(ctx, caller, project_id, Action::ReadKey).await?;
    key_of(ctx, project.id, key_id).await
}

pub async fn update(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    key_id: &str,
    new_label: Option<&str>,
    new_roles: Option<&str>,
) -> AppResult<ApiKey> {
    let ProjectAccess { project, .. } = access::project(ctx, caller, project_id, Action::ManageKeys).await?;
    if new_label.is_none() && new_roles.is_none() {
        return Err(AppError::invalid("nothing_to_update", "Give a new label, new roles, or both."));
    }
    let key = key_of(ctx, project.id, key_id).await?;
    may_manage(caller, &key.parsed_roles())?;
    let label = new_label.map(label).transpose()?;
    let roles = new_roles.map(|r| roles(r, key.is_private)).transpose()?;
    if let Some(roles) = &roles {
        may_manage(caller, roles)?;
    }
    let roles = roles.map(|r| r.to_list());
    let updated = ctx
        .store
        .update_key(project.id, key.id, label, roles, time::now())
        .await
        .map_err(AppError::or_not_found(Thing::Key))?;
    forget(ctx, key.id).await;
    Ok(updated)
}

/// Every node drops its copy of the key before the change is answered here.
async fn forget(ctx: &Context, key: Uuid) {
    crate::cache::invalidate(ctx, Change::Key(key)).await;
}

/// A new secret for the key (label and roles kept): the old one stops
/// working at once.
pub async fn regenerate(ctx: &Context, caller: &Caller, project_id: &str, key_id: &str) -> AppResult<(ApiKey, String)> {
    let ProjectAccess { project, .. } = access::project(ctx, caller, project_id, Action::ManageKeys).await?;
    let key = key_of(ctx, project.id, key_id).await?;
    may_manage(caller, &key.parsed_roles())?;
    let presented = new_secret(key.id);
    let updated = ctx
        .store
        .replace_key_secret(project.id, key.id, &secret_hash(&presented), time::now())
        .await
        .map_err(AppError::or_not_found(Thing::Key))?;
    forget(ctx, key.id).await;
    Ok((updated, presented.reveal()))
}

pub async fn delete(ctx: &Context, caller: &Caller, project_id: &str, key_id: &str) -> AppResult<()> {
    let ProjectAccess { project, .. } = access::project(ctx, caller, project_id, Action::ManageKeys).await?;
    let key = key_of(ctx, project.id, key_id).await?;
    may_manage(caller, &key.parsed_roles())?;
    ctx.store.delete_key(project.id, key.id).await.map_err(AppError::or_not_found(Thing::Key))?;
    forget(ctx, key.id).await;
    Ok(())
}

/// What `verify` found.
pub enum Verdict {
    Valid(ApiKey),
    Invalid,
}

/// Whether `text` is a live key of this project (and, when `key_id` is
/// given, that key). A malformed key is a 400, found before any lookup; a
/// wrong, deleted or regenerated key, or one of another project, is simply
/// not valid: the answer never tells whether a key exists elsewhere.
/// Failures count against the client address and the project (429 beyond
/// the limits of [`crate::auth::throttle::api_keys`]).
pub async fn verify(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    text: &str,
    key_id: Option<&str>,
    from: IpAddr,
) -> AppResult<Verdict> {
    let project = access::project_id(ctx, caller, project_id, Action::ListKeys).await?;
    let presented = PresentedKey::parse(text.trim()).ok_or_else(|| {
        AppError::invalid("invalid_key_format", "This is not an API key: keys read bsk_<key id>_<secret>.")
    })?;
    let named = key_id.is_none_or(|id| Uuid::try_parse(id).ok() == Some(presented.id));
    let found = if named { api_keys::lookup(ctx, &presented).await? } else { None };
    match found.filter(|key| key.key.project_id == project) {
        Some(key) => {
            ctx.key_usage.used(key.key.id);
            Ok(Verdict::Valid(key.key.clone()))
        }
        None => {
            api_keys::count_failure(ctx, from, Some(project))?;
            Ok(Verdict::Invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::testing::Fixture;

    const FROM: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));

    async fn project_of_owner() -> (Fixture, Caller, String) {
        let f = Fixture::new().await;
        let owner = f.developer("owner").await;
        let project = f.project(&owner, "keys").await.to_string();
        (f, owner, project)
    }

    #[tokio::test]
    async fn verify_tells_a_live_key_from_a_wrong_one_and_slows_guessing() {
        let (f, owner, project) = project_of_owner().await;
        let (key, secret) = create(&f.ctx, &owner, &project, "server", "read", true).await.unwrap();

        let verdict = verify(&f.ctx, &owner, &project, &secret, None, FROM).await.unwrap();
        assert!(matches!(verdict, Verdict::Valid(found) if found.id == key.id));

        let wrong = format!("{}{}", &secret[..secret.len() - 1], if secret.ends_with('a') { 'b' } else { 'a' });
        let verdict = verify(&f.ctx, &owner, &project, &wrong, None, FROM).await.unwrap();
        assert!(matches!(verdict, Verdict::Invalid), "a wrong secret is not valid");
        let other_id = verify(&f.ctx, &owner, &project, &secret, Some(&Uuid::new_v4().to_string()), FROM).await;
        assert!(matches!(other_id, Ok(Verdict::Invalid)), "another key's id is not this key");

        let malformed = verify(&f.ctx, &owner, &project, "bsk_nope", None, FROM).await;
        assert!(matches!(malformed, Err(AppError::Invalid { code: "invalid_key_format", .. })));

        let limit = f.ctx.settings.throttles.keys_per_address;
        let mut refusals = 0;
        for _ in 0..limit + 1 {
            if let Err(AppError::TooMany { .. }) = verify(&f.ctx, &owner, &project, &wrong, None, FROM).await {
                refusals += 1;
            }
        }
        assert!(refusals >= 1, "guessing from one address is throttled");
    }

    #[tokio::test]
    async fn a_key_manages_only_keys_whose_roles_it_holds() {
        let (f, owner, project) = project_of_owner().await;
        let (_, secret) = create(&f.ctx, &owner, &project, "manager", "keys:write", true).await.unwrap();
        let manager = f.key_caller(&secret).await;

        let minted = create(&f.ctx, &manager, &project, "escalated", "admin", true).await;
        assert!(matches!(minted, Err(AppError::Forbidden { code: "insufficient_role", .. })));
        let (admin_key, _) = create(&f.ctx, &owner, &project, "admin", "admin", true).await.unwrap();
        let deleted = delete(&f.ctx, &manager, &project, &admin_key.id.to_string()).await;
        assert!(matches!(deleted, Err(AppError::Forbidden { code: "insufficient_role", .. })));
        assert!(get(&f.ctx, &owner, &project, &admin_key.id.to_string()).await.is_ok(), "the admin key stays");

        let (own_kind, _) = create(&f.ctx, &manager, &project, "peer", "keys:write", true).await.unwrap();
        assert_eq!(own_kind.roles, "keys:write");
    }

    #[tokio::test]
    async fn regenerating_stops_the_old_secret_at_once() {
        let (f, owner, project) = project_of_owner().await;
        let (key, old) = create(&f.ctx, &owner, &project, "server", "read", true).await.unwrap();
        f.key_caller(&old).await; // now cached
        let (_, new) = regenerate(&f.ctx, &owner, &project, &key.id.to_string()).await.unwrap();
        assert!(matches!(verify(&f.ctx, &owner, &project, &old, None, FROM).await, Ok(Verdict::Invalid)));
        assert!(matches!(verify(&f.ctx, &owner, &project, &new, None, FROM).await, Ok(Verdict::Valid(_))));
    }
}
