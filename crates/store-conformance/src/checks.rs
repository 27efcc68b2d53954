//! One function per behaviour; each panics when the store misbehaves.

use basic_admin_core::store::Store;

pub async fn ping_answers(store: &dyn Store) {
    store.ping().await.expect("a migrated store answers ping");
}

pub async fn migrations_are_recorded(store: &dyn Store) {
    let applied = store.applied_migrations().await.unwrap();
    assert_eq!(
        applied.first(),
        Some(&1),
        "the initial migration is applied: {applied:?}"
    );
    assert!(
        applied.windows(2).all(|w| w[0] < w[1]),
        "in order: {applied:?}"
    );
}

pub async fn migrate_is_idempotent(store: &dyn Store) {
    let before = store.applied_migrations().await.unwrap();
    store.migrate().await.expect("migrating again succeeds");
    assert_eq!(store.applied_migrations().await.unwrap(), before);
}
