//! Starts real servers on port 0 and talks HTTP to them.
//!
//! Every test runs once per backend: `on_both_backends!(a, b)` makes
//! `sqlite::a`, `postgres::a`, … from `async fn a(app: TestApp)`. Each server
//! gets its own data folder, and on PostgreSQL its own schema.

use std::net::SocketAddr;

use axum::Router;
use basic_admin_server::App;
use basic_admin_server::config::{Config, Flags};
use basic_admin_server::state::AppState;
use basic_admin_store_postgres::testing::TestSchema;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test: a file in a temporary folder, or a PostgreSQL schema.
pub struct TestDb {
    pub data_dir: TempDir,
    schema: Option<TestSchema>,
}

impl TestDb {
    /// `None` when the backend is not available here (the skip is reported).
    pub async fn create(backend: Backend, test: &str) -> Option<Self> {
        let data_dir = tempfile::tempdir().expect("temporary folder");
        let schema = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestSchema::create(test).await?),
        };
        Some(Self { data_dir, schema })
    }

    /// The PostgreSQL schema (`None` on SQLite).
    pub fn postgres(&self) -> Option<&TestSchema> {
        self.schema.as_ref()
    }

    pub fn url(&self) -> String {
        match &self.schema {
            Some(schema) => schema.url(),
            None => format!("sqlite://{}", self.data_dir.path().join("basic-admin.db").display()),
        }
    }

    /// The PostgreSQL server's address, to put a proxy in front of it.
    pub fn postgres_addr(&self) -> Option<String> {
        let url = self.schema.as_ref()?.server_url();
        let authority = url.split_once("://")?.1.split('/').next()?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        Some(if host.contains(':') { host.to_owned() } else { format!("{host}:5432") })
    }

    /// [`TestDb::url`] with the server's address replaced by `addr`.
    pub fn url_via(&self, addr: SocketAddr) -> String {
        let original = self.postgres_addr().expect("a PostgreSQL database");
        let url = self.url();
        let host_only = original.trim_end_matches(":5432");
        if url.contains(&original) {
            url.replacen(&original, &addr.to_string(), 1)
        } else {
            url.replacen(host_only, &addr.to_string(), 1)
        }
    }
}

/// What a test may change about the server it starts.
#[derive(Default)]
pub struct Setup {
    /// Routes added beside the API, behind the same layers.
    pub extra_routes: Option<Router<AppState>>,
    /// Connect through this URL instead of the test database's own.
    pub database_url: Option<String>,
    pub flags: Flags,
    /// Environment variables the server sees (it sees no others).
    pub env: Vec<(String, String)>,
    /// Why the tests of this setup cannot run here (they say SKIPPED and pass).
    pub skip: Option<String>,
    /// The server's public URL is the address it listens on (for a browser
    /// that must follow the server's absolute redirects).
    pub public_url_is_address: bool,
}

/// A running server as its clients see it: an address and an HTTP client.
pub struct Remote {
    pub base: String,
    pub client: reqwest::Client,
}

impl Remote {
    pub fn new(base: String) -> Self {
        basic_admin_app::tls::install();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base, client }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path))
    }

    /// `method path` with `bearer` as the token (or key), and a JSON body:
    /// the status and the JSON answer.
    pub async fn call(
        &self,
        bearer: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.client.request(method.parse().unwrap(), self.url(path)).bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        json(request.send().await.unwrap()).await
    }
}

/// A server in this process (see [`Remote`] for its client side).
pub struct TestApp {
    remote: Remote,
    /// The server's own state, to seed data and reach its store directly.
    pub state: AppState,
    /// Kept for as long as the server runs (a sibling shares its first node's).
    db: Option<TestDb>,
    database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::ops::Deref for TestApp {
    type Target = Remote;

    fn deref(&self) -> &Remote {
        &self.remote
    }
}

impl TestApp {
    pub async fn start(db: TestDb, setup: Setup) -> Self {
        let database_url = setup.database_url.clone().unwrap_or_else(|| db.url());
        let data_dir = db.data_dir.path().display().to_string();
        let mut app = Self::launch(data_dir, database_url, setup).await;
        app.db = Some(db);
        app
    }

