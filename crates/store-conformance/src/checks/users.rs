use basic_admin_core::model::ItemId;
use basic_admin_core::store::{Connection, Constraint, IdentityKey, Item, ItemCursor, Store, StoreError};
use basic_admin_core::sync::Edit;
use basic_admin_core::time::{self, Timestamp};
use chrono::Duration;
use serde_json::{Value, json};
use uuid::Uuid;

use super::projects::{account, new_project, new_team};

/// A project to put users in.
pub(super) async fn project(store: &dyn Store) -> Uuid {
    let owner = account(store).await;
    let team = new_team(owner, &format!("t-{}", Uuid::new_v4().simple()));
    store.create_team(team.clone()).await.unwrap();
    store.create_project(new_project(team.id, &format!("p-{}", Uuid::new_v4().simple()))).await.unwrap().id
}

pub(super) fn connection(project_id: Uuid, did: &str, at: Timestamp) -> Connection {
    Connection {
        id: Uuid::new_v4(),
        project_id,
        user_did: did.into(),
        pds_url: "https://pds.example".into(),
        account_id: None,
        scopes: "openid profile".into(),
        at,
    }
}

pub async fn users_connect_once_and_count_activity_per_day(store: &dyn Store) {
    let project = project(store).await;
    let today = time::now().date_naive();
    let two_days_ago = today - Duration::days(2);
    let start = two_days_ago.and_hms_opt(10, 0, 0).unwrap().and_utc();
    let first = store.connect_user(connection(project, "did:web:a", start)).await.unwrap();
    assert_eq!((first.status.as_str(), first.meta.clone(), first.last_seen_at), ("active", json!({}), start));
    let later = start + Duration::hours(1);
    let again = Connection { scopes: "openid profile email".into(), ..connection(project, "did:web:a", later) };
    let refreshed = store.connect_user(again).await.unwrap();
    assert_eq!(refreshed.id, first.id, "one user per DID");
    assert_eq!(
        (refreshed.created_at, refreshed.last_seen_at, refreshed.scopes.as_str()),
        (start, later, "openid profile email")
    );
    store.connect_user(connection(project, "did:web:b", time::now())).await.unwrap();
    assert_eq!(store.user_count(project).await.unwrap(), 2);
    let users = store.project_users(project).await.unwrap();
    assert_eq!(users.iter().map(|u| u.user_did.as_str()).collect::<Vec<_>>(), ["did:web:a", "did:web:b"]);
    assert_eq!(store.project_user(project, "did:web:b").await.unwrap().unwrap().user_did, "did:web:b");
    assert_eq!(store.project_user(project, "did:web:z").await.unwrap(), None);

    store.record_activity(project, "did:web:a", today).await.unwrap();
    store.record_activity(project, "did:web:a", today).await.unwrap();
    assert!(matches!(store.record_activity(project, "did:web:nobody", today).await, Err(StoreError::NotFound)));
    let days = store.daily_active(project, today - Duration::days(29)).await.unwrap();
    assert_eq!(days, [(two_days_ago, 1), (today, 2)]);
    assert_eq!(store.daily_active(project, today).await.unwrap(), [(today, 2)]);
    assert_eq!(store.active_users(project, today).await.unwrap(), 2);
    assert_eq!(store.active_users(project, today - Duration::days(6)).await.unwrap(), 2);
    assert_eq!((first.account_name, first.account_email), (None, None));
    let account_id = account(store).await;
    let with_account = Connection { account_id: Some(account_id), ..connection(project, "did:web:c", time::now()) };
    let connected = store.connect_user(with_account).await.unwrap();
    let account = store.account_by_id(account_id).await.unwrap().unwrap();
    assert_eq!((connected.account_name, connected.account_email), (Some(account.name), Some(account.email)));
    let other = self::project(store).await;
    assert_eq!(
        (store.user_count(other).await.unwrap(), store.active_users(other, two_days_ago).await.unwrap()),
        (0, 0)
    );
}

pub async fn user_meta_changes_only_if_unchanged(store: &dyn Store) {
    let project = project(store).await;
    let user = store.connect_user(connection(project, "did:web:m", time::now())).await.unwrap();
    let at = user.updated_at + Duration::milliseconds(5);
    let changed = store.update_user_meta(project, "did:web:m", &json!({"plan": "pro"}), user.updated_at, at).await;
    let changed = changed.unwrap();
    assert_eq!((changed.meta.clone(), changed.updated_at), (json!({"plan": "pro"}), at));
    let stale = store.update_user_meta(project, "did:web:m", &json!({"plan": "free"}), user.updated_at, at).await;
    assert!(matches!(stale, Err(StoreError::Stale)), "{stale:?}");
    let gone = store.update_user_meta(project, "did:web:x", &json!({}), at, at).await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
}

/// Room enough for every check's records.
pub(super) const MAX: u64 = 100;

pub(super) fn item(project_id: Uuid, did: &str, table: &str, value: serde_json::Value) -> Item {
    item_at(project_id, did, table, value, ItemId::generate(), time::now())
}

