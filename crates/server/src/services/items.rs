//! A project user's data: records in the tables of the project's latest
//! published schema, checked against it on every write.

use axum::http::StatusCode;
use basic_admin_core::authz::Action;
use basic_admin_core::schema::{DataVerdict, check_item, check_required};
use basic_admin_core::store::{Item, StoreError};
use basic_admin_core::time;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::access;
use super::users::user_not_found;
use crate::auth::Caller;
use crate::cache::LatestSchema;
use crate::error::{ApiError, ApiResult, not_found_as};
use crate::state::AppState;
use basic_admin_core::json::merge_keys;

/// The largest item, serialized.
pub const MAX_ITEM_BYTES: usize = 256 * 1024;
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

fn item_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "item_not_found", "This table has no item with this id.")
}

/// Where a request's items live: a project, one of its users, one table of
/// its schema (and that schema).
pub struct Table {
    pub project_id: Uuid,
    pub user_did: String,
    pub name: String,
    schema: LatestSchema,
}

/// The project's latest schema, from memory when it can (publishing a
/// schema invalidates it on every node).
async fn latest_schema(state: &AppState, project: Uuid) -> ApiResult<LatestSchema> {
    if let Some(hit) = state.caches.latest_schema(project) {
        return Ok(hit);
    }
    let generation = state.caches.generation();
    let latest = state.store.latest_schema(project).await?.map(|v| v.schema);
    Ok(state.caches.put_latest_schema(project, latest, generation))
}

/// The table `table` of the user `user_did`, if the caller may `action` it.
/// Whether the user exists is known from the item queries (and checked
/// only when they find nothing), which saves a read on every request.
pub async fn table(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    user_did: &str,
    table: &str,
    action: Action,
) -> ApiResult<Table> {
    let project = access::project_id(state, caller, project_id, action).await?;
    let schema = latest_schema(state, project).await?;
    let Some(published) = schema.as_ref() else {
        return Err(ApiError::bad_request(
            "no_schema",
            "This project has no published schema yet: publish one before storing data.",
        ));
    };
    if published["tables"].get(table).is_none_or(Value::is_null) {
        return Err(ApiError::bad_request(
            "unknown_table",
            format!("The project's schema (version {}) has no table {table:?}.", published["version"]),
        ));
    }
    Ok(Table { project_id: project, user_did: user_did.to_owned(), name: table.to_owned(), schema })
}

/// A 404 for something of the user's that is not there: the item's, or the
/// user's own when the project has no such user.
async fn not_found(table: &Table, state: &AppState) -> ApiError {
    match state.store.project_user(table.project_id, &table.user_did).await {
        Ok(Some(_)) => item_not_found(),
        Ok(None) => user_not_found(),
        Err(e) => e.into(),
    }
}

/// A record as the API shows it: the value with its `id`.
pub fn record(item: &Item) -> Value {
    let mut record = Map::with_capacity(item.value.as_object().map_or(0, Map::len) + 1);
    record.insert("id".into(), json!(item.id));
    if let Some(fields) = item.value.as_object() {
        record.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Value::Object(record)
}

fn not_an_object() -> ApiError {
    ApiError::bad_request("invalid_value", "value must be a JSON object of the table's fields.")
}

fn within_size(fields: &Map<String, Value>) -> ApiResult<()> {
    let size = serde_json::to_vec(fields).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_ITEM_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "item_too_large",
            "An item is at most 256 KiB of JSON.",
        ));
    }
    Ok(())
}

fn schema_of(table: &Table) -> &Value {
    table.schema.as_ref().as_ref().expect("a table comes from a published schema")
}

/// Whether `fields` fit the table (with its required fields when `complete`).
fn fits(table: &Table, fields: &Map<String, Value>, complete: bool) -> ApiResult<()> {
    judged(check_item(schema_of(table), &table.name, fields, complete))
}

fn judged(verdict: DataVerdict) -> ApiResult<()> {
    if verdict.valid {
        return Ok(());
    }
    let message = verdict.errors.first().and_then(|e| e["message"].as_str()).unwrap_or("The value does not fit");
    Err(ApiError::bad_request("invalid_data", format!("{message}.")).with("errors", verdict.errors))
}

/// `value` as stored: an object without `id` (the server owns ids), within
/// the size limit, with every required field of the table.
fn complete_value(table: &Table, value: Value) -> ApiResult<Value> {
    let Value::Object(mut fields) = value else { return Err(not_an_object()) };
    fields.remove("id");
    within_size(&fields)?;
    fits(table, &fields, true)?;
    Ok(Value::Object(fields))
}

