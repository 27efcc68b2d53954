//! What the console shows when something is refused or goes wrong: the
//! API's status and message, as a page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use basic_admin_app::AppError;

use super::layout;
use crate::error::ApiError;

/// A refusal or a fault, shown as a page with the API's status and message.
#[derive(Debug)]
pub struct Failure(ApiError);

impl Failure {
    pub fn page(status: StatusCode, message: &str) -> Self {
        Self(ApiError::new(status, ApiError::code_for(status), message))
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        // Faults are logged where ApiError is made; the page says no more.
        let title = match self.0.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::TOO_MANY_REQUESTS => "Too many requests",
            s if s.is_server_error() => "Something went wrong",
            _ => "That did not work",
        };
        layout::message_page(self.0.status, title, &self.0.message).into_response()
    }
}

pub type Answer = Result<Response, Failure>;

/// A refused form: its status and reason, to show above the form again; a
/// fault is not the form's doing, and is answered as itself.
pub fn refusal(e: AppError) -> Result<(StatusCode, String), Failure> {
    let failure = Failure::from(e);
    if failure.status().is_server_error() {
        return Err(failure);
    }
    Ok((failure.status(), failure.0.message))
}
