//! Live sync at `/ws`, spoken by a protocol client in Rust: each device
//! keeps a local copy of its user's data, applies what it sends and what it
//! receives, as the SDK's Dexie.Syncable does, and the tests compare the
//! copies with each other and with what REST serves.

use std::collections::BTreeMap;
use std::time::Duration;

use basic_admin_app::auth::claims::{ACCESS_TYP, AccessClaims};
use basic_admin_core::store::SchemaVersion;
use basic_admin_core::time;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::flows::{Browser, authorize_query, consent_redirect, query_param, seed_project};
use crate::harness::{Backend, Remote, Setup, TestApp, TestDb, on_both_backends};
use crate::world::{self, user_did};

on_both_backends!(
    a_device_gets_an_identity_and_catches_up_on_an_empty_and_a_full_database,
    two_devices_of_one_user_see_each_others_writes_live,
    offline_edits_on_two_devices_meet_by_the_conflict_rules_and_end_identical,
    rest_and_sync_see_each_others_writes,
    deleting_the_user_reaches_their_devices_as_deletions,
    bad_frames_unknown_tables_and_schema_violations_apply_nothing,
    tokens_missing_expired_foreign_or_revoked_end_the_socket,
    a_token_update_keeps_the_session_for_the_same_user_only,
    a_plain_request_to_the_socket_is_a_json_426,
    partial_messages_are_held_and_applied_as_one_set,
    changes_need_a_published_schema_and_a_living_account,
    a_signed_in_users_socket_closes_when_the_sign_in_is_revoked,
    a_deleted_project_ends_its_devices_sessions,
);
on_both_backends!(with tight_limits; limits_are_enforced_with_a_clear_error, a_device_that_does_not_read_is_disconnected);

fn tight_limits() -> Setup {
    let mut setup = Setup::default();
    setup.flags.sync_max_message_bytes = Some("2000".into());
    setup.flags.sync_max_changes = Some("3".into());
    setup.flags.sync_connections_per_user = Some("2".into());
    setup.flags.sync_idle_secs = Some("2".into());
    setup
}

const WAIT: Duration = Duration::from_secs(10);

/// A project with a published schema, and one of its app's users.
struct AppUser {
    project: Uuid,
    did: String,
}

async fn app_user(app: &TestApp) -> AppUser {
    let people = world::people(app).await;
    let place = world::place(app, &people, true).await;
    let schema = json!({"project_id": place.project, "version": 1, "tables": {
        "todos": {"type": "collection", "fields": {
            "title": {"type": "string", "required": true},
            "done": {"type": "boolean"},
            "meta": {"type": "json"},
        }},
    }});
    let version =
        SchemaVersion { id: Uuid::new_v4(), project_id: place.project, version: 1, schema, created_at: time::now() };
    app.state.app.store.publish_schema(version).await.unwrap();
    let account = world::actor(app, "syncer", "profile").await.id;
    AppUser { project: place.project, did: user_did(&app.state, account) }
}

/// An access token of the user, issued to the project's app, expiring in
/// `secs` (negative: expired); with its sign-in.
async fn token_expiring(app: &TestApp, user: &AppUser, secs: i64) -> (String, Uuid) {
    let now = time::now().timestamp();
    let sid = Uuid::new_v4();
    let claims = AccessClaims {
        iss: app.state.app.keys.issuer().to_owned(),
        sub: user.did.clone(),
        aud: user.project.to_string(),
        exp: now + secs,
        iat: now - 1,
        jti: Uuid::new_v4().to_string(),
        scope: "openid profile".into(),
        client_id: user.project.to_string(),
        sid,
    };
    (app.state.app.keys.sign(ACCESS_TYP, &claims).await, sid)
}

async fn token(app: &TestApp, user: &AppUser) -> String {
    token_expiring(app, user, 600).await.0
}

type Key = (String, String);

/// One device: its socket, its identity, its revision and its copy of the data.
struct Device {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    identity: String,
    revision: i64,
    local: BTreeMap<Key, Map<String, Value>>,
    request: u64,
}

async fn socket(remote: &Remote) -> WebSocketStream<MaybeTlsStream<TcpStream>> {
    let url = remote.url("/ws").replace("http://", "ws://");
    tokio_tungstenite::connect_async(url).await.expect("the socket opens").0
}

async fn send(ws: &mut WebSocketStream<MaybeTlsStream<TcpStream>>, message: Value) {
    ws.send(Message::Text(message.to_string().into())).await.expect("sent");
}

