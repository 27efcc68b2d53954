//! The sign-in pages in a real browser: headless Chromium driven by
//! `browser-tests/login.mjs` (playwright-core). Needs Chromium and
//! `npm ci --prefix browser-tests`; skipped (and said so) without them, unless
//! `BROWSER_TESTS=1` makes it mandatory, as in CI. Screenshots of every page
//! go to `test-output/browser/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};

use crate::flows::token_form;
use crate::harness::{Backend, Setup, TestApp, TestDb, skipped};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_sign_in_and_consent_in_chromium() {
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
        skipped(&format!("browser::sign_up_sign_in_and_consent_in_chromium (missing {})", missing.join(", ")));
        return;
    }

    let db = TestDb::create(Backend::Sqlite, "browser").await.unwrap();
    let app = TestApp::start(db, Setup::default()).await;
    let shots = workspace().join("test-output/browser");
    let (base, script) = (app.base.clone(), scripts.join("login.mjs"));
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(script).arg(base).arg(&shots).env("CHROMIUM", chromium()).output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser journey failed:\n{stdout}\n{stderr}");

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
