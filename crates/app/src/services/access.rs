//! Who the caller is to a team or a project, and whether that allows an
//! action: 404 when they cannot see it, 403 when they can but may not act.
//! Developers act through their team role; an API key through its roles, in
//! its own project only.

use basic_admin_core::authz::{Action, Decision, TeamRole, decide, decide_key};
use basic_admin_core::store::{Project, Team};
use uuid::Uuid;

use crate::Caller;
use crate::Context;
use crate::cache::CachedKey;
use crate::error::{AppError, AppResult, Thing};

pub struct TeamAccess {
    pub team: Team,
    pub role: TeamRole,
    pub account_id: Uuid,
}

pub struct ProjectAccess {
    pub project: Project,
}

fn forbidden(role: TeamRole) -> AppError {
    AppError::forbidden("forbidden", format!("Your role in this team ({role}) does not allow this."))
}

/// Parses an id from a path; one that is not a UUID names nothing.
pub fn parse_id(text: &str, thing: Thing) -> AppResult<Uuid> {
    Uuid::try_parse(text).map_err(|_| AppError::NotFound(thing))
}

pub fn require(role: TeamRole, action: Action) -> AppResult<()> {
    match decide(role, action) {
        Decision::Allow => Ok(()),
        Decision::Deny => Err(forbidden(role)),
    }
}

/// The team `team_id`, if the caller (a developer) is a member allowed `action`.
pub async fn team(ctx: &Context, caller: &Caller, team_id: &str, action: Action) -> AppResult<TeamAccess> {
    let account_id = caller.developer()?.account_id;
    let id = parse_id(team_id, Thing::Team)?;
    let member = ctx.store.member(id, account_id).await?.ok_or(AppError::NotFound(Thing::Team))?;
    let team = ctx.store.team_by_id(id).await?.ok_or(AppError::NotFound(Thing::Team))?;
    let role = member.roles;
    require(role, action)?;
    Ok(TeamAccess { team, role, account_id })
}

/// The project `project_id`, if the caller is a developer of its team, or
/// one of its keys, allowed `action`.
pub async fn project(ctx: &Context, caller: &Caller, project_id: &str, action: Action) -> AppResult<ProjectAccess> {
    let id = parse_id(project_id, Thing::Project)?;
    if let Caller::ApiKey(key) = caller {
        key_may(key, id, action)?;
        let project = ctx.store.project_by_id(id).await?.ok_or(AppError::NotFound(Thing::Project))?;
        return Ok(ProjectAccess { project });
    }
    let account_id = caller.developer()?.account_id;
    let project = ctx.store.project_by_id(id).await?.ok_or(AppError::NotFound(Thing::Project))?;
    let member = ctx.store.member(project.team_id, account_id).await?.ok_or(AppError::NotFound(Thing::Project))?;
    require(member.roles, action)?;
    Ok(ProjectAccess { project })
}

/// [`project`] for callers that need only the id: a key of the project
/// (cached) costs no database access, since a key lives no longer than its
/// project.
pub async fn project_id(ctx: &Context, caller: &Caller, project_id: &str, action: Action) -> AppResult<Uuid> {
    match caller {
        Caller::ApiKey(key) => {
            let id = parse_id(project_id, Thing::Project)?;
            key_may(key, id, action)?;
            Ok(id)
        }
        _ => Ok(project(ctx, caller, project_id, action).await?.project.id),
    }
}

/// A key acts in its own project only, within its roles.
fn key_may(key: &CachedKey, project: Uuid, action: Action) -> AppResult<()> {
    if key.key.project_id != project {
        return Err(AppError::NotFound(Thing::Project));
    }
    match decide_key(&key.roles, action) {
        Decision::Allow => Ok(()),
        Decision::Deny => Err(AppError::forbidden(
            "forbidden",
            format!("This API key's roles ({}) do not allow this.", key.key.roles),
        )),
    }
}
