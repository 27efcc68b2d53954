//! A project's icon and background: uploads checked from their bytes,
//! served from `/files/…`, replaced and deleted without leaving files behind.

use std::io::Cursor;

use image::{ImageFormat, RgbImage};
use serde_json::{Value, json};

use crate::harness::{TestApp, json, on_both_backends};
use crate::s3::s3_storage;
use crate::world::{self, Place};

on_both_backends!(
    an_icon_is_uploaded_served_replaced_and_deleted,
    a_background_goes_to_the_profile_styles,
    uploads_are_judged_by_their_bytes,
    an_upload_racing_a_delete_leaves_a_consistent_project,
    deleting_a_project_deletes_its_files,
    orphan_files_are_swept
);
// The same tests with the files in an S3 bucket.
on_both_backends!(
    with s3_storage;
    an_icon_is_uploaded_served_replaced_and_deleted,
    a_background_goes_to_the_profile_styles,
    uploads_are_judged_by_their_bytes,
    an_upload_racing_a_delete_leaves_a_consistent_project,
    deleting_a_project_deletes_its_files
);

/// An image of `width`×`height` in `format`.
pub fn image(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 7])).write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// A `multipart/form-data` body with one part: its content type and bytes.
pub fn multipart(field: &str, file_name: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "basic-admin-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `POST /project/{id}/upload/{kind}` of `bytes` as `file`.
pub async fn upload(app: &TestApp, token: &str, place: &Place, kind: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let (content_type, body) = multipart("file", name, "application/octet-stream", bytes);
    let path = format!("/project/{}/upload/{kind}", place.project);
    json(app.post(&path).bearer_auth(token).header("content-type", content_type).body(body).send().await.unwrap()).await
}

/// The path part of a file URL.
fn path_of(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.state.config.public_url).expect("a URL of this server").to_owned()
}

async fn profile(app: &TestApp, token: &str, place: &Place) -> Value {
    app.call(token, "GET", &format!("/project/{}", place.project), None).await.1["data"]["profile"].clone()
}

async fn an_icon_is_uploaded_served_replaced_and_deleted(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let member = &people.member.token;
    let png = image(16, 16, ImageFormat::Png);
    let (status, uploaded) = upload(&app, member, &place, "icon", "icon.png", &png).await;
    assert_eq!(status, 200, "{uploaded}");
    assert_eq!(uploaded["success"], true);
    let url = uploaded["icon_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/files/projects/", app.state.config.public_url)) && url.ends_with(".png"));
    assert_eq!(profile(&app, member, &place).await["icon_url"], url.as_str());
    let metadata = format!("/projects/{}/client-metadata.json", place.project);
    assert_eq!(json(app.get(&metadata).send().await.unwrap()).await.1["logo_uri"], url.as_str());

    // Served as stored, for ever cacheable, in ranges too.
    let file = path_of(&app, &url);
    let served = app.get(&file).send().await.unwrap();
    assert_eq!(served.status(), 200);
    let headers = served.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);
    let etag = headers["etag"].to_str().unwrap();
    assert_eq!(app.get(&file).header("if-none-match", etag).send().await.unwrap().status(), 304);
    let part = app.get(&file).header("range", "bytes=1-3").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"].to_str().unwrap(), format!("bytes 1-3/{}", png.len()));
    assert_eq!(part.bytes().await.unwrap().to_vec(), png[1..=3]);
    assert_eq!(app.get(&file).header("range", "bytes=99999-").send().await.unwrap().status(), 416);

    let (status, listed) =
        app.call(&people.viewer.token, "GET", &format!("/project/{}/upload", place.project), None).await;
    assert_eq!(status, 200);
    let icon = &listed["images"]["icon"];
    assert_eq!((icon["icon_url"].as_str(), icon["contentType"].as_str()), (Some(url.as_str()), Some("image/png")));
    assert_eq!((icon["size"].as_u64(), listed["images"]["background"].clone()), (Some(png.len() as u64), Value::Null));
    assert!(icon["lastModified"].is_string());

    // A new icon replaces the old one, file and all.
    let jpeg = image(8, 8, ImageFormat::Jpeg);
    let (_, replaced) = upload(&app, &people.admin.token, &place, "icon", "new.jpg", &jpeg).await;
    let new_url = replaced["icon_url"].as_str().unwrap();
    assert!(new_url != url && new_url.ends_with(".jpg"));
    assert_eq!(app.get(&file).send().await.unwrap().status(), 404, "the replaced file is gone");
    assert_eq!(app.get(&path_of(&app, new_url)).send().await.unwrap().headers()["content-type"], "image/jpeg");

    let icon_path = format!("/project/{}/upload/icon", place.project);
    let (status, deleted) = app.call(member, "DELETE", &icon_path, None).await;
    assert_eq!((status, deleted["success"].clone()), (200, json!(true)), "{deleted}");
    assert!(deleted["message"].is_string());
    assert!(profile(&app, member, &place).await.get("icon_url").is_none());
    assert_eq!(app.get(&path_of(&app, new_url)).send().await.unwrap().status(), 404);
    let (status, again) = app.call(member, "DELETE", &icon_path, None).await;
    assert_eq!((status, again["error"].as_str()), (404, Some("not_found")));
    let (_, listed) = app.call(member, "GET", &format!("/project/{}/upload", place.project), None).await;
    assert_eq!(listed["images"], json!({"icon": null, "background": null}));
    for bad in ["/files/projects/x/../y.png", "/files/other/a.png", "/files/projects/a/b.gif"] {
        assert_eq!(app.get(bad).send().await.unwrap().status(), 404, "{bad}");
    }
}

