//! The authorization matrix: every operation of the API × every kind of
//! caller, with the status each must get. A denied request must change
//! nothing. An operation in the server's OpenAPI document without a row here
//! fails the test.

use std::collections::BTreeSet;

use basic_admin_core::model::api_key::KeyRole;
use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, json, on_both_backends};
use crate::world::{self, AppData, EVERYONE, People, Place, Who};

/// One operation: how to call it, and what each caller gets, in the order of
/// [`EVERYONE`]: anonymous, invalid token, app user, outsider, viewer,
/// member, admin, owner, then three API keys: one of the project holding
/// `key_role`, one of the project holding every other role (but `admin`, and
/// `read` when the role reads), and an `admin` key of another project.
struct Row {
    method: &'static str,
    /// As in the OpenAPI document; `{team_id}`, `{id}` (the project),
    /// `{member_id}` and `{invite_id}` are filled from the world.
    path: &'static str,
    query: &'static str,
    body: fn(&People, Who) -> Option<Value>,
    expect: [u16; 11],
    /// The key role the operation needs; `admin` where no role is enough.
    key_role: &'static str,
    /// Give the team a project (a team with one cannot be deleted).
    with_project: bool,
    /// Send a small PNG as `multipart/form-data` (uploads).
    multipart: bool,
    /// The app user calls with a token issued to the project's app (the
    /// app's own data routes), not to another client.
    as_app: bool,
}

fn none(_: &People, _: Who) -> Option<Value> {
    None
}

const fn row(method: &'static str, path: &'static str, key_role: &'static str, expect: [u16; 11]) -> Row {
    Row { method, path, query: "", body: none, expect, key_role, with_project: true, multipart: false, as_app: false }
}

/// A row of the app's own data routes: the app user reaches their records;
/// developers' tokens are not the app's (404); keys never (403).
fn own_data(method: &'static str, path: &'static str, body: fn(&People, Who) -> Option<Value>) -> Row {
    let (a, i) = (401, 401);
    let expect = [a, i, 200, 404, 404, 404, 404, 404, 403, 403, 403];
    Row { body, as_app: true, ..row(method, path, "admin", expect) }
}

fn new_value(_: &People, _: Who) -> Option<Value> {
    Some(json!({"value": {"title": "Mine"}}))
}

