//! Project API keys, as developers manage them.

use serde_json::{Value, json};

use crate::harness::{TestApp, on_both_backends};
use crate::world::{self, Actor};

on_both_backends!(keys_are_created_listed_changed_regenerated_and_deleted, keys_are_checked, keys_are_verified);

async fn call(app: &TestApp, actor: &Actor, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    app.call(&actor.token, method, path, body).await
}

async fn keys_are_created_listed_changed_regenerated_and_deleted(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let base = format!("/project/{}/key", place.project);
    let owner = &people.owner;

    let (status, created) =
        call(&app, owner, "POST", &base, Some(json!({"label": " CI ", "roles": "schema:write, read,read"}))).await;
    assert_eq!(status, 200, "{created}");
    let key = &created["key"];
    assert_eq!(
        (key["label"].as_str(), key["roles"].as_str(), key["is_private"].as_bool()),
        (Some("CI"), Some("read,schema:write"), Some(true))
    );
    let value = key["value"].as_str().unwrap().to_owned();
    let id = key["id"].as_str().unwrap().to_owned();
    assert!(value.starts_with(&format!("bsk_{}_", id.replace('-', ""))), "{value}");
    assert_eq!(value.len(), 4 + 32 + 1 + 43);

    // The value is never shown again, nor stored.
    let (_, list) = call(&app, owner, "GET", &base, None).await;
    let listed = list["data"].as_array().unwrap().iter().find(|k| k["id"] == id.as_str()).unwrap().clone();
    assert!(listed.get("value").is_none() && listed.get("last_used").is_none());
    let (status, shown) = call(&app, &people.member, "GET", &format!("{base}/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(shown["key"].get("value").is_none());
    let stored = app.state.app.store.key_by_id(uuid::Uuid::parse_str(&id).unwrap()).await.unwrap().unwrap();
    let secret = value.rsplit('_').next().unwrap();
    assert!(!String::from_utf8_lossy(&stored.secret_hash).contains(secret), "only a hash is kept");

    let (status, changed) =
        call(&app, &people.admin, "PATCH", &format!("{base}/{id}"), Some(json!({"roles": "admin"}))).await;
    assert_eq!(
        (status, changed["key"]["roles"].as_str(), changed["key"]["label"].as_str()),
        (200, Some("admin"), Some("CI"))
    );

    let (status, regenerated) = call(&app, owner, "POST", &format!("{base}/{id}/regenerate"), None).await;
    assert_eq!(status, 200);
    let new_value = regenerated["key"]["value"].as_str().unwrap();
    assert_ne!(new_value, value);
    assert_eq!(
        (regenerated["key"]["id"].as_str(), regenerated["key"]["roles"].as_str()),
        (Some(id.as_str()), Some("admin"))
    );
    let restored = app.state.app.store.key_by_id(stored.id).await.unwrap().unwrap();
    assert_ne!(restored.secret_hash, stored.secret_hash, "the old secret's hash is gone");

    let (status, body) = call(&app, owner, "DELETE", &format!("{base}/{id}"), None).await;
    assert_eq!((status, body["message"].is_string()), (200, true));
    assert_eq!(call(&app, owner, "GET", &format!("{base}/{id}"), None).await.0, 404);
    assert_eq!(call(&app, owner, "DELETE", &format!("{base}/{id}"), None).await.0, 404);
}

async fn keys_are_checked(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let other = world::place(&app, &people, true).await;
    let base = format!("/project/{}/key", place.project);
    let owner = &people.owner;
    let cases = [
        (json!({"label": "x", "roles": "superuser"}), "invalid_roles"),
        (json!({"label": "x", "roles": " , "}), "invalid_roles"),
        (json!({"label": "", "roles": "read"}), "invalid_label"),
        (json!({"label": "browser", "roles": "read,data:write", "is_private": false}), "invalid_roles"),
    ];
    for (body, code) in cases {
        let (status, answer) = call(&app, owner, "POST", &base, Some(body.clone())).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some(code)), "{body}: {answer}");
    }
    let (status, public) = call(
        &app,
        owner,
        "POST",
        &base,
        Some(json!({"label": "browser", "roles": "project:read,schema:read", "is_private": false})),
    )
    .await;
    assert_eq!((status, public["key"]["is_private"].clone()), (200, json!(false)));
    let id = public["key"]["id"].as_str().unwrap();
    let (status, answer) =
        call(&app, owner, "PATCH", &format!("{base}/{id}"), Some(json!({"roles": "data:write"}))).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_roles")), "a public key stays read-only");
    let (status, answer) = call(&app, owner, "PATCH", &format!("{base}/{id}"), Some(json!({}))).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("nothing_to_update")));
    // A key is reached only through its own project.
    let foreign = format!("/project/{}/key/{id}", other.project);
    assert_eq!(call(&app, owner, "GET", &foreign, None).await.0, 404);
    assert_eq!(call(&app, owner, "DELETE", &foreign, None).await.0, 404);
    assert_eq!(call(&app, owner, "GET", &format!("{base}/not-a-key"), None).await.0, 404);
}

async fn keys_are_verified(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let other = world::place(&app, &people, true).await;
    let owner = &people.owner;
    let base = format!("/project/{}/key", place.project);
    let app = &app;
    let verify = |project: uuid::Uuid, body: Value| async move {
        call(app, owner, "POST", &format!("/project/{project}/key/verify"), Some(body)).await
    };
    let (_, created) = call(app, owner, "POST", &base, Some(json!({"label": "svc", "roles": "data:read"}))).await;
    let (id, value) =
        (created["key"]["id"].as_str().unwrap().to_owned(), created["key"]["value"].as_str().unwrap().to_owned());

    let (status, ok) = verify(place.project, json!({"key": value})).await;
    assert_eq!(status, 200);
    assert_eq!(
        (ok["is_valid"].clone(), ok["key"]["id"].as_str(), ok["key"]["roles"].as_str()),
        (json!(true), Some(id.as_str()), Some("data:read"))
    );
    assert_eq!(verify(place.project, json!({"key": value, "key_id": id})).await.1["is_valid"], true);
    assert_eq!(verify(place.project, json!({"key": value, "key_id": uuid::Uuid::new_v4()})).await.1["is_valid"], false);
    // Another project's key is simply not valid here.
    assert_eq!(verify(other.project, json!({"key": value})).await.1, json!({"is_valid": false}));
    let mut wrong = value.clone();
    wrong.replace_range(wrong.len() - 1.., if wrong.ends_with('a') { "b" } else { "a" });
    assert_eq!(verify(place.project, json!({"key": wrong})).await.1, json!({"is_valid": false}));
    let (status, body) = verify(place.project, json!({"key": "not-a-key"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_key_format")));

    // The old secret is dead once regenerated; the new one works.
    let (_, regenerated) = call(app, owner, "POST", &format!("{base}/{id}/regenerate"), None).await;
    assert_eq!(verify(place.project, json!({"key": value})).await.1["is_valid"], false);
    assert_eq!(verify(place.project, json!({"key": regenerated["key"]["value"]})).await.1["is_valid"], true);
    call(app, owner, "DELETE", &format!("{base}/{id}"), None).await;
    assert_eq!(
        verify(place.project, json!({"key": regenerated["key"]["value"]})).await.1["is_valid"],
        false,
        "deleted"
    );
}
