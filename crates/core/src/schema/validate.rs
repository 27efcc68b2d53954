//! Is a schema well formed? (Not: may it replace another; see `verify_update`.)

use serde::Serialize;
use serde_json::{Map, Value};

use super::{as_i64, js_keys};

/// One problem, located by a JSON pointer into the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaError {
    #[serde(rename = "instancePath")]
    pub instance_path: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Validation {
    pub valid: bool,
    pub errors: Vec<SchemaError>,
}

const MAX_NAME: usize = 50;
/// A schema's size limits: validating, comparing and storing a schema stays
/// cheap, and no app needs more.
pub const MAX_TABLES: usize = 500;
pub const MAX_FIELDS: usize = 500;
const FIELD_TYPES: [&str; 4] = ["string", "boolean", "number", "json"];

/// `~` and `/` escaped, as JSON pointers need.
fn pointer(parts: &[&str]) -> String {
    parts.iter().map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1"))).collect()
}

pub(super) struct Errors(pub(super) Vec<SchemaError>);

impl Errors {
    fn add(&mut self, path: &[&str], message: impl Into<String>) {
        self.0.push(SchemaError { instance_path: pointer(path), message: message.into() });
    }
}

/// Table and field names: 1–50 characters, a letter or digit then letters,
/// digits or `_`, and never `id` in any case (every item has its own `id`).
fn name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if name.chars().count() > MAX_NAME {
        return Some(format!("must NOT have more than {MAX_NAME} characters"));
    }
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some("must match pattern \"^[a-zA-Z0-9][a-zA-Z0-9_]*$\"".into());
    }
    if name.eq_ignore_ascii_case("id") {
        return Some("\"id\" is reserved: every item has its own id".into());
    }
    None
}

/// Names of one object, each checked, and unique ignoring case.
pub(super) fn check_names(errors: &mut Errors, path: &[&str], map: &Map<String, Value>, what: &str) {
    let mut seen = std::collections::HashSet::with_capacity(map.len());
    for name in js_keys(map) {
        if let Some(problem) = name_problem(name) {
            errors.add(path, format!("{what} name {name:?} is invalid: {problem}"));
        }
        if !seen.insert(name.to_ascii_lowercase()) {
            errors.add(path, format!("{what} names must be unique ignoring case: {name:?} repeats another"));
        }
    }
}

/// The first size limit `schema` is over, if any: a schema past one is
/// refused whole, before any other check looks at its parts.
pub fn size_problem(schema: &Value) -> Option<SchemaError> {
    let tables = schema.get("tables")?.as_object()?;
    if tables.len() > MAX_TABLES {
        let message = format!("must NOT have more than {MAX_TABLES} tables (it has {})", tables.len());
        return Some(SchemaError { instance_path: pointer(&["tables"]), message });
    }
    tables.iter().find_map(|(name, table)| {
        let fields = table.get("fields")?.as_object()?;
        (fields.len() > MAX_FIELDS).then(|| SchemaError {
            instance_path: pointer(&["tables", name, "fields"]),
            message: format!("must NOT have more than {MAX_FIELDS} fields (it has {})", fields.len()),
        })
    })
}

fn is_integer(value: &Value) -> bool {
    as_i64(value).is_some()
}

