//! Small cryptographic building blocks, each on a well-known crate.

pub mod password;
pub mod seal;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// A fresh secret: 256 random bits, base64url without padding (43 characters).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The form in which tokens and codes are stored: a SHA-256, in hex. High-entropy
/// secrets need no salt or stretching; a leaked table cannot be replayed.
pub fn token_hash(token: &str) -> String {
    token_hash_bytes(token.as_bytes())
}

/// [`token_hash`] of any bytes.
pub fn token_hash_bytes(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut text = String::with_capacity(digest.len() * 2);
    for byte in digest {
        text.push(HEX[usize::from(byte >> 4)] as char);
        text.push(HEX[usize::from(byte & 0xf)] as char);
    }
    text
}

/// A secret derived from `input` under `key` for one `purpose`
/// (HMAC-SHA-256, base64url): the same input gives the same secret, and no
/// one without the key can compute it.
pub fn derived_token(key: &[u8], purpose: &str, input: &str) -> String {
    use hmac::{Hmac, Mac as _};
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac.update(input.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Equality that takes the same time wherever the first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed_stably() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"sane"));
        let derived = derived_token(b"key", "purpose", "input");
        assert_eq!(derived.len(), 43);
        assert_eq!(derived, derived_token(b"key", "purpose", "input"), "stable");
        assert_ne!(derived, derived_token(b"other", "purpose", "input"));
        assert_ne!(derived, derived_token(b"key", "other", "input"));
        assert_ne!(derived, derived_token(b"key", "purposei", "nput"), "purpose and input stay apart");
        assert!(!constant_time_eq(b"same", b"same!"));
    }
}
