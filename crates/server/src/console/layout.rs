//! The frame of every console page: header, navigation, breadcrumbs, the
//! stylesheet, and the headers that keep pages out of frames and caches.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::session::Console;

/// Our own stylesheet and script only (no inline code, no other host);
/// forms and requests only to this server.
const POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; \
                      img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn document(title: &str, header: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · basic-admin console" }
                link rel="stylesheet" href=(assets::style_path());
                script src=(assets::script_path()) defer {}
            }
            body {
                a class="skip" href="#content" { "Skip to content" }
                (header)
                main id="content" { (body) }
            }
        }
    }
}

fn respond(status: StatusCode, page: Markup) -> Response {
    let mut response = (status, page.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert("content-security-policy", HeaderValue::from_static(POLICY));
    response
}

fn brand() -> Markup {
    html! { a class="brand" href="/console" { "basic-admin" span { " console" } } }
}

/// A console page for a signed-in person: `crumbs` lead from the teams to
/// this page (each a label and a link).
pub fn page(status: StatusCode, console: &Console, title: &str, crumbs: &[(&str, String)], body: Markup) -> Response {
    let header = html! {
        header class="top" {
            (brand())
            nav aria-label="Account" {
                a href="/auth/account" title="Your account" { (console.account.email) }
                form method="post" action="/console/sign-out" {
                    input type="hidden" name="csrf" value=(console.token);
                    button class="link" type="submit" { "Sign out" }
                }
            }
        }
    };
    let body = html! {
        nav class="crumbs" aria-label="Breadcrumbs" {
            ol {
                li { a href="/console" { "Teams" } }
                @for (label, href) in crumbs { li { a href=(href) { (label) } } }
            }
        }
        h1 { (title) }
        (body)
    };
    respond(status, document(title, header, body))
}

/// A page that only tells something (an error, mostly), signed in or not.
pub fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    let header = html! { header class="top" { (brand()) } };
    let body = html! {
        h1 { (title) }
        p class="error" role="alert" { (message) }
        p { a href="/console" { "Back to the console" } }
    };
    respond(status, document(title, header, body))
}

/// The page of someone not signed in (any more).
pub fn signed_out_page(status: StatusCode, message: &str) -> Response {
    let header = html! { header class="top" { (brand()) } };
    let body = html! {
        h1 { "The console" }
        p role="status" { (message) }
        p { a class="button" href="/console/sign-in" { "Sign in" } }
        p { small { "Signing in here uses your account on this server; "
            a href="/auth/account" { "your account page" } " signs you out of it everywhere." } }
    };
    respond(status, document("Signed out", header, body))
}

/// An error above a form that was sent back, when there is one.
pub fn alert(error: Option<&str>) -> Markup {
    html! { @if let Some(error) = error { p class="error" role="alert" { (error) } } }
}

/// The form that deletes a team or a project: its slug typed to confirm.
pub fn deletion(console: &Console, what: &str, warning: &str, base: &str, slug: &str) -> Markup {
    html! {
        section class="card" aria-labelledby="danger" {
            h2 id="danger" { "Delete the " (what) }
            p { (warning) }
            form method="post" action={ (base) "/delete" } {
                (token(console))
                label for="confirm" { "Type the slug, " code { (slug) } ", to confirm" }
                input id="confirm" name="confirm" required autocomplete="off";
                button class="danger" type="submit" { "Delete " (what) }
            }
        }
    }
}

/// The tabs of a project's pages, `current` marked for assistive technology.
pub fn project_tabs(base: &str, current: &str) -> Markup {
    let tabs = [
        ("Overview", String::new()),
        ("Schema", "/schema".into()),
        ("Users", "/users".into()),
        ("Activity", "/activity".into()),
    ];
    html! {
        nav class="tabs" aria-label="Project" {
            @for (label, path) in tabs {
                a href={ (base) (path) } aria-current=[(label == current).then_some("page")] { (label) }
            }
        }
    }
}

/// Every form's hidden token.
pub fn token(console: &Console) -> Markup {
    html! { input type="hidden" name="csrf" value=(console.token); }
}

pub fn when(at: &basic_admin_core::time::Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
