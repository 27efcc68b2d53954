//! The frame of the server's own OpenAPI document; the routes fill in the paths.

use serde::Serialize;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(title = "basic-admin", description = "A self-hostable server for the Basic Admin API."),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Accounts, OAuth 2.0 and OpenID Connect"),
        (name = "projects", description = "Projects, their settings and public profiles"),
        (name = "project-keys", description = "Project API keys"),
        (name = "project-users", description = "The users of a project's app, and their data"),
        (name = "project-schema", description = "Versioned project schemas"),
        (name = "project-upload", description = "Project images"),
        (name = "teams", description = "Teams, members and invites"),
        (name = "utils", description = "Utilities"),
        (name = "federation", description = "Documents that identify a project to other servers"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let jwt = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(jwt));
        let key = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        components.add_security_scheme("apiKeyAuth", SecurityScheme::Http(key));
        openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    }
}

/// Every error answer: a stable code and a sentence for people. Some
/// endpoints add fields (`slugified`, `valid`, `errors`, `details`).
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `not_found`.
    pub error: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceStatus {
    pub status: String,
}

impl ServiceStatus {
    pub fn ok() -> Self {
        Self { status: "ok".into() }
    }
}

/// The error of a slug that is not in slug form, with the slug form of it.
#[derive(Serialize, ToSchema)]
pub struct SlugErrorBody {
    pub error: String,
    pub message: String,
    /// The given text made into a slug ("" when it has no letter or digit).
    pub slugified: String,
}

#[derive(Serialize, ToSchema)]
pub struct SettingsErrorDetails {
    /// The setting at fault, e.g. `auth.redirect_uris`.
    pub field: String,
    pub validation_errors: Vec<String>,
}

/// The error of settings that are not valid.
#[derive(Serialize, ToSchema)]
pub struct SettingsErrorBody {
    pub error: String,
    pub message: String,
    pub details: SettingsErrorDetails,
}

/// The errors every developer endpoint on a project or team may answer.
#[derive(IntoResponses)]
#[allow(dead_code)] // Documentation only: handlers answer ApiError.
pub enum AccessErrors {
    #[response(status = 401, description = "Not signed in")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "The token lacks the admin scope, or the role does not allow this")]
    Forbidden(ErrorBody),
    #[response(status = 404, description = "No such project or team, or not a member of its team")]
    NotFound(ErrorBody),
}

/// Every operation of a document.
fn operations(doc: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
    })
}

/// Documents the rate limit (429 with `Retry-After`) on every operation of
/// `doc` (a group of routes that [`crate::rate_limit::limited`] limits).
pub fn document_rate_limit(doc: &mut utoipa::openapi::OpenApi) {
    for operation in operations(doc) {
        let retry = HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
            .description(Some("Seconds to wait before trying again"))
            .build();
        let answer = operation
            .responses
            .responses
            .entry("429".into())
            .or_insert_with(|| error("Too many requests from this client address"));
        if let RefOr::T(response) = answer {
            response.headers.insert("Retry-After".into(), RefOr::T(retry));
        }
    }
}

/// Adds the answers the common layers give to whole groups of operations,
/// so that the document lists every status the server may answer: a JSON
/// body that is missing, malformed or of another type (400, 415) or too
/// large (413).
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    for operation in operations(doc) {
        let takes_json = matches!(&operation.request_body, Some(RefOr::T(body)) if body.content.contains_key(JSON));
        let responses = &mut operation.responses.responses;
        if takes_json {
            responses
                .entry("400".into())
                .and_modify(also_error_body)
                .or_insert_with(|| error("The body is not valid JSON, or a field is missing or of the wrong type"));
            responses.entry("413".into()).or_insert_with(|| error("The body is larger than the server accepts"));
            responses.entry("415".into()).or_insert_with(|| error("The body is not sent as application/json"));
        }
    }
}

const JSON: &str = "application/json";

fn error(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    RefOr::T(ResponseBuilder::new().description(description).content(JSON, content).build())
}

/// A 400 documented with a richer body (schema errors, settings errors)
/// may also be the plain error of a body that could not be read.
fn also_error_body(response: &mut RefOr<Response>) {
    let RefOr::T(response) = response else { return };
    let Some(RefOr::T(content)) = response.content.get_mut(JSON) else { return };
    let plain = Ref::from_schema_name("ErrorBody");
    match content.schema.take() {
        Some(RefOr::Ref(r)) if r == plain => content.schema = Some(RefOr::Ref(r)),
        Some(existing) => {
            content.schema = Some(RefOr::T(Schema::AnyOf(AnyOfBuilder::new().item(existing).item(plain).build())));
        }
        None => content.schema = Some(RefOr::Ref(plain)),
    }
}
