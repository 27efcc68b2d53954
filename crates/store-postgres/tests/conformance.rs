use basic_admin_core::store::Store;
use basic_admin_store_conformance::{Fixture, conformance_suite};
use basic_admin_store_postgres::testing::TestSchema;

async fn fresh_store(test: &str) -> Option<Fixture> {
    let schema = TestSchema::create(test).await?;
    let store = basic_admin_store_postgres::open(&schema.url(), 4).await.unwrap();
    store.migrate().await.unwrap();
    Some(Fixture::new(store, schema))
}

conformance_suite!(fresh_store);
