//! The app SDK's calls, exactly as `sdk-protocol.md` lists them: the
//! published 0.5.0 (bare `{"code"}` token requests, `refresh`, `userInfo`)
//! and the newer line (`did:web` client ids, PKCE, `/auth/session`, several
//! tabs sharing one refresh token), and the records a signed-in user keeps
//! over REST.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::flows::{Browser, authorize_query, challenge, consent_redirect, query_param, seed_project};
use crate::harness::{Setup, TestApp, json, on_both_backends};

on_both_backends!(
    sdk_050_signs_in_and_refreshes_with_bare_codes,
    bare_requests_still_need_their_pkce_verifier,
    newer_sdk_signs_in_with_a_did_client_and_checks_its_session,
    two_tabs_refreshing_with_one_token_get_the_same_successor,
    the_newer_sdk_keeps_its_records_over_rest,
    sdk_050_data_paths_name_the_signed_in_account,
    only_the_apps_own_users_reach_its_data_routes,
);
on_both_backends!(with short_grace; a_rotated_token_presented_after_the_window_revokes_the_sign_in);

on_both_backends!(with small_tables; a_full_table_is_a_clear_409_and_nothing_more_is_stored);

fn small_tables() -> Setup {
    let mut setup = Setup::default();
    setup.flags.max_records_per_table = Some("2".into());
    setup
}

fn short_grace() -> Setup {
    let mut setup = Setup::default();
    setup.flags.refresh_grace_secs = Some("1".into());
    setup
}

const PAGE: &str = "https://todo.example/app/?list=home";
const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";

fn email() -> String {
    format!("{}@users.example", Uuid::new_v4())
}

/// Signs a new user up on the pages for `client_id`: the code.
async fn code_for(app: &TestApp, client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut browser = Browser::new(app);
    let query = authorize_query(client_id, PAGE, scope, extra);
    let redirect = consent_redirect(&mut browser, &query, &email(), false).await;
    assert!(redirect.starts_with(PAGE), "back to the page the SDK was on: {redirect}");
    query_param(&redirect, "code").expect("a code")
}

async fn token(app: &TestApp, body: Value) -> (u16, Value) {
    json(app.post("/auth/token").json(&body).send().await.unwrap()).await
}

async fn get(app: &TestApp, path: &str, bearer: &str) -> (u16, Value) {
    json(app.get(path).bearer_auth(bearer).send().await.unwrap()).await
}

fn did_client(app: &TestApp, project: Uuid) -> String {
    let host = app.state.config.public_url.split("://").nth(1).unwrap().split(':').next().unwrap().to_owned();
    format!("did:web:{host}:projects:{}", project.simple())
}

async fn sdk_050_signs_in_and_refreshes_with_bare_codes(app: TestApp) {
    let project = seed_project(&app, &["https://todo.example/"]).await;
    let code = code_for(&app, &project.to_string(), "openid", &[]).await;
    assert!(code.starts_with("code_"), "{code}");

    let (status, tokens) = token(&app, json!({"code": code})).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["refresh"], tokens["refresh_token"], "0.5.0 reads `refresh`");
    assert!(tokens["refresh"].as_str().unwrap().starts_with("refresh_"));
    let access = tokens["access_token"].as_str().unwrap();

    let (status, me) = get(&app, "/auth/userInfo", access).await;
    assert_eq!(status, 200, "{me}");
    let sub = me["sub"].as_str().unwrap();
    assert!(sub.ends_with(me["id"].as_str().unwrap().replace('-', "").as_str()), "{me}");

    // The user is the project's as soon as they signed in.
    let users = app.state.app.store.project_users(project).await.unwrap();
    assert_eq!(users.iter().map(|u| u.user_did.as_str()).collect::<Vec<_>>(), [sub]);

    let (status, refreshed) = token(&app, json!({"code": tokens["refresh"]})).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_ne!(refreshed["refresh"], tokens["refresh"]);
    let (status, me_again) = get(&app, "/auth/userInfo", refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!((status, &me_again["id"]), (200, &me["id"]));

    // A code comes back: a thief or a bug. The sign-in it began is revoked.
    let (status, again) = token(&app, json!({"code": code})).await;
    assert_eq!((status, again["error"].as_str()), (400, Some("invalid_grant")), "codes are single use");
    let (status, _) = token(&app, json!({"code": refreshed["refresh"]})).await;
    assert_eq!(status, 400);

    let (status, unknown) = token(&app, json!({"code": "code_nothing-like-it"})).await;
    assert_eq!((status, unknown["error"].as_str()), (400, Some("invalid_grant")));
    let (status, nothing) = token(&app, json!({})).await;
    assert_eq!((status, nothing["error"].as_str()), (400, Some("invalid_request")));
}

