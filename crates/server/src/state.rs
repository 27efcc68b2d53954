use std::ops::Deref;
use std::sync::Arc;

use basic_admin_app::Context;

use crate::config::Config;
use crate::metrics::Metrics;

/// What every handler can reach. One shared allocation: each extractor and
/// middleware takes its own clone, which is then one count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The use-cases' context, and what only the HTTP layer needs.
pub struct Shared {
    pub config: Arc<Config>,
    pub app: Context,
    pub metrics: Metrics,
    /// Requests to the public endpoints, per client address.
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
