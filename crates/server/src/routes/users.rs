//! The `project-users` tag: the users of a project's app, and their data.

use axum::extract::{Path, State};
use basic_admin_core::authz::Action;
use basic_admin_core::store::ProjectUser;
use basic_admin_core::time::rfc3339;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::records::{ItemBody, ItemWriteErrors, ItemsPage, ItemsPageBody, Record};
use super::{Data, ProjectPath, Removed, Success};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::openapi::{AccessErrors, ErrorBody};
use crate::rate_limit::{Group, limited};
use crate::state::AppState;
use basic_admin_app::services::items;
use basic_admin_app::services::users;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Checking an app's token: limited per client address.
        .merge(limited(Group::Auth, OpenApiRouter::new().routes(routes!(connect))))
        .routes(routes!(list))
        .routes(routes!(stats))
        .routes(routes!(get, update, delete))
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, patch_item, replace_item, delete_item))
}

#[derive(Serialize, ToSchema)]
struct UserView {
    id: String,
    user_did: String,
    pds_url: String,
    status: String,
    #[schema(value_type = Object)]
    meta: Value,
    /// What the user shares of their account: `name`, and `email` when they
    /// granted the `email` scope.
    #[schema(value_type = Object)]
    profile: Value,
    #[serde(with = "rfc3339")]
    last_seen_at: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    created_at: DateTime<Utc>,
}

impl From<ProjectUser> for UserView {
    fn from(u: ProjectUser) -> Self {
        Self {
            id: u.id.to_string(),
            profile: users::profile(&u),
            user_did: u.user_did,
            pds_url: u.pds_url,
            status: u.status.as_str().to_owned(),
            meta: u.meta,
            last_seen_at: u.last_seen_at,
            created_at: u.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct ConnectBody {
    /// The user's access token, as the app received it after signing in.
    token: String,
}

#[derive(Serialize, ToSchema)]
struct Connected {
    ok: bool,
    user_did: String,
    pds_url: String,
}

/// Report a user connection to this project
///
/// Called by the app after a user signs in: the token must be a live access
/// token issued to this project (as OAuth client). Records the user and
/// their activity for the day. Public; refused tokens are throttled per
/// address.
#[utoipa::path(
    post,
    path = "/project/{id}/user/connect",
    tag = "project-users",
    params(ProjectPath),
    request_body = ConnectBody,
    responses(
        (status = 200, description = "The user is connected", body = Connected),
        (status = 401, description = "The token is not valid, or not for this app", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 429, description = "Too many refused tokens; see Retry-After", body = ErrorBody),
    )
)]
async fn connect(
    State(state): State<AppState>,
    from: crate::client_addr::ClientAddr,
    Path(path): Path<ProjectPath>,
    Json(body): Json<ConnectBody>,
) -> ApiResult<Json<Connected>> {
    let user = users::connect(&state.app, &path.id, &body.token, from.bucket()).await?;
    Ok(Json(Connected { ok: true, user_did: user.user_did, pds_url: user.pds_url }))
}

/// Get project users
///
/// Every connected user, first connected first.
#[utoipa::path(
    get,
    path = "/project/{id}/user",
    tag = "project-users",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The users", body = Data<Vec<UserView>>),
        AccessErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<Data<Vec<UserView>>>> {
    let found = users::list(&state.app, &caller, &path.id).await?;
    Ok(Json(Data { data: found.into_iter().map(UserView::from).collect() }))
}

#[derive(Serialize, ToSchema)]
struct DayActivity {
    #[schema(value_type = String, format = Date)]
    date: NaiveDate,
    active_users: u64,
}

#[derive(Serialize, ToSchema)]
struct StatsView {
    total: u64,
    /// Users active today (UTC).
    dau: u64,
    /// Users active in the last 7 days, today included.
    wau: u64,
    /// Users active in the last 30 days, today included.
    mau: u64,
    /// The last 30 days, oldest first, days without activity included.
    series: Vec<DayActivity>,
}

/// Get project activity stats
///
/// Total users, daily, weekly and monthly active users, and one count per
/// day for the last 30 days.
#[utoipa::path(
    get,
    path = "/project/{id}/user/stats",
    tag = "project-users",
    params(ProjectPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The numbers", body = StatsView),
        AccessErrors,
    )
)]
async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ProjectPath>,
) -> ApiResult<Json<StatsView>> {
    let s = users::stats(&state.app, &caller, &path.id).await?;
    let series = s.series.into_iter().map(|(date, active_users)| DayActivity { date, active_users }).collect();
    Ok(Json(StatsView { total: s.total, dau: s.dau, wau: s.wau, mau: s.mau, series }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct UserPath {
    /// The project's id
    id: String,
    /// The user's DID (percent-encoded)
    user_id: String,
}

/// Get user details
///
/// The user, with what they share of their account profile.
#[utoipa::path(
    get,
    path = "/project/{id}/user/{user_id}",
    tag = "project-users",
    params(UserPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The user", body = Data<UserView>),
        AccessErrors,
    )
)]
async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<UserPath>,
) -> ApiResult<Json<Data<UserView>>> {
    let user = users::get(&state.app, &caller, &path.id, &path.user_id).await?;
    Ok(Json(Data { data: user.into() }))
}

