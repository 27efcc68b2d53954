//! Crash safety: the real server is killed with SIGKILL at random moments
//! while items, API keys and schema versions are written through its API,
//! and items through live sync (acknowledged by its `ack`).
//! After every restart each acknowledged write is there and whole, nothing
//! else is (no half-written or invented rows), and the server started
//! cleanly.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use basic_admin_app::auth::accounts::{self, SignUp};
use basic_admin_core::oauth::CLI_CLIENT_ID;
use basic_admin_server::App;
use basic_admin_server::config::{Config, Flags};
use basic_admin_server::state::AppState;
use futures_util::{SinkExt as _, StreamExt as _};
use rand::Rng as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Backend, Remote, TestDb, json};
use crate::lifecycle::Process;
use crate::world;

/// Kills per backend.
const CRASHES: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    crash_loop(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_postgres() {
    crash_loop(Backend::Postgres).await;
}

/// What was sent and what was acknowledged, per kind of write.
#[derive(Default, Clone)]
struct Ledger {
    /// Item title → its id once acknowledged.
    items: BTreeMap<String, Option<String>>,
    /// Key label → its id once acknowledged.
    keys: BTreeMap<String, Option<String>>,
    /// Schema version → (the schema sent, acknowledged).
    versions: BTreeMap<i64, (Value, bool)>,
}

impl Ledger {
    fn acknowledged(&self) -> usize {
        self.items.values().flatten().count()
            + self.keys.values().flatten().count()
            + self.versions.values().filter(|(_, ok)| *ok).count()
    }
}

fn server_args<'a>(dir: &'a Path, url: &'a str) -> Vec<&'a str> {
    vec!["--data-dir", dir.to_str().unwrap(), "--database-url", url, "--rate-limit-auth-per-minute", "0"]
}

/// The server's own state, opened beside it, to sign tokens with its keys.
pub async fn beside(dir: &Path, url: &str) -> (App, AppState) {
    let flags =
        Flags { data_dir: Some(dir.display().to_string()), database_url: Some(url.to_owned()), ..Flags::default() };
    let app = App::build(Config::resolve(flags, &|_| None).unwrap()).await.unwrap();
    let state = app.state().clone();
    (app, state)
}

/// A developer's token, and a connected user's table, on a fresh project.
pub struct Seeded {
    pub token: String,
    /// The connected user's own token, for their sync socket.
    pub app_token: String,
    pub project: String,
    pub table: String,
}

pub async fn seed(remote: &Remote, state: &AppState) -> Seeded {
    let account = |email: &str| SignUp {
        email: email.into(),
        username: None,
        name: "Crash".into(),
        password: "a long enough password".into(),
    };
    let developer = accounts::create(&*state.app.store, account("dev@crash.test")).await.unwrap();
    let user = accounts::create(&*state.app.store, account("user@crash.test")).await.unwrap();
    let token = world::sign(state, developer.id, "profile admin", CLI_CLIENT_ID).await;
    let (_, team) = remote.call(&token, "POST", "/team", Some(json!({"name": "Crash", "slug": "crash"}))).await;
    let team = team["data"]["id"].as_str().unwrap().to_owned();
    let (_, project) = remote.call(&token, "POST", "/project", Some(json!({"name": "Crash", "team_id": team}))).await;
    let project = project["data"]["id"].as_str().unwrap().to_owned();
    let (status, _) =
        remote.call(&token, "POST", &format!("/project/{project}/schema"), Some(schema(&project, 1))).await;
    assert_eq!(status, 200);
    let app_token = world::sign(state, user.id, "openid", &project).await;
    let connect = remote.post(&format!("/project/{project}/user/connect")).json(&json!({"token": app_token}));
    let (status, connected) = json(connect.send().await.unwrap()).await;
    assert_eq!(status, 200, "{connected}");
    let did = connected["user_did"].as_str().unwrap().replace('%', "%25");
    Seeded { token, app_token, project: project.clone(), table: format!("/project/{project}/user/{did}/db/todos") }
}

/// Version `n` of the schema: `todos`, and one more table per version (each
/// version is a compatible update of the one before).
fn schema(project: &str, n: i64) -> Value {
    let mut tables = serde_json::Map::new();
    tables.insert("todos".into(), json!({"type": "collection", "fields": {"title": {"type": "string"}}}));
    for v in 2..=n {
        tables.insert(format!("t{v}"), json!({"type": "collection", "fields": {"v": {"type": "number"}}}));
    }
    json!({"schema": {"project_id": project, "version": n, "tables": tables}})
}

async fn crash_loop(backend: Backend) {
    let Some(db) = TestDb::create(backend, "crash::crash_loop").await else {
        return;
    };
    let (dir, url) = (db.data_dir.path(), db.url());
    let (app, state) = beside(dir, &url).await;
    let mut server = Process::start(dir, &server_args(dir, &url));
    let seeded = Arc::new(seed(&server.remote(), &state).await);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut rng = rand::rng();

    for crash in 0..CRASHES {
        let remote = Arc::new(server.remote());
        let writers = [
            tokio::spawn(write_items(remote.clone(), seeded.clone(), ledger.clone())),
            tokio::spawn(write_keys(remote.clone(), seeded.clone(), ledger.clone())),
            tokio::spawn(write_versions(remote.clone(), seeded.clone(), ledger.clone())),
            tokio::spawn(write_synced(remote.clone(), seeded.clone(), ledger.clone())),
        ];
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..400))).await;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for writer in writers {
            writer.await.unwrap();
        }

        server = Process::start(dir, &server_args(dir, &url));
        let remote = server.remote();
        let (status, root) = json(remote.get("/").send().await.unwrap()).await;
        assert_eq!((status, &root["db_conn"]), (200, &json!(true)), "crash {crash}: a clean start");
        let written = ledger.lock().unwrap().clone();
        check(&remote, &seeded, &written, crash).await;
    }
    let acknowledged = ledger.lock().unwrap().acknowledged();
    assert!(acknowledged > CRASHES * 3, "enough writes were acknowledged to mean something: {acknowledged}");
    let synced = ledger.lock().unwrap().items.values().flatten().filter(|id| id.starts_with("synced-")).count();
    assert!(synced > CRASHES, "enough sync writes were acknowledged to mean something: {synced}");
    eprintln!(
        "crash safety ({backend:?}): {CRASHES} kills, {acknowledged} acknowledged writes ({synced} through sync) checked after each"
    );
    app.stop_background();
    drop(server);
    state.app.store.close().await;
}

