//! Migrations that change stored data, run again over data written after them.

use basic_admin_store_conformance::migrations;
use sqlx::Connection as _;

#[tokio::test]
async fn public_keys_are_narrowed_to_the_project_and_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = basic_admin_store_sqlite::open(&url).await.unwrap();
    basic_admin_core::store::Store::migrate(&store).await.unwrap();
    migrations::public_keys_are_narrowed(&store, async || {
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(include_str!("../migrations/0004_public_keys.sql")).execute(&mut connection).await.unwrap();
    })
    .await;
}
