//! The `app-data` tag: a signed-in app user's own records, as the app SDK
//! reaches them — `/account/{id}/db/…` (the newer line) and
//! `/project/{id}/db/{account_id}/…` (0.5.0). The caller is the user's own
//! access token, issued to that project's app; developers and keys reach
//! the same records under `/project/{id}/user/{user_id}/db/…`.

use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::{IntoParams, IntoResponses};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use super::records::{ItemBody, ItemWriteErrors, ItemsPage, ItemsPageBody, Record};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::openapi::ErrorBody;
use crate::state::AppState;
use basic_admin_app::services::items::{self, Table};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, put, patch, delete))
        .routes(routes!(list_050, create_050))
        .routes(routes!(get_050, put_050, patch_050, delete_050))
}

/// What the app's data routes answer besides their records.
#[derive(IntoResponses)]
#[allow(dead_code)] // Documentation only: handlers answer ApiError.
enum OwnDataErrors {
    #[response(status = 401, description = "Missing, invalid or expired token")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "An API key: keys reach users' data under /project/{id}/user/{user_id}/db")]
    Forbidden(ErrorBody),
    #[response(
        status = 404,
        description = "`project_not_found`: the token is not one of this project's app; `user_not_found`: another account; `item_not_found`"
    )]
    NotFound(ErrorBody),
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct OwnTable {
    /// The project's id
    id: String,
    /// A table of the project's latest schema
    table: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct OwnItem {
    /// The project's id
    id: String,
    /// A table of the project's latest schema
    table: String,
    /// The record's id
    item_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct AccountTable {
    /// The project's id
    id: String,
    /// The signed-in account's id (`id` of `/auth/userInfo`)
    account_id: String,
    /// A table of the project's latest schema
    table: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct AccountItem {
    /// The project's id
    id: String,
    /// The signed-in account's id (`id` of `/auth/userInfo`)
    account_id: String,
    /// A table of the project's latest schema
    table: String,
    /// The record's id
    item_id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OwnListQuery {
    /// `next_cursor` of the previous answer
    cursor: Option<String>,
    /// Only this record (an empty list when there is none)
    id: Option<String>,
}

async fn table(
    state: &AppState,
    caller: &Caller,
    project: &str,
    account: Option<&str>,
    table: &str,
) -> ApiResult<Table> {
    Ok(items::own_table(&state.app, caller, project, account, table).await?)
}

async fn list_in(state: &AppState, table: Table, q: OwnListQuery) -> ApiResult<ItemsPageBody> {
    Ok(ItemsPageBody(items::list_own(&table, &state.app, q.cursor.as_deref(), q.id.as_deref()).await?))
}

/// How a record is written.
enum Write {
    Create,
    Put(String),
    Patch(String),
}

async fn write_in(state: &AppState, table: Table, write: Write, body: ItemBody) -> ApiResult<Json<Record>> {
    let value = body.value()?;
    let item = match write {
        Write::Create => items::create(&table, &state.app, value).await?,
        Write::Put(id) => items::put(&table, &state.app, &id, value).await?,
        Write::Patch(id) => items::patch(&table, &state.app, &id, value).await?,
    };
    Ok(Json(Record { data: items::record(&item) }))
}

async fn get_in(state: &AppState, table: Table, item_id: &str) -> ApiResult<Json<Record>> {
    Ok(Json(Record { data: items::record(&items::get(&table, &state.app, item_id).await?) }))
}

async fn delete_in(state: &AppState, table: Table, item_id: &str) -> ApiResult<Json<Success>> {
    items::delete(&table, &state.app, item_id).await?;
    Ok(Json(Success::yes()))
}

/// List my records
///
/// The signed-in user's records of one table, oldest first: up to 10,000 an
/// answer, with `next_cursor` when there are more. Their first call makes
/// them a user of the project.
#[utoipa::path(
    get,
    path = "/account/{id}/db/{table}",
    tag = "app-data",
    params(OwnTable, OwnListQuery),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The records", body = ItemsPage),
        (status = 400, description = "No schema, no such table, or a bad cursor", body = ErrorBody),
        OwnDataErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<OwnTable>,
    Query(q): Query<OwnListQuery>,
) -> ApiResult<ItemsPageBody> {
    let t = table(&state, &caller, &p.id, None, &p.table).await?;
    list_in(&state, t, q).await
}

/// Add a record of mine
///
/// With the `id` the value names (the SDK makes ids on the device), or a
/// new one.
#[utoipa::path(
    post,
    path = "/account/{id}/db/{table}",
    tag = "app-data",
    params(OwnTable),
    security(("bearerAuth" = [])),
    request_body = ItemBody,
    responses((status = 200, description = "The new record", body = Record), ItemWriteErrors, OwnDataErrors)
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<OwnTable>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    let t = table(&state, &caller, &p.id, None, &p.table).await?;
    write_in(&state, t, Write::Create, body).await
}

/// Get a record of mine
#[utoipa::path(
    get,
    path = "/account/{id}/db/{table}/{item_id}",
    tag = "app-data",
    params(OwnItem),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The record", body = Record),
        (status = 400, description = "No schema, or no such table", body = ErrorBody),
        OwnDataErrors,
    )
)]
async fn get(State(state): State<AppState>, caller: Caller, Path(p): Path<OwnItem>) -> ApiResult<Json<Record>> {
    let t = table(&state, &caller, &p.id, None, &p.table).await?;
    get_in(&state, t, &p.item_id).await
}

