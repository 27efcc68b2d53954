//! A project's page: its profile, the redirect URIs its app may receive
//! codes at, its API keys, and deleting it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use basic_admin_app::AppError;
use basic_admin_app::services::projects::{self, Changes, SettingsEdit};
use basic_admin_app::services::{keys, teams, uploads};
use basic_admin_core::authz::{Action, TeamRole};
use basic_admin_core::model::api_key::KeyRole;
use basic_admin_core::store::Project;
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::errors::{Answer, Failure, refusal};
use super::layout::{self, alert, token, when};
use super::may;
use super::session::{Confirm, Console, NoFields, Submitted};
use crate::routes::see_other;
use crate::state::AppState;

#[derive(Default)]
struct Outcome<'a> {
    status: Option<StatusCode>,
    error: Option<&'a str>,
    /// A key's secret made just now: shown this once.
    secret: Option<(&'a str, &'a str)>,
}

pub async fn page(State(state): State<AppState>, console: Console, Path(id): Path<String>) -> Answer {
    view(&state, &console, &id, Outcome::default()).await
}

/// The project, the caller's role in its team, and the team's name and page.
pub(super) async fn project_and_role(
    state: &AppState,
    console: &Console,
    id: &str,
) -> Result<(Project, TeamRole, (String, String)), Failure> {
    let project = projects::get(&state.app, &console.caller, id).await?;
    let membership = teams::list(&state.app, &console.caller)
        .await?
        .into_iter()
        .find(|m| m.team.id == project.team_id)
        .ok_or(AppError::NotFound(basic_admin_app::error::Thing::Project))?;
    let team_page = format!("/console/team/{}", membership.team.slug);
    Ok((project, membership.member.roles, (membership.team.name, team_page)))
}

