//! Azure DevOps: the REST client of an organisation's work items, the
//! conversion of its resources, the sync run and the sync source.

pub mod client;
pub mod convert;
mod run;
mod source;

pub use client::{AdoClient, ADO_API_BASE};
pub use run::{BUILTIN, CHANGED_CURSOR, OVERLAP_MS};
pub use source::{patch_of, AdoSource};
