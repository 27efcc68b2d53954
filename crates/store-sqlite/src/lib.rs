//! The embedded SQLite backend: one file in the data folder, WAL mode.
//!
//! Reads go through a pool of connections; writes through a pool of one, so
//! writers queue in the process instead of contending for SQLite's lock.
//! The queries themselves are in `basic-admin-store-sql`.

mod error;
mod migrations;

use std::borrow::Cow;
use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use basic_admin_core::store::{StoreError, StoreResult};
use basic_admin_core::time::Timestamp;
use basic_admin_store_sql::{Db, Dialect, Param, Query, Row, SqlStore, Tx};
use chrono::NaiveDate;
use serde_json::Value;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row as _, Sqlite, Transaction};
use uuid::Uuid;
use uuid::fmt::Hyphenated;

pub use error::map_err;

/// The store on SQLite.
pub type SqliteStore = SqlStore<SqliteDb>;

/// How long a writer waits for SQLite's lock (held by a checkpoint, a backup,
/// or another process) before the write fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteDb {
    read: SqlitePool,
    write: SqlitePool,
    file: Option<FileIdentity>,
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
    let file = match file_of(url)? {
        None => None,
        Some(path) => Some(FileIdentity::of(path).map_err(|e| StoreError::Other(format!("database file: {e}")))?),
    };
    let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2).max(4);
    let read = SqlitePoolOptions::new()
        .max_connections(readers as u32)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.read_only(true))
        .await
        .map_err(map_err)?;
    Ok(SqlStore::new(SqliteDb { read, write, file }))
}

type SqliteQuery = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

fn prepare(query: Query) -> SqliteQuery {
    let mut q = match query.sql {
        Cow::Borrowed(sql) => sqlx::query(sql),
        Cow::Owned(sql) => sqlx::query(AssertSqlSafe(sql)),
    };
    for param in query.params {
        q = match param {
            Param::Id(v) => q.bind(v.hyphenated()),
            Param::OptId(v) => q.bind(v.map(Uuid::hyphenated)),
            Param::Text(v) => q.bind(v),
            Param::OptText(v) => q.bind(v),
            Param::Int(v) => q.bind(v),
            Param::Bool(v) => q.bind(v),
            Param::Time(v) => q.bind(v),
            Param::OptTime(v) => q.bind(v),
            Param::Date(v) => q.bind(v),
            Param::Json(v) => q.bind(Json(v)),
            Param::OptJson(v) => q.bind(v.map(Json)),
            Param::Bytes(v) => q.bind(v),
        };
    }
    q
}

/// A result row of SQLite.
pub struct Record(SqliteRow);

fn get<'r, T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>>(row: &'r SqliteRow, column: &str) -> StoreResult<T> {
    row.try_get(column).map_err(|e| StoreError::Other(format!("column {column}: {e}")))
}

impl Row for Record {
    fn id(&self, column: &str) -> StoreResult<Uuid> {
        get::<Hyphenated>(&self.0, column).map(Hyphenated::into_uuid)
    }
    fn opt_id(&self, column: &str) -> StoreResult<Option<Uuid>> {
        get::<Option<Hyphenated>>(&self.0, column).map(|v| v.map(Hyphenated::into_uuid))
    }
    fn text(&self, column: &str) -> StoreResult<String> {
        get(&self.0, column)
    }
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        get(&self.0, column)
    }
    fn int(&self, column: &str) -> StoreResult<i64> {
        get(&self.0, column)
    }
    fn boolean(&self, column: &str) -> StoreResult<bool> {
        get(&self.0, column)
    }
    fn time(&self, column: &str) -> StoreResult<Timestamp> {
        get(&self.0, column)
    }
    fn opt_time(&self, column: &str) -> StoreResult<Option<Timestamp>> {
        get(&self.0, column)
    }
    fn date(&self, column: &str) -> StoreResult<NaiveDate> {
        get(&self.0, column)
    }
    fn json(&self, column: &str) -> StoreResult<Value> {
        get::<Json<Value>>(&self.0, column).map(|j| j.0)
    }
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>> {
        get(&self.0, column)
    }
}

struct SqliteTx(Transaction<'static, Sqlite>);

#[async_trait]
impl Tx for SqliteTx {
    type Row = Record;

    async fn fetch_all(&mut self, query: Query) -> StoreResult<Vec<Record>> {
        let rows = prepare(query).fetch_all(&mut *self.0).await.map_err(map_err)?;
        Ok(rows.into_iter().map(Record).collect())
    }

    async fn fetch_optional(&mut self, query: Query) -> StoreResult<Option<Record>> {
        Ok(prepare(query).fetch_optional(&mut *self.0).await.map_err(map_err)?.map(Record))
    }

    async fn execute(&mut self, query: Query) -> StoreResult<u64> {
        Ok(prepare(query).execute(&mut *self.0).await.map_err(map_err)?.rows_affected())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.0.commit().await.map_err(map_err)
    }
}

#[async_trait]
impl Db for SqliteDb {
    type Row = Record;

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn fetch_all(&self, query: Query) -> StoreResult<Vec<Record>> {
        let rows = prepare(query).fetch_all(&self.read).await.map_err(map_err)?;
        Ok(rows.into_iter().map(Record).collect())
    }

    async fn fetch_optional(&self, query: Query) -> StoreResult<Option<Record>> {
        Ok(prepare(query).fetch_optional(&self.read).await.map_err(map_err)?.map(Record))
    }

    async fn write_optional(&self, query: Query) -> StoreResult<Option<Record>> {
        Ok(prepare(query).fetch_optional(&self.write).await.map_err(map_err)?.map(Record))
    }

    async fn execute(&self, query: Query) -> StoreResult<u64> {
        Ok(prepare(query).execute(&self.write).await.map_err(map_err)?.rows_affected())
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx<Row = Record>>> {
        Ok(Box::new(SqliteTx(self.write.begin().await.map_err(map_err)?)))
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

    // VACUUM INTO reads in one transaction: the copy is the database as of
    // one moment, compacted, and writers are not held up (WAL).
    async fn snapshot(&self, to: &std::path::Path) -> StoreResult<()> {
        let to = to.to_str().ok_or_else(|| StoreError::Other("the snapshot path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO ?").bind(to).execute(&self.read).await.map(drop).map_err(map_err)
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    // One process owns an SQLite database: there is no one to tell.
    async fn broadcast(&self, _message: &str) -> StoreResult<()> {
        Ok(())
    }

    async fn subscribe(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<String>>> {
        Ok(None)
    }
}
