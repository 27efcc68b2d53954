//! The pages of a person's own account: confirming an email address,
//! resetting a forgotten password, accepting an invite from its letter, and
//! the account page. Like the sign-in
//! pages, they are not part of the API.

use axum::extract::{Path, Query, State};
use axum::handler::Handler as _;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use basic_admin_app::AppError;
use basic_admin_app::auth::account_links::{self, EmailChange, EmailChangeError, LinkError, SendError};
use basic_admin_app::auth::accounts::{self, ChangePasswordError, SignUpError};
use basic_admin_app::auth::oauth_provider;
use basic_admin_app::auth::two_factor::{self, TwoFactorError};
use basic_admin_app::mail::MailError;
use basic_admin_app::services::teams;
use basic_admin_core::model::Account;
use basic_admin_core::oauth;
use basic_admin_core::store::{LinkPurpose, SignIn};
use serde::Deserialize;

use super::auth_pages::{capitalized, see_other};
use crate::auth::pages::{self, AccountPage, ForgotPage, InvitePage, Page};
use crate::auth::session;
use crate::error::ApiError;
use crate::rate_limit::{self, Group};
use crate::state::AppState;

pub const ACCOUNT: &str = "/auth/account";

pub fn routes() -> Router<AppState> {
    let limited = || from_fn_with_state(Group::Auth, rate_limit::limit);
    Router::new()
        .route(account_links::VERIFY_PATH, get(confirm_page).post(confirm.layer(limited())))
        .route(account_links::CHANGE_EMAIL_PATH, get(change_page).post(change.layer(limited())))
        .route("/auth/account/profile", post(edit_profile))
        .route("/auth/account/email", post(change_address.layer(limited())))
        .route("/auth/forgot-password", get(forgot_page).post(forgot.layer(limited())))
        .route(account_links::RESET_PATH, get(reset_page).post(reset.layer(limited())))
        .route(ACCOUNT, get(account_page))
        .route("/auth/account/verify-email", post(resend.layer(limited())))
        .route("/auth/account/password", post(change_password.layer(limited())))
        .route("/auth/account/sessions/end", post(end_session))
        .route("/auth/account/sign-ins/end", post(end_sign_in))
        .route("/auth/account/sign-out-everywhere", post(sign_out_everywhere))
        .route("/auth/account/two-factor", get(two_factor_page).post(two_factor_start))
        .route("/auth/account/two-factor/confirm", post(two_factor_confirm.layer(limited())))
        .route("/auth/account/two-factor/off", post(two_factor_off.layer(limited())))
        .route(&format!("{}/{{id}}", teams::INVITE_PATH), get(invite_page).post(accept_invite.layer(limited())))
}

const EXPIRED_FORM: &str = "This form has expired. Please try again.";

fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    content: impl FnOnce(&str) -> (String, maud::Markup),
) -> Response {
    let (csrf, cookie) = session::csrf(state, headers);
    Page::new(status, content(&csrf)).with_cookie(cookie).into_response()
}

fn refused(status: StatusCode, title: &str, error: &str, link: (&str, &str)) -> Response {
    Page::new(status, pages::notice(title, Some(error), None, link)).into_response()
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn confirm_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    confirm_form(&state, &headers, StatusCode::OK, LinkPurpose::VerifyEmail, &q.token, None)
}

async fn change_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    confirm_form(&state, &headers, StatusCode::OK, LinkPurpose::ChangeEmail, &q.token, None)
}

/// The one-button page of an address link.
fn confirm_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    purpose: LinkPurpose,
    token: &str,
    error: Option<&str>,
) -> Response {
    page(state, headers, status, |csrf| {
        let (title, body) = pages::confirm_email(csrf, token, purpose);
        (title, maud::html! { (pages::message(error, None)) (body) })
    })
}

#[derive(Deserialize)]
struct TokenForm {
    csrf: String,
    token: String,
}