pub async fn create(table: &Table, state: &AppState, value: Value) -> ApiResult<Item> {
    let value = complete_value(table, value)?;
    let now = time::now();
    let item = Item {
        id: Uuid::now_v7(),
        project_id: table.project_id,
        user_did: table.user_did.clone(),
        table: table.name.clone(),
        value,
        created_at: now,
        updated_at: now,
    };
    state.store.create_item(item.clone()).await.map_err(not_found_as(user_not_found))?;
    Ok(item)
}

/// One page of a table, oldest first.
pub struct Page {
    pub items: Vec<Item>,
    /// Where the next page starts, when there may be one.
    pub next_cursor: Option<String>,
}

pub async fn list(
    table: &Table,
    state: &AppState,
    limit: Option<u32>,
    cursor: Option<&str>,
    only: Option<&str>,
) -> ApiResult<Page> {
    if let Some(id) = only {
        let item = match Uuid::try_parse(id) {
            Ok(id) => get_item(table, state, id).await?,
            Err(_) => None,
        };
        return Ok(Page { items: item.into_iter().collect(), next_cursor: None });
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request("invalid_limit", format!("limit is 1 to {MAX_LIMIT}.")));
    }
    let after = cursor
        .map(|c| Uuid::try_parse(c).map_err(|_| ApiError::bad_request("invalid_cursor", "This is not a cursor.")))
        .transpose()?;
    let mut items = state.store.items(table.project_id, &table.user_did, &table.name, after, limit + 1).await?;
    // An empty table, or no such user?
    if items.is_empty() && state.store.project_user(table.project_id, &table.user_did).await?.is_none() {
        return Err(user_not_found());
    }
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last().map(|i| i.id.simple().to_string())).flatten();
    Ok(Page { items, next_cursor })
}

async fn get_item(table: &Table, state: &AppState, id: Uuid) -> ApiResult<Option<Item>> {
    Ok(state.store.item(table.project_id, &table.user_did, &table.name, id).await?)
}

pub async fn get(table: &Table, state: &AppState, item_id: &str) -> ApiResult<Item> {
    let found = match Uuid::try_parse(item_id) {
        Ok(id) => get_item(table, state, id).await?,
        Err(_) => None,
    };
    match found {
        Some(item) => Ok(item),
        None => Err(not_found(table, state).await),
    }
}

/// `PUT`: the value replaced whole (required fields checked).
pub async fn replace(table: &Table, state: &AppState, item_id: &str, value: Value) -> ApiResult<Item> {
    let current = get(table, state, item_id).await?;
    let value = complete_value(table, value)?;
    let at = time::after(current.updated_at);
    state.store.replace_item(&current, &value, None, at).await.map_err(not_found_as(item_not_found))
}

/// `PATCH`: the given fields set (a `null` removes one), the others kept.
/// What is set is checked against the schema, and the result must keep
/// every required field. A change made meanwhile
/// is merged with, never overwritten.
pub async fn patch(table: &Table, state: &AppState, item_id: &str, value: Value) -> ApiResult<Item> {
    let Value::Object(mut changes) = value else { return Err(not_an_object()) };
    changes.remove("id");
    let set: Map<String, Value> =
        changes.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
    fits(table, &set, false)?;
    let mut current = get(table, state, item_id).await?;
    for _ in 0..5 {
        let merged = merge_keys(&current.value, &changes);
        let whole = merged.as_object().expect("an object");
        within_size(whole)?;
        // What is set was checked above; what the merge leaves must still be whole.
        judged(check_required(schema_of(table), &table.name, whole))?;
        let at = time::after(current.updated_at);
        match state.store.replace_item(&current, &merged, Some(current.updated_at), at).await {
            Ok(item) => return Ok(item),
            Err(StoreError::Stale) => current = get(table, state, item_id).await?,
            Err(e) => return Err(not_found_as(item_not_found)(e)),
        }
    }
    Err(ApiError::new(StatusCode::CONFLICT, "conflict", "The item is being changed by others; try again."))
}

pub async fn delete(table: &Table, state: &AppState, item_id: &str) -> ApiResult<()> {
    let deleted = match Uuid::try_parse(item_id) {
        Ok(id) => state.store.delete_item(table.project_id, &table.user_did, &table.name, id).await,
        Err(_) => Err(StoreError::NotFound),
    };
    match deleted {
        Err(StoreError::NotFound) => Err(not_found(table, state).await),
        other => other.map_err(ApiError::from),
    }
}
