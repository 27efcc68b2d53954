//! A project user's data: records in the tables of the project's latest
//! published schema, checked against it on every write. Developers and keys
//! reach any user's tables ([`table`]); a signed-in app user reaches their
//! own ([`own_table`]).

use basic_admin_core::authz::Action;
use basic_admin_core::json::merge_keys;
use basic_admin_core::model::ItemId;
use basic_admin_core::schema::{DataVerdict, check_item, check_required};
use basic_admin_core::store::{Constraint, Item, ItemCursor, ItemText, StoreError};
use basic_admin_core::sync::Edit;
use basic_admin_core::time;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{access, users};
use crate::auth::claims::AccessClaims;
use crate::cache::LatestSchema;
use crate::error::{AppError, AppResult, Thing};
use crate::{Caller, Context};

/// The largest item, serialized.
pub const MAX_ITEM_BYTES: usize = 256 * 1024;
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;
/// Items one answer of the app's list holds (the SDK reads one answer).
pub const APP_LIST_LIMIT: u32 = 10_000;

/// Where a request's items live: a project, one of its users, one table of
/// its schema (and that schema).
pub struct Table {
    pub project_id: Uuid,
    pub user_did: String,
    pub name: String,
    schema: LatestSchema,
    /// The signed-in user's token, when they reach their own table: they
    /// are connected to the project on their first data call if they were
    /// not yet.
    owner: Option<AccessClaims>,
}

/// The project's latest schema, from memory when it can (publishing a
/// schema invalidates it on every node).
pub(crate) async fn latest_schema(ctx: &Context, project: Uuid) -> AppResult<LatestSchema> {
    if let Some(hit) = ctx.caches.latest_schema(project) {
        return Ok(hit);
    }
    let generation = ctx.caches.generation();
    let latest = ctx.store.latest_schema(project).await?.map(|v| v.schema);
    Ok(ctx.caches.put_latest_schema(project, latest, generation))
}

/// The schema, if it has `table`.
async fn schema_with(ctx: &Context, project: Uuid, table: &str) -> AppResult<LatestSchema> {
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
    Ok(schema)
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
    let schema = schema_with(ctx, project, table).await?;
    Ok(Table { project_id: project, user_did: user_did.to_owned(), name: table.to_owned(), schema, owner: None })
}

/// The signed-in app user's own table `table`: the caller's token must be
/// issued to this project's app (else the project is not found), and
/// `account`, when the path names one, must be the token's own account.
pub async fn own_table(
    ctx: &Context,
    caller: &Caller,
    project_id: &str,
    account: Option<&str>,
    table: &str,
) -> AppResult<Table> {
    let Caller::Account(signed_in) = caller else {
        return Err(AppError::forbidden(
            "forbidden",
            "These are a signed-in user's own data: API keys reach users' data under /project/{id}/user/{user_id}/db.",
        ));
    };
    let project = access::parse_id(project_id, Thing::Project)?;
    if signed_in.claims.client_id != project.to_string() {
        return Err(AppError::NotFound(Thing::Project));
    }
    if account.is_some_and(|a| Uuid::try_parse(a).ok() != Some(signed_in.account_id)) {
        return Err(AppError::NotFound(Thing::User));
    }
    let schema = schema_with(ctx, project, table).await?;
    Ok(Table {
        project_id: project,
        user_did: signed_in.claims.sub.clone(),
        name: table.to_owned(),
        schema,
        owner: Some(signed_in.claims.clone()),
    })
}

/// When the project has no such user: the owner of their own table is
/// connected now; anyone else's table is a 404.
async fn user_missing(table: &Table, ctx: &Context) -> AppResult<()> {
    match &table.owner {
        Some(claims) => users::connect_signed_in(ctx, table.project_id, claims).await.map(drop),
        None => Err(AppError::NotFound(Thing::User)),
    }
}

