//! Sealing secrets at rest with the master key: AES-256-GCM, a fresh 96-bit
//! nonce per seal, stored as `nonce || ciphertext+tag`. The purpose is bound
//! in as associated data, so a sealed value cannot be moved to another use.

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use secrecy::ExposeSecret as _;

use crate::master_key::MasterKey;

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
#[error("a sealed value could not be opened: wrong master key, or damaged data")]
pub struct OpenError;

pub fn seal(key: &MasterKey, purpose: &str, plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.expose_secret().into());
    let nonce: [u8; NONCE_LEN] = rand::random();
    let sealed = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: purpose.as_bytes() })
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    [nonce.as_slice(), &sealed].concat()
}

pub fn open(key: &MasterKey, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < NONCE_LEN {
        return Err(OpenError);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError)?;
    Aes256Gcm::new(key.expose_secret().into())
        .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: purpose.as_bytes() })
        .map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretBox;

    fn key(byte: u8) -> MasterKey {
        SecretBox::new(Box::new([byte; 32]))
    }

    #[test]
    fn round_trips_and_refuses_the_wrong_key_purpose_or_damage() {
        let sealed = seal(&key(1), "jwt", b"private key");
        assert_ne!(&sealed[NONCE_LEN..], b"private key");
        assert_eq!(open(&key(1), "jwt", &sealed).unwrap(), b"private key");
        assert!(open(&key(2), "jwt", &sealed).is_err());
        assert!(open(&key(1), "did", &sealed).is_err());
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(open(&key(1), "jwt", &damaged).is_err());
        assert!(open(&key(1), "jwt", b"short").is_err());
        assert_ne!(seal(&key(1), "jwt", b"x"), seal(&key(1), "jwt", b"x"), "fresh nonces");
    }
}