    /// Another server on the same database and data folder: a second node.
    pub async fn sibling(&self, setup: Setup) -> Self {
        let data_dir = self.state.config.data_dir.display().to_string();
        Self::launch(data_dir, self.database_url.clone(), setup).await
    }

    async fn launch(data_dir: String, database_url: String, setup: Setup) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().unwrap();
        let public_url = match setup.public_url_is_address {
            true => Some(format!("http://{addr}")),
            false => setup.flags.public_url.clone(),
        };
        let flags = Flags {
            public_url,
            data_dir: Some(data_dir),
            database_url: Some(database_url.clone()),
            env: setup.flags.env.clone().or(Some("test".into())),
            // Off unless a test is about them: tests call from one address.
            rate_limit_auth_per_minute: setup.flags.rate_limit_auth_per_minute.clone().or(Some("0".into())),
            rate_limit_schema_utils_per_minute: setup
                .flags
                .rate_limit_schema_utils_per_minute
                .clone()
                .or(Some("0".into())),
            ..setup.flags
        };
        let env = setup.env.clone();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let config = Config::resolve(flags, &lookup).expect("valid test configuration");
        let app = App::build(config).await.expect("the server starts");
        let (tx, rx) = oneshot::channel::<()>();
        let state = app.state().clone();
        let extra = setup.extra_routes.unwrap_or_default();
        let server = tokio::spawn(app.serve_with(listener, extra, async move {
            let _ = rx.await;
        }));
        Self {
            remote: Remote::new(format!("http://{addr}")),
            state,
            db: None,
            database_url,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// The database this server (and its siblings) use.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Asks the server to stop without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server gracefully and waits until it has.
    pub async fn stop(&mut self) -> std::io::Result<()> {
        self.begin_shutdown();
        match self.server.take() {
            Some(server) => server.await.expect("the server task does not panic"),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.begin_shutdown();
    }
}

/// An HTTP client for tests (with the TLS provider the server's own client uses).
pub fn http() -> reqwest::Client {
    basic_admin_app::tls::install();
    reqwest::Client::new()
}

/// `GET url` with [`http`].
pub async fn get(url: impl reqwest::IntoUrl) -> reqwest::Response {
    http().get(url).send().await.unwrap()
}

/// Says on stderr, past the test harness's capture, that a test did not run.
pub fn skipped(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {what}");
}

/// A response's status and JSON body, for assertions.
pub async fn json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

/// Runs each named `async fn(TestApp)` once per backend; `with setup;` first
/// starts the servers with `setup()`'s [`Setup`] instead of the default (and
/// puts the tests in a module named after it).
macro_rules! on_both_backends {
    (with $setup:ident; $($test:ident),* $(,)?) => {
        // A module per setup, so that a file may use several.
        mod $setup {
            #[allow(unused_imports)]
            use super::*;
            $crate::harness::on_both_backends!(@mod sqlite, Sqlite, super::$setup; $($test),*);
            $crate::harness::on_both_backends!(@mod postgres, Postgres, super::$setup; $($test),*);
        }
    };
    ($($test:ident),* $(,)?) => {
        $crate::harness::on_both_backends!(@mod sqlite, Sqlite, $crate::harness::Setup::default; $($test),*);
        $crate::harness::on_both_backends!(@mod postgres, Postgres, $crate::harness::Setup::default; $($test),*);
    };
    (@mod $module:ident, $backend:ident, $setup:path; $($test:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let name = concat!(module_path!(), "::", stringify!($test));
                    let backend = $crate::harness::Backend::$backend;
                    let setup = $setup();
                    if let Some(why) = &setup.skip {
                        $crate::harness::skipped(&format!("{why}: {name}"));
                        return;
                    }
                    if let Some(db) = $crate::harness::TestDb::create(backend, name).await {
                        super::$test($crate::harness::TestApp::start(db, setup).await).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;
