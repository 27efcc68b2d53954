//! One function per behaviour; each panics when the store misbehaves.

use basic_admin_core::store::Store;

mod accounts;
mod oauth;
mod projects;
mod sync;
mod users;

pub use accounts::*;
pub use oauth::*;
pub use projects::*;
pub use sync::*;
pub use users::*;

pub async fn ping_answers(store: &dyn Store) {
    store.ping().await.expect("a migrated store answers ping");
}

pub async fn migrations_are_recorded(store: &dyn Store) {
    let applied = store.applied_migrations().await.unwrap();
    assert_eq!(applied, [1, 2, 3, 4, 5, 6, 7, 8, 9], "every migration is applied, in order");
}

pub async fn migrate_is_idempotent(store: &dyn Store) {
    let before = store.applied_migrations().await.unwrap();
    store.migrate().await.expect("migrating again succeeds");
    assert_eq!(store.applied_migrations().await.unwrap(), before);
}
