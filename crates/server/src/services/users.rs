//! The users of a project's app: connected by the app after they sign in,
//! listed, annotated and removed by its developers, counted per day.

use std::net::IpAddr;

use axum::http::StatusCode;
use basic_admin_core::authz::Action;
use basic_admin_core::store::{Connection, ProjectUser, StoreError};
use basic_admin_core::time;
use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::access;
use super::projects;
use crate::auth::Caller;
use crate::auth::claims::{ACCESS_TYP, AccessClaims};
use crate::auth::throttle::connect::limits;
use crate::error::{ApiError, ApiResult, not_found_as};
use crate::state::AppState;
use basic_admin_core::json::merge_keys;

/// The largest `meta` a user may carry, serialized.
pub const MAX_META_BYTES: usize = 16 * 1024;

pub fn user_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "user_not_found", "This project has no user with this DID.")
}

fn invalid_token(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", message)
}

/// Who a connecting token says the user is.
struct Identity {
    did: String,
    /// The base URL of the server that issued the token (the user's PDS).
    pds_url: String,
    account_id: Option<Uuid>,
    scopes: String,
    client_id: String,
}

/// The issuer a JWT claims, read without checking it: only to say why a
/// token is refused.
fn claimed_issuer(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?.get("iss")?.as_str().map(str::to_owned)
}

/// Checks a user's access token. Tokens of this server are verified with
/// its own keys. Tokens of other issuers (remote PDSes) are where federation
/// will plug in: resolve the issuer's keys, verify, and return its identity;
/// until then they are refused.
async fn identify(state: &AppState, token: &str) -> ApiResult<Identity> {
    match state.keys.verify::<AccessClaims>(token, ACCESS_TYP).await {
        Ok(claims) if state.revocations.contains(claims.sid) => Err(invalid_token("The token has been revoked.")),
        Ok(claims) => Ok(Identity {
            account_id: claims.account_id(),
            did: claims.sub,
            pds_url: claims.iss,
            scopes: claims.scope,
            client_id: claims.client_id,
        }),
        Err(e) => match claimed_issuer(token) {
            Some(issuer) if issuer != state.keys.issuer() => Err(invalid_token(&format!(
                "Tokens issued by {issuer} cannot be verified here yet: only this server's own tokens are accepted."
            ))),
            _ => Err(invalid_token(&format!("The token is not valid: {e}."))),
        },
    }
}

/// Records that a user signed in to the project's app: the token must be a
/// live access token issued to this project. Failures count against the
/// client address: beyond [`crate::auth::throttle::connect`]'s limit a
/// refused token is answered 429 (a valid one is never refused).
pub async fn connect(state: &AppState, project_id: &str, token: &str, from: IpAddr) -> ApiResult<ProjectUser> {
    let project = projects::public(state, project_id).await?;
    let identity = match identify(state, token.trim()).await {
        Ok(identity) if identity.client_id == project.id.to_string() => Ok(identity),
        Ok(_) => Err(invalid_token("This token was issued to another app.")),
        Err(e) => Err(e),
    };
    let identity = match identity {
        Ok(identity) => identity,
        Err(refused) => {
            state.connect_throttle.on_failure(&limits(from)).map_err(|wait| {
                ApiError::too_many(wait, "Too many failed connections from this address; try again later.")
            })?;
            return Err(refused);
        }
    };
    let connection = Connection {
        id: Uuid::new_v4(),
        project_id: project.id,
        user_did: identity.did,
        pds_url: identity.pds_url,
        account_id: identity.account_id,
        scopes: identity.scopes,
        at: time::now(),
    };
    Ok(state.store.connect_user(connection).await?)
}

pub async fn list(state: &AppState, caller: &Caller, project_id: &str) -> ApiResult<Vec<ProjectUser>> {
    let project = access::project_id(state, caller, project_id, Action::ReadUsers).await?;
    Ok(state.store.project_users(project).await?)
}

/// The user `user_did` of a project the caller may act on with `action`.
pub async fn user_of(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    user_did: &str,
    action: Action,
) -> ApiResult<ProjectUser> {
    let project = access::project_id(state, caller, project_id, action).await?;
    state.store.project_user(project, user_did).await?.ok_or_else(user_not_found)
}

pub async fn get(state: &AppState, caller: &Caller, project_id: &str, user_did: &str) -> ApiResult<ProjectUser> {
    user_of(state, caller, project_id, user_did, Action::ReadUsers).await
}

/// Merges `patch` into the user's `meta` (a `null` removes a key). A change
/// made meanwhile by someone else is merged with, never overwritten.
pub async fn update_meta(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    user_did: &str,
    patch: &Map<String, Value>,
) -> ApiResult<ProjectUser> {
    let mut user = user_of(state, caller, project_id, user_did, Action::WriteUsers).await?;
    for _ in 0..5 {
        let meta = merge_keys(&user.meta, patch);
        if meta.to_string().len() > MAX_META_BYTES {
            return Err(ApiError::bad_request("meta_too_large", "A user's meta is at most 16 KiB of JSON."));
        }
        let at = time::after(user.updated_at);
        match state.store.update_user_meta(user.project_id, user_did, &meta, user.updated_at, at).await {
            Ok(updated) => return Ok(updated),
            Err(StoreError::Stale) => {
                user = state.store.project_user(user.project_id, user_did).await?.ok_or_else(user_not_found)?;
            }
            Err(StoreError::NotFound) => return Err(user_not_found()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(StatusCode::CONFLICT, "conflict", "The user is being changed by others; try again."))
}

/// Removes the user and everything they stored in the project.
pub async fn delete(state: &AppState, caller: &Caller, project_id: &str, user_did: &str) -> ApiResult<()> {
    let user = user_of(state, caller, project_id, user_did, Action::WriteUsers).await?;
    state.store.delete_user(user.project_id, user_did).await.map_err(not_found_as(user_not_found))
}

/// Users over time: everyone, and those active in the last 1, 7 and 30 days
/// (UTC, today included), with one count per day for the last 30.
pub struct Stats {
    pub total: u64,
    pub dau: u64,
    pub wau: u64,
    pub mau: u64,
    pub series: Vec<(NaiveDate, u64)>,
}

pub async fn stats(state: &AppState, caller: &Caller, project_id: &str) -> ApiResult<Stats> {
    let project = access::project_id(state, caller, project_id, Action::ReadUsers).await?;
    let today = time::now().date_naive();
    let first = today - Duration::days(29);
    let store = &state.store;
    let daily = store.daily_active(project, first).await?;
    let series = first
        .iter_days()
        .take(30)
        .map(|day| (day, daily.iter().find(|(d, _)| *d == day).map_or(0, |(_, n)| *n)))
        .collect();
    Ok(Stats {
        total: store.user_count(project).await?,
        dau: store.active_users(project, today).await?,
        wau: store.active_users(project, today - Duration::days(6)).await?,
        mau: store.active_users(project, first).await?,
        series,
    })
}

/// What the user agreed to share of their account: the name, and the email
/// when the `email` scope was granted.
pub fn profile(user: &ProjectUser) -> Value {
    let mut profile = Map::new();
    if let Some(name) = &user.account_name {
        profile.insert("name".into(), json!(name));
    }
    if let Some(email) = &user.account_email
        && user.scopes.split([' ', ',']).any(|s| s == "email")
    {
        profile.insert("email".into(), json!(email));
    }
    Value::Object(profile)
}
