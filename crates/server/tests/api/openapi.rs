//! The server's own OpenAPI document, its docs page, and its agreement with
//! the contract (`tests/fixtures/contract.json`, the structure of the Basic
//! Admin API's published description).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::{TestApp, json, on_both_backends};

const CONTRACT: &str = include_str!("../fixtures/contract.json");
const NOT_IMPLEMENTED: &str = include_str!("../fixtures/not-implemented.txt");

on_both_backends!(document_is_openapi_3, docs_page_lists_operations, implemented_operations_match_the_contract);

/// Body fields we require where the contract leaves them optional, because
/// the request means nothing without them (README, "Where we differ").
const STRICTER: [(&str, &str); 1] = [("PATCH /project/{}/user/{}", "meta")];

/// Response fields of the contract we never send, and why (README, "Where we differ").
const WITHHELD: [(&str, &str, &str); 1] = [
    // It would tell any team admin whether an address has an account here.
    ("POST /team/{}/invite", "201", "data/account_id"),
];

/// Operations beyond the admin contract: what the app SDK calls on the
/// server that keeps its users' data (README, "Running a Basic app").
const FOR_APPS: [&str; 13] = [
    "GET /auth/session",
    "GET /account/{}/db/{}",
    "POST /account/{}/db/{}",
    "GET /account/{}/db/{}/{}",
    "PUT /account/{}/db/{}/{}",
    "PATCH /account/{}/db/{}/{}",
    "DELETE /account/{}/db/{}/{}",
    "GET /project/{}/db/{}/{}",
    "POST /project/{}/db/{}/{}",
    "GET /project/{}/db/{}/{}/{}",
    "PUT /project/{}/db/{}/{}/{}",
    "PATCH /project/{}/db/{}/{}/{}",
    "DELETE /project/{}/db/{}/{}/{}",
];

/// Statuses of the contract we answer otherwise, and why (README, "Where we differ").
const ANSWERED_OTHERWISE: [(&str, &str); 1] = [
    // The SDK calls this spelling from pages: a redirect would lose the bearer token.
    ("GET /auth/userInfo", "301"),
];

async fn document(app: &TestApp) -> Value {
    let (status, doc) = json(app.get("/docs/json").send().await.unwrap()).await;
    assert_eq!(status, 200);
    doc
}

async fn document_is_openapi_3(app: TestApp) {
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["apiKeyAuth"]["scheme"], "bearer");
    // Rate-limited operations say so; cached reads are not limited.
    for (path, method) in
        [("/auth/token", "post"), ("/utils/schema/compareSchema", "post"), ("/project/{id}/user/connect", "post")]
    {
        let limited = &doc["paths"][path][method]["responses"]["429"];
        assert!(limited["headers"]["Retry-After"].is_object(), "{method} {path}: {limited}");
    }
    assert!(doc["paths"]["/project/{id}/schema"]["get"]["responses"].get("429").is_none());
}

async fn docs_page_lists_operations(app: TestApp) {
    let response = app.get("/docs").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    for needle in ["<code>/utils/slugify</code>", "Convert text to URL-friendly slug", "href=\"/docs/json\""] {
        assert!(html.contains(needle), "the page shows {needle}");
    }
    assert!(!html.contains("<script") && !html.contains("https://"), "nothing is fetched from elsewhere");
}

