use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::StoreResult;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewTeam {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    /// Made the team's `owner`, in the same transaction.
    pub owner: Uuid,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: Uuid,
    pub team_id: Uuid,
    pub name: String,
    pub slug: String,
    pub website: Option<String>,
    pub profile: Value,
    pub settings: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub id: Uuid,
    pub team_id: Uuid,
    pub name: String,
    pub slug: String,
    pub website: Option<String>,
    pub profile: Value,
    pub settings: Value,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait ProjectStore {
    /// Conflicts: `teams_slug_key`.
    async fn create_team(&self, team: NewTeam) -> StoreResult<Team>;
    /// Conflicts: `projects_slug_key`.
    async fn create_project(&self, project: NewProject) -> StoreResult<Project>;
    async fn project_by_id(&self, id: Uuid) -> StoreResult<Option<Project>>;
}
