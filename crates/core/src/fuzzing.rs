//! Entry points for the fuzz targets (`fuzz/`): each takes arbitrary bytes,
//! runs one parser or rule on them and checks what must hold whatever the
//! input. The regression test replays the checked-in corpus through the same
//! functions, so a finding stays fixed.

use std::path::Path;

use serde_json::Value;

use crate::model::api_key::PresentedKey;
use crate::model::slug::{Slug, slugify};
use crate::schema;

/// Schema validation, comparison and update verification on arbitrary
/// JSON (the bytes are two JSON documents separated by a NUL byte, or one).
pub fn schemas(data: &[u8]) {
    let mut parts = data.splitn(2, |b| *b == 0);
    let old = parts.next().and_then(|b| serde_json::from_slice::<Value>(b).ok());
    let new = parts.next().and_then(|b| serde_json::from_slice::<Value>(b).ok());
    for value in [&old, &new].into_iter().flatten() {
        let validation = schema::validate(value);
        assert_eq!(validation.valid, validation.errors.is_empty(), "valid exactly when there are no errors");
        if let Some(item) = value.get("item").and_then(Value::as_object) {
            let _ = schema::validate_data(value, "todos", item, true);
        }
    }
    if let (Some(old), Some(new)) = (&old, &new) {
        let _ = schema::compare(old, new);
        let verdict = schema::verify_update(old, new);
        let same = schema::verify_update(old, old);
        let _ = (verdict, same);
    }
}

/// API-key parsing: whatever parses prints back as the same text.
pub fn api_key(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(key) = PresentedKey::parse(text) {
        assert_eq!(key.reveal(), text, "a parsed key prints back as presented");
    }
}

/// Slugs: whatever comes out of `slugify` is a valid slug, and slugifying
/// a slug changes nothing.
pub fn slug(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(slug) = slugify(&text) {
        let parsed = Slug::parse(slug.as_str()).expect("slugify makes valid slugs");
        assert_eq!(slugify(parsed.as_str()).map(Slug::into_inner).as_deref(), Some(slug.as_str()));
    }
    let _ = Slug::parse(&text);
}

/// Runs every input kept for `target` through `run`: its seeds (checked
/// in, `seeds/`), its crash reproducers (`regressions/`), and the corpus a
/// local fuzzing run grew (`corpus/`, not checked in). `crate_dir` is the
/// calling crate's folder in this repository; panics when nothing is kept
/// for `target`.
pub fn replay(crate_dir: &str, target: &str, run: fn(&[u8])) {
    let fuzz_dir = Path::new(crate_dir).join("../../fuzz");
    let mut replayed = 0;
    for kept in ["seeds", "regressions", "corpus"] {
        let folder = fuzz_dir.join(kept).join(target);
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let input = std::fs::read(entry.path()).expect("a readable corpus file");
            run(&input);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no corpus for {target} in {}", fuzz_dir.display());
}
