//! The PostgreSQL backend: many stateless server nodes share one database.

mod accounts;
mod error;
mod migrations;
mod oauth;
mod projects;
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use basic_admin_core::store::{Store, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use error::map_err;

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…`). Fails when the
    /// database cannot be reached now, so a misconfigured node stops early.
    /// Does not migrate: call [`Store::migrate`].
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
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
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    // Many nodes may migrate at once: the migrator holds an advisory lock.
    async fn migrate(&self) -> StoreResult<()> {
        migrations::migrator().run(&self.pool).await.map_err(|e| StoreError::Other(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT count(*) FROM _sqlx_migrations").fetch_one(&self.pool).await.map(drop).map_err(map_err)
    }

    async fn applied_migrations(&self) -> StoreResult<Vec<i64>> {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
