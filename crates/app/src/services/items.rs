//! A project user's data: records in the tables of the project's latest
//! published schema, checked against it on every write.

use basic_admin_core::authz::Action;
use basic_admin_core::schema::{DataVerdict, check_item, check_required};
use basic_admin_core::store::{Item, StoreError};
use basic_admin_core::time;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::access;
use crate::Caller;
use crate::Context;
use crate::cache::LatestSchema;
use crate::error::{AppError, AppResult, Thing};
use basic_admin_core::json::merge_keys;

/// The largest item, serialized.
pub const MAX_ITEM_BYTES: usize = 256 * 1024;
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

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
async fn latest_schema(ctx: &Context, project: Uuid) -> AppResult<LatestSchema> {
    if let Some(hit) = ctx.caches.latest_schema(project) {
        return Ok(hit);
    }
    let generation = ctx.caches.generation();
    let latest = ctx.store.latest_schema(project).await?.map(|v| v.schema);
    Ok(ctx.caches.put_latest_schema(project, latest, generation))
}

/// The table `table` of the user `user_did`, if the caller may `action` it.
/// Whether the user exists is known from the item queries (and checked
/// only when they find nothing), which saves a read on every request.
pub async fn table(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    user_did: &str,
    table: &str,
    action: Action,
) -> AppResult<Table> {
    let project = access::project_id(ctx, caller, project_id, action).await?;
    let schema = latest_schema(ctx, project).await?;
    let Some(published) = schema.as_ref() else {
        return Err(AppError::invalid(
            "no_schema",
            "This project has no published schema yet: publish one before storing data.",
        ));
    };
    if published["tables"].get(table).is_none_or(Value::is_null) {
        return Err(AppError::invalid(
            "unknown_table",
            format!("The project's schema (version {}) has no table {table:?}.", published["version"]),
        ));
    }
    Ok(Table { project_id: project, user_did: user_did.to_owned(), name: table.to_owned(), schema })
}

/// A 404 for something of the user's that is not there: the item's, or the
/// user's own when the project has no such user.
async fn not_found(table: &Table, ctx: &Context) -> AppError {
    match ctx.store.project_user(table.project_id, &table.user_did).await {
        Ok(Some(_)) => AppError::NotFound(Thing::Item),
        Ok(None) => AppError::NotFound(Thing::User),
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

fn not_an_object() -> AppError {
    AppError::invalid("invalid_value", "value must be a JSON object of the table's fields.")
}

fn within_size(fields: &Map<String, Value>) -> AppResult<()> {
    let size = serde_json::to_vec(fields).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_ITEM_BYTES {
        return Err(AppError::TooLarge {
            code: "item_too_large",
            message: "An item is at most 256 KiB of JSON.".into(),
        });
    }
    Ok(())
}

fn schema_of(table: &Table) -> &Value {
    table.schema.as_ref().as_ref().expect("a table comes from a published schema")
}

/// Whether `fields` fit the table (with its required fields when `complete`).
fn fits(table: &Table, fields: &Map<String, Value>, complete: bool) -> AppResult<()> {
    judged(check_item(schema_of(table), &table.name, fields, complete))
}

fn judged(verdict: DataVerdict) -> AppResult<()> {
    if verdict.valid {
        return Ok(());
    }
    let message = verdict.errors.first().and_then(|e| e["message"].as_str()).unwrap_or("The value does not fit");
    Err(AppError::invalid("invalid_data", format!("{message}.")).with("errors", verdict.errors))
}

/// `value` as stored: an object without `id` (the server owns ids), within
/// the size limit, with every required field of the table.
fn complete_value(table: &Table, value: Value) -> AppResult<Value> {
    let Value::Object(mut fields) = value else { return Err(not_an_object()) };
    fields.remove("id");
    within_size(&fields)?;
    fits(table, &fields, true)?;
    Ok(Value::Object(fields))
}

pub async fn create(table: &Table, ctx: &Context, value: Value) -> AppResult<Item> {
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
    ctx.store.create_item(item.clone()).await.map_err(AppError::or_not_found(Thing::User))?;
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
    ctx: &Context,
    limit: Option<u32>,
    cursor: Option<&str>,
    only: Option<&str>,
) -> AppResult<Page> {
    if let Some(id) = only {
        let item = match Uuid::try_parse(id) {
            Ok(id) => get_item(table, ctx, id).await?,
            Err(_) => None,
        };
        return Ok(Page { items: item.into_iter().collect(), next_cursor: None });
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid("invalid_limit", format!("limit is 1 to {MAX_LIMIT}.")));
    }
    let after = cursor
        .map(|c| Uuid::try_parse(c).map_err(|_| AppError::invalid("invalid_cursor", "This is not a cursor.")))
        .transpose()?;
    let mut items = ctx.store.items(table.project_id, &table.user_did, &table.name, after, limit + 1).await?;
    // An empty table, or no such user?
    if items.is_empty() && ctx.store.project_user(table.project_id, &table.user_did).await?.is_none() {
        return Err(AppError::NotFound(Thing::User));
    }
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last().map(|i| i.id.simple().to_string())).flatten();
    Ok(Page { items, next_cursor })
}

async fn get_item(table: &Table, ctx: &Context, id: Uuid) -> AppResult<Option<Item>> {
    Ok(ctx.store.item(table.project_id, &table.user_did, &table.name, id).await?)
}

pub async fn get(table: &Table, ctx: &Context, item_id: &str) -> AppResult<Item> {
    let found = match Uuid::try_parse(item_id) {
        Ok(id) => get_item(table, ctx, id).await?,
        Err(_) => None,
    };
    match found {
        Some(item) => Ok(item),
        None => Err(not_found(table, ctx).await),
    }
}

