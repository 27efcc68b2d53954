//! The users of a project's app: connecting, listing, annotating, counting
//! and removing them.

use basic_admin_core::store::Connection;
use basic_admin_core::time;
use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, json, on_both_backends};
use crate::world::{self, Actor, People, Place};

on_both_backends!(
    users_connect_with_tokens_of_their_app,
    users_are_listed_read_annotated_and_removed,
    stats_count_days_weeks_and_months,
    refused_connections_are_throttled,
    an_app_user_journey
);

/// The path of a user of `place`'s project (the DID percent-encoded).
pub fn user_path(place: &Place, did: &str) -> String {
    format!("/project/{}/user/{}", place.project, did.replace('%', "%25"))
}

/// Connects `actor` to the project's app with a token of `scope`: the answer.
pub async fn connect(app: &TestApp, place: &Place, actor: &Actor, scope: &str) -> (u16, Value) {
    let token = world::token_for(app, actor.id, scope, &place.project.to_string()).await;
    let path = format!("/project/{}/user/connect", place.project);
    json(app.post(&path).json(&json!({"token": token})).send().await.unwrap()).await
}

async fn users_connect_with_tokens_of_their_app(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let (status, connected) = connect(&app, &place, &people.app_user, "openid profile").await;
    assert_eq!(status, 200, "{connected}");
    let did = connected["user_did"].as_str().unwrap().to_owned();
    assert!(did.starts_with("did:web:") && did.ends_with(&people.app_user.id.simple().to_string()), "{did}");
    assert_eq!(connected, json!({"ok": true, "user_did": did, "pds_url": app.state.config.public_url}));
    // The hex form of the project's id works too; connecting again changes nothing but the time.
    let hex = format!("/project/{}/user/connect", place.project.simple());
    let token = world::token_for(&app, people.app_user.id, "openid", &place.project.to_string()).await;
    assert_eq!(json(app.post(&hex).json(&json!({"token": token})).send().await.unwrap()).await.0, 200);
    let (_, listed) = app.call(&people.owner.token, "GET", &format!("/project/{}/user", place.project), None).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    let connect_path = format!("/project/{}/user/connect", place.project);
    let other_app = world::token_for(&app, people.app_user.id, "openid", &Uuid::new_v4().to_string()).await;
    let foreign = {
        use base64::Engine as _;
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", b64(json!({"alg": "RS256"})), b64(json!({"iss": "https://pds.elsewhere.example"})))
    };
    for (token, says) in [
        (other_app.as_str(), "another app"),
        (foreign.as_str(), "pds.elsewhere.example"),
        ("not a token", "not valid"),
        (people.owner.token.as_str(), "another app"),
    ] {
        let (status, body) = json(app.post(&connect_path).json(&json!({"token": token})).send().await.unwrap()).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "{token}: {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{body}");
    }
    let nowhere = format!("/project/{}/user/connect", Uuid::new_v4());
    assert_eq!(json(app.post(&nowhere).json(&json!({"token": token})).send().await.unwrap()).await.0, 404);
    assert_eq!(json(app.post(&connect_path).json(&json!({})).send().await.unwrap()).await.0, 400);
}

