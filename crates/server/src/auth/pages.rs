//! The HTML of the sign-in, sign-up and consent pages: plain forms, a little
//! CSS, no scripts. Every value is escaped.

use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use basic_admin_core::oauth;

const STYLE: &str = "*{box-sizing:border-box}\
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1b1b1b;margin:0;display:grid;place-items:center;min-height:100vh}\
main{background:#fff;border:1px solid #d8dbe0;border-radius:10px;padding:2rem;width:min(26rem,92vw)}\
h1{font-size:1.35rem;margin:0 0 .3rem}p.sub{color:#555;margin:0 0 1.2rem}\
label{display:block;font-weight:600;margin:.8rem 0 .25rem}\
input{width:100%;padding:.55rem .6rem;border:1px solid #9aa1ab;border-radius:6px;font:inherit}\
input:focus,button:focus,a:focus{outline:3px solid #1a5fb4;outline-offset:2px}\
button{margin-top:1.2rem;width:100%;padding:.6rem;border:0;border-radius:6px;background:#1a5fb4;color:#fff;font:inherit;font-weight:600;cursor:pointer}\
button.secondary{background:#e8eaee;color:#1b1b1b}\
button.link{display:inline;width:auto;margin:0;padding:0;background:none;color:#1a5fb4;text-decoration:underline;font-weight:400}\
.error{background:#fdecea;border:1px solid #c01c28;color:#7a0f16;border-radius:6px;padding:.5rem .7rem;margin:.5rem 0}\
ul.scopes{padding-left:1.2rem}small{color:#555}.row{display:flex;gap:.6rem}.row form{flex:1}";

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A page: HTML with headers that keep it out of frames and caches and
/// allow no script at all.
pub struct Page {
    pub status: StatusCode,
    pub title: String,
    pub body: String,
    pub cookies: Vec<String>,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{}</title><style>{STYLE}</style></head><body><main>{}</main></body></html>",
            escape(&self.title),
            self.body
        );
        let mut response = (self.status, html).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        for cookie in self.cookies {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(SET_COOKIE, value);
            }
        }
        response
    }
}

/// What every form carries: the CSRF token and the authorization request.
fn hidden(csrf: &str, request: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"request\" value=\"{}\">",
        escape(csrf),
        escape(request)
    )
}

fn error_box(error: Option<&str>) -> String {
    error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default()
}

pub struct FormPage<'a> {
    pub client_name: &'a str,
    pub csrf: &'a str,
    /// The authorization request's query string.
    pub request: &'a str,
    pub error: Option<&'a str>,
    pub email: &'a str,
}

pub fn sign_in(p: &FormPage) -> (String, String) {
    let body = format!(
        "<h1>Sign in</h1><p class=\"sub\">to continue to <strong>{client}</strong></p>{error}\
         <form method=\"post\" action=\"/auth/login\">{hidden}\
         <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required autofocus value=\"{email}\">\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>\
         <p><small>No account yet? <a href=\"/auth/signup?{query}\">Create one</a></small></p>",
        client = escape(p.client_name),
        error = error_box(p.error),
        hidden = hidden(p.csrf, p.request),
        email = escape(p.email),
        query = escape(p.request),
    );
    ("Sign in".into(), body)
}

pub fn sign_up(p: &FormPage) -> (String, String) {
    let body = format!(
        "<h1>Create your account</h1><p class=\"sub\">to continue to <strong>{client}</strong></p>{error}\
         <form method=\"post\" action=\"/auth/signup\">{hidden}\
         <label for=\"name\">Name</label><input id=\"name\" name=\"name\" autocomplete=\"name\" maxlength=\"100\">\
         <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required value=\"{email}\">\
         <label for=\"username\">Username <small>(optional)</small></label><input id=\"username\" name=\"username\" autocomplete=\"nickname\" maxlength=\"32\">\
         <label for=\"password\">Password <small>(at least {min} characters)</small></label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"{min}\" required>\
         <button type=\"submit\">Create account</button></form>\
         <p><small>Have an account? <a href=\"/auth/login?{query}\">Sign in</a></small></p>",
        client = escape(p.client_name),
        error = error_box(p.error),
        hidden = hidden(p.csrf, p.request),
        email = escape(p.email),
        min = basic_admin_core::model::account::MIN_PASSWORD,
        query = escape(p.request),
    );
    ("Create your account".into(), body)
}

fn describe(scope: &str) -> String {
    match scope {
        oauth::OPENID => "Confirm who you are".into(),
        oauth::PROFILE => "See your name and username".into(),
        oauth::EMAIL => "See your email address".into(),
        oauth::ADMIN => "Manage your teams, projects, schemas and keys (developer access)".into(),
        other => format!("Use the app's own permission “{}”", escape(other)),
    }
}

pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub account_email: &'a str,
    pub scopes: Vec<&'a str>,
    pub csrf: &'a str,
    pub request: &'a str,
}

pub fn consent(p: &ConsentPage) -> (String, String) {
    let scopes: String = p.scopes.iter().map(|s| format!("<li>{}</li>", describe(s))).collect();
    let body = format!(
        "<h1>Allow {client}?</h1><p class=\"sub\">Signed in as <strong>{email}</strong></p>\
         <p><strong>{client}</strong> asks to:</p><ul class=\"scopes\">{scopes}</ul>\
         <div class=\"row\">\
         <form method=\"post\" action=\"/auth/consent\">{hidden}<input type=\"hidden\" name=\"decision\" value=\"deny\"><button class=\"secondary\" type=\"submit\">Deny</button></form>\
         <form method=\"post\" action=\"/auth/consent\">{hidden}<input type=\"hidden\" name=\"decision\" value=\"allow\"><button type=\"submit\">Allow</button></form>\
         </div>\
         <form method=\"post\" action=\"/auth/logout\">{hidden}<p><small>Not you? <button class=\"link\" type=\"submit\">Sign out</button></small></p></form>",
        client = escape(p.client_name),
        email = escape(p.account_email),
        hidden = hidden(p.csrf, p.request),
    );
    (format!("Allow {}?", p.client_name), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_shown_is_escaped() {
        let page = FormPage {
            client_name: "<b>App</b>",
            csrf: "t\"x",
            request: "a=1&b=<2>",
            error: Some("<bad>"),
            email: "\"@x",
        };
        let (_, html) = sign_in(&page);
        assert!(html.contains("&lt;b&gt;App&lt;/b&gt;"));
        assert!(html.contains("value=\"t&quot;x\""));
        assert!(html.contains("a=1&amp;b=&lt;2&gt;"));
        assert!(html.contains("&lt;bad&gt;") && html.contains("role=\"alert\""));
        assert!(!html.contains("<b>") && !html.contains("<script"));
    }

    #[test]
    fn consent_names_the_app_and_each_scope() {
        let (title, html) = consent(&ConsentPage {
            client_name: "Todo",
            account_email: "a@b.co",
            scopes: vec!["profile", "admin", "todos:read"],
            csrf: "c",
            request: "r",
        });
        assert_eq!(title, "Allow Todo?");
        for needle in ["See your name", "developer access", "todos:read", "value=\"allow\"", "value=\"deny\""] {
            assert!(html.contains(needle), "{needle}");
        }
    }
}
