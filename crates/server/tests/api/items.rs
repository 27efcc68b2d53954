//! A project user's data: records in the tables of the project's schema.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, on_both_backends};
use crate::users::{connect, user_path};
use crate::world::{self, People, Place};

on_both_backends!(
    items_are_created_read_changed_and_deleted,
    tables_are_read_in_pages,
    items_are_checked_against_the_schema,
    a_removed_user_takes_their_data,
    creates_sent_at_once_are_all_kept_and_a_refused_one_fails_alone
);

/// A project with a `todos` table (`title` required, `done`), and a
/// connected user: the table's path.
async fn todos(app: &TestApp, people: &People, place: &Place) -> String {
    let schema = json!({"project_id": place.project, "version": 1, "tables": {"todos": {"type": "collection", "fields": {
        "title": {"type": "string", "required": true}, "done": {"type": "boolean"}, "tags": {"type": "json"}}}}});
    let path = format!("/project/{}/schema", place.project);
    assert_eq!(app.call(&people.owner.token, "POST", &path, Some(json!({"schema": schema}))).await.0, 200);
    let (_, connected) = connect(app, place, &people.app_user, "openid profile").await;
    format!("{}/db/todos", user_path(place, connected["user_did"].as_str().unwrap()))
}

async fn items_are_created_read_changed_and_deleted(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let table = todos(&app, &people, &place).await;
    let member = &people.member.token;

    let (status, created) =
        app.call(member, "POST", &table, Some(json!({"value": {"title": "Milk", "done": false, "id": "mine"}}))).await;
    assert_eq!(status, 200, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(id, "mine", "the id the client chose");
    assert_eq!(created["data"], json!({"id": id, "title": "Milk", "done": false}));
    let item = format!("{table}/{id}");
    let (status, read) = app.call(&people.viewer.token, "GET", &item, None).await;
    assert_eq!((status, read["data"].clone()), (200, created["data"].clone()));

    // PATCH sets what it names, keeps the rest; null removes.
    let (status, patched) =
        app.call(member, "PATCH", &item, Some(json!({"value": {"done": true, "tags": ["a"]}}))).await;
    assert_eq!(
        (status, patched["data"].clone()),
        (200, json!({"id": id, "title": "Milk", "done": true, "tags": ["a"]}))
    );
    let (_, patched) = app.call(member, "PATCH", &item, Some(json!({"value": {"tags": null}}))).await;
    assert_eq!(patched["data"], json!({"id": id, "title": "Milk", "done": true}));
    // PUT replaces the whole value.
    let (status, replaced) = app.call(member, "PUT", &item, Some(json!({"value": {"title": "Oat milk"}}))).await;
    assert_eq!((status, replaced["data"].clone()), (200, json!({"id": id, "title": "Oat milk"})));
    assert_eq!(app.call(member, "GET", &item, None).await.1["data"], replaced["data"], "stored as answered");

    let (status, deleted) = app.call(member, "DELETE", &item, None).await;
    assert_eq!((status, deleted), (200, json!({"success": true})));
    for method in ["GET", "DELETE", "PATCH", "PUT"] {
        let body = (method == "PATCH" || method == "PUT").then(|| json!({"value": {"title": "x"}}));
        let (status, gone) = app.call(member, method, &item, body).await;
        assert_eq!((status, gone["error"].as_str()), (404, Some("item_not_found")), "{method}");
    }
    assert_eq!(app.call(member, "GET", &format!("{table}/not-an-id"), None).await.0, 404);
}

async fn tables_are_read_in_pages(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let table = todos(&app, &people, &place).await;
    let owner = &people.owner.token;
    let mut ids = Vec::new();
    for n in 0..7 {
        let (_, created) = app.call(owner, "POST", &table, Some(json!({"value": {"title": format!("t{n}")}}))).await;
        ids.push(created["data"]["id"].clone());
    }
    let (status, all) = app.call(owner, "GET", &table, None).await;
    assert_eq!(status, 200);
    let listed: Vec<Value> = all["data"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect();
    assert_eq!((listed, all["next_cursor"].clone()), (ids.clone(), Value::Null), "creation order, one page");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("{table}?limit=3&cursor={c}"),
            None => format!("{table}?limit=3"),
        };
        let (status, page) = app.call(owner, "GET", &page_path, None).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["data"].as_array().unwrap().iter().map(|r| r["id"].clone()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids, "pages of 3 give every item once, in order");

    let (_, only) = app.call(owner, "GET", &format!("{table}?id={}", ids[4].as_str().unwrap()), None).await;
    assert_eq!(only["data"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), [ids[4].clone()]);
    let (_, none) = app.call(owner, "GET", &format!("{table}?id={}", Uuid::new_v4()), None).await;
    assert_eq!(none["data"], json!([]));
    for bad in ["limit=0", "limit=1001", "limit=x", "cursor=nope"] {
        let (status, body) = app.call(owner, "GET", &format!("{table}?{bad}"), None).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

async fn items_are_checked_against_the_schema(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let owner = &people.owner.token;
    // No schema yet: nothing can be stored.
    let (_, connected) = connect(&app, &place, &people.app_user, "openid").await;
    let user = user_path(&place, connected["user_did"].as_str().unwrap());
    let (status, body) =
        app.call(owner, "POST", &format!("{user}/db/todos"), Some(json!({"value": {"title": "x"}}))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("no_schema")), "{body}");

    let table = todos(&app, &people, &place).await;
    let cases = [
        (json!({"value": {"done": true}}), "invalid_data", "Field title is required"),
        (json!({"value": {"title": ""}}), "invalid_data", "Field title is required"),
        (json!({"value": {"title": 3}}), "invalid_data", "Field title should be type string, got number"),
        (json!({"value": {"title": "x", "colour": "red"}}), "invalid_data", "Field colour not found in schema"),
        (json!({"value": "text"}), "invalid_value", "JSON object"),
        (json!({}), "missing_value", "value"),
    ];
    for (body, code, says) in cases {
        let (status, answer) = app.call(owner, "POST", &table, Some(body.clone())).await;
        assert_eq!((status, answer["error"].as_str()), (400, Some(code)), "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{answer}");
    }
    let big = json!({"value": {"title": "x".repeat(300 * 1024)}});
    let (status, answer) = app.call(owner, "POST", &table, Some(big)).await;
    assert_eq!((status, answer["error"].as_str()), (413, Some("item_too_large")));
    let (status, answer) =
        app.call(owner, "POST", &table.replace("/db/todos", "/db/notes"), Some(json!({"value": {}}))).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("unknown_table")), "{answer}");
    let nobody = format!("{}/db/todos", user_path(&place, "did:web:nobody"));
    assert_eq!(app.call(owner, "POST", &nobody, Some(json!({"value": {"title": "x"}}))).await.0, 404);
    assert_eq!(app.call(owner, "GET", &nobody, None).await.0, 404);

    // A patch is checked for what it sets only; a replace for everything.
    let (_, created) = app.call(owner, "POST", &table, Some(json!({"value": {"title": "ok"}}))).await;
    let item = format!("{table}/{}", created["data"]["id"].as_str().unwrap());
    assert_eq!(app.call(owner, "PATCH", &item, Some(json!({"value": {"done": true}}))).await.0, 200);
    assert_eq!(app.call(owner, "PATCH", &item, Some(json!({"value": {"done": "yes"}}))).await.0, 400);
    assert_eq!(app.call(owner, "PUT", &item, Some(json!({"value": {"done": true}}))).await.0, 400);
    assert_eq!(app.call(owner, "GET", &item, None).await.1["data"]["title"], "ok", "refused writes change nothing");
}