async fn users_are_listed_read_annotated_and_removed(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let (_, first) = connect(&app, &place, &people.app_user, "openid profile").await;
    let second = world::actor(&app, "second", "profile").await;
    let (_, other) = connect(&app, &place, &second, "openid profile email").await;
    let users = format!("/project/{}/user", place.project);

    let (status, listed) = app.call(&people.viewer.token, "GET", &users, None).await;
    assert_eq!(status, 200);
    let listed = listed["data"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["user_did"], first["user_did"], "first connected first");
    assert_eq!((listed[0]["status"].as_str(), listed[0]["meta"].clone()), (Some("active"), json!({})));
    assert_eq!(listed[0]["profile"], json!({"name": "appuser"}), "no email without the email scope");
    assert_eq!(listed[1]["profile"], json!({"name": "second", "email": second.email}));
    for field in ["id", "pds_url", "last_seen_at", "created_at"] {
        assert!(listed[0][field].is_string(), "{field}");
    }

    let did = first["user_did"].as_str().unwrap();
    let one = user_path(&place, did);
    let (status, shown) = app.call(&people.viewer.token, "GET", &one, None).await;
    assert_eq!((status, shown["data"]["user_did"].as_str()), (200, Some(did)));
    let (status, missing) = app.call(&people.viewer.token, "GET", &user_path(&place, "did:web:nobody"), None).await;
    assert_eq!((status, missing["error"].as_str()), (404, Some("user_not_found")));

    // meta is merged; null removes a key.
    let owner = &people.owner.token;
    let (status, changed) = app.call(owner, "PATCH", &one, Some(json!({"meta": {"plan": "pro", "seats": 3}}))).await;
    assert_eq!((status, changed["data"]["meta"].clone()), (200, json!({"plan": "pro", "seats": 3})));
    let (_, changed) = app.call(owner, "PATCH", &one, Some(json!({"meta": {"plan": null, "tier": "a"}}))).await;
    assert_eq!(changed["data"]["meta"], json!({"seats": 3, "tier": "a"}));
    let huge = json!({"meta": {"blob": "x".repeat(17 * 1024)}});
    for (body, code) in [(huge, "meta_too_large"), (json!({}), "missing_meta"), (json!({"meta": 3}), "invalid_json")] {
        let (status, refused) = app.call(owner, "PATCH", &one, Some(body)).await;
        assert_eq!(status, 400, "{refused}");
        if code != "invalid_json" {
            assert_eq!(refused["error"].as_str(), Some(code));
        }
    }
    assert_eq!(app.call(owner, "GET", &one, None).await.1["data"]["meta"], json!({"seats": 3, "tier": "a"}));
    // Connecting again keeps what the developer noted.
    connect(&app, &place, &people.app_user, "openid").await;
    assert_eq!(app.call(owner, "GET", &one, None).await.1["data"]["meta"], json!({"seats": 3, "tier": "a"}));

    let (status, removed) = app.call(owner, "DELETE", &one, None).await;
    assert_eq!((status, removed["success"].as_bool()), (200, Some(true)), "{removed}");
    assert_eq!(app.call(owner, "GET", &one, None).await.0, 404);
    assert_eq!(app.call(owner, "DELETE", &one, None).await.0, 404);
    let (_, left) = app.call(owner, "GET", &users, None).await;
    assert_eq!(left["data"][0]["user_did"], other["user_did"]);
}

/// Users with activity on given days ago, through the store.
async fn history(app: &TestApp, project: Uuid, users: &[(&str, &[i64])]) {
    let today = time::now().date_naive();
    for (did, days_ago) in users {
        let first = today - Duration::days(*days_ago.iter().max().unwrap());
        let connection = Connection {
            id: Uuid::new_v4(),
            project_id: project,
            user_did: (*did).into(),
            pds_url: "https://pds.example".into(),
            account_id: None,
            scopes: "openid".into(),
            at: first.and_hms_opt(12, 0, 0).unwrap().and_utc(),
        };
        app.state.app.store.connect_user(connection).await.unwrap();
        for ago in *days_ago {
            app.state.app.store.record_activity(project, did, today - Duration::days(*ago)).await.unwrap();
        }
    }
}

async fn stats_count_days_weeks_and_months(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    // 40 days of history: a daily user, a weekly one, one last seen 20 and
    // 35 days ago, and one only 39 days ago.
    let daily: Vec<i64> = (0..40).collect();
    let weekly: Vec<i64> = (0..40).step_by(7).collect();
    history(&app, place.project, &[("did:a", &daily), ("did:b", &weekly), ("did:c", &[20, 35]), ("did:d", &[39])])
        .await;
    let (status, stats) =
        app.call(&people.viewer.token, "GET", &format!("/project/{}/user/stats", place.project), None).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!((stats["total"].clone(), stats["dau"].clone()), (json!(4), json!(2)));
    assert_eq!((stats["wau"].clone(), stats["mau"].clone()), (json!(2), json!(3)));
    let series = stats["series"].as_array().unwrap();
    assert_eq!(series.len(), 30);
    let today = time::now().date_naive();
    for (i, day) in series.iter().enumerate() {
        let ago = 29 - i as i64;
        let date = today - Duration::days(ago);
        assert_eq!(day["date"].as_str().unwrap().parse::<NaiveDate>().unwrap(), date, "oldest first");
        let expected = 1 + u64::from(ago % 7 == 0) + u64::from(ago == 20);
        assert_eq!(day["active_users"], json!(expected), "{ago} days ago");
    }
    // A project without users has zeros, not gaps.
    let empty = world::place(&app, &people, true).await;
    let (_, stats) =
        app.call(&people.owner.token, "GET", &format!("/project/{}/user/stats", empty.project), None).await;
    assert_eq!((stats["total"].clone(), stats["mau"].clone()), (json!(0), json!(0)));
    assert!(stats["series"].as_array().unwrap().iter().all(|d| d["active_users"] == 0));
}

