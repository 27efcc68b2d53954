//! A context on a fresh SQLite database, and callers to act with, for the
//! use-cases' unit tests.

use std::sync::Arc;
use std::time::Duration;

use basic_admin_core::model::api_key::PresentedKey;
use basic_admin_core::store::{Connection, Store};
use basic_admin_core::time;
use secrecy::SecretBox;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::accounts::{self, SignUp};
use crate::auth::api_keys;
use crate::auth::claims::AccessClaims;
use crate::blobs::Blobs;
use crate::services::{projects, schemas, teams};
use crate::settings::{Settings, Throttles};
use crate::signing_keys::KeyRing;
use crate::{AccountCaller, Caller, Context};

pub const PUBLIC_URL: &str = "http://basic.test";

pub struct Fixture {
    pub ctx: Context,
    _dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store: Arc<dyn Store> = Arc::new(basic_admin_store_sqlite::open(&url).await.expect("SQLite opens"));
        store.migrate().await.expect("migrations run");
        let master_key = Arc::new(SecretBox::new(Box::new([7u8; crate::master_key::LEN])));
        let keys = KeyRing::load(store.clone(), master_key.clone(), PUBLIC_URL.into(), Duration::from_secs(3600))
            .await
            .expect("signing keys");
        let blobs = Blobs::open(&dir.path().join("files").display().to_string(), &[]).expect("a file folder");
        let settings = Settings {
            public_url: PUBLIC_URL.into(),
            access_token_ttl: Duration::from_secs(3600),
            refresh_token_ttl: Duration::from_secs(86400),
            refresh_grace: Duration::from_secs(30),
            auth_code_ttl: Duration::from_secs(60),
            require_pkce: false,
            require_admin_two_factor: false,
            throttles: Throttles::default(),
            max_records_per_table: 3,
            sync: Default::default(),
            ai: None,
        };
        Self { ctx: Context::new(store, settings, master_key, keys, blobs), _dir: dir }
    }

    /// A new account with this email, its password "correct horse battery staple".
    pub async fn account(&self, email: &str) -> basic_admin_core::model::Account {
        let form = SignUp {
            email: email.into(),
            username: None,
            name: String::new(),
            password: "correct horse battery staple".into(),
        };
        accounts::create(&*self.ctx.store, form).await.expect("the account is created")
    }

    /// A new account, acting as a developer (its token holds `admin`).
    pub async fn developer(&self, username: &str) -> Caller {
        let form = SignUp {
            email: format!("{username}@example.com"),
            username: Some(username.into()),
            name: username.into(),
            password: "correct horse battery staple".into(),
        };
        let account = accounts::create(&*self.ctx.store, form).await.expect("the account is created");
        let now = time::now().timestamp();
        let claims = AccessClaims {
            iss: PUBLIC_URL.into(),
            sub: account.did("basic.test"),
            aud: "cli".into(),
            exp: now + 3600,
            iat: now,
            jti: Uuid::new_v4().to_string(),
            scope: "openid admin".into(),
            client_id: "cli".into(),
            sid: Uuid::new_v4(),
        };
        Caller::Account(AccountCaller { account_id: account.id, claims })
    }

    /// A team and a project of `owner`'s; returns the project's id.
    pub async fn project(&self, owner: &Caller, slug: &str) -> Uuid {
        let team = teams::create(&self.ctx, owner, slug, slug).await.expect("the team is created");
        let project = projects::create(&self.ctx, owner, slug, &team.id.to_string(), Some(slug))
            .await
            .expect("the project is created");
        project.id
    }

    /// Publishes a schema of `tables` (name → fields) to the project.
    pub async fn publish(&self, owner: &Caller, project: Uuid, tables: Value) {
        let tables: serde_json::Map<String, Value> = tables
            .as_object()
            .expect("tables")
            .iter()
            .map(|(name, fields)| (name.clone(), json!({"type": "collection", "fields": fields})))
            .collect();
        let schema = json!({"project_id": project.to_string(), "version": 1, "tables": tables});
        schemas::publish(&self.ctx, owner, &project.to_string(), schema).await.expect("the schema is published");
    }

    /// A user of the project's app; returns their DID.
    pub async fn app_user(&self, project: Uuid) -> String {
        let user_did = format!("did:web:basic.test:users:{}", Uuid::new_v4().simple());
        let connection = Connection {
            id: Uuid::new_v4(),
            project_id: project,
            user_did: user_did.clone(),
            pds_url: PUBLIC_URL.into(),
            account_id: None,
            scopes: "openid".into(),
            at: time::now(),
        };
        self.ctx.store.connect_user(connection).await.expect("the user connects");
        user_did
    }

    /// Acts as the API key whose full value is `secret`.
    pub async fn key_caller(&self, secret: &str) -> Caller {
        let presented = PresentedKey::parse(secret).expect("a key");
        Caller::ApiKey(api_keys::lookup(&self.ctx, &presented).await.expect("lookup").expect("a live key"))
    }
}
