use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::{Item, StoreResult};
use crate::model::ItemId;
use crate::sync::{Change, Edit, RecordLog};
use crate::time::Timestamp;

/// A record as the change log gives it: its entry, and its value while it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRecord {
    pub table: String,
    pub id: ItemId,
    pub log: RecordLog,
    /// The stored fields (without `id`); `None` for a tombstone.
    pub value: Option<Value>,
}

impl LoggedRecord {
    /// The change that brings a client's copy to this state: the whole
    /// record (which clients put, replacing theirs), or its deletion.
    pub fn change(&self) -> Change {
        match &self.value {
            None => Change::Delete { table: self.table.clone(), key: self.id.clone() },
            Some(value) => {
                let mut obj = serde_json::Map::with_capacity(value.as_object().map_or(0, |f| f.len()) + 1);
                obj.insert("id".into(), Value::String(self.id.as_str().to_owned()));
                if let Some(fields) = value.as_object() {
                    obj.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                Change::Create { table: self.table.clone(), key: self.id.clone(), obj }
            }
        }
    }
}

/// Where a read of the log goes on: after this revision, or within it
/// after this table and record (table names are never empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogPosition {
    pub revision: i64,
    pub table: String,
    pub id: String,
}

impl LogPosition {
    /// After everything of `revision`.
    pub fn at(revision: i64) -> Self {
        Self { revision, table: String::new(), id: String::new() }
    }

    pub fn after(record: &LoggedRecord) -> Self {
        Self { revision: record.log.revision, table: record.table.clone(), id: record.id.as_str().to_owned() }
    }
}

/// One client's message of changes, applied as one transaction.
pub struct SyncBatch<'a> {
    pub project_id: Uuid,
    pub user_did: &'a str,
    /// The client identity that sent it.
    pub source: &'a str,
    pub changes: &'a [Change],
    pub max_records: u64,
    pub at: Timestamp,
}

/// What one change of a batch does, decided with the record as the batch's
/// transaction sees it (earlier changes of the batch included).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Nothing (dropped by a conflict, or an update of a record that is gone).
    Skip,
    /// The record's new fields (without `id`), logged as `edit`.
    Put {
        value: Value,
        edit: Edit,
        echo: bool,
    },
    Remove {
        echo: bool,
    },
}

/// What a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The user's new revision; `None` when nothing changed (no revision taken).
    pub revision: Option<i64>,
    /// Changes that stored something (the others were dropped by conflicts,
    /// or updated a record that is gone).
    pub stored: usize,
}

/// Why a batch was refused (nothing of it applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRefusal {
    /// The decision refused change number `index`.
    Invalid { index: usize, reason: String },
    /// Change number `index` would take a table over the records limit.
    TableFull { index: usize, table: String },
}

/// Decides each change of a batch: the change, the stored record and its log entry.
pub type Decide<'a> = dyn Fn(&Change, Option<&Item>, Option<&RecordLog>) -> Result<Step, String> + Send + Sync + 'a;

#[async_trait]
pub trait SyncStore {
    /// `offered` if it is a client identity given to this user, else
    /// `fresh`, now remembered as theirs.
    async fn sync_client(
        &self,
        project_id: Uuid,
        user_did: &str,
        offered: Option<&str>,
        fresh: &str,
        at: Timestamp,
    ) -> StoreResult<String>;
    /// The user's current revision (0 before their first write).
    async fn sync_revision(&self, project_id: Uuid, user_did: &str) -> StoreResult<i64>;
    /// Up to `limit` records whose latest change comes after `after` and at
    /// or before revision `until`, in the order of their revisions.
    async fn sync_log(
        &self,
        project_id: Uuid,
        user_did: &str,
        after: &LogPosition,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<LoggedRecord>>;
    /// Applies a batch in one transaction under one new revision, each
    /// change as `decide` says, or refuses it whole (nothing applied).
    async fn sync_apply(&self, batch: SyncBatch<'_>, decide: &Decide<'_>) -> StoreResult<Result<Applied, SyncRefusal>>;
}
