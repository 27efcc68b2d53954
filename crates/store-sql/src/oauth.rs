use async_trait::async_trait;
use basic_admin_core::store::{
    AuthCode, CodeUse, OAuthStore, RefreshToken, RefreshUse, SESSION_TOUCH_SECS, Session, SignIn, SigningKeyRecord,
    SigningKeyStore, StoreResult, TokenFamily,
};
use basic_admin_core::time::{self, Timestamp};
use uuid::Uuid;

use crate::{Db, Dialect, Row, SqlStore, Tx, q};

fn signing_key(row: &impl Row) -> StoreResult<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: row.text("kid")?,
        algorithm: row.text("algorithm")?,
        sealed_private: row.bytes("sealed_private")?,
        public_jwk: row.json("public_jwk")?,
        created_at: row.time("created_at")?,
        retired_at: row.opt_time("retired_at")?,
    })
}

fn family(row: &impl Row) -> StoreResult<TokenFamily> {
    Ok(TokenFamily {
        id: row.id("id")?,
        account_id: row.id("account_id")?,
        client_id: row.text("client_id")?,
        scope: row.text("scope")?,
        created_at: row.time("created_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

fn auth_code(row: &impl Row) -> StoreResult<AuthCode> {
    Ok(AuthCode {
        code_hash: row.text("code_hash")?,
        family_id: row.id("family_id")?,
        redirect_uri: row.text("redirect_uri")?,
        code_challenge: row.opt_text("code_challenge")?,
        nonce: row.opt_text("nonce")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
    })
}

fn refresh_token(row: &impl Row) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        token_hash: row.text("token_hash")?,
        family_id: row.id("family_id")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
    })
}

const SESSION_COLUMNS: &str = "id_hash, account_id, device, created_at, last_used_at, expires_at";

fn session(row: &impl Row) -> StoreResult<Session> {
    let created_at = row.time("created_at")?;
    Ok(Session {
        id_hash: row.text("id_hash")?,
        account_id: row.id("account_id")?,
        device: row.opt_text("device")?,
        created_at,
        // Sessions from before it was kept were last seen when made, as far as anyone knows.
        last_used_at: row.opt_time("last_used_at")?.unwrap_or(created_at),
        expires_at: row.time("expires_at")?,
    })
}

async fn family_by_id<R: Row + 'static>(tx: &mut Box<dyn Tx<Row = R>>, id: Uuid) -> StoreResult<TokenFamily> {
    let row = tx
        .fetch_one(
            q("SELECT id, account_id, client_id, scope, created_at, revoked_at FROM token_families WHERE id = $1")
                .id(id),
        )
        .await?;
    family(&row)
}

const CODE_COLUMNS: &str = "code_hash, family_id, redirect_uri, code_challenge, nonce, created_at, expires_at";

#[async_trait]
impl<D: Db> SigningKeyStore for SqlStore<D> {
    async fn insert_signing_key(&self, key: SigningKeyRecord) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO signing_keys (kid, algorithm, sealed_private, public_jwk, created_at, retired_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)")
                .text(key.kid)
                .text(key.algorithm)
                .bytes(&key.sealed_private)
                .json(&key.public_jwk)
                .time(key.created_at)
                .opt_time(key.retired_at),
            )
            .await
            .map(drop)
    }

    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows = self
            .db
            .fetch_all(q("SELECT kid, algorithm, sealed_private, public_jwk, created_at, retired_at \
                          FROM signing_keys ORDER BY created_at, kid"))
            .await?;
        rows.iter().map(signing_key).collect()
    }

    async fn retire_signing_keys_except(&self, kid: &str, at: Timestamp) -> StoreResult<u64> {
        self.db
            .execute(
                q("UPDATE signing_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL").text(kid).time(at),
            )
            .await
    }
}

