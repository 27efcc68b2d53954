use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::StoreResult;
use crate::time::Timestamp;

/// A JWT signing key; the private half sealed with the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub algorithm: String,
    pub sealed_private: Vec<u8>,
    pub public_jwk: Value,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

#[async_trait]
pub trait SigningKeyStore {
    async fn insert_signing_key(&self, key: SigningKeyRecord) -> StoreResult<()>;
    /// Every key, oldest first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Marks every key but `kid` that is not retired yet as retired `at`.
    async fn retire_signing_keys_except(&self, kid: &str, at: Timestamp) -> StoreResult<u64>;
}

/// One sign-in's grant to one client: every code and refresh token that
/// descends from it, so that all can be revoked together.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenFamily {
    pub id: Uuid,
    pub account_id: Uuid,
    pub client_id: String,
    pub scope: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthCode {
    pub code_hash: String,
    pub family_id: Uuid,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What presenting an authorization code found.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeUse {
    /// First use: the code is now spent.
    Fresh(AuthCode, TokenFamily),
    /// Already spent: a replay.
    Replayed(AuthCode, TokenFamily),
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub family_id: Uuid,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshUse {
    /// It was current: it is now rotated, and its successor stored.
    Rotated(RefreshToken, TokenFamily),
    /// It had been rotated already, at `rotated_at`, and its sign-in is
    /// live: a reuse, or a second tab that had not seen the rotation.
    Superseded {
        token: RefreshToken,
        family: TokenFamily,
        rotated_at: Timestamp,
    },
    /// Its sign-in is revoked.
    Reused(RefreshToken, TokenFamily),
    Unknown,
}

/// A browser's signed-in session on the server's own pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id_hash: String,
    pub account_id: Uuid,
    /// The browser, as its `User-Agent` names it (cut short).
    pub device: Option<String>,
    pub created_at: Timestamp,
    /// When it was last seen, to within [`SESSION_TOUCH_SECS`].
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
}

/// How stale a session's `last_used_at` may grow before a page view
/// writes it again (one write per browser every few minutes, not per page).
pub const SESSION_TOUCH_SECS: i64 = 300;

/// An app's (or the CLI's) live sign-in to an account, as its owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignIn {
    pub family: TokenFamily,
    /// When its latest refresh token was issued (or the sign-in began).
    pub last_used_at: Timestamp,
}

#[async_trait]
pub trait OAuthStore {
    /// Stores a new family and its first authorization code, atomically.
    async fn create_auth_code(&self, family: TokenFamily, code: AuthCode) -> StoreResult<()>;
    /// Spends the code with this hash, atomically: of two concurrent uses,
    /// exactly one is `Fresh`.
    async fn use_auth_code(&self, code_hash: &str, now: Timestamp) -> StoreResult<CodeUse>;
    async fn insert_refresh_token(&self, token: RefreshToken) -> StoreResult<()>;
    /// Rotates the token with this hash: marks it used and stores its
    /// successor (`next_hash`, same family), atomically: of two concurrent
    /// uses, exactly one is `Rotated`. A token rotated before is
    /// `Superseded`, one of a revoked family `Reused`; an expired or unknown
    /// one is `Unknown`.
    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next_hash: &str,
        next_expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<RefreshUse>;
    /// The token with this hash if it is current: not rotated, not expired
    /// by `now`, its family not revoked; with its family.
    async fn live_refresh_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(RefreshToken, TokenFamily)>>;
    /// Revokes a family, at the database's own time: nodes compare it with
    /// the database's clock, never with their own (see the next method).
    async fn revoke_token_family(&self, id: Uuid) -> StoreResult<()>;
    /// Families revoked at or after `since` (a time of the database's
    /// clock), and the database's time now, from which to ask next.
    async fn revoked_token_families(&self, since: Timestamp) -> StoreResult<(Vec<Uuid>, Timestamp)>;

    async fn create_session(&self, session: Session) -> StoreResult<()>;
    /// The session with this hash, unless it has expired by `now`.
    async fn session(&self, id_hash: &str, now: Timestamp) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Marks a session seen `now`, if it was last seen over
    /// [`SESSION_TOUCH_SECS`] before.
    async fn touch_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<()>;
    /// An account's sessions that have not expired by `now`, latest used first.
    async fn sessions_of(&self, account_id: Uuid, now: Timestamp) -> StoreResult<Vec<Session>>;
    /// Ends every session of an account but `keep`, and revokes every one
    /// of its sign-ins (token families), atomically: "sign out everywhere
    /// else". The number of sessions ended.
    async fn end_sign_ins_of(&self, account_id: Uuid, keep: Option<&str>) -> StoreResult<u64>;
    /// An account's sign-ins that are not revoked and still hold a current
    /// refresh token at `now`, latest used first.
    async fn live_sign_ins_of(&self, account_id: Uuid, now: Timestamp) -> StoreResult<Vec<SignIn>>;

    /// Deletes, in batches of at most `batch` rows a statement: sessions,
    /// authorization codes and refresh tokens that expired before `now`,
    /// and token families created before `families_before` that have no
    /// code or refresh token left (no access token of theirs can still be
    /// live). The number of rows deleted.
    /// (Expired account links go too.)
    async fn purge_expired_sign_ins(&self, now: Timestamp, families_before: Timestamp, batch: u32) -> StoreResult<u64>;
}
