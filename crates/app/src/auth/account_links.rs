//! Links mailed to an account: one that proves its email address, one that
//! resets its password. Each is a random token, stored hashed, working once
//! until it expires. Without mail, an operator makes them by hand (the
//! `basic-admin account` commands).

use std::time::Duration;

use basic_admin_core::model::{Account, AccountFieldError, Email, account};
use basic_admin_core::store::{AccountLink, Constraint, LinkPurpose, LinkUse, Store, StoreError};
use basic_admin_core::time;

use super::accounts::revoking_all;
use crate::Context;
use crate::crypto::{password, random_token, token_hash};
use crate::mail::{MailError, letters};

pub const VERIFY_TTL: Duration = Duration::from_secs(24 * 3600);
pub const RESET_TTL: Duration = Duration::from_secs(3600);
/// Letters one address may be sent an hour.
pub const MAILS_PER_ADDRESS_PER_HOUR: u32 = 5;

pub const VERIFY_PATH: &str = "/auth/verify-email";
pub const RESET_PATH: &str = "/auth/reset-password";
pub const CHANGE_EMAIL_PATH: &str = "/auth/change-email";

/// The page a link of this purpose opens.
pub fn path(purpose: LinkPurpose) -> &'static str {
    match purpose {
        LinkPurpose::VerifyEmail => VERIFY_PATH,
        LinkPurpose::ResetPassword => RESET_PATH,
        LinkPurpose::ChangeEmail => CHANGE_EMAIL_PATH,
    }
}

/// How long a link of this purpose works.
pub fn ttl(purpose: LinkPurpose) -> Duration {
    match purpose {
        LinkPurpose::VerifyEmail | LinkPurpose::ChangeEmail => VERIFY_TTL,
        LinkPurpose::ResetPassword => RESET_TTL,
    }
}

