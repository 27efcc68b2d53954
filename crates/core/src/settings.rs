//! Project settings: what may be set, and the rules for each value.
//!
//! The only setting today is `auth.redirect_uris`: where the project's app
//! may receive sign-in codes. At most [`MAX_REDIRECT_URIS`] absolute URIs,
//! without fragments; `https`, `http` only for loopback hosts (local
//! development), or a private-use scheme with a dot (`com.example.app:/cb`,
//! for native apps, RFC 8252).

use serde_json::{Map, Value, json};

pub const MAX_REDIRECT_URIS: usize = 10;
const MAX_URI_LEN: usize = 2000;

/// A rejected setting: which field, and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub field: String,
    pub validation_errors: Vec<String>,
}

impl SettingsError {
    fn new(field: &str, error: impl Into<String>) -> Self {
        Self { field: field.to_owned(), validation_errors: vec![error.into()] }
    }
}

/// The redirect URIs of a settings document (none when unset).
pub fn redirect_uris(settings: &Value) -> Vec<String> {
    settings["auth"]["redirect_uris"]
        .as_array()
        .map(|uris| uris.iter().filter_map(|u| u.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Settings as clients see them: every known setting present.
pub fn normalized(settings: &Value) -> Value {
    json!({"auth": {"redirect_uris": redirect_uris(settings)}})
}

/// The redirect URIs a change body names: `{auth: {redirect_uris: [...]}}`,
/// nothing else allowed.
pub fn parse_change(body: &Value) -> Result<Vec<String>, SettingsError> {
    let Some(top) = body.as_object() else { return Err(SettingsError::new("", "settings must be a JSON object")) };
    if let Some(unknown) = top.keys().find(|k| *k != "auth") {
        return Err(SettingsError::new(unknown, format!("unknown setting {unknown:?}")));
    }
    let Some(auth) = top.get("auth") else { return Ok(Vec::new()) };
    let Some(auth) = auth.as_object() else { return Err(SettingsError::new("auth", "auth must be an object")) };
    if let Some(unknown) = auth.keys().find(|k| *k != "redirect_uris") {
        let field = format!("auth.{unknown}");
        return Err(SettingsError::new(&field, format!("unknown setting {field:?}")));
    }
    let Some(uris) = auth.get("redirect_uris") else { return Ok(Vec::new()) };
    let Some(uris) = uris.as_array() else {
        return Err(SettingsError::new("auth.redirect_uris", "redirect_uris must be an array of strings"));
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for uri in uris {
        match uri.as_str() {
            Some(uri) => match check_redirect_uri(uri) {
                Ok(()) => out.push(uri.to_owned()),
                Err(e) => errors.push(format!("{uri}: {e}")),
            },
            None => errors.push(format!("{uri} is not a string")),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(SettingsError { field: "auth.redirect_uris".into(), validation_errors: errors })
    }
}

/// `current` with `added` appended (each once, in order), or an error when
/// that makes too many.
pub fn add_redirect_uris(current: &Value, added: &[String]) -> Result<Value, SettingsError> {
    let mut uris = redirect_uris(current);
    for uri in added {
        if !uris.contains(uri) {
            uris.push(uri.clone());
        }
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(SettingsError::new(
            "auth.redirect_uris",
            format!("at most {MAX_REDIRECT_URIS} redirect URIs (this would make {})", uris.len()),
        ));
    }
    Ok(with_redirect_uris(current, uris))
}

/// `current` without `removed`.
pub fn remove_redirect_uris(current: &Value, removed: &[String]) -> Value {
    let uris = redirect_uris(current).into_iter().filter(|u| !removed.contains(u)).collect();
    with_redirect_uris(current, uris)
}

fn with_redirect_uris(current: &Value, uris: Vec<String>) -> Value {
    let mut settings = current.as_object().cloned().unwrap_or_default();
    let auth = settings.entry("auth").or_insert_with(|| Value::Object(Map::new()));
    if !auth.is_object() {
        *auth = Value::Object(Map::new());
    }
    auth.as_object_mut().expect("an object").insert("redirect_uris".into(), json!(uris));
    Value::Object(settings)
}

pub fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri.len() > MAX_URI_LEN || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("not a valid URI");
    }
    if uri.contains('#') {
        return Err("a redirect URI cannot have a fragment");
    }
    let (scheme, rest) = uri.split_once(':').ok_or("must be an absolute URI")?;
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err("must be an absolute URI");
    }
    let host = || {
        let authority = rest.strip_prefix("//")?.split(['/', '?']).next()?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if authority.starts_with('[') {
            authority.split_once(']').map(|(h, _)| format!("{h}]"))?
        } else {
            authority.split(':').next()?.to_owned()
        };
        (!host.is_empty()).then_some(host)
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => host().map(drop).ok_or("an https URI needs a host"),
        "http" => match host().as_deref() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(()),
            Some(_) => Err("http is only allowed for localhost and 127.0.0.1; use https"),
            None => Err("an http URI needs a host"),
        },
        "javascript" | "data" | "file" | "vbscript" | "blob" => Err("this scheme cannot receive a redirect"),
        s if s.contains('.') => Ok(()),
        _ => Err("use https, http on localhost, or a private-use scheme such as com.example.app"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for good in [
            "https://app.example/callback",
            "https://app.example:8443/cb?x=1",
            "http://localhost:8080/callback",
            "http://127.0.0.1/cb",
            "http://[::1]:3000/cb",
            "com.example.app:/oauth",
        ] {
            assert_eq!(check_redirect_uri(good), Ok(()), "{good}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "/relative",
            "javascript:alert(1)",
            "myapp://cb",
            "https:///nohost",
            "https://a b.example",
            "",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changes_are_strict_about_their_shape() {
        assert_eq!(
            parse_change(&json!({"auth": {"redirect_uris": ["https://a.example/cb"]}})).unwrap(),
            ["https://a.example/cb"]
        );
        assert_eq!(parse_change(&json!({})).unwrap(), Vec::<String>::new());
        assert_eq!(parse_change(&json!({"webhooks": {}})).unwrap_err().field, "webhooks");
        assert_eq!(parse_change(&json!({"auth": {"scopes": []}})).unwrap_err().field, "auth.scopes");
        let err = parse_change(&json!({"auth": {"redirect_uris": ["http://evil.example", 5]}})).unwrap_err();
        assert_eq!(err.field, "auth.redirect_uris");
        assert_eq!(err.validation_errors.len(), 2);
    }

    #[test]
    fn adding_merges_and_caps_removing_filters() {
        let current = json!({"auth": {"redirect_uris": ["https://a.example/1"]}});
        let added = add_redirect_uris(&current, &["https://a.example/2".into(), "https://a.example/1".into()]).unwrap();
        assert_eq!(redirect_uris(&added), ["https://a.example/1", "https://a.example/2"]);
        let many: Vec<String> = (10..19).map(|i| format!("https://a.example/{i}")).collect();
        assert!(add_redirect_uris(&added, &many).is_err());
        let removed = remove_redirect_uris(&added, &["https://a.example/1".into()]);
        assert_eq!(normalized(&removed), json!({"auth": {"redirect_uris": ["https://a.example/2"]}}));
        assert_eq!(normalized(&json!({})), json!({"auth": {"redirect_uris": []}}));
    }
}
