//! Creating accounts and checking passwords.

use std::net::IpAddr;
use std::time::Duration;

use basic_admin_core::model::{Account, AccountFieldError, Email, Username, account};
use basic_admin_core::store::{Constraint, NewAccount, Store, StoreError};
use basic_admin_core::time;
use uuid::Uuid;

use super::throttle;
use crate::Context;
use crate::crypto::password;

#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    #[error(transparent)]
    Field(#[from] AccountFieldError),
    #[error("an account with this email address already exists")]
    EmailTaken,
    #[error("this username is taken")]
    UsernameTaken,
    #[error(transparent)]
    Store(StoreError),
}

pub struct SignUp {
    pub email: String,
    pub username: Option<String>,
    pub name: String,
    pub password: String,
}

pub async fn create(store: &dyn Store, form: SignUp) -> Result<Account, SignUpError> {
    let email = Email::parse(&form.email)?;
    let username = match form.username.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(Username::parse(u)?),
        None => None,
    };
    let name = account::clean_name(&form.name)?;
    account::check_password(&form.password)?;
    let new = NewAccount {
        id: Uuid::new_v4(),
        email: email.as_str().to_owned(),
        username: username.map(|u| u.as_str().to_owned()),
        name,
        password_hash: password::hash(form.password).await,
        created_at: time::now(),
    };
    store.create_account(new).await.map_err(|e| match e {
        StoreError::Unique(Constraint::AccountEmail) => SignUpError::EmailTaken,
        StoreError::Unique(Constraint::AccountUsername) => SignUpError::UsernameTaken,
        other => SignUpError::Store(other),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email and wrong password look the same, and take as long.
    #[error("wrong email or password")]
    Rejected,
    #[error("too many failed attempts; try again later")]
    Throttled(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a password; see [`throttle::sign_in`] for what is throttled.
pub async fn sign_in(ctx: &Context, email: &str, password: String, from: IpAddr) -> Result<Account, SignInError> {
    let max = &ctx.settings.throttles;
    if let Some(wait) = ctx.sign_in_throttle.refused(&throttle::sign_in::account(email, from, max)) {
        return Err(SignInError::Throttled(wait));
    }
    let account = ctx.store.account_by_email(email.trim()).await?;
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    if password::verify(password, hash).await
        && let Some(account) = account
    {
        ctx.sign_in_throttle.clear(&throttle::sign_in::Key::account(email, from));
        return Ok(account);
    }
    ctx.sign_in_throttle.on_failure(&throttle::sign_in::limits(email, from, max)).map_err(SignInError::Throttled)?;
    Err(SignInError::Rejected)
}
