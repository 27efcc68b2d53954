//! HTTP tests of the whole server, one binary for every area of the API.

mod harness;

mod errors;
mod lifecycle;
mod openapi;
mod root;
