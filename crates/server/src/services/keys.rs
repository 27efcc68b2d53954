//! Project API keys as developers manage them.

use axum::http::StatusCode;
use basic_admin_core::authz::Action;
use basic_admin_core::model::api_key::{KeyRoles, PresentedKey};
use basic_admin_core::store::ApiKey;
use basic_admin_core::time;
use std::net::IpAddr;
use uuid::Uuid;

use super::access::{self, ProjectAccess};
use crate::auth::Caller;
use crate::auth::api_keys::{self, secret_hash};
use crate::cache::Change;
use crate::error::{ApiError, ApiResult, not_found_as};
use crate::state::AppState;

fn key_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "key_not_found", "This project has no such key.")
}

fn label(text: &str) -> ApiResult<String> {
    let label = text.trim();
    if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(ApiError::bad_request("invalid_label", "A label is 1 to 100 characters."));
    }
    Ok(label.to_owned())
}

fn roles(text: &str, private: bool) -> ApiResult<KeyRoles> {
    KeyRoles::parse(text, private)
        .map_err(|e| ApiError::bad_request("invalid_roles", format!("{}.", capitalize(&e.to_string()))))
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A key may create, change, regenerate or delete only keys whose roles it
/// holds itself (`admin` holds all): otherwise a `keys:write` key could mint
/// an `admin` key. Developers are judged by their team role alone.
fn may_manage(caller: &Caller, roles: &KeyRoles) -> ApiResult<()> {
    match caller {
        Caller::ApiKey(own) if !own.roles.covers(roles) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
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

pub async fn list(state: &AppState, caller: &Caller, project_id: &str) -> ApiResult<Vec<ApiKey>> {
    let ProjectAccess { project, .. } = access::project(state, caller, project_id, Action::ListKeys).await?;
    Ok(state.store.keys_of_project(project.id).await?)
}

/// A new key, and its full value: shown this once, stored only as a hash.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    label_text: &str,
    roles_text: &str,
    is_private: bool,
) -> ApiResult<(ApiKey, String)> {
    let ProjectAccess { project, .. } = access::project(state, caller, project_id, Action::ManageKeys).await?;
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
    state.store.create_key(key.clone()).await?;
    Ok((key, presented.reveal()))
}

async fn key_of(state: &AppState, project: Uuid, key_id: &str) -> ApiResult<ApiKey> {
    let id = access::parse_id(key_id, key_not_found)?;
    state.store.key_by_id(id).await?.filter(|k| k.project_id == project).ok_or_else(key_not_found)
}

pub async fn get(state: &AppState, caller: &Caller, project_id: &str, key_id: &str) -> ApiResult<ApiKey> {
    let ProjectAccess { project, .. } = access::project(state, caller, project_id, Action::ReadKey).await?;
    key_of(state, project.id, key_id).await
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    key_id: &str,
    new_label: Option<&str>,
    new_roles: Option<&str>,
) -> ApiResult<ApiKey> {
    let ProjectAccess { project, .. } = access::project(state, caller, project_id, Action::ManageKeys).await?;
    if new_label.is_none() && new_roles.is_none() {
        return Err(ApiError::bad_request("nothing_to_update", "Give a new label, new roles, or both."));
    }
    let key = key_of(state, project.id, key_id).await?;
    may_manage(caller, &key.parsed_roles())?;
    let label = new_label.map(label).transpose()?;
    let roles = new_roles.map(|r| roles(r, key.is_private)).transpose()?;
    if let Some(roles) = &roles {
        may_manage(caller, roles)?;
    }
    let roles = roles.map(|r| r.to_list());
    let updated = state
        .store
        .update_key(project.id, key.id, label, roles, time::now())
        .await
        .map_err(not_found_as(key_not_found))?;
    forget(state, key.id).await;
    Ok(updated)
}

/// Every node drops its copy of the key before the change is answered here.
async fn forget(state: &AppState, key: Uuid) {
    crate::cache::invalidate(state, Change::Key(key)).await;
}

/// A new secret for the key (label and roles kept): the old one stops
/// working at once.
pub async fn regenerate(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    key_id: &str,
) -> ApiResult<(ApiKey, String)> {
    let ProjectAccess { project, .. } = access::project(state, caller, project_id, Action::ManageKeys).await?;
    let key = key_of(state, project.id, key_id).await?;
    may_manage(caller, &key.parsed_roles())?;
    let presented = new_secret(key.id);
    let updated = state
        .store
        .replace_key_secret(project.id, key.id, &secret_hash(&presented), time::now())
        .await
        .map_err(not_found_as(key_not_found))?;
    forget(state, key.id).await;
    Ok((updated, presented.reveal()))
}

pub async fn delete(state: &AppState, caller: &Caller, project_id: &str, key_id: &str) -> ApiResult<()> {
    let ProjectAccess { project, .. } = access::project(state, caller, project_id, Action::ManageKeys).await?;
    let key = key_of(state, project.id, key_id).await?;
    may_manage(caller, &key.parsed_roles())?;
    state.store.delete_key(project.id, key.id).await.map_err(not_found_as(key_not_found))?;
    forget(state, key.id).await;
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
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    text: &str,
    key_id: Option<&str>,
    from: IpAddr,
) -> ApiResult<Verdict> {
    let project = access::project_id(state, caller, project_id, Action::ListKeys).await?;
    let presented = PresentedKey::parse(text.trim()).ok_or_else(|| {
        ApiError::bad_request("invalid_key_format", "This is not an API key: keys read bsk_<key id>_<secret>.")
    })?;
    let named = key_id.is_none_or(|id| Uuid::try_parse(id).ok() == Some(presented.id));
    let found = if named { api_keys::lookup(state, &presented).await? } else { None };
    match found.filter(|key| key.key.project_id == project) {
        Some(key) => {
            state.key_usage.used(key.key.id);
            Ok(Verdict::Valid(key.key.clone()))
        }
        None => {
            api_keys::count_failure(state, from, Some(project))?;
            Ok(Verdict::Invalid)
        }
    }
}