async fn bare_requests_still_need_their_pkce_verifier(app: TestApp) {
    let project = seed_project(&app, &["https://todo.example/"]).await;
    let pkce = [("code_challenge", challenge(VERIFIER)), ("code_challenge_method", "S256".into())];
    let pkce: Vec<(&str, &str)> = pkce.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let code = code_for(&app, &project.to_string(), "openid", &pkce).await;
    let (status, refused) = token(&app, json!({"code": code})).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "{refused}");

    let code = code_for(&app, &project.to_string(), "openid", &pkce).await;
    let (status, tokens) = token(&app, json!({"code": code, "code_verifier": VERIFIER})).await;
    assert_eq!(status, 200, "{tokens}");

    // A bare request that names another client, or another page, is refused.
    let code = code_for(&app, &project.to_string(), "openid", &[]).await;
    let other = seed_project(&app, &["https://todo.example/"]).await;
    let (status, wrong) = token(&app, json!({"code": code, "client_id": other.to_string()})).await;
    assert_eq!((status, wrong["error"].as_str()), (400, Some("invalid_grant")));
    let code = code_for(&app, &project.to_string(), "openid", &[]).await;
    let (status, wrong) = token(&app, json!({"code": code, "redirect_uri": "https://todo.example/other"})).await;
    assert_eq!((status, wrong["error"].as_str()), (400, Some("invalid_grant")));
}

