use std::sync::Arc;

use basic_admin_app::Context;

use crate::config::Config;
use crate::metrics::Metrics;

/// What every handler can reach: the use-cases' context, and what only the
/// HTTP layer needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub app: Context,
    pub metrics: Metrics,
    /// Requests to the public endpoints, per client address.
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
}
