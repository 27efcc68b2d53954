//! The `project-upload` tag: a project's icon and background image, and
//! `GET /files/…`, where their URLs point.

use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartError;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use basic_admin_core::store::Upload;
use basic_admin_core::time::rfc3339;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ProjectPath, Removed};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::openapi::{AccessErrors, ErrorBody};
use crate::state::AppState;
use basic_admin_app::services::uploads::{self, Kind};

/// Room for the largest image and the multipart framing around it.
const BODY_LIMIT: usize = 11 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_icon, delete_icon))
        .routes(routes!(upload_background, delete_background))
        .routes(routes!(list))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// `GET /files/{*path}`: stored files, served by this server.
pub fn files() -> axum::Router<AppState> {
    axum::Router::new().route("/files/{*path}", axum::routing::get(file))
}

/// The one file part of a `multipart/form-data` body (named `file`, or
/// any), read up to the kind's limit and no further.
pub(crate) async fn file_part(mut form: Multipart, kind: Kind) -> ApiResult<Bytes> {
    let unreadable =
        |e: MultipartError| ApiError::bad_request("invalid_multipart", format!("The form cannot be read: {e}."));
    while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
        if field.name() != Some("file") && field.file_name().is_none() {
            continue; // Not a file: other form fields are ignored.
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE { uploads::too_large(kind).into() } else { unreadable(e) }
        })? {
            if bytes.len() + chunk.len() > kind.max_bytes() {
                return Err(uploads::too_large(kind).into());
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err(ApiError::bad_request("no_file", "The file is empty."));
        }
        return Ok(Bytes::from(bytes));
    }
    Err(ApiError::bad_request("no_file", "Send the image as a multipart/form-data part named `file`."))
}

/// The form of an image upload.
#[derive(ToSchema)]
#[allow(dead_code)] // Documentation only: the handlers read the form part by part.
struct ImageForm {
    /// PNG, JPEG or WebP
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Serialize, ToSchema)]
struct IconUploaded {
    success: bool,
    /// Public URL of the uploaded icon
    icon_url: String,
}

#[derive(Serialize, ToSchema)]
struct BackgroundUploaded {
    success: bool,
    /// Public URL of the uploaded background image
    background_url: String,
}

/// What an upload may answer besides the access errors.
#[derive(IntoResponses)]
#[allow(dead_code)] // Documentation only: handlers answer ApiError.
enum UploadErrors {
    #[response(status = 400, description = "No file, an unreadable form, or an image that does not decode")]
    Invalid(ErrorBody),
    #[response(status = 413, description = "Larger than the limit (icon 2 MiB, background 10 MiB)")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "Not a PNG, JPEG or WebP image")]
    Unsupported(ErrorBody),
    #[response(status = 500, description = "Internal server error")]
    Internal(ErrorBody),
}

/// What a delete may answer besides the access errors.
#[derive(IntoResponses)]
#[allow(dead_code)] // Documentation only: handlers answer ApiError.
enum DeleteErrors {
    #[response(status = 500, description = "Internal server error")]
    Internal(ErrorBody),
}

/// Upload project icon
///
/// `multipart/form-data` with the image in a part named `file` (any single
/// file part is taken): PNG, JPEG or WebP, decided from its bytes; at most
/// 2 MiB and 8192×8192. Replaces the current icon (owner, admins, members;
/// keys with `upload:write`).
#[utoipa::path(
    post,
    path = "/project/{id}/upload/icon",
    tag = "project-upload",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body(content = ImageForm, content_type = "multipart/form-data", description = "The image, in a part named `file`"),
    responses(
        (status = 200, description = "Icon uploaded successfully", body = IconUploaded),
        UploadErrors,
        AccessErrors,
    )
)]
async fn upload_icon(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    form: Multipart,
) -> ApiResult<Json<IconUploaded>> {
    let grant = uploads::may_upload(&state.app, &caller, &path.id).await?;
    let bytes = file_part(form, Kind::Icon).await?;
    let icon_url = uploads::upload(&state.app, grant, Kind::Icon, bytes).await?;
    Ok(Json(IconUploaded { success: true, icon_url }))
}

/// Upload project background image
///
/// As the icon, at most 10 MiB. Shown in the profile as `styles.background_url`.
#[utoipa::path(
    post,
    path = "/project/{id}/upload/background",
    tag = "project-upload",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body(content = ImageForm, content_type = "multipart/form-data", description = "The image, in a part named `file`"),
    responses(
        (status = 200, description = "Background image uploaded successfully", body = BackgroundUploaded),
        UploadErrors,
        AccessErrors,
    )
)]
async fn upload_background(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
    form: Multipart,
) -> ApiResult<Json<BackgroundUploaded>> {
    let grant = uploads::may_upload(&state.app, &caller, &path.id).await?;
    let bytes = file_part(form, Kind::Background).await?;
    let background_url = uploads::upload(&state.app, grant, Kind::Background, bytes).await?;
    Ok(Json(BackgroundUploaded { success: true, background_url }))
}