fn item_at(project_id: Uuid, did: &str, table: &str, value: serde_json::Value, id: ItemId, now: Timestamp) -> Item {
    Item { id, seq: 0, project_id, user_did: did.into(), table: table.into(), value, created_at: now, updated_at: now }
}

pub async fn items_belong_to_a_user_and_a_table_in_order(store: &dyn Store) {
    let project = project(store).await;
    store.connect_user(connection(project, "did:web:i", time::now())).await.unwrap();
    store.connect_user(connection(project, "did:web:j", time::now())).await.unwrap();
    let orphan = store.create_item(item(project, "did:web:nobody", "todos", json!({})), MAX).await;
    assert!(matches!(orphan, Err(StoreError::NotFound)), "items need a user: {orphan:?}");
    let mut made = Vec::new();
    let start = time::now();
    for n in 0..5 {
        // Ids of the client's choosing, in no order of their own.
        let id = ItemId::parse(&format!("{}-todo", 9 - n)).unwrap();
        let at = start + Duration::milliseconds(n);
        let todo = item_at(project, "did:web:i", "todos", json!({"title": format!("t{n}"), "done": false}), id, at);
        let stored = store.create_item(todo.clone(), MAX).await.unwrap().expect("room");
        assert_eq!(stored, Item { seq: n + 1, ..todo }, "the store numbers a table's items from 1");
        made.push(stored);
    }
    store.create_item(item(project, "did:web:i", "notes", json!({"body": "n"})), MAX).await.unwrap();
    // Another user may choose the same id; one user's table may not hold it twice.
    let same_id = item_at(project, "did:web:j", "todos", json!({"title": "theirs"}), made[0].id.clone(), start);
    store.create_item(same_id, MAX).await.unwrap();
    let twice =
        store.create_item(item_at(project, "did:web:i", "todos", json!({}), made[0].id.clone(), start), MAX).await;
    assert!(matches!(twice, Err(StoreError::Unique(Constraint::Item))), "{twice:?}");
    assert_eq!(store.item_count(project, "did:web:i", "todos").await.unwrap(), 5, "a refused create counts nothing");
    // A full table takes no more, and says so.
    let full = store.create_item(item(project, "did:web:i", "todos", json!({})), 5).await.unwrap();
    assert_eq!(full, None);
    assert_eq!(listed(store, project, "did:web:i", "todos", None, 100).await.len(), 5);
    assert_eq!(store.item_count(project, "did:web:j", "todos").await.unwrap(), 1);
    // Made in the same instant, they list in the order they were made, whatever their ids.
    let (a, b) = (ItemId::parse("tie-a").unwrap(), ItemId::parse("tie-b").unwrap());
    store.create_item(item_at(project, "did:web:j", "ties", json!({}), b.clone(), start), MAX).await.unwrap();
    store.create_item(item_at(project, "did:web:j", "ties", json!({}), a.clone(), start), MAX).await.unwrap();
    let ties = store.item_texts(project, "did:web:j", "ties", None, 10).await.unwrap();
    assert_eq!(ties.iter().map(|i| i.id.clone()).collect::<Vec<_>>(), [b.clone(), a.clone()]);
    let after_b = listed(store, project, "did:web:j", "ties", Some(&ItemCursor::after(&ties[0])), 10).await;
    assert_eq!(after_b.len(), 1);
    assert_eq!(after_b[0].0, a);

    let all = listed(store, project, "did:web:i", "todos", None, 100).await;
    assert_eq!(all, as_listed(&made), "one user's table, in creation order, values as stored");
    let page = store.item_texts(project, "did:web:i", "todos", None, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|t| (t.id.clone(), t.seq)).collect::<Vec<_>>(),
        [0, 1].map(|n| (made[n].id.clone(), made[n].seq))
    );
    let next = listed(store, project, "did:web:i", "todos", Some(&ItemCursor::after(&page[1])), 2).await;
    assert_eq!(next, as_listed(&made[2..4]));
    assert_eq!(store.item(project, "did:web:i", "todos", &made[0].id).await.unwrap().as_ref(), Some(&made[0]));
    let theirs = store.item(project, "did:web:j", "todos", &made[0].id).await.unwrap().unwrap();
    assert_eq!(theirs.value, json!({"title": "theirs"}), "another user's, with the same id");
    assert_eq!(store.item(project, "did:web:i", "notes", &made[0].id).await.unwrap(), None, "another table's");

    let at = made[0].updated_at + Duration::milliseconds(3);
    let replaced = store
        .replace_item(&made[0], &json!({"title": "new"}), &Edit::Created, Some(made[0].updated_at), at)
        .await
        .unwrap();
    assert_eq!(
        (replaced.value.clone(), replaced.updated_at, replaced.created_at),
        (json!({"title": "new"}), at, made[0].created_at)
    );
    let stale =
        store.replace_item(&made[0], &json!({"title": "old"}), &Edit::Created, Some(made[0].updated_at), at).await;
    assert!(matches!(stale, Err(StoreError::Stale)), "{stale:?}");
    store.replace_item(&made[0], &json!({"title": "any"}), &Edit::Created, None, at).await.unwrap();

    store.delete_item(project, "did:web:i", "todos", &made[1].id).await.unwrap();
    assert!(matches!(store.delete_item(project, "did:web:i", "todos", &made[1].id).await, Err(StoreError::NotFound)));
    assert_eq!(listed(store, project, "did:web:i", "todos", None, 100).await.len(), 4);
    assert_eq!(store.item_count(project, "did:web:i", "todos").await.unwrap(), 4, "the count follows deletes");
    // Room again after a delete; the next one is numbered after every earlier one.
    let again = store.create_item(item(project, "did:web:i", "todos", json!({})), 5).await.unwrap().expect("room");
    assert_eq!(again.seq, 6);

    // Deleting a user deletes their data, and only theirs.
    store.delete_user(project, "did:web:i").await.unwrap();
    assert!(matches!(store.delete_user(project, "did:web:i").await, Err(StoreError::NotFound)));
    assert!(listed(store, project, "did:web:i", "todos", None, 100).await.is_empty());
    assert!(listed(store, project, "did:web:i", "notes", None, 100).await.is_empty());
    assert_eq!(listed(store, project, "did:web:j", "todos", None, 100).await.len(), 1);
    store.connect_user(connection(project, "did:web:i", time::now())).await.unwrap();
    assert!(listed(store, project, "did:web:i", "todos", None, 100).await.is_empty(), "a new start");
}