fn rows() -> Vec<Row> {
    let public = [200; 11];
    let (a, i) = (401, 401);
    // Developers × keys: keys never reach teams, nor other projects.
    let read_team = [a, i, 403, 404, 200, 200, 200, 200, 403, 403, 403];
    let admin_team = [a, i, 403, 404, 403, 403, 200, 200, 403, 403, 403];
    let read_project = [a, i, 403, 404, 200, 200, 200, 200, 200, 403, 404];
    let member_project = [a, i, 403, 404, 403, 200, 200, 200, 200, 403, 404];
    let admin_project = [a, i, 403, 404, 403, 403, 200, 200, 200, 403, 404];
    vec![
        // Public.
        row("get", "/", "admin", public),
        row("get", "/auth", "admin", public),
        row("get", "/utils", "admin", public),
        Row { query: "?slug=Hello", ..row("get", "/utils/slugify", "admin", public) },
        Row {
            query: "?client_id=9c3f6704-87e7-4af9-8dd0-36dcb9b5c18c&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&response_type=code&scope=profile&state=s",
            ..row("get", "/auth/authorize", "admin", [302; 11])
        },
        Row {
            body: |_, _| {
                Some(
                    json!({"grant_type": "authorization_code", "code": "x", "client_id": CLI_CLIENT_ID, "redirect_uri": CLI_REDIRECT_URI}),
                )
            },
            ..row("post", "/auth/token", "admin", [400; 11])
        },
        row("get", "/auth/userinfo", "admin", [a, i, 200, 200, 200, 200, 200, 200, 403, 403, 403]),
        row("get", "/auth/userInfo", "admin", [a, i, 200, 200, 200, 200, 200, 200, 403, 403, 403]),
        row("get", "/auth/session", "admin", [a, i, 200, 200, 200, 200, 200, 200, 403, 403, 403]),
        row("get", "/auth/.well-known/openid-configuration", "admin", public),
        row("get", "/auth/.well-known/jwks.json", "admin", public),
        Row { query: "?slug=free-slug", ..row("get", "/team/slug", "admin", public) },
        Row { query: "?slug=free-slug", ..row("get", "/project/slug", "admin", public) },
        row("get", "/project/{id}/profile", "admin", public),
        row("get", "/project/{id}/schema", "admin", public),
        row("get", "/projects/{hexId}/did.json", "admin", public),
        row("get", "/projects/{id}/client-metadata.json", "admin", public),
        Row {
            body: |_, _| Some(json!({"schema": schema_v1()})),
            ..row("post", "/utils/schema/compareSchema", "admin", public)
        },
        Row {
            body: |_, _| Some(json!({"schema": schema_v1()})),
            ..row("post", "/utils/schema/verifyUpdateSchema", "admin", public)
        },
        // Teams.
        row("get", "/team", "admin", [a, i, 403, 200, 200, 200, 200, 200, 403, 403, 403]),
        Row {
            body: |_, _| Some(json!({"name": "New", "slug": format!("t-{}", Uuid::new_v4().simple())})),
            ..row("post", "/team", "admin", [a, i, 403, 201, 201, 201, 201, 201, 403, 403, 403])
        },
        row("get", "/team/{team_id}", "admin", read_team),
        Row { body: |_, _| Some(json!({"name": "Renamed"})), ..row("patch", "/team/{team_id}", "admin", admin_team) },
        Row {
            with_project: false,
            ..row("delete", "/team/{team_id}", "admin", [a, i, 403, 404, 403, 403, 403, 200, 403, 403, 403])
        },
        row("get", "/team/{team_id}/member", "admin", read_team),
        Row {
            body: |_, _| Some(json!({"roles": "viewer"})),
            ..row("patch", "/team/{team_id}/member/{member_id}", "admin", admin_team)
        },
        row("delete", "/team/{team_id}/member/{member_id}", "admin", admin_team),
        row("get", "/team/{team_id}/invite", "admin", read_team),
        Row {
            body: |_, _| Some(json!({"email": format!("{}@example.com", Uuid::new_v4().simple()), "roles": "member"})),
            ..row("post", "/team/{team_id}/invite", "admin", [a, i, 403, 404, 403, 403, 201, 201, 403, 403, 403])
        },
        // Without the invite's token, an invite made out to the caller's address is not theirs.
        Row {
            body: |_, _| Some(json!({"invite_id": "{invite_id}"})),
            ..row("post", "/team/accept-invite", "admin", [a, i, 403, 400, 400, 400, 400, 400, 403, 403, 403])
        },
        row("delete", "/team/{team_id}/invite/{invite_id}", "admin", admin_team),
        // The invite is made out to the caller (see `run`): outsiders join,
        // members are members already.
        row("post", "/team/accept-invite", "admin", [a, i, 403, 200, 400, 400, 400, 400, 403, 403, 403]),
        // Projects. A key lists its own project, whichever it is.
        row("get", "/project", "project:read", [a, i, 403, 200, 200, 200, 200, 200, 200, 403, 200]),
        Row {
            body: |_, _| {
                Some(
                    json!({"name": "New app", "team_id": "{team_id}", "slug": format!("p-{}", Uuid::new_v4().simple())}),
                )
            },
            ..row("post", "/project", "admin", [a, i, 403, 404, 403, 201, 201, 201, 403, 403, 403])
        },
        row("get", "/project/{id}", "project:read", read_project),
        Row {
            body: |_, _| Some(json!({"data": {"name": "Renamed"}})),
            ..row("patch", "/project/{id}", "project:write", member_project)
        },
        row("delete", "/project/{id}", "admin", admin_project),
        row("get", "/project/{id}/settings", "project:read", read_project),
        Row {
            body: |_, _| Some(json!({"auth": {"redirect_uris": ["https://app.example/new"]}})),
            ..row("patch", "/project/{id}/settings", "project:write", admin_project)
        },
        Row {
            body: |_, _| Some(json!({"auth": {"redirect_uris": ["https://app.example/cb"]}})),
            ..row("delete", "/project/{id}/settings", "project:write", admin_project)
        },
        // Keys.
        row("get", "/project/{id}/key", "keys:read", read_project),
        Row {
            body: |_, _| Some(json!({"label": "New", "roles": "keys:write"})),
            ..row("post", "/project/{id}/key", "keys:write", admin_project)
        },
        // A key hands on no role it does not hold: a `keys:write` key cannot make an admin key.
        Row {
            body: |_, _| Some(json!({"label": "Escalate", "roles": "admin"})),
            ..row("post", "/project/{id}/key", "keys:write", [a, i, 403, 404, 403, 403, 200, 200, 403, 403, 404])
        },
        Row {
            body: |_, _| Some(json!({"roles": "admin,keys:write"})),
            ..row(
                "patch",
                "/project/{id}/key/{key_id}",
                "keys:write",
                [a, i, 403, 404, 403, 403, 200, 200, 403, 403, 404],
            )
        },
        row("get", "/project/{id}/key/{key_id}", "keys:read", member_project),
        Row {
            body: |_, _| Some(json!({"label": "Renamed"})),
            ..row("patch", "/project/{id}/key/{key_id}", "keys:write", admin_project)
        },
        row("delete", "/project/{id}/key/{key_id}", "keys:write", admin_project),
        row("post", "/project/{id}/key/{key_id}/regenerate", "keys:write", admin_project),
        Row {
            body: |_, _| Some(json!({"key": format!("bsk_{}_{}", Uuid::new_v4().simple(), "a".repeat(43))})),
            ..row("post", "/project/{id}/key/verify", "keys:read", read_project)
        },
        // Schemas. No AI provider here: allowed callers get the 503 that says so.
        Row {
            body: |_, _| Some(json!({"prompt": "A todo list"})),
            ..row(
                "post",
                "/project/{id}/schema/generate",
                "schema:write",
                [a, i, 403, 404, 403, 503, 503, 503, 503, 403, 404],
            )
        },
        Row {
            body: |_, _| Some(json!({"schema": schema_v2()})),
            ..row("post", "/project/{id}/schema", "schema:write", member_project)
        },
        // Uploads.
        Row { multipart: true, ..row("post", "/project/{id}/upload/icon", "upload:write", member_project) },
        Row { multipart: true, ..row("post", "/project/{id}/upload/background", "upload:write", member_project) },
        // Nothing to delete: allowed callers get the 404 that says so.
        row("delete", "/project/{id}/upload/icon", "upload:write", [a, i, 403, 404, 403, 404, 404, 404, 404, 403, 404]),
        row(
            "delete",
            "/project/{id}/upload/background",
            "upload:write",
            [a, i, 403, 404, 403, 404, 404, 404, 404, 403, 404],
        ),
        row("get", "/project/{id}/upload", "project:read", read_project),
        // Project users and their data.
        Row {
            body: |_, _| Some(json!({"token": "not.a.token"})),
            ..row("post", "/project/{id}/user/connect", "admin", [401; 11])
        },
        row("get", "/project/{id}/user", "users:read", read_project),
        row("get", "/project/{id}/user/stats", "users:read", read_project),
        row("get", "/project/{id}/user/{user_id}", "users:read", read_project),
        Row {
            body: |_, _| Some(json!({"meta": {"plan": "pro"}})),
            ..row("patch", "/project/{id}/user/{user_id}", "users:write", member_project)
        },
        row("delete", "/project/{id}/user/{user_id}", "users:write", member_project),
        row("get", "/project/{id}/user/{user_id}/db/{table_id}", "data:read", read_project),
        Row {
            body: |_, _| Some(json!({"value": {"title": "New"}})),
            ..row("post", "/project/{id}/user/{user_id}/db/{table_id}", "data:write", member_project)
        },
        row("get", "/project/{id}/user/{user_id}/db/{table_id}/{item_id}", "data:read", read_project),
        Row {
            body: |_, _| Some(json!({"value": {"title": "Changed"}})),
            ..row("patch", "/project/{id}/user/{user_id}/db/{table_id}/{item_id}", "data:write", member_project)
        },
        Row {
            body: |_, _| Some(json!({"value": {"title": "Replaced"}})),
            ..row("put", "/project/{id}/user/{user_id}/db/{table_id}/{item_id}", "data:write", member_project)
        },
        row("delete", "/project/{id}/user/{user_id}/db/{table_id}/{item_id}", "data:write", member_project),
        // The app's own data, as the SDK reaches it.
        own_data("get", "/account/{id}/db/{table}", none),
        own_data("post", "/account/{id}/db/{table}", new_value),
        own_data("get", "/account/{id}/db/{table}/{item_id}", none),
        own_data("put", "/account/{id}/db/{table}/{item_id}", new_value),
        own_data("patch", "/account/{id}/db/{table}/{item_id}", new_value),
        own_data("delete", "/account/{id}/db/{table}/{item_id}", none),
        own_data("get", "/project/{id}/db/{account_id}/{table}", none),
        own_data("post", "/project/{id}/db/{account_id}/{table}", new_value),
        own_data("get", "/project/{id}/db/{account_id}/{table}/{item_id}", none),
        own_data("put", "/project/{id}/db/{account_id}/{table}/{item_id}", new_value),
        own_data("patch", "/project/{id}/db/{account_id}/{table}/{item_id}", new_value),
        own_data("delete", "/project/{id}/db/{account_id}/{table}/{item_id}", none),
        Row {
            body: |_, _| Some(json!({"schema": {"tables": {"notes": {"fields": {"body": {"type": "string"}}}}}})),
            ..row("patch", "/project/{id}/schema", "schema:write", member_project)
        },
    ]
}

