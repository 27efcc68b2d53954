use basic_admin_core::store::Store;
use basic_admin_store_conformance::{Fixture, conformance_suite};

async fn fresh_store(test: &str) -> Option<Fixture> {
    let _ = test;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = basic_admin_store_sqlite::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    Some(Fixture::new(store, dir))
}

conformance_suite!(fresh_store);
