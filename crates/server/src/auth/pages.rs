//! The HTML of the pages a person sees: sign in, sign up, consent, email
//! proof, password reset and their account. Plain forms, a little CSS, no
//! scripts; the templates escape every value.

use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use basic_admin_core::model::Account;
use basic_admin_core::model::account::MIN_PASSWORD;
use basic_admin_core::oauth;
use basic_admin_core::store::{LinkPurpose, Session, SignIn};

const STYLE: &str = "*{box-sizing:border-box}\
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1b1b1b;margin:0;display:grid;place-items:center;min-height:100vh}\
main{background:#fff;border:1px solid #d8dbe0;border-radius:10px;padding:2rem;width:min(26rem,92vw);margin:1rem 0}\
h1{font-size:1.35rem;margin:0 0 .3rem}h2{font-size:1.05rem;margin:1.6rem 0 .3rem}p.sub{color:#555;margin:0 0 1.2rem}\
label{display:block;font-weight:600;margin:.8rem 0 .25rem}\
input{width:100%;padding:.55rem .6rem;border:1px solid #9aa1ab;border-radius:6px;font:inherit}\
input:focus,button:focus,a:focus{outline:3px solid #1a5fb4;outline-offset:2px}\
button{margin-top:1.2rem;width:100%;padding:.6rem;border:0;border-radius:6px;background:#1a5fb4;color:#fff;font:inherit;font-weight:600;cursor:pointer}\
button.secondary{background:#e8eaee;color:#1b1b1b}\
button.link{display:inline;width:auto;margin:0;padding:0;background:none;color:#1a5fb4;text-decoration:underline;font-weight:400}\
.error{background:#fdecea;border:1px solid #c01c28;color:#7a0f16;border-radius:6px;padding:.5rem .7rem;margin:.5rem 0}\
.notice{background:#e8f3ea;border:1px solid #26a269;color:#14532d;border-radius:6px;padding:.5rem .7rem;margin:.5rem 0}\
ul.scopes{padding-left:1.2rem}small{color:#555}.row{display:flex;gap:.6rem}.row form{flex:1}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem .8rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\
figure.qr{margin:1rem 0;text-align:center}figure.qr svg{width:200px;height:200px}code.secret{overflow-wrap:anywhere}\
ul.codes{columns:2;font-size:1.05rem}";

/// A page: HTML with headers that keep it out of frames and caches and
/// allow no script at all.
pub struct Page {
    pub status: StatusCode,
    pub title: String,
    pub body: Markup,
    pub cookies: Vec<String>,
}

impl Page {
    pub fn new(status: StatusCode, (title, body): (String, Markup)) -> Self {
        Self { status, title, body, cookies: Vec::new() }
    }

    pub fn with_cookie(mut self, cookie: Option<String>) -> Self {
        self.cookies.extend(cookie);
        self
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width,initial-scale=1";
                    title { (self.title) }
                    style { (PreEscaped(STYLE)) }
                }
                body { main { (self.body) } }
            }
        };
        let mut response = (self.status, html.into_string()).into_response();
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

/// `response` (a 429 page) with the `Retry-After` that says when to come back.
pub fn retry_after(mut response: Response, wait: std::time::Duration) -> Response {
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
    response
}

/// What every sign-in form carries: the CSRF token and the authorization request.
fn hidden(csrf: &str, request: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="request" value=(request);
    }
}

fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// An error (`role=alert`) or a notice, when there is one.
pub fn message(error: Option<&str>, notice: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error { p class="error" role="alert" { (error) } }
        @if let Some(notice) = notice { p class="notice" role="status" { (notice) } }
    }
}

pub struct FormPage<'a> {
    /// The app asking, or `None` when signing in to the account page.
    pub client_name: Option<&'a str>,
    pub csrf: &'a str,
    /// The authorization request's query string (empty without one).
    pub request: &'a str,
    pub error: Option<&'a str>,
    pub email: &'a str,
}

fn continuing(client_name: Option<&str>) -> Markup {
    html! {
        p class="sub" {
            @match client_name {
                Some(client) => { "to continue to " strong { (client) } }
                None => { "to your account" }
            }
        }
    }
}

