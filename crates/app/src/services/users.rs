//! The users of a project's app: connected by the app after they sign in,
//! listed, annotated and removed by its developers, counted per day.

use std::net::IpAddr;

use basic_admin_core::authz::Action;
use basic_admin_core::store::{Connection, ProjectUser, StoreError};
use basic_admin_core::time;
use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::access;
use super::projects;
use crate::Caller;
use crate::Context;
use crate::auth::claims::{ACCESS_TYP, AccessClaims};
use crate::auth::throttle::connect::limits;
use crate::error::{AppError, AppResult, Thing};
use basic_admin_core::json::merge_keys;

/// The largest `meta` a user may carry, serialized.
pub const MAX_META_BYTES: usize = 16 * 1024;

fn invalid_token(message: &str) -> AppError {
    AppError::unauthenticated("invalid_token", message)
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

impl Identity {
    /// Who an access token of this server names.
    fn of(claims: AccessClaims) -> Self {
        Self {
            account_id: claims.account_id(),
            did: claims.sub,
            pds_url: claims.iss,
            scopes: claims.scope,
            client_id: claims.client_id,
        }
    }
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
async fn identify(ctx: &Context, token: &str) -> AppResult<Identity> {
    match ctx.keys.verify::<AccessClaims>(token, ACCESS_TYP).await {
        Ok(claims) if ctx.revocations.contains(claims.sid) => Err(invalid_token("The token has been revoked.")),
        Ok(claims) => Ok(Identity::of(claims)),
        Err(e) => match claimed_issuer(token) {
            Some(issuer) if issuer != ctx.keys.issuer() => Err(invalid_token(&format!(
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
pub async fn connect(ctx: &Context, project_id: &str, token: &str, from: IpAddr) -> AppResult<ProjectUser> {
    let project = projects::public(ctx, project_id).await?;
    let identity = match identify(ctx, token.trim()).await {
        Ok(identity) if identity.client_id == project.id.to_string() => Ok(identity),
        Ok(_) => Err(invalid_token("This token was issued to another app.")),
        Err(e) => Err(e),
    };
    let identity = match identity {
        Ok(identity) => identity,
        Err(refused) => {
            ctx.connect_throttle.on_failure(&limits(from)).map_err(|wait| AppError::TooMany {
                wait,
                message: "Too many failed connections from this address; try again later.".into(),
            })?;
            return Err(refused);
        }
    };
    record(ctx, project.id, identity).await
}

/// Records that the account of an access token the caller has checked
/// uses the project's app (as `user/connect` does with the token it checks).
pub async fn connect_signed_in(ctx: &Context, project: Uuid, claims: &AccessClaims) -> AppResult<ProjectUser> {
    record(ctx, project, Identity::of(claims.clone())).await
}

/// The user is created or refreshed, and counted active today.
async fn record(ctx: &Context, project: Uuid, who: Identity) -> AppResult<ProjectUser> {
    let connection = Connection {
        id: Uuid::new_v4(),
        project_id: project,
        user_did: who.did,
        pds_url: who.pds_url,
        account_id: who.account_id,
        scopes: who.scopes,
        at: time::now(),
    };
    Ok(ctx.store.connect_user(connection).await?)
}

pub async fn list(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<Vec<ProjectUser>> {
    let project = access::project_id(ctx, caller, project_id, Action::ReadUsers).await?;
    Ok(ctx.store.project_users(project).await?)
}

/// One page of a project's users whose DID, name or email holds `query`
/// (any case), and how many match in all.
pub struct UsersPage {
    pub users: Vec<ProjectUser>,
    pub matching: usize,
}

/// Users a page of the console shows.
pub const PAGE_SIZE: usize = 50;

/// [`UsersPage`] `page` (from 0). Filtered in memory: a project's users
/// are listed whole by the store, which serves the console's scale.
pub async fn search(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    query: &str,
    page: usize,
) -> AppResult<UsersPage> {
    let query = query.trim().to_lowercase();
    let holds = |text: Option<&str>| text.is_some_and(|t| t.to_lowercase().contains(&query));
    let found: Vec<ProjectUser> = list(ctx, caller, project_id)
        .await?
        .into_iter()
        .filter(|u| {
            query.is_empty()
                || holds(Some(&u.user_did))
                || holds(u.account_name.as_deref())
                || holds(u.account_email.as_deref())
        })
        .collect();
    let matching = found.len();
    let users = found.into_iter().skip(page.saturating_mul(PAGE_SIZE)).take(PAGE_SIZE).collect();
    Ok(UsersPage { users, matching })
}

/// The patch that makes a user's meta `wanted`: its keys, and a null for
/// each key it no longer has.
pub fn meta_patch(current: &Value, wanted: &Map<String, Value>) -> Map<String, Value> {
    let mut patch = wanted.clone();
    for key in current.as_object().into_iter().flat_map(|m| m.keys()) {
        patch.entry(key.clone()).or_insert(Value::Null);
    }
    patch
}

/// The user `user_did` of a project the caller may act on with `action`.
pub async fn user_of(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    user_did: &str,
    action: Action,
) -> AppResult<ProjectUser> {
    let project = access::project_id(ctx, caller, project_id, action).await?;
    ctx.store.project_user(project, user_did).await?.ok_or(AppError::NotFound(Thing::User))
}

pub async fn get(ctx: &Context, caller: &Caller, project_id: &str, user_did: &str) -> AppResult<ProjectUser> {
    user_of(ctx, caller, project_id, user_did, Action::ReadUsers).await
}

/// Merges `patch` into the user's `meta` (a `null` removes a key). A change
/// made meanwhile by someone else is merged with, never overwritten.
pub async fn update_meta(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    user_did: &str,
    patch: &Map<String, Value>,
) -> AppResult<ProjectUser> {
    let mut user = user_of(ctx, caller, project_id, user_did, Action::WriteUsers).await?;
    for _ in 0..5 {
        let meta = merge_keys(&user.meta, patch);
        if meta.to_string().len() > MAX_META_BYTES {
            return Err(AppError::invalid("meta_too_large", "A user's meta is at most 16 KiB of JSON."));
        }
        let at = time::after(user.updated_at);
        match ctx.store.update_user_meta(user.project_id, user_did, &meta, user.updated_at, at).await {
            Ok(updated) => return Ok(updated),
            Err(StoreError::Stale) => {
                user =
                    ctx.store.project_user(user.project_id, user_did).await?.ok_or(AppError::NotFound(Thing::User))?;
            }
            Err(StoreError::NotFound) => return Err(AppError::NotFound(Thing::User)),
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::conflict("conflict", "The user is being changed by others; try again."))
}

/// Removes the user and everything they stored in the project (their
/// synced devices are told to delete their copies).
pub async fn delete(ctx: &Context, caller: &Caller, project_id: &str, user_did: &str) -> AppResult<()> {
    let user = user_of(ctx, caller, project_id, user_did, Action::WriteUsers).await?;
    ctx.store.delete_user(user.project_id, user_did).await.map_err(AppError::or_not_found(Thing::User))?;
    ctx.sync.advanced(user.project_id, user_did);
    Ok(())
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

pub async fn stats(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<Stats> {
    let project = access::project_id(ctx, caller, project_id, Action::ReadUsers).await?;
    let today = time::now().date_naive();
    let first = today - Duration::days(29);
    let store = &ctx.store;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn search_matches_any_case_and_pages_by_fifty() {
        let f = crate::testing::Fixture::new().await;
        let owner = f.developer("owner").await;
        let project = f.project(&owner, "app").await;
        for n in 0..(PAGE_SIZE + 3) {
            let connection = Connection {
                id: Uuid::new_v4(),
                project_id: project,
                user_did: format!("did:web:example.com:users:user{n:03}"),
                pds_url: "https://example.com".into(),
                account_id: None,
                scopes: "openid".into(),
                at: time::now(),
            };
            f.ctx.store.connect_user(connection).await.unwrap();
        }
        let id = project.to_string();
        let all = search(&f.ctx, &owner, &id, "", 0).await.unwrap();
        assert_eq!((all.users.len(), all.matching), (PAGE_SIZE, PAGE_SIZE + 3));
        let rest = search(&f.ctx, &owner, &id, "  ", 1).await.unwrap();
        assert_eq!(rest.users.len(), 3);
        let one = search(&f.ctx, &owner, &id, "USER007", 0).await.unwrap();
        assert_eq!((one.matching, one.users[0].user_did.as_str()), (1, "did:web:example.com:users:user007"));
        let past = search(&f.ctx, &owner, &id, "", 9).await.unwrap();
        assert!(past.users.is_empty() && past.matching == PAGE_SIZE + 3);
    }

    #[test]
    fn a_meta_patch_removes_what_is_gone() {
        let current = json!({"plan": "free", "old": 1});
        let wanted = json!({"plan": "pro", "new": true});
        let patch = meta_patch(&current, wanted.as_object().unwrap());
        assert_eq!(Value::Object(patch.clone()), json!({"plan": "pro", "new": true, "old": null}));
        assert_eq!(merge_keys(&current, &patch), wanted);
    }
}