/// The next message from the server (`None`: the socket closed).
async fn next(ws: &mut WebSocketStream<MaybeTlsStream<TcpStream>>) -> Option<Value> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("the server answers in time") {
            Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).expect("JSON from the server")),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

/// Opens a socket and expects an `error` with `code`, then the close.
async fn refused(remote: &Remote, first: Value, code: &str) -> Value {
    let mut ws = socket(remote).await;
    send(&mut ws, first).await;
    let error = next(&mut ws).await.expect("an error message");
    assert_eq!((error["type"].as_str(), error["code"].as_str()), (Some("error"), Some(code)), "{error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(next(&mut ws).await.is_none(), "then the socket closes");
    error
}

impl Device {
    /// Connects and says who it is: the server's `clientIdentity` answer.
    async fn open(remote: &Remote, token: &str, identity: Option<&str>) -> Self {
        let mut ws = socket(remote).await;
        let schema = json!({"version": 1, "tables": {}});
        send(
            &mut ws,
            json!({"type": "clientIdentity", "clientIdentity": identity, "authToken": token, "schema": schema}),
        )
        .await;
        let hello = next(&mut ws).await.expect("an answer");
        assert_eq!(hello["type"], "clientIdentity", "{hello}");
        let identity = hello["clientIdentity"].as_str().expect("an identity").to_owned();
        Device { ws, identity, revision: 0, local: BTreeMap::new(), request: 0 }
    }

    /// The first round, as the SDK makes it: its pending changes, then
    /// `subscribe`, then every chunk until one is not partial. Returns how
    /// many `changes` messages came.
    async fn sync(&mut self, pending: Vec<Value>) -> usize {
        let base = self.revision;
        self.send_changes(pending, base).await;
        send(&mut self.ws, json!({"type": "subscribe", "syncedRevision": self.revision})).await;
        self.expect_ack().await;
        self.receive_until_complete().await
    }

    /// Sends changes (applying them to its own copy, as the SDK has them).
    async fn send_changes(&mut self, changes: Vec<Value>, base: i64) {
        for change in &changes {
            apply(&mut self.local, change);
        }
        self.request += 1;
        let message = json!({"type": "changes", "changes": changes, "baseRevision": base, "partial": false, "requestId": self.request});
        send(&mut self.ws, message).await;
    }

    async fn expect_ack(&mut self) {
        let ack = next(&mut self.ws).await.expect("an ack");
        assert_eq!((ack["type"].as_str(), ack["requestId"].as_u64()), (Some("ack"), Some(self.request)), "{ack}");
    }

    /// Applies `changes` messages until one completes a set; how many came.
    async fn receive_until_complete(&mut self) -> usize {
        let mut held = Vec::new();
        let mut messages = 0;
        loop {
            let message = next(&mut self.ws).await.expect("changes");
            assert_eq!(message["type"], "changes", "{message}");
            messages += 1;
            held.extend(message["changes"].as_array().unwrap().iter().cloned());
            if message["partial"] == false {
                for change in &held {
                    apply(&mut self.local, change);
                }
                self.revision = message["currentRevision"].as_i64().unwrap();
                return messages;
            }
        }
    }

    /// Writes and waits for the ack and the revision it brings: the changes
    /// the server sent back with it (none, unless a conflict adjusted them).
    async fn write(&mut self, changes: Vec<Value>) -> Vec<Value> {
        let base = self.revision;
        self.send_changes(changes, base).await;
        self.expect_ack().await;
        let message = next(&mut self.ws).await.expect("the new revision");
        assert_eq!((message["type"].as_str(), message["partial"].as_bool()), (Some("changes"), Some(false)));
        let received = message["changes"].as_array().unwrap().clone();
        for change in &received {
            apply(&mut self.local, change);
        }
        self.revision = message["currentRevision"].as_i64().unwrap();
        received
    }

    /// Nothing arrives for a moment.
    async fn hears_nothing(&mut self) {
        let heard = tokio::time::timeout(Duration::from_millis(300), self.ws.next()).await;
        assert!(heard.is_err(), "nothing more: {heard:?}");
    }

    fn titles(&self) -> BTreeMap<String, Value> {
        self.local
            .iter()
            .map(|((_, key), obj)| (key.clone(), obj.get("title").cloned().unwrap_or(Value::Null)))
            .collect()
    }
}

/// A change applied to a copy, as Dexie does.
fn apply(local: &mut BTreeMap<Key, Map<String, Value>>, change: &Value) {
    let key = (change["table"].as_str().unwrap().to_owned(), change["key"].as_str().unwrap().to_owned());
    match change["type"].as_u64() {
        Some(1) => {
            local.insert(key, change["obj"].as_object().unwrap().clone());
        }
        Some(2) => {
            if let Some(obj) = local.get_mut(&key) {
                for (path, value) in change["mods"].as_object().unwrap() {
                    set_path(obj, path, value.clone());
                }
            }
        }
        _ => {
            local.remove(&key);
        }
    }
}

fn set_path(obj: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None if value.is_null() => {
            obj.remove(path);
        }
        None => {
            obj.insert(path.into(), value);
        }
        Some((head, rest)) => {
            let inner = obj.entry(head).or_insert_with(|| json!({}));
            set_path(inner.as_object_mut().unwrap(), rest, value);
        }
    }
}

