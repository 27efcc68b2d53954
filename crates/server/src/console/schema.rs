//! A project's schema: the current version as tables and fields, the
//! version history, what changed between any two versions, and an editor
//! that checks on the server (each error at its path, and what would change)
//! before publishing.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use basic_admin_app::AppError;
use basic_admin_app::services::schemas;
use basic_admin_core::authz::Action;
use basic_admin_core::schema::Change;
use basic_admin_core::store::SchemaVersion;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{Answer, Failure, refusal};
use super::layout::{self, alert, token, when};
use super::may;
use super::projects::project_and_role;
use super::session::{Console, Submitted};
use crate::routes::see_other;
use crate::state::AppState;

/// What the server found of a schema in the editor.
struct Verdict {
    /// `(path, message)` for each problem.
    errors: Vec<(String, String)>,
    /// What publishing it would change, when it is valid.
    changes: Option<Vec<Change>>,
}

#[derive(Default)]
struct Editor {
    status: Option<StatusCode>,
    error: Option<String>,
    /// The text to show in the editor (else the latest version's).
    text: Option<String>,
    verdict: Option<Verdict>,
    suggested: bool,
}

#[derive(Deserialize, Default)]
pub struct DiffQuery {
    from: Option<i64>,
    to: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
    Query(diff): Query<DiffQuery>,
) -> Answer {
    view(&state, &console, &id, diff, Editor::default()).await
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn field_text(field: &Value, key: &str) -> String {
    match &field[key] {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tables(schema: &Value) -> Markup {
    let empty = serde_json::Map::new();
    let tables = schema["tables"].as_object().unwrap_or(&empty);
    html! {
        @if tables.is_empty() { p class="muted" { "No table." } }
        @for (name, table) in tables {
            h3 { (name) " " small { (field_text(table, "type")) } }
            table class="stack" {
                thead { tr { th { "Field" } th { "Type" } th { "Required" } th { "Indexed" } } }
                tbody {
                    @for (field, spec) in table["fields"].as_object().unwrap_or(&empty) {
                        tr {
                            td { code { (field) } }
                            td data-label="Type" { (field_text(spec, "type")) }
                            td data-label="Required" { (field_text(spec, "required")) }
                            td data-label="Indexed" { (field_text(spec, "indexed")) }
                        }
                    }
                }
            }
        }
    }
}

fn changes(list: &[Change]) -> Markup {
    html! {
        @if list.is_empty() { p { "No change." } }
        @else {
            table class="stack" {
                thead { tr { th { "Change" } th { "Table" } th { "Field" } th { "Before" } th { "After" } } }
                tbody {
                    @for c in list {
                        tr {
                            td { (c.kind) @if let Some(p) = &c.property { " (" (p) ")" } }
                            td data-label="Table" { (c.table.as_deref().unwrap_or("—")) }
                            td data-label="Field" { (c.field.as_deref().unwrap_or("—")) }
                            td data-label="Before" { @if let Some(v) = &c.old { code { (v) } } }
                            td data-label="After" { @if let Some(v) = &c.new { code { (v) } } }
                        }
                    }
                }
            }
        }
    }
}

fn version_select(name: &str, label: &str, versions: &[SchemaVersion], selected: Option<i64>) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                @for v in versions {
                    option value=(v.version) selected[Some(v.version) == selected] { "version " (v.version) }
                }
            }
        }
    }
}

async fn view(state: &AppState, console: &Console, id: &str, diff: DiffQuery, editor: Editor) -> Answer {
    let (project, role, team) = project_and_role(state, console, id).await?;
    let versions = schemas::history(&state.app, &console.caller, id).await?;
    let latest = versions.last();
    let diffed = match (diff.from, diff.to) {
        (Some(from), Some(to)) => Some((from, to, schemas::diff(&state.app, &console.caller, id, from, to).await?)),
        _ => None,
    };
    let base = format!("/console/project/{}", project.id);
    let text = editor.text.clone().unwrap_or_else(|| match latest {
        Some(v) => {
            let mut next = v.schema.clone();
            next["version"] = json!(v.version + 1);
            pretty(&next)
        }
        None => pretty(&json!({"project_id": project.id, "version": 1, "tables": {}})),
    });
    let body = html! {
        (layout::project_tabs(&base, "Schema"))
        (alert(editor.error.as_deref()))
        section class="card" aria-labelledby="current" {
            @match latest {
                Some(v) => {
                    h2 id="current" { "Version " (v.version) }
                    p class="muted" { "Published " (when(&v.created_at)) }
                    (tables(&v.schema))
                }
                None => {
                    h2 id="current" { "No schema yet" }
                    p { "Publish a first version (1 or more) before the app stores data." }
                }
            }
        }
        @if versions.len() > 1 {
            section class="card" aria-labelledby="history" {
                h2 id="history" { "History" }
                ul class="plain" {
                    @for pair in versions.windows(2).rev() {
                        li {
                            "Version " (pair[1].version) ", " (when(&pair[1].created_at)) " · "
                            a href={ (base) "/schema?from=" (pair[0].version) "&to=" (pair[1].version) } {
                                "what changed from " (pair[0].version)
                            }
                        }
                    }
                    li { "Version " (versions[0].version) ", " (when(&versions[0].created_at)) }
                }
                form method="get" action={ (base) "/schema" } {
                    div class="row" {
                        (version_select("from", "From", &versions, diff.from.or(Some(versions[0].version))))
                        (version_select("to", "To", &versions, diff.to.or(latest.map(|v| v.version))))
                    }
                    button class="secondary" type="submit" { "Compare" }
                }
                @if let Some((from, to, comparison)) = &diffed {
                    h3 { "From version " (from) " to " (to) }
                    (changes(&comparison.changes))
                }
            }
        }
        @if may(role, Action::PublishSchema) {
            section class="card" aria-labelledby="editor" {
                h2 id="editor" { "Edit and publish" }
                @if editor.suggested { p class="notice" role="status" { "A suggestion: check it, change it, then publish." } }
                @if let Some(verdict) = &editor.verdict {
                    @if verdict.errors.is_empty() {
                        p class="notice" role="status" { "The schema is valid." }
                    } @else {
                        div class="error" role="alert" {
                            p { "The schema has " (verdict.errors.len()) " problem(s):" }
                            ul { @for (path, message) in &verdict.errors {
                                li { code { (if path.is_empty() { "/" } else { path.as_str() }) } " " (message) }
                            } }
                        }
                    }
                    @if let Some(list) = &verdict.changes {
                        h3 { "What publishing it changes" }
                        (changes(list))
                    }
                }
                form method="post" action={ (base) "/schema/check" } {
                    (token(console))
                    label for="schema" { "Schema (JSON)" }
                    textarea id="schema" name="schema" rows="18" spellcheck="false" { (text) }
                    button class="secondary" type="submit" { "Check" }
                    " "
                    button type="submit" formaction={ (base) "/schema/publish" } { "Publish" }
                }
                @if state.app.settings.ai.is_some() {
                    form method="post" action={ (base) "/schema/suggest" } {
                        (token(console))
                        label for="prompt" { "Ask for a suggestion" }
                        input id="prompt" name="prompt" required maxlength=(schemas::MAX_PROMPT_CHARS)
                            placeholder="A todo app with lists and due dates";
                        button class="secondary" type="submit" { "Suggest" }
                    }
                }
            }
        }
    };
    let crumbs = [(team.0.as_str(), team.1.clone()), (project.name.as_str(), base.clone())];
    let status = editor.status.unwrap_or(StatusCode::OK);
    Ok(layout::page(status, console, &format!("{} · schema", project.name), &crumbs, body))
}

