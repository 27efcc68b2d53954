//! TLS for what the server calls out to (an AI provider, S3 storage).

use std::sync::Once;

/// Chooses the TLS implementation for outgoing HTTPS (ring); once a process,
/// before the first client is made.
pub fn install() {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