pub fn sign_in(p: &FormPage) -> (String, Markup) {
    let body = html! {
        h1 { "Sign in" }
        (continuing(p.client_name))
        (message(p.error, None))
        form method="post" action="/auth/login" {
            (hidden(p.csrf, p.request))
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="username" required autofocus value=(p.email);
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p { small { a href="/auth/forgot-password" { "Forgot your password?" } } }
        p { small { "No account yet? " a href={ "/auth/signup?" (p.request) } { "Create one" } } }
    };
    ("Sign in".into(), body)
}

pub fn sign_up(p: &FormPage) -> (String, Markup) {
    let body = html! {
        h1 { "Create your account" }
        (continuing(p.client_name))
        (message(p.error, None))
        form method="post" action="/auth/signup" {
            (hidden(p.csrf, p.request))
            label for="name" { "Name" }
            input id="name" name="name" autocomplete="name" maxlength="100";
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="email" required value=(p.email);
            label for="username" { "Username " small { "(optional)" } }
            input id="username" name="username" autocomplete="nickname" maxlength="32";
            label for="password" { "Password " small { "(at least " (MIN_PASSWORD) " characters)" } }
            input id="password" name="password" type="password" autocomplete="new-password" minlength=(MIN_PASSWORD) required;
            button type="submit" { "Create account" }
        }
        p { small { "Have an account? " a href={ "/auth/login?" (p.request) } { "Sign in" } } }
    };
    ("Create your account".into(), body)
}

fn describe(scope: &str) -> Markup {
    match scope {
        oauth::OPENID => html! { "Confirm who you are" },
        oauth::PROFILE => html! { "See your name and username" },
        oauth::EMAIL => html! { "See your email address" },
        oauth::ADMIN => html! { "Manage your teams, projects, schemas and keys (developer access)" },
        other => html! { "Use the app's own permission “" (other) "”" },
    }
}

pub struct ConsentPage<'a> {
    pub client_name: &'a str,
    pub account_email: &'a str,
    pub scopes: Vec<&'a str>,
    pub csrf: &'a str,
    pub request: &'a str,
}

pub fn consent(p: &ConsentPage) -> (String, Markup) {
    let body = html! {
        h1 { "Allow " (p.client_name) "?" }
        p class="sub" { "Signed in as " strong { (p.account_email) } }
        p { strong { (p.client_name) } " asks to:" }
        ul class="scopes" { @for scope in &p.scopes { li { (describe(scope)) } } }
        div class="row" {
            form method="post" action="/auth/consent" {
                (hidden(p.csrf, p.request))
                input type="hidden" name="decision" value="deny";
                button class="secondary" type="submit" { "Deny" }
            }
            form method="post" action="/auth/consent" {
                (hidden(p.csrf, p.request))
                input type="hidden" name="decision" value="allow";
                button type="submit" { "Allow" }
            }
        }
        form method="post" action="/auth/logout" {
            (hidden(p.csrf, p.request))
            p { small { "Not you? " button class="link" type="submit" { "Sign out" } } }
        }
    };
    (format!("Allow {}?", p.client_name), body)
}

pub fn second_factor(csrf: &str, request: &str, error: Option<&str>) -> (String, Markup) {
    let body = html! {
        h1 { "Two-factor sign-in" }
        p class="sub" { "Enter the code your authenticator app shows, or one of your recovery codes." }
        (message(error, None))
        form method="post" action="/auth/login/code" {
            (hidden(csrf, request))
            label for="code" { "Code" }
            input id="code" name="code" autocomplete="one-time-code" required autofocus maxlength="32";
            button type="submit" { "Continue" }
        }
        p { small { a href={ "/auth/login?" (request) } { "Start again" } } }
    };
    ("Two-factor sign-in".into(), body)
}

pub fn two_factor_setup(csrf: &str, qr_svg: &str, secret: &str, error: Option<&str>) -> (String, Markup) {
    let body = html! {
        h1 { "Set up two-factor sign-in" }
        p class="sub" { "Scan this code with an authenticator app, then enter the six digits it shows." }
        (message(error, None))
        // Drawn by the server from the secret; no script, no outside image.
        figure class="qr" role="img" aria-label="QR code of your authenticator secret" { (PreEscaped(qr_svg)) }
        p { small { "Cannot scan? Type this key in: " } br; code class="secret" { (secret) } }
        form method="post" action="/auth/account/two-factor/confirm" {
            (csrf_field(csrf))
            label for="code" { "Code from the app" }
            input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus maxlength="10";
            button type="submit" { "Turn on two-factor sign-in" }
        }
        p { small { a href="/auth/account" { "Not now" } } }
    };
    ("Set up two-factor sign-in".into(), body)
}

pub fn recovery_codes(codes: &[String]) -> (String, Markup) {
    let body = html! {
        h1 { "Two-factor sign-in is on" }
        (message(None, Some("Keep these recovery codes somewhere safe: each signs you in once without your phone. They are shown only now.")))
        ul class="codes" { @for code in codes { li { code { (code) } } } }
        p { a href="/auth/account" { "Done" } }
    };
    ("Your recovery codes".into(), body)
}

/// A page that only tells something, with a way on.
pub fn notice(title: &str, error: Option<&str>, text: Option<&str>, link: (&str, &str)) -> (String, Markup) {
    let body = html! {
        h1 { (title) }
        (message(error, text))
        p { a href=(link.0) { (link.1) } }
    };
    (title.to_owned(), body)
}

