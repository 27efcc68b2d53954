//! Entry points for the fuzz targets (`fuzz/`) of what the server parses
//! from requests: bearer JWTs and multipart image uploads. As in
//! `basic_admin_core::fuzzing`, each takes arbitrary bytes and must neither
//! panic nor hang; the regression test replays the corpus through them.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{FromRequest as _, Multipart};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;

use basic_admin_app::auth::claims::{ACCESS_TYP, AccessClaims};
use basic_admin_app::services::uploads::{Kind, inspect};
use basic_admin_app::signing_keys as keys;

const ISSUER: &str = "https://fuzz.example";
const KID: &str = "fuzz";

struct FuzzKeys {
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
}

/// One RSA key per process: generating it is slow.
fn fuzz_keys() -> &'static FuzzKeys {
    static KEYS: OnceLock<FuzzKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let der = private.to_pkcs1_der().expect("PKCS#1");
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        let verifying = DecodingKey::from_rsa_components(&n, &e).expect("public key");
        FuzzKeys {
            signing: EncodingKey::from_rsa_der(der.as_bytes()),
            verifying: HashMap::from([(KID.into(), verifying)]),
        }
    })
}

/// Bearer JWT checks. Input starting with `{` is taken as claims and signed
/// with the right key (so the claim checks are reached); anything else is
/// presented as the token itself.
pub fn jwt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let keys = fuzz_keys();
    let token = if text.starts_with('{') {
        let Ok(claims) = serde_json::from_str::<serde_json::Value>(text) else { return };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.into());
        header.typ = Some(ACCESS_TYP.into());
        jsonwebtoken::encode(&header, &claims, &keys.signing).expect("signing")
    } else {
        text.to_owned()
    };
    if let Ok(claims) = keys::verify_with::<AccessClaims>(&keys.verifying, ISSUER, &token, ACCESS_TYP) {
        assert_eq!(claims.iss, ISSUER, "an accepted token names this issuer");
    }
}

/// An icon upload: the bytes are a `multipart/form-data` body (boundary
/// `fuzz`) read as the upload route reads it, then judged as an image.
pub fn multipart(data: &[u8]) {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"));
    let request = axum::http::Request::builder()
        .method("POST")
        .header("content-type", "multipart/form-data; boundary=fuzz")
        .body(axum::body::Body::from(data.to_vec()))
        .expect("request");
    runtime.block_on(async {
        let Ok(form) = Multipart::from_request(request, &()).await else { return };
        if let Ok(bytes) = crate::routes::uploads::file_part(form, Kind::Icon).await {
            assert!(!bytes.is_empty() && bytes.len() <= Kind::Icon.max_bytes());
            let _ = inspect(&bytes);
        }
    });
}

/// An image judged as uploads are, from raw bytes.
pub fn image(data: &[u8]) {
    let _ = inspect(data);
}
