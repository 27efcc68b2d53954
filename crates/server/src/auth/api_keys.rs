//! Checking a presented API key: parsed before anything else, looked up by
//! its id (from memory when it can), its secret compared in constant time,
//! failures counted against the client address and the project.

use std::net::IpAddr;
use std::sync::Arc;

use basic_admin_core::model::api_key::PresentedKey;
use uuid::Uuid;

use super::throttle::api_keys::limits;
use crate::cache::CachedKey;
use crate::crypto::{constant_time_eq, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The stored form of a key's secret.
pub fn secret_hash(key: &PresentedKey) -> Vec<u8> {
    token_hash(&key.secret).into_bytes()
}

/// The live key `presented` names, if its secret is right. A key read from
/// the database is remembered for the next request; writes to keys
/// invalidate it on every node ([`crate::cache::invalidate`]).
pub async fn lookup(state: &AppState, presented: &PresentedKey) -> ApiResult<Option<Arc<CachedKey>>> {
    let cached = match state.caches.key(presented.id) {
        Some(hit) => hit,
        None => {
            let generation = state.caches.generation();
            let Some(stored) = state.store.key_by_id(presented.id).await? else { return Ok(None) };
            state.caches.put_key(stored, generation)
        }
    };
    Ok(constant_time_eq(&cached.key.secret_hash, &secret_hash(presented)).then_some(cached))
}

fn throttled(wait: std::time::Duration) -> ApiError {
    ApiError::too_many(wait, format!("Too many failed key checks; try again in {} seconds.", wait.as_secs().max(1)))
}

/// A refused key from `from` (against the project, when known): counted,
/// or a 429 once the address or the project has failed too often.
pub fn count_failure(state: &AppState, from: IpAddr, project: Option<Uuid>) -> ApiResult<()> {
    let limits = limits(from, project, state.config.throttles.keys_per_address);
    state.key_throttle.on_failure(&limits).map_err(throttled)
}