async fn a_background_goes_to_the_profile_styles(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let webp = image(32, 16, ImageFormat::WebP);
    let (status, uploaded) = upload(&app, &people.owner.token, &place, "background", "bg.webp", &webp).await;
    assert_eq!(status, 200, "{uploaded}");
    let url = uploaded["background_url"].as_str().unwrap();
    assert!(url.ends_with(".webp"));
    assert_eq!(profile(&app, &people.owner.token, &place).await["styles"]["background_url"], url);
    let (_, listed) = app.call(&people.owner.token, "GET", &format!("/project/{}/upload", place.project), None).await;
    assert_eq!(listed["images"]["background"]["background_url"], url);
    assert_eq!(listed["images"]["background"]["contentType"], "image/webp");
    let path = format!("/project/{}/upload/background", place.project);
    assert_eq!(app.call(&people.owner.token, "DELETE", &path, None).await.0, 200);
    assert!(profile(&app, &people.owner.token, &place).await["styles"].get("background_url").is_none());
}

async fn uploads_are_judged_by_their_bytes(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let token = &people.owner.token;
    let png = image(4, 4, ImageFormat::Png);

    // A PNG named .jpg and sent as image/jpeg is a PNG.
    let (content_type, body) = multipart("file", "photo.jpg", "image/jpeg", &png);
    let path = format!("/project/{}/upload/icon", place.project);
    let response = app.post(&path).bearer_auth(token).header("content-type", content_type).body(body).send().await;
    let (status, uploaded) = json(response.unwrap()).await;
    assert_eq!(status, 200, "{uploaded}");
    assert!(uploaded["icon_url"].as_str().unwrap().ends_with(".png"));
    let (_, listed) = app.call(token, "GET", &format!("/project/{}/upload", place.project), None).await;
    assert_eq!(listed["images"]["icon"]["contentType"], "image/png");

    let mut over = png.clone();
    over.resize(2 * 1024 * 1024 + 1, 0);
    let mut truncated = image(64, 64, ImageFormat::Png);
    truncated.truncate(truncated.len() / 2);
    let wide = image(8193, 1, ImageFormat::Png);
    let cases: [(&str, &str, Vec<u8>, u16, &str); 5] = [
        ("icon", "big.png", over, 413, "file_too_large"),
        ("icon", "notes.png", b"just some text, not an image".to_vec(), 415, "unsupported_image_type"),
        ("icon", "half.png", truncated, 400, "invalid_image"),
        ("icon", "wide.png", wide, 400, "image_too_large"),
        ("icon", "empty.png", Vec::new(), 400, "no_file"),
    ];
    for (kind, name, bytes, status, code) in cases {
        let (got, body) = upload(&app, token, &place, kind, name, &bytes).await;
        assert_eq!((got, body["error"].as_str()), (status, Some(code)), "{name}: {body}");
    }
    let mut big_background = png.clone();
    big_background.resize(10 * 1024 * 1024 + 1, 0);
    assert_eq!(upload(&app, token, &place, "background", "bg.png", &big_background).await.0, 413);
    assert_eq!(upload(&app, token, &place, "background", "bg.png", &image(512, 512, ImageFormat::Png)).await.0, 200);

    // No file part, or no form at all.
    let (content_type, body) = multipart("note", "", "text/plain", b"hello");
    let text_only = String::from_utf8(body).unwrap().replace("; filename=\"\"", "");
    let response =
        app.post(&path).bearer_auth(token).header("content-type", content_type).body(text_only).send().await.unwrap();
    assert_eq!(json(response).await.1["error"], "no_file");
    let (status, body) = app.call(token, "POST", &path, Some(json!({"file": "x"}))).await;
    assert_eq!(status, 400, "{body}");
    // Refused uploads changed nothing.
    let (_, listed) = app.call(token, "GET", &format!("/project/{}/upload", place.project), None).await;
    assert!(listed["images"]["icon"]["icon_url"].as_str().unwrap().ends_with(".png"));
}