/// One table's records as a list reads them: id, number and the value
/// parsed from its stored text.
async fn listed(
    store: &dyn Store,
    project: Uuid,
    user: &str,
    table: &str,
    after: Option<&ItemCursor>,
    limit: u32,
) -> Vec<(ItemId, i64, Value)> {
    let texts = store.item_texts(project, user, table, after, limit).await.unwrap();
    texts.into_iter().map(|t| (t.id, t.seq, serde_json::from_str(&t.value).expect("stored text is JSON"))).collect()
}

fn as_listed(items: &[Item]) -> Vec<(ItemId, i64, Value)> {
    items.iter().map(|i| (i.id.clone(), i.seq, i.value.clone())).collect()
}

pub async fn identity_keys_are_made_once_per_project(store: &dyn Store) {
    let project = project(store).await;
    assert_eq!(store.identity_key(project).await.unwrap(), None);
    let key = |byte: u8| IdentityKey {
        project_id: project,
        public_key: vec![byte; 32],
        sealed_private: vec![byte, 0, 255],
        created_at: time::now(),
    };
    let first = store.create_identity_key(key(1)).await.unwrap();
    assert_eq!(first.public_key, vec![1; 32]);
    let second = store.create_identity_key(key(2)).await.unwrap();
    assert_eq!(second, first, "the first key stays");
    assert_eq!(store.identity_key(project).await.unwrap(), Some(first));
}

pub async fn uploads_are_recorded_with_the_profile(store: &dyn Store) {
    use basic_admin_core::store::Upload;
    let project = project(store).await;
    let upload = |name: &str| Upload {
        project_id: project,
        kind: "background".into(),
        object_key: name.into(),
        content_type: "image/png".into(),
        size: 10,
        created_at: time::now(),
    };
    let path = ["styles", "background_url"];
    assert_eq!(store.record_upload(upload("a"), &path, "https://f/a").await.unwrap(), None);
    let replaced = store.record_upload(upload("b"), &path, "https://f/b").await.unwrap();
    assert_eq!(replaced.map(|u| u.object_key), Some("a".into()), "the image replaced");
    let profile = store.project_by_id(project).await.unwrap().unwrap().profile;
    assert_eq!(profile["styles"]["background_url"], "https://f/b");
    assert_eq!(profile["icon_url"], "https://x/y.png", "other keys stay");
    assert_eq!(store.uploads(project).await.unwrap().iter().map(|u| u.object_key.as_str()).collect::<Vec<_>>(), ["b"]);
    assert!(store.upload_keys().await.unwrap().contains(&"b".to_owned()));

    let forgotten = store.forget_upload(project, "background", &path).await.unwrap();
    assert_eq!(forgotten.map(|u| u.object_key), Some("b".into()));
    assert_eq!(store.forget_upload(project, "background", &path).await.unwrap(), None);
    let profile = store.project_by_id(project).await.unwrap().unwrap().profile;
    assert!(profile["styles"].get("background_url").is_none() && store.uploads(project).await.unwrap().is_empty());
    let gone = store.record_upload(Upload { project_id: Uuid::new_v4(), ..upload("c") }, &path, "https://f/c").await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
    store.record_upload(upload("d"), &path, "https://f/d").await.unwrap();
    store.delete_project(project).await.unwrap();
    assert!(store.uploads(project).await.unwrap().is_empty(), "deleted with the project");
}
