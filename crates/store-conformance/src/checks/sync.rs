use basic_admin_core::model::ItemId;
use basic_admin_core::store::{Applied, LogPosition, Step, Store, StoreError, SyncBatch, SyncRefusal};
use basic_admin_core::sync::{Change, Edit};
use basic_admin_core::time;
use serde_json::{Map, json};
use uuid::Uuid;

use super::users::{MAX, connection, item, project};

fn create(key: &str, title: &str) -> Change {
    let obj = json!({"id": key, "title": title}).as_object().unwrap().clone();
    Change::Create { table: "todos".into(), key: ItemId::parse(key).unwrap(), obj }
}

fn batch<'a>(project_id: Uuid, changes: &'a [Change], max_records: u64) -> SyncBatch<'a> {
    SyncBatch { project_id, user_did: "did:web:s", source: "device-1", changes, max_records, at: time::now() }
}

/// Stores what each change says, as a decision that checks nothing.
fn put_all(
    change: &Change,
    _: Option<&basic_admin_core::store::Item>,
    _: Option<&basic_admin_core::sync::RecordLog>,
) -> Result<Step, String> {
    Ok(match change {
        Change::Create { obj, .. } => {
            let mut fields: Map<_, _> = obj.clone();
            fields.remove("id");
            Step::Put { value: fields.into(), edit: Edit::Created, echo: false }
        }
        Change::Update { .. } => Step::Skip,
        Change::Delete { .. } => Step::Remove { echo: false },
    })
}

async fn log(store: &dyn Store, project: Uuid, after: i64) -> Vec<(String, i64, bool, Option<String>)> {
    let records = store.sync_log(project, "did:web:s", &LogPosition::at(after), i64::MAX, 100).await.unwrap();
    records.into_iter().map(|r| (r.id.to_string(), r.log.revision, r.log.deleted, r.log.source)).collect()
}

