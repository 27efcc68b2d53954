//! The driver interface: queries with typed parameters in, rows with typed
//! getters out, and transactions.

use std::borrow::Cow;

use async_trait::async_trait;
use basic_admin_core::store::{StoreError, StoreResult};
use basic_admin_core::time::Timestamp;
use chrono::NaiveDate;
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a `$n` parameter.
#[derive(Debug, Clone)]
pub enum Param {
    Id(Uuid),
    OptId(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Bool(bool),
    Time(Timestamp),
    OptTime(Option<Timestamp>),
    Date(NaiveDate),
    Json(Value),
    OptJson(Option<Value>),
    Bytes(Vec<u8>),
}

/// SQL and its parameters, in order.
#[derive(Debug, Clone)]
pub struct Query {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param>,
}

/// Starts a query: `q("… WHERE id = $1").id(id)`.
pub fn q(sql: &'static str) -> Query {
    Query { sql: Cow::Borrowed(sql), params: Vec::new() }
}

impl Query {
    /// SQL assembled at run time, from fragments of this crate only (never
    /// from input: values always go in parameters).
    pub fn dynamic(sql: String) -> Self {
        Query { sql: Cow::Owned(sql), params: Vec::new() }
    }

    fn push(mut self, p: Param) -> Self {
        self.params.push(p);
        self
    }

    pub fn id(self, v: Uuid) -> Self {
        self.push(Param::Id(v))
    }
    pub fn opt_id(self, v: Option<Uuid>) -> Self {
        self.push(Param::OptId(v))
    }
    pub fn text(self, v: impl Into<String>) -> Self {
        self.push(Param::Text(v.into()))
    }
    pub fn opt_text(self, v: Option<impl Into<String>>) -> Self {
        self.push(Param::OptText(v.map(Into::into)))
    }
    pub fn int(self, v: i64) -> Self {
        self.push(Param::Int(v))
    }
    pub fn boolean(self, v: bool) -> Self {
        self.push(Param::Bool(v))
    }
    pub fn time(self, v: Timestamp) -> Self {
        self.push(Param::Time(v))
    }
    pub fn opt_time(self, v: Option<Timestamp>) -> Self {
        self.push(Param::OptTime(v))
    }
    pub fn date(self, v: NaiveDate) -> Self {
        self.push(Param::Date(v))
    }
    pub fn json(self, v: &Value) -> Self {
        self.push(Param::Json(v.clone()))
    }
    pub fn opt_json(self, v: Option<&Value>) -> Self {
        self.push(Param::OptJson(v.cloned()))
    }
    pub fn bytes(self, v: &[u8]) -> Self {
        self.push(Param::Bytes(v.to_vec()))
    }
}

/// Typed access to a result row's columns, by name.
pub trait Row: Send + Sync {
    fn id(&self, column: &str) -> StoreResult<Uuid>;
    fn opt_id(&self, column: &str) -> StoreResult<Option<Uuid>>;
    fn text(&self, column: &str) -> StoreResult<String>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn boolean(&self, column: &str) -> StoreResult<bool>;
    fn time(&self, column: &str) -> StoreResult<Timestamp>;
    fn opt_time(&self, column: &str) -> StoreResult<Option<Timestamp>>;
    fn date(&self, column: &str) -> StoreResult<NaiveDate>;
    fn json(&self, column: &str) -> StoreResult<Value>;
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>>;
}

/// A database: reads may go to replicas or a pool of readers, writes to
/// the writer; a transaction holds one connection until it commits (or is
/// dropped, which rolls it back).
#[async_trait]
pub trait Db: Send + Sync + 'static {
    type Row: Row + 'static;

    fn dialect(&self) -> Dialect;

    async fn fetch_all(&self, query: Query) -> StoreResult<Vec<Self::Row>>;
    async fn fetch_optional(&self, query: Query) -> StoreResult<Option<Self::Row>>;
    /// A write that returns rows (`RETURNING`).
    async fn write_optional(&self, query: Query) -> StoreResult<Option<Self::Row>>;
    /// A write; the number of rows it touched.
    async fn execute(&self, query: Query) -> StoreResult<u64>;
    async fn begin(&self) -> StoreResult<Box<dyn Tx<Row = Self::Row>>>;

    async fn migrate(&self) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;
    async fn snapshot(&self, to: &std::path::Path) -> StoreResult<()>;
    async fn close(&self);
    async fn broadcast(&self, message: &str) -> StoreResult<()>;
    async fn subscribe(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<String>>>;

    async fn fetch_one(&self, query: Query) -> StoreResult<Self::Row> {
        self.fetch_optional(query).await?.ok_or(StoreError::NotFound)
    }

    async fn write_one(&self, query: Query) -> StoreResult<Self::Row> {
        self.write_optional(query).await?.ok_or(StoreError::NotFound)
    }
}

#[async_trait]
pub trait Tx: Send {
    type Row: Row + 'static;

    async fn fetch_all(&mut self, query: Query) -> StoreResult<Vec<Self::Row>>;
    async fn fetch_optional(&mut self, query: Query) -> StoreResult<Option<Self::Row>>;
    async fn execute(&mut self, query: Query) -> StoreResult<u64>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    async fn fetch_one(&mut self, query: Query) -> StoreResult<Self::Row> {
        self.fetch_optional(query).await?.ok_or(StoreError::NotFound)
    }
}