// The writers write until the server stops answering.

/// Creates things named `<prefix>-<random>` at `path` until the server stops
/// answering, noting each name before it is sent and its id (at `id_at` in
/// the answer) once acknowledged.
async fn write_named(
    remote: &Remote,
    token: &str,
    path: &str,
    body: impl Fn(&str) -> Value,
    id_at: &str,
    ledger: &Mutex<Ledger>,
    names: fn(&mut Ledger) -> &mut BTreeMap<String, Option<String>>,
) {
    loop {
        let name = uuid::Uuid::new_v4().simple().to_string();
        names(&mut ledger.lock().unwrap()).insert(name.clone(), None);
        let Ok(response) = remote.post(path).bearer_auth(token).json(&body(&name)).send().await else { return };
        if response.status() != 200 {
            return;
        }
        let Ok(answer) = response.json::<Value>().await else { return };
        let id = answer.pointer(id_at).and_then(Value::as_str).expect("an id").to_owned();
        names(&mut ledger.lock().unwrap()).insert(name, Some(id));
    }
}

async fn write_items(remote: Arc<Remote>, seeded: Arc<Seeded>, ledger: Arc<Mutex<Ledger>>) {
    let body = |title: &str| json!({"value": {"title": title}});
    write_named(&remote, &seeded.token, &seeded.table, body, "/data/id", &ledger, |l| &mut l.items).await;
}

async fn write_keys(remote: Arc<Remote>, seeded: Arc<Seeded>, ledger: Arc<Mutex<Ledger>>) {
    let path = format!("/project/{}/key", seeded.project);
    let body = |label: &str| json!({"label": label, "roles": "read"});
    write_named(&remote, &seeded.token, &path, body, "/key/id", &ledger, |l| &mut l.keys).await;
}

async fn write_versions(remote: Arc<Remote>, seeded: Arc<Seeded>, ledger: Arc<Mutex<Ledger>>) {
    let path = format!("/project/{}/schema", seeded.project);
    // The latest version as the server has it (a version sent before a
    // crash may or may not have been kept).
    let Ok(response) = remote.get(&path).send().await else { return };
    let Ok(latest) = response.json::<Value>().await else { return };
    let mut version = latest["data"][0]["version"].as_i64().expect("a published schema");
    loop {
        version += 1;
        let body = schema(&seeded.project, version);
        ledger.lock().unwrap().versions.insert(version, (body["schema"].clone(), false));
        let Ok(response) = remote.post(&path).bearer_auth(&seeded.token).json(&body).send().await else {
            return;
        };
        if response.status() != 200 {
            return;
        }
        ledger.lock().unwrap().versions.get_mut(&version).unwrap().1 = true;
    }
}

