//! In-memory copies of what hot paths read: public documents of each project
//! (its latest schema, DID document and client metadata, rendered) and API
//! keys, so that a hit costs no database access.
//!
//! Every write that changes a cached answer calls [`invalidate`]: this node
//! forgets at once, and the others learn it through the store's broadcast
//! (PostgreSQL `LISTEN/NOTIFY`) within milliseconds. Entries also expire
//! after [`TTL`], a backstop should a message ever be lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use basic_admin_core::model::api_key::KeyRoles;
use basic_admin_core::store::ApiKey;
use serde_json::Value;
use uuid::Uuid;

use crate::Context;

pub const TTL: Duration = Duration::from_secs(60);

/// A rendered answer: body and its ETag.
pub struct Cached {
    pub body: Vec<u8>,
    pub etag: String,
    stored: Instant,
}

/// A project's latest schema, `None` when it has published none.
pub type LatestSchema = Arc<Option<Value>>;

/// A key as stored, with its roles parsed once.
#[derive(Debug)]
pub struct CachedKey {
    pub key: ApiKey,
    pub roles: KeyRoles,
    stored: Instant,
}

/// The public documents of a project that are kept rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Document {
    LatestSchema,
    DidDocument,
    /// Its `client_id` is the URL it was asked for: the UUID or the hex form.
    ClientMetadata {
        hex: bool,
    },
}

impl Document {
    /// Whether publishing a schema changes it.
    fn shows_schema(self) -> bool {
        matches!(self, Document::LatestSchema | Document::ClientMetadata { .. })
    }
}

/// What changed, as every node's caches hear of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A project's schema: the documents that show it.
    Schema(Uuid),
    /// One API key.
    Key(Uuid),
    /// A project (its profile, settings, images, or the project itself
    /// deleted): every document and key of it.
    Project(Uuid),
    /// The JWT signing keys (rotated): every node re-reads them.
    SigningKeys,
    /// Unknown (messages were lost): everything is forgotten.
    Everything,
}

impl Change {
    /// The message that carries it to other nodes (a NOTIFY payload).
    pub fn message(self) -> String {
        match self {
            Change::Schema(id) => format!("schema:{id}"),
            Change::Key(id) => format!("key:{id}"),
            Change::Project(id) => format!("project:{id}"),
            Change::SigningKeys => "keys".to_owned(),
            Change::Everything => String::new(),
        }
    }

    /// A message heard; anything not understood counts as [`Change::Everything`].
    pub fn from_message(message: &str) -> Self {
        if message == "keys" {
            return Change::SigningKeys;
        }
        let (kind, id) = message.split_once(':').unwrap_or_default();
        match (kind, Uuid::try_parse(id)) {
            ("schema", Ok(id)) => Change::Schema(id),
            ("key", Ok(id)) => Change::Key(id),
            ("project", Ok(id)) => Change::Project(id),
            _ => Change::Everything,
        }
    }
}

#[derive(Default)]
pub struct Caches {
    documents: RwLock<HashMap<(Uuid, Document), Arc<Cached>>>,
    /// Each project's latest schema as a value (`None`: none published), for
    /// checking data.
    schemas: RwLock<HashMap<Uuid, (LatestSchema, Instant)>>,
    keys: RwLock<HashMap<Uuid, Arc<CachedKey>>>,
    /// Bumped by every invalidation: an answer read from the database before
    /// an invalidation is not stored after it.
    generation: AtomicU64,
}

impl Caches {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn document(&self, project: Uuid, document: Document) -> Option<Arc<Cached>> {
        let entries = self.documents.read().expect("cache lock");
        entries.get(&(project, document)).filter(|c| c.stored.elapsed() < TTL).cloned()
    }

