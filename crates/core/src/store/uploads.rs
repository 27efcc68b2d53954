use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

use super::StoreResult;
use crate::time::Timestamp;

/// A project image: which one, where its bytes are, and what they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub project_id: Uuid,
    /// `icon` or `background`.
    pub kind: String,
    /// The blob's name in the file store.
    pub object_key: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait UploadStore {
    async fn uploads(&self, project_id: Uuid) -> StoreResult<Vec<Upload>>;
    /// Records `upload` as the project's image of its kind and sets the
    /// profile key at `profile_path` (e.g. `["styles", "background_url"]`)
    /// to `url`, in one transaction: the image it replaces, if any.
    /// `NotFound` when the project is gone.
    async fn record_upload(&self, upload: Upload, profile_path: &[&str], url: &str) -> StoreResult<Option<Upload>>;
    /// Forgets the project's image of `kind` and removes the profile key at
    /// `profile_path`, in one transaction: the image forgotten, `None` when
    /// there was none.
    async fn forget_upload(&self, project_id: Uuid, kind: &str, profile_path: &[&str]) -> StoreResult<Option<Upload>>;
    /// The file names of every recorded image, of every project.
    async fn upload_keys(&self) -> StoreResult<Vec<String>>;
}

/// `profile` with the key at `path` set to `value` (objects made on the
/// way), or removed when `value` is `None`.
pub fn set_profile_key(profile: &mut Value, path: &[&str], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else { return };
    if !profile.is_object() {
        *profile = Value::Object(Default::default());
    }
    let mut node = profile;
    for key in parents {
        let map = node.as_object_mut().expect("an object");
        let child = map.entry(key.to_string()).or_insert_with(|| Value::Object(Default::default()));
        if !child.is_object() {
            if value.is_none() {
                return;
            }
            *child = Value::Object(Default::default());
        }
        node = child;
    }
    let map = node.as_object_mut().expect("an object");
    match value {
        Some(value) => {
            map.insert(last.to_string(), value);
        }
        None => {
            map.remove(*last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn profile_keys_are_set_and_removed_by_path() {
        let mut profile = json!({"name": "x"});
        set_profile_key(&mut profile, &["styles", "background_url"], Some(json!("https://b")));
        set_profile_key(&mut profile, &["icon_url"], Some(json!("https://i")));
        assert_eq!(profile, json!({"name": "x", "icon_url": "https://i", "styles": {"background_url": "https://b"}}));
        set_profile_key(&mut profile, &["styles", "background_url"], None);
        set_profile_key(&mut profile, &["icon_url"], None);
        assert_eq!(profile, json!({"name": "x", "styles": {}}));
        let mut odd = json!({"styles": "dark"});
        set_profile_key(&mut odd, &["styles", "background_url"], None);
        assert_eq!(odd, json!({"styles": "dark"}), "nothing to remove");
    }
}
