//! Project API keys: their format and their roles.
//!
//! A key reads `bsk_<key id>_<secret>`: the fixed prefix lets secret
//! scanners find leaked keys; the key id (the key's UUID, 32 hex digits) is
//! not secret and finds the stored record; the secret is 43 base62
//! characters (256 bits), of which only a hash is stored.

use std::collections::BTreeSet;
use std::fmt;

use uuid::Uuid;

pub const PREFIX: &str = "bsk_";
pub const SECRET_LEN: usize = 43;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A key as presented: well formed, not yet checked against the store.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedKey {
    pub id: Uuid,
    pub secret: String,
}

impl fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedKey").field("id", &self.id).field("secret", &"***").finish()
    }
}

impl PresentedKey {
    /// `None` for anything that is not a key in the format: such input is
    /// refused before any lookup.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let id_ok = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        let secret_ok = secret.len() == SECRET_LEN && secret.bytes().all(|b| b.is_ascii_alphanumeric());
        if !(id_ok && secret_ok) {
            return None;
        }
        Some(Self { id: Uuid::try_parse(id).ok()?, secret: secret.to_owned() })
    }

    /// A new key for `id`, with a fresh secret from `random` (uniform bytes).
    pub fn generate(id: Uuid, mut random: impl FnMut() -> u8) -> Self {
        let mut secret = String::with_capacity(SECRET_LEN);
        while secret.len() < SECRET_LEN {
            // Rejection sampling keeps every character equally likely.
            let byte = random();
            if (byte as usize) < 248 {
                secret.push(BASE62[byte as usize % 62] as char);
            }
        }
        Self { id, secret }
    }

    /// The full key, as shown to its owner once.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}{}_{}", self.id.simple(), self.secret)
    }
}

/// What a key may do in its project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyRole {
    /// Everything in the project.
    Admin,
    /// Every read.
    Read,
    ProjectRead,
    ProjectWrite,
    SchemaRead,
    SchemaWrite,
    KeysRead,
    KeysWrite,
    UsersRead,
    UsersWrite,
    DataRead,
    DataWrite,
    UploadWrite,
}

impl KeyRole {
    pub const ALL: [KeyRole; 13] = [
        KeyRole::Admin,
        KeyRole::Read,
        KeyRole::ProjectRead,
        KeyRole::ProjectWrite,
        KeyRole::SchemaRead,
        KeyRole::SchemaWrite,
        KeyRole::KeysRead,
        KeyRole::KeysWrite,
        KeyRole::UsersRead,
        KeyRole::UsersWrite,
        KeyRole::DataRead,
        KeyRole::DataWrite,
        KeyRole::UploadWrite,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeyRole::Admin => "admin",
            KeyRole::Read => "read",
            KeyRole::ProjectRead => "project:read",
            KeyRole::ProjectWrite => "project:write",
            KeyRole::SchemaRead => "schema:read",
            KeyRole::SchemaWrite => "schema:write",
            KeyRole::KeysRead => "keys:read",
            KeyRole::KeysWrite => "keys:write",
            KeyRole::UsersRead => "users:read",
            KeyRole::UsersWrite => "users:write",
            KeyRole::DataRead => "data:read",
            KeyRole::DataWrite => "data:write",
            KeyRole::UploadWrite => "upload:write",
        }
    }

    /// The roles a public key may hold. A public key is embedded in web
    /// pages, where anyone can read it: it may see what the project shows
    /// the world anyway, never users, their data or other keys.
    pub fn allowed_in_public_key(self) -> bool {
        matches!(self, KeyRole::ProjectRead | KeyRole::SchemaRead)
    }

    /// Roles that only read: the `read` role holds every one of them.
    pub fn reads_only(self) -> bool {
        matches!(
            self,
            KeyRole::Read
                | KeyRole::ProjectRead
                | KeyRole::SchemaRead
                | KeyRole::KeysRead
                | KeyRole::UsersRead
                | KeyRole::DataRead
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RolesError {
    #[error("give at least one role")]
    Empty,
    #[error(
        "unknown role {0:?}; roles are: admin, read, project:read|write, schema:read|write, keys:read|write, users:read|write, data:read|write, upload:write"
    )]
    Unknown(String),
    #[error(
        "a public key may only hold project:read and schema:read, not {0:?}: a public key is readable by anyone who loads the page"
    )]
    NotForPublicKey(String),
}

/// A key's roles: parsed from a comma-separated list (white space ignored,
/// repeats collapsed), kept in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRoles(BTreeSet<KeyRole>);

