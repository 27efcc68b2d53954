//! Publishing and reading project schemas, and the schema utilities.

use axum::http::StatusCode;
use basic_admin_core::authz::Action;
use basic_admin_core::schema::{self, Comparison, UpdateVerdict};
use basic_admin_core::store::{Constraint, Project, SchemaVersion, StoreError};
use basic_admin_core::time;
use serde_json::{Value, json};
use uuid::Uuid;

use super::access::{self, project_not_found};
use super::projects;
use crate::auth::Caller;
use crate::cache::Change;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Which versions a read asks for.
pub enum Versions {
    Latest,
    One(i64),
    All,
}

impl Versions {
    pub fn parse(text: Option<&str>) -> ApiResult<Self> {
        match text.map(str::trim) {
            None | Some("") | Some("latest") => Ok(Self::Latest),
            Some("all") => Ok(Self::All),
            Some(n) => n.parse::<i64>().ok().filter(|n| *n >= 0).map(Self::One).ok_or_else(|| {
                ApiError::bad_request("invalid_version", "version must be \"all\", \"latest\" or a whole number.")
            }),
        }
    }
}

pub async fn read(state: &AppState, project_id: &str, versions: Versions) -> ApiResult<Vec<SchemaVersion>> {
    let project = projects::public(state, project_id).await?;
    Ok(match versions {
        Versions::Latest => state.store.latest_schema(project.id).await?.into_iter().collect(),
        Versions::One(n) => state.store.schema_version(project.id, n).await?.into_iter().collect(),
        Versions::All => state.store.schema_versions(project.id).await?,
    })
}

/// A 400 in the shape the schema endpoints answer: `{error, message, valid, errors}`.
fn rejected(code: &'static str, message: &str, errors: Vec<Value>) -> ApiError {
    ApiError::bad_request(code, message).with("valid", false).with("errors", errors)
}

/// A schema past the size limits is refused before anything else looks at it.
fn within_limits(schema: &Value) -> ApiResult<()> {
    match schema::size_problem(schema) {
        Some(problem) => Err(rejected(
            "schema_too_large",
            &format!(
                "The schema is too large: {} {}. A schema has at most {} tables of at most {} fields.",
                problem.instance_path,
                problem.message,
                schema::MAX_TABLES,
                schema::MAX_FIELDS
            ),
            vec![json!(problem)],
        )),
        None => Ok(()),
    }
}

/// Runs a schema rule on the blocking pool: a schema can be large, and
/// the async workers must keep answering other requests meanwhile.
async fn off_the_workers<T: Send + 'static>(rule: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(rule).await.map_err(ApiError::internal)
}

fn names_project(schema: &Value, project: &Project) -> bool {
    schema["project_id"].as_str().and_then(|id| Uuid::try_parse(id).ok()) == Some(project.id)
}

/// Publishes `schema` as the project's next version, if the update rules
/// allow it against the current one (a first version must be ≥ 1).
pub async fn publish(state: &AppState, caller: &Caller, project_id: &str, schema: Value) -> ApiResult<SchemaVersion> {
    let project = access::project(state, caller, project_id, Action::PublishSchema).await?.project;
    publish_checked(state, &project, schema).await
}

