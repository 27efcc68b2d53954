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
    #[error("{}", too_many(*.0))]
    Throttled(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a person is told when failed attempts lock them out for `wait`.
fn too_many(wait: Duration) -> String {
    format!("Too many failed attempts. Try again in {} minute(s).", wait.as_secs().div_ceil(60))
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

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("The current password is wrong.")]
    WrongPassword,
    #[error("{}", too_many(*.0))]
    Throttled(Duration),
    #[error(transparent)]
    Field(#[from] AccountFieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Changes the password of a signed-in account, given its current one:
/// every other browser session and every sign-in of the account end (on
/// other nodes within the revocation poll); `keep` (this browser) stays.
/// Wrong current passwords count toward the sign-in throttle.
pub async fn change_password(
    ctx: &Context,
    account: &Account,
    current: String,
    new: String,
    keep: &str,
    from: IpAddr,
) -> Result<(), ChangePasswordError> {
    check_current(ctx, account, current, from).await?;
    account::check_password(&new)?;
    let hash = password::hash(new).await;
    Ok(revoking_all(ctx, account.id, ctx.store.change_password(account.id, &hash, keep, time::now())).await?)
}

/// Runs `end`, a store write that revokes every sign-in of the account, and
/// then refuses their access tokens on this node at once (other nodes
/// within the revocation poll). The sign-ins are read first: only live ones
/// can have live access tokens.
pub(crate) async fn revoking_all<T>(
    ctx: &Context,
    account_id: Uuid,
    end: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let live = ctx.store.live_sign_ins_of(account_id, time::now()).await?;
    let ended = end.await?;
    let now = time::now();
    for sign_in in live {
        ctx.revocations.insert(sign_in.family.id, now);
    }
    Ok(ended)
}

/// Signs the account out everywhere but this browser session (`keep`).
pub async fn end_sign_ins_elsewhere(ctx: &Context, account: &Account, keep: &str) -> Result<(), StoreError> {
    revoking_all(ctx, account.id, ctx.store.end_sign_ins_of(account.id, Some(keep))).await.map(drop)
}

/// Checks the password of a signed-in account before a change that needs
/// it; wrong ones count toward the sign-in throttle.
pub async fn check_current(
    ctx: &Context,
    account: &Account,
    current: String,
    from: IpAddr,
) -> Result<(), ChangePasswordError> {
    let max = &ctx.settings.throttles;
    if let Some(wait) = ctx.sign_in_throttle.refused(&throttle::sign_in::account(&account.email, from, max)) {
        return Err(ChangePasswordError::Throttled(wait));
    }
    if !password::verify(current, Some(account.password_hash.clone())).await {
        let limits = throttle::sign_in::limits(&account.email, from, max);
        ctx.sign_in_throttle.on_failure(&limits).map_err(ChangePasswordError::Throttled)?;
        return Err(ChangePasswordError::WrongPassword);
    }
    Ok(())
}

/// Sets the name and username (empty: none), by the sign-up rules.
pub async fn update_profile(
    store: &dyn Store,
    account: &Account,
    name: &str,
    username: &str,
) -> Result<Account, SignUpError> {
    let name = account::clean_name(name)?;
    let username = match username.trim() {
        "" => None,
        given => Some(Username::parse(given)?),
    };
    let now = time::now();
    store.update_profile(account.id, &name, username.as_ref().map(Username::as_str), now).await.map_err(|e| match e {
        StoreError::Unique(Constraint::AccountUsername) => SignUpError::UsernameTaken,
        other => SignUpError::Store(other),
    })
}

/// Ends one browser session of the account (another's is not found).
pub async fn end_session(store: &dyn Store, account: &Account, id_hash: &str) -> Result<bool, StoreError> {
    let mine = store.sessions_of(account.id, time::now()).await?.iter().any(|s| s.id_hash == id_hash);
    if mine {
        store.delete_session(id_hash).await?;
    }
    Ok(mine)
}

/// Revokes one sign-in of the account (another's is not found).
pub async fn end_sign_in(ctx: &Context, account: &Account, family: Uuid) -> Result<bool, StoreError> {
    let mine = ctx.store.live_sign_ins_of(account.id, time::now()).await?.iter().any(|s| s.family.id == family);
    if mine {
        ctx.store.revoke_token_family(family).await?;
        ctx.revocations.insert(family, time::now());
    }
    Ok(mine)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Fixture;

    #[tokio::test]
    async fn a_password_changes_only_with_the_current_one_and_wrong_ones_are_throttled() {
        let f = Fixture::new().await;
        let account = f.account("change@example.com").await;
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let wrong = change_password(&f.ctx, &account, "nope".into(), "a new password".into(), "", ip).await;
        assert!(matches!(wrong, Err(ChangePasswordError::WrongPassword)));
        let short =
            change_password(&f.ctx, &account, "correct horse battery staple".into(), "short".into(), "", ip).await;
        assert!(matches!(short, Err(ChangePasswordError::Field(_))));
        change_password(&f.ctx, &account, "correct horse battery staple".into(), "a new password".into(), "", ip)
            .await
            .unwrap();
        assert!(sign_in(&f.ctx, "change@example.com", "a new password".into(), ip).await.is_ok());
        for _ in 0..f.ctx.settings.throttles.sign_in_per_account {
            let _ = change_password(&f.ctx, &account, "nope".into(), "another password".into(), "", ip).await;
        }
        let locked =
            change_password(&f.ctx, &account, "a new password".into(), "another password".into(), "", ip).await;
        assert!(matches!(locked, Err(ChangePasswordError::Throttled(_))));
    }
}