/// Why a link does not work; the message is for the person holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("This link is not valid. Check that you opened all of it, or ask for a new one.")]
    Unknown,
    #[error("This link has been used already. Ask for a new one if you still need it.")]
    Used,
    #[error("This link has expired. Ask for a new one.")]
    Expired,
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Refused(#[from] LinkRefusal),
    #[error(transparent)]
    Password(#[from] AccountFieldError),
    #[error("Another account has this email address now.")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("Too many mails to this address. Try again in {} minute(s).", .0.as_secs().div_ceil(60))]
    Throttled(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refused(found: LinkUse) -> Result<AccountLink, LinkRefusal> {
    match found {
        LinkUse::Fresh(link) => Ok(link),
        LinkUse::Used => Err(LinkRefusal::Used),
        LinkUse::Expired => Err(LinkRefusal::Expired),
        LinkUse::Unknown => Err(LinkRefusal::Unknown),
    }
}

/// Makes a link for `account` (mailed to its address); its full address, to hand over.
pub async fn issue(
    store: &dyn Store,
    public_url: &str,
    account: &Account,
    purpose: LinkPurpose,
) -> Result<String, StoreError> {
    issue_to(store, public_url, account, purpose, &account.email).await
}

async fn issue_to(
    store: &dyn Store,
    public_url: &str,
    account: &Account,
    purpose: LinkPurpose,
    email: &str,
) -> Result<String, StoreError> {
    let (path, ttl) = (path(purpose), ttl(purpose));
    let token = random_token();
    let now = time::now();
    store
        .create_account_link(AccountLink {
            token_hash: token_hash(&token),
            account_id: account.id,
            purpose,
            email: email.to_owned(),
            created_at: now,
            expires_at: now + chrono::Duration::from_std(ttl).expect("a short duration"),
        })
        .await?;
    Ok(format!("{public_url}{path}?token={token}"))
}

/// Counts a letter to `email`; refused past the hourly allowance.
fn allow_letter(ctx: &Context, email: &str) -> Result<(), SendError> {
    let key = email.trim().to_lowercase();
    ctx.mail_throttle.on_failure(&[(key, MAILS_PER_ADDRESS_PER_HOUR)]).map_err(SendError::Throttled)
}

/// Mails `account` a link proving its address (on sign-up, on request).
pub async fn send_verification(ctx: &Context, account: &Account) -> Result<(), SendError> {
    let mailer = ctx.mail.as_deref().ok_or(MailError::Off)?;
    allow_letter(ctx, &account.email)?;
    let link = issue(&*ctx.store, &ctx.settings.public_url, account, LinkPurpose::VerifyEmail).await?;
    let hours = VERIFY_TTL.as_secs() / 3600;
    Ok(mailer.send(letters::verify_email(&account.email, &account.name, &link, hours))?)
}

/// Proves the address the link was mailed to; the account as it is now.
pub async fn verify_email(ctx: &Context, token: &str) -> Result<Account, LinkError> {
    let link = refused(ctx.store.verify_email(&token_hash(token.trim()), time::now()).await?)?;
    ctx.store.account_by_id(link.account_id).await?.ok_or(LinkError::Refused(LinkRefusal::Unknown))
}

/// Mails a reset link if `email` has an account. The answer is the same
/// either way, and the allowance is counted either way, so that it tells
/// nothing about who has an account.
pub async fn request_reset(ctx: &Context, email: &str) -> Result<(), SendError> {
    let mailer = ctx.mail.as_deref().ok_or(MailError::Off)?;
    allow_letter(ctx, email)?;
    let Some(account) = ctx.store.account_by_email(email.trim()).await? else {
        return Ok(());
    };
    let link = issue(&*ctx.store, &ctx.settings.public_url, &account, LinkPurpose::ResetPassword).await?;
    let minutes = RESET_TTL.as_secs() / 60;
    Ok(mailer.send(letters::reset_password(&account.email, &account.name, &link, minutes))?)
}

/// What asking to change the address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChange {
    /// A link is on its way to the new address; nothing changes until it is used.
    Mailed,
    /// Without mail: the address is changed, not proven.
    Changed,
}

#[derive(Debug, thiserror::Error)]
pub enum EmailChangeError {
    #[error(transparent)]
    Field(#[from] AccountFieldError),
    #[error("That is your address already.")]
    Same,
    #[error("Another account has this email address.")]
    Taken,
    #[error(transparent)]
    Send(#[from] SendError),
}

impl From<StoreError> for EmailChangeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unique(Constraint::AccountEmail) => Self::Taken,
            other => Self::Send(SendError::Store(other)),
        }
    }
}

/// Asks to make `new_email` the account's: with mail, a link to the new
/// address does it; without, it is changed at once, not proven.
pub async fn request_email_change(
    ctx: &Context,
    account: &Account,
    new_email: &str,
) -> Result<EmailChange, EmailChangeError> {
    let email = Email::parse(new_email)?;
    let email = email.as_str();
    if email.eq_ignore_ascii_case(&account.email) {
        return Err(EmailChangeError::Same);
    }
    if ctx.store.account_by_email(email).await?.is_some() {
        return Err(EmailChangeError::Taken);
    }
    let Some(mailer) = ctx.mail.as_deref() else {
        ctx.store.set_unproven_email(account.id, email, time::now()).await?;
        return Ok(EmailChange::Changed);
    };
    allow_letter(ctx, email)?;
    let link = issue_to(&*ctx.store, &ctx.settings.public_url, account, LinkPurpose::ChangeEmail, email).await?;
    let hours = VERIFY_TTL.as_secs() / 3600;
    mailer.send(letters::change_email(email, &account.name, &link, hours)).map_err(SendError::from)?;
    Ok(EmailChange::Mailed)
}

/// Makes the link's address the account's, proven; the account as it is now.
pub async fn change_email(ctx: &Context, token: &str) -> Result<Account, LinkError> {
    let found = match ctx.store.change_email(&token_hash(token.trim()), time::now()).await {
        Err(StoreError::Unique(Constraint::AccountEmail)) => return Err(LinkError::EmailTaken),
        other => other?,
    };
    let link = refused(found)?;
    ctx.store.account_by_id(link.account_id).await?.ok_or(LinkError::Refused(LinkRefusal::Unknown))
}

/// Whether a reset link works, before a new password is asked for.
pub async fn check_reset(store: &dyn Store, token: &str) -> Result<(), LinkError> {
    refused(store.account_link(&token_hash(token.trim()), LinkPurpose::ResetPassword, time::now()).await?)?;
    Ok(())
}

/// Sets a new password with a reset link: every session and sign-in of the
/// account ends (its access tokens at once here, on other nodes within the
/// revocation poll).
pub async fn reset_password(ctx: &Context, token: &str, new_password: String) -> Result<Account, LinkError> {
    // The cheap checks first: a dead link costs no password hashing.
    let hashed = token_hash(token.trim());
    let link = refused(ctx.store.account_link(&hashed, LinkPurpose::ResetPassword, time::now()).await?)?;
    account::check_password(&new_password)?;
    let hash = password::hash(new_password).await;
    let spent = revoking_all(ctx, link.account_id, ctx.store.reset_password(&hashed, &hash, time::now())).await?;
    let link = refused(spent)?;
    ctx.store.account_by_id(link.account_id).await?.ok_or(LinkError::Refused(LinkRefusal::Unknown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Fixture;

    fn token_of(link: &str) -> &str {
        link.split_once("?token=").unwrap().1
    }

    #[tokio::test]
    async fn a_verification_link_proves_the_address_once() {
        let f = Fixture::new().await;
        let account = f.account("proof@example.com").await;
        let link = issue(&*f.ctx.store, "https://b.example", &account, LinkPurpose::VerifyEmail).await.unwrap();
        assert!(link.starts_with("https://b.example/auth/verify-email?token="));
        let verified = verify_email(&f.ctx, token_of(&link)).await.unwrap();
        assert!(verified.email_verified());
        assert!(matches!(verify_email(&f.ctx, token_of(&link)).await, Err(LinkError::Refused(LinkRefusal::Used))));
        assert!(matches!(verify_email(&f.ctx, "made-up").await, Err(LinkError::Refused(LinkRefusal::Unknown))));
    }

    #[tokio::test]
    async fn a_reset_checks_the_link_before_the_password_and_the_password_before_spending() {
        let f = Fixture::new().await;
        let account = f.account("reset@example.com").await;
        let link = issue(&*f.ctx.store, "https://b.example", &account, LinkPurpose::ResetPassword).await.unwrap();
        let token = token_of(&link);
        assert!(matches!(
            reset_password(&f.ctx, "nope", "x".into()).await,
            Err(LinkError::Refused(LinkRefusal::Unknown))
        ));
        assert!(matches!(reset_password(&f.ctx, token, "short".into()).await, Err(LinkError::Password(_))));
        check_reset(&*f.ctx.store, token).await.expect("a refused password leaves the link working");
        let after = reset_password(&f.ctx, token, "a new long password".into()).await.unwrap();
        assert_ne!(after.password_hash, account.password_hash);
        assert!(matches!(check_reset(&*f.ctx.store, token).await, Err(LinkError::Refused(LinkRefusal::Used))));
    }

    #[tokio::test]
    async fn without_mail_nothing_pretends_to_send() {
        let f = Fixture::new().await;
        let account = f.account("nomail@example.com").await;
        assert!(matches!(send_verification(&f.ctx, &account).await, Err(SendError::Mail(MailError::Off))));
        assert!(matches!(request_reset(&f.ctx, "nomail@example.com").await, Err(SendError::Mail(MailError::Off))));
    }
}

#[cfg(test)]
mod email_change_tests {
    use super::*;
    use crate::testing::Fixture;

    #[tokio::test]
    async fn without_mail_an_address_changes_at_once_unproven_and_never_to_a_taken_one() {
        let f = Fixture::new().await;
        let account = f.account("first@example.com").await;
        f.account("taken@example.com").await;
        assert!(matches!(
            request_email_change(&f.ctx, &account, "FIRST@example.com").await,
            Err(EmailChangeError::Same)
        ));
        assert!(matches!(
            request_email_change(&f.ctx, &account, "Taken@example.com").await,
            Err(EmailChangeError::Taken)
        ));
        assert!(matches!(
            request_email_change(&f.ctx, &account, "not an address").await,
            Err(EmailChangeError::Field(_))
        ));
        assert_eq!(request_email_change(&f.ctx, &account, "second@example.com").await.unwrap(), EmailChange::Changed);
        let after = f.ctx.store.account_by_id(account.id).await.unwrap().unwrap();
        assert_eq!((after.email.as_str(), after.email_verified()), ("second@example.com", false));
    }
}