#[derive(Deserialize, ToSchema)]
struct MetaChange {
    /// Merged into the user's `meta`: a `null` removes a key. At most 16 KiB
    /// in all. Needed (the contract leaves it optional; without it, 400).
    #[schema(value_type = Object, required = true)]
    meta: Option<Map<String, Value>>,
}

/// Update user metadata
///
/// Merges `meta` into what the project keeps about the user.
#[utoipa::path(
    patch,
    path = "/project/{id}/user/{user_id}",
    tag = "project-users",
    params(UserPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = MetaChange,
    responses(
        (status = 200, description = "The user", body = Data<UserView>),
        (status = 400, description = "Not an object, or too large", body = ErrorBody),
        AccessErrors,
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<UserPath>,
    Json(body): Json<MetaChange>,
) -> ApiResult<Json<Data<UserView>>> {
    let meta = body.meta.ok_or_else(|| ApiError::bad_request("missing_meta", "Give the changes in `meta`."))?;
    let user = users::update_meta(&state.app, &caller, &path.id, &path.user_id, &meta).await?;
    Ok(Json(Data { data: user.into() }))
}

/// Delete a user from the project
///
/// With everything the user stored in the project.
#[utoipa::path(
    delete,
    path = "/project/{id}/user/{user_id}",
    tag = "project-users",
    params(UserPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "Deleted", body = Removed),
        AccessErrors,
    )
)]
async fn delete(State(state): State<AppState>, caller: Caller, Path(path): Path<UserPath>) -> ApiResult<Json<Removed>> {
    users::delete(&state.app, &caller, &path.id, &path.user_id).await?;
    Ok(Json(Removed::new("The user and their data were removed from the project.")))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TablePath {
    /// The project's id
    id: String,
    /// The user's DID (percent-encoded)
    user_id: String,
    /// A table of the project's latest schema
    table_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct ItemPath {
    /// The project's id
    id: String,
    /// The user's DID (percent-encoded)
    user_id: String,
    /// A table of the project's latest schema
    table_id: String,
    /// The item's id
    item_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ItemsQuery {
    /// How many items, 1 to 1000 (default 100)
    limit: Option<u32>,
    /// `next_cursor` of the previous page
    cursor: Option<String>,
    /// Only this item (an empty list when there is none)
    id: Option<String>,
}

/// Get user database table
///
/// The user's items in one table, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/project/{id}/user/{user_id}/db/{table_id}",
    tag = "project-users",
    params(TablePath, ItemsQuery),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "A page of items", body = ItemsPage),
        (status = 400, description = "No schema, no such table, or a bad limit or cursor", body = ErrorBody),
        AccessErrors,
    )
)]
async fn list_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<TablePath>,
    Query(q): Query<ItemsQuery>,
) -> ApiResult<ItemsPageBody> {
    let t = items::table(&state.app, &caller, &p.id, &p.user_id, &p.table_id, Action::ReadData).await?;
    Ok(ItemsPageBody(items::list(&t, &state.app, q.limit, q.cursor.as_deref(), q.id.as_deref()).await?))
}

