//! The store, written once: every query and every row mapping of
//! basic-admin, over [`Db`], a small driver trait that the SQLite and the
//! PostgreSQL backends implement with sqlx.
//!
//! Both databases accept the same SQL here (`$1` parameters, `RETURNING`,
//! `ON CONFLICT`); where they differ, [`Dialect`] says which to use. Values
//! travel as [`Param`]s and come back through [`Row`], so each backend keeps
//! its native column types (UUID, TIMESTAMPTZ and JSONB on PostgreSQL; text
//! on SQLite) behind one interface.

mod accounts;
mod db;
mod keys;
mod oauth;
mod projects;
mod schemas;
mod sync;
mod uploads;
mod users;

use async_trait::async_trait;
use basic_admin_core::store::{Store, StoreResult};

pub use db::{Db, Dialect, Param, Query, Row, Tx, q};

/// A [`Store`] on any [`Db`].
pub struct SqlStore<D> {
    db: D,
}

impl<D: Db> SqlStore<D> {
    pub fn new(db: D) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &D {
        &self.db
    }
}

#[async_trait]
impl<D: Db> Store for SqlStore<D> {
    fn backend(&self) -> &'static str {
        match self.db.dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.db.migrate().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await
    }

    async fn snapshot(&self, to: &std::path::Path) -> StoreResult<()> {
        self.db.snapshot(to).await
    }

    async fn broadcast(&self, message: &str) -> StoreResult<()> {
        self.db.broadcast(message).await
    }

    async fn subscribe(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<String>>> {
        self.db.subscribe().await
    }

    async fn applied_migrations(&self) -> StoreResult<Vec<i64>> {
        let rows = self.db.fetch_all(q("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")).await?;
        rows.iter().map(|r| r.int("version")).collect()
    }

    async fn close(&self) {
        self.db.close().await;
    }
}
