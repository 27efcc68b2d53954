//! Who is acting: a signed-in account (by its access token) or a project's
//! API key. Every protocol finds the caller its own way and then hands it to
//! the use-cases.

use std::sync::Arc;

use basic_admin_core::oauth;
use uuid::Uuid;

use crate::Context;
use crate::auth::claims::{ACCESS_TYP, AccessClaims};
use crate::cache::CachedKey;
use crate::error::{AppError, AppResult};
use crate::signing_keys::VerifyError;

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
    /// The signed-in account; keys are refused.
    pub fn account(&self) -> AppResult<&AccountCaller> {
        match self {
            Caller::Account(account) => Ok(account),
            Caller::ApiKey(_) => Err(AppError::forbidden(
                "forbidden",
                "API keys reach their own project only; this endpoint needs a developer's token.",
            )),
        }
    }

    /// A developer: an account whose token holds the `admin` scope.
    pub fn developer(&self) -> AppResult<&AccountCaller> {
        let account = self.account()?;
        if !account.claims.has_scope(oauth::ADMIN) {
            return Err(AppError::forbidden(
                "insufficient_scope",
                "This token does not carry the admin scope that developer endpoints need.",
            ));
        }
        Ok(account)
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unauthenticated("invalid_token", message)
}

/// The account an access token of this server names: signature, expiry,
/// issuer and revocation checked, from memory when the token was seen
/// before.
pub async fn account_from_token(ctx: &Context, token: &str) -> AppResult<AccountCaller> {
    let now = basic_admin_core::time::now().timestamp();
    let claims = match ctx.verified.get(token, now) {
        Some(claims) => claims,
        None => {
            let claims: AccessClaims = ctx.keys.verify(token, ACCESS_TYP).await.map_err(|e| match e {
                VerifyError::Expired => invalid("The access token has expired; refresh it."),
                other => invalid(format!("The access token is not valid: {other}.")),
            })?;
            ctx.verified.insert(token, claims.clone(), now);
            claims
        }
    };
    if ctx.revocations.contains(claims.sid) {
        return Err(invalid("The access token has been revoked."));
    }
    let account_id = claims.account_id().ok_or_else(|| invalid("The access token names no account."))?;
    Ok(AccountCaller { account_id, claims })
}
