//! Public documents answered from memory: rendered once, kept in
//! [`crate::cache`], revalidated by clients with `If-None-Match`.

use std::future::Future;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::cache::Document;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A strong ETag for a body: part of its SHA-256.
pub fn etag(body: &[u8]) -> String {
    let hash = crate::crypto::token_hash_bytes(body);
    format!("\"{}\"", &hash[..32])
}

/// The body (JSON), or 304 when the client holds it already.
pub fn answer(headers: &HeaderMap, body: Vec<u8>, etag: &str, cache_control: &'static str) -> Response {
    let cache = [(CACHE_CONTROL, HeaderValue::from_static(cache_control))];
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let etag = HeaderValue::from_str(etag).expect("hex is a valid header");
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache, [(ETAG, etag)]).into_response();
    }
    let json = [(CONTENT_TYPE, HeaderValue::from_static("application/json"))];
    (cache, [(ETAG, etag)], json, body).into_response()
}

/// `document` of `project` from memory, or rendered by `render` (from what
/// it reads now) and kept for the next request.
pub async fn cached<F, T>(
    state: &AppState,
    headers: &HeaderMap,
    project: Uuid,
    document: Document,
    cache_control: &'static str,
    render: F,
) -> ApiResult<Response>
where
    F: Future<Output = ApiResult<T>>,
    T: serde::Serialize,
{
    if let Some(hit) = state.caches.document(project, document) {
        return Ok(answer(headers, hit.body.clone(), &hit.etag, cache_control));
    }
    let generation = state.caches.generation();
    let body = serde_json::to_vec(&render.await?).map_err(ApiError::internal)?;
    let etag = etag(&body);
    state.caches.put_document(project, document, body.clone(), etag.clone(), generation);
    Ok(answer(headers, body, &etag, cache_control))
}
