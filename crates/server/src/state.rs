use std::sync::Arc;

use basic_admin_core::store::Store;

use crate::auth::key_usage::KeyUsage;
use crate::auth::revocations::Revocations;
use crate::auth::throttle::{Throttle, api_keys, sign_in};
use crate::auth::verified_tokens::VerifiedTokens;
use crate::blobs::Blobs;
use crate::cache::Caches;
use crate::config::Config;
use crate::master_key::MasterKey;
use crate::metrics::Metrics;
use crate::signing_keys::KeyRing;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub master_key: Arc<MasterKey>,
    pub keys: Arc<KeyRing>,
    pub revocations: Arc<Revocations>,
    /// Failed sign-ins.
    pub throttle: Arc<Throttle<sign_in::Key>>,
    /// Failed API-key checks.
    pub key_throttle: Arc<Throttle<api_keys::Key>>,
    /// Refused `user/connect` tokens.
    pub connect_throttle: Arc<Throttle<std::net::IpAddr>>,
    /// Invites sent per account and hour.
    pub invite_throttle: Arc<Throttle<uuid::Uuid>>,
    /// Requests to the public endpoints, per client address.
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
    /// When each key was last used, until the next flush.
    pub key_usage: Arc<KeyUsage>,
    pub verified: Arc<VerifiedTokens>,
    pub caches: Arc<Caches>,
    /// Uploaded files.
    pub blobs: Blobs,
}