#[async_trait]
impl<D: Db> OAuthStore for SqlStore<D> {
    async fn create_auth_code(&self, family: TokenFamily, code: AuthCode) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("INSERT INTO token_families (id, account_id, client_id, scope, created_at, revoked_at) \
               VALUES ($1, $2, $3, $4, $5, $6)")
            .id(family.id)
            .id(family.account_id)
            .text(family.client_id)
            .text(family.scope)
            .time(family.created_at)
            .opt_time(family.revoked_at),
        )
        .await?;
        tx.execute(
            q("INSERT INTO auth_codes (code_hash, family_id, redirect_uri, code_challenge, nonce, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .text(code.code_hash)
            .id(code.family_id)
            .text(code.redirect_uri)
            .opt_text(code.code_challenge)
            .opt_text(code.nonce)
            .time(code.created_at)
            .time(code.expires_at),
        )
        .await?;
        tx.commit().await
    }

    async fn use_auth_code(&self, code_hash: &str, now: Timestamp) -> StoreResult<CodeUse> {
        let mut tx = self.db.begin().await?;
        let spent = tx
            .fetch_optional(
                q("UPDATE auth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL \
                   RETURNING code_hash, family_id, redirect_uri, code_challenge, nonce, created_at, expires_at")
                .text(code_hash)
                .time(now),
            )
            .await?;
        let outcome = match spent {
            Some(row) => {
                let code = auth_code(&row)?;
                let family = family_by_id(&mut tx, code.family_id).await?;
                CodeUse::Fresh(code, family)
            }
            None => {
                let sql = format!("SELECT {CODE_COLUMNS} FROM auth_codes WHERE code_hash = $1");
                match tx.fetch_optional(crate::Query::dynamic(sql).text(code_hash)).await? {
                    Some(row) => {
                        let code = auth_code(&row)?;
                        let family = family_by_id(&mut tx, code.family_id).await?;
                        CodeUse::Replayed(code, family)
                    }
                    None => CodeUse::Unknown,
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn insert_refresh_token(&self, t: RefreshToken) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .text(t.token_hash)
                    .id(t.family_id)
                    .time(t.created_at)
                    .time(t.expires_at),
            )
            .await
            .map(drop)
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next_hash: &str,
        next_expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<RefreshUse> {
        let mut tx = self.db.begin().await?;
        let rotated = tx
            .fetch_optional(
                q("UPDATE refresh_tokens SET rotated_at = $2 \
                   WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > $2 \
                     AND family_id IN (SELECT id FROM token_families WHERE revoked_at IS NULL) \
                   RETURNING token_hash, family_id, created_at, expires_at")
                .text(token_hash)
                .time(now),
            )
            .await?;
        let outcome = match rotated {
            Some(row) => {
                let old = refresh_token(&row)?;
                tx.execute(
                    q("INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                        .text(next_hash)
                        .id(old.family_id)
                        .time(now)
                        .time(next_expires_at),
                )
                .await?;
                let family = family_by_id(&mut tx, old.family_id).await?;
                RefreshUse::Rotated(old, family)
            }
            None => {
                let earlier = tx
                    .fetch_optional(
                        q("SELECT t.token_hash, t.family_id, t.created_at, t.expires_at, t.rotated_at, \
                                  (t.rotated_at IS NOT NULL OR f.revoked_at IS NOT NULL) AS spent \
                           FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id \
                           WHERE t.token_hash = $1")
                        .text(token_hash),
                    )
                    .await?;
                match earlier {
                    Some(row) if row.boolean("spent")? => {
                        let token = refresh_token(&row)?;
                        let family = family_by_id(&mut tx, token.family_id).await?;
                        match (family.revoked_at, row.opt_time("rotated_at")?) {
                            (None, Some(rotated_at)) => RefreshUse::Superseded { token, family, rotated_at },
                            _ => RefreshUse::Reused(token, family),
                        }
                    }
                    // Expired, or never issued.
                    _ => RefreshUse::Unknown,
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn live_refresh_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(RefreshToken, TokenFamily)>> {
        let row = self
            .db
            .fetch_optional(
                q("SELECT t.token_hash, t.family_id, t.created_at, t.expires_at, \
                   f.id, f.account_id, f.client_id, f.scope, f.created_at AS family_created_at, f.revoked_at \
                   FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id \
                   WHERE t.token_hash = $1 AND t.rotated_at IS NULL AND t.expires_at > $2 AND f.revoked_at IS NULL")
                .text(token_hash)
                .time(now),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let family = TokenFamily { created_at: row.time("family_created_at")?, ..family(&row)? };
        Ok(Some((refresh_token(&row)?, family)))
    }

    async fn revoke_token_family(&self, id: Uuid) -> StoreResult<()> {
        // Parameters bind in order: the id ($1) first.
        let revoke = match self.db.dialect() {
            // Many nodes, one clock: the server's.
            Dialect::Postgres => {
                q("UPDATE token_families SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL").id(id)
            }
            // One process owns the file: its clock is the database's.
            Dialect::Sqlite => q("UPDATE token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .id(id)
                .time(time::now()),
        };
        self.db.execute(revoke).await.map(drop)
    }

    async fn revoked_token_families(&self, since: Timestamp) -> StoreResult<(Vec<Uuid>, Timestamp)> {
        let now = match self.db.dialect() {
            Dialect::Postgres => self.db.fetch_one(q("SELECT now() AS now")).await?.time("now")?,
            Dialect::Sqlite => time::now(),
        };
        let rows = self.db.fetch_all(q("SELECT id FROM token_families WHERE revoked_at >= $1").time(since)).await?;
        Ok((rows.iter().map(|r| r.id("id")).collect::<StoreResult<_>>()?, now))
    }

    async fn create_session(&self, s: Session) -> StoreResult<()> {
        self.db
            .execute(
                q("INSERT INTO sessions (id_hash, account_id, device, created_at, last_used_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)")
                .text(s.id_hash)
                .id(s.account_id)
                .opt_text(s.device)
                .time(s.created_at)
                .time(s.last_used_at)
                .time(s.expires_at),
            )
            .await
            .map(drop)
    }

    async fn session(&self, id_hash: &str, now: Timestamp) -> StoreResult<Option<Session>> {
        let row = self
            .db
            .fetch_optional(
                crate::Query::dynamic(format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1 AND expires_at > $2"
                ))
                .text(id_hash)
                .time(now),
            )
            .await?;
        row.as_ref().map(session).transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        self.db.execute(q("DELETE FROM sessions WHERE id_hash = $1").text(id_hash)).await.map(drop)
    }

    async fn touch_session(&self, id_hash: &str, now: Timestamp) -> StoreResult<()> {
        let stale = now - chrono::Duration::seconds(SESSION_TOUCH_SECS);
        self.db
            .execute(
                q("UPDATE sessions SET last_used_at = $2 WHERE id_hash = $1 \
                   AND (last_used_at IS NULL OR last_used_at < $3)")
                .text(id_hash)
                .time(now)
                .time(stale),
            )
            .await
            .map(drop)
    }

    async fn sessions_of(&self, account_id: Uuid, now: Timestamp) -> StoreResult<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE account_id = $1 AND expires_at > $2 \
             ORDER BY COALESCE(last_used_at, created_at) DESC, id_hash"
        );
        let rows = self.db.fetch_all(crate::Query::dynamic(sql).id(account_id).time(now)).await?;
        rows.iter().map(session).collect()
    }

    async fn end_sign_ins_of(&self, account_id: Uuid, keep: Option<&str>) -> StoreResult<u64> {
        let mut tx = self.db.begin().await?;
        let ended = tx
            .execute(
                q("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2")
                    .id(account_id)
                    .text(keep.unwrap_or("")),
            )
            .await?;
        tx.execute(crate::accounts::revoke_families_of(self.db.dialect(), account_id)).await?;
        tx.commit().await?;
        Ok(ended)
    }

    async fn live_sign_ins_of(&self, account_id: Uuid, now: Timestamp) -> StoreResult<Vec<SignIn>> {
        let rows = self
            .db
            .fetch_all(
                q("SELECT f.id, f.account_id, f.client_id, f.scope, f.created_at, f.revoked_at, \
                   (SELECT max(r.created_at) FROM refresh_tokens r WHERE r.family_id = f.id) AS last_used_at \
                   FROM token_families f WHERE f.account_id = $1 AND f.revoked_at IS NULL \
                   AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = f.id \
                               AND r.rotated_at IS NULL AND r.expires_at > $2) \
                   ORDER BY last_used_at DESC, f.id")
                .id(account_id)
                .time(now),
            )
            .await?;
        rows.iter()
            .map(|row| {
                let family = family(row)?;
                let last_used_at = row.opt_time("last_used_at")?.unwrap_or(family.created_at);
                Ok(SignIn { family, last_used_at })
            })
            .collect()
    }

    async fn purge_expired_sign_ins(&self, now: Timestamp, families_before: Timestamp, batch: u32) -> StoreResult<u64> {
        // Small batches keep each statement's locks short on a busy server.
        const EXPIRED: [&str; 4] = [
            "DELETE FROM account_links WHERE token_hash IN \
             (SELECT token_hash FROM account_links WHERE expires_at < $1 LIMIT $2)",
            "DELETE FROM sessions WHERE id_hash IN \
             (SELECT id_hash FROM sessions WHERE expires_at < $1 LIMIT $2)",
            "DELETE FROM auth_codes WHERE code_hash IN \
             (SELECT code_hash FROM auth_codes WHERE expires_at < $1 LIMIT $2)",
            "DELETE FROM refresh_tokens WHERE token_hash IN \
             (SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
        ];
        const SPENT_FAMILIES: &str = "DELETE FROM token_families WHERE id IN \
             (SELECT f.id FROM token_families f WHERE f.created_at < $1 \
              AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = f.id) \
              AND NOT EXISTS (SELECT 1 FROM auth_codes c WHERE c.family_id = f.id) LIMIT $2)";
        let mut total = 0;
        for (sql, before) in EXPIRED.iter().map(|sql| (*sql, now)).chain([(SPENT_FAMILIES, families_before)]) {
            loop {
                let deleted = self.db.execute(q(sql).time(before).int(i64::from(batch))).await?;
                total += deleted;
                if deleted < u64::from(batch) {
                    break;
                }
            }
        }
        Ok(total)
    }
}
