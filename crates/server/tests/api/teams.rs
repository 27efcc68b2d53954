//! The `teams` operations: shapes, rules and errors.

use serde_json::{Value, json};

use crate::harness::{TestApp, json, on_both_backends};
use crate::world::{self, Actor};

on_both_backends!(
    teams_are_created_listed_and_shown,
    team_slugs_are_checked_and_unique,
    concurrent_creates_of_one_slug_have_one_winner,
    teams_are_renamed_and_deleted_by_the_rules,
    members_change_roles_and_ownership_is_transferred,
    invites_are_made_listed_accepted_and_deleted,
    invites_are_checked,
);

async fn call(app: &TestApp, actor: &Actor, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    app.call(&actor.token, method, path, body).await
}

async fn developer(app: &TestApp, label: &str) -> Actor {
    world::actor(app, label, "profile admin").await
}

async fn new_team(app: &TestApp, owner: &Actor, slug: &str) -> String {
    let (status, body) = call(app, owner, "POST", "/team", Some(json!({"name": "My Team", "slug": slug}))).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["id"].as_str().unwrap().to_owned()
}

async fn teams_are_created_listed_and_shown(app: TestApp) {
    let owner = developer(&app, "owner").await;
    let (status, created) =
        call(&app, &owner, "POST", "/team", Some(json!({"name": "  Acme  ", "slug": "acme"}))).await;
    assert_eq!(status, 201);
    let team = &created["data"];
    assert_eq!((team["name"].as_str(), team["slug"].as_str()), (Some("Acme"), Some("acme")));
    assert_eq!(team["owner"], owner.id.to_string());
    assert!(team["created_at"].as_str().unwrap().ends_with('Z'));
    let id = team["id"].as_str().unwrap();

    let (status, list) = call(&app, &owner, "GET", "/team", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"][0]["id"], id);
    assert_eq!(list["data"][0]["roles"], "owner");
    assert_eq!(list["data"][0]["role_name"], "Owner", "never null: the CLI shows it");
    assert_eq!(list["data"][0]["owner"], owner.id.to_string());
    // The CLI calls the collection without the trailing slash, and with it.
    assert_eq!(call(&app, &owner, "GET", "/team/", None).await.1, list);

    let (status, shown) = call(&app, &owner, "GET", &format!("/team/{id}"), None).await;
    assert_eq!(status, 200);
    let data = &shown["data"];
    assert_eq!(data["owner_id"], owner.id.to_string());
    assert_eq!(
        data["members"],
        json!([{"account_id": owner.id, "roles": "owner", "role_name": "Owner", "created_at": data["members"][0]["created_at"]}])
    );
    assert_eq!((data["projects"].clone(), data["invites"].clone()), (json!([]), json!([])));

    let (status, _) = call(&app, &owner, "GET", &format!("/team/{}", uuid::Uuid::new_v4()), None).await;
    assert_eq!(status, 404);
    assert_eq!(call(&app, &owner, "GET", "/team/not-a-uuid", None).await.0, 404);
}

async fn team_slugs_are_checked_and_unique(app: TestApp) {
    let owner = developer(&app, "slugs").await;
    let (status, body) = json(app.get("/team/slug?slug=fresh-team").send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({"available": true})));
    new_team(&app, &owner, "fresh-team").await;
    let (_, body) = json(app.get("/team/slug?slug=fresh-team").send().await.unwrap()).await;
    assert_eq!(body, json!({"available": false}));

    let (status, body) = json(app.get("/team/slug?slug=Fresh%20Team!").send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!((body["error"].as_str(), body["slugified"].as_str()), (Some("invalid_slug"), Some("fresh-team")));
    let (status, body) = json(app.get("/team/slug").send().await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("missing_slug")));

    let (status, body) =
        call(&app, &owner, "POST", "/team", Some(json!({"name": "Again", "slug": "fresh-team"}))).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("slug_taken")));
    let (status, body) = call(&app, &owner, "POST", "/team", Some(json!({"name": "Bad", "slug": "Bad Slug"}))).await;
    assert_eq!((status, body["slugified"].as_str()), (400, Some("bad-slug")));
    let (status, _) = call(&app, &owner, "POST", "/team", Some(json!({"name": "", "slug": "empty-name"}))).await;
    assert_eq!(status, 400);
    let (status, body) = call(&app, &owner, "POST", "/team", Some(json!({"slug": "no-name"}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_body")));
}

async fn concurrent_creates_of_one_slug_have_one_winner(app: TestApp) {
    let owner = developer(&app, "racer").await;
    let attempts =
        (0..8).map(|_| call(&app, &owner, "POST", "/team", Some(json!({"name": "Race", "slug": "the-race"}))));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
}

async fn teams_are_renamed_and_deleted_by_the_rules(app: TestApp) {
    let owner = developer(&app, "renamer").await;
    let id = new_team(&app, &owner, "before").await;
    let (status, body) =
        call(&app, &owner, "PATCH", &format!("/team/{id}"), Some(json!({"slug": "after", "name": "After"}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["data"]["slug"].as_str(), body["data"]["owner_id"].as_str()),
        (Some("after"), Some(owner.id.to_string().as_str()))
    );
    let (status, body) = call(&app, &owner, "PATCH", &format!("/team/{id}"), Some(json!({}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("nothing_to_update")));
    new_team(&app, &owner, "taken-slug").await;
    let (status, _) = call(&app, &owner, "PATCH", &format!("/team/{id}"), Some(json!({"slug": "taken-slug"}))).await;
    assert_eq!(status, 409);

    // A team with projects stays.
    let (status, project) = call(&app, &owner, "POST", "/project", Some(json!({"name": "Keep", "team_id": id}))).await;
    assert_eq!(status, 201, "{project}");
    let (status, body) = call(&app, &owner, "DELETE", &format!("/team/{id}"), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("team_has_projects")));
    let project_id = project["data"]["id"].as_str().unwrap();
    assert_eq!(call(&app, &owner, "DELETE", &format!("/project/{project_id}"), None).await.0, 200);
    let (status, body) = call(&app, &owner, "DELETE", &format!("/team/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(body["message"].is_string());
    assert_eq!(call(&app, &owner, "GET", &format!("/team/{id}"), None).await.0, 404);
}

async fn members_change_roles_and_ownership_is_transferred(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let team = place.team;
    let member_path = |a: &Actor| format!("/team/{team}/member/{}", a.id);

    let (status, body) = call(
        &app,
        &people.admin,
        "PATCH",
        &member_path(&people.target),
        Some(json!({"roles": "viewer", "role_name": "Reader"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"team_id": team, "account_id": people.target.id, "roles": "viewer", "role_name": "Reader"})
    );
    let (status, body) =
        call(&app, &people.admin, "PATCH", &member_path(&people.target), Some(json!({"roles": "emperor"}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_roles")));

    // Only the owner hands the team over; the owner cannot just step down.
    let (status, _) =
        call(&app, &people.admin, "PATCH", &member_path(&people.member), Some(json!({"roles": "owner"}))).await;
    assert_eq!(status, 403);
    let (status, body) =
        call(&app, &people.owner, "PATCH", &member_path(&people.owner), Some(json!({"roles": "admin"}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("owner_required")));
    let (status, body) =
        call(&app, &people.owner, "PATCH", &member_path(&people.member), Some(json!({"roles": "owner"}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["roles"], "owner");
    let (_, members) = call(&app, &people.member, "GET", &format!("/team/{team}/member"), None).await;
    let role = |a: &Actor| {
        members["data"].as_array().unwrap().iter().find(|m| m["account_id"] == a.id.to_string()).unwrap()["roles"]
            .clone()
    };
    assert_eq!((role(&people.member), role(&people.owner)), (json!("owner"), json!("admin")));

    // The owner cannot be removed; anyone else may leave.
    let (status, body) = call(&app, &people.owner, "DELETE", &member_path(&people.member), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("owner_required")));
    let (status, body) = call(&app, &people.viewer, "DELETE", &member_path(&people.viewer), None).await;
    assert_eq!((status, body), (200, json!({"success": true})));
    assert_eq!(call(&app, &people.viewer, "GET", &format!("/team/{team}"), None).await.0, 404, "gone means gone");
    let (status, _) = call(&app, &people.owner, "DELETE", &member_path(&people.viewer), None).await;
    assert_eq!(status, 404);
}

async fn invites_are_made_listed_accepted_and_deleted(app: TestApp) {
    let owner = developer(&app, "host").await;
    let guest = developer(&app, "guest").await;
    let team = new_team(&app, &owner, "party").await;
    let invite = json!({"email": guest.email.to_uppercase(), "roles": "member", "role_name": "Builder"});
    let (status, created) = call(&app, &owner, "POST", &format!("/team/{team}/invite"), Some(invite)).await;
    assert_eq!(status, 201, "{created}");
    let data = &created["data"];
    assert_eq!(data["roles"], "member");
    assert!(data.get("account_id").is_none(), "whether the address has an account is not told");
    let token = data["token"].as_str().expect("the invite's token, shown once").to_owned();
    assert_eq!(data["email_or_username"], guest.email.to_uppercase());
    let (created_at, expires_at) = (data["created_at"].as_str().unwrap(), data["expires_at"].as_str().unwrap());
    let days = chrono::DateTime::parse_from_rfc3339(expires_at).unwrap()
        - chrono::DateTime::parse_from_rfc3339(created_at).unwrap();
    assert_eq!(days.num_days(), 7, "a week by default");

    let (_, list) = call(&app, &owner, "GET", &format!("/team/{team}/invite"), None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], data["id"]);

    // Someone else cannot take it.
    let stranger = developer(&app, "stranger").await;
    let id = data["id"].as_str().unwrap();
    let guess = json!({"invite_id": id, "token": "not-the-token"});
    let (status, _) = call(&app, &stranger, "POST", "/team/accept-invite", Some(guess)).await;
    assert_eq!(status, 404);
    // `id` works as well as `invite_id`.
    let accept = json!({"id": id, "token": token});
    let (status, joined) = call(&app, &guest, "POST", "/team/accept-invite", Some(accept.clone())).await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(
        joined["data"],
        json!({"team_id": team, "account_id": guest.id, "roles": "member", "role_name": "Builder"})
    );
    let (status, body) = call(&app, &guest, "POST", "/team/accept-invite", Some(accept)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invite_used")));
    let (_, list) = call(&app, &owner, "GET", &format!("/team/{team}/invite"), None).await;
    assert_eq!(list["data"], json!([]), "accepted invites are not pending");

    // Invite by username, then withdraw it.
    let third = developer(&app, "third").await;
    let username = app.state.app.store.account_by_id(third.id).await.unwrap().unwrap().username.unwrap();
    let (status, created) = call(
        &app,
        &owner,
        "POST",
        &format!("/team/{team}/invite"),
        Some(json!({"username": username, "roles": "viewer"})),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["data"]["id"].as_str().unwrap();
    assert_eq!(
        call(&app, &owner, "DELETE", &format!("/team/{team}/invite/{id}"), None).await,
        (200, json!({"success": true}))
    );
    assert_eq!(call(&app, &owner, "DELETE", &format!("/team/{team}/invite/{id}"), None).await.0, 404);
    let (status, _) = call(&app, &third, "POST", "/team/accept-invite", Some(json!({"invite_id": id}))).await;
    assert_eq!(status, 404, "a deleted invite is gone");
}

async fn invites_are_checked(app: TestApp) {
    let owner = developer(&app, "checker").await;
    let member = developer(&app, "already").await;
    let team = new_team(&app, &owner, "checked").await;
    let path = format!("/team/{team}/invite");
    let (_, made) = call(&app, &owner, "POST", &path, Some(json!({"email": member.email, "roles": "member"}))).await;
    let accept = json!({"invite_id": app_invite_id(&app, &owner, &team).await, "token": made["data"]["token"]});
    let (status, _) = call(&app, &member, "POST", "/team/accept-invite", Some(accept)).await;
    assert_eq!(status, 200);

    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let cases = [
        (json!({"roles": "member"}), "invalid_invitee"),
        (json!({"email": "a@b.co", "username": "ab", "roles": "member"}), "invalid_invitee"),
        (json!({"email": "not-an-email", "roles": "member"}), "invalid_email"),
        (json!({"email": "a@b.co", "roles": "owner"}), "invalid_roles"),
        (json!({"email": "a@b.co", "roles": "wizard"}), "invalid_roles"),
        (json!({"email": "a@b.co", "roles": "member", "expires_at": past}), "invalid_expires_at"),
        (json!({"email": member.email, "roles": "member"}), "already_member"),
    ];
    for (body, code) in cases {
        let (status, answer) = call(&app, &owner, "POST", &path, Some(body.clone())).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some(code)), "{body}: {answer}");
    }
    call(&app, &owner, "POST", &path, Some(json!({"email": "dup@example.com", "roles": "viewer"}))).await;
    let (status, answer) =
        call(&app, &owner, "POST", &path, Some(json!({"email": "DUP@example.com", "roles": "viewer"}))).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("duplicate_invite")));
}

async fn app_invite_id(app: &TestApp, owner: &Actor, team: &str) -> String {
    let (_, list) = call(app, owner, "GET", &format!("/team/{team}/invite"), None).await;
    list["data"][0]["id"].as_str().unwrap().to_owned()
}
