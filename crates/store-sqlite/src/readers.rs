//! Read-only connections, reused. In WAL mode readers never wait for the
//! writer, and each sees the database as of its statement's start.
//!
//! A read runs on the calling task: the store's reads are indexed lookups
//! answered from SQLite's page cache, quicker than handing them to another
//! thread and back.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use basic_admin_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};

use crate::error::map_err;

pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// How many idle connections are kept (one per thread that may read).
    keep: usize,
    closed: AtomicBool,
}

impl Readers {
    pub(crate) fn new(path: PathBuf, keep: usize) -> Self {
        Self { path, idle: Mutex::new(Vec::new()), keep, closed: AtomicBool::new(false) }
    }

    pub(crate) fn open(&self) -> StoreResult<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(map_err)?;
        crate::configure(&conn)?;
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one).
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable("the database is closed".into()));
        }
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep && !self.closed.load(Ordering::Acquire) {
            idle.push(conn);
        }
        result
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

#[cfg(test)]
mod tests {
    use basic_admin_store_sql::q;
    use rusqlite::StatementStatus;

    use super::*;
    use crate::values::fetch_all;

    #[test]
    fn a_statement_is_planned_once_whatever_its_bound_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plans.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)").unwrap();
        let readers = Readers::new(path, 1);
        let sql = "SELECT n FROM t WHERE n > $1 ORDER BY n LIMIT $2";
        readers
            .read(|conn| {
                for limit in [1, 100, 7, 1000] {
                    fetch_all(conn, q(sql).int(limit).int(limit))?;
                }
                let statement = conn.prepare_cached(sql).unwrap();
                assert_eq!(statement.get_status(StatementStatus::RePrepare), 0, "prepared again for new values");
                Ok(())
            })
            .unwrap();
    }
}
