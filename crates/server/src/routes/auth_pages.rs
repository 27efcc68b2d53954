//! The pages a browser sees during sign-in: sign in, sign up, consent,
//! sign out. They are part of the authorization flow, not of the API, so
//! they are not in the OpenAPI document.

use axum::extract::{RawQuery, State};
use axum::handler::Handler as _;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use basic_admin_core::model::Account;
use serde::Deserialize;

use crate::auth::pages::{self, ConsentPage, FormPage, Page};
use crate::auth::{cookies, session};
use crate::error::ApiError;
use crate::rate_limit::{self, Group};
use crate::state::AppState;
use basic_admin_app::auth::account_links::{self, SendError};
use basic_admin_app::auth::accounts::{self, SignInError, SignUp, SignUpError};
use basic_admin_app::auth::oauth_provider::{self, AuthorizeError, AuthorizeParams, AuthorizeRequest};
use basic_admin_app::auth::two_factor::{self, TwoFactorError};
use basic_admin_app::mail::MailError;

pub fn routes() -> Router<AppState> {
    // Forms sent check passwords and grant access: limited per client address.
    let limited = || from_fn_with_state(Group::Auth, rate_limit::limit);
    Router::new()
        .route("/auth/login", get(login_page).post(login.layer(limited())))
        .route("/auth/login/code", get(code_page).post(code.layer(limited())))
        .route("/auth/signup", get(signup_page).post(signup.layer(limited())))
        .route("/auth/consent", get(consent_page).post(consent.layer(limited())))
        .route("/auth/logout", axum::routing::post(logout))
}

