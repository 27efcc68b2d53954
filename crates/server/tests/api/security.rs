//! Regressions of the security review: keys that would grant more than they
//! hold, schemas too large to check, invites taken by an address alone,
//! consent, PKCE, throttles behind a proxy.

use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};
use basic_admin_server::config::Flags;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::flows::{self, Browser, authorize_query};
use crate::harness::{Setup, TestApp, json, on_both_backends};
use crate::world::{self, People, Place};

on_both_backends!(
    a_key_manages_only_keys_within_its_roles,
    public_keys_read_only_the_project_and_its_schema,
    schemas_past_the_limits_are_refused_whole,
    invites_to_an_email_need_their_token,
    only_those_who_invite_see_pending_invites,
    invites_are_throttled_per_account,
    userinfo_shows_what_the_token_was_consented,
    a_partial_update_cannot_remove_a_required_field,
    long_nonces_are_refused,
    profile_changes_and_uploads_made_at_once_all_stay,
    uploads_are_refused_before_their_body_is_read,
);
on_both_backends!(with behind_a_proxy; throttles_count_the_client_behind_a_trusted_proxy);
on_both_backends!(with pkce_required; pkce_can_be_required);

async fn setting(app: &TestApp) -> (People, Place) {
    let people = world::people(app).await;
    let place = world::place(app, &people, true).await;
    (people, place)
}

async fn a_key_manages_only_keys_within_its_roles(app: TestApp) {
    let (people, place) = setting(&app).await;
    let keys = format!("/project/{}/key", place.project);
    let owner = &people.owner.token;
    let (_, admin_key) = app.call(owner, "POST", &keys, Some(json!({"label": "Root", "roles": "admin"}))).await;
    let admin_key_id = admin_key["key"]["id"].as_str().unwrap().to_owned();
    let writer = world::key(&app, place.project, "keys:write,data:read").await;

    // It cannot mint a key with a role it does not hold.
    for roles in ["admin", "keys:write,data:write", "read"] {
        let (status, body) = app.call(&writer, "POST", &keys, Some(json!({"label": "Up", "roles": roles}))).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_role")), "{roles}: {body}");
    }
    // Nor act on a key holding such a role.
    let root = format!("{keys}/{admin_key_id}");
    let (status, body) = app.call(&writer, "PATCH", &root, Some(json!({"label": "Mine now"}))).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_role")));
    assert_eq!(app.call(&writer, "POST", &format!("{root}/regenerate"), None).await.0, 403);
    assert_eq!(app.call(&writer, "DELETE", &root, None).await.0, 403);
    let (_, still) = app.call(owner, "GET", &root, None).await;
    assert_eq!((still["key"]["label"].as_str(), still["key"]["roles"].as_str()), (Some("Root"), Some("admin")));

    // Within its roles it manages keys as before.
    let (status, made) = app.call(&writer, "POST", &keys, Some(json!({"label": "Reader", "roles": "data:read"}))).await;
    assert_eq!(status, 200, "{made}");
    let made_path = format!("{keys}/{}", made["key"]["id"].as_str().unwrap());
    let (status, raised) = app.call(&writer, "PATCH", &made_path, Some(json!({"roles": "admin"}))).await;
    assert_eq!((status, raised["error"].as_str()), (403, Some("insufficient_role")), "no raise by update");
    assert_eq!(app.call(&writer, "PATCH", &made_path, Some(json!({"roles": "keys:write"}))).await.0, 200);
    assert_eq!(app.call(&writer, "POST", &format!("{made_path}/regenerate"), None).await.0, 200);
    assert_eq!(app.call(&writer, "DELETE", &made_path, None).await.0, 200);

    // `admin` holds every role; developers keep their team-role rules.
    let admin_value = admin_key["key"]["value"].as_str().unwrap();
    assert_eq!(app.call(admin_value, "POST", &keys, Some(json!({"label": "A", "roles": "admin"}))).await.0, 200);
    assert_eq!(
        app.call(&people.admin.token, "POST", &keys, Some(json!({"label": "B", "roles": "admin"}))).await.0,
        200
    );
}

