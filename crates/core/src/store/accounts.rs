use async_trait::async_trait;
use uuid::Uuid;

use super::StoreResult;
use crate::model::Account;
use crate::time::Timestamp;

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: Uuid,
    pub email: String,
    pub username: Option<String>,
    pub name: String,
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait AccountStore {
    /// Conflicts: `accounts_email_key`, `accounts_username_key` (both ignoring case).
    async fn create_account(&self, account: NewAccount) -> StoreResult<Account>;
    async fn account_by_id(&self, id: Uuid) -> StoreResult<Option<Account>>;
    /// Ignoring case.
    async fn account_by_email(&self, email: &str) -> StoreResult<Option<Account>>;
    /// Ignoring case.
    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>>;
}
