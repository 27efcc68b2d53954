//! Teams, their members and invites.

use axum::http::StatusCode;
use basic_admin_core::authz::{Action, Decision, TeamRole, decide};
use basic_admin_core::model::{Email, Username};
use basic_admin_core::store::{
    Constraint, Invite, InviteeKind, Member, NewTeam, Project, StoreError, Team, TeamMembership,
};
use basic_admin_core::time::{self, Timestamp};
use chrono::Duration;
use uuid::Uuid;

use super::access::{self, TeamAccess};
use super::slugs;
use crate::auth::Caller;
use crate::crypto::{constant_time_eq, random_token, token_hash};
use crate::error::{ApiError, ApiResult, not_found_as};
use crate::state::AppState;

pub const DEFAULT_INVITE_DAYS: i64 = 7;
pub const MAX_INVITE_DAYS: i64 = 90;
/// Invites one account may send in an hour (see `auth::throttle::invites`).
pub const MAX_INVITES_PER_HOUR: u32 = 50;

pub async fn list(state: &AppState, caller: &Caller) -> ApiResult<Vec<TeamMembership>> {
    let account_id = caller.developer()?.account_id;
    Ok(state.store.teams_of(account_id).await?)
}

pub async fn create(state: &AppState, caller: &Caller, name: &str, slug: &str) -> ApiResult<Team> {
    let owner = caller.developer()?.account_id;
    let name = slugs::name(name)?;
    let slug = slugs::parse(slug)?;
    let new = NewTeam { id: Uuid::new_v4(), name, slug: slug.into_inner(), owner, created_at: time::now() };
    state.store.create_team(new).await.map_err(|e| match e {
        StoreError::Unique(Constraint::TeamSlug) => slugs::taken("team"),
        other => other.into(),
    })
}

pub struct TeamDetail {
    pub team: Team,
    pub owner_id: Option<Uuid>,
    pub members: Vec<Member>,
    pub projects: Vec<Project>,
    pub invites: Vec<Invite>,
}

pub async fn get(state: &AppState, caller: &Caller, team_id: &str) -> ApiResult<TeamDetail> {
    let TeamAccess { team, role, .. } = access::team(state, caller, team_id, Action::ViewTeam).await?;
    let members = state.store.members(team.id).await?;
    let owner_id = members.iter().find(|m| m.roles == TeamRole::Owner).map(|m| m.account_id);
    Ok(TeamDetail {
        owner_id,
        projects: state.store.projects_of_team(team.id).await?,
        invites: pending_invites_for(state, team.id, role).await?,
        members,
        team,
    })
}

/// The team's pending invites, for those who may see them; an empty list for others.
async fn pending_invites_for(state: &AppState, team: Uuid, role: TeamRole) -> ApiResult<Vec<Invite>> {
    match decide(role, Action::ViewInvites) {
        Decision::Allow => Ok(state.store.pending_invites(team, time::now()).await?),
        Decision::Deny => Ok(Vec::new()),
    }
}

pub async fn owner_of(state: &AppState, team_id: Uuid) -> ApiResult<Option<Uuid>> {
    Ok(state.store.members(team_id).await?.into_iter().find(|m| m.roles == TeamRole::Owner).map(|m| m.account_id))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    team_id: &str,
    name: Option<&str>,
    slug: Option<&str>,
) -> ApiResult<Team> {
    let TeamAccess { team, .. } = access::team(state, caller, team_id, Action::UpdateTeam).await?;
    let name = name.map(slugs::name).transpose()?;
    let slug = slug.map(slugs::parse).transpose()?.map(|s| s.into_inner());
    if name.is_none() && slug.is_none() {
        return Err(ApiError::bad_request("nothing_to_update", "Give a new name, a new slug, or both."));
    }
    state.store.update_team(team.id, name, slug, time::now()).await.map_err(|e| match e {
        StoreError::Unique(Constraint::TeamSlug) => slugs::taken("team"),
        other => other.into(),
    })
}

pub async fn delete(state: &AppState, caller: &Caller, team_id: &str) -> ApiResult<()> {
    let TeamAccess { team, .. } = access::team(state, caller, team_id, Action::DeleteTeam).await?;
    let has_projects = || ApiError::bad_request("team_has_projects", "Delete or move the team's projects first.");
    if !state.store.projects_of_team(team.id).await?.is_empty() {
        return Err(has_projects());
    }
    state.store.delete_team(team.id).await.map_err(|e| match e {
        // A project created meanwhile.
        StoreError::ForeignKey => has_projects(),
        other => other.into(),
    })
}

pub async fn members(state: &AppState, caller: &Caller, team_id: &str) -> ApiResult<Vec<Member>> {
    let TeamAccess { team, .. } = access::team(state, caller, team_id, Action::ViewTeam).await?;
    Ok(state.store.members(team.id).await?)
}