fn create(key: &str, title: &str) -> Value {
    json!({"type": 1, "table": "todos", "key": key, "obj": {"id": key, "title": title}})
}

fn update(key: &str, mods: Value) -> Value {
    json!({"type": 2, "table": "todos", "key": key, "mods": mods})
}

fn delete(key: &str) -> Value {
    json!({"type": 3, "table": "todos", "key": key})
}

/// The user's records as REST serves them, by id.
async fn rest_records(app: &TestApp, user: &AppUser, token: &str) -> BTreeMap<Key, Map<String, Value>> {
    let path = format!("/account/{}/db/todos", user.project);
    let (status, body) = app.call(token, "GET", &path, None).await;
    assert_eq!(status, 200, "{body}");
    let records = body["data"].as_array().cloned().expect("a list");
    records
        .into_iter()
        .map(|r| (("todos".to_owned(), r["id"].as_str().unwrap().to_owned()), r.as_object().unwrap().clone()))
        .collect()
}

async fn a_device_gets_an_identity_and_catches_up_on_an_empty_and_a_full_database(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    let mut first = Device::open(&app, &token, None).await;
    assert_eq!(first.sync(vec![]).await, 1, "an empty database: one complete answer");
    assert_eq!(first.revision, 0);

    // The identity is remembered: offered again, it is kept; another user's or a made-up one is not.
    let again = Device::open(&app, &token, Some(&first.identity)).await;
    assert_eq!(again.identity, first.identity);
    let made_up = Device::open(&app, &token, Some("not-given")).await;
    assert_ne!(made_up.identity, "not-given");
    let someone = world::actor(&app, "other", "profile").await.id;
    let other = AppUser { did: user_did(&app.state, someone), project: user.project };
    let stranger = Device::open(&app, &token_expiring(&app, &other, 600).await.0, Some(&first.identity)).await;
    assert_ne!(stranger.identity, first.identity, "an identity is one user's");

    // A full database: a thousand records, sent in one message, caught up in chunks.
    let many: Vec<Value> = (0..1000).map(|n| create(&format!("r{n:04}"), &format!("record {n}"))).collect();
    first.write(many).await;
    let mut second = Device::open(&app, &token, None).await;
    let messages = second.sync(vec![]).await;
    assert!(messages > 1, "chunks, the last one complete: {messages}");
    assert_eq!(second.local.len(), 1000);
    assert_eq!(second.local, first.local, "identical copies");
    assert_eq!(second.revision, first.revision);
    assert_eq!(rest_records(&app, &user, &token).await, second.local, "what REST serves");
}

async fn two_devices_of_one_user_see_each_others_writes_live(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    let mut phone = Device::open(&app, &token, None).await;
    let mut laptop = Device::open(&app, &token, None).await;
    phone.sync(vec![]).await;
    laptop.sync(vec![]).await;

    let echoed = phone.write(vec![create("milk", "Buy milk")]).await;
    assert!(echoed.is_empty(), "a device's own change is not sent back to it: {echoed:?}");
    laptop.receive_until_complete().await;
    assert_eq!(laptop.titles(), BTreeMap::from([("milk".into(), json!("Buy milk"))]));

    laptop.write(vec![update("milk", json!({"done": true, "meta.list": "home"}))]).await;
    phone.receive_until_complete().await;
    assert_eq!(phone.local, laptop.local);
    assert_eq!(phone.local[&("todos".into(), "milk".into())]["meta"], json!({"list": "home"}));
    phone.hears_nothing().await;
    laptop.hears_nothing().await;
}

