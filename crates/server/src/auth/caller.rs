//! Who is calling: the one extractor every protected route uses.
//!
//! `Authorization: Bearer <token>`: three dot-separated segments are a JWT of
//! this server, checked in memory (signature, expiry, issuer, revocation);
//! anything else is an API key. No header: anonymous. Anything present but
//! invalid is a 401, never silently anonymous.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::claims::{ACCESS_TYP, AccessClaims};
use crate::error::ApiError;
use crate::keys::VerifyError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    Account(AccountCaller),
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
            Caller::Anonymous => Err(AuthError::missing()),
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

    fn invalid(message: impl Into<String>) -> Self {
        Self(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", message))
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        self.0.into_response()
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
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
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
        // API keys are not issued yet: nothing else is a valid token.
        Err(AuthError::invalid("The bearer token is not valid."))
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
