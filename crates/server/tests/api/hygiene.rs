//! Secrets stay secret: a full journey against the real binary logging at
//! debug level (mail included) leaves none of the secrets it handled in the
//! log, nor in a dump of the database.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use basic_admin_app::crypto::seal;
use basic_admin_app::services::federation;
use basic_admin_app::signing_keys as keys;
use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};
use serde_json::json;
use uuid::Uuid;

use crate::accounts;
use crate::flows::{Browser, PASSWORD, authorize_query, consent_redirect, query_param, token_form};
use crate::harness::{Backend, Remote, TestDb};
use crate::lifecycle::Process;
use crate::mailbox::{self, Mailbox};

#[tokio::test]
async fn no_secret_reaches_the_log_or_the_database_on_sqlite() {
    journey_keeps_secrets(Backend::Sqlite).await;
}

#[tokio::test]
async fn no_secret_reaches_the_log_or_the_database_on_postgres() {
    journey_keeps_secrets(Backend::Postgres).await;
}

/// Every secret the journey saw, by name.
#[derive(Default)]
struct Secrets(Vec<(String, Vec<u8>)>);

impl Secrets {
    fn add(&mut self, name: &str, value: impl AsRef<[u8]>) {
        let value = value.as_ref();
        assert!(value.len() >= 16, "{name} is too short to search for: {value:?}");
        self.0.push((name.to_owned(), value.to_vec()));
    }

    /// A JWT, and its signature alone (a log might cut the rest).
    fn add_jwt(&mut self, name: &str, token: &str) {
        self.add(name, token);
        self.add(&format!("{name} signature"), token.rsplit('.').next().unwrap());
    }

    /// An API key, and its secret part alone.
    fn add_key(&mut self, name: &str, key: &str) {
        self.add(name, key);
        self.add(&format!("{name} secret"), key.rsplit('_').next().unwrap());
    }

    /// A secret shorter than [`add`](Self::add) takes, that is still
    /// random enough (50 bits and more) not to turn up by chance.
    fn add_short(&mut self, name: &str, value: &str) {
        assert!(value.len() >= 10, "{name} is too short to search for: {value:?}");
        self.0.push((name.to_owned(), value.as_bytes().to_vec()));
    }

    fn found_in(&self, haystack: &[u8]) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, value)| haystack.windows(value.len()).any(|w| w == value))
            .map(|(name, _)| name.clone())
            .collect()
    }
}

async fn journey_keeps_secrets(backend: Backend) {
    let Some(db) = TestDb::create(backend, "hygiene::journey_keeps_secrets").await else {
        return;
    };
    let dir = db.data_dir.path();
    let url = db.url();
    let smtp = mailbox::start(false);
    let smtp_url = format!("smtp://127.0.0.1:{smtp}");
    let args = ["--data-dir", dir.to_str().unwrap(), "--database-url", &url, "--log", "debug", "--smtp-url", &smtp_url];
    let process = Process::start(dir, &args);
    let remote = process.remote();
    let (mut secrets, project) = journey(&remote).await;
    mail_journey(&remote, &Mailbox::at(smtp), &mut secrets).await;
    let log = process.log.clone();
    assert!(process.terminate().success());

    let log = log.lock().unwrap().clone();
    let debug_lines = log.lines().filter(|l| l.contains("\"level\":\"DEBUG\"")).count();
    assert!(debug_lines > 50 && log.contains("/auth/token"), "the log is at debug level:\n{log}");
    assert_eq!(secrets.found_in(log.as_bytes()), Vec::<String>::new(), "secrets in the log");

    let master_key = std::fs::read_to_string(dir.join("master.key")).unwrap();
    secrets.add("master key", master_key.trim());
    for (name, private) in private_keys(dir, &url, project).await {
        secrets.add(&format!("{name} (base64)"), STANDARD.encode(&private));
        secrets.add(&format!("{name} (base64url)"), URL_SAFE_NO_PAD.encode(&private));
        secrets.add(&format!("{name} (hex)"), hex(&private));
        secrets.add(&format!("{name} (raw)"), private);
    }
    let dump = dump(&db, dir);
    assert!(dump.len() > 10_000, "the dump holds the data ({} bytes)", dump.len());
    assert!(!dump.windows(11).any(|w| w == b"PRIVATE KEY"), "no PEM private key");
    assert_eq!(secrets.found_in(&dump), Vec::<String>::new(), "secrets in the database dump");
}