    /// Stores a document rendered from what was read when the generation was
    /// `generation`, unless something was invalidated since.
    pub fn put_document(&self, project: Uuid, document: Document, body: Vec<u8>, etag: String, generation: u64) {
        let mut entries = self.documents.write().expect("cache lock");
        if self.generation() == generation {
            entries.insert((project, document), Arc::new(Cached { body, etag, stored: Instant::now() }));
        }
    }

    pub fn latest_schema(&self, project: Uuid) -> Option<LatestSchema> {
        let entries = self.schemas.read().expect("cache lock");
        entries.get(&project).filter(|(_, stored)| stored.elapsed() < TTL).map(|(schema, _)| Arc::clone(schema))
    }

    /// Stores a latest schema read when the generation was `generation`
    /// (unless something was invalidated since), and returns it.
    pub fn put_latest_schema(&self, project: Uuid, schema: Option<Value>, generation: u64) -> LatestSchema {
        let schema = Arc::new(schema);
        let mut entries = self.schemas.write().expect("cache lock");
        if self.generation() == generation {
            entries.insert(project, (Arc::clone(&schema), Instant::now()));
        }
        schema
    }

    pub fn key(&self, id: Uuid) -> Option<Arc<CachedKey>> {
        let entries = self.keys.read().expect("cache lock");
        entries.get(&id).filter(|c| c.stored.elapsed() < TTL).cloned()
    }

    /// Stores a key read when the generation was `generation` (unless
    /// something was invalidated since), and returns it.
    pub fn put_key(&self, key: ApiKey, generation: u64) -> Arc<CachedKey> {
        let roles = key.parsed_roles();
        let cached = Arc::new(CachedKey { key, roles, stored: Instant::now() });
        let mut entries = self.keys.write().expect("cache lock");
        if self.generation() == generation {
            entries.insert(cached.key.id, Arc::clone(&cached));
        }
        cached
    }

    /// Forgets what `change` makes stale (the signing keys are not kept here).
    pub fn forget(&self, change: Change) {
        let mut documents = self.documents.write().expect("cache lock");
        let mut schemas = self.schemas.write().expect("cache lock");
        let mut keys = self.keys.write().expect("cache lock");
        self.generation.fetch_add(1, Ordering::SeqCst);
        match change {
            Change::Schema(project) => {
                documents.retain(|(p, d), _| *p != project || !d.shows_schema());
                schemas.remove(&project);
            }
            Change::Key(key) => {
                keys.remove(&key);
            }
            Change::Project(project) => {
                documents.retain(|(p, _), _| *p != project);
                schemas.remove(&project);
                keys.retain(|_, cached| cached.key.project_id != project);
            }
            Change::SigningKeys => {}
            Change::Everything => {
                documents.clear();
                schemas.clear();
                keys.clear();
            }
        }
    }
}

/// Forgets here, and tells the other nodes.
pub async fn invalidate(ctx: &Context, change: Change) {
    ctx.caches.forget(change);
    let message = change.message();
    if let Err(e) = ctx.store.broadcast(&message).await {
        // The other nodes fall back on the TTL.
        tracing::warn!(error = %e, message, "could not broadcast a cache invalidation");
    }
}

/// Applies what other nodes broadcast (and re-reads the signing keys when
/// they change; new sync revisions go to this node's sync connections),
/// until the task is aborted. A backend with no other nodes (SQLite) needs
/// no task. When the database cannot be subscribed to (at
/// start, or after the subscription ended), it tries again every few
/// seconds; meanwhile caches rely on their TTL.
pub async fn spawn_listener(ctx: &Context) -> Option<tokio::task::JoinHandle<()>> {
    let first = ctx.store.subscribe().await;
    if matches!(first, Ok(None)) {
        return None;
    }
    let store = Arc::clone(&ctx.store);
    let caches = Arc::clone(&ctx.caches);
    let keys = Arc::clone(&ctx.keys);
    let hub = Arc::clone(&ctx.sync);
    Some(tokio::spawn(async move {
        let mut subscribed = first;
        loop {
            match subscribed {
                Ok(Some(mut messages)) => {
                    while let Some(message) = messages.recv().await {
                        match crate::services::sync::heard(&message) {
                            Some((project, user_did)) => hub.advanced(project, user_did),
                            None => apply(&caches, &keys, Change::from_message(&message)).await,
                        }
                    }
                    tracing::warn!("the subscription to other nodes ended; subscribing again");
                    // Whatever was said meanwhile is lost: forget everything,
                    // and let every sync connection read its log.
                    apply(&caches, &keys, Change::Everything).await;
                    hub.wake_all();
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot hear other nodes; caches rely on their TTL until this is retried");
                    tokio::time::sleep(RESUBSCRIBE_AFTER).await;
                }
            }
            subscribed = store.subscribe().await;
        }
    }))
}

