//! API keys as credentials: what a key reaches, how fast a change to it is
//! honoured (on this node and the others), when its use is recorded, and the
//! limit on failed checks.

use std::time::{Duration, Instant};

use basic_admin_server::config::Flags;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Backend, Setup, TestApp, TestDb, json, on_both_backends};
use crate::world::{self, Actor};

on_both_backends!(
    a_key_reaches_its_own_project_within_its_roles,
    a_changed_key_is_honoured_at_once,
    failed_key_checks_are_throttled
);
on_both_backends!(with slow_usage_flush; the_last_use_is_written_in_batches_and_at_shutdown);

fn slow_usage_flush() -> Setup {
    Setup { flags: Flags { key_usage_flush_secs: Some("3600".into()), ..Flags::default() }, ..Setup::default() }
}

/// A new key of `project`, made by `owner`: its id and value.
async fn new_key(app: &TestApp, owner: &Actor, project: Uuid, roles: &str, private: bool) -> (String, String) {
    let body = json!({"label": roles, "roles": roles, "is_private": private});
    let response =
        app.post(&format!("/project/{project}/key")).bearer_auth(&owner.token).json(&body).send().await.unwrap();
    let (status, created) = json(response).await;
    assert_eq!(status, 200, "{created}");
    (created["key"]["id"].as_str().unwrap().to_owned(), created["key"]["value"].as_str().unwrap().to_owned())
}

/// `method path` with `credential` as the bearer token.
async fn with(app: &TestApp, credential: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    app.call(credential, method, path, body).await
}

async fn a_key_reaches_its_own_project_within_its_roles(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let other = world::place(&app, &people, true).await;
    let owner = &people.owner;
    let (_, reader) = new_key(&app, owner, place.project, "project:read", true).await;
    let here = format!("/project/{}", place.project);

    let (status, project) = with(&app, &reader, "GET", &here, None).await;
    assert_eq!((status, project["data"]["id"].as_str()), (200, Some(place.project.to_string().as_str())));
    let (_, mine) = with(&app, &owner.token, "GET", "/project", None).await;
    assert!(mine["data"].as_array().unwrap().len() >= 2, "the owner sees both projects");
    let (status, listed) = with(&app, &reader, "GET", "/project", None).await;
    let ids: Vec<_> = listed["data"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect();
    assert_eq!((status, ids), (200, vec![json!(place.project)]), "a key lists its own project only");

    // Its roles bound what it may do; other projects do not exist for it.
    let (status, denied) = with(&app, &reader, "PATCH", &here, Some(json!({"data": {"name": "No"}}))).await;
    assert_eq!((status, denied["error"].as_str()), (403, Some("forbidden")), "{denied}");
    assert_eq!(with(&app, &reader, "GET", &format!("/project/{}", other.project), None).await.0, 404);
    assert_eq!(with(&app, &reader, "GET", &format!("/project/{}/key", other.project), None).await.0, 404);
    assert_eq!(with(&app, &reader, "GET", &format!("{here}/key"), None).await.0, 403, "no keys:read");
    // Never a team, never a new project, never an account.
    let (_, admin) = new_key(&app, owner, place.project, "admin", true).await;
    for (method, path, body) in [
        ("GET", "/team".to_owned(), None),
        ("GET", format!("/team/{}", place.team), None),
        ("GET", format!("/team/{}/member", place.team), None),
        ("POST", "/project".to_owned(), Some(json!({"name": "X", "team_id": place.team, "slug": "x-by-key"}))),
        ("GET", "/auth/userinfo".to_owned(), None),
    ] {
        let (status, body) = with(&app, &admin, method, &path, body).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{method} {path}: {body}");
    }
    // An admin key does everything in its project.
    let schema = json!({"project_id": place.project, "version": 1, "tables": {"todos": {"type": "collection", "fields": {"title": {"type": "string"}}}}});
    let path = format!("{here}/schema");
    assert_eq!(with(&app, &reader, "POST", &path, Some(json!({"schema": schema}))).await.0, 403);
    assert_eq!(with(&app, &admin, "POST", &path, Some(json!({"schema": schema}))).await.0, 200);
    let (status, keys) = with(&app, &admin, "GET", &format!("{here}/key"), None).await;
    assert_eq!(status, 200);
    assert!(keys["data"].as_array().unwrap().iter().all(|k| k.get("value").is_none()), "no key reads a secret");

    // Wrong or malformed keys are 401s that say how to authenticate.
    let mut wrong = reader.clone();
    wrong.replace_range(wrong.len() - 1.., if wrong.ends_with('a') { "b" } else { "a" });
    for bad in [wrong.as_str(), "bsk_nonsense", "not a key"] {
        let response = app.get(&here).bearer_auth(bad).send().await.unwrap();
        assert!(response.headers().get("www-authenticate").is_some());
        let (status, body) = json(response).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "{bad}");
    }

    // Browsers (requests with an Origin) may use public keys only.
    let (_, public) = new_key(&app, owner, place.project, "project:read,schema:read", false).await;
    let from_browser = |key: &str| app.get(&here).bearer_auth(key).header("origin", "https://app.example").send();
    let (status, body) = json(from_browser(&reader).await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("private_key_in_browser")));
    assert_eq!(from_browser(&public).await.unwrap().status(), 200);
}

