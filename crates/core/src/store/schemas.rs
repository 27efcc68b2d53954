use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::StoreResult;
use crate::time::Timestamp;

/// One published version of a project's schema; versions are kept forever.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaVersion {
    pub id: Uuid,
    pub project_id: Uuid,
    pub version: i64,
    pub schema: Value,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait SchemaStore {
    async fn latest_schema(&self, project_id: Uuid) -> StoreResult<Option<SchemaVersion>>;
    async fn schema_version(&self, project_id: Uuid, version: i64) -> StoreResult<Option<SchemaVersion>>;
    /// Every version, oldest first.
    async fn schema_versions(&self, project_id: Uuid) -> StoreResult<Vec<SchemaVersion>>;
    /// Conflicts: `schema_versions_project_id_version_key` (that version exists).
    async fn publish_schema(&self, version: SchemaVersion) -> StoreResult<()>;
}
