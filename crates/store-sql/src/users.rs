use async_trait::async_trait;
use basic_admin_core::model::ItemId;
use basic_admin_core::store::{
    Connection, IdentityKey, IdentityKeyStore, Item, ItemCursor, ItemStore, ItemText, ProjectUser, ProjectUserStore,
    StoreError, StoreResult, UserStatus,
};
use basic_admin_core::sync::{Edit, Stamp};
use basic_admin_core::time::Timestamp;
use chrono::NaiveDate;
use serde_json::Value;
use uuid::Uuid;

use crate::sync::{DynTx, log_all_deleted, log_edit, next_revision};
use crate::{Db, Dialect, Query, Row, SqlStore, q};

/// A user with their account's name and email (`u` joined with `a`).
const SELECT_USERS: &str = "SELECT u.id, u.project_id, u.user_did, u.pds_url, u.status, u.meta, u.account_id, \
     u.scopes, u.last_seen_at, u.created_at, u.updated_at, a.name AS account_name, a.email AS account_email \
     FROM project_users u LEFT JOIN accounts a ON a.id = u.account_id";

fn user(row: &impl Row) -> StoreResult<ProjectUser> {
    Ok(ProjectUser {
        id: row.id("id")?,
        project_id: row.id("project_id")?,
        user_did: row.text("user_did")?,
        pds_url: row.text("pds_url")?,
        status: {
            let status = row.text("status")?;
            UserStatus::parse(&status).ok_or_else(|| StoreError::Other(format!("unknown user status {status:?}")))?
        },
        meta: row.json("meta")?,
        account_id: row.opt_id("account_id")?,
        scopes: row.text("scopes")?,
        account_name: row.opt_text("account_name")?,
        account_email: row.opt_text("account_email")?,
        last_seen_at: row.time("last_seen_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

const ITEM_COLUMNS: &str = "id, project_id, user_did, table_name, seq, value, created_at, updated_at";

/// `columns` of up to `limit` items of one table, in creation order, after `after`.
fn table_page(
    columns: &str,
    project_id: Uuid,
    user_did: &str,
    table: &str,
    after: Option<&ItemCursor>,
    limit: u32,
) -> Query {
    let sql = format!(
        "SELECT {columns} FROM user_items WHERE project_id = $1 AND user_did = $2 AND table_name = $3 \
         AND (seq > $4 OR (seq = $4 AND id > $5)) ORDER BY seq, id LIMIT $6"
    );
    Query::dynamic(sql)
        .id(project_id)
        .text(user_did)
        .text(table)
        // Without a cursor: from before the first (`seq` starts at 1).
        .int(after.map_or(-1, |c| c.seq))
        .text(after.map_or("", |c| c.id.as_str()))
        .int(i64::from(limit))
}

fn item_id(row: &impl Row) -> StoreResult<ItemId> {
    let id = row.text("id")?;
    ItemId::parse(&id).map_err(|_| StoreError::Other(format!("stored item id {id:?} is not an id")))
}

fn item(row: &impl Row) -> StoreResult<Item> {
    Ok(Item {
        id: item_id(row)?,
        project_id: row.id("project_id")?,
        user_did: row.text("user_did")?,
        table: row.text("table_name")?,
        seq: row.int("seq")?,
        value: row.json("value")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// A write that names a user the project does not have.
pub(crate) fn unknown_user(e: StoreError) -> StoreError {
    match e {
        StoreError::ForeignKey => StoreError::NotFound,
        other => other,
    }
}

fn count(row: &impl Row) -> StoreResult<u64> {
    Ok(row.int("n")?.max(0) as u64)
}

#[async_trait]
impl<D: Db> ProjectUserStore for SqlStore<D> {
    async fn connect_user(&self, c: Connection) -> StoreResult<ProjectUser> {
        let mut tx = self.db.begin().await?;
        let sql = q(
            "INSERT INTO project_users (id, project_id, user_did, pds_url, status, meta, account_id, scopes, last_seen_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $8, $8) \
             ON CONFLICT (project_id, user_did) DO UPDATE SET pds_url = excluded.pds_url, status = 'active', \
             account_id = excluded.account_id, scopes = excluded.scopes, last_seen_at = excluded.last_seen_at, \
             updated_at = excluded.updated_at",
        );
        let user_did = c.user_did.clone();
        let query = sql
            .id(c.id)
            .id(c.project_id)
            .text(c.user_did.clone())
            .text(c.pds_url)
            .json(&Value::Object(Default::default()))
            .opt_id(c.account_id)
            .text(c.scopes)
            .time(c.at);
        tx.execute(query).await?;
        tx.execute(
            q("INSERT INTO user_activity (project_id, user_did, day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .id(c.project_id)
                .text(c.user_did)
                .date(c.at.date_naive()),
        )
        .await?;
        let sql = format!("{SELECT_USERS} WHERE u.project_id = $1 AND u.user_did = $2");
        let connected = user(&tx.fetch_one(Query::dynamic(sql).id(c.project_id).text(user_did)).await?)?;
        tx.commit().await?;
        Ok(connected)
    }

    async fn record_activity(&self, project_id: Uuid, user_did: &str, day: NaiveDate) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO user_activity (project_id, user_did, day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .id(project_id)
                    .text(user_did)
                    .date(day),
            )
            .await
            .map(drop)
            .map_err(unknown_user)
    }

    async fn project_users(&self, project_id: Uuid) -> StoreResult<Vec<ProjectUser>> {
        let sql = format!("{SELECT_USERS} WHERE u.project_id = $1 ORDER BY u.created_at, u.id");
        self.db.fetch_all(Query::dynamic(sql).id(project_id)).await?.iter().map(user).collect()
    }

    async fn project_user(&self, project_id: Uuid, user_did: &str) -> StoreResult<Option<ProjectUser>> {
        let sql = format!("{SELECT_USERS} WHERE u.project_id = $1 AND u.user_did = $2");
        self.db.fetch_optional(Query::dynamic(sql).id(project_id).text(user_did)).await?.as_ref().map(user).transpose()
    }

    async fn update_user_meta(
        &self,
        project_id: Uuid,
        user_did: &str,
        meta: &Value,
        expected: Timestamp,
        at: Timestamp,
    ) -> StoreResult<ProjectUser> {
        let query = q("UPDATE project_users SET meta = $3, updated_at = $5 \
                       WHERE project_id = $1 AND user_did = $2 AND updated_at = $4")
        .id(project_id)
        .text(user_did)
        .json(meta)
        .time(expected)
        .time(at);
        let changed = self.db.execute(query).await? > 0;
        match self.project_user(project_id, user_did).await? {
            Some(user) if changed => Ok(user),
            Some(_) => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        }
    }

    async fn delete_user(&self, project_id: Uuid, user_did: &str) -> StoreResult<()> {
        // Activity and items go with the user (ON DELETE CASCADE); their
        // devices are told through tombstones.
        let mut tx = self.db.begin().await?;
        let rev = next_revision(&mut tx, project_id, user_did).await?;
        let deleted = tx
            .execute(
                q("DELETE FROM project_users WHERE project_id = $1 AND user_did = $2").id(project_id).text(user_did),
            )
            .await?;
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        log_all_deleted(&mut tx, project_id, user_did, rev).await?;
        tx.commit().await
    }

    async fn user_count(&self, project_id: Uuid) -> StoreResult<u64> {
        count(
            &self
                .db
                .fetch_one(q("SELECT COUNT(*) AS n FROM project_users WHERE project_id = $1").id(project_id))
                .await?,
        )
    }

    async fn active_users(&self, project_id: Uuid, since: NaiveDate) -> StoreResult<u64> {
        let query = q("SELECT COUNT(DISTINCT user_did) AS n FROM user_activity WHERE project_id = $1 AND day >= $2")
            .id(project_id)
            .date(since);
        count(&self.db.fetch_one(query).await?)
    }

    async fn daily_active(&self, project_id: Uuid, since: NaiveDate) -> StoreResult<Vec<(NaiveDate, u64)>> {
        let query = q("SELECT day, COUNT(*) AS n FROM user_activity WHERE project_id = $1 AND day >= $2 \
                       GROUP BY day ORDER BY day")
        .id(project_id)
        .date(since);
        self.db.fetch_all(query).await?.iter().map(|row| Ok((row.date("day")?, count(row)?))).collect()
    }
}

#[async_trait]
impl<D: Db> ItemStore for SqlStore<D> {
    async fn create_item(&self, i: Item, max_records: u64) -> StoreResult<Option<Item>> {
        let mut tx = self.db.begin().await?;
        let rev = next_revision(&mut tx, i.project_id, &i.user_did).await?;
        log_edit(&mut tx, i.project_id, &i.user_did, &i.table, &i.id, &Edit::Created, Stamp { rev, by: None }).await?;
        let Some(seq) = take_seq(&mut tx, i.project_id, &i.user_did, &i.table, max_records).await? else {
            return Ok(None);
        };
        // Stored as given (times are to the millisecond, which both backends
        // keep exactly): nothing needs reading back.
        let query =
            q("INSERT INTO user_items (id, project_id, user_did, table_name, value, created_at, updated_at, seq) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .text(i.id.as_str())
            .id(i.project_id)
            .text(i.user_did.clone())
            .text(i.table.clone())
            .json(&i.value)
            .time(i.created_at)
            .time(i.updated_at)
            .int(seq);
        tx.execute(query).await.map_err(unknown_user)?;
        tx.commit().await?;
        Ok(Some(Item { seq, ..i }))
    }

    async fn item_texts(
        &self,
        project_id: Uuid,
        user_did: &str,
        table: &str,
        after: Option<&ItemCursor>,
        limit: u32,
    ) -> StoreResult<Vec<ItemText>> {
        // SQLite keeps the text as written; PostgreSQL writes its jsonb out.
        let value = match self.db.dialect() {
            Dialect::Postgres => "value::text AS value",
            Dialect::Sqlite => "value",
        };
        let query = table_page(&format!("id, seq, {value}"), project_id, user_did, table, after, limit);
        let rows = self.db.fetch_all(query).await?;
        rows.iter()
            .map(|row| Ok(ItemText { id: item_id(row)?, seq: row.int("seq")?, value: row.text("value")? }))
            .collect()
    }

    async fn item(&self, project_id: Uuid, user_did: &str, table: &str, id: &ItemId) -> StoreResult<Option<Item>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM user_items WHERE project_id = $1 AND user_did = $2 AND table_name = $3 AND id = $4"
        );
        let query = Query::dynamic(sql).id(project_id).text(user_did).text(table).text(id.as_str());
        self.db.fetch_optional(query).await?.as_ref().map(item).transpose()
    }

    async fn item_count(&self, project_id: Uuid, user_did: &str, table: &str) -> StoreResult<u64> {
        let query =
            q("SELECT COUNT(*) AS n FROM user_items WHERE project_id = $1 AND user_did = $2 AND table_name = $3")
                .id(project_id)
                .text(user_did)
                .text(table);
        count(&self.db.fetch_one(query).await?)
    }

    async fn replace_item(
        &self,
        i: &Item,
        value: &Value,
        edit: &Edit,
        expected: Option<Timestamp>,
        at: Timestamp,
    ) -> StoreResult<Item> {
        let mut tx = self.db.begin().await?;
        // The revision first: every write takes the user's locks in one order.
        let rev = next_revision(&mut tx, i.project_id, &i.user_did).await?;
        let sql = format!(
            "UPDATE user_items SET value = $5, updated_at = $7 \
             WHERE project_id = $1 AND user_did = $2 AND table_name = $3 AND id = $4 \
             AND ($6 IS NULL OR updated_at = $6) RETURNING {ITEM_COLUMNS}"
        );
        let query = Query::dynamic(sql)
            .id(i.project_id)
            .text(i.user_did.clone())
            .text(i.table.clone())
            .text(i.id.as_str())
            .json(value)
            .opt_time(expected)
            .time(at);
        let Some(row) = tx.fetch_optional(query).await? else {
            drop(tx);
            return match self.item(i.project_id, &i.user_did, &i.table, &i.id).await? {
                Some(_) => Err(StoreError::Stale),
                None => Err(StoreError::NotFound),
            };
        };
        let replaced = item(&row)?;
        log_edit(&mut tx, i.project_id, &i.user_did, &i.table, &i.id, edit, Stamp { rev, by: None }).await?;
        tx.commit().await?;
        Ok(replaced)
    }

    async fn delete_item(&self, project_id: Uuid, user_did: &str, table: &str, id: &ItemId) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let rev = next_revision(&mut tx, project_id, user_did).await?;
        if !remove_item(&mut tx, project_id, user_did, table, id).await? {
            return Err(StoreError::NotFound);
        }
        log_edit(&mut tx, project_id, user_did, table, id, &Edit::Deleted, Stamp { rev, by: None }).await?;
        tx.commit().await
    }
}

/// The item, as the transaction sees it.
pub(crate) async fn item_by_id<R: Row + 'static>(
    tx: &mut DynTx<R>,
    project_id: Uuid,
    user_did: &str,
    table: &str,
    id: &ItemId,
) -> StoreResult<Option<Item>> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM user_items WHERE project_id = $1 AND user_did = $2 AND table_name = $3 AND id = $4"
    );
    let query = Query::dynamic(sql).id(project_id).text(user_did).text(table).text(id.as_str());
    tx.fetch_optional(query).await?.as_ref().map(item).transpose()
}

/// Takes the table's next `seq` and counts one more record, in one
/// statement, or finds the table full (`None`).
pub(crate) async fn take_seq<R: Row + 'static>(
    tx: &mut DynTx<R>,
    project_id: Uuid,
    user_did: &str,
    table: &str,
    max_records: u64,
) -> StoreResult<Option<i64>> {
    let taken = tx
        .fetch_optional(
            q("INSERT INTO user_tables (project_id, user_did, table_name, records, last_seq) \
               VALUES ($1, $2, $3, 1, 1) \
               ON CONFLICT (project_id, user_did, table_name) DO UPDATE \
               SET records = user_tables.records + 1, last_seq = user_tables.last_seq + 1 \
               WHERE user_tables.records < $4 \
               RETURNING last_seq")
            .id(project_id)
            .text(user_did)
            .text(table)
            .int(i64::try_from(max_records).unwrap_or(i64::MAX)),
        )
        .await
        .map_err(unknown_user)?;
    taken.map(|row| row.int("last_seq")).transpose()
}

/// Deletes the item and counts it out of its table: whether there was one.
pub(crate) async fn remove_item<R: Row + 'static>(
    tx: &mut DynTx<R>,
    project_id: Uuid,
    user_did: &str,
    table: &str,
    id: &ItemId,
) -> StoreResult<bool> {
    let gone = tx
        .execute(
            q("DELETE FROM user_items WHERE project_id = $1 AND user_did = $2 AND table_name = $3 AND id = $4")
                .id(project_id)
                .text(user_did)
                .text(table)
                .text(id.as_str()),
        )
        .await?;
    if gone == 0 {
        return Ok(false);
    }
    tx.execute(
        q("UPDATE user_tables SET records = records - 1 WHERE project_id = $1 AND user_did = $2 AND table_name = $3")
            .id(project_id)
            .text(user_did)
            .text(table),
    )
    .await?;
    Ok(true)
}

#[async_trait]
impl<D: Db> IdentityKeyStore for SqlStore<D> {
    async fn identity_key(&self, project_id: Uuid) -> StoreResult<Option<IdentityKey>> {
        let query = q("SELECT project_id, public_key, sealed_private, created_at FROM project_identity_keys \
                       WHERE project_id = $1")
        .id(project_id);
        self.db.fetch_optional(query).await?.as_ref().map(identity_key).transpose()
    }

    async fn create_identity_key(&self, key: IdentityKey) -> StoreResult<IdentityKey> {
        self.db
            .execute(
                q("INSERT INTO project_identity_keys (project_id, public_key, sealed_private, created_at) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT (project_id) DO NOTHING")
                .id(key.project_id)
                .bytes(&key.public_key)
                .bytes(&key.sealed_private)
                .time(key.created_at),
            )
            .await?;
        self.identity_key(key.project_id).await?.ok_or(StoreError::NotFound)
    }
}

fn identity_key(row: &impl Row) -> StoreResult<IdentityKey> {
    Ok(IdentityKey {
        project_id: row.id("project_id")?,
        public_key: row.bytes("public_key")?,
        sealed_private: row.bytes("sealed_private")?,
        created_at: row.time("created_at")?,
    })
}