impl KeyRoles {
    pub fn parse(text: &str, private: bool) -> Result<Self, RolesError> {
        let mut roles = BTreeSet::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let role = KeyRole::ALL
                .into_iter()
                .find(|r| r.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| RolesError::Unknown(name.to_owned()))?;
            if !private && !role.allowed_in_public_key() {
                return Err(RolesError::NotForPublicKey(name.to_owned()));
            }
            roles.insert(role);
        }
        if roles.is_empty() {
            return Err(RolesError::Empty);
        }
        Ok(Self(roles))
    }

    pub fn contains(&self, role: KeyRole) -> bool {
        self.0.contains(&role)
    }

    /// Whether these roles include what `role` allows: `admin` holds every
    /// role, `read` every role that only reads.
    pub fn holds(&self, role: KeyRole) -> bool {
        self.contains(KeyRole::Admin) || self.contains(role) || (role.reads_only() && self.contains(KeyRole::Read))
    }

    /// Whether these roles hold every one of `other`'s: a key may hand on
    /// (or act on a key with) no more than it holds itself.
    pub fn covers(&self, other: &KeyRoles) -> bool {
        other.0.iter().all(|role| self.holds(*role))
    }

    /// `a,b,c`, as stored and shown.
    pub fn to_list(&self) -> String {
        self.0.iter().map(|r| r.name()).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_round_trip_and_malformed_ones_are_refused() {
        let mut n = 0u8;
        let key = PresentedKey::generate(Uuid::new_v4(), || {
            n = n.wrapping_add(37);
            n
        });
        let text = key.reveal();
        assert!(text.starts_with("bsk_") && text.len() == 4 + 32 + 1 + SECRET_LEN);
        assert_eq!(PresentedKey::parse(&text), Some(key.clone()));
        assert!(!format!("{key:?}").contains(&key.secret), "Debug hides the secret");
        for bad in [
            "",
            "bsk_",
            &text[..text.len() - 1],
            &text.replacen("bsk_", "bsx_", 1),
            &format!("{text}x"),
            &text.replace('_', "-"),
            &format!("bsk_{}_{}", "G".repeat(32), "a".repeat(SECRET_LEN)),
            &format!("bsk_{}_{}", "a".repeat(32), "!".repeat(SECRET_LEN)),
            "eyJhbGciOi.eyJzdWIi.sig",
        ] {
            assert_eq!(PresentedKey::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn roles_parse_with_spaces_repeats_and_case() {
        let roles = KeyRoles::parse(" data:read, schema:write ,DATA:READ,", true).unwrap();
        assert_eq!(roles.to_list(), "schema:write,data:read");
        assert!(roles.contains(KeyRole::SchemaWrite) && !roles.contains(KeyRole::Admin));
        assert_eq!(KeyRoles::parse("", true), Err(RolesError::Empty));
        assert_eq!(KeyRoles::parse("read, root", true), Err(RolesError::Unknown("root".into())));
        assert_eq!(KeyRoles::parse("read,data:write", false), Err(RolesError::NotForPublicKey("read".into())));
        assert_eq!(
            KeyRoles::parse("project:read,data:read", false),
            Err(RolesError::NotForPublicKey("data:read".into()))
        );
        assert!(KeyRoles::parse("project:read,schema:read", false).is_ok());
    }

    #[test]
    fn a_key_covers_what_it_holds_and_nothing_more() {
        let roles = |text: &str| KeyRoles::parse(text, true).unwrap();
        assert!(roles("admin").covers(&roles("admin,keys:write,data:write")));
        assert!(roles("read").covers(&roles("data:read,keys:read,project:read")));
        assert!(!roles("read").covers(&roles("data:write")));
        assert!(roles("keys:write,data:read").covers(&roles("keys:write")));
        assert!(!roles("keys:write").covers(&roles("admin")));
        assert!(!roles("keys:write").covers(&roles("read")));
        assert!(!roles("keys:write,data:read").covers(&roles("read")), "one read role is not every read");
    }

    proptest! {
        #[test]
        fn generated_keys_always_parse(id in any::<u128>(), bytes in prop::collection::vec(any::<u8>(), 64..256)) {
            let mut it = bytes.into_iter().cycle();
            let key = PresentedKey::generate(Uuid::from_u128(id), || it.next().unwrap());
            prop_assert_eq!(PresentedKey::parse(&key.reveal()), Some(key));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,120}") {
            let _ = PresentedKey::parse(&text);
        }
    }
}
