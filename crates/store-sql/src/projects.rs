use async_trait::async_trait;
use basic_admin_core::authz::TeamRole;
use basic_admin_core::model::Slug;
use basic_admin_core::store::{
    Invite, InviteeKind, Member, NewProject, NewTeam, Project, ProjectChanges, ProjectStore, StoreError, StoreResult,
    Team, TeamMembership, TeamProject, TeamStore,
};
use basic_admin_core::time::Timestamp;
use serde_json::Value;
use uuid::Uuid;

use crate::{Db, Row, SqlStore, q};

fn team(row: &impl Row) -> StoreResult<Team> {
    Ok(Team {
        id: row.id("id")?,
        name: row.text("name")?,
        slug: slug(row, "slug")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn member(row: &impl Row) -> StoreResult<Member> {
    Ok(Member {
        team_id: row.id("team_id")?,
        account_id: row.id("account_id")?,
        roles: role(row)?,
        role_name: row.opt_text("role_name")?,
        created_at: row.time("created_at")?,
    })
}

/// A stored slug: written only once parsed, so anything else is a fault.
fn slug(row: &impl Row, column: &str) -> StoreResult<Slug> {
    let text = row.text(column)?;
    Slug::parse(&text).map_err(|_| StoreError::Other(format!("stored slug {text:?} is not a slug")))
}

/// A stored role: written from the same vocabulary, so anything else is a fault.
fn role(row: &impl Row) -> StoreResult<TeamRole> {
    let text = row.text("roles")?;
    text.parse().map_err(|_| StoreError::Other(format!("unknown team role {text:?}")))
}

fn invite(row: &impl Row) -> StoreResult<Invite> {
    Ok(Invite {
        id: row.id("id")?,
        team_id: row.id("team_id")?,
        invitee_kind: {
            let kind = row.text("invitee_kind")?;
            InviteeKind::parse(&kind).ok_or_else(|| StoreError::Other(format!("unknown invitee kind {kind:?}")))?
        },
        invitee: row.text("invitee")?,
        roles: role(row)?,
        role_name: row.opt_text("role_name")?,
        invited_by: row.opt_id("invited_by")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        accepted_at: row.opt_time("accepted_at")?,
        token_hash: row.opt_text("token_hash")?,
    })
}

fn project(row: &impl Row) -> StoreResult<Project> {
    Ok(Project {
        id: row.id("id")?,
        team_id: row.id("team_id")?,
        name: row.text("name")?,
        slug: slug(row, "slug")?,
        website: row.opt_text("website")?,
        profile: row.json("profile")?,
        settings: row.json("settings")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn all<R, T>(rows: &[R], map: impl Fn(&R) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(map).collect()
}

const MEMBER: &str = "team_id, account_id, roles, role_name, created_at";
const INVITE: &str =
    "id, team_id, invitee_kind, invitee, roles, role_name, invited_by, created_at, expires_at, accepted_at, token_hash";
const PROJECT: &str = "id, team_id, name, slug, website, profile, settings, created_at, updated_at";

#[async_trait]
impl<D: Db> TeamStore for SqlStore<D> {
    async fn create_team(&self, new: NewTeam) -> StoreResult<Team> {
        let mut tx = self.db.begin().await?;
        let row = tx
            .fetch_one(
                q("INSERT INTO teams (id, name, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
                   RETURNING id, name, slug, created_at, updated_at")
                .id(new.id)
                .text(new.name)
                .text(new.slug.into_inner())
                .time(new.created_at),
            )
            .await?;
        tx.execute(
            q("INSERT INTO team_members (team_id, account_id, roles, created_at, updated_at) \
               VALUES ($1, $2, 'owner', $3, $3)")
            .id(new.id)
            .id(new.owner)
            .time(new.created_at),
        )
        .await?;
        tx.commit().await?;
        team(&row)
    }

    async fn team_by_id(&self, id: Uuid) -> StoreResult<Option<Team>> {
        let row = self
            .db
            .fetch_optional(q("SELECT id, name, slug, created_at, updated_at FROM teams WHERE id = $1").id(id))
            .await?;
        row.as_ref().map(team).transpose()
    }

    async fn team_slug_taken(&self, slug: &str) -> StoreResult<bool> {
        Ok(self.db.fetch_optional(q("SELECT 1 AS one FROM teams WHERE slug = $1").text(slug)).await?.is_some())
    }

    async fn teams_of(&self, account_id: Uuid) -> StoreResult<Vec<TeamMembership>> {
        let rows = self
            .db
            .fetch_all(
                q("SELECT t.id, t.name, t.slug, t.created_at, t.updated_at, \
                          m.team_id, m.account_id, m.roles, m.role_name, m.created_at AS member_since, \
                          (SELECT o.account_id FROM team_members o WHERE o.team_id = t.id AND o.roles = 'owner') AS owner_id \
                   FROM team_members m JOIN teams t ON t.id = m.team_id \
                   WHERE m.account_id = $1 ORDER BY m.created_at, t.id")
                .id(account_id),
            )
            .await?;
        all(&rows, |row| {
            Ok(TeamMembership {
                team: team(row)?,
                member: Member {
                    team_id: row.id("team_id")?,
                    account_id: row.id("account_id")?,
                    roles: role(row)?,
                    role_name: row.opt_text("role_name")?,
                    created_at: row.time("member_since")?,
                },
                owner_id: row.opt_id("owner_id")?,
            })
        })
    }

    async fn update_team(
        &self,
        id: Uuid,
        name: Option<String>,
        slug: Option<Slug>,
        at: Timestamp,
    ) -> StoreResult<Team> {
        let row = self
            .db
            .write_one(
                q("UPDATE teams SET name = COALESCE($2, name), slug = COALESCE($3, slug), updated_at = $4 \
                   WHERE id = $1 RETURNING id, name, slug, created_at, updated_at")
                .id(id)
                .opt_text(name)
                .opt_text(slug.map(Slug::into_inner))
                .time(at),
            )
            .await?;
        team(&row)
    }

    async fn delete_team(&self, id: Uuid) -> StoreResult<()> {
        match self.db.execute(q("DELETE FROM teams WHERE id = $1").id(id)).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn members(&self, team_id: Uuid) -> StoreResult<Vec<Member>> {
        let sql = format!("SELECT {MEMBER} FROM team_members WHERE team_id = $1 ORDER BY created_at, account_id");
        all(&self.db.fetch_all(crate::Query::dynamic(sql).id(team_id)).await?, member)
    }

    async fn member(&self, team_id: Uuid, account_id: Uuid) -> StoreResult<Option<Member>> {
        let sql = format!("SELECT {MEMBER} FROM team_members WHERE team_id = $1 AND account_id = $2");
        let row = self.db.fetch_optional(crate::Query::dynamic(sql).id(team_id).id(account_id)).await?;
        row.as_ref().map(member).transpose()
    }

    async fn add_member(&self, m: Member) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO team_members (team_id, account_id, roles, role_name, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $5)")
                .id(m.team_id)
                .id(m.account_id)
                .text(m.roles.as_str())
                .opt_text(m.role_name)
                .time(m.created_at),
            )
            .await
            .map(drop)
    }

    async fn update_member(
        &self,
        team_id: Uuid,
        account_id: Uuid,
        roles: Option<TeamRole>,
        role_name: Option<Option<String>>,
        at: Timestamp,
    ) -> StoreResult<Member> {
        let row = self
            .db
            .write_one(
                q("UPDATE team_members SET roles = COALESCE($3, roles), \
                          role_name = CASE WHEN $4 THEN $5 ELSE role_name END, updated_at = $6 \
                   WHERE team_id = $1 AND account_id = $2 \
                   RETURNING team_id, account_id, roles, role_name, created_at")
                .id(team_id)
                .id(account_id)
                .opt_text(roles.map(TeamRole::as_str))
                .boolean(role_name.is_some())
                .opt_text(role_name.flatten())
                .time(at),
            )
            .await?;
        member(&row)
    }

    async fn transfer_ownership(&self, team_id: Uuid, from: Uuid, to: Uuid, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        // Demote first: at most one owner at any moment (a unique index says so).
        let demoted = tx
            .execute(
                q("UPDATE team_members SET roles = 'admin', updated_at = $3 \
                   WHERE team_id = $1 AND account_id = $2 AND roles = 'owner'")
                .id(team_id)
                .id(from)
                .time(at),
            )
            .await?;
        let promoted = tx
            .execute(
                q("UPDATE team_members SET roles = 'owner', updated_at = $3 WHERE team_id = $1 AND account_id = $2")
                    .id(team_id)
                    .id(to)
                    .time(at),
            )
            .await?;
        if demoted != 1 || promoted != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await
    }

    async fn remove_member(&self, team_id: Uuid, account_id: Uuid) -> StoreResult<()> {
        let sql = q("DELETE FROM team_members WHERE team_id = $1 AND account_id = $2").id(team_id).id(account_id);
        match self.db.execute(sql).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn create_invite(&self, i: Invite) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO team_invites (id, team_id, invitee_kind, invitee, roles, role_name, invited_by, \
                                             created_at, expires_at, accepted_at, token_hash) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                .id(i.id)
                .id(i.team_id)
                .text(i.invitee_kind.as_str())
                .text(i.invitee)
                .text(i.roles.as_str())
                .opt_text(i.role_name)
                .opt_id(i.invited_by)
                .time(i.created_at)
                .time(i.expires_at)
                .opt_time(i.accepted_at)
                .opt_text(i.token_hash),
            )
            .await
            .map(drop)
    }

    async fn invite_by_id(&self, id: Uuid) -> StoreResult<Option<Invite>> {
        let sql = format!("SELECT {INVITE} FROM team_invites WHERE id = $1");
        let row = self.db.fetch_optional(crate::Query::dynamic(sql).id(id)).await?;
        row.as_ref().map(invite).transpose()
    }

    async fn pending_invites(&self, team_id: Uuid, now: Timestamp) -> StoreResult<Vec<Invite>> {
        let sql = format!(
            "SELECT {INVITE} FROM team_invites WHERE team_id = $1 AND accepted_at IS NULL AND expires_at > $2 \
             ORDER BY created_at, id"
        );
        all(&self.db.fetch_all(crate::Query::dynamic(sql).id(team_id).time(now)).await?, invite)
    }

    async fn delete_invite(&self, team_id: Uuid, id: Uuid) -> StoreResult<()> {
        match self.db.execute(q("DELETE FROM team_invites WHERE team_id = $1 AND id = $2").id(team_id).id(id)).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn accept_invite(&self, i: &Invite, account_id: Uuid, at: Timestamp) -> StoreResult<Member> {
        let mut tx = self.db.begin().await?;
        let taken = tx
            .execute(
                q("UPDATE team_invites SET accepted_at = $2, accepted_by = $3 WHERE id = $1 AND accepted_at IS NULL")
                    .id(i.id)
                    .time(at)
                    .id(account_id),
            )
            .await?;
        if taken == 0 {
            return Err(StoreError::NotFound);
        }
        let row = tx
            .fetch_one(
                q("INSERT INTO team_members (team_id, account_id, roles, role_name, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $5) RETURNING team_id, account_id, roles, role_name, created_at")
                .id(i.team_id)
                .id(account_id)
                .text(i.roles.as_str())
                .opt_text(i.role_name.clone())
                .time(at),
            )
            .await?;
        tx.commit().await?;
        member(&row)
    }
}

#[async_trait]
impl<D: Db> ProjectStore for SqlStore<D> {
    async fn create_project(&self, new: NewProject) -> StoreResult<Project> {
        let row = self
            .db
            .write_one(
                q("INSERT INTO projects (id, team_id, name, slug, website, profile, settings, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                   RETURNING id, team_id, name, slug, website, profile, settings, created_at, updated_at")
                .id(new.id)
                .id(new.team_id)
                .text(new.name)
                .text(new.slug.into_inner())
                .opt_text(new.website)
                .json(&new.profile)
                .json(&new.settings)
                .time(new.created_at),
            )
            .await?;
        project(&row)
    }

    async fn project_by_id(&self, id: Uuid) -> StoreResult<Option<Project>> {
        let sql = format!("SELECT {PROJECT} FROM projects WHERE id = $1");
        let row = self.db.fetch_optional(crate::Query::dynamic(sql).id(id)).await?;
        row.as_ref().map(project).transpose()
    }

    async fn project_slug_taken(&self, slug: &str) -> StoreResult<bool> {
        Ok(self.db.fetch_optional(q("SELECT 1 AS one FROM projects WHERE slug = $1").text(slug)).await?.is_some())
    }

    async fn projects_of(&self, account_id: Uuid) -> StoreResult<Vec<TeamProject>> {
        let rows = self
            .db
            .fetch_all(
                q("SELECT p.id, p.team_id, p.name, p.slug, p.website, p.profile, p.settings, p.created_at, p.updated_at, \
                          t.name AS team_name, t.slug AS team_slug, t.created_at AS team_created_at, \
                          t.updated_at AS team_updated_at \
                   FROM projects p JOIN teams t ON t.id = p.team_id \
                   JOIN team_members m ON m.team_id = p.team_id AND m.account_id = $1 \
                   ORDER BY p.created_at, p.id")
                .id(account_id),
            )
            .await?;
        all(&rows, |row| {
            let project = project(row)?;
            let team = Team {
                id: project.team_id,
                name: row.text("team_name")?,
                slug: slug(row, "team_slug")?,
                created_at: row.time("team_created_at")?,
                updated_at: row.time("team_updated_at")?,
            };
            Ok(TeamProject { project, team })
        })
    }

    async fn projects_of_team(&self, team_id: Uuid) -> StoreResult<Vec<Project>> {
        let sql = format!("SELECT {PROJECT} FROM projects WHERE team_id = $1 ORDER BY created_at, id");
        all(&self.db.fetch_all(crate::Query::dynamic(sql).id(team_id)).await?, project)
    }

    async fn update_project(
        &self,
        id: Uuid,
        changes: ProjectChanges,
        seen: Timestamp,
        at: Timestamp,
    ) -> StoreResult<Option<Project>> {
        let row = self
            .db
            .write_optional(
                q("UPDATE projects SET name = COALESCE($2, name), slug = COALESCE($3, slug), \
                          website = CASE WHEN $4 THEN $5 ELSE website END, profile = COALESCE($6, profile), \
                          updated_at = $7 \
                   WHERE id = $1 AND updated_at = $8 \
                   RETURNING id, team_id, name, slug, website, profile, settings, created_at, updated_at")
                .id(id)
                .opt_text(changes.name)
                .opt_text(changes.slug.map(Slug::into_inner))
                .boolean(changes.website.is_some())
                .opt_text(changes.website.flatten())
                .opt_json(changes.profile.as_ref())
                .time(at)
                .time(seen),
            )
            .await?;
        row.as_ref().map(project).transpose()
    }

    async fn update_settings(
        &self,
        id: Uuid,
        settings: &Value,
        seen: Timestamp,
        at: Timestamp,
    ) -> StoreResult<Option<Project>> {
        let row = self
            .db
            .write_optional(
                q("UPDATE projects SET settings = $2, updated_at = $4 WHERE id = $1 AND updated_at = $3 \
                   RETURNING id, team_id, name, slug, website, profile, settings, created_at, updated_at")
                .id(id)
                .json(settings)
                .time(seen)
                .time(at),
            )
            .await?;
        row.as_ref().map(project).transpose()
    }

    async fn delete_project(&self, id: Uuid) -> StoreResult<()> {
        match self.db.execute(q("DELETE FROM projects WHERE id = $1").id(id)).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
}