async fn refused_connections_are_throttled(app: TestApp) {
    use basic_admin_app::auth::throttle::connect::MAX_PER_ADDRESS;
    let people: People = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let path = format!("/project/{}/user/connect", place.project);
    for _ in 0..MAX_PER_ADDRESS {
        let (status, _) = json(app.post(&path).json(&json!({"token": "bad"})).send().await.unwrap()).await;
        assert_eq!(status, 401);
    }
    let response = app.post(&path).json(&json!({"token": "bad"})).send().await.unwrap();
    assert!(response.headers().contains_key("retry-after"));
    let (status, body) = json(response).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("too_many_requests")), "one more bad token waits");
    let token = world::token_for(&app, people.app_user.id, "openid", &place.project.to_string()).await;
    let (status, _) = json(app.post(&path).json(&json!({"token": token})).send().await.unwrap()).await;
    assert_eq!(status, 200, "a good token is never refused for the address's failures");
}

/// A developer sets up an app; a user signs in to it through this server's
/// pages; the app reports the connection; the developer sees the user, keeps
/// data for them, and removes them.
async fn an_app_user_journey(app: TestApp) {
    use crate::flows;
    let dev = flows::developer_tokens(&app, "dev@journey.example").await["access_token"].as_str().unwrap().to_owned();
    let (_, team) = app.call(&dev, "POST", "/team", Some(json!({"name": "Apps", "slug": "apps"}))).await;
    let team = team["data"]["id"].as_str().unwrap().to_owned();
    let (_, project) = app.call(&dev, "POST", "/project", Some(json!({"name": "Notes", "team_id": team}))).await;
    let project = project["data"]["id"].as_str().unwrap().to_owned();
    let callback = "https://notes.example/callback";
    let settings = json!({"auth": {"redirect_uris": [callback]}});
    assert_eq!(app.call(&dev, "PATCH", &format!("/project/{project}/settings"), Some(settings)).await.0, 200);
    let schema = json!({"project_id": project, "version": 1, "tables": {"notes": {"type": "collection", "fields": {"body": {"type": "string", "required": true}}}}});
    assert_eq!(
        app.call(&dev, "POST", &format!("/project/{project}/schema"), Some(json!({"schema": schema}))).await.0,
        200
    );

    // The user signs in to the app, which exchanges the code and reports the connection.
    let mut browser = flows::Browser::new(&app);
    let query = flows::authorize_query(&project, callback, "openid profile email", &[]);
    let redirect = flows::consent_redirect(&mut browser, &query, "reader@journey.example", false).await;
    let code = flows::query_param(&redirect, "code").expect("a code");
    let form =
        [("grant_type", "authorization_code"), ("client_id", &project), ("code", &code), ("redirect_uri", callback)];
    let (status, tokens) = flows::token_form(&app, &form).await;
    assert_eq!(status, 200, "{tokens}");
    let path = format!("/project/{project}/user/connect");
    let (status, connected) =
        json(app.post(&path).json(&json!({"token": tokens["access_token"]})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{connected}");
    let did = connected["user_did"].as_str().unwrap().to_owned();

    let (_, users) = app.call(&dev, "GET", &format!("/project/{project}/user"), None).await;
    assert_eq!(users["data"][0]["user_did"].as_str(), Some(did.as_str()));
    assert_eq!(users["data"][0]["profile"], json!({"name": "Test User", "email": "reader@journey.example"}));

    let user = format!("/project/{project}/user/{}", did.replace('%', "%25"));
    let (status, note) =
        app.call(&dev, "POST", &format!("{user}/db/notes"), Some(json!({"value": {"body": "hello"}}))).await;
    assert_eq!(status, 200, "{note}");
    let (_, notes) = app.call(&dev, "GET", &format!("{user}/db/notes"), None).await;
    assert_eq!(notes["data"], json!([note["data"]]));
    let (_, stats) = app.call(&dev, "GET", &format!("/project/{project}/user/stats"), None).await;
    assert_eq!((stats["total"].clone(), stats["dau"].clone()), (json!(1), json!(1)));

    assert_eq!(app.call(&dev, "DELETE", &user, None).await.0, 200);
    let (_, users) = app.call(&dev, "GET", &format!("/project/{project}/user"), None).await;
    assert_eq!(users["data"], json!([]));
    assert_eq!(app.call(&dev, "GET", &format!("{user}/db/notes"), None).await.0, 404);
}
