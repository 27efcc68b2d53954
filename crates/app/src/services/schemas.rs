//! Publishing and reading project schemas, and the schema utilities.

use basic_admin_core::authz::Action;
use basic_admin_core::schema::{self, Comparison, UpdateVerdict};
use basic_admin_core::store::{Constraint, Project, SchemaVersion, StoreError};
use basic_admin_core::time;
use serde_json::{Value, json};
use uuid::Uuid;

use super::access;
use super::projects;
use crate::Caller;
use crate::Context;
use crate::cache::Change;
use crate::error::{AppError, AppResult, Thing};

/// Which versions a read asks for.
pub enum Versions {
    Latest,
    One(i64),
    All,
}

impl Versions {
    pub fn parse(text: Option<&str>) -> AppResult<Self> {
        match text.map(str::trim) {
            None | Some("") | Some("latest") => Ok(Self::Latest),
            Some("all") => Ok(Self::All),
            Some(n) => n.parse::<i64>().ok().filter(|n| *n >= 0).map(Self::One).ok_or_else(|| {
                AppError::invalid("invalid_version", "version must be \"all\", \"latest\" or a whole number.")
            }),
        }
    }
}

pub async fn read(ctx: &Context, project_id: &str, versions: Versions) -> AppResult<Vec<SchemaVersion>> {
    let project = projects::public(ctx, project_id).await?;
    Ok(match versions {
        Versions::Latest => ctx.store.latest_schema(project.id).await?.into_iter().collect(),
        Versions::One(n) => ctx.store.schema_version(project.id, n).await?.into_iter().collect(),
        Versions::All => ctx.store.schema_versions(project.id).await?,
    })
}

/// A 400 in the shape the schema endpoints answer: `{error, message, valid, errors}`.
fn rejected(code: &'static str, message: &str, errors: Vec<Value>) -> AppError {
    AppError::invalid(code, message).with("valid", false).with("errors", errors)
}

/// A schema past the size limits is refused before anything else looks at it.
fn within_limits(schema: &Value) -> AppResult<()> {
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
async fn off_the_workers<T: Send + 'static>(rule: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(rule).await.map_err(AppError::internal)
}

fn names_project(schema: &Value, project: &Project) -> bool {
    schema["project_id"].as_str().and_then(|id| Uuid::try_parse(id).ok()) == Some(project.id)
}

/// Publishes `schema` as the project's next version, if the update rules
/// allow it against the current one (a first version must be ≥ 1).
pub async fn publish(ctx: &Context, caller: &Caller, project_id: &str, schema: Value) -> AppResult<SchemaVersion> {
    let project = access::project(ctx, caller, project_id, Action::PublishSchema).await?.project;
    publish_checked(ctx, &project, schema).await
}