async fn confirm(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<TokenForm>) -> Response {
    use_address_link(&state, &headers, LinkPurpose::VerifyEmail, form).await
}

async fn change(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<TokenForm>) -> Response {
    use_address_link(&state, &headers, LinkPurpose::ChangeEmail, form).await
}

/// Spends a link that proves an address: the account's, or a new one.
async fn use_address_link(state: &AppState, headers: &HeaderMap, purpose: LinkPurpose, form: TokenForm) -> Response {
    if !session::csrf_ok(headers, &form.csrf) {
        return confirm_form(state, headers, StatusCode::BAD_REQUEST, purpose, &form.token, Some(EXPIRED_FORM));
    }
    let used = match purpose {
        LinkPurpose::ChangeEmail => account_links::change_email(&state.app, &form.token).await,
        _ => account_links::verify_email(&state.app, &form.token).await,
    };
    let home = (ACCOUNT, "Go to your account");
    match used {
        Ok(account) if account.email_verified() => {
            let text = format!("{} is confirmed as your email address.", account.email);
            Page::new(StatusCode::OK, pages::notice("Email address confirmed", None, Some(&text), home)).into_response()
        }
        Ok(_) => {
            let text = "This link was for an address the account no longer has.";
            refused(StatusCode::BAD_REQUEST, "Email address not confirmed", text, home)
        }
        Err(LinkError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => refused(StatusCode::BAD_REQUEST, "Email address not confirmed", &e.to_string(), home),
    }
}

fn forgot_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let mail_on = state.app.mail.is_some();
    page(state, headers, status, |csrf| pages::forgot_password(&ForgotPage { csrf, email, error, notice, mail_on }))
}

async fn forgot_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    forgot_form(&state, &headers, StatusCode::OK, "", None, None)
}

#[derive(Deserialize)]
struct ForgotForm {
    csrf: String,
    email: String,
}

async fn forgot(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<ForgotForm>) -> Response {
    let answer = |status, error: Option<&str>, notice: Option<&str>| {
        forgot_form(&state, &headers, status, &form.email, error, notice)
    };
    if !session::csrf_ok(&headers, &form.csrf) {
        return answer(StatusCode::BAD_REQUEST, Some(EXPIRED_FORM), None);
    }
    match account_links::request_reset(&state.app, &form.email).await {
        Ok(()) => {
            let minutes = account_links::RESET_TTL.as_secs() / 60;
            let text = format!(
                "If an account has this address, a link to choose a new password is on its way to it. The link works for {minutes} minutes."
            );
            answer(StatusCode::OK, None, Some(&text))
        }
        Err(SendError::Throttled(wait)) => pages::retry_after(
            answer(StatusCode::TOO_MANY_REQUESTS, Some(&SendError::Throttled(wait).to_string()), None),
            wait,
        ),
        Err(SendError::Mail(MailError::Off)) => answer(StatusCode::SERVICE_UNAVAILABLE, None, None),
        Err(SendError::Mail(e @ MailError::Busy)) => {
            answer(StatusCode::SERVICE_UNAVAILABLE, Some(&capitalized(&e.to_string())), None)
        }
        Err(SendError::Store(e)) => ApiError::from(e).into_response(),
    }
}

const ASK_AGAIN: (&str, &str) = ("/auth/forgot-password", "Ask for a new link");

async fn reset_page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    match account_links::check_reset(&*state.app.store, &q.token).await {
        Ok(()) => page(&state, &headers, StatusCode::OK, |csrf| pages::reset_password(csrf, &q.token, None)),
        Err(LinkError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => refused(StatusCode::BAD_REQUEST, "Password not reset", &e.to_string(), ASK_AGAIN),
    }
}

#[derive(Deserialize)]
struct ResetForm {
    csrf: String,
    token: String,
    password: String,
}

