//! A project's identity towards other servers: its DID document, its client
//! metadata, and the service tokens it signs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use basic_admin_app::services::federation;
use basic_admin_core::did;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, json, on_both_backends};
use crate::world;

on_both_backends!(the_did_document_resolves_and_verifies_service_tokens, client_metadata_follows_the_project);

async fn document(app: &TestApp, path: &str) -> (u16, Value, String) {
    let response = app.get(path).send().await.unwrap();
    let etag = response.headers().get("etag").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let (status, body) = json(response).await;
    (status, body, etag)
}

async fn the_did_document_resolves_and_verifies_service_tokens(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let hex = place.project.simple().to_string();
    let path = format!("/projects/{hex}/did.json");
    let (status, doc, etag) = document(&app, &path).await;
    assert_eq!(status, 200, "{doc}");

    // The DID names this very document by the did:web rules.
    let did_text = doc["id"].as_str().unwrap();
    let public = &app.state.config.public_url;
    assert_eq!(did_text, format!("did:web:{}:projects:{hex}", did::web_host(public)));
    let scheme = public.split_once("://").unwrap().0;
    assert_eq!(did::web_document_url(did_text, scheme).unwrap(), format!("{public}{path}"));

    let method = &doc["verificationMethod"][0];
    let key_id = format!("{did_text}#key-1");
    assert_eq!((method["id"].as_str(), method["type"].as_str()), (Some(key_id.as_str()), Some("Multikey")));
    assert_eq!(method["controller"].as_str(), Some(did_text));
    assert_eq!((doc["authentication"].clone(), doc["assertionMethod"].clone()), (json!([key_id]), json!([key_id])));
    let multibase = method["publicKeyMultibase"].as_str().unwrap();
    assert!(multibase.starts_with("z6Mk"), "{multibase}");
    let decoded = bs58::decode(&multibase[1..]).into_vec().unwrap();
    assert_eq!((&decoded[..2], decoded.len()), (&[0xed, 0x01][..], 34));
    let service = &doc["service"][0];
    assert_eq!(service["type"], "BasicAppMetadata");
    assert_eq!(service["serviceEndpoint"].as_str().unwrap(), format!("{public}/projects/{hex}/client-metadata.json"));

    // The same document by UUID, again (one key), and a 304 for a known ETag.
    let (_, again, _) = document(&app, &format!("/projects/{}/did.json", place.project)).await;
    assert_eq!(again, doc);
    let unchanged = app.get(&path).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(unchanged.status(), 304);
    for missing in [format!("/projects/{}/did.json", Uuid::new_v4().simple()), "/projects/nope/did.json".into()] {
        assert_eq!(document(&app, &missing).await.0, 404, "{missing}");
    }

    // A service token verifies with the published key.
    let lifetime = chrono::Duration::seconds(60);
    let token = federation::service_token(
        &app.state.app,
        place.project,
        "did:web:pds.example",
        Some("com.example.read"),
        lifetime,
    )
    .await
    .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!((header.alg, header.kid.as_deref()), (Algorithm::EdDSA, Some(key_id.as_str())));
    let key = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(&decoded[2..])).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["did:web:pds.example"]);
    validation.set_issuer(&[did_text]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap().claims;
    assert_eq!(claims["lxm"], "com.example.read");
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() == 60);
    // Not with another project's key.
    let other = world::place(&app, &people, true).await;
    let (_, other_doc, _) = document(&app, &format!("/projects/{}/did.json", other.project.simple())).await;
    let other_bytes = bs58::decode(&other_doc["verificationMethod"][0]["publicKeyMultibase"].as_str().unwrap()[1..]);
    let other_key = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(&other_bytes.into_vec().unwrap()[2..]));
    assert!(jsonwebtoken::decode::<Value>(&token, &other_key.unwrap(), &validation).is_err());
}

async fn client_metadata_follows_the_project(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let public = app.state.config.public_url.clone();
    let by_uuid = format!("/projects/{}/client-metadata.json", place.project);
    let by_hex = format!("/projects/{}/client-metadata.json", place.project.simple());

    let (status, metadata, etag) = document(&app, &by_uuid).await;
    assert_eq!(status, 200, "{metadata}");
    assert_eq!(
        metadata,
        json!({
            "client_id": format!("{public}{by_uuid}"),
            "client_name": "App",
            "redirect_uris": ["https://app.example/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "application_type": "web",
            "schema": null,
        })
    );
    assert_eq!(document(&app, &by_hex).await.1["client_id"].as_str().unwrap(), format!("{public}{by_hex}"));
    assert_eq!(app.get(&by_uuid).header("if-none-match", &etag).send().await.unwrap().status(), 304);
    assert_eq!(document(&app, &format!("/projects/{}/client-metadata.json", Uuid::new_v4())).await.0, 404);

    // What developers change shows at once.
    let owner = &people.owner.token;
    let schema = world::first_schema(place.project);
    app.call(owner, "POST", &format!("/project/{}/schema", place.project), Some(json!({"schema": schema}))).await;
    let (_, metadata, _) = document(&app, &by_uuid).await;
    assert_eq!(metadata["schema"], schema);
    let change = json!({"data": {"name": "Renamed", "website": "https://app.example", "profile": {"icon_url": "https://cdn.example/i.png"}}});
    assert_eq!(app.call(owner, "PATCH", &format!("/project/{}", place.project), Some(change)).await.0, 200);
    let redirect = json!({"auth": {"redirect_uris": ["https://app.example/second"]}});
    assert_eq!(app.call(owner, "PATCH", &format!("/project/{}/settings", place.project), Some(redirect)).await.0, 200);
    let (_, metadata, new_etag) = document(&app, &by_hex).await;
    assert_eq!(
        (metadata["client_name"].as_str(), metadata["client_uri"].as_str(), metadata["logo_uri"].as_str()),
        (Some("Renamed"), Some("https://app.example"), Some("https://cdn.example/i.png"))
    );
    assert_eq!(metadata["redirect_uris"], json!(["https://app.example/cb", "https://app.example/second"]));
    assert_ne!(new_etag, etag);
    assert_eq!(app.get(&by_uuid).header("if-none-match", &etag).send().await.unwrap().status(), 200, "a stale ETag");

    // The document's URL is a client_id the sign-in flow accepts.
    let client_id = metadata["client_id"].as_str().unwrap();
    let query = serde_urlencoded::to_string([
        ("client_id", client_id),
        ("redirect_uri", "https://app.example/cb"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s"),
    ])
    .unwrap();
    let authorize = format!("/auth/authorize?{query}");
    assert_eq!(app.get(&authorize).send().await.unwrap().status(), 302);
}
