//! A real S3-compatible server for the upload tests: moto's server
//! (`pip install 'moto[server]'`), started once for the test run and stopped
//! with it. Without it the S3 variants say SKIPPED, unless `S3_TESTS=1`
//! makes them mandatory (as in CI).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use basic_admin_server::config::Flags;
use uuid::Uuid;

use crate::harness::Setup;

const BUCKET: &str = "basic-admin-test";

static MOTO: OnceLock<Result<String, String>> = OnceLock::new();

/// A server that keeps its files in a fresh prefix of the test bucket.
pub fn s3_storage() -> Setup {
    match MOTO.get_or_init(start) {
        Ok(endpoint) => Setup {
            flags: Flags { storage: Some(format!("s3://{BUCKET}/{}", Uuid::new_v4().simple())), ..Flags::default() },
            env: [
                ("AWS_ENDPOINT_URL", endpoint.as_str()),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_REGION", "us-east-1"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .to_vec(),
            ..Setup::default()
        },
        Err(why) if std::env::var("S3_TESTS").as_deref() == Ok("1") => panic!("S3_TESTS=1 but {why}"),
        Err(why) => Setup { skip: Some(format!("no S3 server ({why})")), ..Setup::default() },
    }
}

/// Starts moto on a free port, watched so that it ends with this process;
/// makes the bucket. The endpoint URL.
fn start() -> Result<String, String> {
    let found = Command::new("sh").args(["-c", "command -v moto_server"]).stdout(Stdio::null()).status();
    if !found.is_ok_and(|s| s.success()) {
        return Err("moto_server is not installed; pip install 'moto[server]'".into());
    }
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let parent = std::process::id();
    let watched = format!(
        "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done; kill $m 2>/dev/null"
    );
    Command::new("sh").args(["-c", &watched]).spawn().map_err(|e| e.to_string())?;
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("moto_server did not start within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut answer = String::new();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let request =
        format!("PUT /{BUCKET} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .and_then(|()| stream.read_to_string(&mut answer))
        .map_err(|e| e.to_string())?;
    if !answer.starts_with("HTTP/1.1 200") {
        return Err(format!("moto did not make the bucket: {}", answer.lines().next().unwrap_or_default()));
    }
    Ok(format!("http://127.0.0.1:{port}"))
}

/// The files really are in the bucket (as moto's own inventory shows).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_files_land_in_the_bucket() {
    use crate::harness::{Backend, TestApp, TestDb, get};
    use crate::uploads::{image, upload};
    let setup = s3_storage();
    if let Some(why) = &setup.skip {
        crate::harness::skipped(&format!("{why}: s3::uploaded_files_land_in_the_bucket"));
        return;
    }
    let storage = setup.flags.storage.clone().unwrap();
    let Some(db) = TestDb::create(Backend::Sqlite, "s3::files_in_the_bucket").await else { return };
    let app = TestApp::start(db, setup).await;
    assert_eq!(app.state.app.blobs.kind, "s3");
    let people = crate::world::people(&app).await;
    let place = crate::world::place(&app, &people, true).await;
    let png = image(3, 3, image::ImageFormat::Png);
    let (status, uploaded) = upload(&app, &people.owner.token, &place, "icon", "i.png", &png).await;
    assert_eq!(status, 200, "{uploaded}");
    let name = uploaded["icon_url"].as_str().unwrap().split("/files/").nth(1).unwrap().to_owned();
    let Some(Ok(endpoint)) = MOTO.get() else { unreachable!("started above") };
    let prefix = storage.trim_start_matches("s3://");
    let inventory = get(format!("{endpoint}/moto-api/data.json")).await.text().await.unwrap();
    let key = format!("{}/{name}", prefix.split_once('/').unwrap().1);
    assert!(inventory.contains(&key), "{key} is not in the bucket");
    assert_eq!(app.state.app.blobs.get(&name).await.unwrap().unwrap().to_vec(), png);
    assert!(!std::path::Path::new(&app.state.config.data_dir).join("uploads").join("projects").exists());
}
