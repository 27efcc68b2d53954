//! `GET /docs/json`: the OpenAPI document. `GET /docs`: the same, as one HTML
//! page rendered on the server, with no script and nothing fetched from
//! elsewhere, so it works offline.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use serde_json::Value;

use crate::state::AppState;

pub fn routes(openapi: &utoipa::openapi::OpenApi) -> Router<AppState> {
    let document = serde_json::to_value(openapi).expect("the OpenAPI document serializes");
    let json: Arc<str> = serde_json::to_string_pretty(&document).expect("serializes").into();
    let html: Arc<str> = render(&document).into();
    Router::new()
        .route("/docs/json", get(move || async move { ([(CONTENT_TYPE, "application/json")], json.to_string()) }))
        .route("/docs", get(move || async move { Html(html.to_string()).into_response() }))
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}\
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}\
details{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}\
summary{cursor:pointer}summary:focus-visible{outline:2px solid #1a5fb4}\
code{font:13px ui-monospace,monospace}.m{display:inline-block;min-width:4.5rem;font-weight:600}\
.get{color:#1a5fb4}.post{color:#26a269}.patch{color:#c64600}.put{color:#865e3c}.delete{color:#c01c28}\
table{border-collapse:collapse;margin:.3rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}";

type Operation<'a> = (&'static str, String, &'a Value);

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn render(doc: &Value) -> String {
    let title = doc.pointer("/info/title").and_then(Value::as_str).unwrap_or("API");
    let version = doc.pointer("/info/version").and_then(Value::as_str).unwrap_or("");
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{t} API</title><style>{STYLE}</style></head><body><main>\
         <h1>{t} API <small>{v}</small></h1>\
         <p>The machine-readable document is at <a href=\"/docs/json\"><code>/docs/json</code></a>.</p>",
        t = escape(title),
        v = escape(version),
    );
    // Tags in order of first appearance, each with its (method, path, operation).
    let mut tags: Vec<(String, Vec<Operation>)> = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let tag = op.pointer("/tags/0").and_then(Value::as_str).unwrap_or("general").to_owned();
            let entry = (method, path.clone(), op);
            match tags.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, ops)) => ops.push(entry),
                None => tags.push((tag, vec![entry])),
            }
        }
    }
    for (tag, ops) in &tags {
        let _ = write!(out, "<section><h2 id=\"{0}\">{0}</h2>", escape(tag));
        for (method, path, op) in ops {
            render_operation(&mut out, method, path, op);
        }
        out.push_str("</section>");
    }
    out.push_str("</main></body></html>");
    out
}

fn render_operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let summary = op["summary"].as_str().unwrap_or_default();
    let _ = write!(
        out,
        "<details><summary><span class=\"m {method}\">{}</span> <code>{}</code> {}</summary>",
        method.to_uppercase(),
        escape(path),
        escape(summary)
    );
    if let Some(text) = op["description"].as_str() {
        let _ = write!(out, "<p>{}</p>", escape(text));
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Description</th></tr>");
        for p in params {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(p["name"].as_str().unwrap_or_default()),
                escape(p["in"].as_str().unwrap_or_default()),
                if p["required"].as_bool().unwrap_or(false) { "yes" } else { "no" },
                escape(p["description"].as_str().unwrap_or_default()),
            );
        }
        out.push_str("</table>");
    }
    out.push_str("<table><tr><th>Status</th><th>Meaning</th></tr>");
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(status),
            escape(response["description"].as_str().unwrap_or_default())
        );
    }
    out.push_str("</table></details>");
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_operations_by_tag_and_escapes_text() {
        let doc = json!({
            "info": {"title": "t", "version": "1"},
            "paths": {"/a/{id}": {"get": {"tags": ["x"], "summary": "Get <a>", "parameters": [
                {"name": "id", "in": "path", "required": true}
            ], "responses": {"200": {"description": "ok"}}}}}
        });
        let html = render(&doc);
        assert!(html.contains("<h2 id=\"x\">x</h2>"));
        assert!(html.contains("<code>/a/{id}</code> Get &lt;a&gt;"));
        assert!(html.contains("<td><code>id</code></td><td>path</td><td>yes</td>"));
        assert!(!html.contains("<script"));
    }
}
