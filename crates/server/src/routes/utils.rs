use basic_admin_core::model::slugify;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::openapi::{ErrorBody, ServiceStatus};
use crate::rate_limit::{Group, limited};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(slugify_text))
        // Whole schemas compared: limited per client address.
        .merge(limited(
            Group::SchemaUtils,
            OpenApiRouter::new().routes(routes!(compare_schema)).routes(routes!(verify_update_schema)),
        ))
}

/// Health check endpoint for utils service
#[utoipa::path(get, path = "/utils", tag = "utils", responses((status = 200, description = "The utils service is up", body = ServiceStatus)))]
async fn health() -> Json<ServiceStatus> {
    Json(ServiceStatus::ok())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SlugifyQuery {
    /// Text to convert into a URL-friendly slug
    #[param(required = true, min_length = 1)]
    slug: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct SlugifyResponse {
    /// The converted URL-friendly slug
    slug: String,
}

/// Convert text to URL-friendly slug
///
/// Lowercases the text, folds accented and non-Latin letters to ASCII, and
/// joins the words with single hyphens (at most 64 characters).
#[utoipa::path(
    get,
    path = "/utils/slugify",
    tag = "utils",
    params(SlugifyQuery),
    responses(
        (status = 200, description = "The slug made from the text", body = SlugifyResponse),
        (status = 400, description = "The slug parameter is missing, or holds no letter or digit", body = ErrorBody),
    )
)]
async fn slugify_text(Query(query): Query<SlugifyQuery>) -> ApiResult<Json<SlugifyResponse>> {
    let text = query
        .slug
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing_slug", "The query parameter slug is required."))?;
    let slug = slugify(&text)
        .ok_or_else(|| ApiError::bad_request("invalid_slug", "The text has no letter or digit to make a slug from."))?;
    Ok(Json(SlugifyResponse { slug: slug.into_inner() }))
}

#[derive(Deserialize, ToSchema)]
struct SchemaBody {
    /// A schema; its `project_id` names the project to compare with
    #[schema(value_type = Object)]
    schema: serde_json::Value,
}

/// Compare two schemas
///
/// `schema` against the latest published version of its project (or the
/// empty schema of version 0): `{valid, changes}`, `valid` when nothing
/// changed.
#[utoipa::path(
    post,
    path = "/utils/schema/compareSchema",
    tag = "utils",
    request_body = SchemaBody,
    responses(
        (status = 200, description = "The changes", body = Object),
        (status = 400, description = "No project_id in the schema, or a schema past the size limits (500 tables, 500 fields a table)", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn compare_schema(
    axum::extract::State(state): axum::extract::State<AppState>,
    Json(body): Json<SchemaBody>,
) -> ApiResult<Json<basic_admin_core::schema::Comparison>> {
    Ok(Json(basic_admin_app::services::schemas::compare(&state.app, body.schema).await?))
}

/// Verify update schema
///
/// Whether `schema` could be published now: the update rules against its
/// project's latest version, or plain validation when none is published.
/// Answers `{valid, errors, …}` with status 200 either way.
#[utoipa::path(
    post,
    path = "/utils/schema/verifyUpdateSchema",
    tag = "utils",
    request_body = SchemaBody,
    responses(
        (status = 200, description = "The verdict", body = Object),
        (status = 400, description = "No project_id in the schema, or a schema past the size limits (500 tables, 500 fields a table)", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn verify_update_schema(
    axum::extract::State(state): axum::extract::State<AppState>,
    Json(body): Json<SchemaBody>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(basic_admin_app::services::schemas::verify(&state.app, body.schema).await?))
}