#[derive(Deserialize)]
pub struct SchemaForm {
    schema: String,
}

/// The editor's text as JSON, or why it is not.
fn parsed(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("This is not JSON: {e}."))
}

/// What the server's rules say of `schema`: its problems, and what it would change.
async fn verdict(state: &AppState, schema: Value) -> Result<Verdict, AppError> {
    let verified = schemas::verify(&state.app, schema.clone()).await?;
    let errors = verified["errors"]
        .as_array()
        .map(|list| {
            let text = |e: &Value, key: &str| e[key].as_str().unwrap_or_default().to_owned();
            list.iter().map(|e| (text(e, "instancePath"), text(e, "message"))).collect()
        })
        .unwrap_or_default();
    let changes = match verified["valid"].as_bool() {
        Some(true) => Some(schemas::compare(&state.app, schema).await?.changes),
        _ => None,
    };
    Ok(Verdict { errors, changes })
}

/// The editor again with `text`, what the rules say of it, and `error` above.
async fn checked(
    state: &AppState,
    console: &Console,
    id: &str,
    text: String,
    status: StatusCode,
    error: Option<String>,
) -> Answer {
    let (status, error, verdict) = match parsed(&text) {
        Err(not_json) => (StatusCode::BAD_REQUEST, Some(not_json), None),
        Ok(schema) => match verdict(state, schema).await {
            Ok(verdict) => (status, error, Some(verdict)),
            Err(e) => {
                let (status, message) = refusal(e)?;
                (status, Some(message), None)
            }
        },
    };
    let editor = Editor { status: Some(status), error, text: Some(text), verdict, suggested: false };
    view(state, console, id, DiffQuery::default(), editor).await
}

pub async fn check(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Submitted { console, form }: Submitted<SchemaForm>,
) -> Answer {
    project_and_role(&state, &console, &id).await?;
    checked(&state, &console, &id, form.schema, StatusCode::OK, None).await
}

pub async fn publish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Submitted { console, form }: Submitted<SchemaForm>,
) -> Answer {
    let schema = match parsed(&form.schema) {
        Ok(schema) => schema,
        Err(_) => return checked(&state, &console, &id, form.schema, StatusCode::BAD_REQUEST, None).await,
    };
    match schemas::publish(&state.app, &console.caller, &id, schema).await {
        Ok(_) => Ok(see_other(&format!("/console/project/{id}/schema"), vec![])),
        Err(e) => {
            let (status, message) = refusal(e)?;
            checked(&state, &console, &id, form.schema, status, Some(message)).await
        }
    }
}

#[derive(Deserialize)]
pub struct SuggestForm {
    prompt: String,
}

pub async fn suggest(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Submitted { console, form }: Submitted<SuggestForm>,
) -> Answer {
    let versions = schemas::history(&state.app, &console.caller, &id).await?;
    let current = versions.last().map(|v| &v.schema);
    match schemas::suggest(&state.app, &console.caller, &id, &form.prompt, None, current).await {
        Ok(schema) => {
            let editor = Editor { text: Some(pretty(&schema)), suggested: true, ..Editor::default() };
            view(&state, &console, &id, DiffQuery::default(), editor).await
        }
        // The provider being off or failing is said above the editor too.
        Err(e) => {
            let failure = Failure::from(e);
            if failure.status() == StatusCode::INTERNAL_SERVER_ERROR {
                return Err(failure);
            }
            let editor = Editor {
                status: Some(failure.status()),
                error: Some(failure.message().to_owned()),
                ..Editor::default()
            };
            view(&state, &console, &id, DiffQuery::default(), editor).await
        }
    }
}
