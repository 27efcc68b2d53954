//! The console's first page: the person's teams and their projects, and a
//! form for a new team.

use axum::extract::State;
use axum::http::StatusCode;
use basic_admin_app::services::{projects, teams};
use maud::html;
use serde::Deserialize;

use super::errors::Answer;
use super::layout::{self, alert, token};
use super::session::{Console, Submitted};
use crate::routes::see_other;
use crate::state::AppState;

pub async fn page(State(state): State<AppState>, console: Console) -> Answer {
    view(&state, &console, StatusCode::OK, None).await
}

async fn view(state: &AppState, console: &Console, status: StatusCode, error: Option<&str>) -> Answer {
    let memberships = teams::list(&state.app, &console.caller).await?;
    let all_projects = projects::list(&state.app, &console.caller).await?;
    let body = html! {
        div class="grid" {
            @for m in &memberships {
                section class="card" {
                    h2 { a href={ "/console/team/" (m.team.slug) } { (m.team.name) } }
                    p class="muted" { (m.team.slug) " · your role: " (m.member.roles) }
                    ul class="plain" {
                        @for p in all_projects.iter().filter(|p| p.team.id == m.team.id) {
                            li { a href={ "/console/project/" (p.project.id) } { (p.project.name) } }
                        }
                    }
                }
            }
            section class="card" {
                h2 { "New team" }
                @if memberships.is_empty() { p { "You are in no team yet: make one to hold your projects." } }
                (alert(error))
                form method="post" action="/console/teams" {
                    (token(console))
                    label for="team-name" { "Name" }
                    input id="team-name" name="name" required maxlength="100";
                    label for="team-slug" { "Slug " small { "(lowercase letters, digits and dashes)" } }
                    input id="team-slug" name="slug" required maxlength="64" pattern="[a-z0-9]+(-[a-z0-9]+)*"
                        data-slug-check="team";
                    button type="submit" { "Create team" }
                }
            }
        }
    };
    Ok(layout::page(status, console, "Your teams", &[], body))
}

#[derive(Deserialize)]
pub struct NewTeam {
    name: String,
    slug: String,
}

pub async fn create_team(State(state): State<AppState>, Submitted { console, form }: Submitted<NewTeam>) -> Answer {
    match teams::create(&state.app, &console.caller, &form.name, &form.slug).await {
        Ok(team) => Ok(see_other(&format!("/console/team/{}", team.slug), vec![])),
        Err(e) => refused(&state, &console, e).await,
    }
}

/// The page again, with the reason a form was refused above it.
async fn refused(state: &AppState, console: &Console, e: basic_admin_app::AppError) -> Answer {
    let (status, message) = super::errors::refusal(e)?;
    view(state, console, status, Some(&message)).await
}
