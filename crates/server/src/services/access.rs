//! Who the caller is to a team or a project, and whether that allows an
//! action: 404 when they cannot see it, 403 when they can but may not act.
//! Developers act through their team role; an API key through its roles, in
//! its own project only.

use axum::http::StatusCode;
use basic_admin_core::authz::{Action, Decision, TeamRole, decide, decide_key};
use basic_admin_core::store::{Project, Team};
use uuid::Uuid;

use crate::auth::Caller;
use crate::cache::CachedKey;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub struct TeamAccess {
    pub team: Team,
    pub role: TeamRole,
    pub account_id: Uuid,
}

pub struct ProjectAccess {
    pub project: Project,
}

pub fn team_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "team_not_found", "There is no team with this id that you can see.")
}

pub fn project_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "project_not_found", "There is no project with this id that you can see.")
}

fn forbidden(role: TeamRole) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", format!("Your role in this team ({role}) does not allow this."))
}

/// Parses an id from a path; one that is not a UUID names nothing.
pub fn parse_id(text: &str, not_found: fn() -> ApiError) -> ApiResult<Uuid> {
    Uuid::try_parse(text).map_err(|_| not_found())
}

pub fn require(role: TeamRole, action: Action) -> ApiResult<()> {
    match decide(role, action) {
        Decision::Allow => Ok(()),
        Decision::Deny => Err(forbidden(role)),
    }
}

/// The team `team_id`, if the caller (a developer) is a member allowed `action`.
pub async fn team(state: &AppState, caller: &Caller, team_id: &str, action: Action) -> ApiResult<TeamAccess> {
    let account_id = caller.developer()?.account_id;
    let id = parse_id(team_id, team_not_found)?;
    let member = state.store.member(id, account_id).await?.ok_or_else(team_not_found)?;
    let team = state.store.team_by_id(id).await?.ok_or_else(team_not_found)?;
    let role = member.roles;
    require(role, action)?;
    Ok(TeamAccess { team, role, account_id })
}

/// The project `project_id`, if the caller is a developer of its team, or
/// one of its keys, allowed `action`.
pub async fn project(state: &AppState, caller: &Caller, project_id: &str, action: Action) -> ApiResult<ProjectAccess> {
    let id = parse_id(project_id, project_not_found)?;
    if let Caller::ApiKey(key) = caller {
        key_may(key, id, action)?;
        let project = state.store.project_by_id(id).await?.ok_or_else(project_not_found)?;
        return Ok(ProjectAccess { project });
    }
    let account_id = caller.developer()?.account_id;
    let project = state.store.project_by_id(id).await?.ok_or_else(project_not_found)?;
    let member = state.store.member(project.team_id, account_id).await?.ok_or_else(project_not_found)?;
    require(member.roles, action)?;
    Ok(ProjectAccess { project })
}

/// [`project`] for callers that need only the id: a key of the project
/// (cached) costs no database access, since a key lives no longer than its
/// project.
pub async fn project_id(state: &AppState, caller: &Caller, project_id: &str, action: Action) -> ApiResult<Uuid> {
    match caller {
        Caller::ApiKey(key) => {
            let id = parse_id(project_id, project_not_found)?;
            key_may(key, id, action)?;
            Ok(id)
        }
        _ => Ok(project(state, caller, project_id, action).await?.project.id),
    }
}

/// A key acts in its own project only, within its roles.
fn key_may(key: &CachedKey, project: Uuid, action: Action) -> ApiResult<()> {
    if key.key.project_id != project {
        return Err(project_not_found());
    }
    match decide_key(&key.roles, action) {
        Decision::Allow => Ok(()),
        Decision::Deny => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("This API key's roles ({}) do not allow this.", key.key.roles),
        )),
    }
}
