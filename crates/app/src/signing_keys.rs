//! The JWT signing keys: RS256, generated on first start, sealed with the
//! master key and kept in the database so that every node signs and verifies
//! with the same set. Verification never touches the database: an unknown
//! `kid` only triggers a (rate-limited) reload, which is how a key rotated on
//! another node reaches this one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use basic_admin_core::store::{SigningKeyRecord, Store, StoreError};
use basic_admin_core::time;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use crate::crypto::seal;
use crate::master_key::MasterKey;

/// What sealed signing keys are bound to (the AAD of their sealing).
pub const SEAL_PURPOSE: &str = "jwt-signing-key";
const ALGORITHM: &str = "RS256";
const RSA_BITS: usize = 2048;
/// How often an unknown `kid` may send this node back to the database.
const RELOAD_INTERVAL: Duration = Duration::from_secs(5);
/// How often every node re-reads the keys anyway, so that a rotation made
/// elsewhere (another node, `basic-admin keys rotate`) reaches its signing.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key {0}: {1}")]
    Damaged(String, String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token was signed by a key this server does not know")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
}

struct Keys {
    active_kid: String,
    active: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    jwks: Value,
}

pub struct KeyRing {
    store: Arc<dyn Store>,
    master_key: Arc<MasterKey>,
    /// Keys retired less than this long ago are still published and accepted.
    overlap: Duration,
    issuer: String,
    /// `None` until the first key exists (it is generated in the background
    /// on a first start, so that the server answers at once).
    keys: watch::Sender<Option<Arc<Keys>>>,
    last_reload: std::sync::Mutex<Instant>,
}

impl KeyRing {
    /// Loads the keys. When the database has none yet, the first is
    /// generated in the background (RSA generation can take a second), and
    /// signing and verifying wait for it.
    pub async fn load(
        store: Arc<dyn Store>,
        master_key: Arc<MasterKey>,
        issuer: String,
        overlap: Duration,
    ) -> Result<Arc<Self>, KeyError> {
        let records = store.signing_keys().await?;
        let first_start = records.iter().all(|k| k.retired_at.is_some());
        let keys = if first_start { None } else { Some(Arc::new(build(&records, &master_key, overlap)?)) };
        let ring = Arc::new(Self {
            store,
            master_key,
            overlap,
            issuer,
            keys: watch::Sender::new(keys),
            last_reload: std::sync::Mutex::new(
                Instant::now().checked_sub(RELOAD_INTERVAL).unwrap_or_else(Instant::now),
            ),
        });
        if first_start {
            let this = Arc::clone(&ring);
            tokio::spawn(async move { this.create_first_key().await });
        }
        Ok(ring)
    }

    async fn create_first_key(&self) {
        let record = generate(&self.master_key).await;
        tracing::info!(kid = %record.kid, "generated a JWT signing key");
        let mut record = Some(record);
        loop {
            let result = match record.take() {
                Some(r) => self.store.insert_signing_key(r).await.map_err(KeyError::from),
                None => Ok(()),
            };
            match result.and(Ok(())) {
                Ok(()) => match self.reload().await {
                    Ok(()) => return,
                    Err(e) => tracing::error!(error = %e, "could not load the new signing key; retrying"),
                },
                Err(e) => {
                    tracing::error!(error = %e, "could not store the new signing key; retrying");
                    record = Some(generate(&self.master_key).await);
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Makes a new key the one that signs; the others stay published until
    /// the tokens they signed have expired. Every running node is told to
    /// re-read the keys ([`crate::cache::Change::SigningKeys`]). Returns the new `kid`.
    pub async fn rotate(store: &dyn Store, master_key: &MasterKey) -> Result<String, KeyError> {
        let record = generate(master_key).await;
        let kid = record.kid.clone();
        store.insert_signing_key(record).await?;
        store.retire_signing_keys_except(&kid, time::now()).await?;
        if let Err(e) = store.broadcast(&crate::cache::Change::SigningKeys.message()).await {
            tracing::warn!(error = %e, "could not tell the nodes; they re-read the keys within 30 seconds");
        }
        Ok(kid)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The keys, once there are any.
    async fn current(&self) -> Arc<Keys> {
        if let Some(keys) = self.keys.borrow().clone() {
            return keys;
        }
        let mut ready = self.keys.subscribe();
        let keys = ready.wait_for(Option::is_some).await.expect("the ring holds the sender").clone();
        keys.expect("waited for it")
    }

    /// Re-reads the keys from the database (what other nodes generated or retired).
    pub async fn reload(&self) -> Result<(), KeyError> {
        let keys = build(&self.store.signing_keys().await?, &self.master_key, self.overlap)?;
        self.keys.send_replace(Some(Arc::new(keys)));
        Ok(())
    }

    /// Re-reads the keys every [`REFRESH_INTERVAL`] until the task is aborted.
    pub fn spawn_refresh(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REFRESH_INTERVAL).await;
                if let Err(e) = this.reload().await {
                    tracing::debug!(error = %e, "could not reload the signing keys; will retry");
                }
            }
        })
    }

    /// `{ "keys": [...] }`: every key a valid token may have been signed with.
    pub async fn jwks(&self) -> Value {
        self.current().await.jwks.clone()
    }

    /// Signs `claims` with the active key; `typ` goes in the header.
    pub async fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> String {
        let keys = self.current().await;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(keys.active_kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &keys.active).expect("RS256 signing with a valid key")
    }

    /// Checks signature, issuer, expiry and header `typ`. Never reads the
    /// database unless the `kid` is unknown, and then at most every few seconds.
    pub async fn verify<T: DeserializeOwned>(&self, token: &str, typ: &str) -> Result<T, VerifyError> {
        match self.verify_now(&*self.current().await, token, typ) {
            Err(VerifyError::UnknownKey) if self.may_reload() => {
                if let Err(e) = self.reload().await {
                    tracing::warn!(error = %e, "could not reload the signing keys");
                }
                self.verify_now(&*self.current().await, token, typ)
            }
            other => other,
        }
    }

    fn may_reload(&self) -> bool {
        let mut last = self.last_reload.lock().expect("reload lock");
        if last.elapsed() < RELOAD_INTERVAL {
            return false;
        }
        *last = Instant::now();
        true
    }

    fn verify_now<T: DeserializeOwned>(&self, keys: &Keys, token: &str, typ: &str) -> Result<T, VerifyError> {
        verify_with(&keys.verifying, &self.issuer, token, typ)
    }
}

/// Checks `token` against the keys by `kid`: signature, issuer, expiry and
/// header `typ`.
pub fn verify_with<T: DeserializeOwned>(
    verifying: &HashMap<String, DecodingKey>,
    issuer: &str,
    token: &str,
    typ: &str,
) -> Result<T, VerifyError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
    if header.alg != Algorithm::RS256 || header.typ.as_deref() != Some(typ) {
        return Err(VerifyError::Invalid(format!("expected an RS256 {typ} token")));
    }
    let key = header.kid.as_deref().and_then(|kid| verifying.get(kid)).ok_or(VerifyError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    validation.validate_aud = false;
    validation.leeway = 30;
    jsonwebtoken::decode::<T>(token, key, &validation).map(|data| data.claims).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => VerifyError::Expired,
        _ => VerifyError::Invalid(e.to_string()),
    })
}

