//! Browser sessions on the sign-in pages: a random id in an HttpOnly cookie,
//! stored as a hash, so that a signed-in browser is not asked again.

use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use basic_admin_core::model::Account;
use basic_admin_core::store::{SESSION_TOUCH_SECS, Session};
use basic_admin_core::time;

use super::cookies;
use crate::error::ApiError;
use crate::state::AppState;
use basic_admin_app::crypto::{random_token, token_hash};

pub const LIFETIME_SECS: u64 = 14 * 24 * 3600;

pub fn secure(state: &AppState) -> bool {
    state.config.public_url.starts_with("https://")
}

/// The account signed in on this browser, if any.
pub async fn account(state: &AppState, headers: &HeaderMap) -> Result<Option<Account>, ApiError> {
    Ok(current(state, headers).await?.map(|(account, _)| account))
}

/// The account signed in on this browser and the hash of its session id.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<(Account, String)>, ApiError> {
    let Some(id) = cookies::get(headers, cookies::SESSION) else {
        return Ok(None);
    };
    let now = time::now();
    let Some(session) = state.app.store.session(&token_hash(&id), now).await? else {
        return Ok(None);
    };
    if (now - session.last_used_at).num_seconds() > SESSION_TOUCH_SECS {
        state.app.store.touch_session(&session.id_hash, now).await?;
    }
    let account = state.app.store.account_by_id(session.account_id).await?;
    Ok(account.map(|account| (account, session.id_hash)))
}

/// Starts a session: the `Set-Cookie` value to send.
pub async fn start(state: &AppState, headers: &HeaderMap, account: &Account) -> Result<String, ApiError> {
    let id = random_token();
    let now = time::now();
    let device = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(200).collect());
    state
        .app
        .store
        .create_session(Session {
            id_hash: token_hash(&id),
            account_id: account.id,
            device,
            created_at: now,
            last_used_at: now,
            expires_at: now + chrono::Duration::seconds(LIFETIME_SECS as i64),
        })
        .await?;
    Ok(cookies::set(cookies::SESSION, &id, LIFETIME_SECS, secure(state)))
}

/// Ends this browser's session: the `Set-Cookie` value that clears it.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(id) = cookies::get(headers, cookies::SESSION) {
        state.app.store.delete_session(&token_hash(&id)).await?;
    }
    Ok(cleared(state))
}

/// The `Set-Cookie` value that forgets a session ended elsewhere.
pub fn cleared(state: &AppState) -> String {
    cookies::clear(cookies::SESSION, secure(state))
}

/// The CSRF token of this browser, and the cookie to set when it is new.
pub fn csrf(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    match cookies::get(headers, cookies::CSRF).filter(|t| t.len() == 43) {
        Some(token) => (token, None),
        None => {
            let token = random_token();
            let cookie = cookies::set(cookies::CSRF, &token, LIFETIME_SECS, secure(state));
            (token, Some(cookie))
        }
    }
}

/// Whether a form's token matches the browser's cookie (double submit; the
/// cookie is SameSite=Lax, so another site cannot send both).
pub fn csrf_ok(headers: &HeaderMap, form_token: &str) -> bool {
    cookies::get(headers, cookies::CSRF)
        .is_some_and(|cookie| basic_admin_app::crypto::constant_time_eq(cookie.as_bytes(), form_token.as_bytes()))
}
