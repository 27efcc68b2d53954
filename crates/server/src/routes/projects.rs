//! The `projects` tag: projects, their settings and public profiles.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use basic_admin_core::settings;
use basic_admin_core::store::Project;
use basic_admin_core::time::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Data, Deleted, ProjectPath, SlugAvailability, SlugQuery};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::openapi::{AccessErrors, ErrorBody, SettingsErrorBody, SlugErrorBody};
use crate::state::AppState;
use basic_admin_app::services::projects::{self, Changes, SettingsEdit};
use basic_admin_app::services::slugs;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(slug_available))
        .routes(routes!(get, update, delete))
        .routes(routes!(profile))
        .routes(routes!(get_settings, patch_settings, delete_settings))
}

#[derive(Serialize, ToSchema)]
struct Styles {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    background_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ListedProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    icon_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    styles: Option<Styles>,
}

#[derive(Serialize, ToSchema)]
struct ListedProject {
    id: Uuid,
    name: String,
    slug: String,
    /// The whole profile; `icon_url` and `styles.background_url` when set.
    #[schema(value_type = ListedProfile)]
    profile: Value,
    team_id: Uuid,
    team_name: String,
    team_slug: String,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

/// Get user projects
///
/// The projects of every team the caller belongs to.
#[utoipa::path(
    get,
    path = "/project",
    tag = "projects",
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The caller's projects", body = Data<Vec<ListedProject>>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The token lacks the admin scope", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Data<Vec<ListedProject>>>> {
    let data = projects::list(&state.app, &caller)
        .await?
        .into_iter()
        .map(|p| ListedProject {
            id: p.project.id,
            name: p.project.name,
            slug: p.project.slug.into_inner(),
            profile: p.project.profile,
            team_id: p.team.id,
            team_name: p.team.name,
            team_slug: p.team.slug.into_inner(),
            created_at: p.project.created_at,
        })
        .collect();
    Ok(Json(Data { data }))
}

#[derive(Deserialize, ToSchema)]
struct CreateProject {
    /// Name of the project
    name: String,
    /// ID of the team that owns this project
    team_id: String,
    /// URL-friendly slug for the project; made from the name when left out
    #[schema(required = true)]
    slug: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct CreatedProject {
    id: Uuid,
    name: String,
    slug: String,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

/// Create a new project
///
/// In a team where the caller is owner, admin or member.
#[utoipa::path(
    post,
    path = "/project",
    tag = "projects",
    security(("bearerAuth" = [])),
    request_body = CreateProject,
    responses(
        (status = 201, description = "Project created", body = Data<CreatedProject>),
        (status = 400, description = "Invalid name or slug", body = ErrorBody),
        AccessErrors,
        (status = 409, description = "The slug is taken", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateProject>,
) -> ApiResult<(StatusCode, Json<Data<CreatedProject>>)> {
    let project = projects::create(&state.app, &caller, &body.name, &body.team_id, body.slug.as_deref()).await?;
    let data = CreatedProject {
        id: project.id,
        name: project.name,
        slug: project.slug.into_inner(),
        created_at: project.created_at,
    };
    Ok((StatusCode::CREATED, Json(Data { data })))
}

/// Check project slug availability
#[utoipa::path(
    get,
    path = "/project/slug",
    tag = "projects",
    params(SlugQuery),
    responses(
        (status = 200, description = "Whether the slug is free", body = SlugAvailability),
        (status = 400, description = "Not a valid slug; `slugified` suggests one", body = SlugErrorBody),
    )
)]
async fn slug_available(
    State(state): State<AppState>,
    Query(query): Query<SlugQuery>,
) -> ApiResult<Json<SlugAvailability>> {
    let slug = slugs::parse(&query.required()?)?;
    Ok(Json(SlugAvailability { available: !state.app.store.project_slug_taken(slug.as_str()).await? }))
}

#[derive(Serialize, ToSchema)]
struct ProjectView {
    id: Uuid,
    name: String,
    slug: String,
    /// Left out when the project has none
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    website: Option<String>,
    #[schema(value_type = Object)]
    profile: Value,
    team_id: Uuid,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    updated_at: DateTime<Utc>,
}

impl From<Project> for ProjectView {
    fn from(p: Project) -> Self {
        Self {
            id: p.id,
            name: p.name,
            slug: p.slug.into_inner(),
            website: p.website,
            profile: p.profile,
            team_id: p.team_id,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Get project details
#[utoipa::path(
    get,
    path = "/project/{id}",
    tag = "projects",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The project", body = Data<ProjectView>),
        AccessErrors,
    )
)]
async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Data<ProjectView>>> {
    Ok(Json(Data { data: projects::get(&state.app, &caller, &path.id).await?.into() }))
}

#[derive(Deserialize, ToSchema, Default)]
struct ProjectChanges {
    /// New name for the project
    name: Option<String>,
    /// New URL-friendly slug for the project
    slug: Option<String>,
    /// Project website URL (http or https); null or "" clears it
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<String>)]
    website: Option<Option<String>>,
    /// Merged into the profile: each key set, or removed when null (16 KiB at most)
    #[schema(value_type = Option<Object>)]
    profile: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