/// Generates an RSA key (off the async runtime: it takes a while) and seals it.
async fn generate(master_key: &MasterKey) -> SigningKeyRecord {
    let private = tokio::task::spawn_blocking(|| {
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS).expect("RSA key generation")
    })
    .await
    .expect("the key generation task does not panic");
    let public_jwk = jwk(&private);
    let der = private.to_pkcs1_der().expect("PKCS#1 encoding of a fresh key");
    SigningKeyRecord {
        kid: public_jwk["kid"].as_str().expect("kid").to_owned(),
        algorithm: ALGORITHM.to_owned(),
        sealed_private: seal::seal(master_key, SEAL_PURPOSE, der.as_bytes()),
        public_jwk,
        created_at: time::now(),
        retired_at: None,
    }
}

/// The public JWK, with the RFC 7638 thumbprint as `kid`.
fn jwk(private: &rsa::RsaPrivateKey) -> Value {
    let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    json!({"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": kid, "n": n, "e": e})
}

fn build(records: &[SigningKeyRecord], master_key: &MasterKey, overlap: Duration) -> Result<Keys, KeyError> {
    let now = time::now();
    let published = |r: &&SigningKeyRecord| match r.retired_at {
        None => true,
        Some(at) => now < at + chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::MAX),
    };
    let visible: Vec<&SigningKeyRecord> = records.iter().filter(published).collect();
    // The newest unretired key signs; nodes that raced on first start agree on it.
    let active = visible
        .iter()
        .filter(|r| r.retired_at.is_none())
        .max_by_key(|r| (r.created_at, r.kid.clone()))
        .ok_or_else(|| KeyError::Damaged("-".into(), "no active signing key".into()))?;
    let der = seal::open(master_key, SEAL_PURPOSE, &active.sealed_private)
        .map_err(|e| KeyError::Damaged(active.kid.clone(), e.to_string()))?;
    rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| KeyError::Damaged(active.kid.clone(), e.to_string()))?;
    let mut verifying = HashMap::new();
    for record in &visible {
        let (n, e) = (record.public_jwk["n"].as_str(), record.public_jwk["e"].as_str());
        let key = n
            .zip(e)
            .and_then(|(n, e)| DecodingKey::from_rsa_components(n, e).ok())
            .ok_or_else(|| KeyError::Damaged(record.kid.clone(), "bad public key".into()))?;
        verifying.insert(record.kid.clone(), key);
    }
    Ok(Keys {
        active_kid: active.kid.clone(),
        active: EncodingKey::from_rsa_der(&der),
        verifying,
        jwks: json!({"keys": visible.iter().map(|r| r.public_jwk.clone()).collect::<Vec<_>>()}),
    })
}
