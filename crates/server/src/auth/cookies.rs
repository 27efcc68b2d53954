//! The cookies of the sign-in pages: a session and a CSRF token.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const SESSION: &str = "ba_session";
pub const CSRF: &str = "ba_csrf";
/// A password given, a second-factor code still owed (sealed; minutes).
pub const SECOND_FACTOR: &str = "ba_2fa";

/// The value of cookie `name` in the request, if any.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value: only for this server's auth pages, never readable by
/// scripts, not sent on cross-site subrequests, and `Secure` over https.
pub fn set(name: &str, value: &str, max_age_secs: u64, secure: bool) -> String {
    set_at("/auth", name, value, max_age_secs, secure)
}

/// [`set`] for the pages under `path`.
pub fn set_at(path: &str, name: &str, value: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}")
}

pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; ba_session=xyz; b=2".parse().unwrap());
        assert_eq!(get(&headers, SESSION).as_deref(), Some("xyz"));
        assert_eq!(get(&headers, CSRF), None);
        assert_eq!(set(CSRF, "t", 60, true), "ba_csrf=t; Path=/auth; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
    }
}
