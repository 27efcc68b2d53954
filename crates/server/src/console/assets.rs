//! The console's own files, built into the binary and served under names
//! that hold a hash of their content, so browsers may keep them for a year.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::errors::Failure;

struct Asset {
    /// `/console/assets/<stem>-<hash>.<extension>`
    path: String,
    content_type: &'static str,
    content: &'static str,
}

fn asset(stem: &str, extension: &str, content_type: &'static str, content: &'static str) -> Asset {
    let hash = basic_admin_app::crypto::token_hash(content);
    Asset { path: format!("/console/assets/{stem}-{}.{extension}", &hash[..12]), content_type, content }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset("console", "css", "text/css; charset=utf-8", include_str!("console.css")),
        asset("console", "js", "text/javascript; charset=utf-8", include_str!("console.js")),
    ]
});

pub fn style_path() -> &'static str {
    &ASSETS[0].path
}

pub fn script_path() -> &'static str {
    &ASSETS[1].path
}

pub async fn file(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.path.rsplit('/').next() == Some(file.as_str())) {
        Some(asset) => {
            let headers = [(CONTENT_TYPE, asset.content_type), (CACHE_CONTROL, "public, max-age=31536000, immutable")];
            (headers, asset.content).into_response()
        }
        None => Failure::page(StatusCode::NOT_FOUND, "There is no such file.").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_change_with_content() {
        let a = asset("x", "css", "text/css", "a{}");
        let b = asset("x", "css", "text/css", "b{}");
        assert!(a.path.starts_with("/console/assets/x-") && a.path.ends_with(".css"));
        assert_ne!(a.path, b.path);
        assert!(style_path().ends_with(".css") && script_path().ends_with(".js"));
    }
}