/// Put a record of mine
///
/// Replaces the record whole, or creates it with this id when there is none.
#[utoipa::path(
    put,
    path = "/account/{id}/db/{table}/{item_id}",
    tag = "app-data",
    params(OwnItem),
    security(("bearerAuth" = [])),
    request_body = ItemBody,
    responses((status = 200, description = "The record", body = Record), ItemWriteErrors, OwnDataErrors)
)]
async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<OwnItem>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    let t = table(&state, &caller, &p.id, None, &p.table).await?;
    write_in(&state, t, Write::Put(p.item_id), body).await
}

/// Update a record of mine
///
/// Sets the given fields (a `null` removes one) and keeps the others.
#[utoipa::path(
    patch,
    path = "/account/{id}/db/{table}/{item_id}",
    tag = "app-data",
    params(OwnItem),
    security(("bearerAuth" = [])),
    request_body = ItemBody,
    responses((status = 200, description = "The record", body = Record), ItemWriteErrors, OwnDataErrors)
)]
async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<OwnItem>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    let t = table(&state, &caller, &p.id, None, &p.table).await?;
    write_in(&state, t, Write::Patch(p.item_id), body).await
}

/// Delete a record of mine
#[utoipa::path(
    delete,
    path = "/account/{id}/db/{table}/{item_id}",
    tag = "app-data",
    params(OwnItem),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Deleted", body = Success),
        (status = 400, description = "No schema, or no such table", body = ErrorBody),
        OwnDataErrors,
    )
)]
async fn delete(State(state): State<AppState>, caller: Caller, Path(p): Path<OwnItem>) -> ApiResult<Json<Success>> {
    let t = table(&state, &caller, &p.id, None, &p.table).await?;
    delete_in(&state, t, &p.item_id).await
}

/// List my records (SDK 0.5.0)
///
/// As `GET /account/{id}/db/{table}`, with the account named in the path.
#[utoipa::path(
    get,
    path = "/project/{id}/db/{account_id}/{table}",
    tag = "app-data",
    params(AccountTable, OwnListQuery),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The records", body = ItemsPage),
        (status = 400, description = "No schema, no such table, or a bad cursor", body = ErrorBody),
        OwnDataErrors,
    )
)]
async fn list_050(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<AccountTable>,
    Query(q): Query<OwnListQuery>,
) -> ApiResult<ItemsPageBody> {
    let t = table(&state, &caller, &p.id, Some(&p.account_id), &p.table).await?;
    list_in(&state, t, q).await
}

/// Add a record of mine (SDK 0.5.0)
#[utoipa::path(
    post,
    path = "/project/{id}/db/{account_id}/{table}",
    tag = "app-data",
    params(AccountTable),
    security(("bearerAuth" = [])),
    request_body = ItemBody,
    responses((status = 200, description = "The new record", body = Record), ItemWriteErrors, OwnDataErrors)
)]
async fn create_050(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<AccountTable>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    let t = table(&state, &caller, &p.id, Some(&p.account_id), &p.table).await?;
    write_in(&state, t, Write::Create, body).await
}

/// Get a record of mine (SDK 0.5.0)
#[utoipa::path(
    get,
    path = "/project/{id}/db/{account_id}/{table}/{item_id}",
    tag = "app-data",
    params(AccountItem),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The record", body = Record),
        (status = 400, description = "No schema, or no such table", body = ErrorBody),
        OwnDataErrors,
    )
)]
async fn get_050(State(state): State<AppState>, caller: Caller, Path(p): Path<AccountItem>) -> ApiResult<Json<Record>> {
    let t = table(&state, &caller, &p.id, Some(&p.account_id), &p.table).await?;
    get_in(&state, t, &p.item_id).await
}

/// Put a record of mine (SDK 0.5.0)
#[utoipa::path(
    put,
    path = "/project/{id}/db/{account_id}/{table}/{item_id}",
    tag = "app-data",
    params(AccountItem),
    security(("bearerAuth" = [])),
    request_body = ItemBody,
    responses((status = 200, description = "The record", body = Record), ItemWriteErrors, OwnDataErrors)
)]
async fn put_050(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<AccountItem>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    let t = table(&state, &caller, &p.id, Some(&p.account_id), &p.table).await?;
    write_in(&state, t, Write::Put(p.item_id), body).await
}

/// Update a record of mine (SDK 0.5.0)
///
/// 0.5.0 sends `{id, value}`; the `id` of the path is the one that counts.
#[utoipa::path(
    patch,
    path = "/project/{id}/db/{account_id}/{table}/{item_id}",
    tag = "app-data",
    params(AccountItem),
    security(("bearerAuth" = [])),
    request_body = ItemBody,
    responses((status = 200, description = "The record", body = Record), ItemWriteErrors, OwnDataErrors)
)]
async fn patch_050(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<AccountItem>,
    Json(body): Json<ItemBody>,
) -> ApiResult<Json<Record>> {
    let t = table(&state, &caller, &p.id, Some(&p.account_id), &p.table).await?;
    write_in(&state, t, Write::Patch(p.item_id), body).await
}

/// Delete a record of mine (SDK 0.5.0)
#[utoipa::path(
    delete,
    path = "/project/{id}/db/{account_id}/{table}/{item_id}",
    tag = "app-data",
    params(AccountItem),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Deleted", body = Success),
        (status = 400, description = "No schema, or no such table", body = ErrorBody),
        OwnDataErrors,
    )
)]
async fn delete_050(
    State(state): State<AppState>,
    caller: Caller,
    Path(p): Path<AccountItem>,
) -> ApiResult<Json<Success>> {
    let t = table(&state, &caller, &p.id, Some(&p.account_id), &p.table).await?;
    delete_in(&state, t, &p.item_id).await
}
