//! Limits on abuse and the headers that keep browsers and caches safe.

use basic_admin_core::oauth::{CLI_CLIENT_ID, CLI_REDIRECT_URI};
use basic_admin_server::config::Flags;

use crate::flows::authorize_query;
use crate::harness::{Setup, TestApp, json, on_both_backends};
use crate::world;

on_both_backends!(html_pages_forbid_scripts_framing_and_referrers, api_answers_are_not_stored);
on_both_backends!(with tight_limits; public_endpoints_are_rate_limited_per_address);

fn tight_limits() -> Setup {
    let flags = Flags {
        rate_limit_auth_per_minute: Some("3".into()),
        rate_limit_schema_utils_per_minute: Some("5".into()),
        ..Flags::default()
    };
    Setup { flags, ..Setup::default() }
}

async fn html_pages_forbid_scripts_framing_and_referrers(app: TestApp) {
    let query = authorize_query(CLI_CLIENT_ID, CLI_REDIRECT_URI, "profile,admin", &[]);
    let (sign_in, sign_up) = (format!("/auth/login?{query}"), format!("/auth/signup?{query}"));
    for path in [sign_in.as_str(), sign_up.as_str(), "/docs"] {
        let response = app.get(path).send().await.unwrap();
        let headers = response.headers().clone();
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.to_lowercase().contains("<script"), "{path} has a script");
    }
}

async fn api_answers_are_not_stored(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    world::app_data(&app, &people, place.project).await;
    let owner = format!("Bearer {}", people.owner.token);

    let projects = app.get("/project").header("authorization", &owner).send().await.unwrap();
    assert_eq!(projects.status(), 200);
    assert_eq!(projects.headers()["cache-control"], "no-store");
    let missing = app.get("/nowhere").send().await.unwrap();
    assert_eq!((missing.status().as_u16(), &missing.headers()["cache-control"]), (404, &"no-store".parse().unwrap()));

    // Public documents keep the caching their routes chose.
    let schema = app.get(&format!("/project/{}/schema", place.project)).send().await.unwrap();
    assert_eq!(schema.status(), 200);
    assert_eq!(schema.headers()["cache-control"], "public, max-age=5");
    let keys = app.get("/auth/.well-known/jwks.json").send().await.unwrap();
    assert_eq!(keys.headers()["cache-control"], "public, max-age=300");
}

async fn public_endpoints_are_rate_limited_per_address(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    world::app_data(&app, &people, place.project).await;

    // Token exchange: 3 a minute, whatever the answers were.
    for _ in 0..3 {
        let response =
            app.post("/auth/token").form(&[("grant_type", "authorization_code"), ("code", "x")]).send().await;
        assert_eq!(response.unwrap().status(), 400);
    }
    let refused = app.post("/auth/token").form(&[("grant_type", "authorization_code"), ("code", "x")]).send().await;
    let refused = refused.unwrap();
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let (_, body) = json(refused).await;
    assert_eq!(body["error"], "too_many_requests");

    // Schema reads have their own count.
    // The schema utilities have their own count.
    let body = serde_json::json!({"schema": world::first_schema(place.project)});
    for _ in 0..5 {
        assert_eq!(app.post("/utils/schema/verifyUpdateSchema").json(&body).send().await.unwrap().status(), 200);
    }
    assert_eq!(app.post("/utils/schema/compareSchema").json(&body).send().await.unwrap().status(), 429);

    // Cached reads are not limited: a schema read or a right key costs no
    // more than a 429 would.
    let schema = format!("/project/{}/schema", place.project);
    let key = world::key(&app, place.project, "keys:read").await;
    let verify = format!("/project/{}/key/verify", place.project);
    for _ in 0..100 {
        assert_eq!(app.get(&schema).send().await.unwrap().status(), 200);
        let checked = app.post(&verify).bearer_auth(&key).json(&serde_json::json!({"key": key})).send().await.unwrap();
        assert_eq!(checked.status(), 200);
    }

    // Nothing else is limited: signed-in developer calls go on.
    let owner = format!("Bearer {}", people.owner.token);
    for _ in 0..10 {
        assert_eq!(app.get("/project").header("authorization", &owner).send().await.unwrap().status(), 200);
    }
}
