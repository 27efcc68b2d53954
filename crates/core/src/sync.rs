//! Live sync's rules (Dexie.Syncable's protocol, as the app SDK speaks it):
//! the changes clients send, what the server keeps of each record's history,
//! how a client's change meets the changes others made meanwhile, and which
//! records a client is owed.
//!
//! The log keeps one entry per record ([`RecordLog`]): its latest revision,
//! whether it is deleted, and when (and by whom) it was created and each of
//! its key paths last set. That is enough to decide every conflict rule for
//! any base revision and to leave a client's own changes out of what it is
//! sent, while the log stays as large as the data (plus a small tombstone
//! per deleted record) however long the history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::model::ItemId;

pub const CREATE: u64 = 1;
pub const UPDATE: u64 = 2;
pub const DELETE: u64 = 3;

/// One change, as clients send it and receive it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The whole record (`obj`, its `id` included), made or replaced.
    Create {
        table: String,
        key: ItemId,
        obj: Map<String, Value>,
    },
    /// Key paths (`"title"`, `"meta.done"`) set to new values; `null` removes one.
    Update {
        table: String,
        key: ItemId,
        mods: Map<String, Value>,
    },
    Delete {
        table: String,
        key: ItemId,
    },
}

impl Change {
    /// A change from its JSON form, or why it is not one.
    pub fn parse(value: &Value) -> Result<Change, String> {
        let Value::Object(fields) = value else { return Err("a change is an object".into()) };
        let table = match fields.get("table") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => return Err("a change's `table` is the name of a table".into()),
        };
        let key = match fields.get("key") {
            Some(Value::String(k)) => ItemId::parse(k).map_err(|e| format!("a change's `key` is a record id: {e}"))?,
            _ => return Err("a change's `key` is a string (the record's id)".into()),
        };
        match fields.get("type").and_then(Value::as_u64) {
            Some(CREATE) => {
                let Some(Value::Object(obj)) = fields.get("obj") else {
                    return Err("a create's `obj` is the record, an object".into());
                };
                if obj.get("id").is_some_and(|id| id.as_str() != Some(key.as_str())) {
                    return Err("a create's `obj.id` is its `key`".into());
                }
                Ok(Change::Create { table, key, obj: obj.clone() })
            }
            Some(UPDATE) => {
                let Some(Value::Object(mods)) = fields.get("mods") else {
                    return Err("an update's `mods` is an object of key paths".into());
                };
                if mods.keys().any(|path| path.is_empty() || path.split('.').any(str::is_empty)) {
                    return Err("an update's key paths are names joined by dots".into());
                }
                if mods.contains_key("id") {
                    return Err("a record's `id` does not change".into());
                }
                Ok(Change::Update { table, key, mods: mods.clone() })
            }
            Some(DELETE) => Ok(Change::Delete { table, key }),
            _ => Err("a change's `type` is 1 (create), 2 (update) or 3 (delete)".into()),
        }
    }

    pub fn table(&self) -> &str {
        match self {
            Change::Create { table, .. } | Change::Update { table, .. } | Change::Delete { table, .. } => table,
        }
    }

    pub fn key(&self) -> &ItemId {
        match self {
            Change::Create { key, .. } | Change::Update { key, .. } | Change::Delete { key, .. } => key,
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Change::Create { table, key, obj } => {
                json!({"type": CREATE, "table": table, "key": key.as_str(), "obj": obj})
            }
            Change::Update { table, key, mods } => {
                json!({"type": UPDATE, "table": table, "key": key.as_str(), "mods": mods})
            }
            Change::Delete { table, key } => json!({"type": DELETE, "table": table, "key": key.as_str()}),
        }
    }
}

/// When and by whom something changed: a revision, and the client identity
/// that made it (`None`: the server — REST and developer routes, and client
/// changes that conflict resolution adjusted, which their author must hear
/// back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub rev: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl Stamp {
    fn after(&self, base: i64, me: &str) -> bool {
        self.rev > base && self.by.as_deref() != Some(me)
    }
}

/// What is kept of a live record since it was (last) created.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Stamp>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub paths: BTreeMap<String, Stamp>,
}