async fn publish_checked(state: &AppState, project: &Project, schema: Value) -> ApiResult<SchemaVersion> {
    if !schema.is_object() {
        return Err(rejected("invalid_schema", "The schema must be a JSON object.", vec![]));
    }
    within_limits(&schema)?;
    if !names_project(&schema, project) {
        let error = json!({"instancePath": "/project_id", "message": "must be the id of this project"});
        return Err(rejected("project_mismatch", "The schema's project_id must be this project's id.", vec![error]));
    }
    let current = state.store.latest_schema(project.id).await?;
    let (schema, checked) = off_the_workers(move || match current {
        Some(current) => {
            let verdict = schema::verify_update(&current.schema, &schema);
            (schema, Ok(verdict))
        }
        None => {
            let validation = schema::validate(&schema);
            (schema, Err(validation))
        }
    })
    .await?;
    match checked {
        Ok(verdict) => {
            if !verdict.valid {
                let message = verdict.message.clone().unwrap_or_else(|| "The update is not valid.".into());
                return Err(rejected("invalid_schema", &message, verdict.errors));
            }
        }
        Err(validation) => {
            if !validation.valid {
                let errors = validation.errors.iter().map(|e| json!(e)).collect();
                return Err(rejected("invalid_schema", "The schema is not valid.", errors));
            }
            if schema["version"].as_i64().unwrap_or(0) < 1 {
                let error = json!({"instancePath": "/version", "message": "must be >= 1 for the first version"});
                return Err(rejected("invalid_schema", "The first version of a schema is at least 1.", vec![error]));
            }
        }
    }
    let version = SchemaVersion {
        id: Uuid::new_v4(),
        project_id: project.id,
        version: schema["version"].as_i64().unwrap_or_default(),
        schema,
        created_at: time::now(),
    };
    match state.store.publish_schema(version.clone()).await {
        Ok(()) => {
            crate::cache::invalidate(state, Change::Schema(project.id)).await;
            Ok(version)
        }
        Err(StoreError::Unique(Constraint::SchemaVersion)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "version_taken",
            format!("Version {} was published meanwhile; read the latest schema and try again.", version.version),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Merges `patch` into the current schema and publishes the result, as the
/// next version unless `patch` names one.
pub async fn patch(state: &AppState, caller: &Caller, project_id: &str, patch: Value) -> ApiResult<SchemaVersion> {
    let project = access::project(state, caller, project_id, Action::PublishSchema).await?.project;
    let Value::Object(patch) = patch else {
        return Err(rejected("invalid_schema", "The schema must be a JSON object.", vec![]));
    };
    let current = state.store.latest_schema(project.id).await?;
    let base = current
        .as_ref()
        .map(|c| c.schema.clone())
        .unwrap_or_else(|| json!({"project_id": project.id.to_string(), "version": 0, "tables": {}}));
    let mut merged = schema::merge_patch(&base, &patch);
    if !patch.contains_key("version") {
        merged["version"] = json!(base["version"].as_i64().unwrap_or(0) + 1);
    }
    publish_checked(state, &project, merged).await
}

/// The project a utility's schema names.
async fn named_project(state: &AppState, schema: &Value) -> ApiResult<Project> {
    let id = schema["project_id"]
        .as_str()
        .ok_or_else(|| ApiError::bad_request("invalid_schema", "The schema must name its project in project_id."))?;
    projects::public(state, id).await.map_err(|_| project_not_found())
}

/// `schema` against the project's latest version (or the empty schema of
/// version 0 when none is published).
pub async fn compare(state: &AppState, schema: Value) -> ApiResult<Comparison> {
    within_limits(&schema)?;
    let project = named_project(state, &schema).await?;
    let base = match state.store.latest_schema(project.id).await? {
        Some(latest) => latest.schema,
        None => schema::empty_schema(&project.id.to_string(), 0),
    };
    off_the_workers(move || schema::compare(&base, &schema)).await
}

/// Whether `schema` could be published now: the update rules against the
/// latest version, or plain validation when none is published.
pub async fn verify(state: &AppState, schema: Value) -> ApiResult<Value> {
    within_limits(&schema)?;
    let project = named_project(state, &schema).await?;
    let latest = state.store.latest_schema(project.id).await?;
    off_the_workers(move || match latest {
        Some(latest) => json!(schema::verify_update(&latest.schema, &schema) as UpdateVerdict),
        None => json!(schema::validate(&schema)),
    })
    .await
}

/// An error of the suggestion endpoint: `{success: false, error, message}`.
fn suggestion_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message).with("success", false)
}

pub const MAX_PROMPT_CHARS: usize = 1000;

/// Asks the configured AI provider for a schema (a new one, or `current`
/// changed as the prompt says), checks it by the schema rules, and asks once
/// more with the problems if it is not valid. Stores nothing.
pub async fn suggest(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    prompt: &str,
    schema_project_id: Option<&str>,
    current: Option<&Value>,
) -> ApiResult<Value> {
    let project = access::project(state, caller, project_id, Action::PublishSchema).await?.project;
    let prompt = prompt.trim();
    if prompt.is_empty() || prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(suggestion_error(StatusCode::BAD_REQUEST, "invalid_prompt", "The prompt is 1 to 1000 characters."));
    }
    if current.is_some_and(|c| !c.is_object()) {
        return Err(suggestion_error(StatusCode::BAD_REQUEST, "invalid_schema", "schema must be a JSON object."));
    }
    let Some(ai) = &state.config.ai else {
        return Err(suggestion_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ai_not_configured",
            "Schema suggestions are off on this server (set BASIC_AI_BASE_URL).",
        ));
    };
    let target_project = schema_project_id.map_or_else(|| project.id.to_string(), str::to_owned);
    let version = current.and_then(|c| c["version"].as_i64()).map_or(1, |v| v + 1);
    let mut problems: Option<String> = None;
    for _attempt in 0..2 {
        let answer = crate::ai::suggest(ai, prompt, current, problems.as_deref()).await.map_err(|e| match e {
            crate::ai::AiError::Timeout => {
                suggestion_error(StatusCode::INTERNAL_SERVER_ERROR, "ai_timeout", e.to_string())
            }
            crate::ai::AiError::Provider(_) => {
                tracing::warn!(error = %e, "schema suggestion failed");
                suggestion_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ai_provider_error",
                    "The AI provider failed; try again later.",
                )
            }
        })?;
        let Some(mut schema) = crate::ai::extract_json(&answer) else {
            problems = Some("the answer was not a JSON object".into());
            continue;
        };
        schema["project_id"] = json!(target_project);
        schema["version"] = json!(version);
        let validation = schema::validate(&schema);
        if validation.valid {
            return Ok(schema);
        }
        let listed: Vec<String> =
            validation.errors.iter().map(|e| format!("{} {}", e.instance_path, e.message)).collect();
        problems = Some(listed.join("; "));
    }
    Err(suggestion_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "invalid_suggestion",
        format!("The AI did not produce a valid schema ({}).", problems.unwrap_or_default()),
    ))
}
