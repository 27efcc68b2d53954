//! Checking a presented API key: parsed before anything else, looked up by
//! its id (from memory when it can), its secret compared in constant time,
//! failures counted against the client address and the project.

use std::net::IpAddr;
use std::sync::Arc;

use basic_admin_core::model::api_key::PresentedKey;
use uuid::Uuid;

use super::throttle::api_keys::limits;
use crate::Context;
use crate::cache::CachedKey;
use crate::crypto::{constant_time_eq, token_hash};
use crate::error::{AppError, AppResult};

/// The stored form of a key's secret.
pub fn secret_hash(key: &PresentedKey) -> Vec<u8> {
    token_hash(&key.secret).into_bytes()
}

/// The live key `presented` names, if its secret is right. A key read from
/// the database is remembered for the next request; writes to keys
/// invalidate it on every node ([`crate::cache::invalidate`]).
pub async fn lookup(ctx: &Context, presented: &PresentedKey) -> AppResult<Option<Arc<CachedKey>>> {
    let cached = match ctx.caches.key(presented.id) {
        Some(hit) => hit,
        None => {
            let generation = ctx.caches.generation();
            let Some(stored) = ctx.store.key_by_id(presented.id).await? else { return Ok(None) };
            ctx.caches.put_key(stored, generation)
        }
    };
    Ok(constant_time_eq(&cached.key.secret_hash, &secret_hash(presented)).then_some(cached))
}

fn throttled(wait: std::time::Duration) -> AppError {
    AppError::TooMany {
        wait,
        message: format!("Too many failed key checks; try again in {} seconds.", wait.as_secs().max(1)),
    }
}

/// A refused key from `from` (against the project, when known): counted,
/// or a 429 once the address or the project has failed too often.
pub fn count_failure(ctx: &Context, from: IpAddr, project: Option<Uuid>) -> AppResult<()> {
    let limits = limits(from, project, ctx.settings.throttles.keys_per_address);
    ctx.key_throttle.on_failure(&limits).map_err(throttled)
}
