use async_trait::async_trait;
use chrono::NaiveDate;
use serde_json::Value;
use uuid::Uuid;

use super::StoreResult;
use crate::model::ItemId;
use crate::time::Timestamp;

/// Where a project user stands. Connecting (again) makes a user active,
/// the only standing there is today; the wire shows it as `"active"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(UserStatus::Active),
            _ => None,
        }
    }
}

/// A user of a project's app, as connected through `user/connect`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectUser {
    pub id: Uuid,
    pub project_id: Uuid,
    pub user_did: String,
    /// Where the user's data server (and identity provider) lives.
    pub pds_url: String,
    pub status: UserStatus,
    /// Free data the developer keeps about the user.
    pub meta: Value,
    /// The account, when the user signed in with this server.
    pub account_id: Option<Uuid>,
    /// What the user agreed to share when connecting (space-separated scopes).
    pub scopes: String,
    /// The account's name and email, when there is an account.
    pub account_name: Option<String>,
    pub account_email: Option<String>,
    pub last_seen_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A connection report: the user is created or refreshed, and is counted
/// active on the day of `at`.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: Uuid,
    pub project_id: Uuid,
    pub user_did: String,
    pub pds_url: String,
    pub account_id: Option<Uuid>,
    pub scopes: String,
    pub at: Timestamp,
}

/// One record of a user's data in one table of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Unique within its table and user.
    pub id: ItemId,
    /// Its place in its table, given by the store when the item is created
    /// (1, 2, 3… per user table): lists go by it.
    pub seq: i64,
    pub project_id: Uuid,
    pub user_did: String,
    pub table: String,
    pub value: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[async_trait]
pub trait ProjectUserStore {
    /// Creates or refreshes the user (status `active`, `last_seen_at`), and
    /// records activity for the day: one transaction.
    async fn connect_user(&self, connection: Connection) -> StoreResult<ProjectUser>;
    /// Counts the user active on `day` (idempotent). `NotFound` for an unknown user.
    async fn record_activity(&self, project_id: Uuid, user_did: &str, day: NaiveDate) -> StoreResult<()>;
    /// The project's users, first connected first.
    async fn project_users(&self, project_id: Uuid) -> StoreResult<Vec<ProjectUser>>;
    async fn project_user(&self, project_id: Uuid, user_did: &str) -> StoreResult<Option<ProjectUser>>;
    /// Replaces `meta` if the user is still as read at `expected` (its
    /// `updated_at`): `Conflict` otherwise, `NotFound` if gone.
    async fn update_user_meta(
        &self,
        project_id: Uuid,
        user_did: &str,
        meta: &Value,
        expected: Timestamp,
        at: Timestamp,
    ) -> StoreResult<ProjectUser>;
    /// Removes the user with their activity and data. `NotFound` if unknown.
    async fn delete_user(&self, project_id: Uuid, user_did: &str) -> StoreResult<()>;
    async fn user_count(&self, project_id: Uuid) -> StoreResult<u64>;
    /// Distinct users active on `since` or later.
    async fn active_users(&self, project_id: Uuid, since: NaiveDate) -> StoreResult<u64>;
    /// Users active per day, from `since` on; days without activity are absent.
    async fn daily_active(&self, project_id: Uuid, since: NaiveDate) -> StoreResult<Vec<(NaiveDate, u64)>>;
}

/// Where a list of items goes on: after this item (lists go by `seq`,
/// then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCursor {
    pub seq: i64,
    pub id: ItemId,
}

/// An item as a list reads it: its value as the JSON text stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemText {
    pub id: ItemId,
    pub seq: i64,
    /// A JSON object.
    pub value: String,
}

impl ItemText {
    pub fn of(item: &Item) -> Self {
        Self { id: item.id.clone(), seq: item.seq, value: item.value.to_string() }
    }
}

impl ItemCursor {
    pub fn after(item: &ItemText) -> Self {
        Self { seq: item.seq, id: item.id.clone() }
    }

    /// As clients carry it: `<seq>.<id>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.seq, self.id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (seq, id) = text.split_once('.')?;
        Some(Self { seq: seq.parse().ok().filter(|s| *s >= 0)?, id: ItemId::parse(id).ok()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_travel_as_text_and_come_back_the_same() {
        let cursor = ItemCursor { seq: 42, id: ItemId::parse("todo.1 ✓").unwrap() };
        assert_eq!(cursor.encode(), "42.todo.1 ✓");
        assert_eq!(ItemCursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "42", "x.todo", "-1.todo", "42.", "42.a/b"] {
            assert_eq!(ItemCursor::decode(bad), None, "{bad}");
        }
    }
}

#[async_trait]
pub trait ItemStore {
    /// Stores the item as the last of its table (its `seq` is the store's
    /// to give), unless the table holds `max_records` already (`None`
    /// then): the item as stored. `NotFound` when the project has no such
    /// user; `Unique(Item)` when the table holds an item with this id.
    async fn create_item(&self, item: Item, max_records: u64) -> StoreResult<Option<Item>>;
    /// Up to `limit` items of one table, in creation order, after `after`,
    /// each value as the JSON text stored (an object, checked when written):
    /// a list is answered without parsing and writing every value again.
    async fn item_texts(
        &self,
        project_id: Uuid,
        user_did: &str,
        table: &str,
        after: Option<&ItemCursor>,
        limit: u32,
    ) -> StoreResult<Vec<ItemText>>;
    async fn item(&self, project_id: Uuid, user_did: &str, table: &str, id: &ItemId) -> StoreResult<Option<Item>>;
    /// How many items one user has in one table (kept with every write,
    /// not counted).
    async fn item_count(&self, project_id: Uuid, user_did: &str, table: &str) -> StoreResult<u64>;
    /// Replaces the value if the item is still as read at `expected` (its
    /// `updated_at`; `None`: whatever it is): `Conflict` otherwise,
    /// `NotFound` if gone. The change log records it as `edit`.
    async fn replace_item(
        &self,
        item: &Item,
        value: &Value,
        edit: &crate::sync::Edit,
        expected: Option<Timestamp>,
        at: Timestamp,
    ) -> StoreResult<Item>;
    /// `NotFound` if there is no such item.
    async fn delete_item(&self, project_id: Uuid, user_did: &str, table: &str, id: &ItemId) -> StoreResult<()>;
}

/// A project's Ed25519 identity key.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityKey {
    pub project_id: Uuid,
    /// The 32-byte public key.
    pub public_key: Vec<u8>,
    /// The private key, sealed with the master key.
    pub sealed_private: Vec<u8>,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait IdentityKeyStore {
    async fn identity_key(&self, project_id: Uuid) -> StoreResult<Option<IdentityKey>>;
    /// Stores `key` unless the project has one already; answers the one kept
    /// (so that two nodes creating a key at once agree).
    async fn create_identity_key(&self, key: IdentityKey) -> StoreResult<IdentityKey>;
}