/// A 404 for something of the user's that is not there: the item's, or the
/// user's own when the project has no such user.
async fn not_found(table: &Table, ctx: &Context) -> AppError {
    match ctx.store.project_user(table.project_id, &table.user_did).await {
        Ok(Some(_)) => AppError::NotFound(Thing::Item),
        Ok(None) => match user_missing(table, ctx).await {
            Ok(()) => AppError::NotFound(Thing::Item),
            Err(e) => e,
        },
        Err(e) => e.into(),
    }
}

/// A record as the API shows it: the value with its `id`.
pub fn record(item: &Item) -> Value {
    let mut record = Map::with_capacity(item.value.as_object().map_or(0, Map::len) + 1);
    record.insert("id".into(), json!(item.id.as_str()));
    if let Some(fields) = item.value.as_object() {
        record.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Value::Object(record)
}

/// [`record`] of an item read as text, written without parsing it: the
/// `id` first, then the stored fields (a stored value is an object without
/// an `id`, as [`whole_record`] makes every one).
pub fn record_text(item: &ItemText) -> String {
    let mut record = String::with_capacity(item.value.len() + item.id.as_str().len() + 10);
    push_record(&mut record, item);
    record
}

/// [`record_text`], written at the end of `out`.
pub fn push_record(out: &mut String, item: &ItemText) {
    let fields = item.value.trim_start().strip_prefix('{').unwrap_or("}").trim_start();
    out.push_str("{\"id\":");
    // Ids are short: escaping through serde_json keeps the rules in one place.
    out.push_str(&Value::String(item.id.as_str().to_owned()).to_string());
    if !fields.starts_with('}') {
        out.push(',');
    }
    out.push_str(fields);
}

fn not_an_object() -> AppError {
    AppError::invalid("invalid_value", "value must be a JSON object of the table's fields.")
}

fn invalid_id(e: impl std::fmt::Display) -> AppError {
    AppError::invalid("invalid_id", format!("This is not an item id: {e}."))
}

/// The id a new record gets: the one its value names (a string of 1 to 128
/// characters), else a new one.
fn chosen_id(fields: &mut Map<String, Value>) -> AppResult<ItemId> {
    match fields.remove("id") {
        None | Some(Value::Null) => Ok(ItemId::generate()),
        Some(Value::String(text)) => ItemId::parse(&text).map_err(invalid_id),
        Some(_) => Err(invalid_id("an id is a string")),
    }
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

/// `value` as stored: an object (its `id` is the record's, not a field),
/// within the size limit, with every required field of the table.
fn complete_value(table: &Table, fields: Map<String, Value>) -> AppResult<Value> {
    whole_record(schema_of(table), &table.name, fields)
}

/// A whole record of `table` as stored, from its fields, as every way of
/// writing one (REST, sync) checks it.
pub(crate) fn whole_record(schema: &Value, table: &str, mut fields: Map<String, Value>) -> AppResult<Value> {
    fields.remove("id");
    within_size(&fields)?;
    judged(check_item(schema, table, &fields, true))?;
    Ok(Value::Object(fields))
}

/// `POST`: a new record, with the id its value names or a new one.
pub async fn create(table: &Table, ctx: &Context, value: Value) -> AppResult<Item> {
    let Value::Object(mut fields) = value else { return Err(not_an_object()) };
    let id = chosen_id(&mut fields)?;
    insert(table, ctx, id, fields).await
}

async fn insert(table: &Table, ctx: &Context, id: ItemId, fields: Map<String, Value>) -> AppResult<Item> {
    let value = complete_value(table, fields)?;
    let now = time::now();
    let item = Item {
        id,
        seq: 0,
        project_id: table.project_id,
        user_did: table.user_did.clone(),
        table: table.name.clone(),
        value,
        created_at: now,
        updated_at: now,
    };
    let most = ctx.settings.max_records_per_table;
    let mut created = ctx.store.create_item(item.clone(), most).await;
    if matches!(created, Err(StoreError::NotFound)) {
        // Not the project's user yet: only the owner of the table is connected, then tried again.
        user_missing(table, ctx).await?;
        created = ctx.store.create_item(item, most).await;
    }
    match created {
        Ok(Some(stored)) => {
            ctx.sync.advanced(table.project_id, &table.user_did);
            Ok(stored)
        }
        Ok(None) => Err(AppError::conflict(
            "table_full",
            format!("A user keeps at most {most} records in one table: delete some first."),
        )),
        Err(StoreError::Unique(Constraint::Item)) => Err(AppError::conflict(
            "item_exists",
            "This table has an item with this id already: change it with PUT or PATCH.",
        )),
        Err(e) => Err(AppError::or_not_found(Thing::User)(e)),
    }
}

/// One page of a table, oldest first, each value as stored (see [`record_text`]).
pub struct Page {
    pub items: Vec<ItemText>,
    /// Where the next page starts, when there may be one.
    pub next_cursor: Option<String>,
}

/// A page of `limit` items (1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when not
/// given) after `cursor`, or `only` the item with that id.
pub async fn list(
    table: &Table,
    ctx: &Context,
    limit: Option<u32>,
    cursor: Option<&str>,
    only: Option<&str>,
) -> AppResult<Page> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid("invalid_limit", format!("limit is 1 to {MAX_LIMIT}.")));
    }
    page(table, ctx, limit, cursor, only).await
}

