//! The browser side of signing in (pages, cookies, sessions) and the
//! extractor that finds who calls an API route. The rules live in
//! `basic_admin_app::auth`.

pub mod caller;
pub mod cookies;
pub mod device;
pub mod pages;
pub mod session;

pub use basic_admin_app::Caller;
