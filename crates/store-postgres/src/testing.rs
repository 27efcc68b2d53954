//! Throw-away PostgreSQL schemas for tests, so tests can run in parallel on
//! one database and leave nothing behind.
//!
//! The server to use is `TEST_DATABASE_URL`. When that is set, PostgreSQL
//! tests are mandatory: an unreachable server fails them. When it is not,
//! the local default (`postgres://postgres@127.0.0.1:5432/postgres`) is tried,
//! and if it cannot be reached the tests say so and skip.

use std::io::Write as _;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A schema that exists until this value is dropped.
pub struct TestSchema {
    server_url: String,
    name: String,
}

impl TestSchema {
    /// Creates a fresh schema, or returns `None` (after saying so on stderr)
    /// when PostgreSQL is optional and not reachable. `test` names the caller
    /// in that message.
    pub async fn create(test: &str) -> Option<Self> {
        let (server_url, mandatory) = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => (url, true),
            _ => (DEFAULT_URL.to_owned(), false),
        };
        let connect = tokio::time::timeout(Duration::from_secs(5), connect(&server_url));
        let mut conn = match connect.await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) if mandatory => {
                panic!("TEST_DATABASE_URL is set but PostgreSQL refused: {e}")
            }
            Err(_) if mandatory => panic!("TEST_DATABASE_URL is set but PostgreSQL did not answer"),
            _ => {
                skip_notice(test);
                return None;
            }
        };
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut conn)
            .await
            .expect("create test schema");
        conn.close().await.ok();
        Some(Self { server_url, name })
    }

    /// A URL whose connections see only this schema.
    pub fn url(&self) -> String {
        let separator = if self.server_url.contains('?') { '&' } else { '?' };
        format!("{}{separator}options=-c%20search_path%3D{}", self.server_url, self.name)
    }

    /// The server's URL, for connections that must not be confined to the schema.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Drop may run inside a runtime that is shutting down: use a thread
        // with a runtime of its own.
        let url = self.server_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut conn = connect(&url).await.ok()?;
                sqlx::query(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE")))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        });
        let _ = dropped.join();
    }
}

async fn connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    PgConnectOptions::from_str(url)?.disable_statement_logging().connect().await
}

/// Writes past the test harness's output capture, so that a skipped test is
/// visible in a passing run.
fn skip_notice(test: &str) {
    static EXPLAINED: AtomicBool = AtomicBool::new(false);
    let mut err = std::io::stderr().lock();
    if !EXPLAINED.swap(true, Ordering::Relaxed) {
        let _ = writeln!(
            err,
            "\nNOTE: PostgreSQL is not reachable at {DEFAULT_URL} and TEST_DATABASE_URL is not set: \
             the PostgreSQL variants of the tests are SKIPPED (they pass without running)."
        );
    }
    let _ = writeln!(err, "SKIPPED (no PostgreSQL): {test}");
}
