use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::StoreResult;
use crate::authz::TeamRole;
use crate::model::Slug;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub slug: Slug,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewTeam {
    pub id: Uuid,
    pub name: String,
    pub slug: Slug,
    /// Made the team's `owner`, in the same transaction.
    pub owner: Uuid,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub team_id: Uuid,
    pub account_id: Uuid,
    pub roles: TeamRole,
    pub role_name: Option<String>,
    pub created_at: Timestamp,
}

/// A team with the caller's membership of it.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamMembership {
    pub team: Team,
    pub member: Member,
    /// Every team has one; `None` only if the data was edited by hand.
    pub owner_id: Option<Uuid>,
}

/// Whom an invite is made out to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteeKind {
    Email,
    Username,
}

impl InviteeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InviteeKind::Email => "email",
            InviteeKind::Username => "username",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(InviteeKind::Email),
            "username" => Some(InviteeKind::Username),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    pub id: Uuid,
    pub team_id: Uuid,
    pub invitee_kind: InviteeKind,
    pub invitee: String,
    pub roles: TeamRole,
    pub role_name: Option<String>,
    pub invited_by: Option<Uuid>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    /// The hash of the invite's token (invites made out to an email): the
    /// proof an accepting account presents.
    pub token_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: Uuid,
    pub team_id: Uuid,
    pub name: String,
    pub slug: Slug,
    pub website: Option<String>,
    pub profile: Value,
    pub settings: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A project with the team it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamProject {
    pub project: Project,
    pub team: Team,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub id: Uuid,
    pub team_id: Uuid,
    pub name: String,
    pub slug: Slug,
    pub website: Option<String>,
    pub profile: Value,
    pub settings: Value,
    pub created_at: Timestamp,
}

/// The fields of a project that change together; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub slug: Option<Slug>,
    pub website: Option<Option<String>>,
    pub profile: Option<Value>,
}

#[async_trait]
pub trait TeamStore {
    /// Conflicts: `teams_slug_key`.
    async fn create_team(&self, team: NewTeam) -> StoreResult<Team>;
    async fn team_by_id(&self, id: Uuid) -> StoreResult<Option<Team>>;
    async fn team_slug_taken(&self, slug: &str) -> StoreResult<bool>;
    /// The teams `account_id` belongs to, oldest membership first.
    async fn teams_of(&self, account_id: Uuid) -> StoreResult<Vec<TeamMembership>>;
    /// Conflicts: `teams_slug_key`. `NotFound` if there is no such team.
    async fn update_team(&self, id: Uuid, name: Option<String>, slug: Option<Slug>, at: Timestamp)
    -> StoreResult<Team>;
    /// Deletes the team with its members and invites, unless it still has
    /// projects: `Conflict("projects_team_id_fkey")` then.
    async fn delete_team(&self, id: Uuid) -> StoreResult<()>;

    async fn members(&self, team_id: Uuid) -> StoreResult<Vec<Member>>;
    async fn member(&self, team_id: Uuid, account_id: Uuid) -> StoreResult<Option<Member>>;
    /// A conflict if already a member.
    async fn add_member(&self, member: Member) -> StoreResult<()>;
    /// `NotFound` if not a member.
    async fn update_member(
        &self,
        team_id: Uuid,
        account_id: Uuid,
        roles: Option<TeamRole>,
        role_name: Option<Option<String>>,
        at: Timestamp,
    ) -> StoreResult<Member>;
    /// Makes `to` the owner and `from` an admin, atomically.
    async fn transfer_ownership(&self, team_id: Uuid, from: Uuid, to: Uuid, at: Timestamp) -> StoreResult<()>;
    /// `NotFound` if not a member.
    async fn remove_member(&self, team_id: Uuid, account_id: Uuid) -> StoreResult<()>;

    async fn create_invite(&self, invite: Invite) -> StoreResult<()>;
    async fn invite_by_id(&self, id: Uuid) -> StoreResult<Option<Invite>>;
    /// Invites not accepted and not expired at `now`, oldest first.
    async fn pending_invites(&self, team_id: Uuid, now: Timestamp) -> StoreResult<Vec<Invite>>;
    /// `NotFound` if there is no such invite in this team.
    async fn delete_invite(&self, team_id: Uuid, id: Uuid) -> StoreResult<()>;
    /// Marks the invite accepted and adds the member, atomically; `NotFound`
    /// if it was accepted (or deleted) meanwhile; a conflict if already a member.
    async fn accept_invite(&self, invite: &Invite, account_id: Uuid, at: Timestamp) -> StoreResult<Member>;
}

#[async_trait]
pub trait ProjectStore {
    /// Conflicts: `projects_slug_key`.
    async fn create_project(&self, project: NewProject) -> StoreResult<Project>;
    async fn project_by_id(&self, id: Uuid) -> StoreResult<Option<Project>>;
    async fn project_slug_taken(&self, slug: &str) -> StoreResult<bool>;
    /// The projects of every team `account_id` belongs to, oldest first.
    async fn projects_of(&self, account_id: Uuid) -> StoreResult<Vec<TeamProject>>;
    async fn projects_of_team(&self, team_id: Uuid) -> StoreResult<Vec<Project>>;
    /// Applies `changes` if the project is unchanged since `seen` (its
    /// `updated_at`); `None` when it changed meanwhile (read it again and
    /// retry) or is gone. `at` must be later than `seen`. Conflicts:
    /// `projects_slug_key`.
    async fn update_project(
        &self,
        id: Uuid,
        changes: ProjectChanges,
        seen: Timestamp,
        at: Timestamp,
    ) -> StoreResult<Option<Project>>;
    /// Replaces the settings if the project is unchanged since `seen`
    /// (its `updated_at`); `None` when it changed meanwhile (read it again
    /// and retry) or is gone. `at` must be later than `seen`.
    async fn update_settings(
        &self,
        id: Uuid,
        settings: &Value,
        seen: Timestamp,
        at: Timestamp,
    ) -> StoreResult<Option<Project>>;
    /// Deletes the project and everything that belongs to it.
    async fn delete_project(&self, id: Uuid) -> StoreResult<()>;
}
