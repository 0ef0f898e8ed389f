//! Background sync: one loop per account, each driven by an interval, a
//! sync-now trigger, the global enable switch, and a cancellation token that
//! is a child of the service's root token.
//!
//! What a loop runs is a [`SyncSource`]: the provider-specific part (Gmail,
//! Graph, Azure DevOps) that reads the account's cursor, fetches changes and
//! hands them to the shared [`BatchWriter`], which writes them in short
//! transactions with the cursor. The [`SyncController`] owns the loops and
//! their states; sources own nothing but their clients. Sources are
//! registered by the service, the composition root: nothing here knows
//! which providers exist.

mod action;
mod controller;
mod error;
mod outbox;
mod progress;
mod source;
pub mod writer;

pub use action::ActionError;
pub use controller::{SyncConfig, SyncController};
pub use error::SyncError;
pub(crate) use progress::LiveStates;
pub use progress::Progress;
pub use source::{BoxFuture, RunGeneration, SyncContext, SyncReport, SyncSource, SyncSources};
pub use writer::{BatchWriter, Change, CursorUpdate};
