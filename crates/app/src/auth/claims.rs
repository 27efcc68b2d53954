//! What the server's JWTs say.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Header `typ` of access tokens (RFC 9068), so that an id token is never
/// taken for one.
pub const ACCESS_TYP: &str = "at+jwt";
pub const ID_TYP: &str = "JWT";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The account's DID.
    pub sub: String,
    /// The client the token was issued to.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Space-separated.
    pub scope: String,
    pub client_id: String,
    /// The sign-in (token family) it descends from, so it can be revoked.
    pub sid: Uuid,
}

impl AccessClaims {
    /// The account id at the end of `sub` (`did:web:…:users:<hex>`).
    pub fn account_id(&self) -> Option<Uuid> {
        self.sub.rsplit(':').next().and_then(|hex| Uuid::try_parse(hex).ok())
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
}
