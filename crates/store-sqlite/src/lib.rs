//! The embedded SQLite backend: one file in the data folder, WAL mode.
//!
//! Reads go to a set of read-only connections; writes to one connection,
//! with group commit (see [`writer`]). Both run on the calling task. The
//! queries themselves are in `basic-admin-store-sql`; the migrations are run
//! by sqlx's migrator, which keeps their record.

mod checkpointer;
mod error;
mod migrations;
mod readers;
mod values;
mod writer;

use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use basic_admin_core::store::{StoreError, StoreResult};
use basic_admin_store_sql::{Db, Dialect, Query, SqlStore, Tx};
use rusqlite::OpenFlags;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use values::Record;
pub use writer::{BatchStats, MAX_BATCH};

use checkpointer::Checkpointer;
use error::{map_err, map_sqlx_err};
use readers::Readers;
use writer::{WriteTx, Writer};

/// The store on SQLite.
pub type SqliteStore = SqlStore<SqliteDb>;

/// How long a writer waits for SQLite's lock (held by a checkpoint, a backup,
/// or another process) before the write fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What every connection, reader or writer, is set up with.
pub(crate) fn configure(conn: &rusqlite::Connection) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    conn.set_prepared_statement_cache_capacity(values::STATEMENT_CACHE);
    // One plan per statement, whatever its bound values: otherwise a bound
    // `LIMIT $n` marks the statement for a new plan each time it is bound,
    // and every page read would be parsed and planned again.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(map_err)?;
    Ok(())
}

pub struct SqliteDb {
    url: String,
    readers: Readers,
    writer: Writer,
    checkpointer: Arc<Checkpointer>,
    file: FileIdentity,
}

impl SqliteDb {
    /// What group commit has done since the store opened.
    pub fn batch_stats(&self) -> BatchStats {
        self.writer.stats()
    }

    /// One statement as a write of its own (batched with others like any).
    async fn write_alone<T>(&self, run: impl FnOnce(&rusqlite::Connection) -> StoreResult<T>) -> StoreResult<T> {
        let tx = self.writer.begin().await?;
        let done = tx.run(run)?;
        tx.commit().await?;
        Ok(done)
    }
}

/// The database file as it was when opened. Open connections keep working on
/// a file that was deleted or replaced underneath them, writing where nobody
/// will ever read; `ping` compares identities so that this shows.
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

/// The file of the database at `url`, or `None` for an in-memory one.
pub fn file_of(url: &str) -> StoreResult<Option<PathBuf>> {
    let options =
        SqliteConnectOptions::from_str(url).map_err(|e| StoreError::Other(format!("invalid SQLite URL: {e}")))?;
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    Ok((!in_memory).then(|| options.get_filename().to_owned()))
}

/// Opens (creating if needed) the database at `url` (`sqlite://path/to/file.db`).
/// Does not migrate: call `Store::migrate`.
pub async fn open(url: &str) -> StoreResult<SqliteStore> {
    let path = file_of(url)?.ok_or_else(|| {
        StoreError::Other(
            "an in-memory SQLite database is not supported: give a file (sqlite://path/to/file.db)".into(),
        )
    })?;
    // Opening reads the file: off the runtime's threads.
    let (writer, checkpointer) = tokio::task::spawn_blocking({
        let path = path.clone();
        move || Ok::<_, StoreError>((open_writer(&path)?, Checkpointer::start(&path)?))
    })
    .await
    .map_err(|e| StoreError::Other(format!("opening the database: {e}")))??;
    let file = FileIdentity::of(path.clone()).map_err(|e| StoreError::Other(format!("database file: {e}")))?;
    let keep = std::thread::available_parallelism().map_or(4, |n| n.get() * 2).max(4);
    let checkpointer = Arc::new(checkpointer);
    let writer = Writer::new(writer, {
        let checkpointer = checkpointer.clone();
        Box::new(move || checkpointer.wake())
    });
    Ok(SqlStore::new(SqliteDb { url: url.to_owned(), readers: Readers::new(path, keep), writer, checkpointer, file }))
}

