//! Slugs given by clients: accepted only when already in slug form, else a
//! 400 that suggests the slug form.

use basic_admin_core::model::{Slug, slugify};

use crate::error::{ApiError, ApiResult};

pub fn parse(text: &str) -> ApiResult<Slug> {
    Slug::parse(text).map_err(|e| {
        let suggestion = slugify(text).map(Slug::into_inner).unwrap_or_default();
        ApiError::bad_request("invalid_slug", format!("This is not a valid slug: {e}.")).with("slugified", suggestion)
    })
}

pub fn taken(kind: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::CONFLICT, "slug_taken", format!("This {kind} slug is taken; choose another."))
}

/// Names of teams and projects: trimmed, 1–100 characters, no control characters.
pub fn name(text: &str) -> ApiResult<String> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request("invalid_name", "A name is 1 to 100 characters."));
    }
    Ok(name.to_owned())
}