async fn public_keys_read_only_the_project_and_its_schema(app: TestApp) {
    let (people, place) = setting(&app).await;
    world::app_data(&app, &people, place.project).await;
    let keys = format!("/project/{}/key", place.project);
    let owner = &people.owner.token;
    for roles in ["read", "data:read", "project:read,users:read", "keys:read"] {
        let body = json!({"label": "Web", "roles": roles, "is_private": false});
        let (status, answer) = app.call(owner, "POST", &keys, Some(body)).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_roles")), "{roles}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("project:read and schema:read"), "{answer}");
    }
    let body = json!({"label": "Web", "roles": "project:read,schema:read", "is_private": false});
    let (status, made) = app.call(owner, "POST", &keys, Some(body)).await;
    assert_eq!(status, 200, "{made}");
    let made_path = format!("{keys}/{}", made["key"]["id"].as_str().unwrap());
    assert_eq!(app.call(owner, "PATCH", &made_path, Some(json!({"roles": "read"}))).await.0, 400);

    // A public key stored with wider roles (before this rule) reads no users.
    let presented = basic_admin_core::model::api_key::PresentedKey::generate(Uuid::new_v4(), rand::random::<u8>);
    let now = basic_admin_core::time::now();
    let old = basic_admin_core::store::ApiKey {
        id: presented.id,
        project_id: place.project,
        label: "Old web key".into(),
        roles: "read,data:read".into(),
        is_private: false,
        secret_hash: basic_admin_app::auth::api_keys::secret_hash(&presented),
        created_at: now,
        updated_at: now,
        last_used: None,
    };
    app.state.app.store.create_key(old).await.unwrap();
    let old = presented.reveal();
    assert_eq!(app.call(&old, "GET", &format!("/project/{}/user", place.project), None).await.0, 403);
    assert_eq!(app.call(&old, "GET", &format!("/project/{}", place.project), None).await.0, 403);
}

fn schema_of(project: Uuid, tables: usize, fields: usize) -> Value {
    let fields: Map<String, Value> = (0..fields).map(|f| (format!("f{f}"), json!({"type": "string"}))).collect();
    let tables: Map<String, Value> =
        (0..tables).map(|t| (format!("t{t}"), json!({"fields": fields.clone()}))).collect();
    json!({"project_id": project, "version": 1, "tables": tables})
}

async fn schemas_past_the_limits_are_refused_whole(app: TestApp) {
    let (people, place) = setting(&app).await;
    let owner = &people.owner.token;
    for (tables, fields, path) in [(501, 1, "/tables"), (1, 501, "/tables/t0/fields")] {
        let schema = schema_of(place.project, tables, fields);
        for utility in ["/utils/schema/verifyUpdateSchema", "/utils/schema/compareSchema"] {
            let (status, body) = json(app.post(utility).json(&json!({"schema": schema})).send().await.unwrap()).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("schema_too_large")), "{utility}");
            assert!(body["message"].as_str().unwrap().contains("at most 500 tables of at most 500 fields"));
            assert_eq!(body["errors"][0]["instancePath"], path);
        }
        let publish = format!("/project/{}/schema", place.project);
        let (status, body) = app.call(owner, "POST", &publish, Some(json!({"schema": schema}))).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("schema_too_large")));
    }
    // At the limits, all is well.
    let (status, body) = json(
        app.post("/utils/schema/verifyUpdateSchema")
            .json(&json!({"schema": schema_of(place.project, 500, 1)}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["valid"].as_bool()), (200, Some(true)), "{}", body["errors"]);
    let publish = format!("/project/{}/schema", place.project);
    let (status, _) =
        app.call(owner, "POST", &publish, Some(json!({"schema": schema_of(place.project, 2, 500)}))).await;
    assert_eq!(status, 200);
}

