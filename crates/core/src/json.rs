//! Changes to JSON objects as the API applies them.

use serde_json::{Map, Value};

/// `current` with `patch`'s keys set, one level deep (a `null` removes a
/// key): how profiles, user meta and item values are changed in part.
pub fn merge_keys(current: &Value, patch: &Map<String, Value>) -> Value {
    let mut merged = current.as_object().cloned().unwrap_or_default();
    for (key, value) in patch {
        if value.is_null() {
            merged.remove(key);
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    Value::Object(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_set_or_removed_one_level_deep() {
        let current = json!({"a": 1, "b": {"x": 1}, "c": 3});
        let patch = json!({"a": 2, "b": {"y": 2}, "c": null, "d": 4});
        assert_eq!(merge_keys(&current, patch.as_object().unwrap()), json!({"a": 2, "b": {"y": 2}, "d": 4}));
        assert_eq!(
            merge_keys(&json!("not an object"), patch.as_object().unwrap()),
            json!({"a": 2, "b": {"y": 2}, "d": 4})
        );
    }
}
