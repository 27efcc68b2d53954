//! The basic-admin server: configuration, HTTP routes and the stack around
//! them. `main` and the tests build it the same way: [`App::build`], then
//! [`App::serve`] on a listener.

pub mod auth;
pub mod backup;
pub mod client_addr;
pub mod config;
pub mod console;
pub mod error;
pub mod extract;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
mod routes;
pub mod state;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use basic_admin_core::store::{Store, StoreError};
use tokio::net::TcpListener;

use basic_admin_app::master_key::MasterKeyError;
use basic_admin_app::signing_keys::KeyRing;
use basic_admin_app::{Context, blobs, cache, crypto, master_key, services, signing_keys};

use crate::config::{Config, redact_url};
use crate::metrics::Metrics;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    #[error("database {url}: {source}")]
    Store { url: String, source: StoreError },
    #[error("unsupported database URL {0}: use sqlite://… or postgres://…")]
    DatabaseScheme(String),
    #[error("signing keys: {0}")]
    Keys(#[from] signing_keys::KeyError),
    #[error(transparent)]
    Blobs(#[from] blobs::BlobError),
    #[error(transparent)]
    Mail(#[from] basic_admin_app::mail::MailSetupError),
}

/// A configured server: its state and its routes, ready to serve.
pub struct App {
    state: AppState,
    /// The API's routes and their description, built once.
    api: Router<AppState>,
    openapi: utoipa::openapi::OpenApi,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl App {
    /// Creates the data folder, loads the master key, opens and migrates the
    /// database.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        create_data_dir(&config.data_dir)?;
        let master_key = master_key::load(config.master_key.as_ref(), &config.data_dir)?;
        let store = open_store(&config).await?;
        let blobs = blobs::Blobs::open(&config.storage, &config.storage_env)?;
        let store_error = |source| StartError::Store { url: redact_url(&config.database_url), source };
        store.migrate().await.map_err(store_error)?;
        tracing::info!(backend = store.backend(), database = %redact_url(&config.database_url), "database ready");
        let (api, openapi) = routes::api();
        let master_key = Arc::new(master_key);
        let keys = KeyRing::load(store.clone(), master_key.clone(), config.public_url.clone(), config.access_token_ttl)
            .await?;
        let mut app = Context::new(store, config.settings(), master_key, keys, blobs);
        if let Some(mail) = &config.mail {
            let host = basic_admin_core::did::web_host(&config.public_url).replace("%3A", ":");
            app = app.with_mailer(basic_admin_app::mail::Mailer::start(mail, &host)?);
        }
        let mut background =
            vec![app.revocations.spawn_sync(app.store.clone(), config.access_token_ttl), app.keys.spawn_refresh()];
        crypto::password::warm_up();
        let rate_limits = Arc::new(rate_limit::RateLimits::new(
            config.rate_limit_auth_per_minute,
            config.rate_limit_schema_utils_per_minute,
            config.trusted_proxies.clone(),
        ));
        background.extend(cache::spawn_listener(&app).await);
        background.push(app.key_usage.spawn_flush(app.store.clone(), config.key_usage_flush));
        background.push(services::uploads::spawn_sweeper(app.clone()));
        background.push(basic_admin_app::auth::purge::spawn(app.store.clone(), config.access_token_ttl));
        let state =
            AppState::new(state::Shared { config: Arc::new(config), app, metrics: Metrics::new(), rate_limits });
        Ok(Self { state, api, openapi, background })
    }

    /// Ends the tasks that run beside the server (revocation sync).
    pub fn stop_background(&self) {
        for task in &self.background {
            task.abort();
        }
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The server's OpenAPI document.
    pub fn openapi(&self) -> &utoipa::openapi::OpenApi {
        &self.openapi
    }

    /// The whole server as one service: every route behind the common
    /// layers, `/a/` and `/a` the same route. What `serve` runs; in-process
    /// callers (tests through `tower::ServiceExt::oneshot`) get the same.
    pub fn router(&self) -> http::Service {
        self.router_with(Router::new())
    }

    /// [`App::router`] with more routes beside the API's, behind the same
    /// layers (for embedding, and for tests of the layers themselves).
    pub fn router_with(&self, extra: Router<AppState>) -> http::Service {
        let limits = http::Limits {
            max_body_bytes: self.state.config.max_body_bytes,
            request_timeout: self.state.config.request_timeout,
        };
        let router = self
            .api
            .clone()
            .merge(routes::operational(&self.openapi))
            .merge(extra)
            .fallback(http::not_found)
            // The rate limits, for the routes that declare a group.
            .layer(axum::Extension(self.state.rate_limits.clone()))
            .with_state(self.state.clone());
        http::complete(http::with_layers(router, self.state.metrics.clone(), &limits))
    }

    /// Serves until `shutdown` completes and the requests in flight are
    /// answered, then writes what is pending and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.serve_with(listener, Router::new(), shutdown).await
    }

    /// [`App::serve`] with more routes (see [`App::router_with`]).
    pub async fn serve_with(
        self,
        listener: TcpListener,
        extra: Router<AppState>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let result = http::serve(listener, self.router_with(extra), shutdown).await;
        self.stop_background();
        self.state.app.key_usage.flush(&*self.state.app.store).await;
        self.state.app.store.close().await;
        result
    }
}

/// Creates the data folder, readable by this user only: it holds the master
/// key and the embedded database.
pub fn create_data_dir(path: &std::path::Path) -> Result<(), StartError> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| StartError::DataDir { path: path.display().to_string(), source })
}

/// Opens the backend that the database URL's scheme names.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let url = &config.database_url;
    let store_error = |source| StartError::Store { url: redact_url(url), source };
    if url.starts_with("sqlite:") {
        Ok(Arc::new(basic_admin_store_sqlite::open(url).await.map_err(store_error)?))
    } else if config.is_postgres() {
        Ok(Arc::new(basic_admin_store_postgres::open(url, config.db_max_connections).await.map_err(store_error)?))
    } else {
        Err(StartError::DatabaseScheme(redact_url(url)))
    }
}
