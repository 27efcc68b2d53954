//! The `teams` tag: teams, members and invites.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use basic_admin_core::authz::TeamRole;
use basic_admin_core::store::{Invite, Member, Project, Team};
use basic_admin_core::time::rfc3339;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{Data, Deleted, SlugAvailability, SlugQuery, Success};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::openapi::{AccessErrors, ErrorBody, SlugErrorBody};
use crate::state::AppState;
use basic_admin_app::services::slugs;
use basic_admin_app::services::teams::{self, NewInvite};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(slug_available))
        .routes(routes!(accept_invite))
        .routes(routes!(get, update, delete))
        .routes(routes!(members))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(invites, invite))
        .routes(routes!(delete_invite))
}

#[derive(Serialize, ToSchema)]
struct TeamSummary {
    id: Uuid,
    name: String,
    slug: String,
    /// The owner's account id
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    owner: Option<Uuid>,
    /// The caller's role in the team.
    roles: String,
    /// The role's label: the one set, or the role's own name (`Owner`, …)
    role_name: String,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

/// Get user teams
///
/// The teams the caller is a member of, with the caller's role in each.
#[utoipa::path(
    get,
    path = "/team",
    tag = "teams",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The caller's teams", body = Data<Vec<TeamSummary>>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The token lacks the admin scope", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Data<Vec<TeamSummary>>>> {
    let teams = teams::list(&state.app, &caller).await?;
    let data = teams
        .into_iter()
        .map(|t| TeamSummary {
            id: t.team.id,
            name: t.team.name,
            slug: t.team.slug.into_inner(),
            owner: t.owner_id,
            role_name: role_label(t.member.roles, t.member.role_name),
            roles: t.member.roles.to_string(),
            created_at: t.team.created_at,
        })
        .collect();
    Ok(Json(Data { data }))
}

#[derive(Deserialize, ToSchema)]
struct CreateTeam {
    /// Name of the team
    #[schema(min_length = 1)]
    name: String,
    /// URL-friendly slug for the team - must be unique
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    slug: String,
}

