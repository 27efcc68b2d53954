//! Accounts: the people who sign in here, developers and app users alike.

use std::fmt;

use uuid::Uuid;

use crate::time::Timestamp;

/// An email address as given (its case kept for display); compared and
/// looked up case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountFieldError {
    #[error("enter a valid email address")]
    Email,
    #[error("a username is 2–32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit")]
    Username,
    #[error("a password is at least {MIN_PASSWORD} characters (and at most {MAX_PASSWORD})")]
    Password,
    #[error("a name is at most {MAX_NAME} characters")]
    Name,
}

pub const MIN_PASSWORD: usize = 8;
/// Argon2 hashes anything, but a megabyte "password" is only a way to burn CPU.
pub const MAX_PASSWORD: usize = 256;
pub const MAX_NAME: usize = 100;

impl Email {
    pub fn parse(text: &str) -> Result<Self, AccountFieldError> {
        let text = text.trim();
        let (local, domain) = text.split_once('@').ok_or(AccountFieldError::Email)?;
        let valid = (3..=254).contains(&text.len())
            && !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        valid.then(|| Self(text.to_owned())).ok_or(AccountFieldError::Email)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A username, unique ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, AccountFieldError> {
        let text = text.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        let valid = (2..=32).contains(&text.len())
            && text.chars().all(allowed)
            && text.starts_with(|c: char| c.is_ascii_alphanumeric());
        valid.then(|| Self(text.to_owned())).ok_or(AccountFieldError::Username)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password's length; its strength is the user's business.
pub fn check_password(password: &str) -> Result<(), AccountFieldError> {
    let n = password.chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) { Ok(()) } else { Err(AccountFieldError::Password) }
}

/// Trims a display name and checks its length.
pub fn clean_name(name: &str) -> Result<String, AccountFieldError> {
    let name = name.trim();
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AccountFieldError::Name);
    }
    Ok(name.to_owned())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub username: Option<String>,
    pub name: String,
    /// Argon2id, in PHC string form.
    pub password_hash: String,
    /// When the current email address was proven, if it was.
    pub email_verified_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Account {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// `did:web:<host>:users:<hex id>`, `host` as [`crate::did::web_host`] gives it.
    pub fn did(&self, host: &str) -> String {
        format!("did:web:{host}:users:{}", self.id.simple())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in ["a@b.co", "Jane.Doe+x@Example.COM", "  padded@example.org  "] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
        assert_eq!(Email::parse(" Jane@Example.com ").unwrap().as_str(), "Jane@Example.com");
        for bad in ["", "plain", "@example.com", "a@", "a@b", "a@.b.c", "a b@c.de", "a@b@c.de", "a@b.c."] {
            assert_eq!(Email::parse(bad), Err(AccountFieldError::Email), "{bad}");
        }
    }

    #[test]
    fn usernames() {
        for good in ["jo", "jane_doe", "J.Doe-2"] {
            assert!(Username::parse(good).is_ok(), "{good}");
        }
        for bad in ["j", "_jane", "jane doe", "jané", &"x".repeat(33)] {
            assert_eq!(Username::parse(bad), Err(AccountFieldError::Username), "{bad}");
        }
    }

    #[test]
    fn passwords_and_names() {
        assert!(check_password("12345678").is_ok());
        assert!(check_password("1234567").is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD + 1)).is_err());
        assert_eq!(clean_name("  Ada  ").unwrap(), "Ada");
        assert!(clean_name(&"x".repeat(MAX_NAME + 1)).is_err());
    }
}