/// The roles of the key that should not be enough for `needed`.
fn every_other_role(needed: &str) -> String {
    let needed_role = KeyRole::ALL.into_iter().find(|r| r.name() == needed).expect("a known role");
    KeyRole::ALL
        .into_iter()
        .filter(|r| *r != needed_role && *r != KeyRole::Admin && !(*r == KeyRole::Read && needed_role.reads_only()))
        .map(KeyRole::name)
        .collect::<Vec<_>>()
        .join(",")
}

on_both_backends!(every_operation_has_rows_and_every_row_holds);

/// The world's project's schema (`{id}` is filled in).
fn schema_v1() -> Value {
    json!({"project_id": "{id}", "version": 1, "tables": {"todos": {"type": "collection", "fields": {"title": {"type": "string"}}}}})
}

/// The next version of it.
fn schema_v2() -> Value {
    json!({"project_id": "{id}", "version": 2, "tables": {"todos": {"type": "collection", "fields": {"title": {"type": "string"}, "done": {"type": "boolean"}}}}})
}

fn fill(text: &str, place: &Place, data: &AppData, people: &People, invite: Uuid) -> String {
    text.replace("{team_id}", &place.team.to_string())
        .replace("{id}", &place.project.to_string())
        .replace("{hexId}", &place.project.simple().to_string())
        .replace("{member_id}", &people.target.id.to_string())
        .replace("{invite_id}", &invite.to_string())
        .replace("{key_id}", &place.key.to_string())
        .replace("{user_id}", &data.user_did.replace('%', "%25"))
        .replace("{table_id}", "todos")
        .replace("{table}", "todos")
        .replace("{account_id}", &people.app_user.id.to_string())
        .replace("{item_id}", &data.item.to_string())
}

