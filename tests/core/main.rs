//! Integration tests of the core against real SQLite files in temporary
//! directories. Modules mirror `src/`.

mod classify;
mod cli;
mod doctor;
mod full_disk;
mod mail;
mod profile;
mod service;
mod store;
mod support;