const RESUBSCRIBE_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// A change another node made: what to forget, and the signing keys to
/// re-read when they changed (or when messages were lost).
async fn apply(caches: &Caches, keys: &crate::signing_keys::KeyRing, change: Change) {
    if matches!(change, Change::SigningKeys | Change::Everything)
        && let Err(e) = keys.reload().await
    {
        tracing::warn!(error = %e, "could not re-read the signing keys");
    }
    caches.forget(change);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_travel_as_messages_and_come_back_the_same() {
        let id = Uuid::new_v4();
        for change in
            [Change::Schema(id), Change::Key(id), Change::Project(id), Change::SigningKeys, Change::Everything]
        {
            assert_eq!(Change::from_message(&change.message()), change);
        }
        for garbled in ["schema:", "key:not-a-uuid", "project", "whatever"] {
            assert_eq!(Change::from_message(garbled), Change::Everything, "{garbled}");
        }
    }

    #[test]
    fn forgets_what_changed_and_refuses_stale_puts() {
        use Document::*;
        let caches = Caches::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let g = caches.generation();
        let put = |p, d| caches.put_document(p, d, b"x".to_vec(), "\"x\"".into(), g);
        for project in [a, b] {
            for document in [LatestSchema, DidDocument, ClientMetadata { hex: true }] {
                put(project, document);
            }
        }
        caches.forget(Change::Schema(a));
        assert!(
            caches.document(a, LatestSchema).is_none() && caches.document(a, ClientMetadata { hex: true }).is_none()
        );
        assert!(caches.document(a, DidDocument).is_some(), "a DID document shows no schema");
        assert!(caches.document(b, LatestSchema).is_some());
        put(a, LatestSchema);
        assert!(caches.document(a, LatestSchema).is_none(), "read before the invalidation: not stored");
        caches.forget(Change::Project(b));
        assert!(caches.document(b, DidDocument).is_none() && caches.document(a, DidDocument).is_some());
        caches.forget(Change::Everything);
        assert!(caches.document(a, DidDocument).is_none());
    }

    fn key(project: Uuid) -> ApiKey {
        let now = basic_admin_core::time::now();
        ApiKey {
            id: Uuid::new_v4(),
            project_id: project,
            label: "k".into(),
            roles: "read, data:write".into(),
            is_private: true,
            secret_hash: Vec::new(),
            created_at: now,
            updated_at: now,
            last_used: None,
        }
    }

    #[test]
    fn forgets_a_key_or_every_key_of_a_project() {
        let caches = Caches::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let g = caches.generation();
        let [a1, a2, b1] = [key(a), key(a), key(b)].map(|k| caches.put_key(k, g).key.id);
        assert!(caches.key(a1).unwrap().roles.contains(basic_admin_core::model::api_key::KeyRole::DataWrite));
        caches.forget(Change::Key(a1));
        assert!(caches.key(a1).is_none() && caches.key(a2).is_some());
        caches.forget(Change::Project(a));
        assert!(caches.key(a2).is_none() && caches.key(b1).is_some());
        let stale = caches.put_key(key(b), g);
        assert!(caches.key(stale.key.id).is_none(), "read before an invalidation: not stored");
    }
}
