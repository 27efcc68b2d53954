//! The schema rules on a large schema: 50 tables of 20 fields.
//!
//! `cargo bench -p basic-admin-core --bench schema`

use basic_admin_core::schema;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

fn big_schema(version: i64) -> Value {
    let types = ["string", "boolean", "number", "json"];
    let mut tables = Map::new();
    for t in 0..50 {
        let mut fields = Map::new();
        for f in 0..20 {
            fields.insert(
                format!("field_{f}"),
                json!({"type": types[(t + f) % 4], "indexed": f % 3 == 0, "required": f % 5 == 0}),
            );
        }
        tables.insert(format!("table_{t}"), json!({"type": "collection", "fields": fields}));
    }
    json!({"project_id": "bench", "version": version, "tables": tables})
}

fn rules(c: &mut Criterion) {
    let old = big_schema(1);
    let mut new = big_schema(2);
    new["tables"]["table_7"]["fields"]["extra"] = json!({"type": "string"});
    new["tables"]["table_9"]["fields"]["field_3"]["required"] = json!(true);
    assert!(schema::validate(&old).valid && schema::verify_update(&old, &new).valid);

    let mut group = c.benchmark_group("schema_50x20");
    group.bench_function("validate", |b| b.iter(|| schema::validate(std::hint::black_box(&old))));
    group.bench_function("compare", |b| {
        b.iter(|| schema::compare(std::hint::black_box(&old), std::hint::black_box(&new)))
    });
    group.bench_function("verify_update", |b| {
        b.iter(|| schema::verify_update(std::hint::black_box(&old), std::hint::black_box(&new)))
    });
    group.finish();

    // Many names: the most tables a schema may have, and a body of the size
    // the server accepts (2 MiB) with one name per table, which is refused
    // by its size before any name is looked at.
    let mut many = c.benchmark_group("schema_many_names");
    let at_limit = tables_of_one_field(schema::MAX_TABLES);
    assert!(schema::validate(&at_limit).valid);
    many.bench_function("validate_500_tables", |b| b.iter(|| schema::validate(std::hint::black_box(&at_limit))));
    let over = tables_of_one_field(150_000);
    assert!(!schema::validate(&over).valid);
    many.bench_function("validate_150k_tables", |b| b.iter(|| schema::validate(std::hint::black_box(&over))));
    many.finish();
}

fn tables_of_one_field(count: usize) -> Value {
    let tables: Map<String, Value> =
        (0..count).map(|t| (format!("t{t}"), json!({"fields": {"f": {"type": "string"}}}))).collect();
    json!({"project_id": "bench", "version": 1, "tables": tables})
}

criterion_group!(benches, rules);
criterion_main!(benches);