async fn offline_edits_on_two_devices_meet_by_the_conflict_rules_and_end_identical(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    let mut a = Device::open(&app, &token, None).await;
    a.sync(vec![create("x", "x0"), create("y", "y0"), create("z", "z0")]).await;
    let mut b = Device::open(&app, &token, None).await;
    b.sync(vec![]).await;
    assert_eq!(a.local, b.local);
    let (a_identity, b_identity) = (a.identity.clone(), b.identity.clone());
    drop((a, b));

    // Both offline; each edits its copy. B comes back first.
    let mut b = Device::open(&app, &token, Some(&b_identity)).await;
    b.revision = 1;
    b.local = rest_records(&app, &user, &token).await;
    b.sync(vec![update("x", json!({"title": "x by b"})), delete("y"), update("z", json!({"title": "z by b"}))]).await;

    // A, on top of the same revision: its title of x loses to B's, its
    // `done` stays; its update of y (deleted by B) is dropped; its delete of
    // z beats B's update; its new record is kept.
    let mut a = Device::open(&app, &token, Some(&a_identity)).await;
    a.revision = 1;
    a.local = as_first_made();
    a.sync(vec![
        update("x", json!({"title": "x by a", "done": true})),
        update("y", json!({"title": "y by a"})),
        delete("z"),
        create("w", "w by a"),
    ])
    .await;
    b.receive_until_complete().await;

    let server = rest_records(&app, &user, &token).await;
    assert_eq!(a.local, server, "A ends as the server");
    assert_eq!(b.local, server, "B ends as the server");
    let titles: BTreeMap<_, _> = server.iter().map(|((_, k), v)| (k.as_str(), v["title"].clone())).collect();
    assert_eq!(titles, BTreeMap::from([("w", json!("w by a")), ("x", json!("x by b"))]));
    assert_eq!(server[&("todos".into(), "x".into())]["done"], json!(true), "A's change where B made none");
}

/// What A had before going offline: the three records as first made.
fn as_first_made() -> BTreeMap<Key, Map<String, Value>> {
    ["x", "y", "z"]
        .iter()
        .map(|k| {
            (("todos".to_owned(), (*k).to_owned()), create(k, &format!("{k}0"))["obj"].as_object().unwrap().clone())
        })
        .collect()
}

/// The user's DID as a path segment (its port's `%3A` escaped).
fn path_did(user: &AppUser) -> String {
    user.did.replace('%', "%25")
}

async fn rest_and_sync_see_each_others_writes(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    let mut device = Device::open(&app, &token, None).await;
    device.sync(vec![]).await;
    device.write(vec![create("synced", "from the device")]).await;
    let path = format!("/account/{}/db/todos", user.project);
    let (status, body) = app.call(&token, "GET", &format!("{path}/synced"), None).await;
    assert_eq!((status, &body["data"]["title"]), (200, &json!("from the device")), "{body}");

    // REST writes reach the device: create, change, delete.
    let (status, made) =
        app.call(&token, "POST", &path, Some(json!({"value": {"id": "rested", "title": "over REST"}}))).await;
    assert_eq!(status, 200, "{made}");
    device.receive_until_complete().await;
    assert_eq!(device.titles().get("rested"), Some(&json!("over REST")));
    let (status, _) =
        app.call(&token, "PATCH", &format!("{path}/synced"), Some(json!({"value": {"done": true}}))).await;
    assert_eq!(status, 200);
    device.receive_until_complete().await;
    assert_eq!(device.local[&("todos".into(), "synced".into())]["done"], json!(true));
    // The developer's routes too.
    let key = world::key(&app, user.project, "data:write").await;
    let dev_path = format!("/project/{}/user/{}/db/todos/rested", user.project, path_did(&user));
    let (status, body) = app.call(&key, "DELETE", &dev_path, None).await;
    assert!(status == 200 || status == 204, "{status} {body}");
    device.receive_until_complete().await;
    assert_eq!(device.local, rest_records(&app, &user, &token).await);

    // The developer sees the synced record and the user in the stats.
    let reader = world::key(&app, user.project, "data:read,users:read").await;
    let synced = format!("/project/{}/user/{}/db/todos/synced", user.project, path_did(&user));
    let (status, body) = app.call(&reader, "GET", &synced, None).await;
    assert_eq!((status, &body["data"]["title"]), (200, &json!("from the device")), "{body}");
    let (status, stats) = app.call(&reader, "GET", &format!("/project/{}/user/stats", user.project), None).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!((&stats["total"], &stats["dau"]), (&json!(1), &json!(1)), "the syncing user, active today: {stats}");

    // What the socket did shows in the metrics.
    let metrics = app.get("/metrics").send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("sync_sockets_open 1"), "one socket open");
    assert!(metrics.contains("sync_changes_applied_total 1"), "one change stored by sync");
    assert!(metrics.contains("sync_messages_total{direction=\"out\",type=\"changes\"}"));

    // subscribe comes once.
    send(&mut device.ws, json!({"type": "subscribe", "syncedRevision": 0})).await;
    assert_eq!(next(&mut device.ws).await.unwrap()["code"], "INVALID_MESSAGE");
}

