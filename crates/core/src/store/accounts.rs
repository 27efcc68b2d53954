use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::model::Account;
use crate::time::Timestamp;

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: Uuid,
    pub email: String,
    pub username: Option<String>,
    pub name: String,
    pub password_hash: String,
    pub created_at: Timestamp,
}

/// What a link mailed to an account lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    VerifyEmail,
    ResetPassword,
    /// Makes the link's address the account's (mailed to that new address).
    ChangeEmail,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::ChangeEmail => "change_email",
        }
    }
}

/// A single-use link mailed to an account; only its token's hash is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountLink {
    pub token_hash: String,
    pub account_id: Uuid,
    pub purpose: LinkPurpose,
    /// The address it was mailed to.
    pub email: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What presenting a link's token found.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkUse {
    /// Valid: when spending, it is now spent and its effect stored.
    Fresh(AccountLink),
    Used,
    Expired,
    /// Never issued, for another purpose, or purged.
    Unknown,
}

/// An account's authenticator secret (sealed), once confirmed in use.
#[derive(Debug, Clone, PartialEq)]
pub struct TotpSecret {
    pub sealed_secret: Vec<u8>,
    /// `None` while being set up.
    pub confirmed_at: Option<Timestamp>,
    /// The last time step a code was accepted for.
    pub last_step: i64,
}

#[async_trait]
pub trait AccountStore {
    /// Conflicts: `accounts_email_key`, `accounts_username_key` (both ignoring case).
    async fn create_account(&self, account: NewAccount) -> StoreResult<Account>;
    async fn account_by_id(&self, id: Uuid) -> StoreResult<Option<Account>>;
    /// Ignoring case.
    async fn account_by_email(&self, email: &str) -> StoreResult<Option<Account>>;
    /// Ignoring case.
    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>>;
    /// Marks the account's email proven `at`, unless it is no longer `email`
    /// (ignoring case); whether it was marked.
    async fn mark_email_verified(&self, account_id: Uuid, email: &str, at: Timestamp) -> StoreResult<bool>;

    async fn create_account_link(&self, link: AccountLink) -> StoreResult<()>;
    /// The link with this hash and purpose, without spending it.
    async fn account_link(&self, token_hash: &str, purpose: LinkPurpose, now: Timestamp) -> StoreResult<LinkUse>;
    /// Spends a `VerifyEmail` link and marks its address proven (if it is
    /// still the account's), atomically: of two concurrent uses, exactly
    /// one is `Fresh`.
    async fn verify_email(&self, token_hash: &str, now: Timestamp) -> StoreResult<LinkUse>;
    /// Spends a `ResetPassword` link, atomically with its effect: the new
    /// password hash, every other reset link of the account spent, its
    /// address proven (the mail reached it), and every browser session and
    /// sign-in of the account revoked. Of two concurrent uses, exactly one
    /// is `Fresh`.
    async fn reset_password(&self, token_hash: &str, password_hash: &str, now: Timestamp) -> StoreResult<LinkUse>;
    /// Spends a `ChangeEmail` link and makes its address the account's,
    /// proven, atomically. `Unique(AccountEmail)` when another account took
    /// the address meanwhile (the link is then not spent).
    async fn change_email(&self, token_hash: &str, now: Timestamp) -> StoreResult<LinkUse>;
    /// Sets the account's email address, not proven (without mail to prove it).
    async fn set_unproven_email(&self, account_id: Uuid, email: &str, now: Timestamp) -> StoreResult<Account>;
    /// Sets the name and username. Conflicts: `accounts_username_key`.
    async fn update_profile(
        &self,
        account_id: Uuid,
        name: &str,
        username: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Account>;
    /// Sets a new password hash and, atomically, ends every session but
    /// `keep` and revokes every sign-in of the account.
    async fn change_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        keep: &str,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// The account's authenticator secret, confirmed or being set up.
    async fn totp(&self, account_id: Uuid) -> StoreResult<Option<TotpSecret>>;
    /// Starts setting up an authenticator: replaces one being set up; a
    /// confirmed one stays (`false`: turn it off first).
    async fn begin_totp(&self, account_id: Uuid, sealed_secret: &[u8], now: Timestamp) -> StoreResult<bool>;
    /// Confirms the authenticator being set up, with the step of its first
    /// code, and replaces the recovery codes, atomically (`false`: none was
    /// being set up).
    async fn confirm_totp(
        &self,
        account_id: Uuid,
        step: i64,
        recovery_hashes: &[String],
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Accepts a confirmed authenticator's code of time step `step` once:
    /// `false` if a code of this or a later step was accepted before.
    async fn use_totp_step(&self, account_id: Uuid, step: i64) -> StoreResult<bool>;
    /// Spends a recovery code: `false` if unknown or spent.
    async fn use_recovery_code(&self, account_id: Uuid, code_hash: &str, now: Timestamp) -> StoreResult<bool>;
    /// Recovery codes not spent yet.
    async fn recovery_codes_left(&self, account_id: Uuid) -> StoreResult<u64>;
    /// Turns two-factor sign-in off: the secret and recovery codes go.
    async fn remove_totp(&self, account_id: Uuid) -> StoreResult<()>;
}
