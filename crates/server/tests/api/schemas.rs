//! Project schemas: publishing, reading, and the utilities the CLI calls.

use serde_json::{Value, json};

use crate::harness::{TestApp, json, on_both_backends};
use crate::world::{self, Actor};

on_both_backends!(
    the_cli_publishes_as_it_does,
    reads_answer_arrays_versions_and_etags,
    publishing_follows_the_update_rules,
    patches_merge_into_the_current_schema,
    concurrent_publishes_of_one_version_have_one_winner,
    utilities_name_their_project,
    a_deleted_project_has_no_schema,
);

async fn a_deleted_project_has_no_schema(app: TestApp) {
    let (dev, project) = project(&app).await;
    call(&app, &dev, "POST", &format!("/project/{project}/schema"), json!({"schema": todos(&project, 1)})).await;
    assert_eq!(latest_version(&app, &project).await, 1);
    assert_eq!(call(&app, &dev, "DELETE", &format!("/project/{project}"), json!(null)).await.0, 200);
    assert_eq!(json(app.get(&format!("/project/{project}/schema")).send().await.unwrap()).await.0, 404);
}

async fn call(app: &TestApp, actor: &Actor, method: &str, path: &str, body: Value) -> (u16, Value) {
    app.call(&actor.token, method, path, Some(body)).await
}

/// A developer with a project: (developer, project id).
async fn project(app: &TestApp) -> (Actor, String) {
    let people = world::people(app).await;
    let place = world::place(app, &people, true).await;
    (people.owner, place.project.to_string())
}

fn todos(project: &str, version: i64) -> Value {
    json!({"project_id": project, "version": version, "tables": {"todos": {"type": "collection", "fields": {
        "title": {"type": "string", "indexed": true}, "done": {"type": "boolean"}
    }}}})
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    json(app.post(path).json(&body).send().await.unwrap()).await
}

async fn the_cli_publishes_as_it_does(app: TestApp) {
    let (dev, project) = project(&app).await;
    let schema = todos(&project, 1);

    // Before anything is published: no schema yet, and the draft is checked plainly.
    let (status, read) = json(
        app.get(&format!("/project/{project}/schema")).header("content-type", "application/json").send().await.unwrap(),
    )
    .await;
    assert_eq!((status, read.clone()), (200, json!({"data": []})));
    let (status, verdict) = post_json(&app, "/utils/schema/verifyUpdateSchema", json!({"schema": schema})).await;
    assert_eq!((status, verdict["valid"].clone()), (200, json!(true)), "{verdict}");
    let (status, diff) = post_json(&app, "/utils/schema/compareSchema", json!({"schema": schema})).await;
    assert_eq!((status, diff["valid"].clone()), (200, json!(false)), "differs from the empty schema: {diff}");

    let (status, published) =
        call(&app, &dev, "POST", &format!("/project/{project}/schema"), json!({"schema": schema})).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["data"]["schema"], schema);
    assert_eq!(published["data"]["project_id"], project);
    assert!(published["data"]["updated_at"].as_str().unwrap().ends_with('Z'));

    // The CLI reads data[0].schema, and compares its local copy.
    let (_, read) = json(app.get(&format!("/project/{project}/schema")).send().await.unwrap()).await;
    assert_eq!(read["data"][0]["schema"], schema);
    let (_, diff) = post_json(&app, "/utils/schema/compareSchema", json!({"schema": schema})).await;
    assert_eq!(diff, json!({"valid": true, "changes": []}));
    let (_, verdict) = post_json(&app, "/utils/schema/verifyUpdateSchema", json!({"schema": schema})).await;
    assert_eq!(verdict["valid"], false, "the same version again is not an update");
    let (_, verdict) = post_json(&app, "/utils/schema/verifyUpdateSchema", json!({"schema": todos(&project, 2)})).await;
    assert_eq!(verdict["valid"], true, "{verdict}");
}