/// `GET /project/{id}/` and `get /project/{hexId}` are the same operation.
fn key(method: &str, path: &str) -> String {
    let mut normal = String::new();
    let mut in_param = false;
    for c in path.trim_end_matches('/').chars() {
        match c {
            '{' => {
                in_param = true;
                normal.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => normal.push(c),
        }
    }
    if normal.is_empty() {
        normal.push('/');
    }
    format!("{} {normal}", method.to_uppercase())
}

/// The property names a schema declares, as `a`, `a/b`, `a/[]/c`, resolving `$ref`s.
/// The fields a schema declares (as `a/b`, `a/[]/b`), and in `nullable`
/// those whose schema allows `null`.
fn fields_and_nulls(
    doc: &Value,
    schema: &Value,
    prefix: &str,
    out: &mut BTreeSet<String>,
    nullable: &mut BTreeSet<String>,
) {
    let schema = resolve(doc, schema);
    for combinator in ["oneOf", "anyOf", "allOf"] {
        for option in schema[combinator].as_array().into_iter().flatten() {
            fields_and_nulls(doc, option, prefix, out, nullable);
        }
    }
    if schema.get("items").is_some() {
        fields_and_nulls(doc, &schema["items"], &format!("{prefix}[]/"), out, nullable);
    }
    for (name, sub) in schema["properties"].as_object().into_iter().flatten() {
        let field = format!("{prefix}{name}");
        if allows_null(doc, sub) {
            nullable.insert(field.clone());
        }
        out.insert(field.clone());
        fields_and_nulls(doc, sub, &format!("{field}/"), out, nullable);
    }
}

fn allows_null(doc: &Value, schema: &Value) -> bool {
    let schema = resolve(doc, schema);
    schema["nullable"] == true
        || schema["type"] == "null"
        || schema["type"].as_array().is_some_and(|types| types.iter().any(|t| t == "null"))
        || ["oneOf", "anyOf"]
            .iter()
            .any(|c| schema[c].as_array().is_some_and(|options| options.iter().any(|o| allows_null(doc, o))))
}

async fn implemented_operations_match_the_contract(app: TestApp) {
    let doc = document(&app).await;
    let contract: Value = serde_json::from_str(CONTRACT).unwrap();
    let pending: BTreeSet<String> = NOT_IMPLEMENTED
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (method, path) = l.split_once(' ').unwrap();
            key(method, path)
        })
        .collect();

    let mut ours = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ours.insert(key(method, path), op.clone());
        }
    }

    let mut problems = Vec::new();
    let mut contract_keys = BTreeSet::new();
    for op in contract["operations"].as_array().unwrap() {
        let method = op["method"].as_str().unwrap();
        let path = op["path"].as_str().unwrap();
        let k = key(method, path);
        contract_keys.insert(k.clone());
        let Some(our) = ours.get(&k) else {
            if !pending.contains(&k) {
                problems.push(format!("{k}: not in our document and not listed as not implemented"));
            }
            continue;
        };
        if pending.contains(&k) {
            problems.push(format!("{k}: implemented, so remove it from not-implemented.txt"));
        }
        // Parameters: the contract's required ones are required here too
        // (path parameters by position, since their names may differ).
        let our_params = our["parameters"].as_array().cloned().unwrap_or_default();
        for p in op["parameters"].as_array().unwrap() {
            let (name, place) = (p["name"].as_str().unwrap(), p["in"].as_str().unwrap());
            let found = our_params.iter().find(|q| q["in"] == place && (place == "path" || q["name"] == name));
            match found {
                None => problems.push(format!("{k}: parameter {name} in {place} is missing")),
                Some(q) if p["required"] == true && q["required"] != true => {
                    problems.push(format!("{k}: parameter {name} must be required"))
                }
                _ => {}
            }
        }
        // Request body: the same required fields.
        if let Some(request) = op["request"].as_object() {
            let schema = our.pointer("/requestBody/content/application~1json/schema");
            let required: BTreeSet<String> = schema
                .map(|s| resolve(&doc, s))
                .and_then(|s| s["required"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            let mut expected: BTreeSet<String> =
                request["required_fields"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
            expected.extend(STRICTER.iter().filter(|(op, _)| *op == k).map(|(_, field)| field.to_string()));
            if required != expected {
                problems.push(format!("{k}: required request fields {required:?}, contract {expected:?}"));
            }
        }
        // Responses: every documented status, with at least the contract's fields.
        for (status, response) in op["responses"].as_object().unwrap() {
            let Some(our_response) = our["responses"].get(status) else {
                if ANSWERED_OTHERWISE.contains(&(k.as_str(), status.as_str())) {
                    continue;
                }
                problems.push(format!("{k}: status {status} is not documented"));
                continue;
            };
            let (mut our_fields, mut our_nullable) = (BTreeSet::new(), BTreeSet::new());
            if let Some(schema) = our_response.pointer("/content/application~1json/schema") {
                fields_and_nulls(&doc, schema, "", &mut our_fields, &mut our_nullable);
            }
            // Clients read a field the contract types `string` as one: it
            // may be left out, never null.
            for field in response["string_fields"].as_array().unwrap() {
                let field = field.as_str().unwrap();
                if our_nullable.contains(field) {
                    problems.push(format!("{k}: response {status} may answer null for the string {field}"));
                }
            }
            for field in response["fields"].as_array().unwrap() {
                let field = field.as_str().unwrap();
                // Where the contract allows an object or an array of them
                // (oneOf), always answering with the array satisfies it.
                let as_array = field.split_once('/').map(|(head, rest)| format!("{head}/[]/{rest}"));
                let withheld = WITHHELD.contains(&(k.as_str(), status.as_str(), field));
                if !withheld && !our_fields.contains(field) && !as_array.is_some_and(|f| our_fields.contains(&f)) {
                    problems.push(format!("{k}: response {status} lacks field {field}"));
                }
            }
        }
    }
    for k in ours.keys() {
        if !contract_keys.contains(k) && !FOR_APPS.contains(&k.as_str()) {
            problems.push(format!("{k}: in our document but not in the contract"));
        }
    }
    for k in &pending {
        if !contract_keys.contains(k) {
            problems.push(format!("{k}: listed as not implemented but not in the contract"));
        }
    }
    assert!(problems.is_empty(), "the document disagrees with the contract:\n{}", problems.join("\n"));
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).expect("a resolvable $ref"),
        None => schema,
    }
}
