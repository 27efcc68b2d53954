//! The one error type of the HTTP layer, rendered as
//! `{"error": "<code>", "message": "<sentence>", …extra fields}`.

use std::borrow::Cow;

use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use basic_admin_app::AppError;
use basic_admin_core::store::StoreError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// Fields the contract adds for some endpoints (`slugified`, `valid`, …).
    /// A list rather than a map keeps the error small on the happy path.
    pub extra: Vec<(String, Value)>,
    /// Sent as `Retry-After` (seconds) with a 429.
    pub retry_after: Option<std::time::Duration>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into(), extra: Vec::new(), retry_after: None }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A 429 that says when to come back.
    pub fn too_many(wait: std::time::Duration, message: impl Into<String>) -> Self {
        Self { retry_after: Some(wait), ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message) }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A 500 whose detail goes to the log only; the client sees a generic sentence.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(detail = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side.")
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.push((key.to_owned(), value.into()));
        self
    }

    /// The code used for a status when nothing more specific is known.
    pub fn code_for(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            408 => "request_timeout",
            409 => "conflict",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            422 => "unprocessable_entity",
            429 => "too_many_requests",
            503 => "service_unavailable",
            s if s >= 500 => "internal_error",
            _ => "error",
        }
    }

    pub fn body(&self) -> Value {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let Value::Object(map) = &mut body {
            map.extend(self.extra.iter().cloned());
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // RFC 6750: every 401, and a 403 for a missing scope, says how to authenticate.
        let challenge = match (self.status, self.code.as_ref()) {
            (StatusCode::UNAUTHORIZED, "invalid_token") => Some("Bearer error=\"invalid_token\""),
            (StatusCode::UNAUTHORIZED, _) => Some("Bearer"),
            (StatusCode::FORBIDDEN, "insufficient_scope") => Some("Bearer error=\"insufficient_scope\""),
            _ => None,
        };
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(challenge) = challenge {
            response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        if let Some(wait) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        response
    }
}

/// The one place where the use-cases' errors get their status and code.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let detailed = |status, code, message, details: Vec<(&'static str, Value)>| ApiError {
            extra: details.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            ..ApiError::new(status, code, message)
        };
        match e {
            AppError::NotFound(thing) => ApiError::new(StatusCode::NOT_FOUND, thing.code(), thing.message()),
            AppError::Unauthenticated { code, message } => ApiError::new(StatusCode::UNAUTHORIZED, code, message),
            AppError::Forbidden { code, message } => ApiError::new(StatusCode::FORBIDDEN, code, message),
            AppError::Invalid { code, message, details } => detailed(StatusCode::BAD_REQUEST, code, message, details),
            AppError::TooLarge { code, message } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, message),
            AppError::UnsupportedType { code, message } => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, code, message)
            }
            AppError::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            AppError::TooMany { wait, message } => ApiError::too_many(wait, message),
            AppError::Unavailable { code, message, details } => {
                detailed(StatusCode::SERVICE_UNAVAILABLE, code, message, details)
            }
            AppError::Upstream { code, message, details } => {
                detailed(StatusCode::INTERNAL_SERVER_ERROR, code, message, details)
            }
            AppError::Store(e) => e.into(),
            AppError::Internal(detail) => ApiError::internal(detail),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("Not found."),
            StoreError::Unique(what) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("This conflicts with an existing record ({what})."),
            ),
            StoreError::ForeignKey => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "This names a record that does not exist, or one still in use.",
            ),
            StoreError::Stale => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "This was changed by someone else meanwhile; read it again and retry.",
            ),
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "The database is not available; try again shortly.",
                )
            }
            StoreError::Other(detail) => ApiError::internal(detail),
        }
    }
}
