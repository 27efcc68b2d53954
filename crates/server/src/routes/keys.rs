//! The `project-keys` tag: API keys, managed by developers (and by keys
//! holding `keys:read`/`keys:write`).

use axum::extract::{Path, State};
use basic_admin_core::store::ApiKey;
use basic_admin_core::time::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Data, Deleted, ProjectPath};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::openapi::{AccessErrors, ErrorBody};
use crate::state::AppState;
use basic_admin_app::services::keys;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(verify))
        .routes(routes!(get, update, delete))
        .routes(routes!(regenerate))
}

#[derive(Serialize, ToSchema)]
struct KeyView {
    id: Uuid,
    label: String,
    /// Comma-separated roles.
    roles: String,
    /// Private keys are for servers; public ones hold read roles only.
    is_private: bool,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    updated_at: DateTime<Utc>,
    /// When the key was last used (recorded every few seconds); left out
    /// until it has been
    #[serde(with = "basic_admin_core::time::optional_rfc3339", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime)]
    last_used: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            label: k.label,
            roles: k.roles,
            is_private: k.is_private,
            created_at: k.created_at,
            updated_at: k.updated_at,
            last_used: k.last_used,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct NewKeyView {
    id: Uuid,
    label: String,
    roles: String,
    is_private: bool,
    /// The key itself, `bsk_<id>_<secret>`. Shown this once: store it now.
    value: String,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

impl NewKeyView {
    fn new(k: ApiKey, value: String) -> Self {
        Self { id: k.id, label: k.label, roles: k.roles, is_private: k.is_private, value, created_at: k.created_at }
    }
}

#[derive(Serialize, ToSchema)]
struct KeyEnvelope<T> {
    key: T,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct KeyPath {
    /// The project's id
    id: String,
    /// The key's id
    key_id: String,
}

/// Get project API keys
///
/// Never their secrets (every member of the team).
#[utoipa::path(
    get,
    path = "/project/{id}/key",
    tag = "project-keys",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The keys", body = Data<Vec<KeyView>>),
        AccessErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Data<Vec<KeyView>>>> {
    let keys = keys::list(&state.app, &caller, &path.id).await?;
    Ok(Json(Data { data: keys.into_iter().map(Into::into).collect() }))
}

#[derive(Deserialize, ToSchema)]
struct CreateKey {
    /// A descriptive name for the key
    label: String,
    /// Comma-separated: admin, read, project:read|write, schema:read|write, keys:read|write, users:read|write, data:read|write, upload:write
    roles: String,
    /// false makes a public key, which may hold read roles only (default true)
    #[serde(default = "yes")]
    is_private: bool,
}

fn yes() -> bool {
    true
}

/// Create new API key
///
/// Answers the key's value once; only a hash of its secret is kept (owner and admins).
#[utoipa::path(
    post,
    path = "/project/{id}/key",
    tag = "project-keys",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = CreateKey,
    responses(
        (status = 200, description = "The key, with its value", body = KeyEnvelope<NewKeyView>),
        (status = 400, description = "Invalid label or roles", body = ErrorBody),
        AccessErrors,
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    Json(body): Json<CreateKey>,
) -> ApiResult<Json<KeyEnvelope<NewKeyView>>> {
    let (key, value) = keys::create(&state.app, &caller, &path.id, &body.label, &body.roles, body.is_private).await?;
    Ok(Json(KeyEnvelope { key: NewKeyView::new(key, value) }))
}

/// Get specific API key
///
/// Never its secret (owner, admins and members).
#[utoipa::path(
    get,
    path = "/project/{id}/key/{key_id}",
    tag = "project-keys",
    params(KeyPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The key", body = KeyEnvelope<KeyView>),
        AccessErrors,
    )
)]
async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
) -> ApiResult<Json<KeyEnvelope<KeyView>>> {
    Ok(Json(KeyEnvelope { key: keys::get(&state.app, &caller, &path.id, &path.key_id).await?.into() }))
}

