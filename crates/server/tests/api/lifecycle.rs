//! Starting, stopping, and losing the database: the server as a process and
//! as a library.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use basic_admin_server::state::AppState;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::harness::{Backend, Remote, Setup, TestApp, TestDb, json, on_both_backends};

pub const BINARY: &str = env!("CARGO_BIN_EXE_basic-admin");

/// The binary, run in `dir`, seeing none of the configuration this shell may hold.
pub fn binary(dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(dir)
        .env_remove("BASIC_MASTER_KEY")
        .env_remove("BASIC_DATABASE_URL")
        .env_remove("BASIC_DATA_DIR");
    command
}

fn with_slow_route() -> Setup {
    let routes: Router<AppState> = Router::new().route(
        "/test/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            "done"
        }),
    );
    Setup { extra_routes: Some(routes), ..Setup::default() }
}

on_both_backends!(with with_slow_route; shutdown_finishes_requests_in_flight);

async fn shutdown_finishes_requests_in_flight(mut app: TestApp) {
    let in_flight = tokio::spawn(app.get("/test/slow").send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.begin_shutdown();
    let response = in_flight.await.unwrap().expect("the request in flight is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    app.stop().await.expect("the server stops cleanly");
    let after = crate::harness::http().get(app.url("/")).send().await;
    assert!(after.is_err(), "no new connections after shutdown");
}

/// A TCP proxy to stand between the server and PostgreSQL; stopping it
/// cuts every connection, as a failed network or database host would.
struct Proxy {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { addr, task }
    }

    /// Dropping the task drops the listener and every connection with it.
    fn stop(self) {
        self.task.abort();
    }
}

async fn db_conn(app: &TestApp) -> Value {
    let (status, body) = json(app.get("/").send().await.unwrap()).await;
    assert_eq!(status, 200, "the root route answers whatever the database does");
    body["db_conn"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_is_reported_not_fatal() {
    let Some(db) = TestDb::create(Backend::Postgres, "lifecycle::postgres_going_away_is_reported_not_fatal").await
    else {
        return;
    };
    let proxy = Proxy::start(db.postgres_addr().unwrap()).await;
    let setup = Setup { database_url: Some(db.url_via(proxy.addr)), ..Setup::default() };
    let app = TestApp::start(db, setup).await;
    assert_eq!(db_conn(&app).await, json!(true));

    proxy.stop();
    assert_eq!(db_conn(&app).await, json!(false));
    // Routes that need no database keep working.
    let (status, _) = json(app.get("/utils/slugify?slug=still%20here").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(db_conn(&app).await, json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_removed_is_reported_not_fatal() {
    let db = TestDb::create(Backend::Sqlite, "lifecycle::sqlite_file_removed").await.unwrap();
    let path = db.data_dir.path().join("basic-admin.db");
    let app = TestApp::start(db, Setup::default()).await;
    assert_eq!(db_conn(&app).await, json!(true));

    // Someone clears the data folder under a running server: its open
    // connections would go on writing into a file no one can see.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    assert_eq!(db_conn(&app).await, json!(false));
    let (status, _) = json(app.get("/utils").send().await.unwrap()).await;
    assert_eq!(status, 200);
}

/// The real binary, started with `args` in `dir`; waits for its "listening" log line.
pub struct Process {
    pub child: Child,
    pub addr: SocketAddr,
    /// What it has written to stderr after its "listening" line.
    pub log: Arc<Mutex<String>>,
}

impl Process {
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        let mut child = binary(dir)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("a log line before exiting").unwrap();
            let entry: Value = serde_json::from_str(&line).unwrap_or_default();
            if entry["message"] == "listening" {
                break entry["addr"].as_str().unwrap().parse().unwrap();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let log = Arc::new(Mutex::new(String::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = kept.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Self { child, addr, log }
    }

    pub fn remote(&self) -> Remote {
        Remote::new(format!("http://{}", self.addr))
    }

    pub fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap()
    }
}

/// A test that fails midway leaves no server behind.
impl Drop for Process {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[tokio::test]
async fn serve_with_embedded_defaults_starts_from_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let process = Process::start(dir.path(), &[]);
    let (status, body) = json(crate::harness::get(format!("http://{}/", process.addr)).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"root": true, "env": "development", "db_conn": true, "version": env!("CARGO_PKG_VERSION")})
    );

    let data = dir.path().join("data");
    assert!(data.join("basic-admin.db").is_file(), "the embedded database is in ./data");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.join("master.key")), 0o600);
    assert_eq!(mode(&data), 0o700);

    let exit = process.terminate();
    assert!(exit.success(), "SIGTERM is a clean stop: {exit:?}");
}

#[tokio::test]
async fn a_stop_signal_the_moment_it_listens_is_a_clean_stop() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let exit = Process::start(dir.path(), &[]).terminate();
        assert!(exit.success(), "SIGTERM right after \"listening\" is a clean stop: {exit:?}");
    }
}

#[tokio::test]
async fn serve_on_postgres_and_restart_keeps_the_master_key() {
    let Some(db) = TestDb::create(Backend::Postgres, "lifecycle::serve_on_postgres").await else {
        return;
    };
    let url = db.url();
    let dir = db.data_dir.path();
    let args = ["--data-dir", dir.to_str().unwrap(), "--database-url", &url];
    let first = Process::start(dir, &args);
    let (_, body) = json(crate::harness::get(format!("http://{}/", first.addr)).await).await;
    assert_eq!(body["db_conn"], true);
    assert!(first.terminate().success());
    let key = std::fs::read(dir.join("master.key")).unwrap();

    let second = Process::start(dir, &args);
    let (_, body) = json(crate::harness::get(format!("http://{}/", second.addr)).await).await;
    assert_eq!(body["db_conn"], true, "migrations are not applied twice");
    assert!(second.terminate().success());
    assert_eq!(std::fs::read(dir.join("master.key")).unwrap(), key);
}

#[test]
fn migrate_applies_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = Command::new(BINARY)
            .args(["migrate", "--data-dir", dir.path().to_str().unwrap()])
            .env_remove("BASIC_DATABASE_URL")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert!(dir.path().join("basic-admin.db").is_file());
}

#[test]
fn bad_configuration_exits_2_with_a_message() {
    let output = Command::new(BINARY).args(["serve", "--listen", "not-an-address"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--listen") && stderr.contains("not-an-address"), "{stderr}");

    let output = Command::new(BINARY)
        .args(["serve", "--database-url", "mysql://x/y", "--data-dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported database URL"));
}