/// Files of the project in the file store.
async fn stored_files(app: &TestApp, place: &Place) -> Vec<String> {
    app.state.app.blobs.list(&format!("projects/{}", place.project.simple())).await.unwrap()
}

async fn an_upload_racing_a_delete_leaves_a_consistent_project(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let token = people.owner.token.clone();
    let png = image(8, 8, ImageFormat::Png);
    let icon_path = format!("/project/{}/upload/icon", place.project);
    for _ in 0..8 {
        let (uploaded, deleted) = tokio::join!(
            upload(&app, &token, &place, "icon", "i.png", &png),
            app.call(&token, "DELETE", &icon_path, None)
        );
        assert_eq!(uploaded.0, 200);
        assert!([200, 404].contains(&deleted.0), "{deleted:?}");
        // Whatever the order, the profile, the record and the files agree.
        let icon_url = profile(&app, &token, &place).await["icon_url"].as_str().map(str::to_owned);
        let (_, listed) = app.call(&token, "GET", &format!("/project/{}/upload", place.project), None).await;
        assert_eq!(listed["images"]["icon"]["icon_url"].as_str().map(str::to_owned), icon_url);
        let files = stored_files(&app, &place).await;
        match icon_url {
            Some(url) => {
                assert_eq!(app.get(&path_of(&app, &url)).send().await.unwrap().status(), 200);
                assert_eq!(files.len(), 1, "{files:?}");
            }
            None => assert!(files.is_empty(), "{files:?}"),
        }
    }
}

async fn deleting_a_project_deletes_its_files(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let token = &people.owner.token;
    let (_, icon) = upload(&app, token, &place, "icon", "i.png", &image(4, 4, ImageFormat::Png)).await;
    upload(&app, token, &place, "background", "b.png", &image(4, 4, ImageFormat::Png)).await;
    assert_eq!(stored_files(&app, &place).await.len(), 2);
    assert_eq!(app.call(token, "DELETE", &format!("/project/{}", place.project), None).await.0, 200);
    assert!(stored_files(&app, &place).await.is_empty());
    assert_eq!(app.get(&path_of(&app, icon["icon_url"].as_str().unwrap())).send().await.unwrap().status(), 404);
}

/// A file without a record (a crash between writing and recording it)
/// is removed by the sweep once it is old enough; recorded files stay.
async fn orphan_files_are_swept(app: TestApp) {
    use basic_admin_app::services::uploads::sweep_orphans;
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let png = image(4, 4, ImageFormat::Png);
    let (_, kept) = upload(&app, &people.owner.token, &place, "icon", "i.png", &png).await;
    let orphan = format!("projects/{}/icon-orphan.png", place.project.simple());
    app.state.app.blobs.put(&orphan, png.clone().into()).await.unwrap();
    assert_eq!(
        sweep_orphans(&app.state.app, chrono::Duration::minutes(10)).await.unwrap(),
        0,
        "young files may be in flight"
    );
    assert_eq!(stored_files(&app, &place).await.len(), 2);
    // With the age limit in the future, every unrecorded file is old enough.
    assert_eq!(sweep_orphans(&app.state.app, chrono::Duration::minutes(-1)).await.unwrap(), 1);
    let left = stored_files(&app, &place).await;
    assert_eq!(left.len(), 1);
    assert!(kept["icon_url"].as_str().unwrap().ends_with(&left[0]), "{left:?}");
}
