//! Basic schemas: the tables of one app, and the rules for them.
//!
//! The verdicts are those of the reference implementation that the official
//! SDKs and CLI use (`@basictech/schema`, 0.7 line), including its quirks:
//! object-valued top-level properties always count as changed, a change of
//! `required` is reported twice, falsy values fail a required check. Object
//! keys are visited in JavaScript's order (integer-like keys first), so that
//! change lists come out in the reference's order.

mod compare;
mod data;
mod merge;
mod validate;

pub use compare::{Change, Comparison, compare};
pub use data::{DataVerdict, check_item, check_required, validate_data};
pub use merge::merge_patch;
pub use validate::{MAX_FIELDS, MAX_TABLES, SchemaError, Validation, size_problem, validate};

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The schema a project starts from: table `foo` with a required string `bar`.
pub fn empty_schema(project_id: &str, version: i64) -> Value {
    json!({
        "project_id": project_id,
        "version": version,
        "tables": {"foo": {"name": "foo", "type": "collection", "fields": {"bar": {"type": "string", "required": true}}}}
    })
}

/// The verdict on replacing `old` with `new`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateVerdict {
    pub valid: bool,
    /// The changes, when the update is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Change>>,
    pub errors: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Whether `new` may replace `old`: both valid, the version one more, the
/// project the same, no field's type changed.
pub fn verify_update(old: &Value, new: &Value) -> UpdateVerdict {
    let (old_valid, new_valid) = (validate(old), validate(new));
    if !old_valid.valid || !new_valid.valid {
        let errors = old_valid.errors.iter().chain(&new_valid.errors).map(|e| json!(e)).collect();
        return UpdateVerdict { valid: false, changes: None, errors, message: Some("schemas are invalid".into()) };
    }
    let (old_version, new_version) = (as_i64(&old["version"]), as_i64(&new["version"]));
    if new_version != old_version.map(|v| v + 1) {
        let change = Change::property_changed("version", old["version"].clone(), new["version"].clone());
        let expected = old_version.map_or_else(|| "?".to_owned(), |v| (v + 1).to_string());
        let message =
            format!("Version must be incremented by 1. Expected version:{expected}, got version:{}", new["version"]);
        return UpdateVerdict {
            valid: false,
            changes: None,
            errors: vec![json!({"change": change, "message": message})],
            message: Some("Invalid schema changes detected".into()),
        };
    }
    let changes = compare(old, new).changes;
    let mut errors = Vec::new();
    for change in &changes {
        let message = match change.kind.as_str() {
            "property_changed" if change.property.as_deref() == Some("project_id") => {
                Some("Cannot modify project_id property".to_owned())
            }
            "field_type_changed" => Some(format!(
                "Cannot change type of field \"{}\" from {} to {}",
                change.field.as_deref().unwrap_or_default(),
                change.old.as_ref().map(Value::to_string).unwrap_or_default(),
                change.new.as_ref().map(Value::to_string).unwrap_or_default(),
            )),
            _ => None,
        };
        if let Some(message) = message {
            errors.push(json!({"change": change, "message": message}));
        }
    }
    if errors.is_empty() {
        UpdateVerdict { valid: true, changes: Some(changes), errors, message: None }
    } else {
        UpdateVerdict { valid: false, changes: None, errors, message: Some("Invalid schema changes detected".into()) }
    }
}

/// A JSON number that is a whole number (`3` or `3.0`), as JavaScript sees it.
pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        }
        _ => None,
    }
}

/// The keys of an object in the order JavaScript visits them: keys that are
/// array indices first, ascending, then the others as inserted.
pub(crate) fn js_keys(map: &Map<String, Value>) -> Vec<&String> {
    // Most objects have no key that starts with a digit: insertion order.
    if !map.keys().any(|k| k.starts_with(|c: char| c.is_ascii_digit())) {
        return map.keys().collect();
    }
    let index = |k: &str| -> Option<u32> {
        let canonical = k == "0" || (!k.starts_with('0') && !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
        canonical.then(|| k.parse::<u32>().ok()).flatten().filter(|n| *n < u32::MAX)
    };
    let mut indices: Vec<(u32, &String)> = map.keys().filter_map(|k| index(k).map(|n| (n, k))).collect();
    indices.sort();
    indices.into_iter().map(|(_, k)| k).chain(map.keys().filter(|k| index(k).is_none())).collect()
}

/// JavaScript truthiness of a JSON value (`undefined` is `None`).
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// `JSON.stringify(a) === JSON.stringify(b)`, without building strings for
/// the common case of two primitives.
pub(crate) fn js_same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
            js_stringify(a) == js_stringify(b)
        }
        _ => a == b,
    }
}

/// `JSON.stringify` of a value, keys in JavaScript's order.
pub(crate) fn js_stringify(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let parts: Vec<String> = js_keys(map)
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), js_stringify(&map[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(js_stringify).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