async fn reset(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<ResetForm>) -> Response {
    let again = |error: &str| {
        page(&state, &headers, StatusCode::BAD_REQUEST, |csrf| pages::reset_password(csrf, &form.token, Some(error)))
    };
    if !session::csrf_ok(&headers, &form.csrf) {
        return again(EXPIRED_FORM);
    }
    match account_links::reset_password(&state.app, &form.token, form.password.clone()).await {
        Ok(_) => {
            let text = "Your password is changed, and your account is signed out everywhere.";
            let mut response = Page::new(
                StatusCode::OK,
                pages::notice("Password changed", None, Some(text), ("/auth/login", "Sign in")),
            );
            response.cookies.push(session::cleared(&state));
            response.into_response()
        }
        Err(LinkError::Password(e)) => again(&capitalized(&e.to_string())),
        Err(LinkError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => refused(StatusCode::BAD_REQUEST, "Password not reset", &e.to_string(), ASK_AGAIN),
    }
}

/// Outcomes named in the account page's address after a form (POST, then
/// redirect): the page says them in its own words.
#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

fn done_text(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "verification-sent" => Some("A confirmation link is on its way to your email address."),
        "password-changed" => Some("Your password is changed, and you are signed out everywhere else."),
        "signed-out" => Some("Signed out there."),
        "signed-out-elsewhere" => Some("You are signed out everywhere else."),
        "two-factor-off" => Some("Two-factor sign-in is off."),
        "profile-saved" => Some("Saved."),
        "email-link-sent" => Some("A link is on its way to the new address: your address changes when you open it."),
        "email-changed" => Some("Your email address is changed. This server sends no mail, so it is not confirmed."),
        _ => None,
    }
}

/// The signed-in account and this browser's session, or the answer that
/// sends the browser to sign in.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<(Account, String), Response> {
    match session::current(state, headers).await {
        Ok(Some(current)) => Ok(current),
        Ok(None) => Err(see_other("/auth/login", vec![])),
        Err(e) => Err(e.into_response()),
    }
}

/// What the account page calls a client: the CLI, the console, or the
/// project's app by its name.
async fn app_name(state: &AppState, client_id: &str) -> String {
    if client_id == oauth::CLI_CLIENT_ID {
        return "The basic command line".to_owned();
    }
    match oauth_provider::resolve_client(&state.app, client_id).await {
        Ok(Some(client)) => client.name,
        _ => format!("App {client_id}"),
    }
}

/// The account page of the signed-in `(account, this session)`.
async fn account_view(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    (account, this_session): &(Account, String),
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let now = basic_admin_core::time::now();
    let store = &state.app.store;
    let two_factor = async {
        Ok(match two_factor::is_on(&state.app, account).await? {
            true => Some(store.recovery_codes_left(account.id).await?),
            false => None,
        })
    };
    let (sessions, sign_ins, two_factor) =
        match tokio::try_join!(store.sessions_of(account.id, now), store.live_sign_ins_of(account.id, now), two_factor)
        {
            Ok(found) => found,
            Err(e) => return ApiError::from(e).into_response(),
        };
    let mut named: Vec<(SignIn, String)> = Vec::with_capacity(sign_ins.len());
    for s in sign_ins {
        let app = app_name(state, &s.family.client_id).await;
        named.push((s, app));
    }
    let sign_ins = named;
    let mail_on = state.app.mail.is_some();
    page(state, headers, status, |csrf| {
        pages::account(&AccountPage {
            account,
            csrf,
            error,
            notice,
            mail_on,
            this_session,
            sessions: &sessions,
            sign_ins: &sign_ins,
            two_factor,
        })
    })
}

async fn account_page(State(state): State<AppState>, headers: HeaderMap, Query(done): Query<Done>) -> Response {
    match signed_in(&state, &headers).await {
        Ok(current) => {
            account_view(&state, &headers, StatusCode::OK, &current, None, done_text(done.done.as_deref())).await
        }
        Err(answer) => answer,
    }
}

