//! The router is complete on its own: requests handed to it in process
//! (`tower::ServiceExt::oneshot`), with no socket and no peer address, get
//! what a client over HTTP gets.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use basic_admin_server::App;
use basic_admin_server::config::{Config, Flags};
use serde_json::Value;
use tower::ServiceExt as _;

async fn app(dir: &std::path::Path) -> App {
    let flags = Flags { data_dir: Some(dir.display().to_string()), env: Some("in-process".into()), ..Flags::default() };
    App::build(Config::resolve(flags, &|_| None).unwrap()).await.unwrap()
}

async fn call(app: &App, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.router().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_router_answers_in_process_as_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;

    let (status, root) = call(&app, get("/")).await;
    assert_eq!(
        (status, &root["env"], &root["db_conn"]),
        (StatusCode::OK, &Value::from("in-process"), &Value::from(true))
    );
    // `/a/` is `/a`, as when served.
    assert_eq!(call(&app, get("/auth/")).await, call(&app, get("/auth")).await);
    // Protected routes answer 401 in the error shape.
    let (status, body) = call(&app, get("/team")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    // Routes that count the client's address (rate limits, throttles) work without one.
    let token = Request::post("/auth/token")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"grant_type": "authorization_code", "code": "nope"}"#))
        .unwrap();
    let (status, body) = call(&app, token).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}");
    let verify = Request::post("/utils/schema/verifyUpdateSchema")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"schema": {"version": 1, "tables": {}}}"#))
        .unwrap();
    let (status, body) = call(&app, verify).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_schema")), "{body}");
    // Unknown routes are 404 JSON.
    let (status, body) = call(&app, get("/nowhere")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    app.stop_background();
}
