//! The id of a record in a user's table: chosen by the client when it gives
//! one (the sync protocol makes ids on the device), else made by the server.

use std::fmt;

use uuid::Uuid;

pub const MAX_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ItemIdError {
    #[error("an id is 1 to {MAX_CHARS} characters")]
    Length,
    #[error("an id has no control characters and no `/`")]
    Character,
}

impl ItemId {
    /// Accepts 1 to 128 characters, none a control character or `/` (every
    /// record stays addressable in a URL path).
    pub fn parse(text: &str) -> Result<Self, ItemIdError> {
        if text.is_empty() || text.chars().count() > MAX_CHARS {
            return Err(ItemIdError::Length);
        }
        if text.chars().any(|c| c.is_control() || c == '/') {
            return Err(ItemIdError::Character);
        }
        Ok(Self(text.to_owned()))
    }

    /// A new id: a UUID v7, so that ids the server makes sort by time.
    pub fn generate() -> Self {
        Self(Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_printable_path_segments() {
        assert!(ItemId::parse("0191f0a8-1d2c-7b3e-9f00-aabbccddeeff").is_ok());
        assert!(ItemId::parse("todo 1 ✓").is_ok());
        assert!(ItemId::parse(&"é".repeat(128)).is_ok(), "characters, not bytes");
        assert_eq!(ItemId::parse(""), Err(ItemIdError::Length));
        assert_eq!(ItemId::parse(&"x".repeat(129)), Err(ItemIdError::Length));
        assert_eq!(ItemId::parse("a/b"), Err(ItemIdError::Character));
        assert_eq!(ItemId::parse("a\nb"), Err(ItemIdError::Character));
        let made = ItemId::generate();
        assert!(ItemId::parse(made.as_str()).is_ok());
    }
}