/// Create item in user database
///
/// Checked against the table, required fields included.
#[utoipa::path(
    post,
    path = "/project/{id}/user/{user_id}/db/{table_id}",
    tag = "project-users",
    params(TablePath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = ItemBody,
    responses(
        (status = 200, description = "The new record", body = Record),
        ItemWriteErrors,
        AccessErrors,
    )
)]
async fn create_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<TablePath>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    let t = items::table(&state.app, &caller, &p.id, &p.user_id, &p.table_id, Action::WriteData).await?;
    let item = items::create(&t, &state.app, body.value()?).await?;
    Ok(Json(Record { data: items::record(&item) }))
}

/// Get item from user database
#[utoipa::path(
    get,
    path = "/project/{id}/user/{user_id}/db/{table_id}/{item_id}",
    tag = "project-users",
    params(ItemPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "The record", body = Record),
        (status = 400, description = "No schema, or no such table", body = ErrorBody),
        AccessErrors,
    )
)]
async fn get_item(State(state): State<AppState>, caller: Caller, Path(p): Path<ItemPath>) -> ApiResult<Json<Record>> {
    let t = items::table(&state.app, &caller, &p.id, &p.user_id, &p.table_id, Action::ReadData).await?;
    let item = items::get(&t, &state.app, &p.item_id).await?;
    Ok(Json(Record { data: items::record(&item) }))
}

/// Update item in user database
///
/// Sets the given fields (a `null` removes one) and keeps the others; only
/// what is set is checked.
#[utoipa::path(
    patch,
    path = "/project/{id}/user/{user_id}/db/{table_id}/{item_id}",
    tag = "project-users",
    params(ItemPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = ItemBody,
    responses(
        (status = 200, description = "The record", body = Record),
        ItemWriteErrors,
        AccessErrors,
    )
)]
async fn patch_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ItemPath>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    change_item(&state, &caller, &p, body, Change::Patch).await
}

/// Replace item in user database
///
/// The value replaced whole, required fields checked.
#[utoipa::path(
    put,
    path = "/project/{id}/user/{user_id}/db/{table_id}/{item_id}",
    tag = "project-users",
    params(ItemPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    request_body = ItemBody,
    responses(
        (status = 200, description = "The record", body = Record),
        ItemWriteErrors,
        AccessErrors,
    )
)]
async fn replace_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ItemPath>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    change_item(&state, &caller, &p, body, Change::Replace).await
}

enum Change {
    Patch,
    Replace,
}

async fn change_item(
    state: &AppState,
    caller: &Caller,
    p: &ItemPath,
    body: ItemBody,
    how: Change,
) -> ApiResult<Json<Record>> {
    let t = items::table(&state.app, caller, &p.id, &p.user_id, &p.table_id, Action::WriteData).await?;
    let value = body.value()?;
    let item = match how {
        Change::Patch => items::patch(&t, &state.app, &p.item_id, value).await?,
        Change::Replace => items::replace(&t, &state.app, &p.item_id, value).await?,
    };
    Ok(Json(Record { data: items::record(&item) }))
}

/// Delete item from user database
#[utoipa::path(
    delete,
    path = "/project/{id}/user/{user_id}/db/{table_id}/{item_id}",
    tag = "project-users",
    params(ItemPath),
    security(("bearerAuth" = []), ("apiKeyAuth" = [])),
    responses(
        (status = 200, description = "Deleted", body = Success),
        (status = 400, description = "No schema, or no such table", body = ErrorBody),
        AccessErrors,
    )
)]
async fn delete_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<ItemPath>,
) -> ApiResult<Json<Success>> {
    let t = items::table(&state.app, &caller, &p.id, &p.user_id, &p.table_id, Action::WriteData).await?;
    items::delete(&t, &state.app, &p.item_id).await?;
    Ok(Json(Success::yes()))
}