/// Asks before spending a verification link, so that a mail scanner opening
/// it proves nothing.
/// `purpose` says which: confirming the account's address, or changing to a new one.
pub fn confirm_email(csrf: &str, token: &str, purpose: LinkPurpose) -> (String, Markup) {
    let changing = purpose == LinkPurpose::ChangeEmail;
    let action = basic_admin_app::auth::account_links::path(purpose);
    let body = html! {
        h1 { "Confirm your email address" }
        p class="sub" {
            @if changing { "One click, and this address becomes your account's." }
            @else { "One click, and this address is proven to be yours." }
        }
        form method="post" action=(action) {
            (csrf_field(csrf))
            input type="hidden" name="token" value=(token);
            button type="submit" { @if changing { "Use this email address" } @else { "Confirm my email address" } }
        }
    };
    ("Confirm your email address".into(), body)
}

pub struct ForgotPage<'a> {
    pub csrf: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub mail_on: bool,
}

pub fn forgot_password(p: &ForgotPage) -> (String, Markup) {
    let body = html! {
        h1 { "Forgot your password?" }
        @if p.mail_on {
            p class="sub" { "Give your account's email: we mail it a link to choose a new password." }
            (message(p.error, p.notice))
            form method="post" action="/auth/forgot-password" {
                (csrf_field(p.csrf))
                label for="email" { "Email" }
                input id="email" name="email" type="email" autocomplete="username" required autofocus value=(p.email);
                button type="submit" { "Mail me a link" }
            }
        } @else {
            (message(Some("This server does not send mail, so it cannot mail you a link."), None))
            p { "Ask its operator for a reset link: they can make one with "
                code { "basic-admin account reset-link --email <your address>" } "." }
        }
        p { small { a href="/auth/login" { "Back to sign in" } } }
    };
    ("Forgot your password?".into(), body)
}

pub fn reset_password(csrf: &str, token: &str, error: Option<&str>) -> (String, Markup) {
    let body = html! {
        h1 { "Choose a new password" }
        p class="sub" { "Your account will be signed out everywhere." }
        (message(error, None))
        form method="post" action="/auth/reset-password" {
            (csrf_field(csrf))
            input type="hidden" name="token" value=(token);
            label for="password" { "New password " small { "(at least " (MIN_PASSWORD) " characters)" } }
            input id="password" name="password" type="password" autocomplete="new-password" minlength=(MIN_PASSWORD) required autofocus;
            button type="submit" { "Set the new password" }
        }
    };
    ("Choose a new password".into(), body)
}

pub struct AccountPage<'a> {
    pub account: &'a Account,
    pub csrf: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub mail_on: bool,
    /// This browser's session (its id's hash).
    pub this_session: &'a str,
    pub sessions: &'a [Session],
    /// Live sign-ins to apps, with the name to show for each app.
    pub sign_ins: &'a [(SignIn, String)],
    /// With two-factor sign-in on, the recovery codes left.
    pub two_factor: Option<u64>,
}

