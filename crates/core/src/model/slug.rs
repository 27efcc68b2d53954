//! Slugs: the URL-friendly names of teams and projects.
//!
//! A slug is 1–64 characters of lowercase ASCII letters, digits and single
//! hyphens, with no hyphen at either end. `slugify` turns any text into one,
//! folding accented and non-Latin letters to ASCII first (`Café` → `cafe`).

use std::fmt;

pub const MAX_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("a slug cannot be empty")]
    Empty,
    #[error("a slug is at most {MAX_LEN} characters long")]
    TooLong,
    #[error(
        "a slug may contain only lowercase letters, digits and single hyphens, and cannot start or end with a hyphen"
    )]
    Invalid,
}

/// A valid slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    /// Accepts `text` only if it is already a slug; nothing is changed.
    pub fn parse(text: &str) -> Result<Self, SlugError> {
        if text.is_empty() {
            return Err(SlugError::Empty);
        }
        if text.len() > MAX_LEN {
            return Err(SlugError::TooLong);
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !text.chars().all(allowed) || text.starts_with('-') || text.ends_with('-') || text.contains("--") {
            return Err(SlugError::Invalid);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Turns any text into a slug, or `None` when it holds no letter or digit
/// that survives the folding to ASCII.
pub fn slugify(text: &str) -> Option<Slug> {
    let ascii = deunicode::deunicode(text);
    let mut out = String::with_capacity(ascii.len().min(MAX_LEN));
    let mut pending_hyphen = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_hyphen && !out.is_empty() {
                if out.len() + 1 >= MAX_LEN {
                    break;
                }
                out.push('-');
            }
            pending_hyphen = false;
            if out.len() >= MAX_LEN {
                break;
            }
            out.push(c.to_ascii_lowercase());
        } else if c != '\'' {
            // Apostrophes vanish ("Don't" → "dont"); every other run of
            // separators becomes one hyphen.
            pending_hyphen = true;
        }
    }
    (!out.is_empty()).then_some(Slug(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugify_examples() {
        let cases = [
            ("Hello World!", "hello-world"),
            ("Café", "cafe"),
            ("  --Many   spaces -- and___underscores  ", "many-spaces-and-underscores"),
            ("Don't stop", "dont-stop"),
            ("already-a-slug", "already-a-slug"),
            ("MiXeD 123", "mixed-123"),
            ("Ñandú über straße", "nandu-uber-strasse"),
        ];
        for (text, expected) in cases {
            assert_eq!(slugify(text).unwrap().as_str(), expected, "slugify({text:?})");
        }
    }

    #[test]
    fn slugify_without_letters_gives_none() {
        assert_eq!(slugify(""), None);
        assert_eq!(slugify("!!! ---"), None);
    }

    #[test]
    fn slugify_truncates_without_trailing_hyphen() {
        let text = format!("{} b", "a".repeat(63));
        let slug = slugify(&text).unwrap();
        assert_eq!(slug.as_str(), "a".repeat(63));
        assert_eq!(slugify(&"x".repeat(200)).unwrap().as_str().len(), MAX_LEN);
    }

    #[test]
    fn parse_accepts_only_slugs() {
        assert!(Slug::parse("a").is_ok());
        assert!(Slug::parse("my-team-2").is_ok());
        assert_eq!(Slug::parse(""), Err(SlugError::Empty));
        assert_eq!(Slug::parse(&"a".repeat(65)), Err(SlugError::TooLong));
        for bad in ["-a", "a-", "a--b", "A", "a b", "a_b", "é"] {
            assert_eq!(Slug::parse(bad), Err(SlugError::Invalid), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn slugify_always_gives_a_valid_slug(text in any::<String>()) {
            if let Some(slug) = slugify(&text) {
                prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
            }
        }

        #[test]
        fn slugify_is_identity_on_slugs(text in "[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,4}") {
            prop_assert_eq!(slugify(&text).map(Slug::into_inner), Some(text));
        }

        #[test]
        fn slugify_is_idempotent(text in any::<String>()) {
            if let Some(slug) = slugify(&text) {
                prop_assert_eq!(slugify(slug.as_str()), Some(slug));
            }
        }
    }
}
