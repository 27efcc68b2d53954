use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::Json;
use crate::openapi::ServiceStatus;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Health check endpoint for auth service
#[utoipa::path(get, path = "/auth", tag = "auth", responses((status = 200, description = "The auth service is up", body = ServiceStatus)))]
async fn health() -> Json<ServiceStatus> {
    Json(ServiceStatus::ok())
}