async fn remove(state: &AppState, caller: &Caller, project: &str, kind: Kind) -> ApiResult<Json<Removed>> {
    uploads::delete(&state.app, caller, project, kind).await?;
    Ok(Json(Removed::new(format!("The project's {} was deleted.", kind.name()))))
}

/// Delete project icon
///
/// Removes the file and the profile's `icon_url`; 404 when there is none.
#[utoipa::path(
    delete,
    path = "/project/{id}/upload/icon",
    tag = "project-upload",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "Icon deleted successfully", body = Removed),
        DeleteErrors,
        AccessErrors,
    )
)]
async fn delete_icon(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Removed>> {
    remove(&state, &caller, &path.id, Kind::Icon).await
}

/// Delete project background image
///
/// Removes the file and the profile's `styles.background_url`; 404 when
/// there is none.
#[utoipa::path(
    delete,
    path = "/project/{id}/upload/background",
    tag = "project-upload",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "Background image deleted successfully", body = Removed),
        DeleteErrors,
        AccessErrors,
    )
)]
async fn delete_background(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Removed>> {
    remove(&state, &caller, &path.id, Kind::Background).await
}

#[derive(Serialize, ToSchema)]
struct ImageView {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    icon_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    background_url: Option<String>,
    /// File size in bytes
    size: i64,
    /// MIME type of the image
    #[serde(rename = "contentType")]
    content_type: String,
    #[serde(rename = "lastModified", with = "rfc3339")]
    last_modified: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
struct Images {
    icon: Option<ImageView>,
    background: Option<ImageView>,
}

#[derive(Serialize, ToSchema)]
struct ImageList {
    success: bool,
    images: Images,
}

/// Get project images
///
/// The icon and the background, each `null` when not set (every role).
#[utoipa::path(
    get,
    path = "/project/{id}/upload",
    tag = "project-upload",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "Project images retrieved successfully", body = ImageList),
        DeleteErrors,
        AccessErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<ImageList>> {
    let found = uploads::list(&state.app, &caller, &path.id).await?;
    let view = |kind: Kind| {
        found.iter().find(|u| u.kind == kind.name()).map(|u: &Upload| {
            let url = Some(uploads::file_url(&state.app, &u.object_key));
            ImageView {
                icon_url: if kind == Kind::Icon { url.clone() } else { None },
                background_url: if kind == Kind::Background { url } else { None },
                size: u.size,
                content_type: u.content_type.clone(),
                last_modified: u.created_at,
            }
        })
    };
    Ok(Json(ImageList { success: true, images: Images { icon: view(Kind::Icon), background: view(Kind::Background) } }))
}

/// A stored file: immutable (a new upload gets a new name), with an ETag
/// and single byte ranges.
async fn file(State(state): State<AppState>, headers: HeaderMap, Path(path): Path<String>) -> ApiResult<Response> {
    let content_type = uploads::file_type(&path)?;
    let etag = format!("\"{}\"", path.rsplit('/').next().unwrap_or_default());
    let common = [
        (CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        (ETAG, HeaderValue::from_str(&etag).map_err(ApiError::internal)?),
        (ACCEPT_RANGES, HeaderValue::from_static("bytes")),
    ];
    if headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let total = uploads::file_size(&state.app, &path).await?;
    let Some(range) = headers.get(RANGE).and_then(|v| v.to_str().ok()) else {
        let whole = uploads::file_bytes(&state.app, &path, None).await?;
        let length = [(CONTENT_LENGTH, HeaderValue::from(total))];
        return Ok((common, length, Body::from_stream(whole)).into_response());
    };
    match byte_range(range, total) {
        Some((start, end)) => {
            let part = uploads::file_bytes(&state.app, &path, Some(start..end + 1)).await?;
            let content_range =
                HeaderValue::from_str(&format!("bytes {start}-{end}/{total}")).map_err(ApiError::internal)?;
            let length = [(CONTENT_LENGTH, HeaderValue::from(end + 1 - start))];
            Ok((StatusCode::PARTIAL_CONTENT, common, [(CONTENT_RANGE, content_range)], length, Body::from_stream(part))
                .into_response())
        }
        None => {
            let unsatisfiable = HeaderValue::from_str(&format!("bytes */{total}")).map_err(ApiError::internal)?;
            let mut answer =
                ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable", "No such byte range.")
                    .into_response();
            answer.headers_mut().insert(CONTENT_RANGE, unsatisfiable);
            Ok(answer)
        }
    }
}

/// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range within `total` bytes, as
/// inclusive bounds.
fn byte_range(header: &str, total: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (total.checked_sub(n.min(total))?, total.checked_sub(1)?)
        }
        (start, "") => (start.parse().ok()?, total.checked_sub(1)?),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(total.checked_sub(1)?)),
    };
    (start <= end && end < total).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn byte_ranges() {
        assert_eq!(byte_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(byte_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=95-200", 100), Some((95, 99)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=5-1", 100), None);
        assert_eq!(byte_range("bytes=0-1,4-5", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=-0", 100), None);
    }
}
