use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn schema(version: i64, tables: Value) -> Value {
    json!({"project_id": "p1", "version": version, "tables": tables})
}

fn todos() -> Value {
    json!({"todos": {"type": "collection", "fields": {"title": {"type": "string", "indexed": true, "required": true}, "done": {"type": "boolean"}}}})
}

fn paths(v: &Validation) -> Vec<(&str, &str)> {
    v.errors.iter().map(|e| (e.instance_path.as_str(), e.message.as_str())).collect()
}

#[test]
fn valid_schemas() {
    assert!(validate(&schema(1, todos())).valid);
    assert!(validate(&empty_schema("p", 0)).valid);
    assert!(validate(&json!({"project_id": "p", "version": 0, "tables": {}, "namespace": "x", "extra": [1]})).valid);
    assert!(validate(&json!({"project_id": "p", "version": 2.0, "tables": {}})).valid, "2.0 is an integer in JSON");
    let custom = json!({"t": {"fields": {"f": {"type": "json", "default": {}, "note": "kept"}}, "origin": {"type": "reference", "project_id": "q", "table": "t", "version": 3}}});
    assert!(validate(&schema(1, custom)).valid);
}

#[test]
fn shape_errors_point_at_their_place() {
    let v = validate(&json!({"version": -1, "tables": []}));
    assert_eq!(
        paths(&v),
        [("", "must have required property 'project_id'"), ("/version", "must be >= 0"), ("/tables", "must be object")]
    );
    assert_eq!(paths(&validate(&json!([]))), [("", "must be object")]);
    let v = validate(&schema(1, json!({"t": {"type": "view", "fields": {"f": {"type": "date", "required": "yes"}}}})));
    assert_eq!(
        paths(&v),
        [
            ("/tables/t/type", "must be equal to one of the allowed values: collection"),
            ("/tables/t/fields/f/type", "must be equal to one of the allowed values: string, boolean, number, json"),
            ("/tables/t/fields/f/required", "must be boolean"),
        ]
    );
    let v = validate(&schema(1, json!({"t": {"name": 5}, "u": {"fields": {"f": {}}}})));
    assert_eq!(
        paths(&v),
        [
            ("/tables/t/name", "must be string"),
            ("/tables/t", "must have required property 'fields'"),
            ("/tables/u/fields/f", "must have required property 'type'"),
        ]
    );
    assert!(!validate(&json!({"project_id": "p", "version": 1.5, "tables": {}})).valid);
    assert!(!validate(&json!({"project_id": 1, "version": 1, "tables": {}})).valid);
}

#[test]
fn names_follow_the_pattern_are_not_id_and_unique_ignoring_case() {
    for bad in ["_t", "a-b", "", "é", "id", "ID", "iD", &"x".repeat(51)] {
        let v = validate(&schema(1, json!({bad: {"fields": {}}})));
        assert!(!v.valid, "table {bad:?}");
        let v = validate(&schema(1, json!({"t": {"fields": {bad: {"type": "string"}}}})));
        assert!(!v.valid, "field {bad:?}");
    }
    for good in ["a", "A1", "0", "t_1", "ident", &"x".repeat(50)] {
        assert!(validate(&schema(1, json!({good: {"fields": {good: {"type": "string"}}}}))).valid, "{good:?}");
    }
    assert!(!validate(&schema(1, json!({"Todos": {"fields": {}}, "todos": {"fields": {}}}))).valid);
    assert!(
        !validate(&schema(1, json!({"t": {"fields": {"Title": {"type": "string"}, "title": {"type": "string"}}}})))
            .valid
    );
}

