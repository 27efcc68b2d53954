use std::sync::Arc;

use basic_admin_core::store::Store;

use crate::auth::revocations::Revocations;
use crate::auth::throttle::Throttle;
use crate::auth::verified::VerifiedTokens;
use crate::cache::Caches;
use crate::config::Config;
use crate::keys::KeyRing;
use crate::master_key::MasterKey;
use crate::metrics::Metrics;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub master_key: Arc<MasterKey>,
    pub keys: Arc<KeyRing>,
    pub revocations: Arc<Revocations>,
    pub throttle: Arc<Throttle>,
    pub verified: Arc<VerifiedTokens>,
    pub caches: Arc<Caches>,
}
