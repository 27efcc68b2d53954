//! Sign-ins (token families) revoked before their access tokens expired.
//!
//! Access tokens are checked without the database, so revocations are kept in
//! memory: added at once on the node that revokes, and picked up by the
//! others from the database every few seconds. An entry is dropped once every
//! access token it could cover has expired.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use basic_admin_core::store::Store;
use basic_admin_core::time::{self, Timestamp};
use uuid::Uuid;

pub const SYNC_INTERVAL: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct Revocations {
    families: RwLock<HashMap<Uuid, Timestamp>>,
}

impl Revocations {
    pub fn contains(&self, family: Uuid) -> bool {
        self.families.read().expect("revocations lock").contains_key(&family)
    }

    pub fn insert(&self, family: Uuid, at: Timestamp) {
        self.families.write().expect("revocations lock").insert(family, at);
    }

    fn forget_before(&self, cutoff: Timestamp) {
        self.families.write().expect("revocations lock").retain(|_, at| *at >= cutoff);
    }

    /// Keeps this node in step with revocations made anywhere, until the
    /// returned task is aborted.
    pub fn spawn_sync(self: &Arc<Self>, store: Arc<dyn Store>, token_ttl: Duration) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        let ttl = chrono::Duration::from_std(token_ttl).unwrap_or(chrono::Duration::hours(1));
        tokio::spawn(async move {
            // `since` is a time of the database's clock, as `revoked_at` is:
            // a node whose own clock is off misses nothing. Until the
            // database has answered once, look back a whole token lifetime
            // (and a margin for the clocks' difference).
            let mut since: Option<Timestamp> = None;
            loop {
                let started = time::now();
                let from = since.unwrap_or(started - ttl - chrono::Duration::minutes(5));
                match store.revoked_token_families(from).await {
                    Ok((ids, database_now)) => {
                        for id in ids {
                            this.insert(id, started);
                        }
                        // Overlap the next window: a revocation committed
                        // just before this read must not fall between two.
                        since = Some(database_now - chrono::Duration::seconds(10));
                    }
                    Err(e) => tracing::warn!(error = %e, "could not read revocations; will retry"),
                }
                this.forget_before(started - ttl - chrono::Duration::minutes(1));
                tokio::time::sleep(SYNC_INTERVAL).await;
            }
        })
    }
}
