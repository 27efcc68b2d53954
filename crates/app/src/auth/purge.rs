//! Expired sign-ins removed from the database: sessions, authorization
//! codes and refresh tokens past their expiry, and token families with
//! nothing left, an hour apart on every node (deleting what another node
//! deleted already does no harm).

use std::sync::Arc;
use std::time::Duration;

use basic_admin_core::store::Store;
use basic_admin_core::time;

/// Rows one statement deletes at most.
const BATCH: u32 = 1000;
const EVERY: Duration = Duration::from_secs(3600);

/// Purges now, then every hour. A family is kept while any code or refresh
/// token of it remains, and at least a day (or an access token's lifetime,
/// if longer) after it was made: its revocation must outlive its tokens.
pub fn spawn(store: Arc<dyn Store>, access_token_ttl: Duration) -> tokio::task::JoinHandle<()> {
    let keep = chrono::Duration::from_std(access_token_ttl).unwrap_or_default().max(chrono::Duration::days(1));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        loop {
            ticks.tick().await;
            let now = time::now();
            match store.purge_expired_sign_ins(now, now - keep, BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "purged expired sign-ins"),
                Err(e) => tracing::warn!(error = %e, "could not purge expired sign-ins; will retry"),
            }
        }
    })
}
