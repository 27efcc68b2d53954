//! One module per tag of the contract. Each declares its routes together with
//! their OpenAPI description, so the document cannot drift from the router.

mod account_pages;
mod app_data;
mod auth;
mod auth_pages;
mod cached_documents;
mod docs;
mod federation;
mod keys;
mod projects;
mod records;
mod root;
mod schemas;
mod sync_socket;
mod teams;
pub(crate) mod uploads;
mod users;
mod utils;

pub(crate) use auth_pages::see_other;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::state::AppState;

/// The API routes and the OpenAPI document that describes them.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(root::routes())
        .merge(auth::routes())
        .merge(teams::routes())
        .merge(projects::routes())
        .merge(schemas::routes())
        .merge(keys::routes())
        .merge(users::routes())
        .merge(app_data::routes())
        .merge(uploads::routes())
        .merge(federation::routes())
        .merge(utils::routes())
        .split_for_parts();
    crate::openapi::complete(&mut doc);
    (router, doc)
}

/// Routes that are not part of the API: its documentation, the sign-in
/// pages, files, live sync and metrics.
pub fn operational(openapi: &utoipa::openapi::OpenApi) -> Router<AppState> {
    docs::routes(openapi)
        .merge(auth_pages::routes())
        .merge(account_pages::routes())
        .merge(crate::console::routes())
        .merge(uploads::files())
        .merge(sync_socket::routes())
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
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(state.app.mail.as_ref().map(|m| &*m.stats)),
    )
}

/// `{ "data": … }`: the envelope of most answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Data<T> {
    pub data: T,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Deleted {
    pub message: String,
}

impl Deleted {
    pub fn new(message: &str) -> Self {
        Self { message: message.to_owned() }
    }
}

/// `{success: true, message}`: what removals answer where the contract says so.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Removed {
    pub success: bool,
    pub message: String,
}

impl Removed {
    pub fn new(message: impl Into<String>) -> Self {
        Self { success: true, message: message.into() }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Success {
    pub success: bool,
}

impl Success {
    pub fn yes() -> Self {
        Self { success: true }
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlugQuery {
    /// The slug to check
    #[param(required = true, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    slug: Option<String>,
}

impl SlugQuery {
    pub fn required(&self) -> crate::error::ApiResult<String> {
        self.slug.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
            crate::error::ApiError::bad_request("missing_slug", "The query parameter slug is required.")
                .with("slugified", "")
        })
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SlugAvailability {
    /// Whether the slug is available
    pub available: bool,
}

/// For `#[serde(default, deserialize_with = "nullable")]`: a JSON field that
/// may be absent (`None`), null (`Some(None)`) or set.
pub fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    <Option<String> as serde::Deserialize>::deserialize(d).map(Some)
}

/// `{id}`: the project a route is about (its UUID, or the hex form where the route is public).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProjectPath {
    /// The project's id
    pub id: String,
}