/// The log's entry for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLog {
    /// The revision of its latest change.
    pub revision: i64,
    pub deleted: bool,
    /// Who made the latest change (of a tombstone: who deleted it).
    pub source: Option<String>,
    /// Empty for a tombstone.
    pub history: History,
}

/// A change as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Made, or replaced whole.
    Created,
    /// These key paths set.
    Updated(Vec<String>),
    Deleted,
}

impl Edit {
    /// The log's entry for the record after this edit at `stamp`.
    pub fn logged(&self, before: Option<&RecordLog>, stamp: Stamp) -> RecordLog {
        let history = match self {
            Edit::Created => History { created: Some(stamp.clone()), paths: BTreeMap::new() },
            Edit::Deleted => History::default(),
            Edit::Updated(paths) => {
                let mut history = before.filter(|b| !b.deleted).map(|b| b.history.clone()).unwrap_or_default();
                for path in paths {
                    let nested = format!("{path}.");
                    history.paths.retain(|kept, _| kept != path && !kept.starts_with(&nested));
                    history.paths.insert(path.clone(), stamp.clone());
                }
                history
            }
        };
        RecordLog { revision: stamp.rev, deleted: matches!(self, Edit::Deleted), source: stamp.by, history }
    }
}

/// What others did to a record after a client's base revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    Nothing,
    Created,
    Deleted,
    /// These key paths set.
    Updated(Vec<String>),
}

impl Since {
    /// From the record's log entry, for client `me` whose changes were made
    /// on top of revision `base` (its own changes are no conflict).
    pub fn of(log: Option<&RecordLog>, base: i64, me: &str) -> Since {
        let Some(log) = log else { return Since::Nothing };
        if log.revision <= base {
            return Since::Nothing;
        }
        if log.deleted {
            let theirs = log.source.as_deref() != Some(me);
            return if theirs { Since::Deleted } else { Since::Nothing };
        }
        if log.history.created.as_ref().is_some_and(|c| c.after(base, me)) {
            return Since::Created;
        }
        let paths: Vec<String> =
            log.history.paths.iter().filter(|(_, stamp)| stamp.after(base, me)).map(|(p, _)| p.clone()).collect();
        if paths.is_empty() { Since::Nothing } else { Since::Updated(paths) }
    }
}

/// What becomes of a client's change.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Applied as given (`echo: false`), or adjusted for what others did
    /// meanwhile (`echo: true`: its author is sent the result too, since its
    /// copy may differ).
    Apply { change: Change, echo: bool },
    /// Refused by what others did (they created or deleted the record since).
    Drop,
}

/// The conflict rules: server changes since the client's base win, except
/// that a client's delete beats a server's update.
pub fn resolve(change: Change, since: &Since, current: Option<&Map<String, Value>>) -> Resolution {
    match since {
        Since::Nothing => Resolution::Apply { change, echo: false },
        Since::Created | Since::Deleted => Resolution::Drop,
        Since::Updated(paths) => match change {
            Change::Create { table, key, mut obj } => {
                // The client's record, with the server's newer values on top.
                for path in paths {
                    let value = current.and_then(|c| value_at(c, path)).cloned().unwrap_or(Value::Null);
                    set_path(&mut obj, path, value);
                }
                Resolution::Apply { change: Change::Create { table, key, obj }, echo: true }
            }
            Change::Update { table, key, mut mods } => {
                mods.retain(|path, _| !paths.iter().any(|p| overlap(path, p)));
                if mods.is_empty() {
                    Resolution::Drop
                } else {
                    Resolution::Apply { change: Change::Update { table, key, mods }, echo: true }
                }
            }
            delete @ Change::Delete { .. } => Resolution::Apply { change: delete, echo: true },
        },
    }
}

/// Whether setting one path touches what setting the other did: the same
/// path, or one inside the other (a client replacing `meta` would undo the
/// server's `meta.done`, so that counts too).
fn overlap(a: &str, b: &str) -> bool {
    let inside = |inner: &str, outer: &str| {
        inner.len() > outer.len() && inner.starts_with(outer) && inner.as_bytes()[outer.len()] == b'.'
    };
    a == b || inside(a, b) || inside(b, a)
}