#[test]
fn schemas_past_the_size_limits_are_refused_whole() {
    let tables = |count: usize, fields: usize| -> Value {
        let fields: serde_json::Map<String, Value> =
            (0..fields).map(|f| (format!("f{f}"), json!({"type": "string"}))).collect();
        (0..count)
            .map(|t| (format!("t{t}"), json!({"fields": fields.clone()})))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    assert!(validate(&schema(1, tables(MAX_TABLES, 1))).valid);
    assert!(validate(&schema(1, tables(1, MAX_FIELDS))).valid);
    let too_many = validate(&schema(1, tables(MAX_TABLES + 1, 1)));
    assert_eq!(paths(&too_many), [("/tables", "must NOT have more than 500 tables (it has 501)")]);
    let wide = validate(&schema(1, tables(1, MAX_FIELDS + 1)));
    assert_eq!(paths(&wide), [("/tables/t0/fields", "must NOT have more than 500 fields (it has 501)")]);
    assert!(size_problem(&json!("not a schema")).is_none());
}

#[test]
fn a_repeated_name_is_found_among_many() {
    // More names than a schema may hold: the name check itself stays linear.
    let mut fields: serde_json::Map<String, Value> =
        (0..20_000).map(|f| (format!("f{f}"), json!({"type": "string"}))).collect();
    fields.insert("F7".into(), json!({"type": "string"}));
    let table = json!({"fields": fields});
    let mut errors = super::validate::Errors(Vec::new());
    super::validate::check_names(
        &mut errors,
        &["tables", "t", "fields"],
        table["fields"].as_object().unwrap(),
        "field",
    );
    assert_eq!(errors.0.len(), 1);
    assert!(errors.0[0].message.contains("\"F7\" repeats another"));
}

#[test]
fn origins_without_a_type_are_references() {
    assert!(!validate(&schema(1, json!({"t": {"fields": {}, "origin": {}}}))).valid);
    assert!(!validate(&schema(1, json!({"t": {"fields": {}, "origin": {"type": "reference", "table": "x"}}}))).valid);
    assert!(
        !validate(&schema(
            1,
            json!({"t": {"fields": {}, "origin": {"type": "copy", "project_id": "q", "table": "x"}}})
        ))
        .valid
    );
    assert!(validate(&schema(1, json!({"t": {"fields": {}, "origin": {"project_id": "q", "table": "x"}}}))).valid);
}

fn kinds(c: &Comparison) -> Vec<String> {
    c.changes.iter().map(|c| c.kind.clone()).collect()
}

#[test]
fn every_change_in_the_reference_order() {
    let old = json!({"project_id": "p1", "version": 1, "namespace": "n", "meta": {}, "tables": {
        "gone": {"fields": {}},
        "todos": {"fields": {"title": {"type": "string", "required": true, "indexed": true}, "note": {"type": "string"}, "old": {"type": "number"}}}
    }});
    let new = json!({"project_id": "p1", "version": 2, "meta": {}, "tables": {
        "todos": {"fields": {"title": {"type": "json", "required": false, "label": "T"}, "note": {"type": "string"}, "fresh": {"type": "boolean"}}},
        "added": {"fields": {}}
    }});
    let c = compare(&old, &new);
    assert!(!c.valid);
    assert_eq!(
        kinds(&c),
        [
            "property_changed",       // version
            "property_changed",       // meta: objects are never ===
            "property_removed",       // namespace
            "table_removed",          // gone
            "field_type_changed",     // title string → json
            "field_required_changed", // title true → false
            "field_added",            // fresh
            "field_removed",          // old
            "table_added",            // added
            "field_property_changed", // title.required, again
            "field_property_added",   // title.label
            "field_property_removed", // title.indexed
        ]
    );
    let json = serde_json::to_value(&c.changes).unwrap();
    assert_eq!(json[0], json!({"type": "property_changed", "property": "version", "old": 1, "new": 2}));
    assert_eq!(json[2], json!({"type": "property_removed", "property": "namespace", "old": "n"}));
    assert_eq!(
        json[4],
        json!({"type": "field_type_changed", "table": "todos", "field": "title", "old": "string", "new": "json"})
    );
    assert_eq!(
        json[10],
        json!({"type": "field_property_added", "table": "todos", "field": "title", "property": "label", "new": "T"})
    );
}

#[test]
fn absent_and_false_required_differ() {
    let old = schema(1, json!({"t": {"fields": {"f": {"type": "string"}}}}));
    let new = schema(2, json!({"t": {"fields": {"f": {"type": "string", "required": false}}}}));
    let c = compare(&old, &new);
    let required: Vec<Value> =
        c.changes.iter().filter(|c| c.kind != "property_changed").map(|c| serde_json::to_value(c).unwrap()).collect();
    assert_eq!(
        required,
        [
            json!({"type": "field_required_changed", "table": "t", "field": "f", "new": false}),
            json!({"type": "field_property_added", "table": "t", "field": "f", "property": "required", "new": false}),
        ]
    );
}

#[test]
fn integer_like_names_come_first_as_in_javascript() {
    let old = schema(1, json!({}));
    let new = schema(1, json!({"b": {"fields": {}}, "10": {"fields": {}}, "a": {"fields": {}}, "2": {"fields": {}}}));
    let tables: Vec<_> = compare(&old, &new).changes.iter().map(|c| c.table.clone().unwrap()).collect();
    assert_eq!(tables, ["2", "10", "b", "a"]);
}

#[test]
fn updates_need_the_next_version_the_same_project_and_stable_types() {
    let v1 = schema(1, todos());
    let mut v2 = schema(2, todos());
    assert!(verify_update(&v1, &v2).valid);
    assert_eq!(verify_update(&v1, &v2).changes.unwrap().len(), 1, "just the version");

    let same = verify_update(&v1, &v1);
    assert!(!same.valid);
    assert_eq!(same.errors[0]["change"]["property"], "version");
    assert!(same.errors[0]["message"].as_str().unwrap().contains("Expected version:2, got version:1"));
    assert!(!verify_update(&v1, &schema(3, todos())).valid);

    v2["project_id"] = json!("other");
    let moved = verify_update(&v1, &v2);
    assert_eq!((moved.valid, moved.message.as_deref()), (false, Some("Invalid schema changes detected")));
    assert_eq!(moved.errors[0]["message"], "Cannot modify project_id property");

    let retyped = schema(
        2,
        json!({"todos": {"fields": {"title": {"type": "number", "required": true}, "done": {"type": "boolean"}}}}),
    );
    let verdict = verify_update(&v1, &retyped);
    assert!(!verdict.valid);
    assert_eq!(verdict.errors[0]["change"]["type"], "field_type_changed");

    // Tables and fields come and go; required and indexed change freely.
    let reshaped = schema(2, json!({"notes": {"fields": {"body": {"type": "string", "required": true}}}}));
    assert!(verify_update(&v1, &reshaped).valid);

    let broken = verify_update(&v1, &json!({"version": 2}));
    assert_eq!((broken.valid, broken.message.as_deref()), (false, Some("schemas are invalid")));
    assert!(broken.errors.iter().all(|e| e["instancePath"].is_string() && e["message"].is_string()));
}

#[test]
fn a_whole_value_keeps_its_required_fields() {
    let schema = json!({"project_id": "p", "version": 1, "tables": {"todos": {"fields": {
        "title": {"type": "string", "required": true}, "done": {"type": "boolean"}}}}});
    let value = |v: Value| v.as_object().unwrap().clone();
    assert!(check_required(&schema, "todos", &value(json!({"title": "a", "gone": 1}))).valid, "stale fields are kept");
    let without = check_required(&schema, "todos", &value(json!({"done": true})));
    assert!(!without.valid);
    assert_eq!(without.errors[0]["message"], "Field title is required");
    assert!(!check_required(&schema, "nowhere", &value(json!({}))).valid);
}

#[test]
fn items_fit_their_table() {
    let s = schema(
        1,
        json!({"todos": {"fields": {
            "title": {"type": "string", "required": true}, "done": {"type": "boolean"}, "n": {"type": "number"}, "meta": {"type": "json"}
        }}}),
    );
    let item = |v: Value| v.as_object().unwrap().clone();
    let ok = |v: Value, required: bool| validate_data(&s, "todos", &item(v), required);
    assert!(ok(json!({"title": "a", "done": false, "n": 0, "meta": {"x": 1}}), true).valid);
    assert!(ok(json!({"title": "a", "meta": [1]}), true).valid, "arrays are json");
    assert!(ok(json!({"title": "a", "meta": null}), true).valid, "null is json");
    assert_eq!(ok(json!({"title": "a", "extra": 1}), true).message.as_deref(), Some("Invalid field"));
    assert_eq!(ok(json!({"title": 5}), true).errors[0]["message"], "Field title should be type string, got number");
    assert_eq!(ok(json!({"done": true}), true).message.as_deref(), Some("Required field missing"));
    assert!(ok(json!({"done": true}), false).valid, "patches skip the required check");
    for falsy in [json!(""), json!(null)] {
        assert!(!ok(json!({"title": falsy}), true).valid, "falsy values fail a required check");
    }
    assert_eq!(validate_data(&s, "nope", &item(json!({})), true).message.as_deref(), Some("Table not found"));
    assert_eq!(
        validate_data(&json!({}), "todos", &item(json!({})), true).message.as_deref(),
        Some("Schema is invalid")
    );
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}".prop_filter("not id", |n| n != "id")
}

