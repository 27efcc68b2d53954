//! A team's page: its projects, members, invites, name and slug. Forms are
//! shown to the roles that may use them; the use-cases decide either way.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use basic_admin_app::services::projects;
use basic_admin_app::services::teams::{self, NewInvite};
use basic_admin_core::authz::{Action, TeamRole};
use basic_admin_core::store::TeamMembership;
use maud::{Markup, html};
use serde::Deserialize;

use super::errors::{Answer, refusal};
use super::layout::{self, alert, token, when};
use super::may;
use super::session::{Confirm, Console, Submitted};
use crate::routes::see_other;
use crate::state::AppState;

/// What a form sent back shows above the page.
#[derive(Default)]
struct Outcome<'a> {
    status: Option<StatusCode>,
    error: Option<&'a str>,
    /// An invite link made just now: shown this once.
    invite_link: Option<&'a str>,
}

pub async fn page(State(state): State<AppState>, console: Console, Path(slug): Path<String>) -> Answer {
    view(&state, &console, &slug, Outcome::default()).await
}

async fn view(state: &AppState, console: &Console, slug: &str, outcome: Outcome<'_>) -> Answer {
    let ctx = &state.app;
    let TeamMembership { team, member, .. } = teams::by_slug(ctx, &console.caller, slug).await?;
    let id = team.id.to_string();
    let detail = teams::get(ctx, &console.caller, &id).await?;
    let roster = teams::roster(ctx, &console.caller, &id).await?;
    let role = member.roles;
    let base = format!("/console/team/{}", team.slug);
    let body = html! {
        (alert(outcome.error))
        @if let Some(link) = outcome.invite_link {
            section class="card notice" role="status" {
                h2 { "Invite made" }
                p { "Send this link to the person you invite; it is shown only now." }
                code class="secret" { (link) }
            }
        }
        div class="grid" {
            section class="card" aria-labelledby="projects" {
                h2 id="projects" { "Projects" }
                @if detail.projects.is_empty() { p class="muted" { "No project yet." } }
                ul class="plain" {
                    @for p in &detail.projects {
                        li { a href={ "/console/project/" (p.id) } { (p.name) } " " small { (p.slug) } }
                    }
                }
                @if may(role, Action::CreateProject) {
                    form method="post" action={ (base) "/projects" } {
                        (token(console))
                        label for="project-name" { "New project's name" }
                        input id="project-name" name="name" required maxlength="100";
                        label for="project-slug" { "Slug " small { "(optional: made from the name)" } }
                        input id="project-slug" name="slug" maxlength="64" pattern="[a-z0-9]+(-[a-z0-9]+)*"
                            data-slug-check="project";
                        button type="submit" { "Create project" }
                    }
                }
            }
            @if may(role, Action::UpdateTeam) {
                section class="card" aria-labelledby="settings" {
                    h2 id="settings" { "Name and slug" }
                    form method="post" action={ (base) "/rename" } {
                        (token(console))
                        label for="team-name" { "Name" }
                        input id="team-name" name="name" required maxlength="100" value=(team.name);
                        label for="team-slug" { "Slug" }
                        input id="team-slug" name="slug" required maxlength="64" value=(team.slug)
                            pattern="[a-z0-9]+(-[a-z0-9]+)*" data-slug-check="team" data-current=(team.slug);
                        button type="submit" { "Save" }
                    }
                }
            }
        }
        section class="card" aria-labelledby="members" {
            h2 id="members" { "Members" }
            table class="stack" {
                thead { tr { th { "Name" } th { "Email" } th { "Role" } th { span class="muted" { "Actions" } } } }
                tbody {
                    @for (m, account) in &roster {
                        tr {
                            td { (account.as_ref().map_or("—", |a| a.name.as_str())) }
                            td data-label="Email" { (account.as_ref().map_or("—", |a| a.email.as_str())) }
                            td data-label="Role" { (m.roles) }
                            td { (member_actions(console, &base, role, m)) }
                        }
                    }
                }
            }
        }
        @if may(role, Action::ViewInvites) {
            section class="card" aria-labelledby="invites" {
                h2 id="invites" { "Invites" }
                @if detail.invites.is_empty() { p class="muted" { "No invite is waiting." } }
                @else {
                    table class="stack" {
                        thead { tr { th { "For" } th { "Role" } th { "Expires" } th { span class="muted" { "Actions" } } } }
                        tbody {
                            @for invite in &detail.invites {
                                tr {
                                    td { (invite.invitee) }
                                    td data-label="Role" { (invite.roles) }
                                    td data-label="Expires" { (when(&invite.expires_at)) }
                                    td {
                                        form method="post" action={ (base) "/invites/" (invite.id) "/revoke" } data-confirm="Revoke this invite?" {
                                            (token(console))
                                            button class="link" type="submit" { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                form method="post" action={ (base) "/invites" } {
                    (token(console))
                    div class="row" {
                        div {
                            label for="invitee" { "Email or username" }
                            input id="invitee" name="invitee" required maxlength="320";
                        }
                        div {
                            label for="invite-role" { "Role" }
                            (role_select("invite-role", TeamRole::Member, false))
                        }
                    }
                    button type="submit" { "Invite" }
                }
            }
        }
        @if may(role, Action::DeleteTeam) {
            (layout::deletion(console, "team", "A team can be deleted once it holds no project.", &base,
                team.slug.as_str()))
        }
    };
    let status = outcome.status.unwrap_or(StatusCode::OK);
    Ok(layout::page(status, console, &team.name, &[(team.name.as_str(), base.clone())], body))
}

fn role_select(id: &str, selected: TeamRole, with_owner: bool) -> Markup {
    html! {
        select id=(id) name="role" {
            @for r in TeamRole::ALL.into_iter().filter(|r| with_owner || *r != TeamRole::Owner) {
                option value=(r) selected[r == selected] { (r) }
            }
        }
    }
}

fn member_actions(console: &Console, base: &str, role: TeamRole, m: &basic_admin_core::store::Member) -> Markup {
    let is_me = m.account_id == console.account.id;
    html! {
        @if may(role, Action::ManageMembers) && m.roles != TeamRole::Owner {
            form method="post" action={ (base) "/members/" (m.account_id) "/role" } {
                (token(console))
                label class="visually-hidden" for={ "role-" (m.account_id) } { "Role" }
                (role_select(&format!("role-{}", m.account_id), m.roles, may(role, Action::TransferOwnership)))
                button class="secondary" type="submit" { "Change" }
            }
        }
        @if m.roles != TeamRole::Owner && (is_me || may(role, Action::ManageMembers)) {
            form method="post" action={ (base) "/members/" (m.account_id) "/remove" }
                data-confirm=(if is_me { "Leave this team?" } else { "Remove this member from the team?" }) {
                (token(console))
                button class="link" type="submit" { @if is_me { "Leave" } @else { "Remove" } }
            }
        }
    }
}

async fn again(state: &AppState, console: &Console, slug: &str, e: basic_admin_app::AppError) -> Answer {
    let (status, message) = refusal(e)?;
    view(state, console, slug, Outcome { status: Some(status), error: Some(&message), ..Outcome::default() }).await
}

/// The team's id for the use-cases (they take ids; the console's addresses hold slugs).
async fn team_id(state: &AppState, console: &Console, slug: &str) -> Result<String, super::errors::Failure> {
    Ok(teams::by_slug(&state.app, &console.caller, slug).await?.team.id.to_string())
}

#[derive(Deserialize)]
pub struct Rename {
    name: String,
    slug: String,
}

pub async fn rename(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Submitted { console, form }: Submitted<Rename>,
) -> Answer {
    let id = team_id(&state, &console, &slug).await?;
    match teams::update(&state.app, &console.caller, &id, Some(&form.name), Some(&form.slug)).await {
        Ok(team) => Ok(see_other(&format!("/console/team/{}", team.slug), vec![])),
        Err(e) => again(&state, &console, &slug, e).await,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Submitted { console, form }: Submitted<Confirm>,
) -> Answer {
    let id = team_id(&state, &console, &slug).await?;
    if !form.names(&slug) {
        let e = basic_admin_app::AppError::invalid("not_confirmed", "Type the team's slug to confirm.");
        return again(&state, &console, &slug, e).await;
    }
    match teams::delete(&state.app, &console.caller, &id).await {
        Ok(()) => Ok(see_other("/console", vec![])),
        Err(e) => again(&state, &console, &slug, e).await,
    }
}

#[derive(Deserialize)]
pub struct NewProject {
    name: String,
    #[serde(default)]
    slug: String,
}

pub async fn create_project(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Submitted { console, form }: Submitted<NewProject>,
) -> Answer {
    let id = team_id(&state, &console, &slug).await?;
    match projects::create(&state.app, &console.caller, &form.name, &id, Some(&form.slug)).await {
        Ok(project) => Ok(see_other(&format!("/console/project/{}", project.id), vec![])),
        Err(e) => again(&state, &console, &slug, e).await,
    }
}

#[derive(Deserialize)]
pub struct Invitation {
    invitee: String,
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Submitted { console, form }: Submitted<Invitation>,
) -> Answer {
    let id = team_id(&state, &console, &slug).await?;
    let invitee = form.invitee.trim();
    let by_email = invitee.contains('@');
    let new = NewInvite {
        email: by_email.then_some(invitee),
        username: (!by_email).then_some(invitee),
        roles: &form.role,
        role_name: None,
        expires_at: None,
    };
    match teams::invite(&state.app, &console.caller, &id, new).await {
        Ok((invite, Some(token))) => {
            let link = teams::invite_link(&state.app, invite.id, &token);
            view(&state, &console, &slug, Outcome { invite_link: Some(&link), ..Outcome::default() }).await
        }
        Ok((_, None)) => Ok(see_other(&format!("/console/team/{slug}"), vec![])),
        Err(e) => again(&state, &console, &slug, e).await,
    }
}

pub async fn revoke_invite(
    State(state): State<AppState>,
    Path((slug, invite)): Path<(String, String)>,
    Submitted { console, .. }: Submitted<super::session::NoFields>,
) -> Answer {
    let id = team_id(&state, &console, &slug).await?;
    match teams::delete_invite(&state.app, &console.caller, &id, &invite).await {
        Ok(()) => Ok(see_other(&format!("/console/team/{slug}"), vec![])),
        Err(e) => again(&state, &console, &slug, e).await,
    }
}

#[derive(Deserialize)]
pub struct RoleChange {
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    Path((slug, member)): Path<(String, String)>,
    Submitted { console, form }: Submitted<RoleChange>,
) -> Answer {
    let id = team_id(&state, &console, &slug).await?;
    match teams::update_member(&state.app, &console.caller, &id, &member, Some(&form.role), None).await {
        Ok(_) => Ok(see_other(&format!("/console/team/{slug}"), vec![])),
        Err(e) => again(&state, &console, &slug, e).await,
    }
}

pub async fn remove_member(
    State(state): State<AppState>,
    Path((slug, member)): Path<(String, String)>,
    Submitted { console, .. }: Submitted<super::session::NoFields>,
) -> Answer {
    let id = team_id(&state, &console, &slug).await?;
    let leaving = member == console.account.id.to_string();
    match teams::remove_member(&state.app, &console.caller, &id, &member).await {
        Ok(()) if leaving => Ok(see_other("/console", vec![])),
        Ok(()) => Ok(see_other(&format!("/console/team/{slug}"), vec![])),
        Err(e) => again(&state, &console, &slug, e).await,
    }
}
