//! The live sync benchmark (run by `bench/sync.sh`, not a test): starts the
//! release server (one node, or two on PostgreSQL), seeds users beside it
//! with the server's own keys, and measures over real sockets:
//!
//! - push latency: one device writes, another device of the same user
//!   receives it (p50/p99 of 500 round trips), on one node and across two;
//! - sustained throughput: 100 devices of 100 users each writing one change
//!   a message as fast as they are acknowledged;
//! - memory per idle connection: the server's RSS before and after opening
//!   N subscribed sockets.
//!
//! Usage: sync_load BINARY DATABASE_URL NODES IDLE_SOCKETS

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use basic_admin_app::auth::claims::{ACCESS_TYP, AccessClaims};
use basic_admin_core::did;
use basic_admin_core::model::Slug;
use basic_admin_core::store::{NewAccount, NewProject, NewTeam, SchemaVersion};
use basic_admin_core::time;
use basic_admin_server::App;
use basic_admin_server::config::{Config, Flags};
use basic_admin_server::state::AppState;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const PUBLIC_URL: &str = "http://localhost:3003";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [binary, database_url, nodes, idle] = args.as_slice() else {
        eprintln!("usage: sync_load BINARY DATABASE_URL NODES IDLE_SOCKETS");
        std::process::exit(2);
    };
    let nodes: usize = nodes.parse().expect("NODES is a number");
    let idle: usize = idle.parse().expect("IDLE_SOCKETS is a number");
    let dir = tempfile::tempdir().expect("a data folder");
    let data_dir = dir.path().display().to_string();
    let flags = Flags {
        data_dir: Some(data_dir.clone()),
        database_url: Some(database_url.clone()),
        public_url: Some(PUBLIC_URL.into()),
        ..Flags::default()
    };
    let beside = App::build(Config::resolve(flags, &|_| None).unwrap()).await.expect("the store opens");
    let state = beside.state().clone();
    let servers: Vec<Server> = (0..nodes).map(|_| Server::start(binary, &data_dir, database_url)).collect();
    let project = seed_project(&state).await;

    println!("scenario                                   result");
    let user = signed_user(&state, project).await;
    let latency = push_latency(&servers[0], &servers[0], &user, 500).await;
    println!("push latency, one node (p50 / p99)          {latency}");
    if nodes > 1 {
        let latency = push_latency(&servers[0], &servers[1], &user, 500).await;
        println!("push latency, two nodes (p50 / p99)         {latency}");
    }
    let rate = throughput(&servers, &state, project, 100, Duration::from_secs(10)).await;
    println!("changes applied/s, 100 devices writing      {rate:.0}");
    let per_socket = idle_memory(&servers[0], &state, project, idle).await;
    println!("memory per idle socket ({idle} open)        {per_socket:.1} KiB");
    beside.stop_background();
}

