//! Replays the checked-in fuzz corpus and any crash reproducers (`fuzz/`)
//! through the fuzz entry points, so that what the fuzzer found stays fixed.

use std::path::PathBuf;

fn replay(target: &str, run: fn(&[u8])) {
    let fuzz_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let replayed = basic_admin_core::fuzzing::replay(&fuzz_dir, target, run);
    assert!(replayed > 0, "no corpus for {target} in {}", fuzz_dir.display());
}

#[test]
fn schemas() {
    replay("schemas", basic_admin_core::fuzzing::schemas);
}

#[test]
fn api_keys() {
    replay("api_key", basic_admin_core::fuzzing::api_key);
}

#[test]
fn slugs() {
    replay("slug", basic_admin_core::fuzzing::slug);
}