#[derive(Serialize, ToSchema)]
struct CreatedTeam {
    id: Uuid,
    name: String,
    slug: String,
    /// The owner's account id: the caller.
    owner: Uuid,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

/// Create a new team
///
/// The caller becomes its owner.
#[utoipa::path(
    post,
    path = "/team",
    tag = "teams",
    security(("bearerAuth" = [])),
    request_body = CreateTeam,
    responses(
        (status = 201, description = "Team created", body = Data<CreatedTeam>),
        (status = 400, description = "Invalid name or slug (with `slugified`)", body = SlugErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The token lacks the admin scope", body = ErrorBody),
        (status = 409, description = "The slug is taken", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateTeam>,
) -> ApiResult<(StatusCode, Json<Data<CreatedTeam>>)> {
    let team = teams::create(&state.app, &caller, &body.name, &body.slug).await?;
    let owner = caller.developer()?.account_id;
    let data =
        CreatedTeam { id: team.id, name: team.name, slug: team.slug.into_inner(), owner, created_at: team.created_at };
    Ok((StatusCode::CREATED, Json(Data { data })))
}

/// Check team slug availability
#[utoipa::path(
    get,
    path = "/team/slug",
    tag = "teams",
    params(SlugQuery),
    responses(
        (status = 200, description = "Whether the slug is free", body = SlugAvailability),
        (status = 400, description = "Not a valid slug; `slugified` suggests one", body = SlugErrorBody),
    )
)]
async fn slug_available(
    State(state): State<AppState>,
    Query(query): Query<SlugQuery>,
) -> ApiResult<Json<SlugAvailability>> {
    let slug = slugs::parse(&query.required()?)?;
    Ok(Json(SlugAvailability { available: !state.app.store.team_slug_taken(slug.as_str()).await? }))
}

/// A member's label, or their role's own name: never null, since clients
/// show it (the CLI lists a team's owner by it).
fn role_label(roles: TeamRole, role_name: Option<String>) -> String {
    role_name.unwrap_or_else(|| roles.label().to_owned())
}

#[derive(Serialize, ToSchema)]
struct MemberView {
    account_id: Uuid,
    roles: String,
    /// The role's label: the one set, or the role's own name (`Owner`, …)
    role_name: String,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            account_id: m.account_id,
            role_name: role_label(m.roles, m.role_name),
            roles: m.roles.to_string(),
            created_at: m.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct ProjectIcon {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    icon_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct TeamProjectView {
    id: Uuid,
    name: String,
    slug: String,
    profile: ProjectIcon,
}

impl From<Project> for TeamProjectView {
    fn from(p: Project) -> Self {
        let icon_url = p.profile["icon_url"].as_str().map(str::to_owned);
        Self { id: p.id, name: p.name, slug: p.slug.into_inner(), profile: ProjectIcon { icon_url } }
    }
}

#[derive(Serialize, ToSchema)]
struct InviteView {
    id: Uuid,
    team_id: Uuid,
    email_or_username: String,
    roles: String,
    /// The role's label: the one set, or the role's own name (`Owner`, …)
    role_name: String,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    expires_at: DateTime<Utc>,
}

impl From<Invite> for InviteView {
    fn from(i: Invite) -> Self {
        Self {
            id: i.id,
            team_id: i.team_id,
            email_or_username: i.invitee,
            role_name: role_label(i.roles, i.role_name),
            roles: i.roles.to_string(),
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
struct TeamDetailView {
    id: Uuid,
    name: String,
    slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    owner_id: Option<Uuid>,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
    members: Vec<MemberView>,
    projects: Vec<TeamProjectView>,
    /// Pending invites.
    invites: Vec<InviteView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TeamPath {
    /// The team's id
    team_id: String,
}

/// Get team by ID
///
/// The team with its members, projects and pending invites.
#[utoipa::path(
    get,
    path = "/team/{team_id}",
    tag = "teams",
    params(TeamPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The team", body = Data<TeamDetailView>),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<TeamPath>,
) -> ApiResult<Json<Data<TeamDetailView>>> {
    let detail = teams::get(&state.app, &caller, &path.team_id).await?;
    let data = TeamDetailView {
        id: detail.team.id,
        name: detail.team.name,
        slug: detail.team.slug.into_inner(),
        owner_id: detail.owner_id,
        created_at: detail.team.created_at,
        members: detail.members.into_iter().map(Into::into).collect(),
        projects: detail.projects.into_iter().map(Into::into).collect(),
        invites: detail.invites.into_iter().map(Into::into).collect(),
    };
    Ok(Json(Data { data }))
}

#[derive(Deserialize, ToSchema, Default)]
struct UpdateTeam {
    /// New name for the team
    #[schema(min_length = 1)]
    name: Option<String>,
    /// New URL-friendly slug for the team - must be unique
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)]
    slug: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct TeamView {
    id: Uuid,
    name: String,
    slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    owner_id: Option<Uuid>,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

/// Update a team
///
/// Its name, its slug, or both (owner and admins).
#[utoipa::path(
    patch,
    path = "/team/{team_id}",
    tag = "teams",
    params(TeamPath),
    security(("bearerAuth" = [])),
    request_body = UpdateTeam,
    responses(
        (status = 200, description = "The updated team", body = Data<TeamView>),
        (status = 400, description = "Nothing to update, or an invalid name or slug", body = ErrorBody),
        AccessErrors,
        (status = 409, description = "The slug is taken", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<TeamPath>,
    Json(body): Json<UpdateTeam>,
) -> ApiResult<Json<Data<TeamView>>> {
    let team: Team =
        teams::update(&state.app, &caller, &path.team_id, body.name.as_deref(), body.slug.as_deref()).await?;
    let owner_id = teams::owner_of(&state.app, team.id).await?;
    let data =
        TeamView { id: team.id, name: team.name, slug: team.slug.into_inner(), owner_id, created_at: team.created_at };
    Ok(Json(Data { data }))
}

/// Delete a team
///
/// With its members and invites (the owner only). A team with projects is
/// not deleted.
#[utoipa::path(
    delete,
    path = "/team/{team_id}",
    tag = "teams",
    params(TeamPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 400, description = "The team still has projects", body = ErrorBody),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn delete(State(state): State<AppState>, caller: Caller, Path(path): Path<TeamPath>) -> ApiResult<Json<Deleted>> {
    teams::delete(&state.app, &caller, &path.team_id).await?;
    Ok(Json(Deleted::new("The team was deleted.")))
}

/// Get team members
#[utoipa::path(
    get,
    path = "/team/{team_id}/member",
    tag = "teams",
    params(TeamPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The members", body = Data<Vec<MemberView>>),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn members(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<TeamPath>,
) -> ApiResult<Json<Data<Vec<MemberView>>>> {
    let members = teams::members(&state.app, &caller, &path.team_id).await?;
    Ok(Json(Data { data: members.into_iter().map(Into::into).collect() }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct MemberPath {
    /// The team's id
    team_id: String,
    /// The member's account id
    member_id: String,
}

#[derive(Deserialize, ToSchema, Default)]
struct UpdateMember {
    /// owner, admin, member or viewer; making someone owner hands the team over
    roles: Option<String>,
    /// A free display label; null clears it
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<String>)]
    role_name: Option<Option<String>>,
}

#[derive(Serialize, ToSchema)]
struct MembershipView {
    team_id: Uuid,
    account_id: Uuid,
    roles: String,
    /// The role's label: the one set, or the role's own name (`Owner`, …)
    role_name: String,
}

impl From<Member> for MembershipView {
    fn from(m: Member) -> Self {
        Self {
            team_id: m.team_id,
            account_id: m.account_id,
            role_name: role_label(m.roles, m.role_name),
            roles: m.roles.to_string(),
        }
    }
}

/// Update a team member
///
/// Roles or role name (owner and admins). Making a member `owner` transfers
/// ownership (the owner only); the old owner becomes an admin.
#[utoipa::path(
    patch,
    path = "/team/{team_id}/member/{member_id}",
    tag = "teams",
    params(MemberPath),
    security(("bearerAuth" = [])),
    request_body = UpdateMember,
    responses(
        (status = 200, description = "The member", body = Data<MembershipView>),
        (status = 400, description = "Invalid roles, or nothing to update", body = ErrorBody),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<MemberPath>,
    Json(body): Json<UpdateMember>,
) -> ApiResult<Json<Data<MembershipView>>> {
    let role_name = body.role_name.as_ref().map(|n| n.as_deref());
    let member =
        teams::update_member(&state.app, &caller, &path.team_id, &path.member_id, body.roles.as_deref(), role_name)
            .await?;
    Ok(Json(Data { data: member.into() }))
}

/// Delete a team member
///
/// Owner and admins remove members; anyone but the owner may remove
/// themselves (leave the team).
#[utoipa::path(
    delete,
    path = "/team/{team_id}/member/{member_id}",
    tag = "teams",
    params(MemberPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Removed", body = Success),
        (status = 400, description = "The owner cannot be removed", body = ErrorBody),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<MemberPath>,
) -> ApiResult<Json<Success>> {
    teams::remove_member(&state.app, &caller, &path.team_id, &path.member_id).await?;
    Ok(Json(Success::yes()))
}

/// Get team invites
///
/// Pending invites: not accepted, not expired. Only owners and admins see
/// them; for members and viewers the list is empty.
#[utoipa::path(
    get,
    path = "/team/{team_id}/invite",
    tag = "teams",
    params(TeamPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Pending invites", body = Data<Vec<InviteView>>),
        AccessErrors,
    )
)]
async fn invites(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<TeamPath>,
) -> ApiResult<Json<Data<Vec<InviteView>>>> {
    let invites = teams::invites(&state.app, &caller, &path.team_id).await?;
    Ok(Json(Data { data: invites.into_iter().map(Into::into).collect() }))
}

#[derive(Deserialize, ToSchema)]
struct CreateInvite {
    /// The email of the account to invite (or give `username`)
    email: Option<String>,
    /// The username of the account to invite (or give `email`)
    username: Option<String>,
    /// admin, member or viewer
    roles: String,
    /// Optional display name for the role
    role_name: Option<String>,
    /// When the invite expires; at most 90 days ahead, 7 days by default
    #[serde(default, with = "basic_admin_core::time::optional_rfc3339")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
struct CreatedInvite {
    id: Uuid,
    team_id: Uuid,
    /// For an invite made out to an email: the proof the invitee presents to
    /// accept it (`POST /team/accept-invite {invite_id, token}`). Shown this
    /// once; hand it to the invitee with the invite's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    roles: String,
    /// The role's label: the one set, or the role's own name (`Owner`, …)
    role_name: String,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    expires_at: DateTime<Utc>,
    email_or_username: String,
}

/// Create a team invite
///
/// By email or by username (exactly one), for owner and admins.
#[utoipa::path(
    post,
    path = "/team/{team_id}/invite",
    tag = "teams",
    params(TeamPath),
    security(("bearerAuth" = [])),
    request_body = CreateInvite,
    responses(
        (status = 201, description = "The invite", body = Data<CreatedInvite>),
        (status = 400, description = "Invalid invite, already a member, or a pending invite exists", body = ErrorBody),
        AccessErrors,
        (status = 429, description = "Too many invites from this account; see Retry-After", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<TeamPath>,
    Json(body): Json<CreateInvite>,
) -> ApiResult<(StatusCode, Json<Data<CreatedInvite>>)> {
    let new = NewInvite {
        email: body.email.as_deref(),
        username: body.username.as_deref(),
        roles: &body.roles,
        role_name: body.role_name.as_deref(),
        expires_at: body.expires_at,
    };
    let (invite, token) = teams::invite(&state.app, &caller, &path.team_id, new).await?;
    let data = CreatedInvite {
        id: invite.id,
        team_id: invite.team_id,
        token,
        role_name: role_label(invite.roles, invite.role_name),
        roles: invite.roles.to_string(),
        created_at: invite.created_at,
        expires_at: invite.expires_at,
        email_or_username: invite.invitee,
    };
    Ok((StatusCode::CREATED, Json(Data { data })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct InvitePath {
    /// The team's id
    team_id: String,
    /// The invite's id
    invite_id: String,
}

/// Delete a team invite
#[utoipa::path(
    delete,
    path = "/team/{team_id}/invite/{invite_id}",
    tag = "teams",
    params(InvitePath),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Deleted", body = Success),
        AccessErrors,
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn delete_invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<InvitePath>,
) -> ApiResult<Json<Success>> {
    teams::delete_invite(&state.app, &caller, &path.team_id, &path.invite_id).await?;
    Ok(Json(Success::yes()))
}

#[derive(Deserialize, ToSchema)]
struct AcceptInvite {
    /// The invite's id (`id` is accepted too)
    #[serde(alias = "id")]
    invite_id: String,
    /// The invite's token: required for invites made out to an email
    token: Option<String>,
}

/// Accept a team invite
///
/// An invite made out to an email is accepted with its token (given once,
/// when the invite was made); one made out to a username by that account.
#[utoipa::path(
    post,
    path = "/team/accept-invite",
    tag = "teams",
    security(("bearerAuth" = [])),
    request_body = AcceptInvite,
    responses(
        (status = 200, description = "Joined the team", body = Data<MembershipView>),
        (status = 400, description = "Expired or used invite, no token for an invite made out to an email, or already a member", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such invite for the caller", body = ErrorBody),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn accept_invite(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<AcceptInvite>,
) -> ApiResult<Json<Data<MembershipView>>> {
    let member = teams::accept(&state.app, &caller, &body.invite_id, body.token.as_deref()).await?;
    Ok(Json(Data { data: member.into() }))
}
