//! The storage contract. One trait, implemented by each backend crate and
//! checked by the shared conformance suite; the store knows tables, not
//! permissions. It is split by area into sub-traits, which [`Store`] gathers.

mod accounts;
mod keys;
mod oauth;
mod projects;
mod schemas;
mod uploads;
mod users;

use async_trait::async_trait;

pub use accounts::{AccountStore, NewAccount};
pub use keys::{ApiKey, ApiKeyStore};
pub use oauth::{
    AuthCode, CodeUse, OAuthStore, RefreshToken, RefreshUse, Session, SigningKeyRecord, SigningKeyStore, TokenFamily,
};
pub use projects::{
    Invite, Member, NewProject, NewTeam, Project, ProjectChanges, ProjectStore, Team, TeamMembership, TeamProject,
    TeamStore,
};
pub use schemas::{SchemaStore, SchemaVersion};
pub use uploads::{Upload, UploadStore, set_profile_key};
pub use users::{Connection, IdentityKey, IdentityKeyStore, Item, ItemStore, ProjectUser, ProjectUserStore};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write; names the rule (e.g. `teams_slug_key`).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or did not answer in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store:
    AccountStore
    + SigningKeyStore
    + OAuthStore
    + TeamStore
    + ProjectStore
    + SchemaStore
    + ApiKeyStore
    + ProjectUserStore
    + ItemStore
    + IdentityKeyStore
    + UploadStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is (`sqlite`, `postgres`), for logs.
    fn backend(&self) -> &'static str;

    /// Applies the migrations this binary knows and the database lacks.
    /// Idempotent, and safe to run from several nodes at once.
    async fn migrate(&self) -> StoreResult<()>;

    /// A real round trip to the database that reads a table this server owns:
    /// succeeds only when queries can be answered right now.
    async fn ping(&self) -> StoreResult<()>;

    /// Sends `message` to every node on this database (this one included),
    /// for cache invalidation. Nothing to do where there is one node.
    async fn broadcast(&self, message: &str) -> StoreResult<()>;

    /// The messages every node broadcasts, or `None` where there is one node.
    /// An empty message means some may have been lost (the connection
    /// dropped): forget everything cached.
    async fn subscribe(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<String>>>;

    /// Writes a consistent copy of the whole database into the new file `to`
    /// while others go on writing (backups). Embedded databases only: a
    /// server database has its own tools (`pg_dump`).
    async fn snapshot(&self, to: &std::path::Path) -> StoreResult<()>;

    /// The migrations this store has applied, oldest first.
    async fn applied_migrations(&self) -> StoreResult<Vec<i64>>;

    /// Releases connections; called once on shutdown.
    async fn close(&self);
}
