//! Who is calling: the one extractor every protected route uses.
//!
//! `Authorization: Bearer <token>`: three dot-separated segments are a JWT of
//! this server, checked in memory (signature, expiry, issuer, revocation);
//! `bsk_…` is a project's API key (see [`super::api_keys`]). No header:
//! anonymous. Anything present but invalid is a 401, never silently
//! anonymous.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, ORIGIN};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use basic_admin_core::model::api_key::PresentedKey;
use uuid::Uuid;

use super::api_keys;
use super::claims::{ACCESS_TYP, AccessClaims};
use crate::cache::CachedKey;
use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::signing_keys::VerifyError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub enum Caller {
    Account(AccountCaller),
    ApiKey(Arc<CachedKey>),
}

#[derive(Debug, Clone)]
pub struct AccountCaller {
    pub account_id: Uuid,
    pub claims: AccessClaims,
}

impl Caller {
    /// The signed-in account, or 401.
    pub fn account(&self) -> Result<&AccountCaller, AuthError> {
        match self {
            Caller::Account(account) => Ok(account),
            Caller::ApiKey(_) => Err(AuthError::not_for_keys()),
        }
    }

    /// A developer: an account whose token holds the `admin` scope (403 otherwise).
    pub fn developer(&self) -> Result<&AccountCaller, AuthError> {
        let account = self.account()?;
        if !account.claims.has_scope(basic_admin_core::oauth::ADMIN) {
            return Err(AuthError(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "This token does not carry the admin scope that developer endpoints need.",
            )));
        }
        Ok(account)
    }
}

/// A 401 or a 403 (their `WWW-Authenticate` header is added by [`ApiError`]).
#[derive(Debug)]
pub struct AuthError(pub ApiError);

impl AuthError {
    pub fn missing() -> Self {
        Self(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Sign in: this endpoint needs a bearer token."))
    }

    fn not_for_keys() -> Self {
        Self(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "API keys reach their own project only; this endpoint needs a developer's token.",
        ))
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", message))
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl From<ApiError> for AuthError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        e.0
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Every route that asks for a caller needs one: refuse before the
        // body is read, so that a request without credentials is a 401
        // whatever else is wrong with it.
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(AuthError::missing());
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthError::invalid("The Authorization header must be `Bearer <token>`."))?;
        if token.split('.').count() == 3 {
            return account_from_jwt(token, state).await.map(Caller::Account);
        }
        let Some(presented) = PresentedKey::parse(token) else {
            return Err(AuthError::invalid("The bearer token is neither an access token nor an API key."));
        };
        let key = key_caller(state, &presented, parts).await?;
        if key.key.is_private && parts.headers.contains_key(ORIGIN) {
            return Err(AuthError(ApiError::new(
                StatusCode::FORBIDDEN,
                "private_key_in_browser",
                "This is a private API key: keep it on servers. Browsers may only use public (read-only) keys.",
            )));
        }
        Ok(Caller::ApiKey(key))
    }
}

async fn key_caller(
    state: &AppState,
    presented: &PresentedKey,
    parts: &mut Parts,
) -> Result<Arc<CachedKey>, AuthError> {
    match api_keys::lookup(state, presented).await? {
        Some(key) => {
            state.key_usage.used(key.key.id);
            Ok(key)
        }
        None => {
            // Only a refused key needs to know where it came from.
            let from = ClientAddr::from_request_parts(parts, state).await.unwrap_or_else(|never| match never {});
            api_keys::count_failure(state, from.bucket(), None)?;
            Err(AuthError::invalid("The API key is not valid: it is wrong, deleted or regenerated."))
        }
    }
}

async fn account_from_jwt(token: &str, state: &AppState) -> Result<AccountCaller, AuthError> {
    let now = basic_admin_core::time::now().timestamp();
    let claims = match state.verified.get(token, now) {
        Some(claims) => claims,
        None => {
            let claims: AccessClaims = state.keys.verify(token, ACCESS_TYP).await.map_err(|e| match e {
                VerifyError::Expired => AuthError::invalid("The access token has expired; refresh it."),
                other => AuthError::invalid(format!("The access token is not valid: {other}.")),
            })?;
            state.verified.insert(token, claims.clone(), now);
            claims
        }
    };
    if state.revocations.contains(claims.sid) {
        return Err(AuthError::invalid("The access token has been revoked."));
    }
    let account_id = claims.account_id().ok_or_else(|| AuthError::invalid("The access token names no account."))?;
    Ok(AccountCaller { account_id, claims })
}
