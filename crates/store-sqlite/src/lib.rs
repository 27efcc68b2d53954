//! The embedded SQLite backend: one file in the data folder, WAL mode.
//!
//! Reads go through a pool of connections; writes through a pool of one, so
//! writers queue in the process instead of contending for SQLite's lock.

mod accounts;
mod error;
mod migrations;
mod oauth;
mod projects;

use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use basic_admin_core::store::{Store, StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use error::map_err;

/// How long a writer waits for SQLite's lock (held by a checkpoint, a backup,
/// or another process) before the write fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    file: Option<FileIdentity>,
}

/// The database file as it was when opened. Open connections keep working on
/// a file that was deleted or replaced underneath them, writing where nobody
/// will ever read; `ping` compares identities so that this shows.
#[derive(Clone)]
struct FileIdentity {
    path: PathBuf,
    device: u64,
    inode: u64,
}

impl FileIdentity {
    fn of(path: PathBuf) -> std::io::Result<Self> {
        let meta = std::fs::metadata(&path)?;
        Ok(Self { device: meta.dev(), inode: meta.ino(), path })
    }

    fn check(&self) -> StoreResult<()> {
        match std::fs::metadata(&self.path) {
            Ok(meta) if meta.dev() == self.device && meta.ino() == self.inode => Ok(()),
            Ok(_) => Err(StoreError::Unavailable(format!("{} was replaced while open", self.path.display()))),
            Err(e) => Err(StoreError::Unavailable(format!("{}: {e}", self.path.display()))),
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path/to/file.db`).
    /// Does not migrate: call [`Store::migrate`].
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode: a commit survives a crash of this process;
            // only a power loss can undo the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let file = if in_memory {
            None
        } else {
            let path = options.get_filename().to_owned();
            Some(FileIdentity::of(path).map_err(|e| StoreError::Other(format!("database file: {e}")))?)
        };
        let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2).max(4);
        let read = SqlitePoolOptions::new()
            .max_connections(readers as u32)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(Self { read, write, file })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        migrations::migrator().run(&self.write).await.map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> StoreResult<()> {
        if let Some(file) = &self.file {
            file.check()?;
        }
        sqlx::query("SELECT count(*) FROM _sqlx_migrations").fetch_one(&self.read).await.map(drop).map_err(map_err)
    }

    async fn applied_migrations(&self) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&self.read)
            .await
            .map_err(map_err)
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
