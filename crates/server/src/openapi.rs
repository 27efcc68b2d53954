//! The frame of the server's own OpenAPI document; the routes fill in the paths.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
