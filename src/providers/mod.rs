//! The providers: clients of Gmail, Microsoft Graph and Azure DevOps, and the
//! sync sources built on them. Everything here talks HTTP through [`http`],
//! which applies the same discipline to every request: one shared client,
//! a timeout on each request, bounded concurrency and a quota-aware rate per
//! account, and retries only of what can heal, honouring Retry-After.

pub mod ado;
pub mod clients;
pub mod credential;
pub mod gmail;
pub mod graph;
pub mod http;
pub mod limits;
pub mod mime;
pub mod outgoing;
pub mod retry;
pub mod window;

pub use credential::{BearerToken, PatCredential};
pub use http::{Http, ProviderError};
pub use limits::AccountLimits;
