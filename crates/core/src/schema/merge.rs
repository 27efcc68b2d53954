//! A schema changed in part (`PATCH /project/{id}/schema`).

use serde_json::{Map, Value};

/// `base` with `patch` merged in: top-level keys set (null removes), tables
/// merged by name, and each table's fields merged by name (null removes).
pub fn merge_patch(base: &Value, patch: &Map<String, Value>) -> Value {
    let mut merged = base.as_object().cloned().unwrap_or_default();
    for (key, value) in patch {
        match (key.as_str(), value) {
            (_, Value::Null) => {
                merged.remove(key);
            }
            ("tables", Value::Object(tables)) => {
                let mut current = merged.get("tables").and_then(Value::as_object).cloned().unwrap_or_default();
                for (name, table) in tables {
                    match (table, current.get(name).and_then(Value::as_object)) {
                        (Value::Null, _) => {
                            current.remove(name);
                        }
                        (Value::Object(patch_table), Some(existing)) => {
                            let merged_table = merge_table(existing, patch_table);
                            current.insert(name.clone(), merged_table);
                        }
                        (other, _) => {
                            current.insert(name.clone(), other.clone());
                        }
                    }
                }
                merged.insert(key.clone(), Value::Object(current));
            }
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(merged)
}

fn merge_table(existing: &Map<String, Value>, patch: &Map<String, Value>) -> Value {
    let mut table = existing.clone();
    for (key, value) in patch {
        match (key.as_str(), value) {
            (_, Value::Null) => {
                table.remove(key);
            }
            ("fields", Value::Object(fields)) => {
                let mut current = table.get("fields").and_then(Value::as_object).cloned().unwrap_or_default();
                for (name, field) in fields {
                    if field.is_null() {
                        current.remove(name);
                    } else {
                        current.insert(name.clone(), field.clone());
                    }
                }
                table.insert(key.clone(), Value::Object(current));
            }
            _ => {
                table.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_and_fields_merge_by_name_and_null_removes() {
        let base = json!({"project_id": "p", "version": 1, "tables": {
            "todos": {"type": "collection", "fields": {"title": {"type": "string"}, "done": {"type": "boolean"}}},
            "notes": {"fields": {"body": {"type": "string"}}}}});
        let patch = json!({"version": 2, "tables": {
            "todos": {"fields": {"done": null, "due": {"type": "string"}}},
            "notes": null,
            "tags": {"fields": {"name": {"type": "string"}}}}});
        let merged = merge_patch(&base, patch.as_object().unwrap());
        assert_eq!(
            merged,
            json!({"project_id": "p", "version": 2, "tables": {
            "todos": {"type": "collection", "fields": {"title": {"type": "string"}, "due": {"type": "string"}}},
            "tags": {"fields": {"name": {"type": "string"}}}}})
        );
    }
}
