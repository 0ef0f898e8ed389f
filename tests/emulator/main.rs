//! Integration tests over loopback HTTP against the emulator: the emulator
//! itself with a plain HTTP client (contract tests against the real payloads
//! in ../shared/data, determinism, faults, quotas), and Ember's providers,
//! sync engine and command line driving it as they would the real services.

mod ado;
mod ado_sync;
mod big_mail;
mod cli_accounts;
mod contract;
mod control;
mod crash;
mod crash_send;
mod demo;
mod disk_full;
#[cfg(unix)]
mod footprint;
#[path = "../core/full_disk.rs"]
mod full_disk;
mod gmail;
mod gmail_actions;
mod gmail_faults;
mod gmail_sync;
mod graph;
mod graph_faults;
mod graph_folders;
mod graph_sync;
mod logging;
mod move_mail;
mod oauth;
mod remote_content;
mod send;
mod support;
mod week;