async fn newer_sdk_signs_in_with_a_did_client_and_checks_its_session(app: TestApp) {
    let project = seed_project(&app, &["https://todo.example/"]).await;
    let client_id = did_client(&app, project);
    let pkce = [("code_challenge", challenge(VERIFIER)), ("code_challenge_method", "S256".into())];
    let pkce: Vec<(&str, &str)> = pkce.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let code = code_for(&app, &client_id, "profile,email,app:admin", &pkce).await;
    let body = json!({"grant_type": "authorization_code", "code": code, "redirect_uri": PAGE,
        "code_verifier": VERIFIER, "client_id": client_id});
    let (status, tokens) = token(&app, body).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "profile email app:admin");
    let access = tokens["access_token"].as_str().unwrap();

    let (status, me) = get(&app, "/auth/userinfo", access).await;
    assert_eq!(status, 200, "{me}");
    assert!(me["email"].as_str().unwrap().ends_with("@users.example"), "email was consented to: {me}");

    let (status, session) = get(&app, "/auth/session", access).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["active"], true);
    assert_eq!(session["scope"], "profile email app:admin");
    assert_eq!(session["client_id"], project.to_string());
    assert_eq!(session["account_did"], me["sub"]);
    assert!(session["expires_at"].as_str().unwrap().contains('T'), "{session}");

    // `app:admin` is the user's own data, never the developer endpoints.
    let (status, _) = get(&app, "/project", access).await;
    assert_eq!(status, 403);

    // The percent-encoded port names the same project; another host does not.
    let port = app.state.config.public_url.rsplit(':').next().unwrap().to_owned();
    let with_port = client_id.replacen(":projects:", &format!("%3A{port}:projects:"), 1);
    let query = authorize_query(&with_port, PAGE, "openid", &[]);
    assert_eq!(app.get(&format!("/auth/authorize?{query}")).send().await.unwrap().status(), 302);
    let elsewhere = format!("did:web:evil.example:projects:{}", project.simple());
    let query = authorize_query(&elsewhere, PAGE, "openid", &[]);
    let (status, body) = json(app.get(&format!("/auth/authorize?{query}")).send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client")));

    // Refreshing as the newer SDK does, then signing out everywhere: the session is over.
    let body = json!({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id});
    let (status, refreshed) = token(&app, body).await;
    assert_eq!(status, 200, "{refreshed}");
    let (status, reused) = token(&app, json!({"grant_type": "refresh_token", "refresh_token": "refresh_forged"})).await;
    assert_eq!((status, reused["error"].as_str()), (400, Some("invalid_grant")));
    let sid =
        app.state.app.keys.verify::<basic_admin_app::auth::claims::AccessClaims>(access, "at+jwt").await.unwrap().sid;
    app.state.app.store.revoke_token_family(sid).await.unwrap();
    app.state.app.revocations.insert(sid, basic_admin_core::time::now());
    let (status, over) = get(&app, "/auth/session", refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!((status, over["error"].as_str(), &over["reauth_required"]), (401, Some("invalid_token"), &json!(true)));
    let (status, none) = json(app.get("/auth/session").send().await.unwrap()).await;
    assert_eq!((status, &none["reauth_required"]), (401, &json!(true)));
}

/// Signs in as an app would; the token answer.
async fn signed_in(app: &TestApp) -> Value {
    let project = seed_project(app, &["https://todo.example/"]).await;
    let code = code_for(app, &project.to_string(), "openid", &[]).await;
    let (status, tokens) = token(app, json!({"code": code})).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn two_tabs_refreshing_with_one_token_get_the_same_successor(app: TestApp) {
    let tokens = signed_in(&app).await;
    let shared = json!({"code": tokens["refresh"]});
    let ((a_status, a), (b_status, b)) = tokio::join!(token(&app, shared.clone()), token(&app, shared.clone()));
    assert_eq!((a_status, b_status), (200, 200), "{a} {b}");
    assert_eq!(a["refresh"], b["refresh"], "both tabs hold the one current token");
    let (status, _) = get(&app, "/auth/session", b["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    // Two CLI processes refreshing at once, the standard way: the same.
    let standard = json!({"grant_type": "refresh_token", "refresh_token": b["refresh"]});
    let ((c_status, c), (d_status, d)) = tokio::join!(token(&app, standard.clone()), token(&app, standard));
    assert_eq!((c_status, d_status), (200, 200), "{c} {d}");
    assert_eq!(c["refresh_token"], d["refresh_token"]);

    // The successor goes on as usual, and then the first token is spent for good.
    let (status, next) = token(&app, json!({"code": c["refresh"]})).await;
    assert_eq!(status, 200, "{next}");
    let (status, late) = token(&app, shared).await;
    assert_eq!((status, late["error"].as_str()), (400, Some("invalid_grant")), "its successor has moved on");
    let (status, _) = token(&app, json!({"code": next["refresh"]})).await;
    assert_eq!(status, 400, "a reuse outside the rule revokes the sign-in");
}

async fn a_rotated_token_presented_after_the_window_revokes_the_sign_in(app: TestApp) {
    let tokens = signed_in(&app).await;
    let (status, first) = token(&app, json!({"code": tokens["refresh"]})).await;
    assert_eq!(status, 200, "{first}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, reused) = token(&app, json!({"code": tokens["refresh"]})).await;
    assert_eq!((status, reused["error"].as_str()), (400, Some("invalid_grant")), "{reused}");
    let (status, _) = token(&app, json!({"code": first["refresh"]})).await;
    assert_eq!(status, 400, "the whole sign-in is revoked");
    let (status, session) = get(&app, "/auth/session", first["access_token"].as_str().unwrap()).await;
    assert_eq!((status, &session["reauth_required"]), (401, &json!(true)));
}

/// A project with the world's first schema, and a new account signed in to
/// its app (not yet a user of the project): the project and the token.
async fn app_with_user(app: &TestApp) -> (crate::world::People, crate::world::Place, crate::world::Actor, String) {
    let people = crate::world::people(app).await;
    let place = crate::world::place(app, &people, true).await;
    crate::world::app_data(app, &people, place.project).await;
    let user = crate::world::actor(app, "sdkuser", "openid").await;
    let token = crate::world::token_for(app, user.id, "openid", &place.project.to_string()).await;
    (people, place, user, token)
}

async fn the_newer_sdk_keeps_its_records_over_rest(app: TestApp) {
    let (people, place, user, token) = app_with_user(&app).await;
    let todos = format!("/account/{}/db/todos", place.project);
    let call = |method: &'static str, path: String, body: Option<Value>| {
        let (app, token) = (&app, token.clone());
        async move { app.call(&token, method, &path, body).await }
    };

    let (status, empty) = call("GET", todos.clone(), None).await;
    assert_eq!((status, empty["data"].clone(), empty["next_cursor"].clone()), (200, json!([]), Value::Null));
    let did = crate::world::user_did(&app.state, user.id);
    assert!(app.state.app.store.project_user(place.project, &did).await.unwrap().is_some(), "connected on first call");

    let (status, made) = call("POST", todos.clone(), Some(json!({"value": {"id": "todo-1", "title": "Milk"}}))).await;
    assert_eq!((status, made["data"].clone()), (200, json!({"id": "todo-1", "title": "Milk"})));
    let (status, server_made) = call("POST", todos.clone(), Some(json!({"value": {"title": "Bread"}}))).await;
    assert_eq!(status, 200, "{server_made}");
    let made_id = server_made["data"]["id"].as_str().unwrap().to_owned();
    assert!(Uuid::try_parse(&made_id).is_ok(), "the server makes a UUID: {made_id}");
    let (status, taken) = call("POST", todos.clone(), Some(json!({"value": {"id": "todo-1", "title": "x"}}))).await;
    assert_eq!((status, taken["error"].as_str()), (409, Some("item_exists")));

    let (status, one) = call("GET", format!("{todos}?id=todo-1"), None).await;
    assert_eq!((status, one["data"][0]["title"].as_str()), (200, Some("Milk")));
    let (status, none) = call("GET", format!("{todos}?id=nothing"), None).await;
    assert_eq!((status, none["data"].clone()), (200, json!([])));
    let (status, bad) = call("GET", format!("{todos}?cursor=nope"), None).await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_cursor")));
    let (status, bad) = call("PUT", format!("{todos}/{}", "x".repeat(129)), Some(json!({"value": {}}))).await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_id")));
    let (status, bad) = call("POST", todos.clone(), Some(json!({"title": "no value"}))).await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("missing_value")));

    let (status, put_new) = call("PUT", format!("{todos}/todo-2"), Some(json!({"value": {"title": "Eggs"}}))).await;
    assert_eq!((status, put_new["data"].clone()), (200, json!({"id": "todo-2", "title": "Eggs"})));
    let (status, put_again) =
        call("PUT", format!("{todos}/todo-2"), Some(json!({"value": {"title": "Six eggs"}}))).await;
    assert_eq!((status, put_again["data"]["title"].as_str()), (200, Some("Six eggs")));
    let (status, patched) =
        call("PATCH", format!("{todos}/todo-1"), Some(json!({"value": {"title": "Oat milk"}}))).await;
    assert_eq!((status, patched["data"].clone()), (200, json!({"id": "todo-1", "title": "Oat milk"})));
    let (status, _) = call("PATCH", format!("{todos}/nothing"), Some(json!({"value": {"title": "x"}}))).await;
    assert_eq!(status, 404, "the SDK reads a 404 as null");

    let (status, bad) = call("POST", todos.clone(), Some(json!({"value": {"title": 3}}))).await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_data")), "{bad}");
    let (status, bad) = call("POST", format!("/account/{}/db/nope", place.project), Some(json!({"value": {}}))).await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("unknown_table")));
    let (status, bad) = call("POST", todos.clone(), Some(json!({"value": {"id": "a/b", "title": "x"}}))).await;
    assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_id")));
    let huge = "x".repeat(300 * 1024);
    let (status, _) = call("POST", todos.clone(), Some(json!({"value": {"title": huge}}))).await;
    assert_eq!(status, 413);

    let (status, all) = call("GET", todos.clone(), None).await;
    let ids: Vec<&str> = all["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!((status, ids), (200, vec!["todo-1", made_id.as_str(), "todo-2"]), "creation order");

    // The developers' view holds the same records.
    let developer = format!("/project/{}/user/{}/db/todos", place.project, did.replace('%', "%25"));
    let (status, seen) = app.call(&people.owner.token, "GET", &developer, None).await;
    assert_eq!((status, seen["data"].clone()), (200, all["data"].clone()));

    let (status, _) = call("DELETE", format!("{todos}/todo-1"), None).await;
    assert_eq!(status, 200);
    let (status, _) = call("DELETE", format!("{todos}/todo-1"), None).await;
    assert_eq!(status, 404, "the SDK reads a 404 as false");
    let (status, gone) = call("GET", format!("{todos}/todo-1"), None).await;
    assert_eq!((status, gone["error"].as_str()), (404, Some("item_not_found")));
}

async fn sdk_050_data_paths_name_the_signed_in_account(app: TestApp) {
    let (_, place, user, token) = app_with_user(&app).await;
    let mine = format!("/project/{}/db/{}/todos", place.project, user.id);
    let (status, made) = app.call(&token, "POST", &mine, Some(json!({"value": {"title": "Milk"}}))).await;
    assert_eq!(status, 200, "{made}");
    let id = made["data"]["id"].as_str().unwrap();
    // 0.5.0's update sends the id beside the value.
    let body = json!({"id": id, "value": {"title": "Oat milk"}});
    let (status, patched) = app.call(&token, "PATCH", &format!("{mine}/{id}"), Some(body)).await;
    assert_eq!((status, patched["data"]["title"].as_str()), (200, Some("Oat milk")));
    let (status, listed) = app.call(&token, "GET", &mine, None).await;
    assert_eq!((status, listed["data"].as_array().map(Vec::len)), (200, Some(1)));
    let same = format!("/account/{}/db/todos", place.project);
    assert_eq!(app.call(&token, "GET", &same, None).await.1["data"], listed["data"], "one store, two paths");
    let (status, _) = app.call(&token, "DELETE", &format!("{mine}/{id}"), None).await;
    assert_eq!(status, 200);

    let someone = format!("/project/{}/db/{}/todos", place.project, Uuid::new_v4());
    let (status, refused) = app.call(&token, "GET", &someone, None).await;
    assert_eq!((status, refused["error"].as_str()), (404, Some("user_not_found")));
}

async fn only_the_apps_own_users_reach_its_data_routes(app: TestApp) {
    let (people, place, user, _) = app_with_user(&app).await;
    let todos = format!("/account/{}/db/todos", place.project);
    let other = crate::world::place(&app, &people, true).await;
    let elsewhere = crate::world::token_for(&app, user.id, "openid", &other.project.to_string()).await;
    let (status, refused) = app.call(&elsewhere, "GET", &todos, None).await;
    assert_eq!((status, refused["error"].as_str()), (404, Some("project_not_found")), "a token of another app");
    let (status, _) = app.call(&people.owner.token, "GET", &todos, None).await;
    assert_eq!(status, 404, "a developer's token is not the app's");
    let key = crate::world::key(&app, place.project, "admin").await;
    let (status, refused) = app.call(&key, "GET", &todos, None).await;
    assert_eq!((status, refused["error"].as_str()), (403, Some("forbidden")));
    assert_eq!(app.get(&todos).send().await.unwrap().status(), 401);
}

async fn a_full_table_is_a_clear_409_and_nothing_more_is_stored(app: TestApp) {
    let (_, place, _, token) = app_with_user(&app).await;
    let todos = format!("/account/{}/db/todos", place.project);
    for n in 0..2 {
        let (status, _) = app.call(&token, "POST", &todos, Some(json!({"value": {"title": format!("t{n}")}}))).await;
        assert_eq!(status, 200);
    }
    let (status, full) = app.call(&token, "POST", &todos, Some(json!({"value": {"title": "one more"}}))).await;
    assert_eq!((status, full["error"].as_str()), (409, Some("table_full")), "{full}");
    let (status, full) = app.call(&token, "PUT", &format!("{todos}/new"), Some(json!({"value": {"title": "x"}}))).await;
    assert_eq!((status, full["error"].as_str()), (409, Some("table_full")));
    let (_, listed) = app.call(&token, "GET", &todos, None).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
}