fn member_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "member_not_found", "This account is not a member of the team.")
}

fn parse_role(roles: &str) -> ApiResult<TeamRole> {
    roles
        .parse()
        .map_err(|e: basic_admin_core::authz::RoleError| ApiError::bad_request("invalid_roles", format!("{e}.")))
}

fn clean_role_name(role_name: Option<&str>) -> ApiResult<Option<String>> {
    match role_name.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) if name.chars().count() <= 50 && !name.chars().any(char::is_control) => Ok(Some(name.to_owned())),
        Some(_) => Err(ApiError::bad_request("invalid_role_name", "A role name is at most 50 characters.")),
    }
}

/// Changes a member's role or role name. Making someone `owner` transfers
/// ownership (the owner only); the owner's own role changes only that way.
pub async fn update_member(
    state: &AppState,
    caller: &Caller,
    team_id: &str,
    member_id: &str,
    roles: Option<&str>,
    role_name: Option<Option<&str>>,
) -> ApiResult<Member> {
    let TeamAccess { team, role, account_id } = access::team(state, caller, team_id, Action::ManageMembers).await?;
    let member_id = access::parse_id(member_id, member_not_found)?;
    let target = state.store.member(team.id, member_id).await?.ok_or_else(member_not_found)?;
    let new_role = roles.map(parse_role).transpose()?;
    let role_name = role_name.map(clean_role_name).transpose()?;
    if new_role.is_none() && role_name.is_none() {
        return Err(ApiError::bad_request("nothing_to_update", "Give new roles, a new role_name, or both."));
    }
    let now = time::now();
    match new_role {
        Some(TeamRole::Owner) if target.roles != TeamRole::Owner => {
            access::require(role, Action::TransferOwnership)?;
            state.store.transfer_ownership(team.id, account_id, member_id, now).await?;
        }
        Some(other) if target.roles == TeamRole::Owner && other != TeamRole::Owner => {
            return Err(ApiError::bad_request(
                "owner_required",
                "A team always has an owner: make another member owner to hand the team over.",
            ));
        }
        _ => {}
    }
    let roles = new_role.filter(|r| *r != TeamRole::Owner);
    Ok(state.store.update_member(team.id, member_id, roles, role_name, now).await?)
}

/// Removes a member; anyone but the owner may also leave on their own.
pub async fn remove_member(state: &AppState, caller: &Caller, team_id: &str, member_id: &str) -> ApiResult<()> {
    let leaving = caller.developer()?.account_id.to_string() == member_id;
    let action = if leaving { Action::ViewTeam } else { Action::ManageMembers };
    let TeamAccess { team, .. } = access::team(state, caller, team_id, action).await?;
    let member_id = access::parse_id(member_id, member_not_found)?;
    let target = state.store.member(team.id, member_id).await?.ok_or_else(member_not_found)?;
    if target.roles == TeamRole::Owner {
        return Err(ApiError::bad_request(
            "owner_required",
            "The owner cannot be removed: make another member owner first.",
        ));
    }
    Ok(state.store.remove_member(team.id, member_id).await?)
}

pub struct NewInvite<'a> {
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
    pub roles: &'a str,
    pub role_name: Option<&'a str>,
    pub expires_at: Option<Timestamp>,
}

