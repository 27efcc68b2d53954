//! `backup` while the server runs and writes, `restore` into an empty
//! folder: the restored server answers as the original did.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use image::ImageFormat;
use serde_json::{Value, json};

use crate::flows;
use crate::harness::Remote;
use crate::lifecycle::{Process, binary};
use crate::uploads::{image, multipart};

fn run(dir: &Path, args: &[&str]) -> (bool, String) {
    let output = binary(dir).args(args).output().unwrap();
    let (out, err) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), format!("{out}{err}"))
}

async fn created(remote: &Remote, token: &str, path: &str, body: Value) -> String {
    let (status, answer) = remote.call(token, "POST", path, Some(body)).await;
    assert!(status == 200 || status == 201, "{path}: {status} {answer}");
    answer["data"]["id"].as_str().or(answer["key"]["id"].as_str()).unwrap().to_owned()
}

/// What the journey made, as seen through the API.
async fn answers(remote: &Remote, token: &str, project: &str, icon: &str) -> Vec<(String, u16, Vec<u8>)> {
    let mut seen = Vec::new();
    for path in [
        "/team".to_owned(),
        "/project".to_owned(),
        format!("/project/{project}"),
        format!("/project/{project}/schema?version=all"),
        format!("/project/{project}/key"),
        format!("/project/{project}/profile"),
        format!("/projects/{}/did.json", project.replace('-', "")),
        icon.to_owned(),
    ] {
        let response = remote.get(&path).bearer_auth(token).send().await.unwrap();
        let status = response.status().as_u16();
        seen.push((path, status, response.bytes().await.unwrap().to_vec()));
    }
    seen
}

#[tokio::test]
async fn a_backup_taken_under_writes_restores_to_identical_answers() {
    let original = tempfile::tempdir().unwrap();
    let server = Process::start(original.path(), &["--rate-limit-auth-per-minute", "0"]);
    let remote = Arc::new(server.remote());
    let tokens = flows::developer_tokens(&remote, "backup@example.com").await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();

    let team = created(&remote, &token, "/team", json!({"name": "Kept", "slug": "kept"})).await;
    let project = created(&remote, &token, "/project", json!({"name": "Kept", "team_id": team})).await;
    let busy = created(&remote, &token, "/project", json!({"name": "Busy", "team_id": team})).await;
    let schema = json!({"project_id": project, "version": 1, "tables": {"notes": {"type": "collection", "fields": {"text": {"type": "string"}}}}});
    remote.call(&token, "POST", &format!("/project/{project}/schema"), Some(json!({"schema": schema}))).await;
    created(&remote, &token, &format!("/project/{project}/key"), json!({"label": "ci", "roles": "read"})).await;
    let (content_type, body) = multipart("file", "icon.png", "image/png", &image(32, 32, ImageFormat::Png));
    let uploaded = remote
        .post(&format!("/project/{project}/upload/icon"))
        .bearer_auth(&token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let uploaded: Value = uploaded.json().await.unwrap();
    let icon = uploaded["icon_url"].as_str().unwrap().trim_start_matches("http://localhost:3003").to_owned();
    let before = answers(&remote, &token, &project, &icon).await;
    assert!(before.iter().all(|(path, status, _)| *status == 200 || panic!("{path}: {status}")));

    // Keys keep being made in another project while the backup is taken.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (remote, token, writing) = (remote.clone(), token.clone(), writing.clone());
        let path = format!("/project/{busy}/key");
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            while writing.load(Ordering::Relaxed) {
                acknowledged.push(created(&remote, &token, &path, json!({"label": "busy", "roles": "read"})).await);
            }
            acknowledged
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let archive = original.path().join("backup.tar.gz");
    let (ok, out) = run(original.path(), &["backup", "--to", archive.to_str().unwrap()]);
    assert!(ok && out.contains("1 files"), "{out}");
    writing.store(false, Ordering::Relaxed);
    let acknowledged = writer.await.unwrap();
    assert!(acknowledged.len() > 3, "the server kept writing: {}", acknowledged.len());
    assert_eq!(std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777, 0o600, "it holds the master key");
    assert!(server.terminate().success());

    let restored = tempfile::tempdir().unwrap();
    let (ok, out) = run(restored.path(), &["restore", "--from", archive.to_str().unwrap()]);
    assert!(ok && out.contains("with 1 files"), "{out}");
    let (ok, out) = run(restored.path(), &["restore", "--from", archive.to_str().unwrap()]);
    assert!(!ok && out.contains("restore into an empty data folder"), "a second restore is refused: {out}");

    // The same token (the signing keys came back too) sees the same answers.
    let server = Process::start(restored.path(), &[]);
    let remote = server.remote();
    assert_eq!(answers(&remote, &token, &project, &icon).await, before);
    let (status, keys) = remote.call(&token, "GET", &format!("/project/{busy}/key"), None).await;
    assert_eq!(status, 200);
    let kept: Vec<String> =
        keys["data"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_owned()).collect();
    assert!(!kept.is_empty() && kept.len() <= acknowledged.len(), "{} of {}", kept.len(), acknowledged.len());
    assert!(kept.iter().all(|id| acknowledged.contains(id)), "only acknowledged writes, whole");
    // And it goes on working.
    created(&remote, &token, &format!("/project/{project}/key"), json!({"label": "after", "roles": "read"})).await;
    assert!(server.terminate().success());
}

#[test]
fn backup_refuses_what_it_cannot_copy() {
    let empty = tempfile::tempdir().unwrap();
    let archive = empty.path().join("b.tar.gz");
    let (ok, out) = run(empty.path(), &["backup", "--to", archive.to_str().unwrap()]);
    assert!(!ok && out.contains("there is no database"), "{out}");
    let (ok, out) = run(
        empty.path(),
        &["backup", "--to", archive.to_str().unwrap(), "--database-url", "postgres://postgres@127.0.0.1/none"],
    );
    assert!(!ok && out.contains("pg_dump"), "{out}");
    assert!(!archive.exists() && !empty.path().join("b.tar.gz.partial").exists(), "no half archive");

    std::fs::write(&archive, b"not an archive").unwrap();
    let target = empty.path().join("target");
    std::fs::create_dir(&target).unwrap();
    let (ok, out) = run(&target, &["restore", "--from", archive.to_str().unwrap()]);
    assert!(!ok && out.contains("not a readable backup"), "{out}");
    assert!(!target.join("data/basic-admin.db").exists());
}
