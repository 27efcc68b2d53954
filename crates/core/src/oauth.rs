//! The pure rules of the OAuth 2.0 provider: scopes, PKCE, clients and
//! redirect URIs. No I/O.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// The `basic` CLI: a first-party public client.
pub const CLI_CLIENT_ID: &str = "9c3f6704-87e7-4af9-8dd0-36dcb9b5c18c";
pub const CLI_REDIRECT_URI: &str = "http://localhost:8080/callback";

/// The web console at `/console`: a first-party confidential client that
/// lives in the server itself, so its only redirect URI is on this server.
pub const CONSOLE_CLIENT_ID: &str = "basic-console";
pub const CONSOLE_CALLBACK_PATH: &str = "/console/callback";
/// What the console asks for: everything a developer can do.
pub const CONSOLE_SCOPE: &str = "openid profile email admin";

/// Scopes with a meaning here; project clients may also ask for scopes of
/// their own app, which are granted as asked.
pub const ADMIN: &str = "admin";
pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
/// Full access to the user's own data in the app the token was issued to
/// (the newer SDK asks for it); never to developer endpoints.
pub const APP_ADMIN: &str = "app:admin";
pub const KNOWN_SCOPES: [&str; 5] = [OPENID, PROFILE, EMAIL, ADMIN, APP_ADMIN];

/// Authorization codes and refresh tokens start with these, so that a
/// token request that names no grant type (the SDK's 0.5.0 sends
/// `{"code": …}` for both) is told apart without a lookup.
pub const CODE_PREFIX: &str = "code_";
pub const REFRESH_PREFIX: &str = "refresh_";

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

    /// The console of the server at `public_url`.
    pub fn console(public_url: &str) -> Self {
        Self {
            id: CONSOLE_CLIENT_ID.to_owned(),
            name: "Basic console".to_owned(),
            redirect_uris: vec![format!("{}{CONSOLE_CALLBACK_PATH}", public_url.trim_end_matches('/'))],
            website: None,
            first_party: true,
        }
    }

    /// Whether a signed-in person is granted this client's request without
    /// a consent page: the server's own console, which can only send the
    /// code back to this server.
    pub fn is_trusted(&self) -> bool {
        self.id == CONSOLE_CLIENT_ID
    }

    /// Whether `uri` may receive this client's codes (see [`redirect_matches`]).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| redirect_matches(registered, uri))
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
    client_id == CLI_CLIENT_ID || client_id == CONSOLE_CLIENT_ID
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

/// Whether a requested redirect URI fits a registered one. Exactly the
/// same URI always does. Besides, apps that send their whole page URL (the
/// SDK does) are served by one rule: a registered `http(s)` URI of an
/// origin and a path, without query or fragment, admits a URI with the same
/// scheme, host and port whose path is the same or continues it after a
/// `/`, with any query and no fragment. `http://localhost` (and
/// `127.0.0.1`, `[::1]`) admits any port, as RFC 8252 has it for native
/// apps. Another host, userinfo, or a path that only shares a prefix
/// (`/app` and `/application`) never fits.
pub fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(base), Ok(asked)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    let web = |u: &url::Url| matches!(u.scheme(), "http" | "https");
    if !web(&base) || base.query().is_some() || base.fragment().is_some() {
        return false;
    }
    let userinfo = |u: &url::Url| !u.username().is_empty() || u.password().is_some();
    if asked.fragment().is_some() || userinfo(&asked) || userinfo(&base) || asked.scheme() != base.scheme() {
        return false;
    }
    if asked.host() != base.host() || base.host().is_none() {
        return false;
    }
    let loopback = base.scheme() == "http" && matches!(base.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if !loopback && asked.port_or_known_default() != base.port_or_known_default() {
        return false;
    }
    let (path, under) = (asked.path(), base.path());
    path == under
        || (under.ends_with('/') && path.starts_with(under))
        || path.strip_prefix(under).is_some_and(|rest| rest.starts_with('/'))
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
    // Both are public values by the time they meet; equality is enough.
    pkce_challenge(verifier) == challenge
}

