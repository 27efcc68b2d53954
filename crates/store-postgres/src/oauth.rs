use async_trait::async_trait;
use basic_admin_core::store::{
    AuthCode, CodeUse, OAuthStore, RefreshToken, RefreshUse, Session, SigningKeyRecord, SigningKeyStore, StoreResult,
    TokenFamily,
};
use basic_admin_core::time::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use crate::{PgStore, map_err};

fn uuid(row: &PgRow, column: &str) -> Result<Uuid, sqlx::Error> {
    row.try_get::<Uuid, _>(column)
}

fn signing_key(row: &PgRow) -> Result<SigningKeyRecord, sqlx::Error> {
    Ok(SigningKeyRecord {
        kid: row.try_get("kid")?,
        algorithm: row.try_get("algorithm")?,
        sealed_private: row.try_get("sealed_private")?,
        public_jwk: row.try_get::<Json<serde_json::Value>, _>("public_jwk")?.0,
        created_at: row.try_get("created_at")?,
        retired_at: row.try_get("retired_at")?,
    })
}

fn family(row: &PgRow) -> Result<TokenFamily, sqlx::Error> {
    Ok(TokenFamily {
        id: uuid(row, "id")?,
        account_id: uuid(row, "account_id")?,
        client_id: row.try_get("client_id")?,
        scope: row.try_get("scope")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn auth_code(row: &PgRow) -> Result<AuthCode, sqlx::Error> {
    Ok(AuthCode {
        code_hash: row.try_get("code_hash")?,
        family_id: uuid(row, "family_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        code_challenge: row.try_get("code_challenge")?,
        nonce: row.try_get("nonce")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn refresh_token(row: &PgRow) -> Result<RefreshToken, sqlx::Error> {
    Ok(RefreshToken {
        token_hash: row.try_get("token_hash")?,
        family_id: uuid(row, "family_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn session(row: &PgRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id_hash: row.try_get("id_hash")?,
        account_id: uuid(row, "account_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

async fn family_by_id(conn: &mut PgConnection, id: Uuid) -> Result<TokenFamily, sqlx::Error> {
    sqlx::query("SELECT id, account_id, client_id, scope, created_at, revoked_at FROM token_families WHERE id = $1")
        .bind(id)
        .try_map(|row| family(&row))
        .fetch_one(conn)
        .await
}

#[async_trait]
impl SigningKeyStore for PgStore {
    async fn insert_signing_key(&self, key: SigningKeyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, sealed_private, public_jwk, created_at, retired_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.sealed_private)
        .bind(Json(&key.public_jwk))
        .bind(key.created_at)
        .bind(key.retired_at)
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(map_err)
    }

    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        sqlx::query(
            "SELECT kid, algorithm, sealed_private, public_jwk, created_at, retired_at \
             FROM signing_keys ORDER BY created_at, kid",
        )
        .try_map(|row| signing_key(&row))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)
    }

    async fn retire_signing_keys_except(&self, kid: &str, at: Timestamp) -> StoreResult<u64> {
        sqlx::query("UPDATE signing_keys SET retired_at = $2 WHERE kid <> $1 AND retired_at IS NULL")
            .bind(kid)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(map_err)
    }
}

#[async_trait]
impl OAuthStore for PgStore {
    async fn create_auth_code(&self, family: TokenFamily, code: AuthCode) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO token_families (id, account_id, client_id, scope, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(family.id)
        .bind(family.account_id)
        .bind(&family.client_id)
        .bind(&family.scope)
        .bind(family.created_at)
        .bind(family.revoked_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, family_id, redirect_uri, code_challenge, nonce, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&code.code_hash)
        .bind(code.family_id)
        .bind(&code.redirect_uri)
        .bind(&code.code_challenge)
        .bind(&code.nonce)
        .bind(code.created_at)
        .bind(code.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn use_auth_code(&self, code_hash: &str, now: Timestamp) -> StoreResult<CodeUse> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let spent = sqlx::query(
            "UPDATE auth_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL \
             RETURNING code_hash, family_id, redirect_uri, code_challenge, nonce, created_at, expires_at",
        )
        .bind(code_hash)
        .bind(now)
        .try_map(|row| auth_code(&row))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let outcome = match spent {
            Some(code) => {
                let family = family_by_id(&mut tx, code.family_id).await.map_err(map_err)?;
                CodeUse::Fresh(code, family)
            }
            None => {
                let earlier = sqlx::query(
                    "SELECT code_hash, family_id, redirect_uri, code_challenge, nonce, created_at, expires_at \
                     FROM auth_codes WHERE code_hash = $1",
                )
                .bind(code_hash)
                .try_map(|row| auth_code(&row))
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
                match earlier {
                    Some(code) => {
                        let family = family_by_id(&mut tx, code.family_id).await.map_err(map_err)?;
                        CodeUse::Replayed(code, family)
                    }
                    None => CodeUse::Unknown,
                }
            }
        };
        tx.commit().await.map_err(map_err)?;
        Ok(outcome)
    }

    async fn insert_refresh_token(&self, token: RefreshToken) -> StoreResult<()> {
        insert_refresh(&self.pool, &token).await
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next_hash: &str,
        next_expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<RefreshUse> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let rotated = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = $2 \
             WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > $2 \
               AND family_id IN (SELECT id FROM token_families WHERE revoked_at IS NULL) \
             RETURNING token_hash, family_id, created_at, expires_at",
        )
        .bind(token_hash)
        .bind(now)
        .try_map(|row| refresh_token(&row))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let outcome = match rotated {
            Some(old) => {
                let next = RefreshToken {
                    token_hash: next_hash.to_owned(),
                    family_id: old.family_id,
                    created_at: now,
                    expires_at: next_expires_at,
                };
                insert_refresh(&mut *tx, &next).await?;
                let family = family_by_id(&mut tx, old.family_id).await.map_err(map_err)?;
                RefreshUse::Rotated(old, family)
            }
            None => {
                let earlier = sqlx::query(
                    "SELECT t.token_hash, t.family_id, t.created_at, t.expires_at, \
                            (t.rotated_at IS NOT NULL OR f.revoked_at IS NOT NULL) AS spent \
                     FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id WHERE t.token_hash = $1",
                )
                .bind(token_hash)
                .try_map(|row: PgRow| Ok((refresh_token(&row)?, row.try_get::<bool, _>("spent")?)))
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
                match earlier {
                    Some((token, true)) => {
                        let family = family_by_id(&mut tx, token.family_id).await.map_err(map_err)?;
                        RefreshUse::Reused(token, family)
                    }
                    // Expired, or never issued.
                    _ => RefreshUse::Unknown,
                }
            }
        };
        tx.commit().await.map_err(map_err)?;
        Ok(outcome)
    }

    async fn revoke_token_family(&self, id: Uuid, at: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn revoked_token_families(&self, since: Timestamp) -> StoreResult<Vec<Uuid>> {
        sqlx::query("SELECT id FROM token_families WHERE revoked_at >= $1")
            .bind(since)
            .try_map(|row| uuid(&row, "id"))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn create_session(&self, s: Session) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (id_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&s.id_hash)
            .bind(s.account_id)
            .bind(s.created_at)
            .bind(s.expires_at)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(map_err)
    }

    async fn session(&self, id_hash: &str, now: Timestamp) -> StoreResult<Option<Session>> {
        sqlx::query(
            "SELECT id_hash, account_id, created_at, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .try_map(|row| session(&row))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(map_err)
    }
}

async fn insert_refresh<'e>(conn: impl sqlx::PgExecutor<'e>, t: &RefreshToken) -> StoreResult<()> {
    sqlx::query("INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(&t.token_hash)
        .bind(t.family_id)
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(conn)
        .await
        .map(drop)
        .map_err(map_err)
}
