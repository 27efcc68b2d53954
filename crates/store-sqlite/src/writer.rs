//! The one write connection, with group commit.
//!
//! Writers take turns on the connection. A turn runs inside a savepoint of
//! a transaction that the turns share: when a write finishes while others
//! are queued, it releases its savepoint and leaves the transaction open for
//! them, and the last of the queue (or the [`MAX_BATCH`]th write) commits
//! for all. Every write is answered only after the commit that holds it, so
//! an acknowledged write is as durable as with a commit of its own; a write
//! that fails rolls back to its savepoint and fails alone. Nothing waits for
//! company: a lone write commits at once, and a batch is only ever the
//! writes that were already queued.
//!
//! Statements run on the calling task, which holds the connection for its
//! turn: SQLite answers from memory in microseconds, and a hand-off to
//! another thread per statement cost more than the statement.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use basic_admin_core::store::{StoreError, StoreResult};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::error::map_err;

/// The most writes one commit holds, so that the first of a long queue is
/// not kept waiting for the whole queue.
pub const MAX_BATCH: usize = 64;

pub(crate) struct Writer {
    shared: Arc<Shared>,
}

struct Shared {
    batch: Arc<Mutex<Batch>>,
    /// Writers waiting for their turn: while there are any, a finished write
    /// leaves the transaction open for them.
    queued: AtomicUsize,
    commits: AtomicU64,
    writes: AtomicU64,
    /// Called after every commit.
    committed: Box<dyn Fn() + Send + Sync>,
}

struct Batch {
    /// `None` once the store is closed.
    conn: Option<rusqlite::Connection>,
    /// The writes released into the open transaction, waiting for its commit.
    waiting: Vec<oneshot::Sender<StoreResult<()>>>,
}

/// What group commit has done since the store opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Transactions committed.
    pub commits: u64,
    /// Writes those transactions held.
    pub writes: u64,
}

impl Writer {
    /// A writer on `conn`; `committed` is called after each commit.
    pub(crate) fn new(conn: rusqlite::Connection, committed: Box<dyn Fn() + Send + Sync>) -> Self {
        let batch = Batch { conn: Some(conn), waiting: Vec::new() };
        Self {
            shared: Arc::new(Shared {
                batch: Arc::new(Mutex::new(batch)),
                queued: AtomicUsize::new(0),
                commits: AtomicU64::new(0),
                writes: AtomicU64::new(0),
                committed,
            }),
        }
    }

    pub(crate) fn stats(&self) -> BatchStats {
        BatchStats {
            commits: self.shared.commits.load(Ordering::Relaxed),
            writes: self.shared.writes.load(Ordering::Relaxed),
        }
    }

    /// Waits for this write's turn and opens its savepoint.
    pub(crate) async fn begin(&self) -> StoreResult<WriteTx> {
        let ticket = Ticket::take(&self.shared);
        let batch = self.shared.batch.clone().lock_owned().await;
        ticket.served();
        let mut tx = WriteTx { batch: Some(batch), shared: self.shared.clone(), open: false };
        let conn = tx.conn()?;
        if conn.is_autocommit() {
            // IMMEDIATE: the file's write lock is taken now, or not at all.
            run(conn, "BEGIN IMMEDIATE")?;
        }
        run(conn, "SAVEPOINT write")?;
        tx.open = true;
        Ok(tx)
    }

    /// Commits what is pending and closes the connection.
    pub(crate) async fn close(&self) {
        let mut batch = self.shared.batch.lock().await;
        if batch.conn.as_ref().is_some_and(|conn| !conn.is_autocommit()) {
            commit(&mut batch, &self.shared);
        }
        batch.conn = None;
    }
}

/// One write's turn on the connection. Dropped without [`WriteTx::commit`],
/// it rolls back to its savepoint.
pub(crate) struct WriteTx {
    batch: Option<OwnedMutexGuard<Batch>>,
    shared: Arc<Shared>,
    /// Whether this write's savepoint is open.
    open: bool,
}

impl WriteTx {
    pub(crate) fn conn(&self) -> StoreResult<&rusqlite::Connection> {
        self.batch
            .as_ref()
            .and_then(|batch| batch.conn.as_ref())
            .ok_or_else(|| StoreError::Unavailable("the database is closed".into()))
    }

