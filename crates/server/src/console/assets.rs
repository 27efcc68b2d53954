//! The console's own files, built into the binary and served under names
//! that hold a hash of their content, so browsers may keep them for a year.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::errors::Failure;

const STYLE: &str = include_str!("console.css");

/// `/console/assets/console-<hash>.css`
pub static STYLE_PATH: LazyLock<String> = LazyLock::new(|| {
    let hash = basic_admin_app::crypto::token_hash(STYLE);
    format!("/console/assets/console-{}.css", &hash[..12])
});

pub async fn file(Path(file): Path<String>) -> Response {
    if STYLE_PATH.rsplit('/').next() == Some(file.as_str()) {
        let headers =
            [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=31536000, immutable")];
        return (headers, STYLE).into_response();
    }
    Failure::page(StatusCode::NOT_FOUND, "There is no such file.").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_name_changes_with_its_content() {
        assert!(STYLE_PATH.starts_with("/console/assets/console-") && STYLE_PATH.ends_with(".css"));
        let other = basic_admin_app::crypto::token_hash(&format!("{STYLE} "));
        assert!(!STYLE_PATH.contains(&other[..12]));
    }
}
