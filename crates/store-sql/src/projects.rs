use async_trait::async_trait;
use basic_admin_core::store::{NewProject, NewTeam, Project, ProjectStore, StoreResult, Team};
use uuid::Uuid;

use crate::{Db, Row, SqlStore, q};

fn team(row: &impl Row) -> StoreResult<Team> {
    Ok(Team {
        id: row.id("id")?,
        name: row.text("name")?,
        slug: row.text("slug")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn project(row: &impl Row) -> StoreResult<Project> {
    Ok(Project {
        id: row.id("id")?,
        team_id: row.id("team_id")?,
        name: row.text("name")?,
        slug: row.text("slug")?,
        website: row.opt_text("website")?,
        profile: row.json("profile")?,
        settings: row.json("settings")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

#[async_trait]
impl<D: Db> ProjectStore for SqlStore<D> {
    async fn create_team(&self, new: NewTeam) -> StoreResult<Team> {
        let mut tx = self.db.begin().await?;
        let row = tx
            .fetch_one(
                q("INSERT INTO teams (id, name, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
                   RETURNING id, name, slug, created_at, updated_at")
                .id(new.id)
                .text(new.name)
                .text(new.slug)
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
                .text(new.slug)
                .opt_text(new.website)
                .json(&new.profile)
                .json(&new.settings)
                .time(new.created_at),
            )
            .await?;
        project(&row)
    }

    async fn project_by_id(&self, id: Uuid) -> StoreResult<Option<Project>> {
        let row = self
            .db
            .fetch_optional(
                q("SELECT id, team_id, name, slug, website, profile, settings, created_at, updated_at \
                   FROM projects WHERE id = $1")
                .id(id),
            )
            .await?;
        row.as_ref().map(project).transpose()
    }
}
