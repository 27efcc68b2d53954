use async_trait::async_trait;
use basic_admin_core::model::Account;
use basic_admin_core::store::{
    AccountLink, AccountStore, LinkPurpose, LinkUse, NewAccount, StoreError, StoreResult, TotpSecret,
};
use basic_admin_core::time::Timestamp;
use uuid::Uuid;

use crate::{Db, Dialect, Query, Row, SqlStore, Tx, q};

const COLUMNS: &str = "id, email, username, name, password_hash, email_verified_at, created_at, updated_at";
const LINK_COLUMNS: &str = "token_hash, account_id, purpose, email, created_at, expires_at, used_at";

fn account(row: &impl Row) -> StoreResult<Account> {
    Ok(Account {
        id: row.id("id")?,
        email: row.text("email")?,
        username: row.opt_text("username")?,
        name: row.text("name")?,
        password_hash: row.text("password_hash")?,
        email_verified_at: row.opt_time("email_verified_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn purpose(text: &str) -> StoreResult<LinkPurpose> {
    match text {
        "verify_email" => Ok(LinkPurpose::VerifyEmail),
        "reset_password" => Ok(LinkPurpose::ResetPassword),
        "change_email" => Ok(LinkPurpose::ChangeEmail),
        other => Err(StoreError::Other(format!("unknown link purpose {other:?}"))),
    }
}

/// A link row as what presenting it finds at `now`.
fn link_use(row: &impl Row, now: Timestamp) -> StoreResult<LinkUse> {
    let link = AccountLink {
        token_hash: row.text("token_hash")?,
        account_id: row.id("account_id")?,
        purpose: purpose(&row.text("purpose")?)?,
        email: row.text("email")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
    };
    Ok(if row.opt_time("used_at")?.is_some() {
        LinkUse::Used
    } else if link.expires_at <= now {
        LinkUse::Expired
    } else {
        LinkUse::Fresh(link)
    })
}

/// Spends the link within `tx`: `Fresh` only for the one use that spent it.
async fn spend_link<R: Row + 'static>(
    tx: &mut Box<dyn Tx<Row = R>>,
    token_hash: &str,
    purpose: LinkPurpose,
    now: Timestamp,
) -> StoreResult<LinkUse> {
    let found = tx
        .fetch_optional(
            Query::dynamic(format!("SELECT {LINK_COLUMNS} FROM account_links WHERE token_hash = $1 AND purpose = $2"))
                .text(token_hash)
                .text(purpose.as_str()),
        )
        .await?;
    let Some(row) = found else { return Ok(LinkUse::Unknown) };
    let found = link_use(&row, now)?;
    if let LinkUse::Fresh(_) = found {
        let spent = tx
            .execute(
                q("UPDATE account_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
                    .text(token_hash)
                    .time(now),
            )
            .await?;
        if spent == 0 {
            return Ok(LinkUse::Used);
        }
    }
    Ok(found)
}

/// Marks the address proven if it is still the account's.
fn mark_verified(account_id: Uuid, email: &str, at: Timestamp) -> Query {
    q("UPDATE accounts SET email_verified_at = $3 WHERE id = $1 AND lower(email) = lower($2)")
        .id(account_id)
        .text(email)
        .time(at)
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
                   RETURNING id, email, username, name, password_hash, email_verified_at, created_at, updated_at")
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

    async fn mark_email_verified(&self, account_id: Uuid, email: &str, at: Timestamp) -> StoreResult<bool> {
        Ok(self.db.execute(mark_verified(account_id, email, at)).await? > 0)
    }

    async fn create_account_link(&self, link: AccountLink) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO account_links (token_hash, account_id, purpose, email, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)")
                .text(link.token_hash)
                .id(link.account_id)
                .text(link.purpose.as_str())
                .text(link.email)
                .time(link.created_at)
                .time(link.expires_at),
            )
            .await
            .map(drop)
    }

    async fn account_link(&self, token_hash: &str, purpose: LinkPurpose, now: Timestamp) -> StoreResult<LinkUse> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM account_links WHERE token_hash = $1 AND purpose = $2");
        match self.db.fetch_optional(Query::dynamic(sql).text(token_hash).text(purpose.as_str())).await? {
            Some(row) => link_use(&row, now),
            None => Ok(LinkUse::Unknown),
        }
    }

    async fn verify_email(&self, token_hash: &str, now: Timestamp) -> StoreResult<LinkUse> {
        let mut tx = self.db.begin().await?;
        let found = spend_link(&mut tx, token_hash, LinkPurpose::VerifyEmail, now).await?;
        if let LinkUse::Fresh(link) = &found {
            tx.execute(mark_verified(link.account_id, &link.email, now)).await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    async fn reset_password(&self, token_hash: &str, password_hash: &str, now: Timestamp) -> StoreResult<LinkUse> {
        let mut tx = self.db.begin().await?;
        let found = spend_link(&mut tx, token_hash, LinkPurpose::ResetPassword, now).await?;
        if let LinkUse::Fresh(link) = &found {
            let account = link.account_id;
            tx.execute(
                q("UPDATE accounts SET password_hash = $2, updated_at = $3 WHERE id = $1")
                    .id(account)
                    .text(password_hash)
                    .time(now),
            )
            .await?;
            tx.execute(mark_verified(account, &link.email, now)).await?;
            tx.execute(
                q("UPDATE account_links SET used_at = $3 WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL")
                    .id(account)
                    .text(LinkPurpose::ResetPassword.as_str())
                    .time(now),
            )
            .await?;
            tx.execute(q("DELETE FROM sessions WHERE account_id = $1").id(account)).await?;
            tx.execute(revoke_families_of(self.db.dialect(), account)).await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    async fn change_password(
        &self,
        account_id: Uuid,
        password_hash: &str,
        keep: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                q("UPDATE accounts SET password_hash = $2, updated_at = $3 WHERE id = $1")
                    .id(account_id)
                    .text(password_hash)
                    .time(now),
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        tx.execute(q("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2").id(account_id).text(keep)).await?;
        tx.execute(revoke_families_of(self.db.dialect(), account_id)).await?;
        tx.commit().await
    }

    async fn totp(&self, account_id: Uuid) -> StoreResult<Option<TotpSecret>> {
        let row = self
            .db
            .fetch_optional(
                q("SELECT sealed_secret, confirmed_at, last_step FROM account_totp WHERE account_id = $1")
                    .id(account_id),
            )
            .await?;
        row.map(|row| {
            Ok(TotpSecret {
                sealed_secret: row.bytes("sealed_secret")?,
                confirmed_at: row.opt_time("confirmed_at")?,
                last_step: row.int("last_step")?,
            })
        })
        .transpose()
    }

    async fn begin_totp(&self, account_id: Uuid, sealed_secret: &[u8], now: Timestamp) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        tx.execute(q("DELETE FROM account_totp WHERE account_id = $1 AND confirmed_at IS NULL").id(account_id)).await?;
        let added = tx
            .execute(
                q("INSERT INTO account_totp (account_id, sealed_secret, created_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (account_id) DO NOTHING")
                .id(account_id)
                .bytes(sealed_secret)
                .time(now),
            )
            .await?;
        tx.commit().await?;
        Ok(added == 1)
    }

    async fn confirm_totp(
        &self,
        account_id: Uuid,
        step: i64,
        recovery_hashes: &[String],
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let confirmed = tx
            .execute(
                q("UPDATE account_totp SET confirmed_at = $2, last_step = $3 WHERE account_id = $1 AND confirmed_at IS NULL")
                    .id(account_id)
                    .time(now)
                    .int(step),
            )
            .await?;
        if confirmed == 0 {
            return Ok(false);
        }
        tx.execute(q("DELETE FROM recovery_codes WHERE account_id = $1").id(account_id)).await?;
        for hash in recovery_hashes {
            tx.execute(
                q("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
                    .id(account_id)
                    .text(hash.as_str()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn use_totp_step(&self, account_id: Uuid, step: i64) -> StoreResult<bool> {
        let used = self
            .db
            .execute(
                q("UPDATE account_totp SET last_step = $2 \
                   WHERE account_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2")
                .id(account_id)
                .int(step),
            )
            .await?;
        Ok(used == 1)
    }

    async fn use_recovery_code(&self, account_id: Uuid, code_hash: &str, now: Timestamp) -> StoreResult<bool> {
        let used = self
            .db
            .execute(
                q("UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL")
                    .id(account_id)
                    .text(code_hash)
                    .time(now),
            )
            .await?;
        Ok(used == 1)
    }

    async fn recovery_codes_left(&self, account_id: Uuid) -> StoreResult<u64> {
        let row = self
            .db
            .fetch_one(
                q("SELECT count(*) AS n FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL").id(account_id),
            )
            .await?;
        Ok(u64::try_from(row.int("n")?).unwrap_or_default())
    }

    async fn remove_totp(&self, account_id: Uuid) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(q("DELETE FROM recovery_codes WHERE account_id = $1").id(account_id)).await?;
        tx.execute(q("DELETE FROM account_totp WHERE account_id = $1").id(account_id)).await?;
        tx.commit().await
    }

    async fn change_email(&self, token_hash: &str, now: Timestamp) -> StoreResult<LinkUse> {
        let mut tx = self.db.begin().await?;
        let found = spend_link(&mut tx, token_hash, LinkPurpose::ChangeEmail, now).await?;
        if let LinkUse::Fresh(link) = &found {
            // A conflict returns before the commit: nothing is spent or changed.
            tx.execute(
                q("UPDATE accounts SET email = $2, email_verified_at = $3, updated_at = $3 WHERE id = $1")
                    .id(link.account_id)
                    .text(link.email.as_str())
                    .time(now),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    async fn set_unproven_email(&self, account_id: Uuid, email: &str, now: Timestamp) -> StoreResult<Account> {
        let sql = format!(
            "UPDATE accounts SET email = $2, email_verified_at = NULL, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}"
        );
        let row = self.db.write_one(Query::dynamic(sql).id(account_id).text(email).time(now)).await?;
        account(&row)
    }

    async fn update_profile(
        &self,
        account_id: Uuid,
        name: &str,
        username: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Account> {
        let sql =
            format!("UPDATE accounts SET name = $2, username = $3, updated_at = $4 WHERE id = $1 RETURNING {COLUMNS}");
        let row = self.db.write_one(Query::dynamic(sql).id(account_id).text(name).opt_text(username).time(now)).await?;
        account(&row)
    }
}

/// Revokes every live sign-in of an account, at the database's own time on
/// PostgreSQL, at the moment of writing on SQLite (see `revoke_token_family`).
pub(crate) fn revoke_families_of(dialect: Dialect, account_id: Uuid) -> Query {
    match dialect {
        Dialect::Postgres => {
            q("UPDATE token_families SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL")
                .id(account_id)
        }
        Dialect::Sqlite => q("UPDATE token_families SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
            .id(account_id)
            .time(basic_admin_core::time::now()),
    }
}