/// Runs an account form: signed in, with its CSRF token, else the answer.
async fn account_form(state: &AppState, headers: &HeaderMap, csrf: &str) -> Result<(Account, String), Response> {
    let current = signed_in(state, headers).await?;
    if !session::csrf_ok(headers, csrf) {
        return Err(account_view(state, headers, StatusCode::BAD_REQUEST, &current, Some(EXPIRED_FORM), None).await);
    }
    Ok(current)
}

fn done(what: &str) -> Response {
    see_other(&format!("{ACCOUNT}?done={what}"), vec![])
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn resend(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let current = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    if current.0.email_verified() {
        return see_other(ACCOUNT, vec![]);
    }
    let view = |status, error: String| {
        let (state, headers, current) = (&state, &headers, &current);
        async move { account_view(state, headers, status, current, Some(&error), None).await }
    };
    match account_links::send_verification(&state.app, &current.0).await {
        Ok(()) => done("verification-sent"),
        Err(e @ SendError::Throttled(wait)) => {
            pages::retry_after(view(StatusCode::TOO_MANY_REQUESTS, e.to_string()).await, wait)
        }
        Err(SendError::Mail(e)) => view(StatusCode::SERVICE_UNAVAILABLE, capitalized(&e.to_string())).await,
        Err(SendError::Store(e)) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current: String,
    password: String,
}

async fn change_password(
    State(state): State<AppState>,
    from: crate::client_addr::ClientAddr,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let current = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    let (account, this_session) = &current;
    let result =
        accounts::change_password(&state.app, account, form.current, form.password, this_session, from.bucket()).await;
    let (status, error) = match result {
        Ok(()) => return done("password-changed"),
        Err(e @ ChangePasswordError::WrongPassword) => (StatusCode::BAD_REQUEST, e.to_string()),
        Err(ChangePasswordError::Field(e)) => (StatusCode::BAD_REQUEST, capitalized(&e.to_string())),
        Err(e @ ChangePasswordError::Throttled(wait)) => {
            let error = e.to_string();
            return pages::retry_after(
                account_view(&state, &headers, StatusCode::TOO_MANY_REQUESTS, &current, Some(&error), None).await,
                wait,
            );
        }
        Err(ChangePasswordError::Store(e)) => return ApiError::from(e).into_response(),
    };
    account_view(&state, &headers, status, &current, Some(&error), None).await
}

#[derive(Deserialize)]
struct EndSessionForm {
    csrf: String,
    session: String,
}

async fn end_session(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<EndSessionForm>) -> Response {
    let current = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    match accounts::end_session(&*state.app.store, &current.0, &form.session).await {
        Ok(true) => done("signed-out"),
        Ok(false) => {
            account_view(
                &state,
                &headers,
                StatusCode::NOT_FOUND,
                &current,
                Some("That browser is not signed in."),
                None,
            )
            .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct EndSignInForm {
    csrf: String,
    sign_in: String,
}

async fn end_sign_in(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<EndSignInForm>) -> Response {
    let current = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    let found = match form.sign_in.parse() {
        Ok(family) => accounts::end_sign_in(&state.app, &current.0, family).await,
        Err(_) => Ok(false),
    };
    match found {
        Ok(true) => done("signed-out"),
        Ok(false) => {
            account_view(&state, &headers, StatusCode::NOT_FOUND, &current, Some("That sign-in is over already."), None)
                .await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (account, this_session) = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    match accounts::end_sign_ins_elsewhere(&state.app, &account, &this_session).await {
        Ok(_) => done("signed-out-elsewhere"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn invite_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Response {
    invite_view(&state, &headers, &id, &q.token, StatusCode::OK, None).await
}

/// The invite's page; `error` says why the last attempt failed.
async fn invite_view(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    token: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let (invite, team) = match teams::invite_for_invitee(&state.app, id).await {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => {
            let text = "This invite does not exist, or has been withdrawn.";
            return refused(StatusCode::NOT_FOUND, "Invite not found", text, (ACCOUNT, "Go to your account"));
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let closed = if invite.accepted_at.is_some() {
        Some("This invite has been accepted already.")
    } else if invite.expires_at <= basic_admin_core::time::now() {
        Some("This invite has expired; ask for a new one.")
    } else {
        None
    };
    let account = match session::account(state, headers).await {
        Ok(account) => account,
        Err(e) => return e.into_response(),
    };
    let status = if closed.is_some() { StatusCode::BAD_REQUEST } else { status };
    page(state, headers, status, |csrf| {
        pages::invite(&InvitePage {
            team: &team.name,
            role: invite.roles.as_str(),
            account_email: account.as_ref().map(|a| a.email.as_str()),
            csrf,
            token,
            error: closed.or(error),
        })
    })
}

async fn accept_invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    let (account, _) = match signed_in(&state, &headers).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    if !session::csrf_ok(&headers, &form.csrf) {
        return invite_view(&state, &headers, &id, &form.token, StatusCode::BAD_REQUEST, Some(EXPIRED_FORM)).await;
    }
    match teams::accept_as(&state.app, &account, &id, Some(&form.token)).await {
        Ok(member) => {
            let team = state.app.store.team_by_id(member.team_id).await.ok().flatten();
            let text = format!("You are now a member of {}.", team.map(|t| t.name).unwrap_or_default());
            Page::new(
                StatusCode::OK,
                pages::notice("Invite accepted", None, Some(&text), (ACCOUNT, "Go to your account")),
            )
            .into_response()
        }
        Err(AppError::NotFound(_)) => {
            let text = "This invite is not for this account, or its link is incomplete.";
            invite_view(&state, &headers, &id, &form.token, StatusCode::NOT_FOUND, Some(text)).await
        }
        Err(AppError::Invalid { message, .. }) => {
            invite_view(&state, &headers, &id, &form.token, StatusCode::BAD_REQUEST, Some(&message)).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The name authenticator apps show for this server's accounts.
fn issuer(state: &AppState) -> String {
    format!("Basic ({})", basic_admin_core::did::web_host(&state.config.public_url).replace("%3A", ":"))
}

fn two_factor_failed(e: TwoFactorError) -> Response {
    match e {
        TwoFactorError::Store(e) => ApiError::from(e).into_response(),
        TwoFactorError::Internal(detail) => ApiError::from(AppError::Internal(detail)).into_response(),
        other => {
            refused(StatusCode::BAD_REQUEST, "Two-factor sign-in", &other.to_string(), (ACCOUNT, "Go to your account"))
        }
    }
}

async fn two_factor_start(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let (account, _) = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    match two_factor::begin(&state.app, &account, &issuer(&state)).await {
        Ok(_) => see_other("/auth/account/two-factor", vec![]),
        Err(e) => two_factor_failed(e),
    }
}

/// The set-up begun: the QR code, the key and the form for a first code.
async fn two_factor_setup(
    state: &AppState,
    headers: &HeaderMap,
    account: &Account,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    match two_factor::unfinished(&state.app, account, &issuer(state)).await {
        Ok(enrolment) => page(state, headers, status, |csrf| {
            pages::two_factor_setup(csrf, &enrolment.qr_svg, &enrolment.secret, error)
        }),
        Err(TwoFactorError::NotStarted | TwoFactorError::AlreadyOn) => see_other(ACCOUNT, vec![]),
        Err(e) => two_factor_failed(e),
    }
}

async fn two_factor_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok((account, _)) => two_factor_setup(&state, &headers, &account, StatusCode::OK, None).await,
        Err(answer) => answer,
    }
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    code: String,
}

async fn two_factor_confirm(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CodeForm>) -> Response {
    let Ok((account, _)) = signed_in(&state, &headers).await else {
        return see_other("/auth/login", vec![]);
    };
    if !session::csrf_ok(&headers, &form.csrf) {
        return two_factor_setup(&state, &headers, &account, StatusCode::BAD_REQUEST, Some(EXPIRED_FORM)).await;
    }
    match two_factor::confirm(&state.app, &account, &form.code).await {
        Ok(codes) => Page::new(StatusCode::OK, pages::recovery_codes(&codes)).into_response(),
        Err(e @ TwoFactorError::WrongCode) => {
            two_factor_setup(&state, &headers, &account, StatusCode::BAD_REQUEST, Some(&e.to_string())).await
        }
        Err(e @ TwoFactorError::Throttled(wait)) => pages::retry_after(
            two_factor_setup(&state, &headers, &account, StatusCode::TOO_MANY_REQUESTS, Some(&e.to_string())).await,
            wait,
        ),
        Err(e) => two_factor_failed(e),
    }
}

async fn two_factor_off(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CodeForm>) -> Response {
    let current = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    match two_factor::turn_off(&state.app, &current.0, &form.code).await {
        Ok(()) => done("two-factor-off"),
        Err(e @ TwoFactorError::WrongCode) => {
            account_view(&state, &headers, StatusCode::BAD_REQUEST, &current, Some(&e.to_string()), None).await
        }
        Err(e @ TwoFactorError::Throttled(wait)) => pages::retry_after(
            account_view(&state, &headers, StatusCode::TOO_MANY_REQUESTS, &current, Some(&e.to_string()), None).await,
            wait,
        ),
        Err(e) => two_factor_failed(e),
    }
}

#[derive(Deserialize)]
struct ProfileForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    username: String,
}

async fn edit_profile(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<ProfileForm>) -> Response {
    let current = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    match accounts::update_profile(&*state.app.store, &current.0, &form.name, &form.username).await {
        Ok(_) => done("profile-saved"),
        Err(SignUpError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => {
            account_view(&state, &headers, StatusCode::BAD_REQUEST, &current, Some(&capitalized(&e.to_string())), None)
                .await
        }
    }
}

#[derive(Deserialize)]
struct AddressForm {
    csrf: String,
    email: String,
    password: String,
}

async fn change_address(
    State(state): State<AppState>,
    from: crate::client_addr::ClientAddr,
    headers: HeaderMap,
    Form(form): Form<AddressForm>,
) -> Response {
    let current = match account_form(&state, &headers, &form.csrf).await {
        Ok(current) => current,
        Err(answer) => return answer,
    };
    let view = |status, error: String| {
        let (state, headers, current) = (&state, &headers, &current);
        async move { account_view(state, headers, status, current, Some(&error), None).await }
    };
    match accounts::check_current(&state.app, &current.0, form.password, from.bucket()).await {
        Ok(()) => {}
        Err(e @ ChangePasswordError::Throttled(wait)) => {
            return pages::retry_after(view(StatusCode::TOO_MANY_REQUESTS, e.to_string()).await, wait);
        }
        Err(ChangePasswordError::Store(e)) => return ApiError::from(e).into_response(),
        Err(e) => return view(StatusCode::BAD_REQUEST, e.to_string()).await,
    }
    match account_links::request_email_change(&state.app, &current.0, &form.email).await {
        Ok(EmailChange::Mailed) => done("email-link-sent"),
        Ok(EmailChange::Changed) => done("email-changed"),
        Err(EmailChangeError::Send(SendError::Store(e))) => ApiError::from(e).into_response(),
        Err(e @ EmailChangeError::Send(SendError::Throttled(wait))) => {
            pages::retry_after(view(StatusCode::TOO_MANY_REQUESTS, e.to_string()).await, wait)
        }
        Err(EmailChangeError::Send(SendError::Mail(e))) => {
            view(StatusCode::SERVICE_UNAVAILABLE, capitalized(&e.to_string())).await
        }
        Err(EmailChangeError::Field(e)) => view(StatusCode::BAD_REQUEST, capitalized(&e.to_string())).await,
        Err(e) => view(StatusCode::BAD_REQUEST, e.to_string()).await,
    }
}
