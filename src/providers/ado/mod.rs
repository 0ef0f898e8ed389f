//! Azure DevOps: the REST client of an organisation's work items.

pub mod client;

pub use client::{AdoClient, ADO_API_BASE};