#[derive(Deserialize, ToSchema)]
struct UpdateKey {
    /// New label for the API key
    label: Option<String>,
    /// New comma-separated list of roles
    roles: Option<String>,
}

/// Update API key
///
/// Its label, roles, or both (owner and admins).
#[utoipa::path(
    patch,
    path = "/project/{id}/key/{key_id}",
    tag = "project-keys",
    params(KeyPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = UpdateKey,
    responses(
        (status = 200, description = "The key", body = KeyEnvelope<KeyView>),
        (status = 400, description = "Nothing to update, or an invalid label or roles", body = ErrorBody),
        AccessErrors,
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
    Json(body): Json<UpdateKey>,
) -> ApiResult<Json<KeyEnvelope<KeyView>>> {
    let key =
        keys::update(&state.app, &caller, &path.id, &path.key_id, body.label.as_deref(), body.roles.as_deref()).await?;
    Ok(Json(KeyEnvelope { key: key.into() }))
}

/// Delete API key
///
/// The key stops working at once (owner and admins).
#[utoipa::path(
    delete,
    path = "/project/{id}/key/{key_id}",
    tag = "project-keys",
    params(KeyPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn delete(State(state): State<AppState>, caller: Caller, Path(path): Path<KeyPath>) -> ApiResult<Json<Deleted>> {
    keys::delete(&state.app, &caller, &path.id, &path.key_id).await?;
    Ok(Json(Deleted::new("The key was deleted.")))
}

/// Regenerate API key
///
/// A new value with the same label and roles; the old value stops working
/// at once (owner and admins).
#[utoipa::path(
    post,
    path = "/project/{id}/key/{key_id}/regenerate",
    tag = "project-keys",
    params(KeyPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The key, with its new value", body = KeyEnvelope<NewKeyView>),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn regenerate(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<KeyPath>,
) -> ApiResult<Json<KeyEnvelope<NewKeyView>>> {
    let (key, value) = keys::regenerate(&state.app, &caller, &path.id, &path.key_id).await?;
    Ok(Json(KeyEnvelope { key: NewKeyView::new(key, value) }))
}

#[derive(Deserialize, ToSchema)]
struct VerifyKey {
    /// The key to check, `bsk_<key id>_<secret>`
    #[schema(pattern = "^bsk_[0-9a-f]{32}_[0-9A-Za-z]{43}$")]
    key: String,
    /// When given, the key must also be this one
    key_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct VerifiedKey {
    id: Uuid,
    label: String,
    roles: String,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
struct Verification {
    is_valid: bool,
    /// The key, when it is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<VerifiedKey>,
}

/// Verify API key
///
/// Whether a key is a live key of this project, and what it may do. A wrong,
/// deleted or regenerated key, or a key of another project, is `is_valid:
/// false` (status 200); text that is not a key at all is a 400. Too many
/// failed checks from one address or against one project answer 429.
#[utoipa::path(
    post,
    path = "/project/{id}/key/verify",
    tag = "project-keys",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = VerifyKey,
    responses(
        (status = 200, description = "The verdict", body = Verification),
        (status = 400, description = "Not an API key", body = ErrorBody),
        AccessErrors,
        (status = 429, description = "Too many failed checks; see Retry-After", body = ErrorBody),
    )
)]
async fn verify(
    State(state): State<AppState>,
    from: crate::client_addr::ClientAddr,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    Json(body): Json<VerifyKey>,
) -> ApiResult<Json<Verification>> {
    let verdict = keys::verify(&state.app, &caller, &path.id, &body.key, body.key_id.as_deref(), from.bucket()).await?;
    Ok(Json(match verdict {
        keys::Verdict::Valid(k) => Verification {
            is_valid: true,
            key: Some(VerifiedKey { id: k.id, label: k.label, roles: k.roles, created_at: k.created_at }),
        },
        keys::Verdict::Invalid => Verification { is_valid: false, key: None },
    }))
}