async fn deleting_the_user_reaches_their_devices_as_deletions(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    let mut device = Device::open(&app, &token, None).await;
    device.sync(vec![create("a", "a"), create("b", "b")]).await;
    let key = world::key(&app, user.project, "users:write").await;
    let (status, body) =
        app.call(&key, "DELETE", &format!("/project/{}/user/{}", user.project, path_did(&user)), None).await;
    assert!(status == 200 || status == 204, "{status} {body}");
    device.receive_until_complete().await;
    assert!(device.local.is_empty(), "both records deleted on the device: {:?}", device.local);
    // A device that was offline then learns it too.
    let mut late = Device::open(&app, &token, None).await;
    late.revision = 1;
    late.local = BTreeMap::from([(("todos".into(), "a".into()), Map::new())]);
    late.sync(vec![]).await;
    assert!(late.local.is_empty());
}

async fn bad_frames_unknown_tables_and_schema_violations_apply_nothing(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    // Not JSON, not a message, not first.
    let mut ws = socket(&app).await;
    ws.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["code"], "INVALID_MESSAGE");
    refused(&app, json!({"type": "subscribe", "syncedRevision": 0}), "INVALID_MESSAGE").await;
    let mut ws = socket(&app).await;
    ws.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["code"], "INVALID_MESSAGE");

    let mut device = Device::open(&app, &token, None).await;
    device.sync(vec![]).await;
    send(&mut device.ws, json!({"type": "nonsense"})).await;
    assert_eq!(next(&mut device.ws).await.unwrap()["code"], "INVALID_MESSAGE");
    assert!(next(&mut device.ws).await.is_none(), "closed");

    for (changes, why) in [
        (
            vec![create("ok", "fine"), json!({"type": 1, "table": "nope", "key": "k", "obj": {"title": "t"}})],
            "no table",
        ),
        (
            vec![create("ok", "fine"), json!({"type": 1, "table": "todos", "key": "k", "obj": {"title": 5}})],
            "should be type",
        ),
        (
            vec![create("ok", "fine"), json!({"type": 1, "table": "todos", "key": "k", "obj": {"done": true}})],
            "required",
        ),
        (vec![create("ok", "fine"), json!({"type": 9, "table": "todos", "key": "k"})], "`type`"),
        (vec![create("ok", "fine"), json!({"type": 1, "table": "todos", "key": 12, "obj": {}})], "`key`"),
    ] {
        let mut device = Device::open(&app, &token, None).await;
        let message =
            json!({"type": "changes", "changes": changes, "baseRevision": 0, "partial": false, "requestId": 7});
        send(&mut device.ws, message).await;
        let error = next(&mut device.ws).await.unwrap();
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str(), error["requestId"].as_u64()),
            (Some("error"), Some("INVALID_CHANGES"), Some(7)),
            "{error}"
        );
        assert!(error["message"].as_str().unwrap().contains(why), "{why}: {error}");
        assert!(next(&mut device.ws).await.is_none(), "closed");
        assert!(rest_records(&app, &user, &token).await.is_empty(), "nothing of the message applied ({why})");
    }
}

async fn tokens_missing_expired_foreign_or_revoked_end_the_socket(app: TestApp) {
    let user = app_user(&app).await;
    let hello =
        |token: Value| json!({"type": "clientIdentity", "clientIdentity": null, "authToken": token, "schema": {}});
    refused(&app, hello(Value::Null), "UNAUTHORIZED").await;
    refused(&app, hello(json!("not.a.token")), "UNAUTHORIZED").await;
    // Past the verifier's leeway for clock skew.
    let (expired, _) = token_expiring(&app, &user, -300).await;
    refused(&app, hello(json!(expired)), "TOKEN_EXPIRED").await;
    // A developer's token is not an app user's.
    let developer = world::actor(&app, "dev", "profile admin").await;
    refused(&app, hello(json!(developer.token)), "UNAUTHORIZED").await;
    // Issued to an app that is gone.
    let gone = AppUser { project: Uuid::new_v4(), ..user };
    refused(&app, hello(json!(token(&app, &gone).await)), "UNAUTHORIZED").await;
}