    /// Releases the savepoint into the shared transaction and waits for the
    /// commit that holds it.
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        let Some(mut batch) = self.batch.take() else {
            return Err(StoreError::Unavailable("the database is closed".into()));
        };
        self.open = false;
        let released = match batch.conn.as_ref() {
            // SQLite ends the whole transaction on some errors (a full disk):
            // then the writes before this one are gone with it.
            Some(conn) if conn.is_autocommit() => {
                Err(StoreError::Unavailable("the transaction was rolled back".into()))
            }
            Some(conn) => run(conn, "RELEASE write"),
            None => Err(StoreError::Unavailable("the database is closed".into())),
        };
        if let Err(e) = released {
            roll_back(&mut batch);
            end_turn(&mut batch, &self.shared);
            return Err(e);
        }
        let (sender, receiver) = oneshot::channel();
        batch.waiting.push(sender);
        end_turn(&mut batch, &self.shared);
        drop(batch);
        receiver.await.unwrap_or_else(|_| Err(StoreError::Unavailable("the write was never committed".into())))
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(mut batch) = self.batch.take() {
            if self.open {
                roll_back(&mut batch);
            }
            end_turn(&mut batch, &self.shared);
        }
    }
}

/// Undoes the current write alone; if that cannot be done, the whole
/// transaction is rolled back and every write waiting in it fails.
fn roll_back(batch: &mut Batch) {
    let Some(conn) = batch.conn.as_ref() else { return };
    let undone = if conn.is_autocommit() {
        Err("the transaction was rolled back".to_owned())
    } else {
        conn.execute_batch("ROLLBACK TO write; RELEASE write").map_err(|e| e.to_string())
    };
    if let Err(reason) = undone {
        tracing::error!(%reason, writes = batch.waiting.len(), "a batch of writes was rolled back");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for sender in batch.waiting.drain(..) {
            let _ = sender.send(Err(StoreError::Unavailable(format!("the batch was rolled back: {reason}"))));
        }
    }
}

/// After a turn: commits unless other writers are queued to carry the
/// transaction on (and the batch still has room).
fn end_turn(batch: &mut Batch, shared: &Shared) {
    let open = batch.conn.as_ref().is_some_and(|conn| !conn.is_autocommit());
    if !open {
        return;
    }
    if shared.queued.load(Ordering::Acquire) > 0 && batch.waiting.len() < MAX_BATCH {
        return;
    }
    commit(batch, shared);
}

