//! Contract fuzzing: `scripts/contract-fuzz.sh` (schemathesis, every check,
//! against our own OpenAPI document; and against the published contract,
//! whose answers' shapes clients rely on) finds nothing. Short runs here
//! (`CONTRACT_TESTS=1`, as in CI); longer runs for releases are in the README.

use std::path::PathBuf;
use std::process::Command;

use crate::lifecycle::BINARY;

#[test]
fn schemathesis_finds_no_failure() {
    fuzz("schemathesis_finds_no_failure", &["10", "150"]);
}

#[test]
fn answers_fit_the_published_contract() {
    fuzz("answers_fit_the_published_contract", &["10", "120", "published"]);
}

fn fuzz(test: &str, args: &[&str]) {
    if std::env::var("CONTRACT_TESTS").as_deref() != Ok("1") {
        crate::harness::skipped(&format!("contract fuzzing (set CONTRACT_TESTS=1; needs schemathesis): {test}"));
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new("bash")
        .current_dir(&root)
        .arg("scripts/contract-fuzz.sh")
        .args(args)
        .env("BASIC_ADMIN_BIN", BINARY)
        .output()
        .expect("bash runs");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let summary = report.lines().filter(|l| l.contains(" generated, ") || l.starts_with("====")).collect::<Vec<_>>();
    eprintln!("contract fuzzing ({test}): {}", summary.join(" | ").trim());
    assert!(output.status.success(), "schemathesis found failures:\n{report}");
}
