//! The error shape and the HTTP stack around every route: JSON errors for
//! unknown routes, wrong methods, bad bodies, panics; trailing slashes;
//! request ids; CORS; compression.

use axum::Router;
use axum::routing::{get, post};
use basic_admin_server::extract::Json;
use basic_admin_server::state::AppState;
use serde_json::{Value, json};

use crate::harness::{Setup, TestApp, json, on_both_backends};

/// Routes that exist only in these tests, to drive the layers with bodies
/// and failures the API's own routes do not produce on demand.
fn with_test_routes() -> Setup {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Named {
        name: String,
    }
    let routes: Router<AppState> = Router::new()
        .route("/test/echo", post(|Json(value): Json<Value>| async move { Json(value) }))
        .route("/test/named", post(|Json(named): Json<Named>| async move { Json(named) }))
        .route("/test/panic", get(panics));
    let mut setup = Setup { extra_routes: Some(routes), ..Setup::default() };
    // Small, so that an oversized body still fits the socket's buffers and
    // the client reads the 413 instead of failing to write.
    setup.flags.max_body_bytes = Some(MAX_BODY.to_string());
    setup
}

const MAX_BODY: usize = 4096;

fn with_short_timeout() -> Setup {
    let routes: Router<AppState> = Router::new().route(
        "/test/slow",
        get(|| async {
            tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
            "too late"
        }),
    );
    let mut setup = Setup { extra_routes: Some(routes), ..Setup::default() };
    setup.flags.request_timeout_secs = Some("1".into());
    setup
}

on_both_backends!(with with_short_timeout; slow_requests_are_json_408s);

async fn slow_requests_are_json_408s(app: TestApp) {
    let (status, body) = json(app.get("/test/slow").send().await.unwrap()).await;
    assert_eq!(status, 408);
    assert_error_shape(&body, "request_timeout");
    assert_eq!(app.get("/").send().await.unwrap().status(), 200, "other requests are unaffected");
}

async fn panics() -> &'static str {
    panic!("a test panic")
}

on_both_backends!(with with_test_routes;
    unknown_routes_are_json_404s,
    wrong_methods_are_json_405s,
    bodies_are_checked,
    oversized_bodies_are_413s,
    panics_are_generic_json_500s,
    trailing_slashes_reach_the_same_route,
    request_ids_are_given_and_kept,
    browsers_may_call_from_any_origin,
    large_answers_are_compressed,
);

fn assert_error_shape(body: &Value, code: &str) {
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "a message: {body}");
}

async fn unknown_routes_are_json_404s(app: TestApp) {
    for path in ["/nope", "/project/x/y/z/w/v", "/docs/nothing"] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "application/json");
        let (status, body) = json(response).await;
        assert_eq!(status, 404, "{path}");
        assert_error_shape(&body, "not_found");
    }
}

async fn wrong_methods_are_json_405s(app: TestApp) {
    for (method, path) in [("POST", "/"), ("DELETE", "/utils/slugify"), ("PUT", "/auth/")] {
        let response = app.client.request(method.parse().unwrap(), app.url(path)).send().await.unwrap();
        let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
        let (status, body) = json(response).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_error_shape(&body, "method_not_allowed");
        assert!(allow.is_some_and(|a| a.contains("GET")), "an Allow header for {method} {path}");
    }
}

async fn bodies_are_checked(app: TestApp) {
    let ok = app.post("/test/echo").json(&json!({"a": [1, 2]})).send().await.unwrap();
    assert_eq!(json(ok).await, (200, json!({"a": [1, 2]})));

    let malformed =
        app.post("/test/echo").header("content-type", "application/json").body("{\"a\": ").send().await.unwrap();
    let (status, body) = json(malformed).await;
    assert_eq!(status, 400);
    assert_error_shape(&body, "malformed_json");

    let wrong_type = app.post("/test/named").json(&json!({"name": 5})).send().await.unwrap();
    let (status, body) = json(wrong_type).await;
    assert_eq!(status, 400);
    assert_error_shape(&body, "invalid_body");
    assert!(body["message"].as_str().unwrap().contains("name"), "names the field: {body}");

    let missing_field = app.post("/test/named").json(&json!({})).send().await.unwrap();
    assert_eq!(json(missing_field).await.0, 400);

    // serde would read an array as the fields in order: bodies are objects.
    for not_object in [json!(["x"]), json!("x"), json!(null)] {
        let (status, body) = json(app.post("/test/named").json(&not_object).send().await.unwrap()).await;
        assert_eq!(status, 400, "{not_object}");
        assert_error_shape(&body, "invalid_body");
    }

    let not_json = app.post("/test/echo").header("content-type", "text/plain").body("{}").send().await.unwrap();
    let (status, body) = json(not_json).await;
    assert_eq!(status, 415);
    assert_error_shape(&body, "unsupported_media_type");

    let no_type = app.post("/test/echo").body("{}").send().await.unwrap();
    assert_eq!(json(no_type).await.0, 415);
}

async fn oversized_bodies_are_413s(app: TestApp) {
    let fits = format!("{{\"pad\": \"{}\"}}", "x".repeat(MAX_BODY - 20));
    let response = app.post("/test/echo").header("content-type", "application/json").body(fits).send().await.unwrap();
    assert_eq!(response.status(), 200, "up to the limit is fine");
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(2 * MAX_BODY));
    let response = app.post("/test/echo").header("content-type", "application/json").body(big).send().await.unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 413);
    assert_error_shape(&body, "payload_too_large");
    // The server is still fine afterwards (on a new connection: it closes the
    // one whose body it refused to read).
    assert_eq!(crate::harness::get(app.url("/")).await.status(), 200);
}

async fn panics_are_generic_json_500s(app: TestApp) {
    let (status, body) = json(app.get("/test/panic").send().await.unwrap()).await;
    assert_eq!(status, 500);
    assert_error_shape(&body, "internal_error");
    assert!(!body.to_string().contains("a test panic"), "no detail leaks: {body}");
    assert_eq!(app.get("/").send().await.unwrap().status(), 200);
}

async fn trailing_slashes_reach_the_same_route(app: TestApp) {
    for (a, b) in [
        ("/", "/"),
        ("/auth", "/auth/"),
        ("/utils", "/utils/"),
        ("/utils/slugify?slug=A%20b", "/utils/slugify/?slug=A%20b"),
    ] {
        let (sa, ba) = json(app.get(a).send().await.unwrap()).await;
        let (sb, bb) = json(app.get(b).send().await.unwrap()).await;
        assert_eq!((sa, &ba), (sb, &bb), "{a} and {b}");
        assert_eq!(sa, 200, "{a}");
    }
    let echoed = app.post("/test/echo/").json(&json!({"a": 1})).send().await.unwrap();
    assert_eq!(json(echoed).await, (200, json!({"a": 1})));
}

async fn request_ids_are_given_and_kept(app: TestApp) {
    let response = app.get("/").send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "a generated id: {id}");

    let response = app.get("/nope").header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42", "also on errors");
}

async fn browsers_may_call_from_any_origin(app: TestApp) {
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/utils/slugify"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let allowed = preflight.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(allowed.contains("authorization") || allowed == "*", "{allowed}");

    let response = app.get("/").header("origin", "https://app.example").send().await.unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(response.headers()["access-control-expose-headers"].to_str().unwrap().contains("x-request-id"));
}

async fn large_answers_are_compressed(app: TestApp) {
    // reqwest without its gzip feature does not decode: the header tells.
    let response = app.get("/docs/json").header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let plain = app.get("/docs/json").send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
}