fn when(at: &basic_admin_core::time::Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn account(p: &AccountPage) -> (String, Markup) {
    let a = p.account;
    let body = html! {
        h1 { "Your account" }
        (message(p.error, p.notice))
        dl {
            dt { "Name" } dd { (a.name) }
            dt { "Username" } dd { (a.username.as_deref().unwrap_or("—")) }
            dt { "Email" } dd { (a.email) " " small { @if a.email_verified() { "(confirmed)" } @else { "(not confirmed)" } } }
        }
        h2 { "Profile" }
        form method="post" action="/auth/account/profile" {
            (csrf_field(p.csrf))
            label for="name" { "Name" }
            input id="name" name="name" autocomplete="name" maxlength="100" value=(a.name);
            label for="username" { "Username " small { "(optional)" } }
            input id="username" name="username" autocomplete="nickname" maxlength="32" value=(a.username.as_deref().unwrap_or(""));
            button class="secondary" type="submit" { "Save" }
        }
        h2 { "Email address" }
        form method="post" action="/auth/account/email" {
            (csrf_field(p.csrf))
            label for="new-email" { "New email address" }
            input id="new-email" name="email" type="email" autocomplete="email" required;
            label for="email-password" { "Your password" }
            input id="email-password" name="password" type="password" autocomplete="current-password" required;
            button class="secondary" type="submit" {
                @if p.mail_on { "Mail a confirmation link to it" } @else { "Change the address" }
            }
        }
        @if !a.email_verified() {
            @if p.mail_on {
                form method="post" action="/auth/account/verify-email" {
                    (csrf_field(p.csrf))
                    button class="secondary" type="submit" { "Mail me a confirmation link" }
                }
            } @else {
                p { small { "This server does not send mail: its operator can confirm your address with "
                    code { "basic-admin account verify-email" } "." } }
            }
        }
        h2 { "Password" }
        form method="post" action="/auth/account/password" {
            (csrf_field(p.csrf))
            label for="current" { "Current password" }
            input id="current" name="current" type="password" autocomplete="current-password" required;
            label for="password" { "New password " small { "(at least " (MIN_PASSWORD) " characters; signs out everywhere else)" } }
            input id="password" name="password" type="password" autocomplete="new-password" minlength=(MIN_PASSWORD) required;
            button class="secondary" type="submit" { "Change password" }
        }
        h2 { "Two-factor sign-in" }
        @match p.two_factor {
            Some(left) => {
                p { "On: signing in asks for a code from your authenticator app. " small { (left) " recovery codes left." } }
                form method="post" action="/auth/account/two-factor/off" {
                    (csrf_field(p.csrf))
                    label for="off-code" { "Code (or recovery code) to turn it off" }
                    input id="off-code" name="code" autocomplete="one-time-code" required maxlength="32";
                    button class="secondary" type="submit" { "Turn off two-factor sign-in" }
                }
            }
            None => {
                p { "Off: a password alone signs you in." }
                form method="post" action="/auth/account/two-factor" {
                    (csrf_field(p.csrf))
                    button class="secondary" type="submit" { "Set up two-factor sign-in" }
                }
            }
        }
        h2 { "Where you are signed in" }
        ul class="sessions" {
            @for session in p.sessions {
                li {
                    (session.device.as_deref().map_or_else(|| "Unknown browser".to_owned(), super::device::describe))
                    br;
                    small { "last seen " (when(&session.last_used_at)) }
                    @if session.id_hash == p.this_session {
                        " " strong { "(this browser)" }
                    } @else {
                        form method="post" action="/auth/account/sessions/end" {
                            (csrf_field(p.csrf))
                            input type="hidden" name="session" value=(session.id_hash);
                            button class="link" type="submit" { "Sign out this browser" }
                        }
                    }
                }
            }
            @for (sign_in, app) in p.sign_ins {
                li {
                    (app)
                    br;
                    small { "signed in " (when(&sign_in.family.created_at)) ", last used " (when(&sign_in.last_used_at)) }
                    form method="post" action="/auth/account/sign-ins/end" {
                        (csrf_field(p.csrf))
                        input type="hidden" name="sign_in" value=(sign_in.family.id);
                        button class="link" type="submit" { "Sign out of " (app) }
                    }
                }
            }
        }
        form method="post" action="/auth/account/sign-out-everywhere" {
            (csrf_field(p.csrf))
            button class="secondary" type="submit" { "Sign out everywhere else" }
        }
        form method="post" action="/auth/logout" {
            (csrf_field(p.csrf))
            input type="hidden" name="request" value="";
            button class="secondary" type="submit" { "Sign out" }
        }
    };
    ("Your account".into(), body)
}

pub struct InvitePage<'a> {
    pub team: &'a str,
    pub role: &'a str,
    /// Who is signed in here, if anyone.
    pub account_email: Option<&'a str>,
    pub csrf: &'a str,
    pub token: &'a str,
    /// Why it cannot be accepted, when it cannot.
    pub error: Option<&'a str>,
}

pub fn invite(p: &InvitePage) -> (String, Markup) {
    let title = format!("Join {}", p.team);
    let body = html! {
        h1 { (title) }
        p class="sub" { "You are invited to join the team " strong { (p.team) } " as " (p.role) "." }
        (message(p.error, None))
        @if p.error.is_none() {
            @match p.account_email {
                Some(email) => {
                    form method="post" {
                        (csrf_field(p.csrf))
                        input type="hidden" name="token" value=(p.token);
                        button type="submit" { "Join as " (email) }
                    }
                }
                None => {
                    p { "Sign in first, or create an account, then open the link in your mail again." }
                    p { a href="/auth/login" { "Sign in" } " · " a href="/auth/signup" { "Create an account" } }
                }
            }
        }
    };
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_shown_is_escaped() {
        let page = FormPage {
            client_name: Some("<b>App</b>"),
            csrf: "t\"x",
            request: "a=1&b=<2>",
            error: Some("<bad>"),
            email: "\"@x",
        };
        let (_, html) = sign_in(&page);
        let html = html.into_string();
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
        let html = html.into_string();
        assert_eq!(title, "Allow Todo?");
        for needle in ["See your name", "developer access", "todos:read", "value=\"allow\"", "value=\"deny\""] {
            assert!(html.contains(needle), "{needle}");
        }
    }

    #[test]
    fn without_mail_the_reset_page_says_so_and_offers_no_form() {
        let page = ForgotPage { csrf: "c", email: "", error: None, notice: None, mail_on: false };
        let html = forgot_password(&page).1.into_string();
        assert!(html.contains("does not send mail") && html.contains("basic-admin account reset-link"));
        assert!(!html.contains("<form"));
    }
}
