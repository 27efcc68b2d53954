//! `did:web` identifiers for the accounts and projects of this server.

/// The host part of a `did:web` for a server whose public URL is
/// `public_url`: the host, a percent-encoded port, then any path segments
/// joined by `:` (`https://a.example:8443/x` → `a.example%3A8443:x`).
pub fn web_host(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, rest)| rest);
    let rest = rest.trim_end_matches('/');
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut out = authority.replace(':', "%3A");
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push(':');
        out.push_str(segment);
    }
    out
}

/// The URL a `did:web` resolves to, by the method's rules: `:` separates
/// path segments, `%3A` is a port, and a bare host gets `/.well-known`.
pub fn web_document_url(did: &str, scheme: &str) -> Option<String> {
    let id = did.strip_prefix("did:web:")?;
    let mut parts = id.split(':');
    let host = parts.next()?.replace("%3A", ":").replace("%3a", ":");
    let path: Vec<&str> = parts.collect();
    Some(if path.is_empty() {
        format!("{scheme}://{host}/.well-known/did.json")
    } else {
        format!("{scheme}://{host}/{}/did.json", path.join("/"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(web_host("http://localhost:3003"), "localhost%3A3003");
        assert_eq!(web_host("https://api.example.com"), "api.example.com");
        assert_eq!(web_host("https://example.com:8443/basic/"), "example.com%3A8443:basic");
    }

    #[test]
    fn documents_resolve_by_the_did_web_rules() {
        let did = format!("did:web:{}:projects:abc", web_host("http://localhost:3003"));
        assert_eq!(web_document_url(&did, "http").unwrap(), "http://localhost:3003/projects/abc/did.json");
        assert_eq!(
            web_document_url("did:web:example.com", "https").unwrap(),
            "https://example.com/.well-known/did.json"
        );
        assert_eq!(web_document_url("did:key:z6Mk", "https"), None);
    }
}