async fn view(state: &AppState, console: &Console, id: &str, outcome: Outcome<'_>) -> Answer {
    let (project, role, team) = project_and_role(state, console, id).await?;
    let api_keys = keys::list(&state.app, &console.caller, id).await?;
    let images = uploads::list(&state.app, &console.caller, id).await?;
    let uris = basic_admin_core::settings::redirect_uris(&project.settings);
    let base = format!("/console/project/{}", project.id);
    let body = html! {
        (layout::project_tabs(&base, "Overview"))
        p class="muted" {
            "Project id " code { (project.id) } " · slug " code { (project.slug) } " · its public documents: "
            a href={ "/projects/" (project.id.simple()) "/did.json" } { "DID document" } ", "
            a href={ "/projects/" (project.id) "/client-metadata.json" } { "client metadata" }
        }
        (alert(outcome.error))
        @if let Some((label, secret)) = outcome.secret {
            section class="card notice" role="status" {
                h2 { "The key " (label) }
                p { "Copy it now: this is the only time it is shown." }
                code class="secret" { (secret) }
            }
        }
        div class="grid" {
            section class="card" aria-labelledby="profile" {
                h2 id="profile" { "Profile" }
                @if may(role, Action::UpdateProject) {
                    form method="post" action={ (base) "/profile" } {
                        (token(console))
                        label for="name" { "Name" }
                        input id="name" name="name" required maxlength="100" value=(project.name);
                        label for="slug" { "Slug" }
                        input id="slug" name="slug" required maxlength="64" value=(project.slug)
                            pattern="[a-z0-9]+(-[a-z0-9]+)*" data-slug-check="project" data-current=(project.slug);
                        label for="website" { "Website " small { "(optional)" } }
                        input id="website" name="website" type="url" maxlength="2000"
                            value=(project.website.as_deref().unwrap_or(""));
                        button type="submit" { "Save" }
                    }
                } @else {
                    dl {
                        dt { "Name" } dd { (project.name) }
                        dt { "Website" } dd { (project.website.as_deref().unwrap_or("—")) }
                    }
                }
            }
            section class="card" aria-labelledby="redirects" {
                h2 id="redirects" { "Redirect URIs" }
                p class="muted" { "Where the app may receive sign-in codes. A URI fits a registered one that is \
                    equal to it or lies below its path on the same host and port; on localhost any port fits." }
                ul class="plain" {
                    @for uri in &uris {
                        li {
                            code { (uri) }
                            @if may(role, Action::UpdateSettings) {
                                " "
                                form method="post" action={ (base) "/redirect-uris/remove" } class="inline" {
                                    (token(console))
                                    input type="hidden" name="uri" value=(uri);
                                    button class="link" type="submit" aria-label={ "Remove " (uri) } { "Remove" }
                                }
                            }
                        }
                    }
                }
                @if uris.is_empty() { p class="muted" { "None yet: no app can sign in." } }
                @if may(role, Action::UpdateSettings) {
                    form method="post" action={ (base) "/redirect-uris" } {
                        (token(console))
                        label for="uri" { "Add a redirect URI" }
                        input id="uri" name="uri" type="url" required maxlength="2000" placeholder="https://app.example.com/";
                        button type="submit" { "Add" }
                    }
                }
            }
        }
        (super::images::section(console, &base, &images, may(role, Action::Upload)))
        section class="card" aria-labelledby="keys" {
            h2 id="keys" { "API keys" }
            @if api_keys.is_empty() { p class="muted" { "No key yet." } }
            @else {
                table class="stack" {
                    thead { tr { th { "Label" } th { "Roles" } th { "Kind" } th { "Last used" } th { span class="muted" { "Actions" } } } }
                    tbody {
                        @for key in &api_keys {
                            tr {
                                td { (key.label) }
                                td data-label="Roles" { (key.roles.replace(',', ", ")) }
                                td data-label="Kind" { @if key.is_private { "private" } @else { "public" } }
                                td data-label="Last used" { (key.last_used.as_ref().map_or_else(|| "never".to_owned(), when)) }
                                td {
                                    @if may(role, Action::ManageKeys) {
                                        form method="post" action={ (base) "/keys/" (key.id) "/regenerate" }
                                            data-confirm="Regenerate this key? Its current secret stops working at once." {
                                            (token(console))
                                            button class="link" type="submit" aria-label={ "Regenerate " (key.label) } { "Regenerate" }
                                        }
                                        form method="post" action={ (base) "/keys/" (key.id) "/delete" }
                                            data-confirm="Delete this key? Whatever uses it stops working." {
                                            (token(console))
                                            button class="link" type="submit" aria-label={ "Delete " (key.label) } { "Delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if may(role, Action::ManageKeys) {
                form method="post" action={ (base) "/keys" } {
                    (token(console))
                    label for="label" { "New key's label" }
                    input id="label" name="label" required maxlength="100";
                    fieldset {
                        legend { "Roles" }
                        @for r in KeyRole::ALL {
                            label class="check" { input type="checkbox" name="role" value=(r.name()); (r.name()) }
                        }
                    }
                    label class="check" {
                        input type="checkbox" name="private" value="on" checked;
                        "Private (for servers; a public key may only hold project:read and schema:read)"
                    }
                    button type="submit" { "Create key" }
                }
            }
        }
        @if may(role, Action::DeleteProject) {
            (layout::deletion(console, "project", "Its schema, keys, users and their data go with it, for good.",
                &base, project.slug.as_str()))
        }
    };
    let crumbs = [(team.0.as_str(), team.1.clone()), (project.name.as_str(), base.clone())];
    let status = outcome.status.unwrap_or(StatusCode::OK);
    Ok(layout::page(status, console, &project.name, &crumbs, body))
}

async fn again(state: &AppState, console: &Console, id: &str, e: AppError) -> Answer {
    let (status, message) = refusal(e)?;
    view(state, console, id, Outcome { status: Some(status), error: Some(&message), ..Outcome::default() }).await
}

/// Back to the project's page after a form, or the page with its refusal.
async fn back(state: &AppState, console: &Console, id: &str, done: Result<(), AppError>) -> Answer {
    match done {
        Ok(()) => Ok(see_other(&format!("/console/project/{id}"), vec![])),
        Err(e) => again(state, console, id, e).await,
    }
}

#[derive(Deserialize)]
pub struct Profile {
    name: String,
    slug: String,
    #[serde(default)]
    website: String,
}

pub async fn update_profile(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Submitted { console, form }: Submitted<Profile>,
) -> Answer {
    let changes = Changes {
        name: Some(form.name),
        slug: Some(form.slug),
        website: Some(Some(form.website).filter(|w| !w.trim().is_empty())),
        profile: None,
    };
    let done = projects::update(&state.app, &console.caller, &id, changes).await.map(drop);
    back(&state, &console, &id, done).await
}

#[derive(Deserialize)]
pub struct RedirectUri {
    uri: String,
}

async fn edit_redirect_uris(state: &AppState, form: Submitted<RedirectUri>, id: &str, edit: SettingsEdit) -> Answer {
    let body = json!({"auth": {"redirect_uris": [form.form.uri.trim()]}});
    let done = projects::change_settings(&state.app, &form.console.caller, id, &body, edit).await.map(drop);
    back(state, &form.console, id, done).await
}

pub async fn add_redirect_uri(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted<RedirectUri>,
) -> Answer {
    edit_redirect_uris(&state, form, &id, SettingsEdit::Add).await
}

pub async fn remove_redirect_uri(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Submitted<RedirectUri>,
) -> Answer {
    edit_redirect_uris(&state, form, &id, SettingsEdit::Remove).await
}

pub async fn create_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Submitted { console, form }: Submitted<Vec<(String, String)>>,
) -> Answer {
    let values = |name: &'static str| form.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str());
    let label = values("label").next().unwrap_or("");
    let roles = values("role").collect::<Vec<_>>().join(",");
    let private = values("private").next().is_some();
    let made = keys::create(&state.app, &console.caller, &id, label, &roles, private).await;
    shown_once(&state, &console, &id, made).await
}

/// The page with a new key's secret, shown this once; or with the refusal.
async fn shown_once(
    state: &AppState,
    console: &Console,
    id: &str,
    made: Result<(basic_admin_core::store::ApiKey, String), AppError>,
) -> Answer {
    match made {
        Ok((key, secret)) => {
            view(state, console, id, Outcome { secret: Some((&key.label, &secret)), ..Outcome::default() }).await
        }
        Err(e) => again(state, console, id, e).await,
    }
}

pub async fn regenerate_key(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    Submitted { console, .. }: Submitted<NoFields>,
) -> Answer {
    let made = keys::regenerate(&state.app, &console.caller, &id, &key).await;
    shown_once(&state, &console, &id, made).await
}

pub async fn delete_key(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    Submitted { console, .. }: Submitted<NoFields>,
) -> Answer {
    let done = keys::delete(&state.app, &console.caller, &id, &key).await;
    back(&state, &console, &id, done).await
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Submitted { console, form }: Submitted<Confirm>,
) -> Answer {
    let (project, _, (_, team_page)) = project_and_role(&state, &console, &id).await?;
    if !form.names(project.slug.as_str()) {
        let e = AppError::invalid("not_confirmed", "Type the project's slug to confirm.");
        return again(&state, &console, &id, e).await;
    }
    match projects::delete(&state.app, &console.caller, &id).await {
        Ok(()) => Ok(see_other(&team_page, vec![])),
        Err(e) => again(&state, &console, &id, e).await,
    }
}
