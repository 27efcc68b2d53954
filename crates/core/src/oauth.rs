//! The pure rules of the OAuth 2.0 provider: scopes, PKCE, clients and
//! redirect URIs. No I/O.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// The `basic` CLI: a first-party public client.
pub const CLI_CLIENT_ID: &str = "9c3f6704-87e7-4af9-8dd0-36dcb9b5c18c";
pub const CLI_REDIRECT_URI: &str = "http://localhost:8080/callback";

/// Scopes with a meaning here; project clients may also ask for scopes of
/// their own app, which are granted as asked.
pub const ADMIN: &str = "admin";
pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const KNOWN_SCOPES: [&str; 4] = [OPENID, PROFILE, EMAIL, ADMIN];

const MAX_SCOPES: usize = 20;
const MAX_SCOPE_LEN: usize = 64;

/// A set of scopes, in the order first asked, each once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("no scope was asked for")]
    Empty,
    #[error("the scope {0:?} is not a valid scope name")]
    Invalid(String),
    #[error("too many scopes (at most {MAX_SCOPES})")]
    TooMany,
    #[error("this client may not ask for the admin scope")]
    AdminNotAllowed,
}

impl Scopes {
    /// Parses a list separated by commas and/or white space (the CLI sends
    /// `profile,admin`; the standard is `profile admin`).
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        let mut scopes: Vec<String> = Vec::new();
        for scope in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            let valid = scope.len() <= MAX_SCOPE_LEN
                && scope.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-'));
            if !valid {
                return Err(ScopeError::Invalid(scope.to_owned()));
            }
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_owned());
            }
        }
        match scopes.len() {
            0 => Err(ScopeError::Empty),
            n if n > MAX_SCOPES => Err(ScopeError::TooMany),
            _ => Ok(Self(scopes)),
        }
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Space-separated, as tokens carry them.
    pub fn to_claim(&self) -> String {
        self.0.join(" ")
    }
}

/// Someone who may ask for tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub website: Option<String>,
    /// Developer tools of this server itself: only they may hold `admin`.
    pub first_party: bool,
}

impl Client {
    pub fn cli() -> Self {
        Self {
            id: CLI_CLIENT_ID.to_owned(),
            name: "Basic CLI".to_owned(),
            redirect_uris: vec![CLI_REDIRECT_URI.to_owned()],
            website: None,
            first_party: true,
        }
    }

    /// Redirect URIs match exactly, as registered.
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    /// The scopes this client may be granted of those asked.
    pub fn check_scopes(&self, asked: &Scopes) -> Result<(), ScopeError> {
        if asked.contains(ADMIN) && !self.first_party {
            return Err(ScopeError::AdminNotAllowed);
        }
        Ok(())
    }
}

/// Whether `client_id` is one of this server's own developer tools, which
/// act for the account's owner and see all of the account.
pub fn is_first_party(client_id: &str) -> bool {
    client_id == CLI_CLIENT_ID
}

/// What of an account a token shows (in userinfo and the id token): apps
/// see what the person consented to; first-party tools see everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosure {
    pub email: bool,
    /// `name` and `username`.
    pub profile: bool,
}

impl Disclosure {
    pub fn of(client_id: &str, scopes: &Scopes) -> Self {
        let all = is_first_party(client_id);
        Self { email: all || scopes.contains(EMAIL), profile: all || scopes.contains(PROFILE) }
    }
}

/// PKCE: only `S256` is accepted (`plain` gives nothing over no PKCE).
pub fn check_challenge_method(method: Option<&str>) -> Result<(), &'static str> {
    match method {
        None | Some("S256") => Ok(()),
        Some(_) => Err("code_challenge_method must be S256"),
    }
}

/// A challenge is the base64url SHA-256 of a verifier: 43 characters.
pub fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636: a verifier is 43–128 unreserved characters whose S256 is the challenge.
pub fn verify_pkce(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    // Both are public values by the time they meet; equality is enough.
    computed == challenge
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scopes_split_on_commas_and_spaces() {
        let s = Scopes::parse("profile,admin openid  profile").unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), ["profile", "admin", "openid"]);
        assert_eq!(s.to_claim(), "profile admin openid");
        assert_eq!(Scopes::parse(" , "), Err(ScopeError::Empty));
        assert!(matches!(Scopes::parse("profile <x>"), Err(ScopeError::Invalid(_))));
    }

    #[test]
    fn apps_see_what_was_consented_to_and_first_party_tools_everything() {
        let scopes = |text: &str| Scopes::parse(text).unwrap();
        let app = "0d8f5ac1-2b7e-4c3a-9f1e-6a5b4c3d2e1f";
        assert_eq!(Disclosure::of(app, &scopes("openid")), Disclosure { email: false, profile: false });
        assert_eq!(Disclosure::of(app, &scopes("profile")), Disclosure { email: false, profile: true });
        assert_eq!(Disclosure::of(app, &scopes("email")), Disclosure { email: true, profile: false });
        assert_eq!(Disclosure::of(CLI_CLIENT_ID, &scopes("profile,admin")), Disclosure { email: true, profile: true });
    }

    #[test]
    fn only_first_party_clients_get_admin() {
        let admin = Scopes::parse("profile admin").unwrap();
        assert_eq!(Client::cli().check_scopes(&admin), Ok(()));
        let app = Client { first_party: false, ..Client::cli() };
        assert_eq!(app.check_scopes(&admin), Err(ScopeError::AdminNotAllowed));
        assert_eq!(app.check_scopes(&Scopes::parse("profile todos:read").unwrap()), Ok(()));
    }

    #[test]
    fn pkce_rfc7636_example() {
        // Appendix B of RFC 7636.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_pkce(verifier, challenge));
        assert!(!verify_pkce(verifier, &challenge[..42]), "a truncated challenge fails");
        assert!(!verify_pkce("short", challenge), "a verifier is at least 43 characters");
        assert!(valid_challenge(challenge));
        assert_eq!(check_challenge_method(Some("plain")), Err("code_challenge_method must be S256"));
    }

    proptest! {
        #[test]
        fn a_verifier_matches_only_its_own_challenge(a in "[A-Za-z0-9._~-]{43,128}", b in "[A-Za-z0-9._~-]{43,128}") {
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(a.as_bytes()));
            prop_assert!(verify_pkce(&a, &challenge));
            prop_assert!(valid_challenge(&challenge));
            prop_assert_eq!(verify_pkce(&b, &challenge), a == b);
        }
    }
}
