//! `GET /`, the service health routes and `GET /utils/slugify`.

use serde_json::json;

use crate::harness::{TestApp, json, on_both_backends};

on_both_backends!(
    root_reports_a_live_database,
    health_routes_answer_ok,
    slugify_makes_slugs,
    slugify_rejects_what_it_cannot_use,
    metrics_count_requests_per_route_template,
);

async fn root_reports_a_live_database(app: TestApp) {
    let (status, body) = json(app.get("/").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"root": true, "env": "test", "db_conn": true, "version": env!("CARGO_PKG_VERSION")}));
}

async fn health_routes_answer_ok(app: TestApp) {
    for path in ["/auth/", "/auth", "/utils/", "/utils"] {
        let (status, body) = json(app.get(path).send().await.unwrap()).await;
        assert_eq!((status, body), (200, json!({"status": "ok"})), "{path}");
    }
}

async fn slugify_makes_slugs(app: TestApp) {
    let cases = [
        ("Hello World!", "hello-world"),
        ("Café", "cafe"),
        ("  My   Project__2 ", "my-project-2"),
        ("already-a-slug", "already-a-slug"),
    ];
    for (text, slug) in cases {
        let response = app.get("/utils/slugify").query(&[("slug", text)]).send().await.unwrap();
        assert_eq!(json(response).await, (200, json!({"slug": slug})), "{text:?}");
    }
    // Clients send a JSON content type even on GETs without a body.
    let response =
        app.get("/utils/slugify?slug=With%20Header").header("content-type", "application/json").send().await.unwrap();
    assert_eq!(json(response).await, (200, json!({"slug": "with-header"})));
}

async fn slugify_rejects_what_it_cannot_use(app: TestApp) {
    for query in ["", "?slug=", "?other=x"] {
        let (status, body) = json(app.get(&format!("/utils/slugify{query}")).send().await.unwrap()).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"], "missing_slug", "{query}");
        assert!(body["message"].as_str().unwrap().contains("slug"));
    }
    let (status, body) = json(app.get("/utils/slugify?slug=%21%21%21").send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_slug");
}

async fn metrics_count_requests_per_route_template(app: TestApp) {
    for _ in 0..3 {
        app.get("/").send().await.unwrap();
    }
    app.get("/utils/slugify?slug=a").send().await.unwrap();
    app.get("/utils/slugify?slug=b").send().await.unwrap();
    app.get("/no/such/route").send().await.unwrap();

    let response = app.get("/metrics").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for line in [
        r#"http_requests_total{method="GET",route="/",status="200"} 3"#,
        r#"http_requests_total{method="GET",route="/utils/slugify",status="200"} 2"#,
        r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"http_request_duration_seconds_count{method="GET",route="/"} 3"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
}
