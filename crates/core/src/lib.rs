//! The domain of basic-admin: validated values, rules and the storage contract.
//!
//! Nothing here knows about HTTP or SQL; the server crate speaks HTTP and the
//! store crates speak SQL, both in terms of what this crate defines.

pub mod authz;
pub mod did;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod json;
pub mod model;
pub mod oauth;
pub mod schema;
pub mod settings;
pub mod store;
pub mod sync;
pub mod time;
