//! The master key: 256 bits that seal the server's signing keys at rest.
//!
//! Taken from `BASIC_MASTER_KEY` (base64 or hex) when set — every node of a
//! cluster must share it — or else from `master.key` in the data folder,
//! which is generated on first start with mode 0600.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret as _, SecretBox, SecretString};

pub const FILE_NAME: &str = "master.key";
pub const LEN: usize = 32;

pub type MasterKey = SecretBox<[u8; LEN]>;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("BASIC_MASTER_KEY must be {LEN} bytes in base64 or hex")]
    BadEnvironment,
    #[error("the master key file {0} is damaged: it must hold {LEN} bytes in base64")]
    BadFile(String),
    #[error("cannot read or create the master key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// The key from the environment, or from the data folder (created if absent).
pub fn load(from_env: Option<&SecretString>, data_dir: &Path) -> Result<MasterKey, MasterKeyError> {
    if let Some(text) = from_env {
        return decode(text.expose_secret()).ok_or(MasterKeyError::BadEnvironment);
    }
    let path = data_dir.join(FILE_NAME);
    let shown = path.display().to_string();
    let io = |source| MasterKeyError::Io { path: shown.clone(), source };
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
        Ok(mut file) => {
            let key: [u8; LEN] = rand::random();
            file.write_all(format!("{}\n", STANDARD.encode(key)).as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            tracing::info!(path = %shown, "generated a new master key");
            Ok(SecretBox::new(Box::new(key)))
        }
        // Another node or an earlier start made it: use that one.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(&path).map_err(io)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %shown, mode = format!("{mode:o}"), "the master key file is readable by others");
            }
            let text = std::fs::read_to_string(&path).map_err(io)?;
            decode(&text).ok_or(MasterKeyError::BadFile(shown))
        }
        Err(e) => Err(io(e)),
    }
}

fn decode(text: &str) -> Option<MasterKey> {
    let text = text.trim();
    let bytes = if text.len() == LEN * 2 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..LEN).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()).collect::<Option<Vec<u8>>>()?
    } else {
        STANDARD.decode(text).ok()?
    };
    let key: [u8; LEN] = bytes.try_into().ok()?;
    Some(SecretBox::new(Box::new(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_with_private_mode_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load(None, dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(FILE_NAME)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = load(None, dir.path()).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
    }

    #[test]
    fn environment_wins_and_accepts_base64_or_hex() {
        let dir = tempfile::tempdir().unwrap();
        let hex = "ab".repeat(LEN);
        let key = load(Some(&SecretString::from(hex)), dir.path()).unwrap();
        assert_eq!(key.expose_secret(), &[0xab; LEN]);
        assert!(!dir.path().join(FILE_NAME).exists(), "no file when the environment gives the key");
        let b64 = STANDARD.encode([7u8; LEN]);
        assert_eq!(load(Some(&SecretString::from(b64)), dir.path()).unwrap().expose_secret(), &[7; LEN]);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let short = SecretString::from(STANDARD.encode([1u8; 16]));
        assert!(matches!(load(Some(&short), dir.path()), Err(MasterKeyError::BadEnvironment)));
        std::fs::write(dir.path().join(FILE_NAME), "not a key").unwrap();
        assert!(matches!(load(None, dir.path()), Err(MasterKeyError::BadFile(_))));
    }
}