async fn reads_answer_arrays_versions_and_etags(app: TestApp) {
    let (dev, project) = project(&app).await;
    for version in 1..=3 {
        let (status, body) = call(
            &app,
            &dev,
            "POST",
            &format!("/project/{project}/schema"),
            json!({"schema": todos(&project, version)}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let path = format!("/project/{project}/schema");
    let (_, latest) = json(app.get(&path).send().await.unwrap()).await;
    assert_eq!(latest["data"].as_array().unwrap().len(), 1);
    assert_eq!(latest["data"][0]["schema"]["version"], 3);
    assert!(latest.get("count").is_none());
    let (_, all) = json(app.get(&format!("{path}?version=all")).send().await.unwrap()).await;
    assert_eq!(all["count"], 3);
    let versions: Vec<i64> = all["data"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [1, 2, 3], "oldest first");
    let (_, second) = json(app.get(&format!("{path}?version=2")).send().await.unwrap()).await;
    assert_eq!(second["data"][0]["schema"]["version"], 2);
    let (_, missing) = json(app.get(&format!("{path}?version=9")).send().await.unwrap()).await;
    assert_eq!(missing, json!({"data": []}));
    for bad in ["x", "-1", "1.5"] {
        let (status, body) = json(app.get(&format!("{path}?version={bad}")).send().await.unwrap()).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_version")), "{bad}");
    }
    let (status, _) = json(app.get(&format!("/project/{}/schema", uuid::Uuid::new_v4())).send().await.unwrap()).await;
    assert_eq!(status, 404);

    // Caching: a short max-age, and an ETag that answers 304 until the next publish.
    let response = app.get(&path).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "public, max-age=5");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let again = app.get(&path).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    call(&app, &dev, "POST", &path, json!({"schema": todos(&project, 4)})).await;
    let changed = app.get(&path).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(changed.status(), 200);
}

async fn publishing_follows_the_update_rules(app: TestApp) {
    let (dev, project) = project(&app).await;
    let path = format!("/project/{project}/schema");
    let cases = [
        (todos(&project, 0), "invalid_schema"),
        (todos(&uuid::Uuid::new_v4().to_string(), 1), "project_mismatch"),
        (json!({"project_id": project, "version": 1, "tables": {"id": {"fields": {}}}}), "invalid_schema"),
        (json!({"project_id": project, "version": 1}), "invalid_schema"),
    ];
    for (schema, code) in cases {
        let (status, body) = call(&app, &dev, "POST", &path, json!({"schema": schema})).await;
        assert_eq!(
            (status, body["error"].as_str(), body["valid"].clone()),
            (400, Some(code), json!(false)),
            "{schema}: {body}"
        );
        assert!(body["errors"].is_array());
    }
    call(&app, &dev, "POST", &path, json!({"schema": todos(&project, 1)})).await;
    let mut retyped = todos(&project, 2);
    retyped["tables"]["todos"]["fields"]["done"]["type"] = json!("string");
    let (status, body) = call(&app, &dev, "POST", &path, json!({"schema": retyped})).await;
    assert_eq!((status, body["errors"][0]["change"]["type"].as_str()), (400, Some("field_type_changed")), "{body}");
    let (status, body) = call(&app, &dev, "POST", &path, json!({"schema": todos(&project, 3)})).await;
    assert_eq!((status, body["errors"][0]["change"]["property"].as_str()), (400, Some("version")));
    let (status, body) = call(&app, &dev, "POST", &path, json!({"schema": "nope"})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_schema")));
    let (status, body) = call(&app, &dev, "POST", &path, json!({})).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_body")));
    let (_, all) = json(app.get(&format!("{path}?version=all")).send().await.unwrap()).await;
    assert_eq!(all["count"], 1, "nothing rejected was stored");
}

async fn patches_merge_into_the_current_schema(app: TestApp) {
    let (dev, project) = project(&app).await;
    let path = format!("/project/{project}/schema");
    // Onto nothing: version 1.
    let first = json!({"tables": {"todos": {"type": "collection", "fields": {"title": {"type": "string"}}}}});
    let (status, body) = call(&app, &dev, "PATCH", &path, json!({"schema": first})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["schema"]["version"], 1);
    assert_eq!(body["data"]["schema"]["project_id"], project);

    let change = json!({"tables": {"todos": {"fields": {"done": {"type": "boolean"}}}, "notes": {"fields": {"body": {"type": "string"}}}}});
    let (status, body) = call(&app, &dev, "PATCH", &path, json!({"schema": change})).await;
    assert_eq!(status, 200, "{body}");
    let tables = &body["data"]["schema"]["tables"];
    assert_eq!(body["data"]["schema"]["version"], 2);
    assert_eq!(tables["todos"]["fields"], json!({"title": {"type": "string"}, "done": {"type": "boolean"}}));
    assert_eq!(tables["notes"]["fields"]["body"]["type"], "string");

    let removal = json!({"tables": {"notes": null, "todos": {"fields": {"done": null}}}});
    let (_, body) = call(&app, &dev, "PATCH", &path, json!({"schema": removal})).await;
    assert_eq!(
        body["data"]["schema"]["tables"],
        json!({"todos": {"type": "collection", "fields": {"title": {"type": "string"}}}})
    );
    assert_eq!(body["data"]["schema"]["version"], 3);

    let (status, body) = call(
        &app,
        &dev,
        "PATCH",
        &path,
        json!({"schema": {"tables": {"todos": {"fields": {"title": {"type": "number"}}}}}}),
    )
    .await;
    assert_eq!((status, body["valid"].clone()), (400, json!(false)), "types still cannot change");
}

async fn concurrent_publishes_of_one_version_have_one_winner(app: TestApp) {
    let (dev, project) = project(&app).await;
    let path = format!("/project/{project}/schema");
    let attempts = (0..6).map(|_| call(&app, &dev, "POST", &path, json!({"schema": todos(&project, 1)})));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    // The others lost the race (409) or saw the winner's version already (400).
    assert!(statuses.iter().all(|s| [200, 400, 409].contains(s)), "{statuses:?}");
    let (_, all) = json(app.get(&format!("{path}?version=all")).send().await.unwrap()).await;
    assert_eq!(all["count"], 1);
}

async fn utilities_name_their_project(app: TestApp) {
    for path in ["/utils/schema/compareSchema", "/utils/schema/verifyUpdateSchema"] {
        let (status, body) = post_json(&app, path, json!({"schema": {"version": 1, "tables": {}}})).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_schema")), "{path}");
        let unknown = todos(&uuid::Uuid::new_v4().to_string(), 1);
        let (status, _) = post_json(&app, path, json!({"schema": unknown})).await;
        assert_eq!(status, 404, "{path}");
        let (status, _) = post_json(&app, path, json!({})).await;
        assert_eq!(status, 400, "{path}");
    }
}

async fn latest_version(app: &TestApp, project: &str) -> Value {
    let (status, body) = json(app.get(&format!("/project/{project}/schema")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["data"][0]["schema"]["version"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_on_one_node_reaches_the_others_at_once() {
    use crate::harness::{Backend, Setup, TestDb};
    let Some(db) = TestDb::create(Backend::Postgres, "schemas::publish_reaches_other_nodes").await else { return };
    let a = TestApp::start(db, Setup::default()).await;
    let b = a.sibling(Setup::default()).await;
    let (dev, project) = project(&a).await;
    let path = format!("/project/{project}/schema");
    call(&a, &dev, "POST", &path, json!({"schema": todos(&project, 1)})).await;
    assert_eq!(latest_version(&b, &project).await, 1, "B caches version 1");

    call(&a, &dev, "POST", &path, json!({"schema": todos(&project, 2)})).await;
    let started = std::time::Instant::now();
    while latest_version(&b, &project).await != 2 {
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "B still serves version 1 after a second");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Deleting the project is heard too.
    assert_eq!(call(&a, &dev, "DELETE", &format!("/project/{project}"), json!(null)).await.0, 200);
    let started = std::time::Instant::now();
    while json(b.get(&path).send().await.unwrap()).await.0 != 404 {
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "B still serves a deleted project");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