pub fn validate(schema: &Value) -> Validation {
    if let Some(problem) = size_problem(schema) {
        return Validation { valid: false, errors: vec![problem] };
    }
    let mut errors = Errors(Vec::new());
    let Some(root) = schema.as_object() else {
        errors.add(&[], "must be object");
        return Validation { valid: false, errors: errors.0 };
    };
    for required in ["project_id", "version", "tables"] {
        if !root.contains_key(required) {
            errors.add(&[], format!("must have required property '{required}'"));
        }
    }
    if root.get("project_id").is_some_and(|v| !v.is_string()) {
        errors.add(&["project_id"], "must be string");
    }
    if root.get("namespace").is_some_and(|v| !v.is_string()) {
        errors.add(&["namespace"], "must be string");
    }
    if let Some(version) = root.get("version") {
        match as_i64(version) {
            None => errors.add(&["version"], "must be integer"),
            Some(v) if v < 0 => errors.add(&["version"], "must be >= 0"),
            Some(_) => {}
        }
    }
    match root.get("tables") {
        None => {}
        Some(Value::Object(tables)) => {
            check_names(&mut errors, &["tables"], tables, "table");
            for name in js_keys(tables) {
                check_table(&mut errors, name, &tables[name]);
            }
        }
        Some(_) => errors.add(&["tables"], "must be object"),
    }
    Validation { valid: errors.0.is_empty(), errors: errors.0 }
}

fn check_table(errors: &mut Errors, name: &str, table: &Value) {
    let path = ["tables", name];
    let Some(table) = table.as_object() else {
        errors.add(&path, "must be object");
        return;
    };
    if table.get("name").is_some_and(|v| !v.is_string()) {
        errors.add(&["tables", name, "name"], "must be string");
    }
    if let Some(kind) = table.get("type") {
        if !kind.is_string() {
            errors.add(&["tables", name, "type"], "must be string");
        } else if kind != "collection" {
            errors.add(&["tables", name, "type"], "must be equal to one of the allowed values: collection");
        }
    }
    if let Some(origin) = table.get("origin") {
        check_origin(errors, name, origin);
    }
    match table.get("fields") {
        None => errors.add(&path, "must have required property 'fields'"),
        Some(Value::Object(fields)) => {
            check_names(errors, &["tables", name, "fields"], fields, "field");
            for field in js_keys(fields) {
                check_field(errors, name, field, &fields[field]);
            }
        }
        Some(_) => errors.add(&["tables", name, "fields"], "must be object"),
    }
}

fn check_origin(errors: &mut Errors, table: &str, origin: &Value) {
    let path = ["tables", table, "origin"];
    let Some(origin) = origin.as_object() else {
        errors.add(&path, "must be object");
        return;
    };
    let sub = |key: &'static str| ["tables", table, "origin", key];
    match origin.get("type") {
        Some(Value::String(t)) if t != "reference" => {
            errors.add(&sub("type"), "must be equal to one of the allowed values: reference")
        }
        Some(v) if !v.is_string() => errors.add(&sub("type"), "must be string"),
        _ => {}
    }
    for key in ["project_id", "table"] {
        if origin.get(key).is_some_and(|v| !v.is_string()) {
            errors.add(&sub(key), "must be string");
        }
    }
    if origin.get("version").is_some_and(|v| !is_integer(v)) {
        errors.add(&sub("version"), "must be integer");
    }
    // A reference names its source; an origin without a type is taken as one.
    let is_reference = origin.get("type").is_none_or(|t| t == "reference");
    if is_reference {
        for key in ["project_id", "table"] {
            if !origin.contains_key(key) {
                errors.add(&path, format!("must have required property '{key}'"));
            }
        }
    }
}

fn check_field(errors: &mut Errors, table: &str, name: &str, field: &Value) {
    let path = ["tables", table, "fields", name];
    let Some(field) = field.as_object() else {
        errors.add(&path, "must be object");
        return;
    };
    let sub = |key: &'static str| ["tables", table, "fields", name, key];
    match field.get("type") {
        None => errors.add(&path, "must have required property 'type'"),
        Some(Value::String(t)) if !FIELD_TYPES.contains(&t.as_str()) => {
            errors.add(&sub("type"), format!("must be equal to one of the allowed values: {}", FIELD_TYPES.join(", ")))
        }
        Some(Value::String(_)) => {}
        Some(_) => errors.add(&sub("type"), "must be string"),
    }
    for key in ["indexed", "required"] {
        if field.get(key).is_some_and(|v| !v.is_boolean()) {
            errors.add(&sub(key), "must be boolean");
        }
    }
}
