//! One module per tag of the contract. Each declares its routes together with
//! their OpenAPI description, so the document cannot drift from the router.

mod auth;
mod auth_pages;
mod docs;
mod root;
mod utils;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::state::AppState;

/// The API routes and the OpenAPI document that describes them.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(root::routes())
        .merge(auth::routes())
        .merge(utils::routes())
        .split_for_parts()
}

/// Routes that are not part of the API: its documentation and metrics.
pub fn operational(openapi: &utoipa::openapi::OpenApi) -> Router<AppState> {
    docs::routes(openapi)
        .merge(auth_pages::routes())
        .route("/metrics", get(metrics))
        // Where OpenID Connect clients look for the issuer's metadata.
        .route("/.well-known/openid-configuration", get(root_discovery))
}

async fn root_discovery(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> crate::extract::Json<serde_json::Value> {
    crate::extract::Json(auth::discovery(&state))
}

async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