/// The app's list: [`APP_LIST_LIMIT`] items an answer.
pub async fn list_own(table: &Table, ctx: &Context, cursor: Option<&str>, only: Option<&str>) -> AppResult<Page> {
    page(table, ctx, APP_LIST_LIMIT, cursor, only).await
}

async fn page(table: &Table, ctx: &Context, limit: u32, cursor: Option<&str>, only: Option<&str>) -> AppResult<Page> {
    if let Some(id) = only {
        let item = match ItemId::parse(id) {
            Ok(id) => find(table, ctx, &id).await?,
            Err(_) => None,
        };
        return Ok(Page { items: item.iter().map(ItemText::of).collect(), next_cursor: None });
    }
    let after = cursor
        .map(|c| ItemCursor::decode(c).ok_or_else(|| AppError::invalid("invalid_cursor", "This is not a cursor.")))
        .transpose()?;
    let mut items =
        ctx.store.item_texts(table.project_id, &table.user_did, &table.name, after.as_ref(), limit + 1).await?;
    // An empty table, or no such user?
    if items.is_empty() && ctx.store.project_user(table.project_id, &table.user_did).await?.is_none() {
        user_missing(table, ctx).await?;
    }
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last().map(|i| ItemCursor::after(i).encode())).flatten();
    Ok(Page { items, next_cursor })
}

async fn find(table: &Table, ctx: &Context, id: &ItemId) -> AppResult<Option<Item>> {
    Ok(ctx.store.item(table.project_id, &table.user_did, &table.name, id).await?)
}

pub async fn get(table: &Table, ctx: &Context, item_id: &str) -> AppResult<Item> {
    let found = match ItemId::parse(item_id) {
        Ok(id) => find(table, ctx, &id).await?,
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
    replace_found(table, ctx, &current, value).await
}

async fn replace_found(table: &Table, ctx: &Context, current: &Item, value: Value) -> AppResult<Item> {
    let Value::Object(fields) = value else { return Err(not_an_object()) };
    let value = complete_value(table, fields)?;
    let at = time::after(current.updated_at);
    let replaced = ctx.store.replace_item(current, &value, &Edit::Created, None, at).await;
    let replaced = replaced.map_err(AppError::or_not_found(Thing::Item))?;
    ctx.sync.advanced(table.project_id, &table.user_did);
    Ok(replaced)
}

/// `PUT` as the app SDK means it: the value replaced whole, or a new record
/// with this id when there is none.
pub async fn put(table: &Table, ctx: &Context, item_id: &str, value: Value) -> AppResult<Item> {
    let id = ItemId::parse(item_id).map_err(invalid_id)?;
    let Value::Object(fields) = value else { return Err(not_an_object()) };
    for _ in 0..3 {
        if let Some(current) = find(table, ctx, &id).await? {
            return replace_found(table, ctx, &current, Value::Object(fields)).await;
        }
        match insert(table, ctx, id.clone(), fields.clone()).await {
            // Made meanwhile by another request: replace it after all.
            Err(AppError::Conflict { code: "item_exists", .. }) => continue,
            done => return done,
        }
    }
    Err(AppError::conflict("conflict", "The item is being changed by others; try again."))
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
        let edit = Edit::Updated(changes.keys().cloned().collect());
        match ctx.store.replace_item(&current, &merged, &edit, Some(current.updated_at), at).await {
            Ok(item) => {
                ctx.sync.advanced(table.project_id, &table.user_did);
                return Ok(item);
            }
            Err(StoreError::Stale) => current = get(table, ctx, item_id).await?,
            Err(e) => return Err(AppError::or_not_found(Thing::Item)(e)),
        }
    }
    Err(AppError::conflict("conflict", "The item is being changed by others; try again."))
}

