use async_trait::async_trait;
use basic_admin_core::store::{NewProject, NewTeam, Project, ProjectStore, StoreResult, Team};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use uuid::Uuid;
use uuid::fmt::Hyphenated;

use crate::{SqliteStore, map_err};

fn team(row: &SqliteRow) -> Result<Team, sqlx::Error> {
    Ok(Team {
        id: row.try_get::<Hyphenated, _>("id")?.into_uuid(),
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn project(row: &SqliteRow) -> Result<Project, sqlx::Error> {
    Ok(Project {
        id: row.try_get::<Hyphenated, _>("id")?.into_uuid(),
        team_id: row.try_get::<Hyphenated, _>("team_id")?.into_uuid(),
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        website: row.try_get("website")?,
        profile: row.try_get::<Json<serde_json::Value>, _>("profile")?.0,
        settings: row.try_get::<Json<serde_json::Value>, _>("settings")?.0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait]
impl ProjectStore for SqliteStore {
    async fn create_team(&self, new: NewTeam) -> StoreResult<Team> {
        let mut tx = self.write.begin().await.map_err(map_err)?;
        let created = sqlx::query(
            "INSERT INTO teams (id, name, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             RETURNING id, name, slug, created_at, updated_at",
        )
        .bind(new.id.hyphenated())
        .bind(&new.name)
        .bind(&new.slug)
        .bind(new.created_at)
        .try_map(|row| team(&row))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO team_members (team_id, account_id, roles, created_at, updated_at) \
             VALUES ($1, $2, 'owner', $3, $3)",
        )
        .bind(new.id.hyphenated())
        .bind(new.owner.hyphenated())
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(created)
    }

    async fn create_project(&self, new: NewProject) -> StoreResult<Project> {
        sqlx::query(
            "INSERT INTO projects (id, team_id, name, slug, website, profile, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             RETURNING id, team_id, name, slug, website, profile, settings, created_at, updated_at",
        )
        .bind(new.id.hyphenated())
        .bind(new.team_id.hyphenated())
        .bind(&new.name)
        .bind(&new.slug)
        .bind(&new.website)
        .bind(Json(&new.profile))
        .bind(Json(&new.settings))
        .bind(new.created_at)
        .try_map(|row| project(&row))
        .fetch_one(&self.write)
        .await
        .map_err(map_err)
    }

    async fn project_by_id(&self, id: Uuid) -> StoreResult<Option<Project>> {
        sqlx::query(
            "SELECT id, team_id, name, slug, website, profile, settings, created_at, updated_at \
             FROM projects WHERE id = $1",
        )
        .bind(id.hyphenated())
        .try_map(|row| project(&row))
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)
    }
}
