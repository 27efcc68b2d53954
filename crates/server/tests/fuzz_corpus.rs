//! Replays the checked-in fuzz corpus and any crash reproducers (`fuzz/`)
//! of what the server parses from requests.

use std::path::PathBuf;

fn replay(target: &str, run: fn(&[u8])) {
    let fuzz_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let replayed = basic_admin_core::fuzzing::replay(&fuzz_dir, target, run);
    assert!(replayed > 0, "no corpus for {target} in {}", fuzz_dir.display());
}

#[test]
fn bearer_tokens() {
    replay("jwt", basic_admin_server::fuzzing::jwt);
}

#[test]
fn multipart_uploads() {
    replay("multipart", basic_admin_server::fuzzing::multipart);
}

#[test]
fn images() {
    replay("image", basic_admin_server::fuzzing::image);
}