async fn a_removed_user_takes_their_data(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let table = todos(&app, &people, &place).await;
    let owner = &people.owner.token;
    let second = world::actor(&app, "second", "profile").await;
    let (_, other) = connect(&app, &place, &second, "openid").await;
    let other_table = format!("{}/db/todos", user_path(&place, other["user_did"].as_str().unwrap()));
    app.call(owner, "POST", &table, Some(json!({"value": {"title": "mine"}}))).await;
    app.call(owner, "POST", &other_table, Some(json!({"value": {"title": "theirs"}}))).await;
    assert_eq!(app.call(owner, "GET", &other_table, None).await.1["data"].as_array().unwrap().len(), 1);

    let user = table.trim_end_matches("/db/todos").to_owned();
    assert_eq!(app.call(owner, "DELETE", &user, None).await.0, 200);
    assert_eq!(app.call(owner, "GET", &table, None).await.0, 404, "the user is gone");
    // Connecting again starts empty; the other user's data stays.
    connect(&app, &place, &people.app_user, "openid").await;
    assert_eq!(app.call(owner, "GET", &table, None).await.1["data"], json!([]));
    assert_eq!(app.call(owner, "GET", &other_table, None).await.1["data"][0]["title"], "theirs");
}

/// Many creates at once (on SQLite they share commits): each answered
/// record is stored, and one the store refuses (an id taken) fails alone.
async fn creates_sent_at_once_are_all_kept_and_a_refused_one_fails_alone(app: TestApp) {
    let people = world::people(&app).await;
    let place = world::place(&app, &people, true).await;
    let table = todos(&app, &people, &place).await;
    let owner = &people.owner.token;
    // Every fourth takes the id of the one before it.
    let id = |n: usize| if n % 4 == 3 { format!("r{}", n - 1) } else { format!("r{n}") };
    let sent = (0..32).map(|n| {
        let value = json!({"value": {"title": format!("t{n}"), "id": id(n)}});
        let (app, table) = (&app, &table);
        async move { app.call(owner, "POST", table, Some(value)).await }
    });
    let answers = futures_util::future::join_all(sent).await;
    let mut kept = Vec::new();
    for (n, (status, body)) in answers.into_iter().enumerate() {
        if n % 4 == 3 {
            // Which of the two came first is the race's; exactly one is refused.
            let other = n - 1;
            assert!(status == 409 || status == 200, "{n}: {status} {body}");
            if status == 409 {
                assert_eq!(body["error"], "item_exists", "{body}");
            } else {
                kept.push((id(n), format!("t{n}")));
                assert!(!kept.iter().any(|(_, t)| *t == format!("t{other}")), "both creates of {} answered 200", id(n));
            }
        } else {
            if status == 200 {
                kept.push((id(n), format!("t{n}")));
            } else {
                assert_eq!((n % 4, status, body["error"].clone()), (2, 409, json!("item_exists")), "{n}: {body}");
            }
        }
    }
    assert_eq!(kept.len(), 24, "one of each pair and every other create: {kept:?}");
    let (status, all) = app.call(owner, "GET", &format!("{table}?limit=100"), None).await;
    assert_eq!(status, 200);
    let mut stored: Vec<(String, String)> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), r["title"].as_str().unwrap().to_owned()))
        .collect();
    stored.sort();
    kept.sort();
    assert_eq!(stored, kept, "what was answered 200 is stored, and nothing else");
}