fn open_writer(path: &std::path::Path) -> StoreResult<rusqlite::Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(map_err)?;
    configure(&conn)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(map_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Other(format!("the database could not use WAL mode (it is in {mode} mode)")));
    }
    // NORMAL in WAL mode: a commit survives a crash of this process; only a
    // power loss can undo the last transactions.
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON").map_err(map_err)?;
    // The checkpointer copies the log as it grows; at this size the writer's
    // own checkpoint, short by then, lets the log start over.
    conn.pragma_update(None, "wal_autocheckpoint", checkpointer::WRITER_CHECKPOINT_PAGES).map_err(map_err)?;
    Ok(conn)
}

impl WriteTx {
    fn run<T>(&self, run: impl FnOnce(&rusqlite::Connection) -> StoreResult<T>) -> StoreResult<T> {
        run(self.conn()?)
    }
}

#[async_trait]
impl Tx for WriteTx {
    type Row = Record;

    async fn fetch_all(&mut self, query: Query) -> StoreResult<Vec<Record>> {
        self.run(|conn| values::fetch_all(conn, query))
    }

    async fn fetch_optional(&mut self, query: Query) -> StoreResult<Option<Record>> {
        self.run(|conn| values::fetch_optional(conn, query))
    }

    async fn execute(&mut self, query: Query) -> StoreResult<u64> {
        self.run(|conn| values::execute(conn, query))
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        WriteTx::commit(*self).await
    }
}

#[async_trait]
impl Db for SqliteDb {
    type Row = Record;

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn fetch_all(&self, query: Query) -> StoreResult<Vec<Record>> {
        self.readers.read(|conn| values::fetch_all(conn, query))
    }

    async fn fetch_optional(&self, query: Query) -> StoreResult<Option<Record>> {
        self.readers.read(|conn| values::fetch_optional(conn, query))
    }

    async fn write_optional(&self, query: Query) -> StoreResult<Option<Record>> {
        self.write_alone(|conn| values::fetch_optional(conn, query)).await
    }

    async fn execute(&self, query: Query) -> StoreResult<u64> {
        self.write_alone(|conn| values::execute(conn, query)).await
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx<Row = Record>>> {
        Ok(Box::new(self.writer.begin().await?))
    }

    async fn migrate(&self) -> StoreResult<()> {
        let options = SqliteConnectOptions::from_str(&self.url)
            .map_err(|e| StoreError::Other(format!("invalid SQLite URL: {e}")))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.map_err(map_sqlx_err)?;
        let migrated = migrations::migrator().run(&pool).await;
        pool.close().await;
        migrated.map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> StoreResult<()> {
        self.file.check()?;
        self.readers
            .read(|conn| conn.query_row("SELECT count(*) FROM _sqlx_migrations", [], |_| Ok(())).map_err(map_err))
    }

    // VACUUM INTO reads in one transaction: the copy is the database as of
    // one moment, compacted, and writers are not held up (WAL).
    async fn snapshot(&self, to: &std::path::Path) -> StoreResult<()> {
        let to = to.to_str().ok_or_else(|| StoreError::Other("the snapshot path is not UTF-8".into()))?.to_owned();
        let conn = self.readers.open()?;
        tokio::task::spawn_blocking(move || conn.execute("VACUUM INTO ?1", [to]).map(drop).map_err(map_err))
            .await
            .map_err(|e| StoreError::Other(format!("snapshot: {e}")))?
    }

    async fn close(&self) {
        self.checkpointer.stop().await;
        self.readers.close();
        self.writer.close().await;
    }

    // One process owns an SQLite database: there is no one to tell.
    async fn broadcast(&self, _message: &str) -> StoreResult<()> {
        Ok(())
    }

    async fn subscribe(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<String>>> {
        Ok(None)
    }
}
