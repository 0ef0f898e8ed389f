//! Which source syncs which kind of account: the composition root's
//! assembly of the providers into the sync engine, which knows none of
//! them by name.

use std::sync::Arc;

use crate::model::ProviderKind;
use crate::providers::ado::AdoSource;
use crate::providers::gmail::GmailSource;
use crate::providers::graph::GraphSource;
use crate::providers::limits::{ADO_CONCURRENCY, GMAIL_CONCURRENCY, GRAPH_CONCURRENCY};
use crate::providers::{AccountLimits, Http, ProviderError};
use crate::sync::SyncSources;

/// Every provider, within its documented limits. Fails only when the HTTP
/// client cannot start.
pub fn standard() -> Result<SyncSources, ProviderError> {
    Ok(over(Http::new()?))
}

/// Every provider within its documented limits, over `http` (a client
/// with its own retry policy or timeouts).
pub fn over(http: Http) -> SyncSources {
    SyncSources::new()
        .with(
            ProviderKind::Gmail,
            Arc::new(GmailSource::new(http.clone())),
        )
        .with(
            ProviderKind::Graph,
            Arc::new(GraphSource::new(http.clone())),
        )
        .with(ProviderKind::Ado, Arc::new(AdoSource::new(http)))
}

/// Every provider with its concurrency cap but no rate limit: for an
/// emulator whose quotas are off, and the sync benchmarks.
pub fn unmetered() -> Result<SyncSources, ProviderError> {
    Ok(unmetered_over(Http::new()?))
}

/// The same over `http` (a client with its own retry policy or timeouts).
pub fn unmetered_over(http: Http) -> SyncSources {
    SyncSources::new()
        .with(
            ProviderKind::Gmail,
            Arc::new(GmailSource::with_limits(http.clone(), || {
                AccountLimits::new(GMAIL_CONCURRENCY, None)
            })),
        )
        .with(
            ProviderKind::Graph,
            Arc::new(GraphSource::with_limits(http.clone(), || {
                AccountLimits::new(GRAPH_CONCURRENCY, None)
            })),
        )
        .with(
            ProviderKind::Ado,
            Arc::new(AdoSource::with_limits(http, || {
                AccountLimits::new(ADO_CONCURRENCY, None)
            })),
        )
}