async fn publish_checked(ctx: &Context, project: &Project, schema: Value) -> AppResult<SchemaVersion> {
    if !schema.is_object() {
        return Err(rejected("invalid_schema", "The schema must be a JSON object.", vec![]));
    }
    within_limits(&schema)?;
    if !names_project(&schema, project) {
        let error = json!({"instancePath": "/project_id", "message": "must be the id of this project"});
        return Err(rejected("project_mismatch", "The schema's project_id must be this project's id.", vec![error]));
    }
    let current = ctx.store.latest_schema(project.id).await?;
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
    match ctx.store.publish_schema(version.clone()).await {
        Ok(()) => {
            crate::cache::invalidate(ctx, Change::Schema(project.id)).await;
            Ok(version)
        }
        Err(StoreError::Unique(Constraint::SchemaVersion)) => Err(AppError::conflict(
            "version_taken",
            format!("Version {} was published meanwhile; read the latest schema and try again.", version.version),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Merges `patch` into the current schema and publishes the result, as the
/// next version unless `patch` names one.
pub async fn patch(ctx: &Context, caller: &Caller, project_id: &str, patch: Value) -> AppResult<SchemaVersion> {
    let project = access::project(ctx, caller, project_id, Action::PublishSchema).await?.project;
    let Value::Object(patch) = patch else {
        return Err(rejected("invalid_schema", "The schema must be a JSON object.", vec![]));
    };
    let current = ctx.store.latest_schema(project.id).await?;
    let base = current
        .as_ref()
        .map(|c| c.schema.clone())
        .unwrap_or_else(|| json!({"project_id": project.id.to_string(), "version": 0, "tables": {}}));
    let mut merged = schema::merge_patch(&base, &patch);
    if !patch.contains_key("version") {
        merged["version"] = json!(base["version"].as_i64().unwrap_or(0) + 1);
    }
    publish_checked(ctx, &project, merged).await
}

/// The project a utility's schema names.
async fn named_project(ctx: &Context, schema: &Value) -> AppResult<Project> {
    let id = schema["project_id"]
        .as_str()
        .ok_or_else(|| AppError::invalid("invalid_schema", "The schema must name its project in project_id."))?;
    projects::public(ctx, id).await.map_err(|_| AppError::NotFound(Thing::Project))
}

/// Every published version of a project the caller may see, oldest first.
pub async fn history(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<Vec<SchemaVersion>> {
    let project = access::project(ctx, caller, project_id, Action::ViewProject).await?.project;
    Ok(ctx.store.schema_versions(project.id).await?)
}

/// What changed from version `from` to version `to` of a project the
/// caller may see.
pub async fn diff(ctx: &Context, caller: &Caller, project_id: &str, from: i64, to: i64) -> AppResult<Comparison> {
    let project = access::project(ctx, caller, project_id, Action::ViewProject).await?.project;
    let version = |n: i64| async move {
        ctx.store
            .schema_version(project.id, n)
            .await?
            .ok_or_else(|| AppError::invalid("unknown_version", format!("This project has no schema version {n}.")))
    };
    let (old, new) = (version(from).await?.schema, version(to).await?.schema);
    off_the_workers(move || schema::compare(&old, &new)).await
}

/// `schema` against the project's latest version (or the empty schema of
/// version 0 when none is published).
pub async fn compare(ctx: &Context, schema: Value) -> AppResult<Comparison> {
    within_limits(&schema)?;
    let project = named_project(ctx, &schema).await?;
    let base = match ctx.store.latest_schema(project.id).await? {
        Some(latest) => latest.schema,
        None => schema::empty_schema(&project.id.to_string(), 0),
    };
    off_the_workers(move || schema::compare(&base, &schema)).await
}

/// Whether `schema` could be published now: the update rules against the
/// latest version, or plain validation when none is published.
pub async fn verify(ctx: &Context, schema: Value) -> AppResult<Value> {
    within_limits(&schema)?;
    let project = named_project(ctx, &schema).await?;
    let latest = ctx.store.latest_schema(project.id).await?;
    off_the_workers(move || match latest {
        Some(latest) => json!(schema::verify_update(&latest.schema, &schema) as UpdateVerdict),
        None => json!(schema::validate(&schema)),
    })
    .await
}

/// The errors of suggestions say `success: false` beside their code.
fn unsuccessful(error: AppError) -> AppError {
    error.with("success", false)
}

fn provider_failed(code: &'static str, message: impl Into<String>) -> AppError {
    unsuccessful(AppError::Upstream { code, message: message.into(), details: Vec::new() })
}

pub const MAX_PROMPT_CHARS: usize = 1000;

/// Asks the configured AI provider for a schema (a new one, or `current`
/// changed as the prompt says), checks it by the schema rules, and asks once
/// more with the problems if it is not valid. Stores nothing.
pub async fn suggest(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    prompt: &str,
    schema_project_id: Option<&str>,
    current: Option<&Value>,
) -> AppResult<Value> {
    let project = access::project(ctx, caller, project_id, Action::PublishSchema).await?.project;
    let prompt = prompt.trim();
    if prompt.is_empty() || prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(unsuccessful(AppError::invalid("invalid_prompt", "The prompt is 1 to 1000 characters.")));
    }
    if current.is_some_and(|c| !c.is_object()) {
        return Err(unsuccessful(AppError::invalid("invalid_schema", "schema must be a JSON object.")));
    }
    let Some(ai) = &ctx.settings.ai else {
        return Err(unsuccessful(AppError::Unavailable {
            code: "ai_not_configured",
            message: "Schema suggestions are off on this server (set BASIC_AI_BASE_URL).".into(),
            details: Vec::new(),
        }));
    };
    let target_project = schema_project_id.map_or_else(|| project.id.to_string(), str::to_owned);
    let version = current.and_then(|c| c["version"].as_i64()).map_or(1, |v| v + 1);
    let mut problems: Option<String> = None;
    for _attempt in 0..2 {
        let answer = crate::ai::suggest(ai, prompt, current, problems.as_deref()).await.map_err(|e| match e {
            crate::ai::AiError::Timeout => provider_failed("ai_timeout", e.to_string()),
            crate::ai::AiError::Provider(_) => {
                tracing::warn!(error = %e, "schema suggestion failed");
                provider_failed("ai_provider_error", "The AI provider failed; try again later.")
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
    Err(provider_failed(
        "invalid_suggestion",
        format!("The AI did not produce a valid schema ({}).", problems.unwrap_or_default()),
    ))
}
