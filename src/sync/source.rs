//! The provider seam: what one sync run of one account needs and returns.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{ActionError, Progress, SyncError};
use crate::model::{Account, ProviderKind};
use crate::store::outbox::OutboxEntry;
use crate::store::Store;

/// Everything a run gets: the account, the store, a progress handle and the
/// token that cancels it. Sources check the token between batches and race it
/// against network waits.
#[derive(Debug, Clone)]
pub struct SyncContext {
    /// The account being synced.
    pub account: Account,
    /// Where to write.
    pub store: Store,
    /// Where to report progress.
    pub progress: Progress,
    /// Cancelled on shutdown, when sync is switched off, or when the account goes.
    pub cancel: CancellationToken,
    /// Where the account's credentials are.
    pub secrets: crate::auth::Secrets,
    /// Where newly stored messages go to be categorised.
    pub categorise: crate::classify::CategoriseQueue,
    /// The account's sync generation this run started from, shared by its
    /// writers; `None` outside a sync run (reading one item whole), whose
    /// writes save no cursor and need no check.
    pub generation: Option<RunGeneration>,
}

/// The sync generation a run started from (see [`crate::store::cursors`]),
/// moved on by each of its batches that saves cursors.
#[derive(Debug, Clone)]
pub struct RunGeneration(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl RunGeneration {
    /// A run starting from `generation`.
    pub fn new(generation: i64) -> Self {
        Self(std::sync::Arc::new(std::sync::atomic::AtomicI64::new(
            generation,
        )))
    }

    /// The generation the run's next batch expects.
    pub fn get(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Notes the generation a batch left.
    pub fn set(&self, generation: i64) {
        self.0
            .store(generation, std::sync::atomic::Ordering::SeqCst);
    }
}

/// What one run did, for `ember sync --once` and the logs.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Items fetched from the provider.
    pub fetched: u64,
    /// New items stored.
    pub stored: u64,
    /// Existing items changed.
    pub updated: u64,
    /// Items removed locally because the provider removed them.
    pub deleted: u64,
    /// Items skipped, each with its reason.
    pub skipped: Vec<String>,
    /// Requests retried.
    pub retries: u64,
    /// Queued user actions the provider accepted this run.
    pub actions_sent: u64,
    /// Local ids of the newest messages stored this run (at most
    /// [`NEW_MAIL_KEPT`]), for new-mail notifications.
    #[serde(skip)]
    pub new_messages: Vec<crate::model::MessageId>,
}

/// New message ids a report keeps.
pub const NEW_MAIL_KEPT: usize = 200;

impl std::fmt::Debug for SyncReport {
    /// As the logs show it: the new message ids only as a count, so a first
    /// sync does not print 200 ids on one line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncReport")
            .field("fetched", &self.fetched)
            .field("stored", &self.stored)
            .field("updated", &self.updated)
            .field("deleted", &self.deleted)
            .field("skipped", &self.skipped)
            .field("retries", &self.retries)
            .field("actions_sent", &self.actions_sent)
            .field("new_messages", &self.new_messages.len())
            .finish()
    }
}

impl SyncReport {
    /// Adds what `other` counted to this report.
    pub fn absorb(&mut self, other: SyncReport) {
        self.fetched += other.fetched;
        self.stored += other.stored;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.retries += other.retries;
        self.actions_sent += other.actions_sent;
        self.skipped.extend(other.skipped);
        self.note_new(&other.new_messages);
    }

    /// Notes newly stored messages, keeping the last [`NEW_MAIL_KEPT`].
    pub fn note_new(&mut self, ids: &[crate::model::MessageId]) {
        self.new_messages.extend_from_slice(ids);
        let excess = self.new_messages.len().saturating_sub(NEW_MAIL_KEPT);
        self.new_messages.drain(..excess);
    }
}

/// A boxed future, so sources can live behind `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The provider-specific part of a sync run.
pub trait SyncSource: Send + Sync + 'static {
    /// Brings the account's local copy up to date with the provider.
    fn sync(&self, ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>>;

    /// Reads one item (a work item the user opened) whole now, with what a
    /// run leaves for later (comments, history). Sources without such
    /// items refuse.
    fn refresh<'a>(
        &'a self,
        ctx: &'a SyncContext,
        item: i64,
    ) -> BoxFuture<'a, Result<(), SyncError>> {
        let _ = (ctx, item);
        Box::pin(async move { Err(SyncError::Unsupported(ctx.account.provider)) })
    }

    /// Tells the provider about one action the user already applied locally
    /// (see [`crate::store::outbox`]). Sources that cannot act refuse.
    fn apply<'a>(
        &'a self,
        ctx: &'a SyncContext,
        entry: &'a OutboxEntry,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        let _ = ctx;
        Box::pin(async move {
            Err(ActionError::Refused(format!(
                "{} cannot be sent to this provider",
                entry.action.name()
            )))
        })
    }
}

/// Which source syncs which kind of account.
#[derive(Clone, Default)]
pub struct SyncSources {
    by_provider: HashMap<ProviderKind, Arc<dyn SyncSource>>,
}

impl std::fmt::Debug for SyncSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncSources")
            .field("providers", &self.by_provider.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SyncSources {
    /// No sources: every account reports that its provider is unsupported.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `source` for `provider`, replacing any other.
    pub fn with(mut self, provider: ProviderKind, source: Arc<dyn SyncSource>) -> Self {
        self.by_provider.insert(provider, source);
        self
    }

    /// The source for `provider`, if any.
    pub fn get(&self, provider: ProviderKind) -> Option<Arc<dyn SyncSource>> {
        self.by_provider.get(&provider).cloned()
    }
}