async fn a_token_update_keeps_the_session_for_the_same_user_only(app: TestApp) {
    let user = app_user(&app).await;
    // A token that expires while the socket is open ends it, unless renewed.
    let (short, _) = token_expiring(&app, &user, 2).await;
    let mut device = Device::open(&app, &short, None).await;
    device.sync(vec![]).await;
    let fresh = token(&app, &user).await;
    send(&mut device.ws, json!({"type": "tokenUpdate", "authToken": fresh})).await;
    assert_eq!(next(&mut device.ws).await.unwrap(), json!({"type": "tokenUpdateAck", "ok": true}));
    let someone_else = AppUser { did: user_did(&app.state, Uuid::new_v4()), project: user.project };
    send(&mut device.ws, json!({"type": "tokenUpdate", "authToken": token(&app, &someone_else).await})).await;
    let refused = next(&mut device.ws).await.unwrap();
    assert_eq!((refused["ok"].as_bool(), refused["code"].as_str()), (Some(false), Some("UNAUTHORIZED")), "{refused}");
    send(&mut device.ws, json!({"type": "tokenUpdate", "authToken": "garbage"})).await;
    assert_eq!(next(&mut device.ws).await.unwrap()["ok"], false);
    tokio::time::sleep(Duration::from_secs(3)).await;
    device.write(vec![create("still", "open")]).await;

    let (short, _) = token_expiring(&app, &user, 2).await;
    let mut expiring = Device::open(&app, &short, None).await;
    expiring.sync(vec![]).await;
    let error = next(&mut expiring.ws).await.expect("an error when the token expires");
    assert_eq!(error["code"], "TOKEN_EXPIRED", "{error}");
}

async fn a_plain_request_to_the_socket_is_a_json_426(app: TestApp) {
    let response = app.get("/ws").send().await.unwrap();
    assert_eq!(response.status(), 426);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "websocket_required", "{body}");
}

async fn limits_are_enforced_with_a_clear_error(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    // Connections per user.
    let mut one = Device::open(&app, &token, None).await;
    let _two = Device::open(&app, &token, None).await;
    let hello = json!({"type": "clientIdentity", "clientIdentity": null, "authToken": token, "schema": {}});
    let error = refused(&app, hello, "LIMIT_EXCEEDED").await;
    assert!(error["message"].as_str().unwrap().contains("at most 2"), "{error}");
    // Changes per message.
    one.sync(vec![]).await;
    let four: Vec<Value> = (0..4).map(|n| create(&format!("k{n}"), "t")).collect();
    send(&mut one.ws, json!({"type": "changes", "changes": four, "baseRevision": 0, "partial": false, "requestId": 1}))
        .await;
    assert_eq!(next(&mut one.ws).await.unwrap()["code"], "LIMIT_EXCEEDED");
    drop(one);
    // Message size.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut big = Device::open(&app, &token, None).await;
    big.sync(vec![]).await;
    let long = "x".repeat(2500);
    send(&mut big.ws, json!({"type": "changes", "changes": [create("big", &long)], "baseRevision": 0, "partial": false, "requestId": 2})).await;
    let error = next(&mut big.ws).await.unwrap();
    assert_eq!(error["code"], "LIMIT_EXCEEDED", "{error}");
    assert!(rest_records(&app, &user, &token).await.is_empty());
    drop(big);
    // Silence: a device that answers no ping is closed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut quiet = Device::open(&app, &token, None).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut closed = false;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(1), quiet.ws.next()).await {
        if matches!(frame, Ok(Message::Close(_)) | Err(_)) {
            closed = true;
            break;
        }
    }
    assert!(closed, "an idle socket is closed");
}

