//! Fireside Ember's core: the local store, the sync engine, the event seam
//! and the service layer that the desktop shell, the `ember` CLI and the
//! tests all drive.
//!
//! Data flows one way: sync sources fetch from a provider and write to the
//! [`store::Store`] in short transactions; the store is the single source of
//! truth the window reads; changes are announced on the
//! [`events::EventBus`]. The core never depends on Tauri: the shell is a thin
//! layer of commands over [`service::Ember`].

#![deny(missing_docs)]

pub mod auth;
pub mod bench;
pub mod bindings;
pub mod classify;
pub mod cli;
pub mod compose;
pub mod config;
pub mod cpu;
pub mod durable;
pub mod events;
pub mod links;
pub mod logging;
pub mod model;
pub mod notify;
pub mod profile;
pub mod providers;
pub mod render;
pub mod search;
pub mod secret;
pub mod service;
pub mod store;
pub mod sync;

pub use config::Config;
pub use service::{ApiError, Ember, ErrorCode, ServiceError, ShutdownReport};
