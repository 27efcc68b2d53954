use async_trait::async_trait;
use basic_admin_core::model::Account;
use basic_admin_core::store::{AccountStore, NewAccount, StoreResult};
use uuid::Uuid;

use crate::{Db, Query, Row, SqlStore, q};

const COLUMNS: &str = "id, email, username, name, password_hash, created_at, updated_at";

fn account(row: &impl Row) -> StoreResult<Account> {
    Ok(Account {
        id: row.id("id")?,
        email: row.text("email")?,
        username: row.opt_text("username")?,
        name: row.text("name")?,
        password_hash: row.text("password_hash")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

impl<D: Db> SqlStore<D> {
    async fn account_where(&self, condition: &str, bind: impl FnOnce(Query) -> Query) -> StoreResult<Option<Account>> {
        let query = bind(Query::dynamic(format!("SELECT {COLUMNS} FROM accounts WHERE {condition}")));
        self.db.fetch_optional(query).await?.as_ref().map(account).transpose()
    }
}

#[async_trait]
impl<D: Db> AccountStore for SqlStore<D> {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let row = self
            .db
            .write_one(
                q("INSERT INTO accounts (id, email, username, name, password_hash, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $6) \
                   RETURNING id, email, username, name, password_hash, created_at, updated_at")
                .id(new.id)
                .text(new.email)
                .opt_text(new.username)
                .text(new.name)
                .text(new.password_hash)
                .time(new.created_at),
            )
            .await?;
        account(&row)
    }

    async fn account_by_id(&self, id: Uuid) -> StoreResult<Option<Account>> {
        self.account_where("id = $1", |q| q.id(id)).await
    }

    async fn account_by_email(&self, email: &str) -> StoreResult<Option<Account>> {
        self.account_where("lower(email) = lower($1)", |q| q.text(email)).await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        self.account_where("lower(username) = lower($1)", |q| q.text(username)).await
    }
}