/// Signs up, exchanges and refreshes tokens, fails a password, makes a team,
/// a project, an invite and a key, regenerates and uses the key.
async fn journey(remote: &Remote) -> (Secrets, Uuid) {
    let mut secrets = Secrets::default();
    secrets.add("password", PASSWORD);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile,admin", &[]);
    let redirect = consent_redirect(&mut Browser::new(remote), &query, "hygiene@example.com", false).await;
    let code = query_param(&redirect, "code").unwrap();
    secrets.add("authorization code", &code);
    let exchange = [
        ("grant_type", "authorization_code"),
        ("client_id", CLI_CLIENT_ID),
        ("code", code.as_str()),
        ("redirect_uri", CLI_REDIRECT_URI),
    ];
    let (status, tokens) = token_form(remote, &exchange).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = token_form(remote, &[("grant_type", "refresh_token"), ("code", refresh)]).await;
    assert_eq!(status, 200, "{renewed}");
    for (name, set) in [("first", &tokens), ("renewed", &renewed)] {
        secrets.add_jwt(&format!("{name} access token"), tokens_field(set, "access_token"));
        secrets.add_jwt(&format!("{name} id token"), tokens_field(set, "id_token"));
        secrets.add(&format!("{name} refresh token"), tokens_field(set, "refresh_token"));
    }
    let token = tokens_field(&renewed, "access_token");

    // A wrong password is a secret too: someone's other password, perhaps.
    let wrong = "my-other-password-elsewhere";
    secrets.add("wrong password", wrong);
    let mut browser = Browser::new(remote);
    let form = browser.get(&format!("/auth/login?{query}")).await;
    let fields = [
        ("csrf", form.hidden("csrf")),
        ("request", form.hidden("request")),
        ("email", "hygiene@example.com".into()),
        ("password", wrong.into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(browser.post("/auth/login", &fields).await.status, 401);

    let (status, team) = remote.call(token, "POST", "/team", Some(json!({"name": "Hygiene", "slug": "hygiene"}))).await;
    assert_eq!(status, 201, "{team}");
    let team_id = team["data"]["id"].as_str().unwrap().to_owned();
    let (status, project) =
        remote.call(token, "POST", "/project", Some(json!({"name": "Hygiene", "team_id": team_id}))).await;
    assert_eq!(status, 201, "{project}");
    let project: Uuid = project["data"]["id"].as_str().unwrap().parse().unwrap();

    let invite = json!({"email": "invited@example.com", "roles": "member"});
    let (status, invited) = remote.call(token, "POST", &format!("/team/{team_id}/invite"), Some(invite)).await;
    assert_eq!(status, 201, "{invited}");
    secrets.add("invite token", invited["data"]["token"].as_str().unwrap());

    let keys = format!("/project/{project}/key");
    let (status, created) = remote.call(token, "POST", &keys, Some(json!({"label": "ci", "roles": "admin"}))).await;
    assert_eq!(status, 200, "{created}");
    secrets.add_key("first API key", created["key"]["value"].as_str().unwrap());
    let id = created["key"]["id"].as_str().unwrap();
    let (status, regenerated) = remote.call(token, "POST", &format!("{keys}/{id}/regenerate"), None).await;
    assert_eq!(status, 200, "{regenerated}");
    let key = regenerated["key"]["value"].as_str().unwrap();
    secrets.add_key("regenerated API key", key);
    let (_, verified) = remote.call(token, "POST", &format!("{keys}/verify"), Some(json!({"key": key}))).await;
    assert_eq!(verified["is_valid"], true);
    let schema = json!({"project_id": project, "version": 1, "tables": {"notes": {"type": "collection", "fields": {"text": {"type": "string"}}}}});
    let (status, body) =
        remote.call(key, "POST", &format!("/project/{project}/schema"), Some(json!({"schema": schema}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = remote.call(key, "GET", &format!("/project/{project}"), None).await;
    assert_eq!(status, 200);
    (secrets, project)
}

/// Confirms the address and resets the password with the links mailed,
/// then turns on two-factor sign-in.
async fn mail_journey(remote: &Remote, mailbox: &Mailbox, secrets: &mut Secrets) {
    const PUBLIC_URL: &str = "http://localhost:3003";
    let email = "hygiene@example.com";
    let mut browser = Browser::new(remote);
    let confirm = mailbox.nth_to(email, 1).await.link(PUBLIC_URL, "/auth/verify-email?token=");
    secrets.add("email confirmation token", query_param(&confirm, "token").unwrap());
    let page = browser.get(&confirm).await;
    let form = [("csrf", page.hidden("csrf")), ("token", page.hidden("token"))];
    assert_eq!(browser.post("/auth/verify-email", &form.each_ref().map(|(k, v)| (*k, v.as_str()))).await.status, 200);

    let csrf = browser.get("/auth/forgot-password").await.hidden("csrf");
    assert_eq!(browser.post("/auth/forgot-password", &[("csrf", csrf.as_str()), ("email", email)]).await.status, 200);
    let reset = mailbox.nth_to(email, 2).await.link(PUBLIC_URL, "/auth/reset-password?token=");
    secrets.add("password reset token", query_param(&reset, "token").unwrap());
    let new_password = "the-new-password-after-reset";
    secrets.add("new password", new_password);
    let page = browser.get(&reset).await;
    let form = [("csrf", page.hidden("csrf")), ("token", page.hidden("token")), ("password", new_password.into())];
    assert_eq!(browser.post("/auth/reset-password", &form.each_ref().map(|(k, v)| (*k, v.as_str()))).await.status, 200);

    // Two-factor sign-in: its key must not be kept or logged in the clear.
    let csrf = browser.get("/auth/login").await.hidden("csrf");
    let login = [("csrf", csrf.as_str()), ("request", ""), ("email", email), ("password", new_password)];
    assert_eq!(browser.post("/auth/login", &login).await.status, 303);
    assert_eq!(browser.post("/auth/account/two-factor", &[("csrf", csrf.as_str())]).await.status, 303);
    let setup = browser.get("/auth/account/two-factor").await;
    let key = accounts::between(&setup.body, "<code class=\"secret\">", "</code>")[0].to_owned();
    secrets.add("authenticator key (base32)", &key);
    secrets.add("authenticator key (raw)", &*totp_rs::Secret::try_from_base32(&key).unwrap());
    let code = accounts::authenticator_code(&key, 0);
    let on = browser.post("/auth/account/two-factor/confirm", &[("csrf", csrf.as_str()), ("code", &code)]).await;
    assert_eq!(on.status, 200, "{}", on.body);
    // The recovery codes, shown once: kept only as hashes.
    let recovery = accounts::between(&on.body, "<li><code>", "</code>");
    assert_eq!(recovery.len(), 10, "{}", on.body);
    for code in recovery {
        secrets.add_short("recovery code", code);
    }
}

fn tokens_field<'a>(tokens: &'a serde_json::Value, field: &str) -> &'a str {
    tokens[field].as_str().unwrap_or_else(|| panic!("no {field} in {tokens}"))
}

/// The private halves of the token-signing keys and the project's identity
/// key, opened with the master key.
async fn private_keys(dir: &std::path::Path, url: &str, project: Uuid) -> Vec<(String, Vec<u8>)> {
    let (app, state) = crate::crash::beside(dir, url).await;
    let mut found = Vec::new();
    for key in state.app.store.signing_keys().await.unwrap() {
        let der = seal::open(&state.app.master_key, keys::SEAL_PURPOSE, &key.sealed_private).unwrap();
        found.push((format!("signing key {}", key.kid), der));
    }
    let identity = state.app.store.identity_key(project).await.unwrap().expect("the project has an identity key");
    let seed = seal::open(&state.app.master_key, &federation::seal_purpose(project), &identity.sealed_private).unwrap();
    found.push(("project identity key".to_owned(), seed));
    app.stop_background();
    state.app.store.close().await;
    found
}

/// The whole database: the SQLite files as they are on disk, or `pg_dump`.
fn dump(db: &TestDb, dir: &std::path::Path) -> Vec<u8> {
    match db.postgres() {
        None => std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("basic-admin.db"))
            .flat_map(|p| std::fs::read(p).unwrap())
            .collect(),
        Some(schema) => {
            let output = std::process::Command::new("pg_dump")
                .args(["--dbname", schema.server_url(), "--schema", schema.name()])
                .output()
                .expect("pg_dump runs");
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            output.stdout
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