pub async fn delete(table: &Table, ctx: &Context, item_id: &str) -> AppResult<()> {
    let deleted = match ItemId::parse(item_id) {
        Ok(id) => ctx.store.delete_item(table.project_id, &table.user_did, &table.name, &id).await,
        Err(_) => Err(StoreError::NotFound),
    };
    match deleted {
        Err(StoreError::NotFound) => Err(not_found(table, ctx).await),
        Ok(()) => {
            ctx.sync.advanced(table.project_id, &table.user_did);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_written_from_its_text_is_the_record() {
        let value = json!({"title": "Tea", "done": false, "tags": ["a", "b"], "n": {"x": 1}});
        for stored in [value.to_string(), serde_json::to_string_pretty(&value).unwrap(), "{\"title\": \"Tea\"}".into()]
        {
            let text = ItemText { id: ItemId::parse("a\"b").unwrap(), seq: 1, value: stored.clone() };
            let written: Value = serde_json::from_str(&record_text(&text)).unwrap();
            // The same record as the one a single item's answer is written from.
            let item = Item {
                id: text.id.clone(),
                seq: 1,
                project_id: uuid::Uuid::nil(),
                user_did: "did:web:a".into(),
                table: "todos".into(),
                value: serde_json::from_str(&stored).unwrap(),
                created_at: time::now(),
                updated_at: time::now(),
            };
            assert_eq!(written, record(&item), "{stored}");
        }
        let empty = ItemText { id: ItemId::parse("x").unwrap(), seq: 1, value: "{}".into() };
        assert_eq!(record_text(&empty), "{\"id\":\"x\"}");
        let spaced = ItemText { id: ItemId::parse("x").unwrap(), seq: 1, value: "{ }".into() };
        assert_eq!(record_text(&spaced), "{\"id\":\"x\"}");
    }
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

        let item = create(&t, &f.ctx, json!({"title": "milk", "id": "milk-1"})).await.unwrap();
        assert_eq!((item.id.as_str(), &item.value), ("milk-1", &json!({"title": "milk"})), "the client's id");
        let again = create(&t, &f.ctx, json!({"title": "more milk", "id": "milk-1"})).await;
        assert!(matches!(again, Err(AppError::Conflict { code: "item_exists", .. })));
        for bad in [json!(""), json!("a/b"), json!(7), json!("x".repeat(129))] {
            let refused = create(&t, &f.ctx, json!({"title": "x", "id": bad})).await;
            assert!(matches!(refused, Err(AppError::Invalid { code: "invalid_id", .. })), "{refused:?}");
        }
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
    async fn a_full_table_takes_no_more_records() {
        let f = Fixture::new().await;
        let t = todos(&f).await;
        for n in 0..f.ctx.settings.max_records_per_table {
            create(&t, &f.ctx, json!({"title": format!("t{n}")})).await.unwrap();
        }
        let refused = create(&t, &f.ctx, json!({"title": "one more"})).await;
        assert!(matches!(refused, Err(AppError::Conflict { code: "table_full", .. })), "{refused:?}");
        let refused = put(&t, &f.ctx, "new-one", json!({"title": "one more"})).await;
        assert!(matches!(refused, Err(AppError::Conflict { code: "table_full", .. })), "{refused:?}");
        let first = list(&t, &f.ctx, None, None, None).await.unwrap().items[0].id.to_string();
        put(&t, &f.ctx, &first, json!({"title": "replaced"})).await.expect("replacing adds nothing");
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

    /// A project of its own, named `name`, and a user signed in to its app.
    async fn signed_in_app(f: &Fixture, name: &str) -> (Uuid, Caller) {
        let owner = f.developer(&format!("{name}-owner")).await;
        let project = f.project(&owner, name).await;
        f.publish(&owner, project, json!({"todos": {"title": {"type": "string"}}})).await;
        let Caller::Account(mut user) = f.developer(&format!("{name}-user")).await else { unreachable!() };
        user.claims.client_id = project.to_string();
        user.claims.scope = "openid".into();
        (project, Caller::Account(user))
    }

    #[tokio::test]
    async fn an_app_user_reaches_their_own_tables_only() {
        let f = Fixture::new().await;
        let (project, user) = signed_in_app(&f, "app").await;
        let Caller::Account(signed_in) = &user else { unreachable!() };
        let id = project.to_string();
        let own = own_table(&f.ctx, &user, &id, Some(&signed_in.account_id.to_string()), "todos").await.unwrap();
        assert_eq!(own.user_did, signed_in.claims.sub);
        let someone = own_table(&f.ctx, &user, &id, Some(&Uuid::new_v4().to_string()), "todos").await;
        assert!(matches!(someone, Err(AppError::NotFound(Thing::User))));
        let (other_project, _) = signed_in_app(&f, "other").await;
        let elsewhere = own_table(&f.ctx, &user, &other_project.to_string(), None, "todos").await;
        assert!(matches!(elsewhere, Err(AppError::NotFound(Thing::Project))), "a token of another app");
        let developer = f.developer("dev").await;
        let not_theirs = own_table(&f.ctx, &developer, &id, None, "todos").await;
        assert!(matches!(not_theirs, Err(AppError::NotFound(Thing::Project))), "a developer's token is the CLI's");

        // Their first call connects them: an empty list, then their records.
        assert!(f.ctx.store.project_user(project, &own.user_did).await.unwrap().is_none());
        assert!(list_own(&own, &f.ctx, None, None).await.unwrap().items.is_empty());
        let user_record = f.ctx.store.project_user(project, &own.user_did).await.unwrap().expect("connected");
        assert_eq!(user_record.account_id, Some(signed_in.account_id));
        create(&own, &f.ctx, json!({"title": "mine"})).await.unwrap();
        assert_eq!(list_own(&own, &f.ctx, None, None).await.unwrap().items.len(), 1);
    }

    #[tokio::test]
    async fn put_creates_or_replaces_and_a_first_write_connects() {
        let f = Fixture::new().await;
        let (project, user) = signed_in_app(&f, "app").await;
        let own = own_table(&f.ctx, &user, &project.to_string(), None, "todos").await.unwrap();
        let made = put(&own, &f.ctx, "todo-1", json!({"title": "new"})).await.unwrap();
        assert_eq!((made.id.as_str(), &made.value), ("todo-1", &json!({"title": "new"})));
        let replaced = put(&own, &f.ctx, "todo-1", json!({"title": "changed"})).await.unwrap();
        assert_eq!((replaced.created_at, &replaced.value), (made.created_at, &json!({"title": "changed"})));
        let both = tokio::join!(
            put(&own, &f.ctx, "todo-2", json!({"title": "a"})),
            put(&own, &f.ctx, "todo-2", json!({"title": "b"}))
        );
        assert!(both.0.is_ok() && both.1.is_ok(), "two puts of one new id both land: {both:?}");
        assert!(matches!(put(&own, &f.ctx, "", json!({})).await, Err(AppError::Invalid { code: "invalid_id", .. })));
        let page = list_own(&own, &f.ctx, None, None).await.unwrap();
        let ids: Vec<&str> = page.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["todo-1", "todo-2"], "creation order");
    }
}