async fn a_changed_key_is_honoured_at_once(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let owner = &people.owner;
    let here = format!("/project/{}", place.project);
    let (id, value) = new_key(&app, owner, place.project, "read", true).await;
    let (_, spare) = new_key(&app, owner, place.project, "read", true).await;
    assert_eq!(with(&app, &value, "GET", &here, None).await.0, 200, "now cached");

    let key = format!("{here}/key/{id}");
    with(&app, &owner.token, "PATCH", &key, Some(json!({"roles": "keys:read"}))).await;
    assert_eq!(with(&app, &value, "GET", &here, None).await.0, 403, "new roles at once");
    assert_eq!(with(&app, &value, "GET", &format!("{here}/key"), None).await.0, 200);

    let (_, regenerated) = with(&app, &owner.token, "POST", &format!("{key}/regenerate"), None).await;
    let new_value = regenerated["key"]["value"].as_str().unwrap();
    assert_eq!(with(&app, &value, "GET", &format!("{here}/key"), None).await.0, 401, "the old secret is dead");
    assert_eq!(with(&app, new_value, "GET", &format!("{here}/key"), None).await.0, 200);

    with(&app, &owner.token, "DELETE", &key, None).await;
    assert_eq!(with(&app, new_value, "GET", &format!("{here}/key"), None).await.0, 401, "deleted");

    assert_eq!(with(&app, &spare, "GET", &here, None).await.0, 200);
    assert_eq!(with(&app, &owner.token, "DELETE", &here, None).await.0, 200);
    assert_eq!(with(&app, &spare, "GET", &here, None).await.0, 401, "its project is gone, and the key with it");
}

async fn failed_key_checks_are_throttled(app: TestApp) {
    let max = app.state.config.throttles.keys_per_address;
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let owner = &people.owner;
    let (_, value) = new_key(&app, owner, place.project, "read", true).await;
    let verify = format!("/project/{}/key/verify", place.project);
    let guess = format!("bsk_{}_{}", Uuid::new_v4().simple(), "a".repeat(43));
    for _ in 0..max {
        let (status, body) = with(&app, &owner.token, "POST", &verify, Some(json!({"key": guess}))).await;
        assert_eq!((status, body["is_valid"].as_bool()), (200, Some(false)));
    }
    let response = app.post(&verify).bearer_auth(&owner.token).json(&json!({"key": guess})).send().await.unwrap();
    let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let (status, body) = json(response).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_requests")), "one more guess waits");
    // A right key is never refused for the address's failures.
    let (status, body) = with(&app, &owner.token, "POST", &verify, Some(json!({"key": value}))).await;
    assert_eq!((status, body["is_valid"].as_bool()), (200, Some(true)));
    let project = format!("/project/{}", place.project);
    assert_eq!(with(&app, &value, "GET", &project, None).await.0, 200, "nor as a credential");
    // Wrong keys presented as credentials from this address wait.
    assert_eq!(with(&app, &guess, "GET", &project, None).await.0, 429);
    assert_eq!(with(&app, &owner.token, "GET", &project, None).await.0, 200);
}

async fn the_last_use_is_written_in_batches_and_at_shutdown(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let owner = &people.owner;
    let here = format!("/project/{}", place.project);
    let (id, value) = new_key(&app, owner, place.project, "read", true).await;
    let key_id = Uuid::parse_str(&id).unwrap();
    let last_used = || async { app.state.app.store.key_by_id(key_id).await.unwrap().unwrap().last_used };

    let before = basic_admin_core::time::now();
    for _ in 0..3 {
        assert_eq!(with(&app, &value, "GET", &here, None).await.0, 200);
    }
    assert_eq!(last_used().await, None, "no write per request");
    app.state.app.key_usage.flush(&*app.state.app.store).await;
    let written = last_used().await.expect("written by the flush");
    assert!(written >= before);
    let (_, shown) = with(&app, &owner.token, "GET", &format!("{here}/key/{id}"), None).await;
    assert!(shown["key"]["last_used"].is_string(), "{shown}");

    // A node that stops writes what it has not yet written.
    let mut b = app.sibling(slow_usage_flush()).await;
    assert_eq!(with(&b, &value, "GET", &here, None).await.0, 200);
    assert_eq!(last_used().await, Some(written));
    b.stop().await.unwrap();
    assert!(last_used().await.unwrap() > written, "flushed at shutdown");
}

/// Two nodes on one PostgreSQL database: a key changed through one is
/// honoured by the other within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_node_fails_on_the_others_within_a_second() {
    let Some(db) = TestDb::create(Backend::Postgres, "key_auth::revoked_on_other_nodes").await else { return };
    let a = TestApp::start(db, Setup::default()).await;
    let b = a.sibling(Setup::default()).await;
    let people = world::people(&a).await;
    let place = world::place(&a, &people, true).await;
    let owner = &people.owner;
    let here = format!("/project/{}", place.project);
    let (deleted_id, deleted) = new_key(&a, owner, place.project, "read", true).await;
    let (regenerated_id, regenerated) = new_key(&a, owner, place.project, "read", true).await;
    for key in [&deleted, &regenerated] {
        assert_eq!(with(&b, key, "GET", &here, None).await.0, 200, "a key made on A works on B (and is cached there)");
    }

    with(&a, &owner.token, "DELETE", &format!("{here}/key/{deleted_id}"), None).await;
    let (_, fresh) = with(&a, &owner.token, "POST", &format!("{here}/key/{regenerated_id}/regenerate"), None).await;
    let started = Instant::now();
    for key in [&deleted, &regenerated] {
        while with(&b, key, "GET", &here, None).await.0 != 401 {
            assert!(started.elapsed() < Duration::from_secs(1), "B still accepts a revoked key after a second");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(with(&b, fresh["key"]["value"].as_str().unwrap(), "GET", &here, None).await.0, 200);
}
