//! The use-cases of basic-admin, and the services they rely on: who may act
//! ([`services::access`]), the rules of each resource ([`services`]),
//! accounts and the OAuth provider ([`auth`]), tokens, keys, caches and
//! files. Nothing here knows HTTP: errors are [`AppError`]s, which the HTTP
//! layer (and any other protocol) maps once. A test keeps web types out.

pub mod ai;
pub mod auth;
pub mod blobs;
pub mod cache;
pub mod caller;
pub mod crypto;
pub mod error;
pub mod mail;
pub mod master_key;
pub mod services;
pub mod settings;
pub mod signing_keys;
#[cfg(test)]
mod testing;
pub mod tls;

use std::sync::Arc;

use basic_admin_core::store::Store;

pub use crate::caller::{AccountCaller, Caller};
pub use crate::error::{AppError, AppResult, Thing};

use crate::auth::key_usage::KeyUsage;
use crate::auth::revocations::Revocations;
use crate::auth::throttle::{self, Throttle, api_keys, sign_in};
use crate::auth::verified_tokens::VerifiedTokens;
use crate::blobs::Blobs;
use crate::cache::Caches;
use crate::mail::Mailer;
use crate::master_key::MasterKey;
use crate::services::sync::SyncHub;
use crate::settings::Settings;
use crate::signing_keys::KeyRing;

/// What the use-cases act on. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub master_key: Arc<MasterKey>,
    /// The keys that sign and verify tokens.
    pub keys: Arc<KeyRing>,
    pub revocations: Arc<Revocations>,
    /// Failed sign-ins.
    pub sign_in_throttle: Arc<Throttle<sign_in::Key>>,
    /// Failed API-key checks.
    pub key_throttle: Arc<Throttle<api_keys::Key>>,
    /// Refused `user/connect` tokens.
    pub connect_throttle: Arc<Throttle<std::net::IpAddr>>,
    /// Invites sent per account and hour.
    pub invite_throttle: Arc<Throttle<uuid::Uuid>>,
    /// When each key was last used, until the next flush.
    pub key_usage: Arc<KeyUsage>,
    /// Access tokens already verified.
    pub verified: Arc<VerifiedTokens>,
    pub caches: Arc<Caches>,
    /// Uploaded files.
    pub blobs: Blobs,
    /// Live sync's connections on this node, by user database.
    pub sync: Arc<SyncHub>,
    /// Where letters go; `None` when mail is not set up.
    pub mail: Option<Arc<Mailer>>,
    /// Letters sent per address and hour.
    pub mail_throttle: Arc<Throttle<String>>,
    /// Wrong second-factor codes per account.
    pub two_factor_throttle: Arc<Throttle<uuid::Uuid>>,
}

impl Context {
    /// A context with empty caches and throttles.
    pub fn new(
        store: Arc<dyn Store>,
        settings: Settings,
        master_key: Arc<MasterKey>,
        keys: Arc<KeyRing>,
        blobs: Blobs,
    ) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            master_key,
            keys,
            revocations: Arc::new(Revocations::default()),
            sign_in_throttle: Arc::new(throttle::sign_in::throttle()),
            key_throttle: Arc::new(throttle::api_keys::throttle()),
            connect_throttle: Arc::new(throttle::connect::throttle()),
            invite_throttle: Arc::new(throttle::invites::throttle()),
            key_usage: Arc::new(KeyUsage::default()),
            verified: Arc::new(VerifiedTokens::default()),
            caches: Arc::new(Caches::default()),
            blobs,
            sync: Arc::new(SyncHub::default()),
            mail: None,
            mail_throttle: Arc::new(throttle::mail::throttle()),
            two_factor_throttle: Arc::new(Throttle::new(crate::auth::two_factor::WINDOW)),
        }
    }

    /// This context, sending letters through `mailer`.
    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mail = Some(Arc::new(mailer));
        self
    }
}
