//! Integration tests of the emulator over loopback HTTP, with a plain HTTP
//! client: contract tests against the real payloads in ../shared/data,
//! determinism, faults and quotas. Modules follow `src/emulator/`.

mod ado;
mod contract;
mod control;
mod demo;
mod gmail;
mod gmail_faults;
mod gmail_sync;
mod graph;
mod oauth;
mod support;
