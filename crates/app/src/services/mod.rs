//! The use-cases behind the routes: each checks who may act (through
//! [`access`]), applies the rules, and calls the store. No HTTP here but the
//! error type.

pub mod access;
pub mod federation;
pub mod items;
pub mod keys;
pub mod projects;
pub mod schemas;
pub mod slugs;
pub mod sync;
pub mod teams;
pub mod uploads;
pub mod users;
