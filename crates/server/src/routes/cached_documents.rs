//! Public documents answered from memory: rendered once, kept in
//! [`basic_admin_app::cache`], revalidated by clients with `If-None-Match`.

use std::future::Future;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use basic_admin_app::cache::{Caches, Document};

/// A strong ETag for a body: part of its SHA-256.
pub fn etag(body: &[u8]) -> String {
    let hash = basic_admin_app::crypto::token_hash_bytes(body);
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

/// `document` of `project` from memory, or rendered by `render` and kept
/// for the next request. `render` reads everything it shows itself, after
/// the cache generation is taken: a change made while it reads then keeps
/// its stale answer out of the cache.
pub async fn cached<R, F, T, E>(
    caches: &Caches,
    headers: &HeaderMap,
    project: Uuid,
    document: Document,
    cache_control: &'static str,
    render: R,
) -> ApiResult<Response>
where
    R: FnOnce() -> F,
    F: Future<Output = Result<T, E>>,
    T: serde::Serialize,
    ApiError: From<E>,
{
    if let Some(hit) = caches.document(project, document) {
        return Ok(answer(headers, hit.body.clone(), &hit.etag, cache_control));
    }
    let generation = caches.generation();
    let body = serde_json::to_vec(&render().await.map_err(ApiError::from)?).map_err(ApiError::internal)?;
    let etag = etag(&body);
    caches.put_document(project, document, body.clone(), etag.clone(), generation);
    Ok(answer(headers, body, &etag, cache_control))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn what_changes_while_a_document_is_read_is_not_kept() {
        let caches = Caches::default();
        let project = Uuid::new_v4();
        let headers = HeaderMap::new();
        let stale = || async {
            // The project changes (on this node or another) while it is read.
            caches.forget(basic_admin_app::cache::Change::Project(project));
            Ok::<_, ApiError>(json!({"name": "before"}))
        };
        let answered = cached(&caches, &headers, project, Document::DidDocument, "no-cache", stale).await.unwrap();
        assert_eq!(answered.status(), StatusCode::OK);
        assert!(caches.document(project, Document::DidDocument).is_none(), "the stale answer is not kept");
        let fresh = || async { Ok::<_, ApiError>(json!({"name": "after"})) };
        cached(&caches, &headers, project, Document::DidDocument, "no-cache", fresh).await.unwrap();
        assert!(caches.document(project, Document::DidDocument).is_some());
    }
}
