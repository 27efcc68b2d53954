//! What changed between two schemas, in the reference's order.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{js_keys, js_same_json, truthy};

/// One difference. Absent members stand for JavaScript's `undefined`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl Change {
    fn new(kind: &str) -> Self {
        Self { kind: kind.to_owned(), property: None, table: None, field: None, old: None, new: None }
    }

    pub(crate) fn property_changed(property: &str, old: Value, new: Value) -> Self {
        Self { property: Some(property.to_owned()), old: Some(old), new: Some(new), ..Self::new("property_changed") }
    }

    fn at(mut self, table: &str, field: Option<&str>) -> Self {
        self.table = Some(table.to_owned());
        self.field = field.map(str::to_owned);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// True when nothing changed.
    pub valid: bool,
    pub changes: Vec<Change>,
}

/// JavaScript's `===` between two values read from parsed JSON: objects and
/// arrays are never the same object, so they always differ.
fn strictly_equal(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Value::Object(_) | Value::Array(_)), _) | (_, Some(Value::Object(_) | Value::Array(_))) => false,
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn object(value: &Value) -> Option<&Map<String, Value>> {
    value.as_object()
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

fn members(value: Option<&Value>) -> &Map<String, Value> {
    value.and_then(object).unwrap_or(&EMPTY)
}

pub fn compare(old: &Value, new: &Value) -> Comparison {
    let mut changes = Vec::new();
    let (old_root, new_root) = (members(Some(old)), members(Some(new)));

    for key in js_keys(new_root) {
        if key != "tables" && !strictly_equal(new_root.get(key), old_root.get(key)) {
            changes.push(Change {
                property: Some(key.clone()),
                old: old_root.get(key).cloned(),
                new: new_root.get(key).cloned(),
                ..Change::new("property_changed")
            });
        }
    }
    for key in js_keys(old_root) {
        if key != "tables" && !new_root.contains_key(key) {
            changes.push(Change {
                property: Some(key.clone()),
                old: old_root.get(key).cloned(),
                ..Change::new("property_removed")
            });
        }
    }

    let (old_tables, new_tables) = (members(old_root.get("tables")), members(new_root.get("tables")));
    for name in js_keys(old_tables) {
        if !truthy(new_tables.get(name)) {
            changes.push(Change::new("table_removed").at(name, None));
        }
    }
    for name in js_keys(new_tables) {
        if !truthy(old_tables.get(name)) {
            changes.push(Change::new("table_added").at(name, None));
            continue;
        }
        let (old_fields, new_fields) =
            (members(old_tables[name].get("fields")), members(new_tables[name].get("fields")));
        for field in js_keys(new_fields) {
            let Some(old_field) = old_fields.get(field).filter(|f| truthy(Some(f))) else {
                changes.push(Change::new("field_added").at(name, Some(field)));
                continue;
            };
            let new_field = &new_fields[field];
            if !strictly_equal(new_field.get("type"), old_field.get("type")) {
                changes.push(Change {
                    old: old_field.get("type").cloned(),
                    new: new_field.get("type").cloned(),
                    ..Change::new("field_type_changed").at(name, Some(field))
                });
            }
            if !strictly_equal(new_field.get("required"), old_field.get("required")) {
                changes.push(Change {
                    old: old_field.get("required").cloned(),
                    new: new_field.get("required").cloned(),
                    ..Change::new("field_required_changed").at(name, Some(field))
                });
            }
        }
        for field in js_keys(old_fields) {
            if !truthy(new_fields.get(field)) {
                changes.push(Change::new("field_removed").at(name, Some(field)));
            }
        }
    }

    // Every other property of every field present on both sides; `required`
    // is reported here too, as the reference does.
    for name in js_keys(new_tables) {
        if !truthy(old_tables.get(name)) {
            continue;
        }
        let (old_fields, new_fields) =
            (members(old_tables[name].get("fields")), members(new_tables[name].get("fields")));
        for field in js_keys(new_fields) {
            let Some(old_field) = old_fields.get(field).filter(|f| truthy(Some(f))) else { continue };
            let (old_props, new_props) = (members(Some(old_field)), members(new_fields.get(field)));
            for prop in js_keys(new_props).into_iter().filter(|p| *p != "type") {
                let change = match old_props.get(prop) {
                    None => Change { new: new_props.get(prop).cloned(), ..Change::new("field_property_added") },
                    Some(before) if !js_same_json(before, &new_props[prop]) => Change {
                        old: Some(before.clone()),
                        new: new_props.get(prop).cloned(),
                        ..Change::new("field_property_changed")
                    },
                    Some(_) => continue,
                };
                changes.push(Change { property: Some(prop.clone()), ..change.at(name, Some(field)) });
            }
            for prop in js_keys(old_props).into_iter().filter(|p| *p != "type") {
                if !new_props.contains_key(prop) {
                    let change = Change {
                        property: Some(prop.clone()),
                        old: old_props.get(prop).cloned(),
                        ..Change::new("field_property_removed")
                    };
                    changes.push(change.at(name, Some(field)));
                }
            }
        }
    }

    Comparison { valid: changes.is_empty(), changes }
}
