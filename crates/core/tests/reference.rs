//! Our schema rules against the published reference library
//! (`@basictech/schema` 0.5.0, run by `reference/schema/judge.mjs` in Node):
//! random schemas, edits and items through both, verdicts compared. Where the
//! current rules (0.7) differ from 0.5.0 — the name pattern, the reserved
//! `id`, names unique ignoring case, and the version that must go up by one —
//! the test expects the current verdict.
//!
//! Needs Node.js and `npm ci --prefix reference/schema`; skipped (and said
//! so) without them, unless `REFERENCE_TESTS=1` makes it mandatory.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use basic_admin_core::schema;
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

const CASES: usize = 400;

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reference/schema")
}

/// The reference's verdicts, one per case.
fn judge(cases: &[Value]) -> Option<Vec<Value>> {
    let dir = reference_dir();
    let ready =
        dir.join("node_modules/@basictech/schema").exists() && Command::new("node").arg("--version").output().is_ok();
    if !ready {
        assert!(
            std::env::var("REFERENCE_TESTS").as_deref() != Ok("1"),
            "REFERENCE_TESTS=1 but Node.js or reference/schema/node_modules is missing"
        );
        let _ = writeln!(std::io::stderr(), "SKIPPED: reference comparison (run npm ci --prefix reference/schema)");
        return None;
    }
    let mut child = Command::new("node")
        .arg("judge.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node starts");
    let input: String = cases.iter().map(|c| format!("{c}\n")).collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    let verdicts: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(verdicts.len(), cases.len());
    Some(verdicts)
}

/// Names both versions accept, from a small pool so that schemas overlap.
fn common_name() -> impl Strategy<Value = String> + Clone {
    prop::sample::select(vec!["todos", "notes", "a1", "Z", "10", "2", "title", "done", "x_y"]).prop_map(str::to_owned)
}

/// Also names only the current rules refuse.
fn any_name() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        6 => common_name(),
        1 => prop::sample::select(vec!["_hidden", "id", "ID", "Todos", "TITLE", "bad-name", ""]).prop_map(str::to_owned),
    ]
}

fn field() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["string", "boolean", "number", "json", "date"]),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec![json!("label"), json!(3), json!({"k": 1}), json!([1, "a"])])),
    )
        .prop_map(|(t, required, indexed, extra)| {
            let mut f = json!({"type": t});
            if let Some(r) = required {
                f["required"] = json!(r);
            }
            if let Some(i) = indexed {
                f["indexed"] = json!(i);
            }
            if let Some(e) = extra {
                f["label"] = e;
            }
            f
        })
}

fn schema_with(names: impl Strategy<Value = String> + Clone) -> impl Strategy<Value = Value> {
    let table = (prop::collection::vec((names.clone(), field()), 0..4), any::<bool>()).prop_map(|(fields, typed)| {
        let fields: serde_json::Map<String, Value> = fields.into_iter().collect();
        let mut t = json!({"fields": fields});
        if typed {
            t["type"] = json!("collection");
        }
        t
    });
    (
        prop::collection::vec((names, table), 0..4),
        0..4i64,
        prop::sample::select(vec!["p", "p", "p", "q"]),
        any::<bool>(),
    )
        .prop_map(|(tables, version, project, meta)| {
            let tables: serde_json::Map<String, Value> = tables.into_iter().collect();
            let mut s = json!({"project_id": project, "version": version, "tables": tables});
            if meta {
                s["namespace"] = json!("ns");
            }
            s
        })
}

fn sample<T: std::fmt::Debug>(runner: &mut TestRunner, strategy: &impl Strategy<Value = T>) -> T {
    strategy.new_tree(runner).expect("a value").current()
}

/// A name only the current rules refuse, anywhere in the schema, or two
/// names that are the same ignoring case.
fn current_rules_only(schema: &Value) -> bool {
    let refused = |name: &str| name.starts_with('_') || name.eq_ignore_ascii_case("id");
    let names_clash = |map: &serde_json::Map<String, Value>| {
        let mut seen: Vec<String> = map.keys().map(|k| k.to_ascii_lowercase()).collect();
        seen.sort();
        seen.windows(2).any(|w| w[0] == w[1]) || map.keys().any(|k| refused(k))
    };
    let Some(tables) = schema["tables"].as_object() else { return false };
    names_clash(tables) || tables.values().any(|t| t["fields"].as_object().is_some_and(names_clash))
}

#[test]
fn verdicts_match_the_reference() {
    let mut runner = TestRunner::deterministic();
    let any_schema = schema_with(any_name());
    let common_schema = schema_with(common_name());
    let mut cases = Vec::new();
    for _ in 0..CASES {
        cases.push(json!({"op": "validate", "schema": sample(&mut runner, &any_schema)}));
        let (old, new) = (sample(&mut runner, &common_schema), sample(&mut runner, &common_schema));
        cases.push(json!({"op": "compare", "old": old, "new": new}));
        let mut next = old.clone();
        if sample(&mut runner, &any::<bool>()) {
            next = new.clone();
        }
        next["version"] = json!(old["version"].as_i64().unwrap() + sample(&mut runner, &(0..3i64)));
        cases.push(json!({"op": "verify", "old": old, "new": next}));
        let item: serde_json::Map<String, Value> = sample(
            &mut runner,
            &prop::collection::vec(
                (
                    common_name(),
                    prop::sample::select(vec![
                        json!(""),
                        json!("x"),
                        json!(0),
                        json!(2),
                        json!(true),
                        json!(false),
                        json!(null),
                        json!({}),
                        json!([]),
                    ]),
                ),
                0..4,
            ),
        )
        .into_iter()
        .collect();
        let table = sample(&mut runner, &common_name());
        let required = sample(&mut runner, &any::<bool>());
        cases.push(json!({"op": "data", "schema": old, "table": table, "item": item, "required": required}));
    }
    let Some(verdicts) = judge(&cases) else { return };

    let mut mismatches = Vec::new();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for (case, reference) in cases.iter().zip(&verdicts) {
        assert!(reference.get("threw").is_none(), "the reference threw on {case}: {reference}");
        let op = case["op"].as_str().unwrap();
        *counts.entry(op).or_default() += 1;
        let (ours, expected) = match op {
            "validate" => {
                let s = &case["schema"];
                (json!(schema::validate(s).valid), json!(reference["valid"] == true && !current_rules_only(s)))
            }
            "compare" => (json!(schema::compare(&case["old"], &case["new"])), reference.clone()),
            "verify" => {
                let (old, new) = (&case["old"], &case["new"]);
                let version_ok = new["version"].as_i64() == old["version"].as_i64().map(|v| v + 1);
                let expected =
                    reference["valid"] == true && version_ok && !current_rules_only(old) && !current_rules_only(new);
                (json!(schema::verify_update(old, new).valid), json!(expected))
            }
            _ => {
                let verdict = schema::validate_data(
                    &case["schema"],
                    case["table"].as_str().unwrap(),
                    case["item"].as_object().unwrap(),
                    case["required"] == true,
                );
                (json!({"valid": verdict.valid, "message": verdict.message}), reference.clone())
            }
        };
        if ours != expected {
            mismatches.push(format!("{case}\n  ours:      {ours}\n  reference: {expected}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} verdicts differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches[..mismatches.len().min(5)].join("\n")
    );
    let _ = writeln!(std::io::stderr(), "reference comparison: {counts:?} cases, all agree");
}
