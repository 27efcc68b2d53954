//! The one-shot commands: `account create`, `account verify-email`,
//! `account reset-link` and `keys rotate`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};

use crate::flows::{self, Browser, authorize_query, consent_redirect};
use crate::harness::{Backend, Setup, TestApp, TestDb, json};

const BINARY: &str = env!("CARGO_BIN_EXE_basic-admin");

/// Runs the binary on `db` with `args`, feeding `stdin`; its stdout on success.
fn run(db: &TestDb, args: &[&str], stdin: &str) -> Result<String, String> {
    let mut child = Command::new(BINARY)
        .args(args)
        .args(["--data-dir", db.data_dir.path().to_str().unwrap(), "--database-url", &db.url()])
        .env_remove("BASIC_MASTER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    if output.status.success() { Ok(text(output.stdout)) } else { Err(text(output.stderr)) }
}

async fn created_accounts_can_sign_in(backend: Backend) {
    let Some(db) = TestDb::create(backend, "cli::created_accounts_can_sign_in").await else {
        return;
    };
    let create = ["account", "create", "--email", "Cli@Example.com", "--name", "Cli User", "--password-stdin"];
    let id = run(&db, &create, &format!("{}\n", flows::PASSWORD)).unwrap();
    assert!(uuid::Uuid::parse_str(id.trim()).is_ok(), "prints the new id: {id}");

    let again = run(&db, &create, &format!("{}\n", flows::PASSWORD)).unwrap_err();
    assert!(again.contains("already exists"), "{again}");
    let weak =
        run(&db, &["account", "create", "--email", "weak@example.com", "--password-stdin"], "short\n").unwrap_err();
    assert!(weak.contains("at least 8"), "{weak}");

    let app = TestApp::start(db, Setup::default()).await;
    let mut browser = Browser::new(&app);
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile admin", &[]);
    let redirect = consent_redirect(&mut browser, &query, "cli@example.com", true).await;
    assert!(redirect.contains("code="), "signed in with the password given on stdin");
}

async fn rotated_keys_are_used_by_the_next_start(backend: Backend) {
    let Some(db) = TestDb::create(backend, "cli::rotated_keys_are_used_by_the_next_start").await else {
        return;
    };
    run(&db, &["migrate"], "").unwrap();
    let first = run(&db, &["keys", "rotate"], "").unwrap();
    let second = run(&db, &["keys", "rotate"], "").unwrap();
    assert_ne!(first.trim(), second.trim());

    let app = TestApp::start(db, Setup::default()).await;
    let (_, jwks) = json(app.get("/auth/.well-known/jwks.json").send().await.unwrap()).await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&first.trim()) && kids.contains(&second.trim()), "{kids:?}");
    let tokens = flows::developer_tokens(&app, "rotate@example.com").await;
    let header = jsonwebtoken::decode_header(tokens["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some(second.trim()), "the newest key signs");
}

/// What mail would do, by hand: confirm an address, hand over a reset link.
async fn operators_confirm_addresses_and_make_reset_links(backend: Backend) {
    let Some(db) = TestDb::create(backend, "cli::operators_confirm_addresses_and_make_reset_links").await else {
        return;
    };
    let create = ["account", "create", "--email", "op@example.com", "--password-stdin"];
    run(&db, &create, &format!("{}\n", flows::PASSWORD)).unwrap();
    let confirmed = run(&db, &["account", "verify-email", "--email", "OP@example.com"], "").unwrap();
    assert_eq!(confirmed.trim(), "op@example.com is confirmed");
    let link = run(&db, &["account", "reset-link", "--email", "op@example.com"], "").unwrap();
    let link = link.trim();
    assert!(link.starts_with("http://localhost:3003/auth/reset-password?token="), "{link}");
    let unknown = run(&db, &["account", "reset-link", "--email", "nobody@example.com"], "").unwrap_err();
    assert!(unknown.contains("no account has the email nobody@example.com"), "{unknown}");

    let app = TestApp::start(db, Setup::default()).await;
    let account = app.state.app.store.account_by_email("op@example.com").await.unwrap().unwrap();
    assert!(account.email_verified());
    let mut browser = Browser::new(&app);
    let page = browser.get(link.trim_start_matches("http://localhost:3003")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let form =
        [("csrf", page.hidden("csrf")), ("token", page.hidden("token")), ("password", "handed-over password".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(browser.post("/auth/reset-password", &form).await.status, 200);
    let csrf = browser.get("/auth/login").await.hidden("csrf");
    let login =
        [("csrf", csrf.as_str()), ("request", ""), ("email", "op@example.com"), ("password", "handed-over password")];
    assert_eq!(browser.post("/auth/login", &login).await.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_operators_confirm_addresses_and_make_reset_links() {
    operators_confirm_addresses_and_make_reset_links(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_operators_confirm_addresses_and_make_reset_links() {
    operators_confirm_addresses_and_make_reset_links(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_created_accounts_can_sign_in() {
    created_accounts_can_sign_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_created_accounts_can_sign_in() {
    created_accounts_can_sign_in(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rotated_keys_are_used_by_the_next_start() {
    rotated_keys_are_used_by_the_next_start(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rotated_keys_are_used_by_the_next_start() {
    rotated_keys_are_used_by_the_next_start(Backend::Postgres).await;
}