/// `PUT`: the value replaced whole (required fields checked).
pub async fn replace(table: &Table, ctx: &Context, item_id: &str, value: Value) -> AppResult<Item> {
    let current = get(table, ctx, item_id).await?;
    let value = complete_value(table, value)?;
    let at = time::after(current.updated_at);
    ctx.store.replace_item(&current, &value, None, at).await.map_err(AppError::or_not_found(Thing::Item))
}

/// `PATCH`: the given fields set (a `null` removes one), the others kept.
/// What is set is checked against the schema, and the result must keep
/// every required field. A change made meanwhile
/// is merged with, never overwritten.
pub async fn patch(table: &Table, ctx: &Context, item_id: &str, value: Value) -> AppResult<Item> {
    let Value::Object(mut changes) = value else { return Err(not_an_object()) };
    changes.remove("id");
    let set: Map<String, Value> =
        changes.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
    fits(table, &set, false)?;
    let mut current = get(table, ctx, item_id).await?;
    for _ in 0..5 {
        let merged = merge_keys(&current.value, &changes);
        let whole = merged.as_object().expect("an object");
        within_size(whole)?;
        // What is set was checked above; what the merge leaves must still be whole.
        judged(check_required(schema_of(table), &table.name, whole))?;
        let at = time::after(current.updated_at);
        match ctx.store.replace_item(&current, &merged, Some(current.updated_at), at).await {
            Ok(item) => return Ok(item),
            Err(StoreError::Stale) => current = get(table, ctx, item_id).await?,
            Err(e) => return Err(AppError::or_not_found(Thing::Item)(e)),
        }
    }
    Err(AppError::conflict("conflict", "The item is being changed by others; try again."))
}

pub async fn delete(table: &Table, ctx: &Context, item_id: &str) -> AppResult<()> {
    let deleted = match Uuid::try_parse(item_id) {
        Ok(id) => ctx.store.delete_item(table.project_id, &table.user_did, &table.name, id).await,
        Err(_) => Err(StoreError::NotFound),
    };
    match deleted {
        Err(StoreError::NotFound) => Err(not_found(table, ctx).await),
        other => other.map_err(AppError::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Fixture;

    async fn todos(f: &Fixture) -> Table {
        let owner = f.developer("owner").await;
        let project = f.project(&owner, "app").await;
        let fields = json!({
            "title": {"type": "string", "required": true},
            "a": {"type": "number"}, "b": {"type": "number"}, "c": {"type": "number"}, "d": {"type": "number"},
        });
        f.publish(&owner, project, json!({"todos": fields})).await;
        let user = f.app_user(project).await;
        table(&f.ctx, &owner, &project.to_string(), &user, "todos", Action::WriteData).await.unwrap()
    }

    #[tokio::test]
    async fn a_record_is_whole_when_created_and_stays_whole() {
        let f = Fixture::new().await;
        let t = todos(&f).await;
        let missing = create(&t, &f.ctx, json!({"a": 1})).await;
        assert!(matches!(missing, Err(AppError::Invalid { code: "invalid_data", .. })));
        let wrong_type = create(&t, &f.ctx, json!({"title": 3})).await;
        assert!(matches!(wrong_type, Err(AppError::Invalid { code: "invalid_data", .. })));

        let item = create(&t, &f.ctx, json!({"title": "milk", "id": "ignored"})).await.unwrap();
        assert_eq!(item.value, json!({"title": "milk"}), "the server owns ids");
        let id = item.id.to_string();
        let emptied = patch(&t, &f.ctx, &id, json!({"title": null})).await;
        assert!(matches!(emptied, Err(AppError::Invalid { code: "invalid_data", .. })));
        let replaced = replace(&t, &f.ctx, &id, json!({"a": 2})).await;
        assert!(matches!(replaced, Err(AppError::Invalid { code: "invalid_data", .. })));
        assert_eq!(get(&t, &f.ctx, &id).await.unwrap().value, json!({"title": "milk"}), "nothing was half-written");

        let patched = patch(&t, &f.ctx, &id, json!({"a": 1})).await.unwrap();
        assert_eq!(patched.value, json!({"title": "milk", "a": 1}));
    }

    #[tokio::test]
    async fn patches_made_at_once_are_merged_not_lost() {
        let f = Fixture::new().await;
        let t = todos(&f).await;
        let id = create(&t, &f.ctx, json!({"title": "race"})).await.unwrap().id.to_string();
        let (a, b, c, d) = tokio::join!(
            patch(&t, &f.ctx, &id, json!({"a": 1})),
            patch(&t, &f.ctx, &id, json!({"b": 2})),
            patch(&t, &f.ctx, &id, json!({"c": 3})),
            patch(&t, &f.ctx, &id, json!({"d": 4})),
        );
        for result in [a, b, c, d] {
            result.unwrap();
        }
        let merged = get(&t, &f.ctx, &id).await.unwrap().value;
        assert_eq!(merged, json!({"title": "race", "a": 1, "b": 2, "c": 3, "d": 4}));
    }

    #[tokio::test]
    async fn a_missing_record_and_a_missing_user_are_told_apart() {
        let f = Fixture::new().await;
        let t = todos(&f).await;
        let absent = get(&t, &f.ctx, &Uuid::now_v7().to_string()).await;
        assert!(matches!(absent, Err(AppError::NotFound(Thing::Item))));
        let nobody = Table { user_did: "did:web:basic.test:users:nobody".into(), ..t };
        let absent = get(&nobody, &f.ctx, &Uuid::now_v7().to_string()).await;
        assert!(matches!(absent, Err(AppError::NotFound(Thing::User))));
        assert!(matches!(delete(&nobody, &f.ctx, "not-a-uuid").await, Err(AppError::NotFound(Thing::User))));
    }
}
