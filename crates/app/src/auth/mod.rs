//! Accounts signing in, and the OAuth 2.0 / OpenID Connect provider.

pub mod account_links;
pub mod accounts;
pub mod api_keys;
pub mod claims;
pub mod console;
pub mod key_usage;
pub mod oauth_provider;
pub mod purge;
pub mod revocations;
pub mod throttle;
pub mod two_factor;
pub mod verified_tokens;
