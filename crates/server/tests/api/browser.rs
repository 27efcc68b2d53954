//! Real browsers: headless Chromium driven by playwright-core, through the
//! sign-in pages (`browser-tests/login.mjs`) and through an app built with
//! the published Basic SDK 0.5.0 over REST (`browser-tests/sdk-050.mjs`) and
//! with live sync on two devices (`browser-tests/sync-050.mjs`), and a
//! person's account with real letters (`browser-tests/accounts.mjs`). Needs
//! Chromium and `npm ci --prefix browser-tests`; skipped (and said so)
//! without them, unless `BROWSER_TESTS=1` makes them mandatory, as in CI.
//! Screenshots of every step go to `test-output/browser/` and
//! `test-output/sdk-050/`, `test-output/sync-050/` and `test-output/accounts/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};

use basic_admin_core::store::SchemaVersion;
use basic_admin_core::time;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::flows::{self, seed_project, token_form};
use crate::harness::{Backend, Setup, TestApp, TestDb, skipped};
use crate::mailbox::{self, Mailbox};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Whether the browser tests can run here; says SKIPPED (or fails, when
/// `BROWSER_TESTS=1`) when they cannot.
fn can_run(test: &str) -> bool {
    let scripts = workspace().join("browser-tests");
    let missing: Vec<&str> = [
        (!Path::new(&chromium()).exists()).then_some("Chromium (apt-get install chromium)"),
        (!scripts.join("node_modules/playwright-core").exists())
            .then_some("playwright-core (npm ci --prefix browser-tests)"),
        Command::new("node").arg("--version").output().is_err().then_some("Node.js"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !missing.is_empty() {
        assert!(std::env::var("BROWSER_TESTS").as_deref() != Ok("1"), "BROWSER_TESTS=1 but missing: {missing:?}");
        skipped(&format!("browser::{test} (missing {})", missing.join(", ")));
        return false;
    }
    true
}

/// Runs `node browser-tests/<script> args…`: its output, or a failure with it.
async fn node(script: &str, args: Vec<String>) -> String {
    let script = workspace().join("browser-tests").join(script);
    let output = tokio::task::spawn_blocking(move || {
        // The WebSocket client the sync journey relays with (built in from Node 22).
        Command::new("node").arg("--experimental-websocket").arg(script).args(args).env("CHROMIUM", chromium()).output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser journey failed:\n{stdout}\n{stderr}");
    stdout
}

/// The letters the test SMTP server on `port` received for an address, as
/// the accounts journey reads them: `GET /test/letters/{to}`.
fn letters_route(port: u16) -> axum::Router<basic_admin_server::state::AppState> {
    axum::Router::new().route(
        "/test/letters/{to}",
        axum::routing::get(move |axum::extract::Path(to): axum::extract::Path<String>| async move {
            let letters = Mailbox::at(port).to(&to);
            axum::Json(letters.iter().map(|l| json!({"subject": l.subject, "text": l.text})).collect::<Vec<_>>())
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_confirmed_invited_reset_and_with_two_factor_in_chromium() {
    if !can_run("an_account_confirmed_invited_reset_and_with_two_factor_in_chromium") {
        return;
    }
    let db = TestDb::create(Backend::Sqlite, "browser-accounts").await.unwrap();
    let port = mailbox::start(false);
    let mut setup = Setup::default();
    setup.flags.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    setup.extra_routes = Some(letters_route(port));
    let app = TestApp::start(db, setup).await;
    let email = "journey@example.com";

    // A team whose owner invites the address before it has an account.
    let owner = flows::developer_tokens(&app, "team-owner@example.com").await;
    let owner = owner["access_token"].as_str().unwrap();
    let (status, team) =
        app.call(owner, "POST", "/team", Some(json!({"name": "Journey Team", "slug": "journey"}))).await;
    assert_eq!(status, 201, "{team}");
    let team_id = team["data"]["id"].as_str().unwrap().to_owned();
    let invite = json!({"email": email, "roles": "member"});
    let (status, invited) = app.call(owner, "POST", &format!("/team/{team_id}/invite"), Some(invite)).await;
    assert_eq!(status, 201, "{invited}");

    let shots = workspace().join("test-output/accounts");
    let public_url = app.state.config.public_url.clone();
    let args = vec![app.base.clone(), public_url, email.to_owned(), shots.display().to_string()];
    let stdout = node("accounts.mjs", args).await;
    assert!(stdout.contains("DONE"), "{stdout}");

    // What the browser did is on the server.
    let store = &app.state.app.store;
    let account = store.account_by_email(email).await.unwrap().unwrap();
    assert!(account.email_verified());
    assert!(store.member(team_id.parse().unwrap(), account.id).await.unwrap().is_some(), "a member of the team");
    assert!(store.totp(account.id).await.unwrap().is_some_and(|t| t.confirmed_at.is_some()));
    assert_eq!(store.recovery_codes_left(account.id).await.unwrap(), 9);
    let pictures = std::fs::read_dir(&shots)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(pictures >= 16, "a screenshot of every page: {pictures}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_sign_in_and_consent_in_chromium() {
    if !can_run("sign_up_sign_in_and_consent_in_chromium") {
        return;
    }
    let db = TestDb::create(Backend::Sqlite, "browser").await.unwrap();
    let app = TestApp::start(db, Setup::default()).await;
    let shots = workspace().join("test-output/browser").display().to_string();
    let stdout = node("login.mjs", vec![app.base.clone(), shots]).await;

    // The code the browser landed with is a real one.
    let code = stdout.lines().find_map(|l| l.strip_prefix("CODE ")).expect("the script prints the code");
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", CLI_CLIENT_ID),
        ("code", code),
        ("redirect_uri", CLI_REDIRECT_URI),
    ];
    let (status, tokens) = token_form(&app, &form).await;
    assert_eq!(status, 200, "{tokens}");
    for name in
        ["01-sign-in", "02-sign-up", "03-consent-after-sign-up", "04-wrong-password", "05-consent", "06-callback"]
    {
        assert!(workspace().join(format!("test-output/browser/{name}.png")).is_file(), "screenshot {name}");
    }
}

/// The app of the SDK journeys: a project whose pages are at
/// https://todo.example/, with a published schema of one table, `todos`,
/// whose `title` is `title`.
async fn todo_app(app: &TestApp, title: serde_json::Value) -> (Uuid, serde_json::Value) {
    let project = seed_project(app, &["https://todo.example/"]).await;
    let schema = json!({"project_id": project, "version": 1,
        "tables": {"todos": {"type": "collection", "fields": {"title": title}}}});
    let version = SchemaVersion {
        id: Uuid::new_v4(),
        project_id: project,
        version: 1,
        schema: schema.clone(),
        created_at: time::now(),
    };
    app.state.app.store.publish_schema(version).await.unwrap();
    (project, schema)
}

/// Seconds an access token lives in the SDK journey: short, so that the SDK
/// must refresh one.
const SDK_TOKEN_TTL: u64 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_built_with_the_published_sdk_signs_in_and_keeps_records() {
    if !can_run("an_app_built_with_the_published_sdk_signs_in_and_keeps_records") {
        return;
    }
    let db = TestDb::create(Backend::Sqlite, "sdk-050").await.unwrap();
    let mut setup = Setup::default();
    setup.flags.access_token_ttl_secs = Some(SDK_TOKEN_TTL.to_string());
    let app = TestApp::start(db, setup).await;
    let (project, schema) = todo_app(&app, json!({"type": "string"})).await;

    let shots = workspace().join("test-output/sdk-050");
    let args = vec![
        app.base.clone(),
        project.to_string(),
        schema.to_string(),
        shots.display().to_string(),
        SDK_TOKEN_TTL.to_string(),
    ];
    let stdout = node("sdk-050.mjs", args).await;

    // What the browser did is on the server: the user, and no records left.
    let account = stdout.lines().find_map(|l| l.strip_prefix("ACCOUNT ")).expect("the script prints the account");
    let users = app.state.app.store.project_users(project).await.unwrap();
    assert_eq!(users.len(), 1, "signing in made the user the project's");
    assert_eq!(users[0].account_id.map(|a| a.to_string()).as_deref(), Some(account));
    let left = app.state.app.store.item_texts(project, &users[0].user_did, "todos", None, 10).await.unwrap();
    assert!(left.is_empty(), "the journey deleted what it added: {left:?}");
    for name in ["01-app-signed-out", "05-app-signed-in", "06-records", "07-after-reload", "08-records-after-refresh"] {
        assert!(shots.join(format!("{name}.png")).is_file(), "screenshot {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_of_an_app_built_with_the_published_sdk_sync_live_and_after_going_offline() {
    if !can_run("two_devices_of_an_app_built_with_the_published_sdk_sync_live_and_after_going_offline") {
        return;
    }
    let db = TestDb::create(Backend::Sqlite, "sync-050").await.unwrap();
    let app = TestApp::start(db, Setup::default()).await;
    let (project, schema) = todo_app(&app, json!({"type": "string", "indexed": true})).await;

    let shots = workspace().join("test-output/sync-050");
    let args = vec![app.base.clone(), project.to_string(), schema.to_string(), shots.display().to_string()];
    node("sync-050.mjs", args).await;

    // What both devices ended with is what the server keeps.
    let users = app.state.app.store.project_users(project).await.unwrap();
    assert_eq!(users.len(), 1, "two devices of one user");
    let stored = app.state.app.store.item_texts(project, &users[0].user_did, "todos", None, 10).await.unwrap();
    let values: Vec<Value> = stored.iter().map(|i| serde_json::from_str(&i.value).unwrap()).collect();
    let mut titles: Vec<&str> = values.iter().map(|v| v["title"].as_str().unwrap()).collect();
    titles.sort_unstable();
    assert_eq!(titles, ["Bread", "Milk!"]);
    for name in ["06-laptop-online", "07-laptop-sees-milk", "10-laptop-converged"] {
        assert!(shots.join(format!("{name}.png")).is_file(), "screenshot {name}");
    }
}

/// `POST /test/app-user/{project}`: a new account signs in to the project's
/// app (a token issued to it) and stores a record through the API, as an
/// app built with the SDK would.
fn app_user_route() -> axum::Router<basic_admin_server::state::AppState> {
    use axum::extract::{Path, State};
    use basic_admin_core::store::NewAccount;
    axum::Router::new().route(
        "/test/app-user/{project}",
        axum::routing::post(
            |State(state): State<basic_admin_server::state::AppState>, Path(project): Path<String>| async move {
                let id = Uuid::new_v4();
                let account = NewAccount {
                    id,
                    email: format!("app-user-{}@example.com", id.simple()),
                    username: None,
                    name: "App User".into(),
                    password_hash: "not used".into(),
                    created_at: time::now(),
                };
                state.app.store.create_account(account).await.unwrap();
                let token = crate::world::sign(&state, id, "openid profile", &project).await;
                let url = format!("{}/project/{project}/db/{id}/todos", state.config.public_url);
                let body = json!({"value": {"title": "Written through the API"}});
                let response = reqwest::Client::new().post(url).bearer_auth(token).json(&body).send().await.unwrap();
                (axum::http::StatusCode::from_u16(response.status().as_u16()).unwrap(), response.text().await.unwrap())
            },
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_from_sign_up_to_deleting_a_project_in_chromium() {
    if !can_run("the_console_from_sign_up_to_deleting_a_project_in_chromium") {
        return;
    }
    let db = TestDb::create(Backend::Sqlite, "browser-console").await.unwrap();
    let setup = Setup { public_url_is_address: true, extra_routes: Some(app_user_route()), ..Setup::default() };
    let app = TestApp::start(db, setup).await;
    let shots = workspace().join("test-output/console");
    let stdout = node("console.mjs", vec![app.base.clone(), shots.display().to_string()]).await;
    assert!(stdout.contains("DONE"), "{stdout}");

    // What the browser did is on the server.
    let store = &app.state.app.store;
    let ada = store.account_by_email("ada@example.com").await.unwrap().unwrap();
    let grace = store.account_by_email("grace@example.com").await.unwrap().unwrap();
    let teams = store.teams_of(grace.id).await.unwrap();
    assert_eq!(teams.len(), 1, "Grace joined Ada's team");
    assert!(store.projects_of(ada.id).await.unwrap().is_empty(), "the project is deleted");
    let live = store.live_sign_ins_of(ada.id, time::now()).await.unwrap();
    assert!(live.iter().all(|s| s.family.client_id != "basic-console"), "signing out ended the console's sign-in");
    let pictures = std::fs::read_dir(&shots)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(pictures >= 26, "every page at two widths: {pictures}");
}