fn field() -> impl Strategy<Value = Value> {
    (prop::sample::select(vec!["string", "boolean", "number", "json"]), any::<Option<bool>>(), any::<Option<bool>>())
        .prop_map(|(t, required, indexed)| {
            let mut f = json!({"type": t});
            if let Some(r) = required {
                f["required"] = json!(r);
            }
            if let Some(i) = indexed {
                f["indexed"] = json!(i);
            }
            f
        })
}

fn valid_schema() -> impl Strategy<Value = Value> {
    let table = prop::collection::btree_map(name(), field(), 0..5)
        .prop_map(|fields| json!({"type": "collection", "fields": fields}));
    (prop::collection::btree_map(name(), table, 0..5), 0..100i64)
        .prop_map(|(tables, version)| schema(version, json!(tables)))
}

proptest! {
    #[test]
    fn generated_schemas_are_valid(s in valid_schema()) {
        prop_assert!(validate(&s).valid, "{:?}", validate(&s).errors);
    }

    #[test]
    fn a_schema_does_not_differ_from_itself(s in valid_schema()) {
        // Only object-valued top-level properties would, and these have none.
        prop_assert_eq!(compare(&s, &s).changes, vec![]);
    }

    #[test]
    fn bumping_the_version_alone_is_a_valid_update(s in valid_schema()) {
        let mut next = s.clone();
        next["version"] = json!(s["version"].as_i64().unwrap() + 1);
        let verdict = verify_update(&s, &next);
        prop_assert!(verdict.valid);
        prop_assert_eq!(verdict.changes.unwrap().len(), 1);
    }

    #[test]
    fn changing_a_field_type_is_never_a_valid_update(s in valid_schema(), pick in any::<prop::sample::Index>()) {
        let mut next = s.clone();
        next["version"] = json!(s["version"].as_i64().unwrap() + 1);
        let fields: Vec<(String, String)> = s["tables"].as_object().unwrap().iter()
            .flat_map(|(t, table)| table["fields"].as_object().unwrap().keys().map(move |f| (t.clone(), f.clone())))
            .collect();
        prop_assume!(!fields.is_empty());
        let (t, f) = pick.get(&fields).clone();
        let before = s["tables"][&t]["fields"][&f]["type"].as_str().unwrap().to_owned();
        let after = if before == "string" { "number" } else { "string" };
        next["tables"][&t]["fields"][&f]["type"] = json!(after);
        prop_assert!(!verify_update(&s, &next).valid);
    }

    #[test]
    fn validation_never_panics(v in any::<Option<bool>>().prop_map(|b| json!(b))) {
        let _ = validate(&v);
    }
}