/// A server process of the release binary.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(binary: &str, data_dir: &str, database_url: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", data_dir])
            .args(["--database-url", database_url, "--public-url", PUBLIC_URL, "--log", "warn"])
            .args(["--sync-connections-per-user", "1000", "--sync-idle-secs", "600"])
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        let url = format!("ws://127.0.0.1:{port}/ws");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, url }
    }

    /// Resident memory, in KiB.
    fn rss(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn seed_project(state: &AppState) -> Uuid {
    let store = &state.app.store;
    let owner = new_account(state).await;
    let team = Uuid::new_v4();
    let slug = |p: &str, id: Uuid| Slug::parse(&format!("{p}-{}", id.simple())).unwrap();
    let now = time::now();
    store
        .create_team(NewTeam { id: team, name: "Bench".into(), slug: slug("t", team), owner, created_at: now })
        .await
        .unwrap();
    let project = Uuid::new_v4();
    let new = NewProject {
        id: project,
        team_id: team,
        name: "Bench".into(),
        slug: slug("p", project),
        website: None,
        profile: json!({}),
        settings: json!({}),
        created_at: now,
    };
    store.create_project(new).await.unwrap();
    let schema = json!({"project_id": project, "version": 1, "tables": {"todos": {"type": "collection",
        "fields": {"title": {"type": "string"}, "done": {"type": "boolean"}}}}});
    let version = SchemaVersion { id: Uuid::new_v4(), project_id: project, version: 1, schema, created_at: now };
    store.publish_schema(version).await.unwrap();
    project
}

async fn new_account(state: &AppState) -> Uuid {
    let id = Uuid::new_v4();
    let account = NewAccount {
        id,
        email: format!("{}@bench.example", id.simple()),
        username: None,
        name: "Bench".into(),
        password_hash: "unused".into(),
        created_at: time::now(),
    };
    state.app.store.create_account(account).await.unwrap();
    id
}

/// A new app user of the project: their access token.
async fn signed_user(state: &AppState, project: Uuid) -> String {
    let account = new_account(state).await;
    let now = time::now().timestamp();
    let claims = AccessClaims {
        iss: state.app.keys.issuer().to_owned(),
        sub: format!("did:web:{}:users:{}", did::web_host(PUBLIC_URL), account.simple()),
        aud: project.to_string(),
        exp: now + 3600,
        iat: now,
        jti: Uuid::new_v4().to_string(),
        scope: "openid".into(),
        client_id: project.to_string(),
        sid: Uuid::new_v4(),
    };
    state.app.keys.sign(ACCESS_TYP, &claims).await
}

/// A subscribed device: its socket, after the first round.
async fn device(server: &Server, token: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(&server.url).await.expect("the socket opens");
    send(&mut socket, json!({"type": "clientIdentity", "clientIdentity": null, "authToken": token, "schema": {}}))
        .await;
    assert_eq!(next(&mut socket).await["type"], "clientIdentity");
    send(&mut socket, json!({"type": "subscribe", "syncedRevision": 0})).await;
    while next(&mut socket).await["partial"] != false {}
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::Text(message.to_string().into())).await.expect("sent");
}

async fn next(socket: &mut Socket) -> Value {
    loop {
        match socket.next().await.expect("open").expect("readable") {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            _ => continue,
        }
    }
}

fn create(key: &str) -> Value {
    json!({"type": 1, "table": "todos", "key": key, "obj": {"id": key, "title": key, "done": false}})
}

async fn push_latency(writer_node: &Server, reader_node: &Server, token: &str, rounds: usize) -> String {
    let mut writer = device(writer_node, token).await;
    let mut reader = device(reader_node, token).await;
    let mut took = Vec::with_capacity(rounds);
    for n in 0..rounds {
        let key = Uuid::now_v7().to_string();
        let started = Instant::now();
        let message =
            json!({"type": "changes", "changes": [create(&key)], "baseRevision": 0, "partial": false, "requestId": n});
        send(&mut writer, message).await;
        loop {
            let pushed = next(&mut reader).await;
            if pushed["changes"].as_array().is_some_and(|c| c.iter().any(|c| c["key"] == key.as_str())) {
                break;
            }
        }
        took.push(started.elapsed());
        // The writer's ack and its new revision.
        next(&mut writer).await;
        next(&mut writer).await;
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)].as_secs_f64() * 1000.0;
    format!("{:.2} ms / {:.2} ms", at(0.5), at(0.99))
}

async fn throughput(servers: &[Server], state: &AppState, project: Uuid, devices: usize, length: Duration) -> f64 {
    let applied = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for n in 0..devices {
        let token = signed_user(state, project).await;
        let mut socket = device(&servers[n % servers.len()], &token).await;
        let applied = applied.clone();
        tasks.push(tokio::spawn(async move {
            let deadline = Instant::now() + length;
            let mut request = 0u64;
            while Instant::now() < deadline {
                request += 1;
                let message = json!({"type": "changes", "changes": [create(&Uuid::now_v7().to_string())],
                    "baseRevision": 0, "partial": false, "requestId": request});
                send(&mut socket, message).await;
                while next(&mut socket).await["type"] != "ack" {}
                applied.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    for task in tasks {
        task.await.unwrap();
    }
    applied.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn idle_memory(server: &Server, state: &AppState, project: Uuid, sockets: usize) -> f64 {
    // 20 devices a user (the default limit), users made first.
    let mut tokens = Vec::new();
    for _ in 0..sockets.div_ceil(20) {
        tokens.push(signed_user(state, project).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.rss();
    let mut open = Vec::with_capacity(sockets);
    for batch in (0..sockets).collect::<Vec<_>>().chunks(100) {
        let opened = futures_util::future::join_all(batch.iter().map(|n| device(server, &tokens[n / 20]))).await;
        open.extend(opened);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss();
    drop(open);
    (after - before) / sockets as f64
}
