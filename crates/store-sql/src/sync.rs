//! The change log of live sync: every write to a user's records takes the
//! next revision of the user's database and rewrites the record's one log
//! entry, in the transaction of the write.

use async_trait::async_trait;
use basic_admin_core::model::ItemId;
use basic_admin_core::store::{
    Applied, Decide, LogPosition, LoggedRecord, Step, StoreError, StoreResult, SyncBatch, SyncRefusal, SyncStore,
};
use basic_admin_core::sync::{Edit, History, RecordLog, Stamp};
use basic_admin_core::time::Timestamp;
use uuid::Uuid;

use crate::users::{item_by_id, take_seq, unknown_user};
use crate::{Db, Row, SqlStore, Tx, q};

pub(crate) type DynTx<R> = Box<dyn Tx<Row = R>>;

/// Takes the user's next revision; the row stays locked until the
/// transaction ends, so one user's writes commit in revision order.
pub(crate) async fn next_revision<R: Row + 'static>(
    tx: &mut DynTx<R>,
    project_id: Uuid,
    user_did: &str,
) -> StoreResult<i64> {
    let row = tx
        .fetch_one(
            q("INSERT INTO sync_databases (project_id, user_did, revision) VALUES ($1, $2, 1) \
               ON CONFLICT (project_id, user_did) DO UPDATE SET revision = sync_databases.revision + 1 \
               RETURNING revision")
            .id(project_id)
            .text(user_did),
        )
        .await?;
    row.int("revision")
}

fn record_log(row: &impl Row) -> StoreResult<RecordLog> {
    let history: History = serde_json::from_value(row.json("history")?)
        .map_err(|e| StoreError::Other(format!("a sync log entry's history is not readable: {e}")))?;
    Ok(RecordLog {
        revision: row.int("revision")?,
        deleted: row.boolean("deleted")?,
        source: row.opt_text("source")?,
        history,
    })
}

async fn log_entry<R: Row + 'static>(
    tx: &mut DynTx<R>,
    project_id: Uuid,
    user_did: &str,
    table: &str,
    id: &ItemId,
) -> StoreResult<Option<RecordLog>> {
    let query = q("SELECT revision, deleted, source, history FROM sync_log \
                   WHERE project_id = $1 AND user_did = $2 AND table_name = $3 AND item_id = $4")
    .id(project_id)
    .text(user_did)
    .text(table)
    .text(id.as_str());
    tx.fetch_optional(query).await?.as_ref().map(record_log).transpose()
}

/// Records `edit` of one record at `stamp` in the log.
pub(crate) async fn log_edit<R: Row + 'static>(
    tx: &mut DynTx<R>,
    project_id: Uuid,
    user_did: &str,
    table: &str,
    id: &ItemId,
    edit: &Edit,
    stamp: Stamp,
) -> StoreResult<()> {
    // Only an update keeps what was known of the record before.
    let before = match edit {
        Edit::Updated(_) => log_entry(tx, project_id, user_did, table, id).await?,
        Edit::Created | Edit::Deleted => None,
    };
    let entry = edit.logged(before.as_ref(), stamp);
    let history = serde_json::to_value(&entry.history).map_err(|e| StoreError::Other(e.to_string()))?;
    tx.execute(
        q("INSERT INTO sync_log (project_id, user_did, table_name, item_id, revision, deleted, source, history) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
           ON CONFLICT (project_id, user_did, table_name, item_id) DO UPDATE SET revision = excluded.revision, \
           deleted = excluded.deleted, source = excluded.source, history = excluded.history")
        .id(project_id)
        .text(user_did)
        .text(table)
        .text(id.as_str())
        .int(entry.revision)
        .boolean(entry.deleted)
        .opt_text(entry.source)
        .json(&history),
    )
    .await?;
    Ok(())
}

/// Every live record of the user becomes a tombstone at revision `rev`
/// (the user is being deleted): their devices learn of it.
pub(crate) async fn log_all_deleted<R: Row + 'static>(
    tx: &mut DynTx<R>,
    project_id: Uuid,
    user_did: &str,
    rev: i64,
) -> StoreResult<()> {
    tx.execute(
        q("UPDATE sync_log SET revision = $3, deleted = $4, source = NULL, history = $5 \
           WHERE project_id = $1 AND user_did = $2 AND NOT deleted")
        .id(project_id)
        .text(user_did)
        .int(rev)
        .boolean(true)
        .json(&serde_json::json!({})),
    )
    .await?;
    Ok(())
}

#[async_trait]
impl<D: Db> SyncStore for SqlStore<D> {
    async fn sync_client(
        &self,
        project_id: Uuid,
        user_did: &str,
        offered: Option<&str>,
        fresh: &str,
        at: Timestamp,
    ) -> StoreResult<String> {
        if let Some(offered) = offered {
            let known =
                q("SELECT client_id FROM sync_clients WHERE client_id = $1 AND project_id = $2 AND user_did = $3")
                    .text(offered)
                    .id(project_id)
                    .text(user_did);
            if self.db.fetch_optional(known).await?.is_some() {
                return Ok(offered.to_owned());
            }
        }
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("INSERT INTO sync_databases (project_id, user_did, revision) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
                .id(project_id)
                .text(user_did),
        )
        .await?;
        tx.execute(
            q("INSERT INTO sync_clients (client_id, project_id, user_did, created_at) VALUES ($1, $2, $3, $4)")
                .text(fresh)
                .id(project_id)
                .text(user_did)
                .time(at),
        )
        .await?;
        tx.commit().await?;
        Ok(fresh.to_owned())
    }

