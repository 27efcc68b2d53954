//! Checkpoints off the write path.
//!
//! In WAL mode every commit appends pages to the log, and a checkpoint
//! copies them back into the database file (and syncs it) so that the log
//! can start over. Left to SQLite, the connection whose commit crosses the
//! threshold runs the whole checkpoint inside that commit — on the one
//! writer, while every queued write waits (at 32 concurrent creates that was
//! most of the p99). Here a thread of its own, on a connection of its own,
//! is woken by each commit and copies what the log holds while the writer
//! goes on appending, at most once per [`PAUSE`]. The writer still runs
//! SQLite's checkpoint when the log reaches [`WRITER_CHECKPOINT_PAGES`]: by
//! then nearly everything is copied, so it is short, and it is what lets
//! the log start over (a checkpoint racing the writer never quite catches
//! up); it also bounds the log should this thread stop.
//!
//! Durability is unchanged: a commit is durable once in the log; where its
//! pages are copied later does not matter. An idle store's thread sleeps.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use basic_admin_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};

use crate::error::map_err;

/// The least time between two checkpoints while writes go on.
pub(crate) const PAUSE: Duration = Duration::from_millis(10);

/// The log size (pages) at which the writer checkpoints itself and the log
/// starts over: 16 MiB, about a second of creates at full speed.
pub(crate) const WRITER_CHECKPOINT_PAGES: u32 = 4_096;

pub(crate) struct Checkpointer {
    thread: Thread,
    stopping: Arc<AtomicBool>,
    running: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(map_err)?;
        crate::configure(&conn)?;
        let stopping = Arc::new(AtomicBool::new(false));
        let running = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn({
                let stopping = stopping.clone();
                move || loop {
                    std::thread::park();
                    if stopping.load(Ordering::Acquire) {
                        break;
                    }
                    checkpoint(&conn);
                    std::thread::sleep(PAUSE);
                }
            })
            .map_err(|e| StoreError::Other(format!("starting the checkpoint thread: {e}")))?;
        Ok(Self { thread: running.thread().clone(), stopping, running: Mutex::new(Some(running)) })
    }

    /// There are new commits to copy.
    pub(crate) fn wake(&self) {
        self.thread.unpark();
    }

    /// Stops the thread (after the checkpoint it may be running).
    pub(crate) async fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.thread.unpark();
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(thread) = running {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Checkpointer {
    /// A store dropped without being closed lets its thread end too.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Copies what it can without waiting for anyone (PASSIVE): frames that a
/// reader may still need stay in the log until the next time.
fn checkpoint(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "a background checkpoint failed; the writer checkpoints when the log is full");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use basic_admin_store_sql::{Db as _, Query};

    use super::*;

    /// The database file alone, as a copy would see it without its log.
    fn rows_in_the_file(path: &std::path::Path) -> i64 {
        let copy = tempfile::NamedTempFile::new().unwrap();
        std::fs::copy(path, copy.path()).unwrap();
        let conn = rusqlite::Connection::open(copy.path()).unwrap();
        conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0)).unwrap_or(0)
    }

    #[tokio::test]
    async fn commits_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ckpt.db");
        let store = crate::open(&format!("sqlite://{}", path.display())).await.unwrap();
        store.db().execute(Query::dynamic("CREATE TABLE t (n INTEGER PRIMARY KEY)".into())).await.unwrap();
        for n in 0..10 {
            store.db().execute(Query::dynamic("INSERT INTO t (n) VALUES ($1)".into()).int(n)).await.unwrap();
        }
        // Far below the writer's own threshold: only the thread copies them.
        let deadline = Instant::now() + Duration::from_secs(10);
        while rows_in_the_file(&path) < 10 {
            assert!(Instant::now() < deadline, "the commits never reached the database file");
            tokio::time::sleep(PAUSE).await;
        }
        store.db().close().await;
    }
}
