//! A project's identity towards other servers: an Ed25519 key, published in
//! a `did:web` DID document, the OAuth client metadata that personal data
//! servers read, and short-lived service tokens signed as the project.

use basic_admin_core::did;
use basic_admin_core::store::{IdentityKey, Project};
use basic_admin_core::time;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{access, projects};
use crate::Context;
use crate::crypto::seal;
use crate::error::{AppError, AppResult, Thing};

/// The multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed as a varint).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// The fragment naming the project's key in its DID document.
const KEY_FRAGMENT: &str = "key-1";

/// What a project's sealed identity key is bound to.
pub fn seal_purpose(project: Uuid) -> String {
    format!("project-identity:{project}")
}

/// The project's DID: `did:web:<host>:projects:<hex id>`.
pub fn did_of(ctx: &Context, project: Uuid) -> String {
    format!("did:web:{}:projects:{}", did::web_host(&ctx.settings.public_url), project.simple())
}

/// `publicKeyMultibase` of a Multikey: base58btc (`z`) of the multicodec
/// prefix and the key.
pub fn multibase(public_key: &[u8]) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(public_key);
    format!("z{}", bs58::encode(bytes).into_string())
}

/// The project's identity key, made on first use (projects created before
/// keys existed get theirs lazily; two nodes racing agree on one).
pub async fn identity_key(ctx: &Context, project: Uuid) -> AppResult<IdentityKey> {
    if let Some(key) = ctx.store.identity_key(project).await? {
        return Ok(key);
    }
    let signing = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let key = IdentityKey {
        project_id: project,
        public_key: signing.verifying_key().to_bytes().to_vec(),
        sealed_private: seal::seal(&ctx.master_key, &seal_purpose(project), signing.as_bytes()),
        created_at: time::now(),
    };
    Ok(ctx.store.create_identity_key(key).await?)
}

/// The W3C DID document of a project (by UUID or hex id).
pub async fn did_document(ctx: &Context, project: &Project) -> AppResult<Value> {
    let key = identity_key(ctx, project.id).await?;
    let did = did_of(ctx, project.id);
    let key_id = format!("{did}#{KEY_FRAGMENT}");
    Ok(json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": key_id,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multibase(&key.public_key),
        }],
        "authentication": [key_id],
        "assertionMethod": [key_id],
        "service": [{
            "id": format!("{did}#basic-app"),
            "type": "BasicAppMetadata",
            "serviceEndpoint": metadata_url(ctx, project.id, true),
        }],
    }))
}

/// Where the project's client metadata lives, in the id form asked for.
pub fn metadata_url(ctx: &Context, project: Uuid, hex: bool) -> String {
    let id = if hex { project.simple().to_string() } else { project.to_string() };
    format!("{}/projects/{id}/client-metadata.json", ctx.settings.public_url)
}

/// The project as an OAuth client, for personal data servers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ClientMetadata {
    /// This document's own URL.
    pub client_id: String,
    pub client_name: String,
    /// The project's website; left out when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub client_uri: Option<String>,
    /// The project's icon, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub logo_uri: Option<String>,
    /// The project's `settings.auth.redirect_uris`.
    pub redirect_uris: Vec<String>,
    pub grant_types: [&'static str; 2],
    pub response_types: [&'static str; 1],
    pub application_type: &'static str,
    /// The latest published schema, or null.
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Value>,
}

pub async fn client_metadata(ctx: &Context, project: &Project, hex: bool) -> AppResult<ClientMetadata> {
    let schema = ctx.store.latest_schema(project.id).await?.map(|v| v.schema);
    Ok(ClientMetadata {
        client_id: metadata_url(ctx, project.id, hex),
        client_name: project.name.clone(),
        client_uri: project.website.clone(),
        logo_uri: project.profile.get("icon_url").and_then(Value::as_str).map(str::to_owned),
        redirect_uris: basic_admin_core::settings::redirect_uris(&project.settings),
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        application_type: "web",
        schema,
    })
}

/// A public project document's project, by UUID or hex id: whether the hex
/// form was used too.
/// The project id a public document's path names (its UUID or hex form);
/// whether the project exists is known only once it is read.
pub fn public_id(id: &str) -> AppResult<Uuid> {
    access::parse_id(id, Thing::Project)
}

pub async fn public_project(ctx: &Context, id: &str) -> AppResult<(Project, bool)> {
    let project = projects::public(ctx, id).await?;
    Ok((project, !id.contains('-')))
}

#[derive(Serialize)]
struct ServiceClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    /// The one method the token may call (as AT Protocol service auth has it).
    #[serde(skip_serializing_if = "Option::is_none")]
    lxm: Option<&'a str>,
}

/// A short-lived token that says "this is the project" to another server
/// (`aud`, e.g. a user's PDS), signed with the project's key: EdDSA, `iss`
/// the project's DID, `kid` its verification method.
pub async fn service_token(
    ctx: &Context,
    project: Uuid,
    audience: &str,
    method: Option<&str>,
    lifetime: chrono::Duration,
) -> AppResult<String> {
    let key = identity_key(ctx, project).await?;
    let seed = seal::open(&ctx.master_key, &seal_purpose(project), &key.sealed_private)
        .map_err(|e| AppError::internal(format!("the project's identity key cannot be opened: {e}")))?;
    let seed: [u8; 32] = seed.try_into().map_err(|_| AppError::internal("an identity key is not 32 bytes"))?;
    let der = SigningKey::from_bytes(&seed).to_pkcs8_der().map_err(AppError::internal)?;
    let did = did_of(ctx, project);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(format!("{did}#{KEY_FRAGMENT}"));
    let now = time::now().timestamp();
    let claims = ServiceClaims {
        iss: &did,
        aud: audience,
        iat: now,
        exp: now + lifetime.num_seconds(),
        jti: Uuid::new_v4().to_string(),
        lxm: method,
    };
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(der.as_bytes())).map_err(AppError::internal)
}
