//! In-memory copies of hot public answers (today: the latest schema of each
//! project), so that a hit costs no database access.
//!
//! Every write that changes a cached answer calls [`invalidate`]: this node
//! forgets at once, and the others learn it through the store's broadcast
//! (PostgreSQL `LISTEN/NOTIFY`) within milliseconds. Entries also expire
//! after [`TTL`], a backstop should a message ever be lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::state::AppState;

pub const TTL: Duration = Duration::from_secs(60);

/// A rendered answer: body and its ETag.
pub struct Cached {
    pub body: Vec<u8>,
    pub etag: String,
    stored: Instant,
}

#[derive(Default)]
pub struct Caches {
    schemas: RwLock<HashMap<Uuid, Arc<Cached>>>,
    /// Bumped by every invalidation: an answer read from the database before
    /// an invalidation is not stored after it.
    generation: AtomicU64,
}

impl Caches {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn schema(&self, project: Uuid) -> Option<Arc<Cached>> {
        let entries = self.schemas.read().expect("cache lock");
        entries.get(&project).filter(|c| c.stored.elapsed() < TTL).cloned()
    }

    /// Stores an answer read when the generation was `generation`, unless
    /// something was invalidated since.
    pub fn put_schema(&self, project: Uuid, body: Vec<u8>, etag: String, generation: u64) {
        let mut entries = self.schemas.write().expect("cache lock");
        if self.generation() == generation {
            entries.insert(project, Arc::new(Cached { body, etag, stored: Instant::now() }));
        }
    }

    /// Applies a message: `schema:<id>` and `project:<id>` forget one
    /// project's answers; anything else (an empty message: some were lost)
    /// forgets everything.
    pub fn forget(&self, message: &str) {
        let mut entries = self.schemas.write().expect("cache lock");
        self.generation.fetch_add(1, Ordering::SeqCst);
        let project = message.split_once(':').and_then(|(_, id)| Uuid::try_parse(id).ok());
        match project {
            Some(id) => {
                entries.remove(&id);
            }
            None => entries.clear(),
        }
    }
}

/// Forgets here, and tells the other nodes.
pub async fn invalidate(state: &AppState, message: &str) {
    state.caches.forget(message);
    if let Err(e) = state.store.broadcast(message).await {
        // The other nodes fall back on the TTL.
        tracing::warn!(error = %e, message, "could not broadcast a cache invalidation");
    }
}

/// Applies what other nodes broadcast, until the task is aborted.
pub async fn spawn_listener(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let mut messages = match state.store.subscribe().await {
        Ok(Some(messages)) => messages,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot hear other nodes; caches rely on their TTL");
            return None;
        }
    };
    let caches = Arc::clone(&state.caches);
    Some(tokio::spawn(async move {
        while let Some(message) = messages.recv().await {
            caches.forget(&message);
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_one_project_or_all_and_refuses_stale_puts() {
        let caches = Caches::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let g = caches.generation();
        caches.put_schema(a, b"a".to_vec(), "\"a\"".into(), g);
        caches.put_schema(b, b"b".to_vec(), "\"b\"".into(), g);
        caches.forget(&format!("schema:{a}"));
        assert!(caches.schema(a).is_none() && caches.schema(b).is_some());
        caches.put_schema(a, b"old".to_vec(), "\"old\"".into(), g);
        assert!(caches.schema(a).is_none(), "read before the invalidation: not stored");
        caches.forget("");
        assert!(caches.schema(b).is_none());
    }
}
