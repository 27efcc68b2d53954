//! Who is calling: the one extractor every protected route uses.
//!
//! `Authorization: Bearer <token>`: three dot-separated segments are a JWT of
//! this server, checked in memory (signature, expiry, issuer, revocation);
//! `bsk_…` is a project's API key (see [`basic_admin_app::auth::api_keys`]).
//! No header: anonymous. Anything present but invalid is a 401, never
//! silently anonymous.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, ORIGIN};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use basic_admin_app::auth::api_keys;
use basic_admin_app::cache::CachedKey;
use basic_admin_app::{AppError, Caller, caller};
use basic_admin_core::model::api_key::PresentedKey;

use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;

/// A 401 or a 403 (their `WWW-Authenticate` header is added by [`ApiError`]).
#[derive(Debug)]
pub struct AuthError(pub ApiError);

impl AuthError {
    pub fn missing() -> Self {
        Self(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "Sign in: this endpoint needs a bearer token."))
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

impl From<AppError> for AuthError {
    fn from(e: AppError) -> Self {
        Self(e.into())
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
            return Ok(Caller::Account(caller::account_from_token(&state.app, token).await?));
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
    match api_keys::lookup(&state.app, presented).await? {
        Some(key) => {
            state.app.key_usage.used(key.key.id);
            Ok(key)
        }
        None => {
            // Only a refused key needs to know where it came from.
            let from = ClientAddr::from_request_parts(parts, state).await.unwrap_or_else(|never| match never {});
            api_keys::count_failure(&state.app, from.bucket(), None)?;
            Err(AuthError::invalid("The API key is not valid: it is wrong, deleted or regenerated."))
        }
    }
}
