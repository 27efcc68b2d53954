//! HTTP tests of the whole server, one binary for every area of the API.

mod flows;
mod generate;
mod harness;
mod hygiene;
mod in_process;
mod mailbox;

mod abuse;
mod accounts;
mod auth;
mod authz;
mod backup;
mod browser;
mod cli;
mod cluster;
mod console;
mod contract_fuzz;
mod crash;
mod errors;
mod federation;
mod items;
mod key_auth;
mod keys;
mod lifecycle;
mod openapi;
mod projects;
mod root;
mod s3;
mod schemas;
mod sdk;
mod security;
mod sync;
mod teams;
mod uploads;
mod users;
mod world;