/// A device on one node hears a write made on another (PostgreSQL, two nodes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_on_one_node_hears_a_write_made_on_another() {
    let Some(db) = TestDb::create(Backend::Postgres, "sync::two_nodes").await else { return };
    let a = TestApp::start(db, Setup::default()).await;
    let b = a.sibling(Setup::default()).await;
    let user = app_user(&a).await;
    let token = token(&a, &user).await;
    let mut on_a = Device::open(&a, &token, None).await;
    let mut on_b = Device::open(&b, &token, None).await;
    on_a.sync(vec![]).await;
    on_b.sync(vec![]).await;
    on_b.write(vec![create("from-b", "written on B")]).await;
    on_a.receive_until_complete().await;
    assert_eq!(on_a.titles(), BTreeMap::from([("from-b".into(), json!("written on B"))]));
    let path = format!("/account/{}/db/todos", user.project);
    let (status, _) =
        b.call(&token, "POST", &path, Some(json!({"value": {"id": "rest-b", "title": "REST on B"}}))).await;
    assert_eq!(status, 200);
    on_a.receive_until_complete().await;
    assert_eq!(on_a.local, on_b_local(&mut on_b).await);
}

async fn on_b_local(device: &mut Device) -> BTreeMap<Key, Map<String, Value>> {
    device.receive_until_complete().await;
    device.local.clone()
}

async fn partial_messages_are_held_and_applied_as_one_set(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    let mut watcher = Device::open(&app, &token, None).await;
    watcher.sync(vec![]).await;
    let mut device = Device::open(&app, &token, None).await;
    device.sync(vec![]).await;
    let part = |changes: Vec<Value>, partial: bool, request: u64| json!({"type": "changes", "changes": changes, "baseRevision": 0, "partial": partial, "requestId": request});
    // Each part is acknowledged; nothing is stored until the set is complete.
    send(&mut device.ws, part(vec![create("p1", "one")], true, 1)).await;
    assert_eq!(next(&mut device.ws).await.unwrap(), json!({"type": "ack", "requestId": 1}));
    watcher.hears_nothing().await;
    assert!(rest_records(&app, &user, &token).await.is_empty(), "held, not stored");
    send(&mut device.ws, part(vec![create("p2", "two")], false, 2)).await;
    assert_eq!(next(&mut device.ws).await.unwrap(), json!({"type": "ack", "requestId": 2}));
    let moved_on = next(&mut device.ws).await.unwrap();
    assert_eq!(
        (&moved_on["changes"], &moved_on["currentRevision"]),
        (&json!([]), &json!(1)),
        "the new revision, no echo"
    );
    watcher.receive_until_complete().await;
    assert_eq!(watcher.titles(), BTreeMap::from([("p1".into(), json!("one")), ("p2".into(), json!("two"))]));
    let revision = app.state.app.store.sync_revision(user.project, &user.did).await.unwrap();

    // A refused change in the last part refuses the whole set.
    send(&mut device.ws, part(vec![create("p3", "three")], true, 3)).await;
    assert_eq!(next(&mut device.ws).await.unwrap()["type"], "ack");
    send(&mut device.ws, part(vec![json!({"type": 1, "table": "todos", "key": "p4", "obj": {"title": 4}})], false, 4))
        .await;
    let error = next(&mut device.ws).await.unwrap();
    assert_eq!((error["code"].as_str(), error["requestId"].as_u64()), (Some("INVALID_CHANGES"), Some(4)), "{error}");
    assert_eq!(rest_records(&app, &user, &token).await.len(), 2, "p3 was not stored either");
    assert_eq!(app.state.app.store.sync_revision(user.project, &user.did).await.unwrap(), revision);
}

async fn changes_need_a_published_schema_and_a_living_account(app: TestApp) {
    // A project that has published no schema yet.
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let account = world::actor(&app, "early", "profile").await.id;
    let user = AppUser { project: place.project, did: user_did(&app.state, account) };
    let mut device = Device::open(&app, &token(&app, &user).await, None).await;
    let message =
        json!({"type": "changes", "changes": [create("a", "a")], "baseRevision": 0, "partial": false, "requestId": 1});
    send(&mut device.ws, message).await;
    let error = next(&mut device.ws).await.unwrap();
    assert_eq!(error["code"], "INVALID_CHANGES", "{error}");
    assert!(error["message"].as_str().unwrap().contains("no published schema"), "{error}");

    // A well-signed token of an account that is not (or no longer) there.
    let nobody = AppUser { project: place.project, did: user_did(&app.state, Uuid::new_v4()) };
    let hello = json!({"type": "clientIdentity", "clientIdentity": null, "authToken": token(&app, &nobody).await, "schema": {}});
    refused(&app, hello, "UNAUTHORIZED").await;
}

