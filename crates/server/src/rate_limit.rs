//! Requests per minute per client address on the expensive endpoints anyone
//! may call without an account: sign-in, sign-up and token exchange
//! (password hashing, signing), `user/connect`, and the schema utilities
//! (whole schemas compared). Beyond the limit a caller is answered `429`
//! with `Retry-After` until its minute has passed. Counts are kept per node,
//! in memory, per client address ([`ClientAddr::bucket`]); failures have
//! their own throttles (`auth::throttle`).
//!
//! Cached reads (a project's schema, a key check answered from memory) are
//! not limited: answering one costs no more than answering 429.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use utoipa_axum::router::OpenApiRouter;

use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;
use basic_admin_app::auth::throttle::Throttle;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Sign-in and sign-up forms, consent, token exchange, user/connect.
    Auth,
    /// compareSchema and verifyUpdateSchema.
    SchemaUtils,
}

pub struct RateLimits {
    auth: u32,
    schema_utils: u32,
    /// Whose forwarding headers name the client (see [`ClientAddr`]).
    trusted_proxies: Vec<IpNet>,
    seen: Throttle<(Group, IpAddr)>,
}

impl RateLimits {
    /// Limits per minute; 0 turns a group's limit off.
    pub fn new(auth: u32, schema_utils: u32, trusted_proxies: Vec<IpNet>) -> Self {
        Self { auth, schema_utils, trusted_proxies, seen: Throttle::new(WINDOW) }
    }

    /// Counts a request; `Some(wait)` when it is over the limit.
    pub fn check(&self, group: Group, from: IpAddr) -> Option<Duration> {
        let max = match group {
            Group::Auth => self.auth,
            Group::SchemaUtils => self.schema_utils,
        };
        if max == 0 {
            return None;
        }
        let limit = [((group, from), max)];
        let wait = self.seen.refused(&limit);
        if wait.is_none() {
            self.seen.failed(&limit);
        }
        wait
    }
}

/// The middleware that counts a route's requests against `group`; the
/// limits come from the extension the server adds to every request.
///
/// `.route_layer(from_fn_with_state(Group::Auth, rate_limit::limit))`, or
/// [`limited`] for routes of the API (which also documents the 429).
pub async fn limit(
    State(group): State<Group>,
    Extension(limits): Extension<Arc<RateLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let from = ClientAddr::resolve(peer, request.headers(), &limits.trusted_proxies).bucket();
    if let Some(wait) = limits.check(group, from) {
        return ApiError::too_many(wait, "Too many requests from this address; try again later.").into_response();
    }
    next.run(request).await
}

/// `routes`, each limited per client address as `group`: declared with the
/// routes, and documented there (429 with `Retry-After`).
pub fn limited(group: Group, mut routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    crate::openapi::document_rate_limit(routes.get_openapi_mut());
    routes.route_layer(axum::middleware::from_fn_with_state(group, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_address_and_group_apart() {
        let limits = RateLimits::new(2, 0, Vec::new());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(limits.check(Group::Auth, a), None);
        assert_eq!(limits.check(Group::Auth, a), None);
        assert!(limits.check(Group::Auth, a).is_some_and(|w| w <= WINDOW));
        assert_eq!(limits.check(Group::Auth, b), None, "another address has its own count");
        for _ in 0..100 {
            assert_eq!(limits.check(Group::SchemaUtils, a), None, "0 is no limit");
        }
    }
}
