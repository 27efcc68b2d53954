//! The developer console at `/console`: server-rendered pages over the same
//! use-cases as the API, so the same permission table decides. Every action
//! is a plain form (POST, then a redirect); no page needs a script.
//!
//! Every route is declared once, in [`table`]: the router is built from it,
//! and the console's authorization matrix fails for a route without rows.

mod assets;
mod errors;
mod home;
mod images;
mod layout;
mod projects;
mod schema;
mod session;
mod teams;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};

use basic_admin_core::authz::{Action, Decision, TeamRole, decide};

use crate::state::AppState;

/// Every console route: method, path (as the router reads it), handler.
fn table() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("GET", "/console", get(home::page)),
        ("GET", "/console/sign-in", get(session::sign_in)),
        ("GET", "/console/callback", get(session::callback)),
        ("POST", "/console/sign-out", post(session::sign_out)),
        ("GET", "/console/signed-out", get(session::signed_out)),
        ("GET", "/console/assets/{file}", get(assets::file)),
        ("POST", "/console/teams", post(home::create_team)),
        ("GET", "/console/team/{slug}", get(teams::page)),
        ("POST", "/console/team/{slug}/rename", post(teams::rename)),
        ("POST", "/console/team/{slug}/delete", post(teams::delete)),
        ("POST", "/console/team/{slug}/projects", post(teams::create_project)),
        ("POST", "/console/team/{slug}/invites", post(teams::invite)),
        ("POST", "/console/team/{slug}/invites/{invite}/revoke", post(teams::revoke_invite)),
        ("POST", "/console/team/{slug}/members/{member}/role", post(teams::change_role)),
        ("POST", "/console/team/{slug}/members/{member}/remove", post(teams::remove_member)),
        ("GET", "/console/project/{id}", get(projects::page)),
        ("POST", "/console/project/{id}/profile", post(projects::update_profile)),
        ("POST", "/console/project/{id}/redirect-uris", post(projects::add_redirect_uri)),
        ("POST", "/console/project/{id}/redirect-uris/remove", post(projects::remove_redirect_uri)),
        ("POST", "/console/project/{id}/keys", post(projects::create_key)),
        ("POST", "/console/project/{id}/keys/{key}/regenerate", post(projects::regenerate_key)),
        ("POST", "/console/project/{id}/keys/{key}/delete", post(projects::delete_key)),
        ("POST", "/console/project/{id}/delete", post(projects::delete)),
        (
            "POST",
            "/console/project/{id}/images/{kind}",
            post(images::upload).layer(DefaultBodyLimit::max(images::BODY_LIMIT)),
        ),
        ("POST", "/console/project/{id}/images/{kind}/delete", post(images::remove)),
        ("GET", "/console/project/{id}/schema", get(schema::page)),
        ("POST", "/console/project/{id}/schema/check", post(schema::check)),
        ("POST", "/console/project/{id}/schema/publish", post(schema::publish)),
        ("POST", "/console/project/{id}/schema/suggest", post(schema::suggest)),
        ("GET", "/console/project/{id}/users", get(users::list)),
        ("GET", "/console/project/{id}/users/{did}", get(users::user)),
        ("POST", "/console/project/{id}/users/{did}/meta", post(users::update_meta)),
        ("POST", "/console/project/{id}/users/{did}/delete", post(users::delete)),
        ("GET", "/console/project/{id}/activity", get(users::activity)),
    ]
}

/// Whether `role` may do `action`: forms are shown to those who may use them
/// (the use-cases decide either way).
fn may(role: TeamRole, action: Action) -> bool {
    decide(role, action) == Decision::Allow
}

pub fn routes() -> Router<AppState> {
    table().into_iter().fold(Router::new(), |router, (_, path, handler)| router.route(path, handler))
}

/// Method and path of every console route, for the authorization matrix.
pub fn paths() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|(method, path, _)| (method, path)).collect()
}
