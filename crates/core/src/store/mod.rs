//! The storage contract. One trait, implemented by each backend crate and
//! checked by the shared conformance suite; the store knows tables, not
//! permissions. It is split by area into sub-traits, which [`Store`] gathers.

mod accounts;
mod keys;
mod oauth;
mod projects;
mod schemas;
mod sync;
mod uploads;
mod users;

use async_trait::async_trait;

pub use accounts::{AccountLink, AccountStore, LinkPurpose, LinkUse, NewAccount, TotpSecret};
pub use keys::{ApiKey, ApiKeyStore};
pub use oauth::{
    AuthCode, CodeUse, OAuthStore, RefreshToken, RefreshUse, SESSION_TOUCH_SECS, Session, SignIn, SigningKeyRecord,
    SigningKeyStore, TokenFamily,
};
pub use projects::{
    Invite, InviteeKind, Member, NewProject, NewTeam, Project, ProjectChanges, ProjectStore, Team, TeamMembership,
    TeamProject, TeamStore,
};
pub use schemas::{SchemaStore, SchemaVersion};
pub use sync::{Applied, Decide, LogPosition, LoggedRecord, Step, SyncBatch, SyncRefusal, SyncStore};
pub use uploads::{Upload, UploadStore, set_profile_key};
pub use users::{
    Connection, IdentityKey, IdentityKeyStore, Item, ItemCursor, ItemStore, ItemText, ProjectUser, ProjectUserStore,
    UserStatus,
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write.
    #[error("not unique: {0}")]
    Unique(Constraint),
    /// A row named one that does not exist, or one still named by others
    /// was to be deleted. (SQLite does not say which reference it was.)
    #[error("a reference is broken")]
    ForeignKey,
    /// A compare-and-swap write found the row changed since it was read.
    #[error("changed since it was read")]
    Stale,
    /// The database could not be reached or did not answer in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("storage error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The uniqueness rules a write can break, whatever a backend calls them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    AccountEmail,
    AccountUsername,
    TeamSlug,
    TeamMember,
    ProjectSlug,
    SchemaVersion,
    /// An item's id within its user's table.
    Item,
    /// One not named above, by the name the database gave.
    Other(String),
}

impl Constraint {
    /// From a constraint's name as PostgreSQL gives it (the SQLite store
    /// names its violations alike: `<table>_<columns>_key`).
    pub fn from_name(name: &str) -> Self {
        match name {
            "accounts_email_key" => Constraint::AccountEmail,
            "accounts_username_key" => Constraint::AccountUsername,
            "teams_slug_key" => Constraint::TeamSlug,
            "team_members_pkey" | "team_members_team_id_account_id_key" => Constraint::TeamMember,
            "projects_slug_key" => Constraint::ProjectSlug,
            "schema_versions_project_id_version_key" => Constraint::SchemaVersion,
            "user_items_pkey" | "user_items_project_id_user_did_table_name_id_key" => Constraint::Item,
            other => Constraint::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Constraint::AccountEmail => "an account's email",
            Constraint::AccountUsername => "an account's username",
            Constraint::TeamSlug => "a team's slug",
            Constraint::TeamMember => "a team's member",
            Constraint::ProjectSlug => "a project's slug",
            Constraint::SchemaVersion => "a schema's version",
            Constraint::Item => "an item's id",
            Constraint::Other(name) => name,
        })
    }
}

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
    + SyncStore
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
