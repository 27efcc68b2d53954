use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::time::Timestamp;

/// A project API key; its secret only as a hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: Uuid,
    pub project_id: Uuid,
    pub label: String,
    /// Comma-separated role names.
    pub roles: String,
    pub is_private: bool,
    pub secret_hash: Vec<u8>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_used: Option<Timestamp>,
}

impl ApiKey {
    /// The stored roles as the key check reads them: they were checked when
    /// written; a name unknown today, or a role a public key may no longer
    /// hold, grants nothing.
    pub fn parsed_roles(&self) -> crate::model::api_key::KeyRoles {
        crate::model::api_key::KeyRoles::parse(&self.roles, self.is_private).unwrap_or_default()
    }
}

#[async_trait]
pub trait ApiKeyStore {
    async fn create_key(&self, key: ApiKey) -> StoreResult<()>;
    /// The project's keys, oldest first.
    async fn keys_of_project(&self, project_id: Uuid) -> StoreResult<Vec<ApiKey>>;
    async fn key_by_id(&self, id: Uuid) -> StoreResult<Option<ApiKey>>;
    /// `NotFound` unless the project has this key.
    async fn update_key(
        &self,
        project_id: Uuid,
        id: Uuid,
        label: Option<String>,
        roles: Option<String>,
        at: Timestamp,
    ) -> StoreResult<ApiKey>;
    /// A new secret for the key; the old one stops working. `NotFound`
    /// unless the project has this key.
    async fn replace_key_secret(
        &self,
        project_id: Uuid,
        id: Uuid,
        secret_hash: &[u8],
        at: Timestamp,
    ) -> StoreResult<ApiKey>;
    /// `NotFound` unless the project has this key.
    async fn delete_key(&self, project_id: Uuid, id: Uuid) -> StoreResult<()>;
    /// Records when keys were last used, in one transaction; a use older than
    /// the one recorded changes nothing.
    async fn touch_keys(&self, uses: &[(Uuid, Timestamp)]) -> StoreResult<()>;
}
