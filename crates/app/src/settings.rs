//! What the use-cases read of the configuration (the server's `Config`
//! parses it from flags, variables and the file; others build it directly).

use std::time::Duration;

use secrecy::SecretString;

/// The settings the use-cases act on.
#[derive(Clone)]
pub struct Settings {
    /// The server's public URL, without a trailing slash: the token issuer,
    /// the `did:web` host, the base of file and client-metadata URLs.
    pub public_url: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// How long after its rotation a refresh token presented again still
    /// gets its (current) successor rather than revoking the sign-in: two
    /// tabs or processes sharing one token refresh at nearly the same time.
    /// Zero turns it off.
    pub refresh_grace: Duration,
    pub auth_code_ttl: Duration,
    /// Whether every authorization request must carry a PKCE challenge.
    pub require_pkce: bool,
    /// Whether developer access (the `admin` scope) is granted only to
    /// accounts with two-factor sign-in on.
    pub require_admin_two_factor: bool,
    pub throttles: Throttles,
    /// Records one app user may keep in one table.
    pub max_records_per_table: u64,
    /// The limits of live sync connections.
    pub sync: crate::services::sync::SyncLimits,
    /// Where schema suggestions come from; `None` turns them off.
    pub ai: Option<AiConfig>,
}

/// How many failures the throttles allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttles {
    pub sign_in_per_account: u32,
    pub sign_in_per_address: u32,
    pub keys_per_address: u32,
}

impl Default for Throttles {
    fn default() -> Self {
        Self { sign_in_per_account: 5, sign_in_per_address: 20, keys_per_address: 20 }
    }
}

/// An OpenAI-compatible chat-completions API.
#[derive(Clone)]
pub struct AiConfig {
    /// Without a trailing slash; `/chat/completions` is added.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
    pub timeout: Duration,
}
