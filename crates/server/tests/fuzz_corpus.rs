//! Replays the checked-in fuzz seeds and any crash reproducers (`fuzz/`)
//! of what the server parses from requests.

use basic_admin_core::fuzzing::replay;

#[test]
fn bearer_tokens() {
    replay(env!("CARGO_MANIFEST_DIR"), "jwt", basic_admin_server::fuzzing::jwt);
}

#[test]
fn multipart_uploads() {
    replay(env!("CARGO_MANIFEST_DIR"), "multipart", basic_admin_server::fuzzing::multipart);
}

#[test]
fn images() {
    replay(env!("CARGO_MANIFEST_DIR"), "image", basic_admin_server::fuzzing::image);
}
