//! The PostgreSQL backend: many stateless server nodes share one database.
//! The queries themselves are in `basic-admin-store-sql`.

mod error;
mod migrations;
#[cfg(feature = "testing")]
pub mod testing;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use basic_admin_core::store::{StoreError, StoreResult};
use basic_admin_core::time::Timestamp;
use basic_admin_store_sql::{Db, Dialect, Param, Query, Row, SqlStore, Tx};
use chrono::NaiveDate;
use serde_json::Value;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres, Row as _, Transaction};
use uuid::Uuid;

pub use error::map_err;

/// Where nodes tell each other what to forget, and (from a trigger of
/// migration 0008) of new sync revisions.
const CHANNEL: &str = "basic_admin_events";

/// The store on PostgreSQL.
pub type PgStore = SqlStore<PgDb>;

pub struct PgDb {
    pool: PgPool,
}

/// Connects to the database at `url` (`postgres://…`). Fails when the
/// database cannot be reached now, so a misconfigured node stops early.
/// Does not migrate: call `Store::migrate`.
pub async fn open(url: &str, max_connections: u32) -> StoreResult<PgStore> {
    let options =
        PgConnectOptions::from_str(url).map_err(|e| StoreError::Other(format!("invalid PostgreSQL URL: {e}")))?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        // Short, so that requests fail fast (and the root route reports
        // db_conn: false) while the database is away; the pool reconnects
        // by itself when it is back.
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await
        .map_err(map_err)?;
    Ok(SqlStore::new(PgDb { pool }))
}

impl PgDb {
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

type PgQuery = sqlx::query::Query<'static, Postgres, PgArguments>;

fn prepare(query: Query) -> PgQuery {
    let mut q = match query.sql {
        Cow::Borrowed(sql) => sqlx::query(sql),
        Cow::Owned(sql) => sqlx::query(AssertSqlSafe(sql)),
    };
    for param in query.params {
        q = match param {
            Param::Id(v) => q.bind(v),
            Param::OptId(v) => q.bind(v),
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

/// A result row of PostgreSQL.
pub struct Record(PgRow);

fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(row: &'r PgRow, column: &str) -> StoreResult<T> {
    row.try_get(column).map_err(|e| StoreError::Other(format!("column {column}: {e}")))
}

impl Row for Record {
    fn id(&self, column: &str) -> StoreResult<Uuid> {
        get(&self.0, column)
    }
    fn opt_id(&self, column: &str) -> StoreResult<Option<Uuid>> {
        get(&self.0, column)
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

struct PgTx(Transaction<'static, Postgres>);

#[async_trait]
impl Tx for PgTx {
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
impl Db for PgDb {
    type Row = Record;

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn fetch_all(&self, query: Query) -> StoreResult<Vec<Record>> {
        let rows = prepare(query).fetch_all(&self.pool).await.map_err(map_err)?;
        Ok(rows.into_iter().map(Record).collect())
    }

    async fn fetch_optional(&self, query: Query) -> StoreResult<Option<Record>> {
        Ok(prepare(query).fetch_optional(&self.pool).await.map_err(map_err)?.map(Record))
    }

    async fn write_optional(&self, query: Query) -> StoreResult<Option<Record>> {
        self.fetch_optional(query).await
    }

    async fn execute(&self, query: Query) -> StoreResult<u64> {
        Ok(prepare(query).execute(&self.pool).await.map_err(map_err)?.rows_affected())
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx<Row = Record>>> {
        Ok(Box::new(PgTx(self.pool.begin().await.map_err(map_err)?)))
    }

    // Many nodes may migrate at once: the migrator holds an advisory lock.
    async fn migrate(&self) -> StoreResult<()> {
        migrations::migrator().run(&self.pool).await.map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT count(*) FROM _sqlx_migrations").fetch_one(&self.pool).await.map(drop).map_err(map_err)
    }

    async fn snapshot(&self, _to: &std::path::Path) -> StoreResult<()> {
        Err(StoreError::Other("PostgreSQL databases are backed up with pg_dump, not by this server".into()))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn broadcast(&self, message: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(message)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn subscribe(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<String>>> {
        let mut listener = PgListener::connect_with(&self.pool).await.map_err(map_err)?;
        listener.listen(CHANNEL).await.map_err(map_err)?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            loop {
                // `try_recv` (not `recv`) to learn of a lost connection: what
                // was sent while it was down is lost, which listeners must hear.
                let message = match listener.try_recv().await {
                    Ok(Some(notification)) => notification.payload().to_owned(),
                    Ok(None) => {
                        tracing::warn!("the notification connection was lost and is back; some messages may be lost");
                        String::new()
                    }
                    // Shutting down: the pool is closed, or nobody listens.
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(_) if tx.is_closed() => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the notification connection; reconnecting");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        String::new()
                    }
                };
                if tx.send(message).await.is_err() {
                    return; // Nobody listens any more.
                }
            }
        });
        Ok(Some(rx))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sync_trigger_notifies_on_the_broadcast_channel() {
        let migration = include_str!("../migrations/0008_sync_log.sql");
        assert!(migration.contains(&format!("pg_notify('{}'", super::CHANNEL)));
    }
}
