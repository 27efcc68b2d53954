use async_trait::async_trait;
use basic_admin_core::model::Account;
use basic_admin_core::store::{AccountStore, NewAccount, StoreResult};
use sqlx::Row as _;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::{PgStore, map_err};

const COLUMNS: &str = "id, email, username, name, password_hash, created_at, updated_at";

fn account(row: &PgRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get::<Uuid, _>("id")?,
        email: row.try_get("email")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

#[async_trait]
impl AccountStore for PgStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        sqlx::query(
            "INSERT INTO accounts (id, email, username, name, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             RETURNING id, email, username, name, password_hash, created_at, updated_at",
        )
        .bind(new.id)
        .bind(&new.email)
        .bind(&new.username)
        .bind(&new.name)
        .bind(&new.password_hash)
        .bind(new.created_at)
        .try_map(|row| account(&row))
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)
    }

    async fn account_by_id(&self, id: Uuid) -> StoreResult<Option<Account>> {
        self.account_where("id = $1::uuid", id.to_string()).await
    }

    async fn account_by_email(&self, email: &str) -> StoreResult<Option<Account>> {
        self.account_where("lower(email) = lower($1)", email.to_owned()).await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        self.account_where("lower(username) = lower($1)", username.to_owned()).await
    }
}

impl PgStore {
    async fn account_where(&self, condition: &'static str, value: String) -> StoreResult<Option<Account>> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE {condition}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .try_map(|row| account(&row))
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)
    }
}
