//! Signing in to the console (the authorization-code flow with PKCE against
//! this server's own provider), who a console request acts for, and the
//! forms: each carries a token bound to the sign-in, checked in one place.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use basic_admin_app::Caller;
use basic_admin_app::auth::console;
use basic_admin_core::model::Account;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::errors::Failure;
use super::layout;
use crate::auth::{cookies, session};
use crate::routes::see_other;
use crate::state::AppState;

const PATH: &str = "/console";
/// The sign-in's handle (the console never shows it to scripts).
const HANDLE: &str = "ba_console";
/// A sign-in under way: its `state` and PKCE verifier.
const PENDING: &str = "ba_console_signin";
/// Where to go once signed in.
const NEXT: &str = "ba_console_next";

fn cookie(state: &AppState, name: &str, value: &str, max_age: u64) -> String {
    cookies::set_at(PATH, name, value, max_age, session::secure(state))
}

/// A person signed in to the console: who they are, what the use-cases take
/// as the caller, and the token their forms carry.
pub struct Console {
    pub caller: Caller,
    pub account: Account,
    pub token: String,
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let handle = cookies::get(&parts.headers, HANDLE);
        let found = match &handle {
            Some(handle) => console::caller(&state.app, handle).await.map_err(|e| Failure::from(e).into_response())?,
            None => None,
        };
        match (found, handle) {
            (Some((caller, account)), Some(handle)) => {
                Ok(Console { caller, account, token: console::form_token(&state.app, &handle) })
            }
            // Back here once signed in; a form's body cannot be sent again.
            _ => {
                let next = if parts.method == Method::GET { parts.uri.path() } else { PATH };
                let mut answer = see_other(&format!("/console/sign-in?next={next}"), vec![]);
                if let Ok(value) = cookie(state, HANDLE, "", 0).parse() {
                    answer.headers_mut().append(axum::http::header::SET_COOKIE, value);
                }
                Err(answer)
            }
        }
    }
}

/// A form sent by a signed-in person, its token checked: a form without
/// it, or with another sign-in's, is refused (403) before anything is read.
pub struct Submitted<T> {
    pub console: Console,
    pub form: T,
}

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Submitted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let console = Console::from_request_parts(&mut parts, state).await?;
        let refused = |status, message: &str| Failure::page(status, message).into_response();
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| refused(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
        let token: Token = serde_urlencoded::from_bytes(&bytes).unwrap_or(Token { csrf: String::new() });
        if !basic_admin_app::crypto::constant_time_eq(token.csrf.as_bytes(), console.token.as_bytes()) {
            return Err(refused(StatusCode::FORBIDDEN, "This form has expired: reload the page and try again."));
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| refused(StatusCode::BAD_REQUEST, &format!("The form could not be read: {e}.")))?;
        Ok(Submitted { console, form })
    }
}

/// A form with nothing but its token.
#[derive(Deserialize)]
pub struct NoFields {}

/// A form that asks to type a name to confirm.
#[derive(Deserialize)]
pub struct Confirm {
    confirm: String,
}

impl Confirm {
    /// Whether what was typed is `slug`.
    pub fn names(&self, slug: &str) -> bool {
        self.confirm.trim() == slug
    }
}

/// Where to go back to: a console page, never another site.
fn local_next(next: Option<&str>) -> &str {
    next.filter(|n| {
        n.starts_with("/console") && n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_'))
    })
    .unwrap_or(PATH)
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

/// Starts the authorization-code flow: to the provider's sign-in (or,
/// already signed in there, straight back with a code).
pub async fn sign_in(State(state): State<AppState>, Query(query): Query<SignInQuery>) -> Response {
    let started = console::start(&state.app);
    let ttl = console::PENDING_TTL_SECS;
    let next = local_next(query.next.as_deref());
    let cookies = vec![cookie(&state, PENDING, &started.pending, ttl), cookie(&state, NEXT, next, ttl)];
    see_other(&started.authorize_url, cookies)
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The way back from the provider: the code is exchanged, and the sign-in
/// kept on the server.
pub async fn callback(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<CallbackQuery>) -> Response {
    let again = |status, message: &str| layout::signed_out_page(status, message).into_response();
    let (Some(code), Some(returned)) = (q.code, q.state) else {
        return match q.error.as_deref() {
            Some("access_denied") => again(StatusCode::FORBIDDEN, "Signing in was cancelled."),
            _ => again(StatusCode::BAD_REQUEST, "The sign-in came back without a code."),
        };
    };
    let pending = cookies::get(&headers, PENDING);
    match console::finish(&state.app, pending.as_deref(), &code, &returned).await {
        Ok(signed_in) => {
            let next = cookies::get(&headers, NEXT);
            let cookies = vec![
                cookie(&state, HANDLE, &signed_in.handle, signed_in.lifetime_secs),
                cookie(&state, PENDING, "", 0),
                cookie(&state, NEXT, "", 0),
            ];
            see_other(local_next(next.as_deref()), cookies)
        }
        Err(e) => {
            let failure = Failure::from(e);
            again(failure.status(), &format!("{} Sign in again.", failure.message()))
        }
    }
}

/// Signs out of the console: its sign-in is revoked on the server.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap, _: Submitted<NoFields>) -> Response {
    if let Some(handle) = cookies::get(&headers, HANDLE)
        && let Err(e) = console::end(&state.app, &handle).await
    {
        return Failure::from(e).into_response();
    }
    see_other("/console/signed-out", vec![cookie(&state, HANDLE, "", 0)])
}

pub async fn signed_out() -> Response {
    layout::signed_out_page(StatusCode::OK, "You are signed out of the console.").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_pages_are_gone_back_to() {
        assert_eq!(local_next(Some("/console/team/acme")), "/console/team/acme");
        for elsewhere in ["https://evil.example/", "//evil.example/console", "/auth/account", "/console?x=<y>"] {
            assert_eq!(local_next(Some(elsewhere)), PATH, "{elsewhere}");
        }
        assert_eq!(local_next(None), PATH);
    }
}