fn commit(batch: &mut Batch, shared: &Shared) {
    let Some(conn) = batch.conn.as_ref() else { return };
    let committed = run(conn, "COMMIT");
    match &committed {
        Ok(()) => {
            shared.commits.fetch_add(1, Ordering::Relaxed);
            shared.writes.fetch_add(batch.waiting.len() as u64, Ordering::Relaxed);
            (shared.committed)();
        }
        Err(e) => {
            tracing::error!(error = %e, writes = batch.waiting.len(), "a batch of writes did not commit");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
    }
    for sender in batch.waiting.drain(..) {
        let _ = sender.send(committed.clone());
    }
}

/// Runs one of the statements that open and close transactions and
/// savepoints, prepared once per connection rather than at every write.
fn run(conn: &rusqlite::Connection, sql: &'static str) -> StoreResult<()> {
    conn.prepare_cached(sql).and_then(|mut statement| statement.execute([])).map(drop).map_err(map_err)
}

/// A writer's place in the queue, counted while it waits.
struct Ticket {
    shared: Arc<Shared>,
    served: bool,
}

impl Ticket {
    fn take(shared: &Arc<Shared>) -> Self {
        shared.queued.fetch_add(1, Ordering::AcqRel);
        Self { shared: shared.clone(), served: false }
    }

    fn served(mut self) {
        self.shared.queued.fetch_sub(1, Ordering::AcqRel);
        self.served = true;
    }
}

impl Drop for Ticket {
    /// A writer that gave up waiting (its request was cancelled) may have
    /// been the one the open transaction was left for: someone else ends it.
    fn drop(&mut self) {
        if self.served {
            return;
        }
        self.shared.queued.fetch_sub(1, Ordering::AcqRel);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let shared = self.shared.clone();
            runtime.spawn(async move {
                let mut batch = shared.batch.clone().lock_owned().await;
                end_turn(&mut batch, &shared);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn writer() -> Arc<Writer> {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)").unwrap();
        Arc::new(Writer::new(conn, Box::new(|| {})))
    }

    async fn insert(writer: &Writer, n: i64) -> StoreResult<()> {
        let tx = writer.begin().await?;
        tx.conn()?.execute("INSERT INTO t VALUES (?1)", [n]).map_err(map_err)?;
        tx.commit().await
    }

    /// A write that holds the turn, having inserted `n`.
    async fn holding(writer: &Writer, n: i64) -> WriteTx {
        let tx = writer.begin().await.unwrap();
        tx.conn().unwrap().execute("INSERT INTO t VALUES (?1)", [n]).unwrap();
        tx
    }

    fn spawn_insert(writer: &Arc<Writer>, n: i64) -> tokio::task::JoinHandle<StoreResult<()>> {
        let writer = writer.clone();
        tokio::spawn(async move { insert(&writer, n).await })
    }

    async fn rows(writer: &Writer) -> Vec<i64> {
        let tx = writer.begin().await.unwrap();
        let conn = tx.conn().unwrap();
        let mut statement = conn.prepare("SELECT n FROM t ORDER BY n").unwrap();
        statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
    }

    async fn queued(writer: &Writer, n: usize) {
        while writer.shared.queued.load(Ordering::Acquire) < n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_lone_write_commits_at_once() {
        let writer = writer();
        insert(&writer, 1).await.unwrap();
        assert_eq!(writer.stats(), BatchStats { commits: 1, writes: 1 });
        assert_eq!(rows(&writer).await, [1]);
    }

    #[tokio::test]
    async fn queued_writes_commit_together_and_a_failing_one_fails_alone() {
        let writer = writer();
        let first = holding(&writer, 1).await;
        // Three writers queue behind the first; the second repeats its key.
        let queue: Vec<_> = [2, 1, 3].into_iter().map(|n| spawn_insert(&writer, n)).collect();
        queued(&writer, 3).await;
        first.commit().await.unwrap();
        let results: Vec<_> = futures_util::future::join_all(queue).await.into_iter().map(Result::unwrap).collect();
        assert!(results[0].is_ok());
        assert!(matches!(results[1], Err(StoreError::Unique(_))), "{:?}", results[1]);
        assert!(results[2].is_ok());
        assert_eq!(writer.stats(), BatchStats { commits: 1, writes: 3 }, "one commit held the three good writes");
        assert_eq!(rows(&writer).await, [1, 2, 3]);
    }

    #[tokio::test]
    async fn a_write_dropped_unfinished_leaves_nothing_behind() {
        let writer = writer();
        let first = holding(&writer, 1).await;
        let later = spawn_insert(&writer, 2);
        queued(&writer, 1).await;
        drop(first);
        later.await.unwrap().unwrap();
        assert_eq!(rows(&writer).await, [2]);
    }

    #[tokio::test]
    async fn a_writer_that_gives_up_waiting_does_not_hold_the_batch_open() {
        let writer = writer();
        let first = holding(&writer, 1).await;
        let gives_up = spawn_insert(&writer, 2);
        queued(&writer, 1).await;
        // The first leaves the transaction open for the one queued...
        let mut committing = Box::pin(first.commit());
        assert!(futures_util::poll!(&mut committing).is_pending(), "the first waits for the queue");
        // ...which is cancelled before its turn.
        gives_up.abort();
        let committed = tokio::time::timeout(Duration::from_secs(5), committing).await;
        committed.expect("the batch is committed without the writer that left").unwrap();
        assert!(gives_up.await.unwrap_err().is_cancelled());
        assert_eq!(rows(&writer).await, [1]);
    }

    #[tokio::test]
    async fn a_batch_holds_at_most_max_batch_writes() {
        let writer = writer();
        let first = writer.begin().await.unwrap();
        let queue: Vec<_> = (1..=(MAX_BATCH as i64 + 10)).map(|n| spawn_insert(&writer, n)).collect();
        queued(&writer, MAX_BATCH + 10).await;
        drop(first);
        for done in futures_util::future::join_all(queue).await {
            done.unwrap().unwrap();
        }
        let stats = writer.stats();
        assert_eq!(stats.writes, MAX_BATCH as u64 + 10);
        assert_eq!(stats.commits, 2, "a full batch commits though writers are still queued");
    }
}