/// A user signed in through the pages, as the SDK does it: their tokens
/// and the code they came from.
async fn signed_in(app: &TestApp) -> (Uuid, String, String) {
    let page = "https://todo.example/app/";
    let project = seed_project(app, &["https://todo.example/"]).await;
    let mut browser = Browser::new(app);
    let query = authorize_query(&project.to_string(), page, "openid", &[]);
    let redirect = consent_redirect(&mut browser, &query, &format!("{}@users.example", Uuid::new_v4()), false).await;
    let code = query_param(&redirect, "code").expect("a code");
    let (status, tokens) =
        crate::harness::json(app.post("/auth/token").json(&json!({"code": code})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    (project, tokens["access_token"].as_str().unwrap().to_owned(), code)
}

async fn a_signed_in_users_socket_closes_when_the_sign_in_is_revoked(app: TestApp) {
    let (_, access, code) = signed_in(&app).await;
    let mut device = Device::open(&app, &access, None).await;
    device.sync(vec![]).await;
    // A replayed code revokes the whole sign-in it started.
    let (status, _) =
        crate::harness::json(app.post("/auth/token").json(&json!({"code": code})).send().await.unwrap()).await;
    assert_eq!(status, 400);
    let error = next(&mut device.ws).await.expect("an error when the sign-in is revoked");
    assert_eq!(
        (error["code"].as_str(), error["message"].as_str()),
        (Some("UNAUTHORIZED"), Some("This sign-in has been revoked."))
    );
    assert!(next(&mut device.ws).await.is_none(), "then the socket closes");
    let hello = json!({"type": "clientIdentity", "clientIdentity": null, "authToken": access, "schema": {}});
    refused(&app, hello, "UNAUTHORIZED").await;
}

async fn a_device_that_does_not_read_is_disconnected(app: TestApp) {
    let user = app_user(&app).await;
    let token = token(&app, &user).await;
    let mut slow = Device::open(&app, &token, None).await;
    slow.sync(vec![]).await;
    // Far more than the socket's buffers hold, pushed to a device that reads nothing.
    let key = world::key(&app, user.project, "data:write").await;
    let path = format!("/project/{}/user/{}/db/todos", user.project, path_did(&user));
    let long = "x".repeat(200 * 1024);
    // It does send pings, so it is slow, not silent.
    let ping = || Message::Ping(vec![1].into());
    for n in 0..60 {
        let (status, body) =
            app.call(&key, "POST", &path, Some(json!({"value": {"title": format!("{n}{long}")}}))).await;
        assert_eq!(status, 200, "{body}");
        // Refused once the server has given up on it.
        let _ = slow.ws.send(ping()).await;
    }
    // Half the idle time (1 s) after a frame stopped moving, the server gives up on it.
    let closed = || async {
        let metrics = app.get("/metrics").send().await.unwrap().text().await.unwrap();
        metrics.contains("sync_sockets_closed_total{reason=\"slow\"} 1")
    };
    let mut waited = 0;
    while !closed().await {
        assert!(waited < 50, "the slow device is still connected");
        let _ = slow.ws.send(ping()).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        waited += 1;
    }
}

async fn a_deleted_project_ends_its_devices_sessions(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, false).await;
    let (status, body) =
        app.call(&people.owner.token, "POST", "/project", Some(json!({"name": "Doomed", "team_id": place.team}))).await;
    assert_eq!(status, 201, "{body}");
    let project = Uuid::try_parse(body["data"]["id"].as_str().unwrap()).unwrap();
    let schema = json!({"schema": {"project_id": project, "version": 1, "tables": {"todos": {"type": "collection",
        "fields": {"title": {"type": "string"}}}}}});
    let (status, body) =
        app.call(&people.owner.token, "POST", &format!("/project/{project}/schema"), Some(schema)).await;
    assert_eq!(status, 200, "{body}");
    let user = AppUser { project, did: user_did(&app.state, people.app_user.id) };
    let token = token(&app, &user).await;
    let mut device = Device::open(&app, &token, None).await;
    device.sync(vec![create("a", "a")]).await;

    let (status, body) = app.call(&people.owner.token, "DELETE", &format!("/project/{project}"), None).await;
    assert_eq!(status, 200, "{body}");
    device.send_changes(vec![create("b", "b")], device.revision).await;
    let error = next(&mut device.ws).await.unwrap();
    assert_eq!(
        (error["code"].as_str(), error["message"].as_str()),
        (Some("UNAUTHORIZED"), Some("The app this token was issued to no longer exists.")),
        "{error}"
    );
    let hello = json!({"type": "clientIdentity", "clientIdentity": null, "authToken": token, "schema": {}});
    refused(&app, hello, "UNAUTHORIZED").await;
}
