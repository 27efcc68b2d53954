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

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::throttle::Throttle;
use crate::error::ApiError;
use crate::state::AppState;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Sign-in and sign-up forms, consent, token exchange, user/connect.
    Auth,
    /// compareSchema and verifyUpdateSchema.
    SchemaUtils,
}

/// The group of a request, from its method and route template.
pub fn group_of(method: &Method, route: &str) -> Option<Group> {
    match (method, route) {
        (&Method::POST, "/auth/login" | "/auth/signup" | "/auth/consent" | "/auth/token") => Some(Group::Auth),
        (&Method::POST, "/project/{id}/user/connect") => Some(Group::Auth),
        (&Method::POST, "/utils/schema/compareSchema" | "/utils/schema/verifyUpdateSchema") => Some(Group::SchemaUtils),
        _ => None,
    }
}

pub struct RateLimits {
    auth: u32,
    schema_utils: u32,
    seen: Throttle<(Group, IpAddr)>,
}

impl RateLimits {
    /// Limits per minute; 0 turns a group's limit off.
    pub fn new(auth: u32, schema_utils: u32) -> Self {
        Self { auth, schema_utils, seen: Throttle::new(WINDOW) }
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

/// Middleware on the routes (it needs the route template).
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str());
    if let Some(group) = route.and_then(|route| group_of(request.method(), route)) {
        let from = crate::client_addr::of_request(&request, &state).bucket();
        if let Some(wait) = state.rate_limits.check(group, from) {
            return ApiError::too_many(wait, "Too many requests from this address; try again later.").into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_endpoints_belong_to_a_group_and_others_to_none() {
        assert_eq!(group_of(&Method::POST, "/auth/token"), Some(Group::Auth));
        assert_eq!(group_of(&Method::POST, "/project/{id}/user/connect"), Some(Group::Auth));
        assert_eq!(group_of(&Method::POST, "/utils/schema/verifyUpdateSchema"), Some(Group::SchemaUtils));
        assert_eq!(group_of(&Method::GET, "/project/{id}/schema"), None, "cached reads are not limited");
        assert_eq!(group_of(&Method::POST, "/project/{id}/key/verify"), None, "failures have their throttle");
        assert_eq!(group_of(&Method::POST, "/project/{id}/schema"), None);
        assert_eq!(group_of(&Method::GET, "/project/{id}"), None);
    }

    #[test]
    fn counts_each_address_and_group_apart() {
        let limits = RateLimits::new(2, 0);
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
