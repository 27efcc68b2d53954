use async_trait::async_trait;
use basic_admin_core::store::{ApiKey, ApiKeyStore, StoreError, StoreResult};
use basic_admin_core::time::Timestamp;
use uuid::Uuid;

use crate::{Db, Query, Row, SqlStore, q};

fn key(row: &impl Row) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: row.id("id")?,
        project_id: row.id("project_id")?,
        label: row.text("label")?,
        roles: row.text("roles")?,
        is_private: row.boolean("is_private")?,
        secret_hash: row.bytes("secret_hash")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        last_used: row.opt_time("last_used")?,
    })
}

const COLUMNS: &str = "id, project_id, label, roles, is_private, secret_hash, created_at, updated_at, last_used";

#[async_trait]
impl<D: Db> ApiKeyStore for SqlStore<D> {
    async fn create_key(&self, k: ApiKey) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO api_keys (id, project_id, label, roles, is_private, secret_hash, created_at, updated_at, last_used) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .id(k.id)
                .id(k.project_id)
                .text(k.label)
                .text(k.roles)
                .boolean(k.is_private)
                .bytes(&k.secret_hash)
                .time(k.created_at)
                .time(k.updated_at)
                .opt_time(k.last_used),
            )
            .await
            .map(drop)
    }

    async fn keys_of_project(&self, project_id: Uuid) -> StoreResult<Vec<ApiKey>> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE project_id = $1 ORDER BY created_at, id");
        self.db.fetch_all(Query::dynamic(sql).id(project_id)).await?.iter().map(key).collect()
    }

    async fn key_by_id(&self, id: Uuid) -> StoreResult<Option<ApiKey>> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
        self.db.fetch_optional(Query::dynamic(sql).id(id)).await?.as_ref().map(key).transpose()
    }

    async fn update_key(
        &self,
        project_id: Uuid,
        id: Uuid,
        label: Option<String>,
        roles: Option<String>,
        at: Timestamp,
    ) -> StoreResult<ApiKey> {
        let sql = format!(
            "UPDATE api_keys SET label = COALESCE($3, label), roles = COALESCE($4, roles), updated_at = $5 \
             WHERE project_id = $1 AND id = $2 RETURNING {COLUMNS}"
        );
        let row = self
            .db
            .write_one(Query::dynamic(sql).id(project_id).id(id).opt_text(label).opt_text(roles).time(at))
            .await?;
        key(&row)
    }

    async fn replace_key_secret(
        &self,
        project_id: Uuid,
        id: Uuid,
        secret_hash: &[u8],
        at: Timestamp,
    ) -> StoreResult<ApiKey> {
        let sql = format!(
            "UPDATE api_keys SET secret_hash = $3, updated_at = $4 WHERE project_id = $1 AND id = $2 RETURNING {COLUMNS}"
        );
        let row = self.db.write_one(Query::dynamic(sql).id(project_id).id(id).bytes(secret_hash).time(at)).await?;
        key(&row)
    }

    async fn delete_key(&self, project_id: Uuid, id: Uuid) -> StoreResult<()> {
        match self.db.execute(q("DELETE FROM api_keys WHERE project_id = $1 AND id = $2").id(project_id).id(id)).await?
        {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn touch_keys(&self, uses: &[(Uuid, Timestamp)]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        for (id, at) in uses {
            tx.execute(
                q("UPDATE api_keys SET last_used = $2 WHERE id = $1 AND (last_used IS NULL OR last_used < $2)")
                    .id(*id)
                    .time(*at),
            )
            .await?;
        }
        tx.commit().await
    }
}
