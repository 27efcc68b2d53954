//! The `projects` operations, and a developer's whole journey through them.

use serde_json::{Value, json};

use crate::flows;
use crate::harness::{TestApp, json, on_both_backends};
use crate::world::{self, Actor};

on_both_backends!(
    projects_are_created_listed_shown_and_updated,
    project_slugs_come_from_names_and_stay_unique,
    concurrent_creates_of_one_project_slug_have_one_winner,
    project_updates_are_checked,
    settings_add_and_remove_redirect_uris,
    settings_are_checked,
    deleting_a_project_deletes_what_belongs_to_it,
    a_developer_journey,
);

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    app.call(token, method, path, body).await
}

async fn team_of(app: &TestApp, owner: &Actor, slug: &str) -> String {
    let (status, body) = call(app, &owner.token, "POST", "/team", Some(json!({"name": "T", "slug": slug}))).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn project_in(app: &TestApp, owner: &Actor, team: &str, name: &str) -> String {
    let (status, body) =
        call(app, &owner.token, "POST", "/project", Some(json!({"name": name, "team_id": team}))).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn projects_are_created_listed_shown_and_updated(app: TestApp) {
    let owner = world::actor(&app, "maker", "profile admin").await;
    let team = team_of(&app, &owner, "makers").await;
    let (status, created) =
        call(&app, &owner.token, "POST", "/project/", Some(json!({"name": "Todo", "team_id": team, "slug": "todo"})))
            .await;
    assert_eq!(status, 201);
    let data = &created["data"];
    assert_eq!((data["name"].as_str(), data["slug"].as_str()), (Some("Todo"), Some("todo")));
    let id = data["id"].as_str().unwrap();

    let patch = json!({"data": {"website": "https://todo.example", "profile": {"icon_url": "https://cdn.example/i.png", "styles": {"background_url": "https://cdn.example/b.png"}}}});
    let (status, updated) = call(&app, &owner.token, "PATCH", &format!("/project/{id}"), Some(patch)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["data"]["website"], "https://todo.example");
    assert!(updated["data"]["updated_at"].as_str().unwrap().ends_with('Z'));

    let (status, list) = call(&app, &owner.token, "GET", "/project", None).await;
    assert_eq!(status, 200);
    let listed = &list["data"][0];
    assert_eq!(
        (listed["team_id"].as_str(), listed["team_name"].as_str(), listed["team_slug"].as_str()),
        (Some(team.as_str()), Some("T"), Some("makers"))
    );
    assert_eq!(listed["profile"]["icon_url"], "https://cdn.example/i.png");
    assert_eq!(listed["profile"]["styles"]["background_url"], "https://cdn.example/b.png");

    let (status, shown) = call(&app, &owner.token, "GET", &format!("/project/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(shown["data"]["profile"]["icon_url"], "https://cdn.example/i.png");
    // The profile merges: other keys stay, null removes one.
    let patch = json!({"data": {"profile": {"tagline": "Do things", "styles": null}}});
    let (_, merged) = call(&app, &owner.token, "PATCH", &format!("/project/{id}"), Some(patch)).await;
    assert_eq!(merged["data"]["profile"], json!({"icon_url": "https://cdn.example/i.png", "tagline": "Do things"}));

    let (status, public) =
        json(app.get(&format!("/project/{}/profile", id.replace('-', ""))).send().await.unwrap()).await;
    assert_eq!(status, 200, "the hex id works too");
    assert_eq!(public["data"]["auth"], json!({"redirect_uris": []}));
    assert_eq!(public["data"]["name"], "Todo");
    assert_eq!(json(app.get(&format!("/project/{}/profile", uuid::Uuid::new_v4())).send().await.unwrap()).await.0, 404);
}

async fn project_slugs_come_from_names_and_stay_unique(app: TestApp) {
    let owner = world::actor(&app, "namer", "profile admin").await;
    let team = team_of(&app, &owner, "namers").await;
    let (status, created) =
        call(&app, &owner.token, "POST", "/project", Some(json!({"name": "Café Órbita!", "team_id": team}))).await;
    assert_eq!(status, 201);
    assert_eq!(created["data"]["slug"], "cafe-orbita");
    let (status, body) =
        call(&app, &owner.token, "POST", "/project", Some(json!({"name": "Café Órbita", "team_id": team}))).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("slug_taken")));
    let (_, body) = json(app.get("/project/slug?slug=cafe-orbita").send().await.unwrap()).await;
    assert_eq!(body, json!({"available": false}));
    let (status, body) = json(app.get("/project/slug?slug=Caf%C3%A9").send().await.unwrap()).await;
    assert_eq!((status, body["slugified"].as_str()), (400, Some("cafe")));
    let (status, body) =
        call(&app, &owner.token, "POST", "/project", Some(json!({"name": "!!!", "team_id": team}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_slug")));
}

async fn concurrent_creates_of_one_project_slug_have_one_winner(app: TestApp) {
    let owner = world::actor(&app, "racer", "profile admin").await;
    let team = team_of(&app, &owner, "racers").await;
    let body = json!({"name": "Race", "team_id": team, "slug": "race"});
    let attempts = (0..8).map(|_| call(&app, &owner.token, "POST", "/project", Some(body.clone())));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        (statuses.iter().filter(|s| **s == 201).count(), statuses.iter().filter(|s| **s == 409).count()),
        (1, 7),
        "{statuses:?}"
    );
}

async fn project_updates_are_checked(app: TestApp) {
    let owner = world::actor(&app, "checker", "profile admin").await;
    let team = team_of(&app, &owner, "checkers").await;
    let id = project_in(&app, &owner, &team, "Checked").await;
    project_in(&app, &owner, &team, "Other").await;
    let big = "x".repeat(17 * 1024);
    let cases = [
        (json!({"data": {"website": "ftp://files.example"}}), 400, "invalid_website"),
        (json!({"data": {"website": "javascript:alert(1)"}}), 400, "invalid_website"),
        (json!({"data": {"slug": "Not A Slug"}}), 400, "invalid_slug"),
        (json!({"data": {"slug": "other"}}), 409, "slug_taken"),
        (json!({"data": {"profile": "flat"}}), 400, "invalid_profile"),
        (json!({"data": {"profile": {"blob": big}}}), 400, "profile_too_large"),
        (json!({"data": {"name": ""}}), 400, "invalid_name"),
        (json!({"name": "no envelope"}), 400, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = call(&app, &owner.token, "PATCH", &format!("/project/{id}"), Some(body.clone())).await;
        assert_eq!((got, answer["error"].as_str()), (status, Some(code)), "{body}");
    }
    let (status, cleared) =
        call(&app, &owner.token, "PATCH", &format!("/project/{id}"), Some(json!({"data": {"website": null}}))).await;
    assert_eq!((status, cleared["data"]["website"].clone()), (200, Value::Null));
}

async fn settings_add_and_remove_redirect_uris(app: TestApp) {
    let owner = world::actor(&app, "settler", "profile admin").await;
    let team = team_of(&app, &owner, "settlers").await;
    let id = project_in(&app, &owner, &team, "Settled").await;
    let path = format!("/project/{id}/settings");
    assert_eq!(
        call(&app, &owner.token, "GET", &path, None).await,
        (200, json!({"data": {"auth": {"redirect_uris": []}}}))
    );

    let add = |uris: Value| json!({"auth": {"redirect_uris": uris}});
    let (status, body) = call(
        &app,
        &owner.token,
        "PATCH",
        &path,
        Some(add(json!(["https://app.example/cb", "http://localhost:3000/cb"]))),
    )
    .await;
    assert_eq!(
        (status, body["data"]["auth"]["redirect_uris"].clone()),
        (200, json!(["https://app.example/cb", "http://localhost:3000/cb"]))
    );
    let (_, body) =
        call(&app, &owner.token, "PATCH", &path, Some(add(json!(["https://app.example/cb", "com.example.app:/cb"]))))
            .await;
    assert_eq!(
        body["data"]["auth"]["redirect_uris"],
        json!(["https://app.example/cb", "http://localhost:3000/cb", "com.example.app:/cb"]),
        "merged"
    );
    let (status, body) = call(
        &app,
        &owner.token,
        "DELETE",
        &path,
        Some(add(json!(["http://localhost:3000/cb", "https://not-there.example/"]))),
    )
    .await;
    assert_eq!(
        (status, body["data"]["auth"]["redirect_uris"].clone()),
        (200, json!(["https://app.example/cb", "com.example.app:/cb"]))
    );

    let (_, public) = json(app.get(&format!("/project/{id}/profile")).send().await.unwrap()).await;
    assert_eq!(public["data"]["auth"]["redirect_uris"], json!(["https://app.example/cb", "com.example.app:/cb"]));
}

async fn settings_are_checked(app: TestApp) {
    let owner = world::actor(&app, "strict", "profile admin").await;
    let team = team_of(&app, &owner, "stricts").await;
    let id = project_in(&app, &owner, &team, "Strict").await;
    let path = format!("/project/{id}/settings");
    let cases = [
        (json!({"webhooks": {"url": "https://x"}}), "webhooks"),
        (json!({"auth": {"redirect_uris": ["http://evil.example/cb"]}}), "auth.redirect_uris"),
        (json!({"auth": {"redirect_uris": ["https://app.example/#frag"]}}), "auth.redirect_uris"),
        (json!({"auth": {"redirect_uris": "https://app.example/cb"}}), "auth.redirect_uris"),
        (
            json!({"auth": {"redirect_uris": (0..11).map(|i| format!("https://app.example/{i}")).collect::<Vec<_>>()}}),
            "auth.redirect_uris",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&app, &owner.token, "PATCH", &path, Some(body.clone())).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_settings")), "{body}");
        assert_eq!(answer["details"]["field"], field, "{answer}");
        assert!(answer["details"]["validation_errors"].as_array().is_some_and(|e| !e.is_empty()));
    }
    assert_eq!(
        call(&app, &owner.token, "GET", &path, None).await.1,
        json!({"data": {"auth": {"redirect_uris": []}}}),
        "nothing stored"
    );
}

async fn deleting_a_project_deletes_what_belongs_to_it(app: TestApp) {
    let owner = world::actor(&app, "cleaner", "profile admin").await;
    let team = team_of(&app, &owner, "cleaners").await;
    let id = project_in(&app, &owner, &team, "Doomed").await;
    let project_id = uuid::Uuid::parse_str(&id).unwrap();
    assert!(app.state.app.store.project_by_id(project_id).await.unwrap().is_some());
    let (status, body) = call(&app, &owner.token, "DELETE", &format!("/project/{id}"), None).await;
    assert_eq!((status, body["message"].is_string()), (200, true));
    assert!(app.state.app.store.project_by_id(project_id).await.unwrap().is_none());
    assert_eq!(call(&app, &owner.token, "GET", &format!("/project/{id}"), None).await.0, 404);
    assert_eq!(call(&app, &owner.token, "DELETE", &format!("/project/{id}"), None).await.0, 404);
    assert_eq!(json(app.get(&format!("/project/{id}/profile")).send().await.unwrap()).await.0, 404);
}

/// Two developers sign up through the real pages, build a team and a
/// project, and take it all down again.
async fn a_developer_journey(app: TestApp) {
    let alice = flows::developer_tokens(&app, "alice@example.com").await["access_token"].as_str().unwrap().to_owned();
    let bob = flows::developer_tokens(&app, "bob@example.com").await["access_token"].as_str().unwrap().to_owned();
    let (_, bob_me) = json(app.get("/auth/userinfo").bearer_auth(&bob).send().await.unwrap()).await;

    let (status, team) = call(&app, &alice, "POST", "/team", Some(json!({"name": "Journey", "slug": "journey"}))).await;
    assert_eq!(status, 201);
    let team = team["data"]["id"].as_str().unwrap().to_owned();
    let (status, invite) = call(
        &app,
        &alice,
        "POST",
        &format!("/team/{team}/invite"),
        Some(json!({"email": "bob@example.com", "roles": "admin"})),
    )
    .await;
    assert_eq!(status, 201);
    let accept = json!({"invite_id": invite["data"]["id"], "token": invite["data"]["token"]});
    let (status, _) = call(&app, &bob, "POST", "/team/accept-invite", Some(accept)).await;
    assert_eq!(status, 200);

    let (status, project) =
        call(&app, &bob, "POST", "/project", Some(json!({"name": "Journey App", "team_id": team}))).await;
    assert_eq!(status, 201);
    let project = project["data"]["id"].as_str().unwrap().to_owned();
    let settings = json!({"auth": {"redirect_uris": ["https://journey.example/callback"]}});
    assert_eq!(call(&app, &bob, "PATCH", &format!("/project/{project}/settings"), Some(settings)).await.0, 200);
    let (_, public) = json(app.get(&format!("/project/{project}/profile")).send().await.unwrap()).await;
    assert_eq!(public["data"]["auth"]["redirect_uris"], json!(["https://journey.example/callback"]));

    // The project now signs its app's users in here.
    let mut browser = flows::Browser::new(&app);
    let query = flows::authorize_query(&project, "https://journey.example/callback", "profile", &[]);
    let redirect = flows::consent_redirect(&mut browser, &query, "user@journey.example", false).await;
    assert!(redirect.starts_with("https://journey.example/callback?code="), "{redirect}");

    // Alice hands the team to Bob, who cleans up.
    let path = format!("/team/{team}/member/{}", bob_me["id"].as_str().unwrap());
    let (status, body) = call(&app, &alice, "PATCH", &path, Some(json!({"roles": "owner"}))).await;
    assert_eq!((status, body["data"]["roles"].as_str()), (200, Some("owner")));
    assert_eq!(call(&app, &alice, "DELETE", &format!("/team/{team}"), None).await.0, 403, "Alice is an admin now");
    assert_eq!(call(&app, &bob, "DELETE", &format!("/project/{project}"), None).await.0, 200);
    assert_eq!(call(&app, &bob, "DELETE", &format!("/team/{team}"), None).await.0, 200);
    let (_, teams) = call(&app, &alice, "GET", "/team", None).await;
    assert_eq!(teams["data"], json!([]));
}
