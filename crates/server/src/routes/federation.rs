//! The `federation` tag: what other servers read to know a project.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProjectPath, cached_documents};
use crate::error::ApiResult;
use crate::openapi::ErrorBody;
use crate::state::AppState;
use basic_admin_app::cache::Document;
use basic_admin_app::services::federation;

/// Short enough that a change of redirect URIs or icon reaches remote
/// servers soon; revalidation with `If-None-Match` is cheap.
const CACHE_CONTROL: &str = "public, max-age=60";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(did_document)).routes(routes!(client_metadata))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(non_snake_case)]
struct HexPath {
    /// The project's id without dashes (its UUID works too)
    hexId: String,
}

/// Get project DID document
///
/// The project's `did:web` document: its Ed25519 key (a `Multikey`, for
/// authentication and assertions) and where its client metadata is.
/// Public; cached, with an ETag.
#[utoipa::path(
    get,
    path = "/projects/{hexId}/did.json",
    tag = "federation",
    params(HexPath),
    responses(
        (status = 200, description = "DID document", body = Object),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 404, description = "Project not found", body = ErrorBody),
        (status = 500, description = "Internal server error", body = ErrorBody),
    )
)]
async fn did_document(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<HexPath>,
) -> ApiResult<Response> {
    let id = federation::public_id(&path.hexId)?;
    let render = async || {
        federation::did_document(&state.app, &federation::public_project(&state.app, &path.hexId).await?.0).await
    };
    cached_documents::cached(&state.app.caches, &headers, id, Document::DidDocument, CACHE_CONTROL, render).await
}

/// Get client metadata document
///
/// The project as an OAuth client (`client_id` is this document's URL), with
/// its redirect URIs and latest schema. Public; cached, with an ETag.
#[utoipa::path(
    get,
    path = "/projects/{id}/client-metadata.json",
    tag = "federation",
    params(ProjectPath),
    responses(
        (status = 200, description = "Client metadata document", body = federation::ClientMetadata),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 404, description = "Project not found", body = ErrorBody),
    )
)]
async fn client_metadata(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Response> {
    let id = federation::public_id(&path.id)?;
    let hex = !path.id.contains('-');
    let render = async || {
        let (project, hex) = federation::public_project(&state.app, &path.id).await?;
        federation::client_metadata(&state.app, &project, hex).await
    };
    cached_documents::cached(&state.app.caches, &headers, id, Document::ClientMetadata { hex }, CACHE_CONTROL, render)
        .await
}