/// What the owner sees of the place: unchanged by any denied request.
async fn snapshot(app: &TestApp, people: &People, place: &Place, data: &AppData) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/team/{team_id}",
        "/team/{team_id}/member",
        "/team/{team_id}/invite",
        "/project/{id}",
        "/project/{id}/settings",
        "/project/{id}/user",
        "/project/{id}/user/{user_id}/db/{table_id}",
    ] {
        let url = app.url(&fill(path, place, data, people, Uuid::nil()));
        let response = app.client.get(url).bearer_auth(&people.owner.token).send().await.unwrap();
        seen.push(json!({"status": response.status().as_u16(), "body": response.text().await.unwrap()}));
    }
    seen
}

async fn run(app: &TestApp, people: &People, row: &Row, who: Who) -> (u16, bool) {
    let place = world::place(app, people, row.with_project).await;
    let data = match row.with_project {
        true => world::app_data(app, people, place.project).await,
        false => AppData { user_did: String::new(), item: basic_admin_core::model::ItemId::generate() },
    };
    let mut invite = place.invite;
    let invite_token = basic_admin_app::crypto::random_token();
    if row.path == "/team/accept-invite" {
        // An invite made out to this caller, with its token.
        if let Some(actor) = people.actor(who) {
            invite = Uuid::new_v4();
            let now = basic_admin_core::time::now();
            let made_out = basic_admin_core::store::Invite {
                id: invite,
                team_id: place.team,
                invitee_kind: basic_admin_core::store::InviteeKind::Email,
                invitee: actor.email.clone(),
                roles: basic_admin_core::authz::TeamRole::Member,
                role_name: None,
                invited_by: Some(people.owner.id),
                created_at: now,
                expires_at: now + chrono::Duration::days(1),
                accepted_at: None,
                token_hash: Some(basic_admin_app::crypto::token_hash(&invite_token)),
            };
            app.state.app.store.create_invite(made_out).await.unwrap();
        }
    }
    // Keys of a place without a project are keys of another place's.
    let own = if row.with_project { place.project } else { world::place(app, people, true).await.project };
    let authorization = match who {
        Who::KeyWithRole => Some(world::key(app, own, row.key_role).await),
        Who::KeyWithoutRole => Some(world::key(app, own, &every_other_role(row.key_role)).await),
        Who::KeyOfOtherProject => {
            let elsewhere = world::place(app, people, true).await;
            Some(world::key(app, elsewhere.project, "admin").await)
        }
        Who::AppUser if row.as_app => Some(world::token_for(app, people.app_user.id, "openid", &own.to_string()).await),
        _ => None,
    }
    .map(|key| format!("Bearer {key}"))
    .or_else(|| people.authorization(who));
    let before = snapshot(app, people, &place, &data).await;
    let url = app.url(&format!("{}{}", fill(row.path, &place, &data, people, invite), row.query));
    let mut request = app.client.request(row.method.to_uppercase().parse().unwrap(), url);
    if let Some(header) = authorization {
        request = request.header("authorization", header);
    }
    let body = match (row.body)(people, who) {
        Some(body) => {
            Some(serde_json::from_str::<Value>(&fill(&body.to_string(), &place, &data, people, invite)).unwrap())
        }
        None if row.path == "/team/accept-invite" => Some(json!({"invite_id": invite, "token": invite_token})),
        None => None,
    };
    if let Some(body) = body {
        request = request.json(&body);
    }
    if row.multipart {
        let png = crate::uploads::image(2, 2, image::ImageFormat::Png);
        let (content_type, form) = crate::uploads::multipart("file", "icon.png", "image/png", &png);
        request = request.header("content-type", content_type).body(form);
    }
    let status = request.send().await.unwrap().status().as_u16();
    let unchanged = snapshot(app, people, &place, &data).await == before;
    (status, unchanged)
}

async fn every_operation_has_rows_and_every_row_holds(app: TestApp) {
    let rows = rows();
    let (_, doc) = json(app.get("/docs/json").send().await.unwrap()).await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let covered: BTreeSet<(String, String)> = rows.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(missing.is_empty(), "operations without rows in the authorization matrix: {missing:?}");
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(stale.is_empty(), "rows for operations the server does not have: {stale:?}");

    let people = world::people(&app).await;
    let mut failures = Vec::new();
    for row in &rows {
        for (who, expected) in EVERYONE.into_iter().zip(row.expect) {
            let (status, unchanged) = run(&app, &people, row, who).await;
            if status != expected {
                failures.push(format!("{} {} as {who:?}: {status}, expected {expected}", row.method, row.path));
            }
            if status >= 400 && !unchanged {
                failures
                    .push(format!("{} {} as {who:?}: denied ({status}) but changed something", row.method, row.path));
            }
        }
    }
    assert!(failures.is_empty(), "{} of the matrix's cells disagree:\n{}", failures.len(), failures.join("\n"));
}
