//! Group commit: the same writes one at a time and from many tasks at once.
//! Each write is one small transaction (an insert and its commit); with
//! writers queued, the commits are shared and the rate goes up.

use std::sync::Arc;

use basic_admin_store_sql::{Db as _, Query};
use basic_admin_store_sqlite::SqliteStore;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Writes measured in one iteration.
const WRITES: usize = 256;

async fn write(store: &SqliteStore, n: usize) {
    let mut tx = store.db().begin().await.expect("a turn");
    tx.execute(Query::dynamic("INSERT INTO bench (payload) VALUES ($1)".into()).text(format!("write {n}")))
        .await
        .expect("inserted");
    tx.commit().await.expect("committed");
}

fn batch_writer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Arc::new(runtime.block_on(async {
        let store = basic_admin_store_sqlite::open(&url).await.unwrap();
        store
            .db()
            .execute(Query::dynamic("CREATE TABLE bench (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)".into()))
            .await
            .unwrap();
        store
    }));
    let mut group = c.benchmark_group("batch writer");
    group.throughput(Throughput::Elements(WRITES as u64));
    for writers in [1, 8, 32] {
        group.bench_with_input(BenchmarkId::new("writers", writers), &writers, |b, &writers| {
            b.to_async(&runtime).iter(|| {
                let store = store.clone();
                async move {
                    let tasks: Vec<_> = (0..writers)
                        .map(|w| {
                            let store = store.clone();
                            tokio::spawn(async move {
                                for n in (w..WRITES).step_by(writers) {
                                    write(&store, n).await;
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                }
            });
        });
    }
    group.finish();
    let stats = store.db().batch_stats();
    println!(
        "{} writes in {} commits ({:.1} a commit)",
        stats.writes,
        stats.commits,
        stats.writes as f64 / stats.commits as f64
    );
}

criterion_group!(benches, batch_writer);
criterion_main!(benches);