/// Whether client `me`, which has every change up to `synced`, is owed the
/// record's latest state: something changed it since that `me` did not make.
pub fn owed(log: &RecordLog, synced: i64, me: &str) -> bool {
    if log.revision <= synced {
        return false;
    }
    if log.deleted {
        return log.source.as_deref() != Some(me);
    }
    log.history.created.as_ref().is_some_and(|c| c.after(synced, me))
        || log.history.paths.values().any(|stamp| stamp.after(synced, me))
}

/// `obj` with the modifications applied: shorter paths first (a whole
/// object, then paths into it), dotted paths into nested objects, `null`
/// removing.
pub fn apply_mods(obj: &mut Map<String, Value>, mods: &Map<String, Value>) {
    let mut paths: Vec<(&String, &Value)> = mods.iter().collect();
    paths.sort_by_key(|(path, _)| path.len());
    for (path, value) in paths {
        set_path(obj, path, value.clone());
    }
}

fn set_path(obj: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None if value.is_null() => {
            obj.remove(path);
        }
        None => {
            obj.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let inner = obj.entry(head.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if !inner.is_object() {
                *inner = Value::Object(Map::new());
            }
            if let Value::Object(inner) = inner {
                set_path(inner, rest, value);
            }
        }
    }
}

fn value_at<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    match path.split_once('.') {
        None => obj.get(path),
        Some((head, rest)) => value_at(obj.get(head)?.as_object()?, rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(k: &str) -> ItemId {
        ItemId::parse(k).unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn stamp(rev: i64, by: Option<&str>) -> Stamp {
        Stamp { rev, by: by.map(str::to_owned) }
    }

    fn update(mods: Value) -> Change {
        Change::Update { table: "todos".into(), key: key("a"), mods: obj(mods) }
    }

    #[test]
    fn changes_are_read_as_clients_write_them_and_refused_with_a_reason() {
        let create = json!({"type": 1, "table": "todos", "key": "a", "obj": {"id": "a", "title": "x"}});
        let parsed = Change::parse(&create).unwrap();
        assert_eq!(parsed.to_json(), create);
        let update = json!({"type": 2, "table": "todos", "key": "a", "mods": {"meta.done": true}});
        assert_eq!(Change::parse(&update).unwrap().to_json(), update);
        let delete = json!({"type": 3, "table": "todos", "key": "a"});
        assert_eq!(Change::parse(&delete).unwrap().to_json(), delete);

        for (bad, why) in [
            (json!([]), "an object"),
            (json!({"type": 4, "table": "t", "key": "a"}), "`type`"),
            (json!({"type": 1, "table": "t", "key": 7, "obj": {}}), "`key`"),
            (json!({"type": 1, "table": "t", "key": "a/b", "obj": {}}), "record id"),
            (json!({"type": 1, "table": "", "key": "a", "obj": {}}), "`table`"),
            (json!({"type": 1, "table": "t", "key": "a", "obj": [1]}), "`obj`"),
            (json!({"type": 1, "table": "t", "key": "a", "obj": {"id": "b"}}), "`obj.id`"),
            (json!({"type": 2, "table": "t", "key": "a"}), "`mods`"),
            (json!({"type": 2, "table": "t", "key": "a", "mods": {"a..b": 1}}), "key paths"),
            (json!({"type": 2, "table": "t", "key": "a", "mods": {"id": "b"}}), "`id`"),
        ] {
            let refused = Change::parse(&bad).unwrap_err();
            assert!(refused.contains(why), "{bad}: {refused}");
        }
    }

    #[test]
    fn modifications_set_nested_paths_and_null_removes() {
        let mut record = obj(json!({"title": "a", "meta": {"done": false, "tag": "x"}, "n": 1}));
        apply_mods(&mut record, &obj(json!({"meta.done": true, "n": null, "extra.deep.x": 1})));
        assert_eq!(
            Value::Object(record.clone()),
            json!({"title": "a", "meta": {"done": true, "tag": "x"}, "extra": {"deep": {"x": 1}}})
        );
        // The whole object first, then the path into it.
        apply_mods(&mut record, &obj(json!({"meta.tag": "y", "meta": {"done": false}})));
        assert_eq!(record["meta"], json!({"done": false, "tag": "y"}));
        // A path through a non-object replaces it.
        apply_mods(&mut record, &obj(json!({"title.x": 1})));
        assert_eq!(record["title"], json!({"x": 1}));
    }

    #[test]
    fn the_log_keeps_when_each_path_was_set_since_the_record_was_made() {
        let made = Edit::Created.logged(None, stamp(3, Some("A")));
        assert_eq!(made.history.created, Some(stamp(3, Some("A"))));
        let meta = Edit::Updated(vec!["meta.done".into(), "title".into()]).logged(Some(&made), stamp(5, None));
        let whole_meta = Edit::Updated(vec!["meta".into()]).logged(Some(&meta), stamp(6, Some("B")));
        assert_eq!(
            whole_meta.history.paths,
            BTreeMap::from([("meta".into(), stamp(6, Some("B"))), ("title".into(), stamp(5, None))]),
            "a whole object replaces what was kept of the paths inside it"
        );
        let gone = Edit::Deleted.logged(Some(&whole_meta), stamp(7, Some("A")));
        assert!(gone.deleted && gone.history == History::default() && gone.source.as_deref() == Some("A"));
        let again = Edit::Created.logged(Some(&gone), stamp(8, None));
        assert!(!again.deleted && again.history.paths.is_empty());
    }

    #[test]
    fn what_others_did_since_the_base_decides_and_my_own_changes_do_not_count() {
        let made = Edit::Created.logged(None, stamp(3, Some("A")));
        assert_eq!(Since::of(None, 0, "A"), Since::Nothing);
        assert_eq!(Since::of(Some(&made), 2, "B"), Since::Created);
        assert_eq!(Since::of(Some(&made), 2, "A"), Since::Nothing, "its own create");
        assert_eq!(Since::of(Some(&made), 3, "B"), Since::Nothing, "B has it");
        let set = Edit::Updated(vec!["title".into()]).logged(Some(&made), stamp(5, None));
        assert_eq!(Since::of(Some(&set), 3, "A"), Since::Updated(vec!["title".into()]));
        assert_eq!(Since::of(Some(&set), 2, "B"), Since::Created, "a create since the base wins over updates");
        let gone = Edit::Deleted.logged(Some(&set), stamp(6, Some("B")));
        assert_eq!(Since::of(Some(&gone), 5, "A"), Since::Deleted);
        assert_eq!(Since::of(Some(&gone), 5, "B"), Since::Nothing, "B deleted it itself");
    }

    #[test]
    fn conflict_rules_follow_the_table() {
        let created = Change::Create {
            table: "todos".into(),
            key: key("a"),
            obj: obj(json!({"id": "a", "title": "mine", "n": 1})),
        };
        let delete = Change::Delete { table: "todos".into(), key: key("a") };
        let current = obj(json!({"title": "theirs", "n": 1}));

        for since in [Since::Created, Since::Deleted] {
            for change in [created.clone(), update(json!({"title": "x"})), delete.clone()] {
                assert_eq!(resolve(change, &since, Some(&current)), Resolution::Drop, "{since:?}");
            }
        }
        for change in [created.clone(), update(json!({"title": "x"})), delete.clone()] {
            assert_eq!(resolve(change.clone(), &Since::Nothing, None), Resolution::Apply { change, echo: false });
        }
        let theirs = Since::Updated(vec!["title".into(), "gone".into()]);
        // Create: applied, the server's update on top (a path it removed stays removed).
        let Resolution::Apply { change: Change::Create { obj: merged, .. }, echo: true } = resolve(
            Change::Create {
                table: "todos".into(),
                key: key("a"),
                obj: obj(json!({"id": "a", "title": "mine", "gone": 1})),
            },
            &theirs,
            Some(&current),
        ) else {
            panic!("a create over an update is applied")
        };
        assert_eq!(Value::Object(merged), json!({"id": "a", "title": "theirs"}));
        // Update: applied except the paths the server set (and paths inside them).
        assert_eq!(
            resolve(update(json!({"title": "x", "title.sub": 1, "gone.x": 1, "n": 2})), &theirs, Some(&current)),
            Resolution::Apply { change: update(json!({"n": 2})), echo: true }
        );
        assert_eq!(resolve(update(json!({"title": "x"})), &theirs, Some(&current)), Resolution::Drop);
        // Delete beats update.
        assert_eq!(resolve(delete.clone(), &theirs, Some(&current)), Resolution::Apply { change: delete, echo: true });
    }

    #[test]
    fn a_client_is_owed_what_others_changed_since_its_revision() {
        let made = Edit::Created.logged(None, stamp(3, Some("A")));
        assert!(owed(&made, 2, "B") && !owed(&made, 2, "A") && !owed(&made, 3, "B"));
        let adjusted = Edit::Updated(vec!["n".into()]).logged(Some(&made), stamp(4, None));
        assert!(owed(&adjusted, 3, "A"), "an adjusted change goes back to its author");
        let mine = Edit::Updated(vec!["n".into()]).logged(Some(&made), stamp(4, Some("A")));
        assert!(!owed(&mine, 3, "A") && owed(&mine, 3, "B"));
        assert!(owed(&mine, 2, "B"));
        let gone = Edit::Deleted.logged(Some(&mine), stamp(9, Some("A")));
        assert!(!owed(&gone, 3, "A") && owed(&gone, 3, "B"));
    }

    fn arb_mods() -> impl Strategy<Value = Map<String, Value>> {
        prop::collection::btree_map("[ab](\\.[xy])?", prop::option::of(0i64..3), 0..4)
            .prop_map(|m| m.into_iter().map(|(k, v)| (k, v.map_or(Value::Null, Value::from))).collect())
    }

    proptest! {
        /// After a client's update meets a server's, applying the server's
        /// modifications and then what the client's resolved into gives the
        /// server's value for every path the server set: the server wins.
        #[test]
        fn the_server_wins_on_the_paths_it_set(server in arb_mods(), client in arb_mods()) {
            let base = obj(json!({"a": {"x": 0}, "b": 1}));
            let mut on_server = base.clone();
            apply_mods(&mut on_server, &server);
            let paths: Vec<String> = server.keys().cloned().collect();
            let since = if paths.is_empty() { Since::Nothing } else { Since::Updated(paths.clone()) };
            let mut result = on_server.clone();
            if let Resolution::Apply { change: Change::Update { mods, .. }, .. } = resolve(update(Value::Object(client)), &since, Some(&on_server)) {
                apply_mods(&mut result, &mods);
            }
            for path in &paths {
                prop_assert_eq!(value_at(&result, path), value_at(&on_server, path), "{}", path);
            }
        }

        /// Whatever the history, the log entry of a record stays as small as
        /// the record's key paths; a client is owed a record whose latest
        /// change someone else made after its revision, and never one that
        /// only it changed since.
        #[test]
        fn the_log_is_bounded_and_owes_others_changes(
            edits in prop::collection::vec((0u8..3, prop::option::of(0u8..2), "[ab](\\.[xy])?"), 1..30),
            synced in 0i64..30,
        ) {
            let mut log: Option<RecordLog> = None;
            let mut only_mine_since = true;
            let mut last_by_other = false;
            for (n, (kind, by, path)) in edits.iter().enumerate() {
                let by = by.map(|b| ["A", "B"][b as usize].to_owned());
                let rev = n as i64 + 1;
                let edit = match kind { 0 => Edit::Created, 1 => Edit::Updated(vec![path.clone()]), _ => Edit::Deleted };
                let others = rev > synced && by.as_deref() != Some("A");
                only_mine_since &= !others;
                last_by_other = others;
                log = Some(edit.logged(log.as_ref(), Stamp { rev, by }));
            }
            let log = log.unwrap();
            prop_assert!(log.history.paths.len() <= 6);
            if last_by_other {
                prop_assert!(owed(&log, synced, "A"));
            }
            if only_mine_since {
                prop_assert!(!owed(&log, synced, "A"));
            }
        }
    }
}
