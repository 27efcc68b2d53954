//! When each API key was last used, kept in memory and written to the
//! database in one batch every few seconds (and at shutdown), so that a
//! request authenticated by a key costs no database write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use basic_admin_core::store::Store;
use basic_admin_core::time::{self, Timestamp};
use uuid::Uuid;

#[derive(Default)]
pub struct KeyUsage {
    pending: Mutex<HashMap<Uuid, Timestamp>>,
}

impl KeyUsage {
    pub fn used(&self, key: Uuid) {
        self.pending.lock().expect("usage lock").insert(key, time::now());
    }

    /// Writes what was recorded since the last flush. Uses that cannot be
    /// written are kept for the next attempt (unless a newer use replaced them).
    pub async fn flush(&self, store: &dyn Store) {
        let batch: Vec<(Uuid, Timestamp)> =
            std::mem::take(&mut *self.pending.lock().expect("usage lock")).into_iter().collect();
        if batch.is_empty() {
            return;
        }
        if let Err(e) = store.touch_keys(&batch).await {
            tracing::warn!(error = %e, keys = batch.len(), "could not record when keys were last used; will retry");
            let mut pending = self.pending.lock().expect("usage lock");
            for (key, at) in batch {
                pending.entry(key).or_insert(at);
            }
        }
    }

    /// Flushes every `interval` until the task is aborted.
    pub fn spawn_flush(self: &Arc<Self>, store: Arc<dyn Store>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                this.flush(&*store).await;
            }
        })
    }
}