struct UpdateProject {
    data: ProjectChanges,
}

/// Update project details
///
/// Only the fields given change (owner, admins and members).
#[utoipa::path(
    patch,
    path = "/project/{id}",
    tag = "projects",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = UpdateProject,
    responses(
        (status = 200, description = "The updated project", body = Data<ProjectView>),
        (status = 400, description = "Invalid name, slug, website or profile", body = ErrorBody),
        AccessErrors,
        (status = 409, description = "The slug is taken", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    Json(body): Json<UpdateProject>,
) -> ApiResult<Json<Data<ProjectView>>> {
    let d = body.data;
    let changes = Changes { name: d.name, slug: d.slug, website: d.website, profile: d.profile };
    Ok(Json(Data { data: projects::update(&state.app, &caller, &path.id, changes).await?.into() }))
}

/// Delete a project
///
/// With everything that belongs to it: keys, schemas, users and their data,
/// settings, images (owner and admins). This cannot be undone.
#[utoipa::path(
    delete,
    path = "/project/{id}",
    tag = "projects",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Deleted>> {
    projects::delete(&state.app, &caller, &path.id).await?;
    Ok(Json(Deleted::new("The project was deleted.")))
}

#[derive(Serialize, ToSchema)]
struct AuthSettings {
    redirect_uris: Vec<String>,
}

#[derive(Serialize, ToSchema)]
struct PublicProfile {
    id: Uuid,
    name: String,
    slug: String,
    /// Left out when the project has none
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    website: Option<String>,
    #[schema(value_type = Object)]
    profile: Value,
    auth: AuthSettings,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

/// Get project public profile
///
/// What anyone may know of a project, including its redirect URIs (for
/// client discovery). The id may be the UUID or its hex form.
#[utoipa::path(
    get,
    path = "/project/{id}/profile",
    tag = "projects",
    params(ProjectPath),
    responses(
        (status = 200, description = "The public profile", body = Data<PublicProfile>),
        (status = 404, description = "No such project", body = ErrorBody),
    )
)]
async fn profile(State(state): State<AppState>, Path(path): Path<ProjectPath>) -> ApiResult<Json<Data<PublicProfile>>> {
    let p = projects::public(&state.app, &path.id).await?;
    let data = PublicProfile {
        auth: AuthSettings { redirect_uris: settings::redirect_uris(&p.settings) },
        id: p.id,
        name: p.name,
        slug: p.slug.into_inner(),
        website: p.website,
        profile: p.profile,
        created_at: p.created_at,
    };
    Ok(Json(Data { data }))
}

#[derive(Serialize, ToSchema)]
struct SettingsView {
    auth: AuthSettings,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // The body is read as JSON to report unknown keys precisely; this documents it.
struct SettingsChange {
    auth: Option<AuthChange>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AuthChange {
    /// At most 10 in all: https, http on localhost, or a private-use scheme
    redirect_uris: Option<Vec<String>>,
}

/// Get project settings
#[utoipa::path(
    get,
    path = "/project/{id}/settings",
    tag = "projects",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The settings", body = Data<SettingsView>),
        AccessErrors,
    )
)]
async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Data<Value>>> {
    Ok(Json(Data { data: projects::settings(&state.app, &caller, &path.id).await? }))
}

/// Update project settings
///
/// Adds the given redirect URIs to the project's (owner and admins).
#[utoipa::path(
    patch,
    path = "/project/{id}/settings",
    tag = "projects",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = SettingsChange,
    responses(
        (status = 200, description = "The settings", body = Data<SettingsView>),
        (status = 400, description = "Invalid settings (with `details`)", body = SettingsErrorBody),
        AccessErrors,
    )
)]
async fn patch_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    Json(body): Json<Map<String, Value>>,
) -> ApiResult<Json<Data<Value>>> {
    let data =
        projects::change_settings(&state.app, &caller, &path.id, &Value::Object(body), SettingsEdit::Add).await?;
    Ok(Json(Data { data }))
}

/// Delete specific settings values
///
/// Removes the given redirect URIs (owner and admins).
#[utoipa::path(
    delete,
    path = "/project/{id}/settings",
    tag = "projects",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = SettingsChange,
    responses(
        (status = 200, description = "The settings", body = Data<SettingsView>),
        (status = 400, description = "Invalid settings (with `details`)", body = SettingsErrorBody),
        AccessErrors,
    )
)]
async fn delete_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    Json(body): Json<Map<String, Value>>,
) -> ApiResult<Json<Data<Value>>> {
    let data =
        projects::change_settings(&state.app, &caller, &path.id, &Value::Object(body), SettingsEdit::Remove).await?;
    Ok(Json(Data { data }))
}
