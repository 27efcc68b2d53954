use async_trait::async_trait;
use basic_admin_core::store::{StoreError, StoreResult, Upload, UploadStore, set_profile_key};
use basic_admin_core::time;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{Db, Dialect, Query, Row, SqlStore, Tx, q};

const COLUMNS: &str = "project_id, kind, object_key, content_type, size, created_at";

fn upload(row: &impl Row) -> StoreResult<Upload> {
    Ok(Upload {
        project_id: row.id("project_id")?,
        kind: row.text("kind")?,
        object_key: row.text("object_key")?,
        content_type: row.text("content_type")?,
        size: row.int("size")?,
        created_at: row.time("created_at")?,
    })
}

impl<D: Db> SqlStore<D> {
    /// Rewrites one key of the project's profile inside `tx` (the row locked
    /// on PostgreSQL; SQLite has one writer).
    async fn change_profile(
        &self,
        tx: &mut Box<dyn Tx<Row = D::Row>>,
        project: Uuid,
        path: &[&str],
        value: Option<Value>,
    ) -> StoreResult<()> {
        let lock = match self.db.dialect() {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let sql = format!("SELECT profile, updated_at FROM projects WHERE id = $1{lock}");
        let row = tx.fetch_optional(Query::dynamic(sql).id(project)).await?.ok_or(StoreError::NotFound)?;
        let mut profile = row.json("profile")?;
        set_profile_key(&mut profile, path, value);
        // A later change time, always: a concurrent profile update that read
        // the project before this one must see that it changed.
        tx.execute(
            q("UPDATE projects SET profile = $2, updated_at = $3 WHERE id = $1")
                .id(project)
                .json(&profile)
                .time(time::after(row.time("updated_at")?)),
        )
        .await?;
        Ok(())
    }

    async fn current_upload(
        tx: &mut Box<dyn Tx<Row = D::Row>>,
        project: Uuid,
        kind: &str,
    ) -> StoreResult<Option<Upload>> {
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE project_id = $1 AND kind = $2");
        tx.fetch_optional(Query::dynamic(sql).id(project).text(kind)).await?.as_ref().map(upload).transpose()
    }
}

#[async_trait]
impl<D: Db> UploadStore for SqlStore<D> {
    async fn uploads(&self, project_id: Uuid) -> StoreResult<Vec<Upload>> {
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE project_id = $1 ORDER BY kind");
        self.db.fetch_all(Query::dynamic(sql).id(project_id)).await?.iter().map(upload).collect()
    }

    async fn record_upload(&self, u: Upload, profile_path: &[&str], url: &str) -> StoreResult<Option<Upload>> {
        let mut tx = self.db.begin().await?;
        self.change_profile(&mut tx, u.project_id, profile_path, Some(json!(url))).await?;
        let previous = Self::current_upload(&mut tx, u.project_id, &u.kind).await?;
        tx.execute(
            q("INSERT INTO uploads (project_id, kind, object_key, content_type, size, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6) \
               ON CONFLICT (project_id, kind) DO UPDATE SET object_key = excluded.object_key, \
               content_type = excluded.content_type, size = excluded.size, created_at = excluded.created_at")
            .id(u.project_id)
            .text(u.kind)
            .text(u.object_key)
            .text(u.content_type)
            .int(u.size)
            .time(u.created_at),
        )
        .await?;
        tx.commit().await?;
        Ok(previous)
    }

    async fn forget_upload(&self, project_id: Uuid, kind: &str, profile_path: &[&str]) -> StoreResult<Option<Upload>> {
        let mut tx = self.db.begin().await?;
        self.change_profile(&mut tx, project_id, profile_path, None).await?;
        let Some(current) = Self::current_upload(&mut tx, project_id, kind).await? else {
            return Ok(None); // Dropping the transaction rolls the profile change back.
        };
        tx.execute(q("DELETE FROM uploads WHERE project_id = $1 AND kind = $2").id(project_id).text(kind)).await?;
        tx.commit().await?;
        Ok(Some(current))
    }

    async fn upload_keys(&self) -> StoreResult<Vec<String>> {
        let rows = self.db.fetch_all(q("SELECT object_key FROM uploads")).await?;
        rows.iter().map(|row| row.text("object_key")).collect()
    }
}
