//! Migrations that change stored data, run again over data written after them.

use basic_admin_store_conformance::migrations;
use basic_admin_store_postgres::testing::TestSchema;
use sqlx::Connection as _;

#[tokio::test]
async fn public_keys_are_narrowed_to_the_project_and_its_schema() {
    let Some(schema) = TestSchema::create("migrations::public_keys").await else { return };
    let store = basic_admin_store_postgres::open(&schema.url(), 2).await.unwrap();
    basic_admin_core::store::Store::migrate(&store).await.unwrap();
    migrations::public_keys_are_narrowed(&store, async || {
        let mut connection = sqlx::PgConnection::connect(&schema.url()).await.unwrap();
        sqlx::raw_sql(include_str!("../migrations/0004_public_keys.sql")).execute(&mut connection).await.unwrap();
    })
    .await;
}
