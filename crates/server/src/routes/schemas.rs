//! The `project-schema` tag: reading and publishing a project's schema.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use basic_admin_core::store::SchemaVersion;
use basic_admin_core::time::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::cached_documents;
use super::{Data, ProjectPath};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::openapi::{AccessErrors, ErrorBody};
use crate::state::AppState;
use basic_admin_app::cache::Document;
use basic_admin_app::services::schemas::{self, Versions};

/// How long clients and proxies may reuse a schema read: short, so that a
/// publish shows within seconds; `ETag` makes revalidation cheap.
const CACHE_CONTROL_VALUE: &str = "public, max-age=5";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read, publish, patch)).routes(routes!(generate))
}

#[derive(Serialize, ToSchema)]
pub struct SchemaView {
    id: Uuid,
    project_id: Uuid,
    version: i64,
    #[schema(value_type = Object)]
    schema: Value,
    /// When this version was published.
    #[serde(with = "rfc3339")]
    updated_at: DateTime<Utc>,
}

impl From<SchemaVersion> for SchemaView {
    fn from(v: SchemaVersion) -> Self {
        Self { id: v.id, project_id: v.project_id, version: v.version, schema: v.schema, updated_at: v.created_at }
    }
}

#[derive(Serialize, ToSchema)]
struct SchemaList {
    /// The latest version, the one asked for, or all (oldest first); empty when none is published.
    data: Vec<SchemaView>,
    /// How many versions there are, with `version=all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReadQuery {
    /// `all`, a version number, or nothing for the latest
    #[param(pattern = "^(all|latest|[0-9]*)$")]
    version: Option<String>,
    /// Accepted for compatibility; changes nothing
    debug: Option<bool>,
}

/// Get project schema
///
/// Public: every app reads it when it starts. `data` is always an array.
#[utoipa::path(
    get,
    path = "/project/{id}/schema",
    tag = "project-schema",
    params(ReadQuery, ProjectPath),
    responses(
        (status = 200, description = "The schema versions asked for", body = SchemaList),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "Invalid version", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<ProjectPath>,
    Query(query): Query<ReadQuery>,
) -> ApiResult<Response> {
    let _ = query.debug;
    let versions = Versions::parse(query.version.as_deref())?;
    // The latest version is what every app reads when it starts: from memory.
    let cacheable = matches!(versions, Versions::Latest).then(|| Uuid::try_parse(&path.id).ok()).flatten();
    if let Some(hit) = cacheable.and_then(|id| state.app.caches.document(id, Document::LatestSchema)) {
        return Ok(cached_documents::answer(&headers, hit.body.clone(), &hit.etag, CACHE_CONTROL_VALUE));
    }
    let generation = state.app.caches.generation();
    let all = matches!(versions, Versions::All);
    let found = schemas::read(&state.app, &path.id, versions).await?;
    let count = all.then_some(found.len());
    let body = serde_json::to_vec(&SchemaList { data: found.into_iter().map(Into::into).collect(), count })
        .map_err(crate::error::ApiError::internal)?;
    let etag = cached_documents::etag(&body);
    if let Some(id) = cacheable {
        state.app.caches.put_document(id, Document::LatestSchema, body.clone(), etag.clone(), generation);
    }
    Ok(cached_documents::answer(&headers, body, &etag, CACHE_CONTROL_VALUE))
}

#[derive(Deserialize, ToSchema)]
struct SchemaBody {
    /// The schema (POST) or the part of it to change (PATCH)
    #[schema(value_type = Object)]
    schema: Value,
}

#[derive(Serialize, ToSchema)]
struct SchemaErrorBody {
    error: String,
    message: String,
    valid: bool,
    /// Each with `instancePath` and `message`, or the offending `change` and a `message`.
    #[schema(value_type = Vec<Object>)]
    errors: Vec<Value>,
}

/// Update project schema
///
/// Publishes `schema` as the next version: valid, `version` one more than
/// the current (at least 1 for the first), the same `project_id`, and no
/// field's type changed (owner, admins, members).
#[utoipa::path(
    post,
    path = "/project/{id}/schema",
    tag = "project-schema",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = SchemaBody,
    responses(
        (status = 200, description = "Published", body = Data<SchemaView>),
        (status = 400, description = "The schema or the update is not valid", body = SchemaErrorBody),
        AccessErrors,
        (status = 409, description = "That version was published meanwhile", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    Json(body): Json<SchemaBody>,
) -> ApiResult<Json<Data<SchemaView>>> {
    let published = schemas::publish(&state.app, &caller, &path.id, body.schema).await?;
    Ok(Json(Data { data: published.into() }))
}

/// Merge and update project schema
///
/// Merges `schema` into the current one (tables and fields by name; null
/// removes), sets `version` to the next unless given, then publishes it by
/// the same rules as POST.
#[utoipa::path(
    patch,
    path = "/project/{id}/schema",
    tag = "project-schema",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = SchemaBody,
    responses(
        (status = 200, description = "Published", body = Data<SchemaView>),
        (status = 400, description = "The merged schema or the update is not valid", body = SchemaErrorBody),
        AccessErrors,
        (status = 409, description = "That version was published meanwhile", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    Json(body): Json<SchemaBody>,
) -> ApiResult<Json<Data<SchemaView>>> {
    let published = schemas::patch(&state.app, &caller, &path.id, body.schema).await?;
    Ok(Json(Data { data: published.into() }))
}

#[derive(Deserialize, ToSchema)]
struct GenerateBody {
    /// What the app is, or how to change `schema` (1 to 1000 characters)
    #[schema(min_length = 1, max_length = 1000)]
    prompt: String,
    /// The project_id to put in the schema; the route's project by default
    project_id: Option<String>,
    /// A schema to change instead of starting afresh; the suggestion's version is one more
    #[schema(value_type = Option<Object>)]
    schema: Option<Value>,
}

#[derive(Serialize, ToSchema)]
struct SuggestedSchema {
    project_id: String,
    version: i64,
    #[schema(value_type = Object)]
    tables: Value,
}

#[derive(Serialize, ToSchema)]
struct Suggestion {
    success: bool,
    #[schema(value_type = SuggestedSchema)]
    schema: Value,
}

#[derive(Serialize, ToSchema)]
struct SuggestionError {
    /// Always false.
    success: bool,
    error: String,
    message: String,
}

/// Generate or update suggested schema using AI
///
/// Asks the configured OpenAI-compatible provider for a schema, checks it by
/// the schema rules (asking once more if it is not valid) and answers it.
/// Stores nothing: publish the result with POST /project/{id}/schema.
#[utoipa::path(
    post,
    path = "/project/{id}/schema/generate",
    tag = "project-schema",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = GenerateBody,
    responses(
        (status = 200, description = "A valid schema", body = Suggestion),
        (status = 400, description = "Invalid prompt or schema", body = SuggestionError),
        AccessErrors,
        (status = 500, description = "The provider failed, timed out, or gave no valid schema", body = SuggestionError),
        (status = 503, description = "No provider is configured", body = SuggestionError),
    )
)]
async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    Json(body): Json<GenerateBody>,
) -> ApiResult<Json<Suggestion>> {
    let schema =
        schemas::suggest(&state.app, &caller, &path.id, &body.prompt, body.project_id.as_deref(), body.schema.as_ref())
            .await?;
    Ok(Json(Suggestion { success: true, schema }))
}