/// The S256 challenge of a PKCE verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn redirects_fit_the_registered_origin_and_path() {
        let fits = |registered: &str, requested: &str| redirect_matches(registered, requested);
        // The same URI, whatever it is.
        assert!(fits("com.example.app:/cb", "com.example.app:/cb"));
        assert!(fits("https://app.example.com/cb", "https://app.example.com/cb"));
        // An origin admits every page of it, with any query.
        assert!(fits("https://app.example.com/", "https://app.example.com/todos?tab=2"));
        assert!(fits("https://app.example.com", "https://app.example.com/a/b/c?x=1&y"));
        // A path admits itself and what continues it after a `/`.
        assert!(fits("https://app.example.com/app", "https://app.example.com/app?state=1"));
        assert!(fits("https://app.example.com/app", "https://app.example.com/app/settings"));
        assert!(!fits("https://app.example.com/app", "https://app.example.com/application"));
        assert!(!fits("https://app.example.com/app", "https://app.example.com/ap"));
        assert!(!fits("https://app.example.com/app", "https://app.example.com/app/../admin"));
        assert!(!fits("https://app.example.com/app", "https://app.example.com/app%2F..%2Fadmin"));
        // Never another host, port, scheme, userinfo or a fragment.
        assert!(!fits("https://app.example.com/", "https://app.example.com.evil.com/"));
        assert!(!fits("https://app.example.com/", "https://evil.com/?https://app.example.com/"));
        assert!(!fits("https://app.example.com/", "https://app.example.com@evil.com/"));
        assert!(!fits("https://app.example.com/", "https://user:pw@app.example.com/"));
        assert!(!fits("https://app.example.com/", "https://app.example.com:8443/"));
        assert!(!fits("https://app.example.com/", "http://app.example.com/"));
        assert!(!fits("https://app.example.com/", "https://app.example.com/#token"));
        assert!(fits("https://app.example.com:443/", "https://app.example.com/"), "the default port is the port");
        // A registered URI with a query or a private-use scheme admits itself only.
        assert!(!fits("https://app.example.com/cb?a=1", "https://app.example.com/cb?a=1&b=2"));
        assert!(!fits("com.example.app:/cb", "com.example.app:/cb/more"));
        // Loopback: any port (RFC 8252), same path rule.
        assert!(fits("http://localhost", "http://localhost:5173/?code_flow=1"));
        assert!(fits("http://127.0.0.1/cb", "http://127.0.0.1:49152/cb"));
        assert!(fits("http://[::1]/", "http://[::1]:3000/page"));
        assert!(!fits("http://localhost/cb", "http://localhost:5173/other"));
        assert!(!fits("http://localhost/", "http://localhost.evil.com:5173/"));
        assert!(!fits("https://app.example.com/", "https://app.example.com:1/"), "other hosts keep their port");
    }

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
    fn the_console_receives_codes_only_on_this_server() {
        let console = Client::console("https://admin.example.com/");
        assert!(console.allows_redirect("https://admin.example.com/console/callback"));
        assert!(!console.allows_redirect("https://evil.example.com/console/callback"));
        assert!(!console.allows_redirect("https://admin.example.com/auth/login"));
        assert!(console.first_party && console.is_trusted() && !Client::cli().is_trusted());
        assert!(is_first_party(CONSOLE_CLIENT_ID));
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

    fn host() -> impl Strategy<Value = String> {
        // Labels like "xn--" are not valid hosts at all (IDNA), and a URL
        // that does not parse never fits; those are not what this checks.
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){1,3}"
            .prop_filter("a host that parses", |host| url::Url::parse(&format!("https://{host}/")).is_ok())
    }

    fn segment() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_~-]{1,8}"
    }

    proptest! {
        #[test]
        fn any_page_below_a_registered_path_fits(
            host in host(), base in prop::collection::vec(segment(), 0..3),
            more in prop::collection::vec(segment(), 0..4), query in "[a-z0-9=&]{0,12}",
        ) {
            let registered = format!("https://{host}/{}", base.join("/"));
            let mut requested = registered.trim_end_matches('/').to_owned();
            for part in &more {
                requested.push('/');
                requested.push_str(part);
            }
            if requested.ends_with(&host) {
                requested.push('/');
            }
            if !query.is_empty() {
                requested.push('?');
                requested.push_str(&query);
            }
            prop_assert!(redirect_matches(&registered, &requested), "{registered} {requested}");
            let with_fragment = format!("{requested}#x");
            prop_assert!(!redirect_matches(&registered, &with_fragment));
        }

        #[test]
        fn another_host_never_fits(host in host(), other in host(), path in "(/[a-z]{1,5}){0,3}") {
            prop_assume!(host != other);
            let registered = format!("https://{host}/");
            let tries = [
                format!("https://{other}{path}"),
                format!("https://{host}.{other}{path}"),
                format!("https://{host}@{other}{path}"),
                format!("https://{other}/{host}{path}"),
            ];
            for requested in tries {
                prop_assert!(!redirect_matches(&registered, &requested), "{} admitted {}", registered, requested);
            }
        }

        #[test]
        fn a_path_that_only_shares_a_prefix_never_fits(
            host in host(), path in segment(), tail in "[A-Za-z0-9_~.-]{1,6}",
        ) {
            let registered = format!("https://{host}/{path}");
            let requested = format!("https://{host}/{path}{tail}");
            prop_assert!(!redirect_matches(&registered, &requested), "{} admitted {}", registered, requested);
        }

        #[test]
        fn matching_never_panics(registered in ".{0,60}", requested in ".{0,60}") {
            let _ = redirect_matches(&registered, &requested);
        }

        #[test]
        fn a_verifier_matches_only_its_own_challenge(a in "[A-Za-z0-9._~-]{43,128}", b in "[A-Za-z0-9._~-]{43,128}") {
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(a.as_bytes()));
            prop_assert!(verify_pkce(&a, &challenge));
            prop_assert!(valid_challenge(&challenge));
            prop_assert_eq!(verify_pkce(&b, &challenge), a == b);
        }
    }
}