async fn invites_to_an_email_need_their_token(app: TestApp) {
    let (people, place) = setting(&app).await;
    let owner = &people.owner.token;
    let invites = format!("/team/{}/invite", place.team);
    let (status, made) =
        app.call(owner, "POST", &invites, Some(json!({"email": people.outsider.email, "roles": "admin"}))).await;
    assert_eq!(status, 201, "{made}");
    assert!(made["data"].get("account_id").is_none(), "never says whether the address has an account: {made}");
    let token = made["data"]["token"].as_str().expect("a token for an email invite").to_owned();
    let id = made["data"]["id"].as_str().unwrap().to_owned();
    let (_, stranger) =
        app.call(owner, "POST", &invites, Some(json!({"email": "nobody-here@example.com", "roles": "viewer"}))).await;
    assert!(stranger["data"].get("account_id").is_none());

    // Holding the address is not enough: anyone can sign up with any address.
    let outsider = &people.outsider.token;
    let (status, body) = app.call(outsider, "POST", "/team/accept-invite", Some(json!({"invite_id": id}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invite_token_required")), "{body}");
    let wrong = json!({"invite_id": id, "token": "x".repeat(43)});
    let (status, body) = app.call(outsider, "POST", "/team/accept-invite", Some(wrong)).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("invite_not_found")));
    let (_, members) = app.call(owner, "GET", &format!("/team/{}/member", place.team), None).await;
    assert!(!members.to_string().contains(&people.outsider.id.to_string()), "nobody joined");

    // The token is the proof, whoever presents it; it works once.
    let accepted = json!({"invite_id": id, "token": token});
    let (status, body) = app.call(outsider, "POST", "/team/accept-invite", Some(accepted.clone())).await;
    assert_eq!((status, body["data"]["roles"].as_str()), (200, Some("admin")), "{body}");
    let (status, body) = app.call(&people.app_user.token, "POST", "/team/accept-invite", Some(accepted)).await;
    assert_eq!(status, 403, "app users are not developers: {body}");
    let again = json!({"invite_id": id, "token": token});
    let other = world::actor(&app, "late", "profile admin").await;
    let (status, body) = app.call(&other.token, "POST", "/team/accept-invite", Some(again)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invite_used")));

    // Invites made out to a username work as before, without a token.
    let username = app.state.app.store.account_by_id(other.id).await.unwrap().unwrap().username.unwrap();
    let (status, made) =
        app.call(owner, "POST", &invites, Some(json!({"username": username, "roles": "viewer"}))).await;
    assert_eq!(status, 201, "{made}");
    assert!(made["data"].get("token").is_none());
    let by_name = json!({"invite_id": made["data"]["id"]});
    assert_eq!(app.call(&other.token, "POST", "/team/accept-invite", Some(by_name)).await.0, 200);
}

async fn only_those_who_invite_see_pending_invites(app: TestApp) {
    let (people, place) = setting(&app).await;
    let invites = format!("/team/{}/invite", place.team);
    let team = format!("/team/{}", place.team);
    for (who, sees) in [(&people.owner, true), (&people.admin, true), (&people.member, false), (&people.viewer, false)]
    {
        let (status, listed) = app.call(&who.token, "GET", &invites, None).await;
        assert_eq!(status, 200);
        assert_eq!(listed["data"].as_array().unwrap().len(), usize::from(sees), "{}: {listed}", who.email);
        let (_, detail) = app.call(&who.token, "GET", &team, None).await;
        assert_eq!(detail["data"]["invites"].as_array().unwrap().len(), usize::from(sees), "{}", who.email);
    }
}

async fn invites_are_throttled_per_account(app: TestApp) {
    let (people, place) = setting(&app).await;
    let invites = format!("/team/{}/invite", place.team);
    let max = basic_admin_app::services::teams::MAX_INVITES_PER_HOUR;
    for i in 0..max {
        let body = json!({"email": format!("guest{i}@example.com"), "roles": "viewer"});
        assert_eq!(app.call(&people.admin.token, "POST", &invites, Some(body)).await.0, 201);
    }
    let body = json!({"email": "one-more@example.com", "roles": "viewer"});
    let (status, answer) = app.call(&people.admin.token, "POST", &invites, Some(body.clone())).await;
    assert_eq!((status, answer["error"].as_str()), (429, Some("too_many_requests")));
    assert_eq!(app.call(&people.owner.token, "POST", &invites, Some(body)).await.0, 201, "per account");
}

async fn userinfo_shows_what_the_token_was_consented(app: TestApp) {
    let (people, place) = setting(&app).await;
    let user = &people.app_user;
    let project = place.project.to_string();
    let expect = [
        ("openid", false, false),
        ("profile", false, true),
        ("email", true, false),
        ("openid profile email", true, true),
    ];
    for (scope, email, profile) in expect {
        let token = world::token_for(&app, user.id, scope, &project).await;
        let (status, info) = app.call(&token, "GET", "/auth/userinfo", None).await;
        assert_eq!(status, 200);
        assert_eq!(info["id"], user.id.to_string());
        assert!(info["sub"].as_str().unwrap().starts_with("did:web:"));
        assert_eq!(info.get("email").is_some(), email, "{scope}: {info}");
        assert_eq!(info.get("email_verified").and_then(Value::as_bool), email.then_some(false), "{scope}");
        assert_eq!(info.get("name").is_some(), profile, "{scope}: {info}");
        assert_eq!(info.get("username").is_some(), profile, "{scope}: {info}");
    }
    // The CLI acts for the account's own owner: it sees the email it asked no scope for.
    let tokens = flows::developer_tokens(&app, "dev@consent.example").await;
    let (_, info) = app.call(tokens["access_token"].as_str().unwrap(), "GET", "/auth/userinfo", None).await;
    assert_eq!(info["email"], "dev@consent.example");
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims = id_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (claims["email"].as_str(), claims["email_verified"].as_bool()),
        (Some("dev@consent.example"), Some(false))
    );
}

async fn a_partial_update_cannot_remove_a_required_field(app: TestApp) {
    let (people, place) = setting(&app).await;
    let data = world::app_data(&app, &people, place.project).await;
    let owner = &people.owner.token;
    let schema = json!({"project_id": place.project, "version": 2, "tables": {"todos": {"type": "collection", "fields": {
        "title": {"type": "string", "required": true}, "done": {"type": "boolean"}}}}});
    let publish = format!("/project/{}/schema", place.project);
    assert_eq!(app.call(owner, "POST", &publish, Some(json!({"schema": schema}))).await.0, 200);
    let user = data.user_did.replace('%', "%25");
    let item = format!("/project/{}/user/{user}/db/todos/{}", place.project, data.item);
    let (status, body) = app.call(owner, "PATCH", &item, Some(json!({"value": {"title": null}}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_data")), "{body}");
    assert_eq!(body["message"], "Field title is required.");
    let (_, kept) = app.call(owner, "GET", &item, None).await;
    assert_eq!(kept["data"]["title"], "World", "{kept}");
    let (status, _) = app.call(owner, "PATCH", &item, Some(json!({"value": {"done": true}}))).await;
    assert_eq!(status, 200, "other changes go on");
}

async fn long_nonces_are_refused(app: TestApp) {
    let nonce = "n".repeat(257);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile,admin", &[("nonce", &nonce)]);
    let response = app.get(&format!("/auth/authorize?{query}")).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(CLI_REDIRECT_URI), "{location}");
    assert_eq!(flows::query_param(&location, "error").as_deref(), Some("invalid_request"));
    let fine = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile,admin", &[("nonce", &"n".repeat(256))]);
    let response = app.get(&format!("/auth/authorize?{fine}")).send().await.unwrap();
    assert!(response.headers()["location"].to_str().unwrap().starts_with("/auth/login"));
}

fn pkce_required() -> Setup {
    Setup { flags: Flags { require_pkce: Some("true".into()), ..Flags::default() }, ..Setup::default() }
}

async fn pkce_can_be_required(app: TestApp) {
    let plain = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile,admin", &[]);
    let response = app.get(&format!("/auth/authorize?{plain}")).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(flows::query_param(&location, "error").as_deref(), Some("invalid_request"), "{location}");
    assert!(flows::query_param(&location, "error_description").unwrap().contains("PKCE"));
    let challenge =
        [("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), ("code_challenge_method", "S256")];
    let with_pkce = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile,admin", &challenge);
    let response = app.get(&format!("/auth/authorize?{with_pkce}")).send().await.unwrap();
    assert!(response.headers()["location"].to_str().unwrap().starts_with("/auth/login"));
}

fn behind_a_proxy() -> Setup {
    Setup { flags: Flags { trusted_proxies: Some("127.0.0.1, ::1".into()), ..Flags::default() }, ..Setup::default() }
}

async fn throttles_count_the_client_behind_a_trusted_proxy(app: TestApp) {
    let (_, place) = setting(&app).await;
    let project = format!("/project/{}", place.project);
    let guess = format!("bsk_{}_{}", Uuid::new_v4().simple(), "a".repeat(43));
    let from = |client: &str, key: &str| {
        app.get(&project).bearer_auth(key).header("x-forwarded-for", format!("198.51.100.77, {client}")).send()
    };
    let max = app.state.config.throttles.keys_per_address;
    for _ in 0..max {
        assert_eq!(from("203.0.113.1", &guess).await.unwrap().status(), 401);
    }
    assert_eq!(from("203.0.113.1", &guess).await.unwrap().status(), 429, "that client waits");
    assert_eq!(from("203.0.113.2", &guess).await.unwrap().status(), 401, "another client behind the proxy does not");
    let key = world::key(&app, place.project, "read").await;
    assert_eq!(from("203.0.113.1", &key).await.unwrap().status(), 200, "a right key is never refused");

    // IPv6 clients count per /64.
    for i in 0..max {
        assert_eq!(from(&format!("2001:db8:5:6::{i:x}"), &guess).await.unwrap().status(), 401);
    }
    assert_eq!(from("2001:db8:5:6:ffff::1", &guess).await.unwrap().status(), 429);
    assert_eq!(from("2001:db8:5:7::1", &guess).await.unwrap().status(), 401);

    // Wrong passwords lock the account at that client, not its owner elsewhere.
    let mut browser = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile", &[]);
    flows::consent_redirect(&mut browser, &query, "victim@proxy.example", false).await;
    let attempt = async |client: &str, password: &str| {
        let mut at = Browser::behind_proxy(&app, client);
        let form = at.get(&format!("/auth/login?{query}")).await;
        let (csrf, request) = (form.hidden("csrf"), form.hidden("request"));
        let fields =
            [("csrf", csrf.as_str()), ("request", &request), ("email", "victim@proxy.example"), ("password", password)];
        at.post("/auth/login", &fields).await.status
    };
    for _ in 0..app.state.config.throttles.sign_in_per_account {
        assert_eq!(attempt("192.0.2.66", "wrong password").await, 401);
    }
    assert_eq!(attempt("192.0.2.66", flows::PASSWORD).await, 429, "the guesser's client is locked out");
    assert_eq!(attempt("192.0.2.10", flows::PASSWORD).await, 303, "the owner elsewhere signs in");
}

async fn profile_changes_and_uploads_made_at_once_all_stay(app: TestApp) {
    let (people, place) = setting(&app).await;
    let project = format!("/project/{}", place.project);
    let owner = &people.owner.token;
    let png = crate::uploads::image(2, 2, image::ImageFormat::Png);
    let (content_type, form) = crate::uploads::multipart("file", "icon.png", "image/png", &png);
    let (app_ref, path) = (&app, project.as_str());
    let patches = (0..8).map(|i| {
        let body = json!({"data": {"profile": {format!("key_{i}"): i}}});
        async move { app_ref.call(owner, "PATCH", path, Some(body)).await.0 }
    });
    let upload = async {
        let url = app.url(&format!("{project}/upload/icon"));
        let request = app.client.post(url).bearer_auth(owner).header("content-type", &content_type).body(form.clone());
        request.send().await.unwrap().status().as_u16()
    };
    let (statuses, uploaded) = tokio::join!(futures_util::future::join_all(patches), upload);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(uploaded, 200);
    let (_, shown) = app.call(owner, "GET", &project, None).await;
    let profile = &shown["data"]["profile"];
    for i in 0..8 {
        assert_eq!(profile[format!("key_{i}")], i, "key_{i} was lost: {profile}");
    }
    assert!(profile["icon_url"].is_string(), "the icon was lost: {profile}");
}

async fn uploads_are_refused_before_their_body_is_read(app: TestApp) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (people, place) = setting(&app).await;
    let (content_type, form) = crate::uploads::multipart("file", "big.png", "image/png", &vec![7u8; 3 << 20]);
    // Headers and the first KiB of a 3 MiB form, the rest never sent: the
    // answer must come without the body.
    let status_without_body = async |token: &str| {
        let address = app.base.trim_start_matches("http://").to_owned();
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST /project/{}/upload/icon HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            place.project,
            form.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&form[..1024]).await.unwrap();
        let mut answer = vec![0u8; 12];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read_exact(&mut answer)).await;
        assert!(read.is_ok(), "no answer until the body is sent");
        String::from_utf8_lossy(&answer[9..12]).parse::<u16>().unwrap()
    };
    assert_eq!(status_without_body(&people.outsider.token).await, 404);
    assert_eq!(status_without_body(&people.viewer.token).await, 403);
    assert_eq!(status_without_body(&people.app_user.token).await, 403);
}
