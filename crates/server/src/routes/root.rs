use std::time::Duration;

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::Json;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(root))
}

/// How long the root route waits for the database before it says `db_conn: false`.
const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Serialize, ToSchema)]
pub struct RootStatus {
    root: bool,
    env: String,
    /// Whether the database answered a query just now.
    db_conn: bool,
    version: String,
}

/// Root route - check if server is alive
#[utoipa::path(get, path = "/", responses((status = 200, description = "The server is up", body = RootStatus)))]
async fn root(State(state): State<AppState>) -> Json<RootStatus> {
    let db_conn = matches!(tokio::time::timeout(DB_CHECK_TIMEOUT, state.app.store.ping()).await, Ok(Ok(())));
    Json(RootStatus {
        root: true,
        env: state.config.env.clone(),
        db_conn,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}