/// A new invite, and for one made out to an email its token: shown this
/// once, stored only as a hash. The answer never tells whether the invitee
/// has an account.
pub async fn invite(
    state: &AppState,
    caller: &Caller,
    team_id: &str,
    new: NewInvite<'_>,
) -> ApiResult<(Invite, Option<String>)> {
    let TeamAccess { team, account_id, .. } = access::team(state, caller, team_id, Action::ManageMembers).await?;
    state.invite_throttle.on_failure(&[(account_id, MAX_INVITES_PER_HOUR)]).map_err(|wait| {
        ApiError::too_many(wait, format!("At most {MAX_INVITES_PER_HOUR} invites an hour; try again later."))
    })?;
    let (kind, invitee) =
        match (new.email.filter(|e| !e.trim().is_empty()), new.username.filter(|u| !u.trim().is_empty())) {
            (Some(email), None) => {
                let email = Email::parse(email).map_err(|e| ApiError::bad_request("invalid_email", format!("{e}.")))?;
                (InviteeKind::Email, email.as_str().to_owned())
            }
            (None, Some(username)) => {
                let username = Username::parse(username)
                    .map_err(|e| ApiError::bad_request("invalid_username", format!("{e}.")))?;
                (InviteeKind::Username, username.as_str().to_owned())
            }
            _ => return Err(ApiError::bad_request("invalid_invitee", "Give exactly one of email and username.")),
        };
    let role = parse_role(new.roles)?;
    if role == TeamRole::Owner {
        return Err(ApiError::bad_request(
            "invalid_roles",
            "Invite as admin, member or viewer; ownership is handed over, not invited.",
        ));
    }
    let role_name = clean_role_name(new.role_name)?;
    let now = time::now();
    let expires_at = new.expires_at.unwrap_or(now + Duration::days(DEFAULT_INVITE_DAYS));
    if expires_at <= now || expires_at > now + Duration::days(MAX_INVITE_DAYS) {
        return Err(ApiError::bad_request(
            "invalid_expires_at",
            format!("expires_at must be in the next {MAX_INVITE_DAYS} days."),
        ));
    }
    let existing = match kind {
        InviteeKind::Email => state.store.account_by_email(&invitee).await?,
        InviteeKind::Username => state.store.account_by_username(&invitee).await?,
    };
    if let Some(account) = &existing
        && state.store.member(team.id, account.id).await?.is_some()
    {
        return Err(ApiError::bad_request("already_member", "This account is already a member of the team."));
    }
    let pending = state.store.pending_invites(team.id, now).await?;
    if pending.iter().any(|i| i.invitee_kind == kind && i.invitee.eq_ignore_ascii_case(&invitee)) {
        return Err(ApiError::bad_request("duplicate_invite", "There is already a pending invite for this account."));
    }
    let token = (kind == InviteeKind::Email).then(random_token);
    let invite = Invite {
        id: Uuid::new_v4(),
        team_id: team.id,
        invitee_kind: kind,
        invitee,
        roles: role,
        role_name,
        invited_by: Some(account_id),
        created_at: now,
        expires_at,
        accepted_at: None,
        token_hash: token.as_deref().map(token_hash),
    };
    state.store.create_invite(invite.clone()).await?;
    Ok((invite, token))
}

pub async fn invites(state: &AppState, caller: &Caller, team_id: &str) -> ApiResult<Vec<Invite>> {
    let TeamAccess { team, role, .. } = access::team(state, caller, team_id, Action::ViewTeam).await?;
    pending_invites_for(state, team.id, role).await
}

fn invite_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "invite_not_found", "There is no such invite.")
}

pub async fn delete_invite(state: &AppState, caller: &Caller, team_id: &str, invite_id: &str) -> ApiResult<()> {
    let TeamAccess { team, .. } = access::team(state, caller, team_id, Action::ManageMembers).await?;
    let invite_id = access::parse_id(invite_id, invite_not_found)?;
    state.store.delete_invite(team.id, invite_id).await.map_err(not_found_as(invite_not_found))
}

/// Joins the team of an invite: one made out to an email with the invite's
/// token (an account's email is not proven, so it proves nothing), one made
/// out to a username by that account.
pub async fn accept(state: &AppState, caller: &Caller, invite_id: &str, token: Option<&str>) -> ApiResult<Member> {
    let account_id = caller.developer()?.account_id;
    let account = state.store.account_by_id(account_id).await?.ok_or_else(invite_not_found)?;
    let invite_id = access::parse_id(invite_id, invite_not_found)?;
    let invite = state.store.invite_by_id(invite_id).await?.ok_or_else(invite_not_found)?;
    let for_caller = match (invite.invitee_kind, token.map(str::trim).filter(|t| !t.is_empty())) {
        (InviteeKind::Email, None) => {
            return Err(ApiError::bad_request(
                "invite_token_required",
                "This invite was made out to an email address: accept it with the token that came with it.",
            ));
        }
        (InviteeKind::Email, Some(token)) => invite
            .token_hash
            .as_deref()
            .is_some_and(|stored| constant_time_eq(stored.as_bytes(), token_hash(token).as_bytes())),
        (InviteeKind::Username, _) => {
            account.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(&invite.invitee))
        }
    };
    if !for_caller {
        // Someone else's invite: say nothing about it.
        return Err(invite_not_found());
    }
    if invite.accepted_at.is_some() {
        return Err(ApiError::bad_request("invite_used", "This invite has been accepted already."));
    }
    if invite.expires_at <= time::now() {
        return Err(ApiError::bad_request("invite_expired", "This invite has expired; ask for a new one."));
    }
    if state.store.member(invite.team_id, account_id).await?.is_some() {
        return Err(ApiError::bad_request("already_member", "You are already a member of this team."));
    }
    state.store.accept_invite(&invite, account_id, time::now()).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::bad_request("invite_used", "This invite has been accepted already."),
        StoreError::Unique(Constraint::TeamMember) => {
            ApiError::bad_request("already_member", "You are already a member of this team.")
        }
        other => other.into(),
    })
}
