//! Does an item fit a table of a schema?

use serde::Serialize;
use serde_json::{Value, json};

use super::{js_keys, truthy, validate};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataVerdict {
    pub valid: bool,
    pub errors: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl DataVerdict {
    fn fail(error: String, message: &str) -> Self {
        Self { valid: false, errors: vec![json!({"message": error})], message: Some(message.to_owned()) }
    }
}

/// JavaScript's `typeof` for a JSON value.
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null | Value::Array(_) | Value::Object(_) => "object",
    }
}

/// Checks `item` against `table` of `schema`: every field declared, of its
/// type (`json` takes objects, arrays and null), and — when `check_required`
/// (create and replace, not a partial update) — every required field present
/// and truthy (`""`, `0`, `false` and `null` fail, as in the reference).
pub fn validate_data(
    schema: &Value,
    table: &str,
    item: &serde_json::Map<String, Value>,
    check_required: bool,
) -> DataVerdict {
    let validation = validate(schema);
    if !validation.valid {
        let errors = validation.errors.iter().map(|e| json!(e)).collect();
        return DataVerdict { valid: false, errors, message: Some("Schema is invalid".into()) };
    }
    check_item(schema, table, item, check_required)
}

/// [`validate_data`] for a schema known to be valid (a published one): the
/// schema itself is not checked again.
pub fn check_item(
    schema: &Value,
    table: &str,
    item: &serde_json::Map<String, Value>,
    check_required: bool,
) -> DataVerdict {
    let Some(fields) = schema["tables"].get(table).filter(|t| truthy(Some(t))).and_then(|t| t["fields"].as_object())
    else {
        return DataVerdict::fail(format!("Table {table} not found in schema"), "Table not found");
    };
    for name in js_keys(item) {
        let Some(field) = fields.get(name).filter(|f| truthy(Some(f))) else {
            return DataVerdict::fail(format!("Field {name} not found in schema"), "Invalid field");
        };
        let expected = field["type"].as_str().unwrap_or_default();
        let actual = type_of(&item[name]);
        let fits = match expected {
            "json" => actual == "object",
            other => other == actual,
        };
        if !fits {
            return DataVerdict::fail(format!("Field {name} should be type {expected}, got {actual}"), "invalid type");
        }
    }
    if check_required {
        return required_present(fields, item);
    }
    DataVerdict { valid: true, errors: Vec::new(), message: None }
}

fn required_present(fields: &serde_json::Map<String, Value>, item: &serde_json::Map<String, Value>) -> DataVerdict {
    for name in js_keys(fields) {
        if fields[name]["required"] == Value::Bool(true) && !truthy(item.get(name)) {
            return DataVerdict::fail(format!("Field {name} is required"), "Required field missing");
        }
    }
    DataVerdict { valid: true, errors: Vec::new(), message: None }
}

/// Whether `item` (a whole stored value, such as the result of a partial
/// update) still has every required field of `table`. Only required fields
/// are looked at: a stored value may keep fields that a later version of
/// the schema no longer has.
pub fn check_required(schema: &Value, table: &str, item: &serde_json::Map<String, Value>) -> DataVerdict {
    match schema["tables"].get(table).filter(|t| truthy(Some(t))).and_then(|t| t["fields"].as_object()) {
        Some(fields) => required_present(fields, item),
        None => DataVerdict::fail(format!("Table {table} not found in schema"), "Table not found"),
    }
}
