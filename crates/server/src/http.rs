//! The HTTP stack every route sits behind, and the server loop.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Router, ServiceExt};
use tokio::net::TcpListener;
use tower::{Layer as _, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::metrics::{self, Metrics};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Settings of the stack that come from the configuration.
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

/// Wraps every route (and the fallbacks) in the common layers, outermost first:
/// request id, trace, CORS, compression, JSON errors, metrics, panic catcher,
/// timeout, body limit.
pub fn with_layers(router: Router, metrics: Metrics, limits: &Limits) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(3600));
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
            // The path only: query strings can carry codes and tokens.
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(cors)
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn(safety_headers))
            .layer(middleware::from_fn(json_errors))
            .layer(middleware::from_fn_with_state(metrics, metrics::record))
            .layer(CatchPanicLayer::custom(|_panic| ApiError::internal("a handler panicked").into_response()))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout))
            .layer(DefaultBodyLimit::max(limits.max_body_bytes)),
    )
}

/// The answer for a path no route has.
pub async fn not_found(request: Request) -> ApiError {
    ApiError::not_found(format!("There is no route {} {}.", request.method(), request.uri().path()))
}

/// Rewrites any error response that is not JSON yet (a 405 from the router,
/// a 408 from the timeout, a rejection of an extractor we do not wrap) into
/// the error shape, keeping its status and headers.
async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    // JSON errors are already in shape; HTML pages (the sign-in forms) show
    // their errors to people.
    let is_shaped = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_shaped {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let message = match status {
        // The router adds the Allow header after this layer has run.
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("This route does not accept the method {method}; see the Allow header.")
        }
        StatusCode::REQUEST_TIMEOUT => "The request took too long to answer.".to_owned(),
        s if s.is_server_error() => "Something went wrong on our side.".to_owned(),
        s => text.unwrap_or_else(|| s.canonical_reason().unwrap_or("Error").to_owned()),
    };
    let error = ApiError::new(status, ApiError::code_for(status), message);
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, axum::body::Body::from(error.body().to_string()))
}

/// The policy of every HTML page: no scripts at all, no framing, no referrer.
const PAGE_POLICY: [(&str, &str); 3] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
];

/// Headers every answer carries unless its route chose otherwise: answers
/// are for one caller and hold tokens and keys, so nothing is cached
/// (`no-store`) unless a route says it may be (schemas, files, federation
/// documents); HTML pages get [`PAGE_POLICY`].
async fn safety_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let is_html = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    headers.entry(CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    headers.entry(X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    if is_html {
        for (name, value) in PAGE_POLICY {
            headers.entry(name).or_insert(HeaderValue::from_static(value));
        }
    }
    response
}

/// The whole server as a service: the router with `/a/` and `/a` made the
/// same route (which must happen before routing, so outside the router).
pub type Service = NormalizePath<Router>;

pub fn complete(router: Router) -> Service {
    NormalizePathLayer::trim_trailing_slash().layer(router)
}

/// Serves `service` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    service: Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let make_service = ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(service);
    axum::serve(listener, make_service).with_graceful_shutdown(shutdown).await
}