pub async fn every_write_takes_the_next_revision_and_the_log_keeps_one_entry_per_record(store: &dyn Store) {
    let project = project(store).await;
    store.connect_user(connection(project, "did:web:s", time::now())).await.unwrap();
    assert_eq!(store.sync_revision(project, "did:web:s").await.unwrap(), 0);

    // A batch: one revision for all of it, made by its client.
    let changes = [create("a", "first"), create("b", "second")];
    assert_eq!(
        store.sync_apply(batch(project, &changes, MAX), &put_all).await.unwrap(),
        Ok(Applied { revision: Some(1), stored: 2 })
    );
    assert_eq!(
        log(store, project, 0).await,
        [("a".into(), 1, false, Some("device-1".into())), ("b".into(), 1, false, Some("device-1".into()))]
    );
    let a = store.item(project, "did:web:s", "todos", &ItemId::parse("a").unwrap()).await.unwrap().unwrap();
    assert_eq!(a.value, json!({"title": "first"}));

    // REST writes are the server's, one revision each.
    let rest =
        store.create_item(item(project, "did:web:s", "todos", json!({"title": "rest"})), MAX).await.unwrap().unwrap();
    store
        .replace_item(&a, &json!({"title": "changed"}), &Edit::Updated(vec!["title".into()]), None, time::now())
        .await
        .unwrap();
    assert_eq!(store.sync_revision(project, "did:web:s").await.unwrap(), 3);
    assert_eq!(
        log(store, project, 1).await,
        [(rest.id.to_string(), 2, false, None), ("a".into(), 3, false, None)],
        "one entry per record, at its latest revision"
    );
    let entry = &store.sync_log(project, "did:web:s", &LogPosition::at(2), i64::MAX, 10).await.unwrap()[0];
    assert_eq!(entry.value, Some(json!({"title": "changed"})), "with the record's value");
    assert_eq!(entry.log.history.paths.keys().collect::<Vec<_>>(), ["title"]);

    // Deletes leave tombstones, with no value.
    store.delete_item(project, "did:web:s", "todos", &ItemId::parse("b").unwrap()).await.unwrap();
    let tombstone = store.sync_log(project, "did:web:s", &LogPosition::at(3), i64::MAX, 10).await.unwrap();
    assert_eq!((tombstone[0].id.as_str(), tombstone[0].log.deleted, tombstone[0].value.clone()), ("b", true, None));

    // Reading in pages, up to a revision.
    let first = store.sync_log(project, "did:web:s", &LogPosition::at(0), 3, 1).await.unwrap();
    let rest_of_it = store.sync_log(project, "did:web:s", &LogPosition::after(&first[0]), 3, 10).await.unwrap();
    assert_eq!((first.len(), rest_of_it.len()), (1, 1), "b's tombstone at 4 is after the end");

    // A refused batch changes nothing: not the data, not the revision.
    let refuse_second = |change: &Change, item: Option<&_>, log: Option<&_>| {
        if change.key().as_str() == "d" { Err("no".to_owned()) } else { put_all(change, item, log) }
    };
    let changes = [create("c", "x"), create("d", "y")];
    let refused = store.sync_apply(batch(project, &changes, MAX), &refuse_second).await.unwrap();
    assert_eq!(refused, Err(SyncRefusal::Invalid { index: 1, reason: "no".into() }));
    assert_eq!(store.item(project, "did:web:s", "todos", &ItemId::parse("c").unwrap()).await.unwrap(), None);
    assert_eq!(store.sync_revision(project, "did:web:s").await.unwrap(), 4);
    let full = store.sync_apply(batch(project, &changes, 3), &put_all).await.unwrap();
    assert_eq!(
        full,
        Err(SyncRefusal::TableFull { index: 1, table: "todos".into() }),
        "two records and one more fill 3"
    );
    assert_eq!(store.item_count(project, "did:web:s", "todos").await.unwrap(), 2);
    // Nothing to do takes no revision.
    let skip = [Change::Update { table: "todos".into(), key: ItemId::parse("a").unwrap(), mods: Map::new() }];
    assert_eq!(
        store.sync_apply(batch(project, &skip, MAX), &put_all).await.unwrap(),
        Ok(Applied { revision: None, stored: 0 })
    );
    assert_eq!(store.sync_revision(project, "did:web:s").await.unwrap(), 4);

    // Deleting the user leaves a tombstone for each record, and the revision goes on.
    store.delete_user(project, "did:web:s").await.unwrap();
    assert_eq!(store.sync_revision(project, "did:web:s").await.unwrap(), 5);
    let mut gone: Vec<_> =
        log(store, project, 4).await.into_iter().map(|(id, rev, deleted, _)| (id, rev, deleted)).collect();
    gone.sort();
    assert_eq!(gone, [(rest.id.to_string(), 5, true), ("a".into(), 5, true)]);
    // Back again: a sync write without the user connected is refused, then works.
    let changes = [create("e", "back")];
    assert!(matches!(store.sync_apply(batch(project, &changes, MAX), &put_all).await, Err(StoreError::NotFound)));
    store.connect_user(connection(project, "did:web:s", time::now())).await.unwrap();
    assert_eq!(
        store.sync_apply(batch(project, &changes, MAX), &put_all).await.unwrap(),
        Ok(Applied { revision: Some(6), stored: 1 })
    );
}

pub async fn client_identities_are_given_once_per_user(store: &dyn Store) {
    let project = project(store).await;
    let now = time::now();
    let given = store.sync_client(project, "did:web:s", None, "id-1", now).await.unwrap();
    assert_eq!(given, "id-1");
    assert_eq!(store.sync_client(project, "did:web:s", Some("id-1"), "id-2", now).await.unwrap(), "id-1", "kept");
    assert_eq!(
        store.sync_client(project, "did:web:t", Some("id-1"), "id-3", now).await.unwrap(),
        "id-3",
        "another user's is not taken"
    );
    assert_eq!(store.sync_client(project, "did:web:s", Some("made-up"), "id-4", now).await.unwrap(), "id-4");
}

pub async fn concurrent_writes_of_one_user_take_distinct_revisions(store: &dyn Store) {
    let project = project(store).await;
    store.connect_user(connection(project, "did:web:s", time::now())).await.unwrap();
    let writes = (0..8).map(|n| async move {
        let todo = item(project, "did:web:s", "todos", json!({"n": n}));
        store.create_item(todo, MAX).await.unwrap().unwrap();
    });
    futures_util::future::join_all(writes).await;
    assert_eq!(store.sync_revision(project, "did:web:s").await.unwrap(), 8);
    let mut revisions: Vec<i64> = log(store, project, 0).await.iter().map(|(_, rev, _, _)| *rev).collect();
    revisions.sort_unstable();
    assert_eq!(revisions, (1..=8).collect::<Vec<_>>(), "no two alike, none missing");
}