    async fn sync_revision(&self, project_id: Uuid, user_did: &str) -> StoreResult<i64> {
        let query = q("SELECT revision FROM sync_databases WHERE project_id = $1 AND user_did = $2")
            .id(project_id)
            .text(user_did);
        Ok(match self.db.fetch_optional(query).await? {
            Some(row) => row.int("revision")?,
            None => 0,
        })
    }

    async fn sync_log(
        &self,
        project_id: Uuid,
        user_did: &str,
        after: &LogPosition,
        until: i64,
        limit: u32,
    ) -> StoreResult<Vec<LoggedRecord>> {
        // The entry and the value come from one statement: they agree.
        let query = q("SELECT l.table_name, l.item_id, l.revision, l.deleted, l.source, l.history, i.value \
                       FROM sync_log l LEFT JOIN user_items i ON i.project_id = l.project_id \
                       AND i.user_did = l.user_did AND i.table_name = l.table_name AND i.id = l.item_id \
                       WHERE l.project_id = $1 AND l.user_did = $2 AND l.revision <= $6 \
                       AND (l.revision > $3 OR (l.revision = $3 AND $4 <> '' AND (l.table_name > $4 \
                            OR (l.table_name = $4 AND l.item_id > $5)))) \
                       ORDER BY l.revision, l.table_name, l.item_id LIMIT $7")
        .id(project_id)
        .text(user_did)
        .int(after.revision)
        .text(after.table.clone())
        .text(after.id.clone())
        .int(until)
        .int(i64::from(limit));
        let rows = self.db.fetch_all(query).await?;
        rows.iter()
            .map(|row| {
                let id = row.text("item_id")?;
                let log = record_log(row)?;
                Ok(LoggedRecord {
                    table: row.text("table_name")?,
                    id: ItemId::parse(&id).map_err(|_| StoreError::Other(format!("logged id {id:?} is not an id")))?,
                    value: if log.deleted { None } else { Some(row.json("value")?) },
                    log,
                })
            })
            .collect()
    }

    async fn sync_apply(&self, batch: SyncBatch<'_>, decide: &Decide<'_>) -> StoreResult<Result<Applied, SyncRefusal>> {
        let (project_id, user_did) = (batch.project_id, batch.user_did);
        let mut tx = self.db.begin().await?;
        let rev = next_revision(&mut tx, project_id, user_did).await?;
        let mut stored = 0;
        for (index, change) in batch.changes.iter().enumerate() {
            let (table, id) = (change.table(), change.key());
            let current = item_by_id(&mut tx, project_id, user_did, table, id).await?;
            let entry = log_entry(&mut tx, project_id, user_did, table, id).await?;
            let step = match decide(change, current.as_ref(), entry.as_ref()) {
                Ok(step) => step,
                Err(reason) => return Ok(Err(SyncRefusal::Invalid { index, reason })),
            };
            let stamp = |echo: bool| Stamp { rev, by: (!echo).then(|| batch.source.to_owned()) };
            match step {
                Step::Skip => continue,
                Step::Put { value, edit, echo } => {
                    if current.is_some() {
                        tx.execute(
                            q("UPDATE user_items SET value = $5, updated_at = $6 \
                               WHERE project_id = $1 AND user_did = $2 AND table_name = $3 AND id = $4")
                            .id(project_id)
                            .text(user_did)
                            .text(table)
                            .text(id.as_str())
                            .json(&value)
                            .time(batch.at),
                        )
                        .await?;
                    } else {
                        let Some(seq) = take_seq(&mut tx, project_id, user_did, table, batch.max_records).await? else {
                            return Ok(Err(SyncRefusal::TableFull { index, table: table.to_owned() }));
                        };
                        tx.execute(
                            q("INSERT INTO user_items (id, project_id, user_did, table_name, value, created_at, updated_at, seq) \
                               VALUES ($1, $2, $3, $4, $5, $6, $6, $7)")
                            .text(id.as_str())
                            .id(project_id)
                            .text(user_did)
                            .text(table)
                            .json(&value)
                            .time(batch.at)
                            .int(seq),
                        )
                        .await
                        .map_err(unknown_user)?;
                    }
                    log_edit(&mut tx, project_id, user_did, table, id, &edit, stamp(echo)).await?;
                }
                Step::Remove { echo } => {
                    if current.is_none() {
                        continue;
                    }
                    crate::users::remove_item(&mut tx, project_id, user_did, table, id).await?;
                    log_edit(&mut tx, project_id, user_did, table, id, &Edit::Deleted, stamp(echo)).await?;
                }
            }
            stored += 1;
        }
        if stored == 0 {
            // Dropping the transaction gives the revision back.
            return Ok(Ok(Applied { revision: None, stored }));
        }
        tx.commit().await?;
        Ok(Ok(Applied { revision: Some(rev), stored }))
    }
}
