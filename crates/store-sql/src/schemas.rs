use async_trait::async_trait;
use basic_admin_core::store::{SchemaStore, SchemaVersion, StoreResult};
use uuid::Uuid;

use crate::{Db, Query, Row, SqlStore, q};

fn version(row: &impl Row) -> StoreResult<SchemaVersion> {
    Ok(SchemaVersion {
        id: row.id("id")?,
        project_id: row.id("project_id")?,
        version: row.int("version")?,
        schema: row.json("schema")?,
        created_at: row.time("created_at")?,
    })
}

const COLUMNS: &str = "id, project_id, version, schema, created_at";

#[async_trait]
impl<D: Db> SchemaStore for SqlStore<D> {
    async fn latest_schema(&self, project_id: Uuid) -> StoreResult<Option<SchemaVersion>> {
        let sql = format!("SELECT {COLUMNS} FROM schema_versions WHERE project_id = $1 ORDER BY version DESC LIMIT 1");
        self.db.fetch_optional(Query::dynamic(sql).id(project_id)).await?.as_ref().map(version).transpose()
    }

    async fn schema_version(&self, project_id: Uuid, number: i64) -> StoreResult<Option<SchemaVersion>> {
        let sql = format!("SELECT {COLUMNS} FROM schema_versions WHERE project_id = $1 AND version = $2");
        self.db.fetch_optional(Query::dynamic(sql).id(project_id).int(number)).await?.as_ref().map(version).transpose()
    }

    async fn schema_versions(&self, project_id: Uuid) -> StoreResult<Vec<SchemaVersion>> {
        let sql = format!("SELECT {COLUMNS} FROM schema_versions WHERE project_id = $1 ORDER BY version");
        self.db.fetch_all(Query::dynamic(sql).id(project_id)).await?.iter().map(version).collect()
    }

    async fn publish_schema(&self, v: SchemaVersion) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO schema_versions (id, project_id, version, schema, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .id(v.id)
                    .id(v.project_id)
                    .int(v.version)
                    .json(&v.schema)
                    .time(v.created_at),
            )
            .await
            .map(drop)
    }
}
