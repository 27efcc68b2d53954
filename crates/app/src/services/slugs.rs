//! Slugs given by clients: accepted only when already in slug form, else a
//! 400 that suggests the slug form.

use basic_admin_core::model::{Slug, slugify};

use crate::error::{AppError, AppResult};

pub fn parse(text: &str) -> AppResult<Slug> {
    Slug::parse(text).map_err(|e| {
        let suggestion = slugify(text).map(Slug::into_inner).unwrap_or_default();
        AppError::invalid("invalid_slug", format!("This is not a valid slug: {e}.")).with("slugified", suggestion)
    })
}

pub fn taken(kind: &str) -> AppError {
    AppError::conflict("slug_taken", format!("This {kind} slug is taken; choose another."))
}

/// Names of teams and projects: trimmed, 1–100 characters, no control characters.
pub fn name(text: &str) -> AppResult<String> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid("invalid_name", "A name is 1 to 100 characters."));
    }
    Ok(name.to_owned())
}
