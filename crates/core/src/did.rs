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

/// The project that a `did:web` client id names on the server at
/// `public_url`: `did:web:<host>:projects:<32 hex>`, the host as
/// [`web_host`] writes it or without its port (the app SDK leaves the port
/// out). Anything else names no project of ours.
pub fn project_of_client_did(client_id: &str, public_url: &str) -> Option<uuid::Uuid> {
    let (host, hex) = client_id.strip_prefix("did:web:")?.rsplit_once(":projects:")?;
    let ours = web_host(public_url);
    let portless = match ours.split_once("%3A") {
        Some((name, rest)) => format!("{name}{}", rest.find(':').map_or("", |i| &rest[i..])),
        None => ours.clone(),
    };
    let same_host = host.eq_ignore_ascii_case(&ours) || host.eq_ignore_ascii_case(&portless);
    let hex_id = hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    if !(same_host && hex_id) {
        return None;
    }
    uuid::Uuid::try_parse(hex).ok()
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
    fn client_dids_name_our_projects_only() {
        let id = uuid::Uuid::parse_str("0191f0a8-1d2c-7b3e-9f00-aabbccddeeff").unwrap();
        let hex = id.simple().to_string();
        let ours = |did: &str| project_of_client_did(did, "http://localhost:3003");
        assert_eq!(ours(&format!("did:web:localhost:projects:{hex}")), Some(id), "the SDK drops the port");
        assert_eq!(ours(&format!("did:web:localhost%3A3003:projects:{hex}")), Some(id));
        assert_eq!(ours(&format!("did:web:localhost%3a3003:projects:{hex}")), Some(id));
        assert_eq!(ours(&format!("did:web:evil.example:projects:{hex}")), None);
        assert_eq!(ours(&format!("did:web:localhost%3A3004:projects:{hex}")), None);
        assert_eq!(ours(&format!("did:web:localhost:users:{hex}")), None);
        assert_eq!(ours(&format!("did:web:localhost:projects:{id}")), None, "32 hex, not the dashed form");
        assert_eq!(ours(&format!("did:key:localhost:projects:{hex}")), None);
        let behind_path = |did: &str| project_of_client_did(did, "https://a.example:8443/basic");
        assert_eq!(behind_path(&format!("did:web:a.example:basic:projects:{hex}")), Some(id));
        assert_eq!(behind_path(&format!("did:web:a.example%3A8443:basic:projects:{hex}")), Some(id));
        assert_eq!(behind_path(&format!("did:web:a.example:projects:{hex}")), None);
    }

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