pub(crate) fn see_other(location: &str, cookies: Vec<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response();
    for cookie in cookies {
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// Checks the authorization request a page is for; the `Err` is the answer.
async fn checked(state: &AppState, query: &str) -> Result<AuthorizeRequest, Response> {
    let params: AuthorizeParams = serde_urlencoded::from_str(query).unwrap_or_default();
    oauth_provider::check(&state.app, &params).await.map_err(|e| match e {
        AuthorizeError::Here(error) => ApiError::from(error).into_response(),
        AuthorizeError::Redirect(url) => super::auth::found(&url),
    })
}

#[derive(Clone, Copy)]
enum Kind {
    SignIn,
    SignUp,
}

/// A sign-in or sign-up form, for one authorization request or (without
/// one) for the account page.
struct FormContext {
    kind: Kind,
    request: Option<AuthorizeRequest>,
    /// The request's query string, carried in the form.
    query: String,
    csrf: (String, Option<String>),
}

impl FormContext {
    /// Checks the request; the `Err` is the answer to send instead.
    async fn new(kind: Kind, state: &AppState, headers: &HeaderMap, query: String) -> Result<Self, Response> {
        let request = if query.is_empty() { None } else { Some(checked(state, &query).await?) };
        Ok(Self { kind, request, query, csrf: session::csrf(state, headers) })
    }

    fn render(self, status: StatusCode, error: Option<&str>, email: &str) -> Response {
        let page = FormPage {
            client_name: self.request.as_ref().map(|r| r.client.name.as_str()),
            csrf: &self.csrf.0,
            request: &self.query,
            error,
            email,
        };
        let content = match self.kind {
            Kind::SignIn => pages::sign_in(&page),
            Kind::SignUp => pages::sign_up(&page),
        };
        Page::new(status, content).with_cookie(self.csrf.1).into_response()
    }

    fn expired(self, email: &str) -> Response {
        self.render(StatusCode::BAD_REQUEST, Some("This form has expired. Please try again."), email)
    }

    /// Signs `account` in on this browser and moves on to consent, or to
    /// the account page.
    async fn signed_in(self, state: &AppState, headers: &HeaderMap, account: &Account) -> Response {
        let next = match self.request {
            Some(_) => format!("/auth/consent?{}", self.query),
            None => super::account_pages::ACCOUNT.to_owned(),
        };
        match session::start(state, headers, account).await {
            Ok(cookie) => see_other(&next, vec![cookie]),
            Err(e) => e.into_response(),
        }
    }
}

async fn form_page(kind: Kind, state: &AppState, headers: &HeaderMap, query: Option<String>) -> Response {
    match FormContext::new(kind, state, headers, query.unwrap_or_default()).await {
        Ok(form) => form.render(StatusCode::OK, None, ""),
        Err(answer) => answer,
    }
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    form_page(Kind::SignIn, &state, &headers, query).await
}

async fn signup_page(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    form_page(Kind::SignUp, &state, &headers, query).await
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    request: String,
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    from: crate::client_addr::ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let context = match FormContext::new(Kind::SignIn, &state, &headers, form.request).await {
        Ok(context) => context,
        Err(answer) => return answer,
    };
    if !session::csrf_ok(&headers, &form.csrf) {
        return context.expired(&form.email);
    }
    match accounts::sign_in(&state.app, &form.email, form.password, from.bucket()).await {
        Ok(account) => match two_factor::is_on(&state.app, &account).await {
            Ok(true) => {
                let pending = two_factor::pending(&state.app, &account);
                let secs = two_factor::PENDING_TTL.as_secs();
                let cookie = cookies::set(cookies::SECOND_FACTOR, &pending, secs, session::secure(&state));
                see_other(&format!("/auth/login/code?{}", context.query), vec![cookie])
            }
            Ok(false) => context.signed_in(&state, &headers, &account).await,
            Err(e) => ApiError::from(e).into_response(),
        },
        Err(SignInError::Rejected) => {
            context.render(StatusCode::UNAUTHORIZED, Some("Wrong email or password."), &form.email)
        }
        Err(e @ SignInError::Throttled(wait)) => {
            pages::retry_after(context.render(StatusCode::TOO_MANY_REQUESTS, Some(&e.to_string()), &form.email), wait)
        }
        Err(SignInError::Store(e)) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct SignUpForm {
    csrf: String,
    request: String,
    email: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    password: String,
}

async fn signup(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<SignUpForm>) -> Response {
    let context = match FormContext::new(Kind::SignUp, &state, &headers, form.request).await {
        Ok(context) => context,
        Err(answer) => return answer,
    };
    if !session::csrf_ok(&headers, &form.csrf) {
        return context.expired(&form.email);
    }
    let email = form.email.clone();
    let new = SignUp { email: form.email, username: Some(form.username), name: form.name, password: form.password };
    match accounts::create(&*state.app.store, new).await {
        Ok(account) => {
            match account_links::send_verification(&state.app, &account).await {
                Ok(()) | Err(SendError::Mail(MailError::Off)) => {}
                Err(e) => tracing::warn!(error = %e, "no confirmation mail on sign-up"),
            }
            context.signed_in(&state, &headers, &account).await
        }
        Err(SignUpError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => context.render(StatusCode::BAD_REQUEST, Some(&capitalized(&e.to_string())), &email),
    }
}

/// An error's text as a sentence: capital first, full stop last.
pub(super) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".").unwrap_or_default()
}

async fn consent_page(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let request = match checked(&state, &query).await {
        Ok(request) => request,
        Err(answer) => return answer,
    };
    let account = match session::account(&state, &headers).await {
        Ok(Some(account)) => account,
        Ok(None) => return super::auth::found(&format!("/auth/login?{query}")),
        Err(e) => return e.into_response(),
    };
    // The server's own console asks nothing a person must weigh: it is this
    // server, and its code can only come back here.
    if request.client.is_trusted() {
        return match oauth_provider::grant(&state.app, &account, &request).await {
            Ok(url) => see_other(&url, vec![]),
            Err(e) => not_granted(e),
        };
    }
    let csrf = session::csrf(&state, &headers);
    let content = pages::consent(&ConsentPage {
        client_name: &request.client.name,
        account_email: &account.email,
        scopes: request.scopes.iter().collect(),
        csrf: &csrf.0,
        request: &query,
    });
    Page::new(StatusCode::OK, content).with_cookie(csrf.1).into_response()
}

#[derive(Deserialize)]
struct ConsentForm {
    csrf: String,
    request: String,
    decision: String,
}

async fn consent(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<ConsentForm>) -> Response {
    let request = match checked(&state, &form.request).await {
        Ok(request) => request,
        Err(answer) => return answer,
    };
    if !session::csrf_ok(&headers, &form.csrf) {
        return see_other(&format!("/auth/consent?{}", form.request), vec![]);
    }
    let account = match session::account(&state, &headers).await {
        Ok(Some(account)) => account,
        Ok(None) => return see_other(&format!("/auth/login?{}", form.request), vec![]),
        Err(e) => return e.into_response(),
    };
    if form.decision != "allow" {
        return see_other(&oauth_provider::denied(&request), vec![]);
    }
    match oauth_provider::grant(&state.app, &account, &request).await {
        Ok(url) => see_other(&url, vec![]),
        Err(e) => not_granted(e),
    }
}

/// Why no code was granted, as a page.
fn not_granted(e: basic_admin_app::AppError) -> Response {
    match e {
        basic_admin_app::AppError::Forbidden { message, .. } => {
            let link = (super::account_pages::ACCOUNT, "Go to your account");
            Page::new(StatusCode::FORBIDDEN, pages::notice("Not allowed", Some(&message), None, link)).into_response()
        }
        e => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
    #[serde(default)]
    request: String,
}

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LogoutForm>) -> Response {
    if !session::csrf_ok(&headers, &form.csrf) {
        return see_other(&format!("/auth/consent?{}", form.request), vec![]);
    }
    match session::end(&state, &headers).await {
        Ok(cookie) => see_other(&format!("/auth/login?{}", form.request), vec![cookie]),
        Err(e) => e.into_response(),
    }
}

/// The account whose password was given on this browser moments ago.
async fn pending_account(state: &AppState, headers: &HeaderMap) -> Option<Account> {
    let token = cookies::get(headers, cookies::SECOND_FACTOR)?;
    let id = two_factor::pending_account(&state.app, &token)?;
    state.app.store.account_by_id(id).await.ok().flatten()
}

fn code_form(context: &FormContext, status: StatusCode, error: Option<&str>) -> Response {
    Page::new(status, pages::second_factor(&context.csrf.0, &context.query, error))
        .with_cookie(context.csrf.1.clone())
        .into_response()
}

async fn code_page(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let context = match FormContext::new(Kind::SignIn, &state, &headers, query).await {
        Ok(context) => context,
        Err(answer) => return answer,
    };
    if pending_account(&state, &headers).await.is_none() {
        return see_other(&format!("/auth/login?{}", context.query), vec![]);
    }
    code_form(&context, StatusCode::OK, None)
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    request: String,
    code: String,
}

async fn code(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CodeForm>) -> Response {
    let context = match FormContext::new(Kind::SignIn, &state, &headers, form.request).await {
        Ok(context) => context,
        Err(answer) => return answer,
    };
    if !session::csrf_ok(&headers, &form.csrf) {
        return code_form(&context, StatusCode::BAD_REQUEST, Some("This form has expired. Please try again."));
    }
    let Some(account) = pending_account(&state, &headers).await else {
        let error = "Too slow: sign in with your password again.";
        return context.render(StatusCode::UNAUTHORIZED, Some(error), "");
    };
    match two_factor::check(&state.app, &account, &form.code).await {
        Ok(_) => {
            let mut response = context.signed_in(&state, &headers, &account).await;
            let cleared = cookies::clear(cookies::SECOND_FACTOR, session::secure(&state));
            if let Ok(value) = cleared.parse() {
                response.headers_mut().append(SET_COOKIE, value);
            }
            response
        }
        Err(e @ TwoFactorError::WrongCode) => code_form(&context, StatusCode::UNAUTHORIZED, Some(&e.to_string())),
        Err(e @ TwoFactorError::Throttled(wait)) => {
            pages::retry_after(code_form(&context, StatusCode::TOO_MANY_REQUESTS, Some(&e.to_string())), wait)
        }
        Err(TwoFactorError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::from(basic_admin_app::AppError::Internal(e.to_string())).into_response(),
    }
}