/// Creates items through a sync socket, one `changes` message each, until
/// the server stops answering; an item counts as acknowledged on its `ack`.
async fn write_synced(remote: Arc<Remote>, seeded: Arc<Seeded>, ledger: Arc<Mutex<Ledger>>) {
    let url = remote.url("/ws").replace("http://", "ws://");
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else { return };
    let hello = json!({"type": "clientIdentity", "clientIdentity": null, "authToken": seeded.app_token, "schema": {}});
    if socket.send(Message::Text(hello.to_string().into())).await.is_err() {
        return;
    }
    if !next_text(&mut socket).await.is_some_and(|m| m["type"] == "clientIdentity") {
        return;
    }
    for request in 1u64.. {
        let title = uuid::Uuid::new_v4().simple().to_string();
        let key = format!("synced-{title}");
        ledger.lock().unwrap().items.insert(title.clone(), None);
        let change = json!({"type": 1, "table": "todos", "key": key, "obj": {"id": key, "title": title}});
        let message =
            json!({"type": "changes", "changes": [change], "baseRevision": 0, "partial": false, "requestId": request});
        if socket.send(Message::Text(message.to_string().into())).await.is_err() {
            return;
        }
        match next_text(&mut socket).await {
            Some(ack) if ack["type"] == "ack" && ack["requestId"] == request => {
                ledger.lock().unwrap().items.insert(title, Some(key));
            }
            _ => return,
        }
    }
}

/// The next message of a socket, `None` once it ends.
async fn next_text<S>(socket: &mut S) -> Option<Value>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match socket.next().await? {
            Ok(Message::Text(text)) => return serde_json::from_str(&text).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Every acknowledged write is stored as sent; whatever else is stored was
/// sent (a write cut short by the crash may or may not have been kept, but
/// never in part).
async fn check(remote: &Remote, seeded: &Seeded, ledger: &Ledger, crash: usize) {
    let mut items = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(c) => format!("{}?limit=100&cursor={c}", seeded.table),
            None => format!("{}?limit=100", seeded.table),
        };
        let (status, answer) = remote.call(&seeded.token, "GET", &page, None).await;
        assert_eq!(status, 200, "{answer}");
        for item in answer["data"].as_array().unwrap() {
            let title = item["title"].as_str().unwrap().to_owned();
            assert!(ledger.items.contains_key(&title), "crash {crash}: an item nobody sent: {item}");
            assert!(items.insert(title, item["id"].as_str().unwrap().to_owned()).is_none(), "stored twice");
        }
        match answer["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    for (title, id) in &ledger.items {
        if let Some(id) = id {
            assert_eq!(items.get(title), Some(id), "crash {crash}: acknowledged item {title} is lost");
        }
    }

    let (status, keys) = remote.call(&seeded.token, "GET", &format!("/project/{}/key", seeded.project), None).await;
    assert_eq!(status, 200);
    let keys: HashMap<String, String> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["label"].as_str().unwrap().to_owned(), k["id"].as_str().unwrap().to_owned()))
        .collect();
    assert!(keys.keys().all(|label| ledger.keys.contains_key(label)), "crash {crash}: a key nobody made");
    for (label, id) in &ledger.keys {
        if let Some(id) = id {
            assert_eq!(keys.get(label), Some(id), "crash {crash}: acknowledged key {label} is lost");
        }
    }

    let path = format!("/project/{}/schema?version=all", seeded.project);
    let (status, versions) = remote.call(&seeded.token, "GET", &path, None).await;
    assert_eq!(status, 200);
    let stored: BTreeMap<i64, Value> = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["schema"]["tables"].clone()))
        .collect();
    let latest = *stored.keys().max().unwrap();
    assert_eq!(stored.keys().copied().collect::<Vec<_>>(), (1..=latest).collect::<Vec<_>>(), "no gaps");
    for (version, tables) in stored.iter().filter(|(v, _)| **v > 1) {
        let (sent, _) = ledger.versions.get(version).unwrap_or_else(|| panic!("crash {crash}: version {version}?"));
        assert_eq!(tables, &sent["tables"], "crash {crash}: version {version} is stored as sent");
    }
    for (version, (_, acknowledged)) in &ledger.versions {
        assert!(!acknowledged || stored.contains_key(version), "crash {crash}: acknowledged version {version} lost");
    }
}

