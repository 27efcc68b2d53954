//! Replays the checked-in fuzz seeds and any crash reproducers (`fuzz/`)
//! through the fuzz entry points, so that what the fuzzer found stays fixed.

use basic_admin_core::fuzzing::replay;

#[test]
fn schemas() {
    replay(env!("CARGO_MANIFEST_DIR"), "schemas", basic_admin_core::fuzzing::schemas);
}

#[test]
fn api_keys() {
    replay(env!("CARGO_MANIFEST_DIR"), "api_key", basic_admin_core::fuzzing::api_key);
}

#[test]
fn slugs() {
    replay(env!("CARGO_MANIFEST_DIR"), "slug", basic_admin_core::fuzzing::slug);
}