/// A PostgreSQL cluster of this test's own, so that restarting it disturbs
/// no other test. Dropped with the value.
struct Cluster {
    version: String,
    name: String,
    port: u16,
}

impl Cluster {
    /// `None` (said on stderr) where PostgreSQL's cluster tools are missing,
    /// unless PostgreSQL tests are mandatory here (`TEST_DATABASE_URL`).
    fn create() -> Option<Self> {
        let version = std::fs::read_dir("/etc/postgresql")
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned());
        let available = version.is_some() && which("pg_createcluster") && which("pg_ctlcluster");
        if !available {
            assert!(
                std::env::var("TEST_DATABASE_URL").is_err(),
                "TEST_DATABASE_URL is set but pg_createcluster/pg_ctlcluster are missing"
            );
            crate::harness::skipped("PostgreSQL cluster tools (pg_createcluster) not found: crash::postgres_restart");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Self { version: version.unwrap(), name: format!("crash_{port}"), port };
        let created = std::process::Command::new("pg_createcluster")
            .args([&cluster.version, &cluster.name, "--port", &port.to_string(), "--start"])
            .args(["--", "--auth=trust"])
            .output()
            .unwrap();
        assert!(created.status.success(), "pg_createcluster: {}", String::from_utf8_lossy(&created.stderr));
        Some(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// When the cluster's server process started.
    fn started_at(&self) -> String {
        let out = std::process::Command::new("psql")
            .args([&self.url(), "-tAc", "SELECT pg_postmaster_start_time()"])
            .output()
            .unwrap();
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn restart(&self) {
        let done = std::process::Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &self.version, &self.name, "restart"])
            .output()
            .unwrap();
        assert!(done.status.success(), "pg_ctlcluster restart: {}", String::from_utf8_lossy(&done.stderr));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("pg_dropcluster").args(["--stop", &self.version, &self.name]).output();
    }
}

fn which(program: &str) -> bool {
    std::process::Command::new("which").arg(program).output().is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_recovers_when_postgresql_restarts() {
    let Some(cluster) = tokio::task::spawn_blocking(Cluster::create).await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = cluster.url();
    let (app, state) = beside(dir.path(), &url).await;
    let mut server = Process::start(dir.path(), &server_args(dir.path(), &url));
    let remote = server.remote();
    let seeded = seed(&remote, &state).await;
    app.stop_background();
    state.app.store.close().await;
    let keys = format!("/project/{}/key", seeded.project);
    let make_key =
        |label: &str| remote.call(&seeded.token, "POST", &keys, Some(json!({"label": label, "roles": "read"})));
    assert_eq!(make_key("before").await.0, 200);

    // Writes go on while the database restarts: each is done or refused
    // with a 503, never a 500.
    let first_start = cluster.started_at();
    let restarting = tokio::task::spawn_blocking(move || {
        cluster.restart();
        cluster
    });
    let mut during = BTreeMap::new();
    while !restarting.is_finished() {
        let (status, body) = make_key("during").await;
        assert!(status == 200 || status == 503, "a lost database is a 503, never a 500: {status} {body}");
        *during.entry(status).or_insert(0) += 1;
    }
    let cluster = restarting.await.unwrap();
    assert_ne!(cluster.started_at(), first_start, "PostgreSQL did restart");
    eprintln!("postgres restart: answers while restarting {during:?}");
    // Every connection the server had is gone now; it must notice and make
    // new ones, without being restarted itself.
    let started = std::time::Instant::now();
    let mut answered = None;
    while started.elapsed() < Duration::from_secs(30) {
        let (status, body) = make_key("after").await;
        assert!(status == 200 || status == 503, "a lost database is a 503, never a 500: {status} {body}");
        if status == 200 {
            answered = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answered = answered.expect("the server answers again within 30 s");
    eprintln!("postgres restart: writes succeed again {answered:?} after the restart finished");
    assert!(server.child.try_wait().unwrap().is_none(), "the same server process");
    let (_, root) = json(remote.get("/").send().await.unwrap()).await;
    assert_eq!(root["db_conn"], true);
    let (_, listed) = remote.call(&seeded.token, "GET", &keys, None).await;
    let labels: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|k| k["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"before") && labels.contains(&"after"), "{labels:?}");
    drop(server);
    drop(cluster);
}
