//! One Microsoft Graph sync run.
//!
//! Folders first (the tree, with the well-known ones given their roles),
//! then each folder by delta: a first round brings the folder's messages
//! newest first, whole, inside the initial window; later rounds bring what
//! changed. Every page goes to the shared [`BatchWriter`], and the link to
//! continue from (the next page, or at the end of a round the
//! `@odata.deltaLink`) is committed with the page it follows, so a run cut
//! short resumes where it stopped.
//!
//! A message moved between folders is one message: `@removed` in the
//! folder it left only takes it out of that folder, and the destination's
//! round brings it back in with its category and read state. A message left
//! in no folder at the end of the run is looked up by id (ids are
//! immutable): gone means deleted, found means it moved somewhere the run
//! did not see. So is one `@removed` from a folder it was no longer in
//! here and that no round of the run brought into another: the user moved
//! it locally while it was deleted at Graph (the move then finds nothing,
//! 404), and without the look-up it stayed in its new folder for good.
//!
//! A delta token Graph no longer honours (410 Gone, `SyncStateNotFound`,
//! `resyncRequired`) causes exactly one full round of that folder, which
//! ends by taking out of the folder whatever it no longer holds.

use std::collections::HashSet;

use super::batch::MAX_REQUESTS;
use super::client::{DeltaPage, GraphClient, SERVICE};
use super::convert::{
    category_folder, folder_of, format_date, is_removed, message_change, page_changes, parse_date,
    CATEGORY_PREFIX, WELL_KNOWN,
};
use crate::model::SyncPhase;
use crate::providers::clients::sync_error;
use crate::providers::window::Window;
use crate::providers::ProviderError;
use crate::store::{self, StoreError};
use crate::sync::writer::retry_ids;
use crate::sync::{BatchWriter, Change, CursorUpdate, SyncContext, SyncError, SyncReport};

/// The cursor resource of a folder's delta link.
pub const DELTA_PREFIX: &str = "graph.delta.";
/// The cursor holding ids to fetch again next run (JSON list).
pub const RETRY_CURSOR: &str = "graph.retry";

/// Why a run stopped.
#[derive(Debug)]
pub(super) enum RunError {
    /// Graph failed.
    Provider(ProviderError),
    /// Anything else: storage, cancellation.
    Sync(SyncError),
}

impl From<ProviderError> for RunError {
    fn from(e: ProviderError) -> Self {
        Self::Provider(e)
    }
}

impl From<SyncError> for RunError {
    fn from(e: SyncError) -> Self {
        Self::Sync(e)
    }
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        Self::Sync(e.into())
    }
}

impl RunError {
    pub(super) fn into_sync_error(self) -> SyncError {
        match self {
            Self::Sync(e) => e,
            Self::Provider(e) => sync_error(e, SERVICE),
        }
    }
}

/// Whether Graph refused a stored delta or skip token: the folder must be
/// synced afresh.
pub fn token_expired(e: &ProviderError) -> bool {
    match e {
        ProviderError::Status { status: 410, .. } => true,
        ProviderError::Status {
            status: 400,
            reason,
            message,
            ..
        } => {
            reason.as_deref().is_some_and(|r| {
                r.eq_ignore_ascii_case("syncStateNotFound")
                    || r.eq_ignore_ascii_case("resyncRequired")
                    || r.eq_ignore_ascii_case("syncStateInvalid")
            }) || message.to_ascii_lowercase().contains("token")
        }
        _ => false,
    }
}

/// The cursor resource of `folder`.
pub fn delta_resource(folder: &str) -> String {
    format!("{DELTA_PREFIX}{folder}")
}

pub(super) struct Run<'a> {
    ctx: &'a SyncContext,
    client: GraphClient,
    window: Window,
    writer: BatchWriter,
    fetched: u64,
    /// Category labels written so far (this run, or before it).
    categories: HashSet<String>,
    /// The oldest `receivedDateTime` a new round asks for, once known.
    since: Option<Option<String>>,
    /// Ids `@removed` from a folder this run, and ids a round brought in.
    removed: HashSet<String>,
    present: HashSet<String>,
}

impl<'a> Run<'a> {
    pub(super) fn new(ctx: &'a SyncContext, client: GraphClient, window: Window) -> Self {
        Self {
            ctx,
            client,
            window,
            writer: BatchWriter::start(ctx, Some(RETRY_CURSOR)),
            fetched: 0,
            categories: HashSet::new(),
            since: None,
            removed: HashSet::new(),
            present: HashSet::new(),
        }
    }

    fn account(&self) -> i64 {
        self.ctx.account.id
    }

    fn check_cancel(&self) -> Result<(), RunError> {
        if self.ctx.cancel.is_cancelled() {
            Err(SyncError::Cancelled.into())
        } else {
            Ok(())
        }
    }

    pub(super) async fn sync(mut self) -> Result<SyncReport, RunError> {
        let folders = self.folders().await?;
        self.retry_skipped().await?;
        for (i, folder) in folders.iter().enumerate() {
            self.check_cancel()?;
            self.folder(folder).await?;
            self.ctx.progress.report(
                SyncPhase::Bodies,
                (i + 1) as u64,
                Some(folders.len() as u64),
            );
        }
        self.orphans().await?;
        self.writer.flush(Vec::new()).await?;
        self.ctx.progress.data_changed();
        let mut report = self.writer.finish(Vec::new()).await?;
        report.fetched = self.fetched;
        Ok(report)
    }

    /// Writes the folder tree and returns the ids of the folders to sync.
    /// Cursors of folders that no longer exist are forgotten.
    async fn folders(&mut self) -> Result<Vec<String>, RunError> {
        self.ctx.progress.report(SyncPhase::Folders, 0, None);
        let folders = self.client.folders().await?;
        let names: Vec<&'static str> = WELL_KNOWN.iter().map(|(n, _)| *n).collect();
        let roles = self.client.well_known(&names).await?;
        let ids: Vec<String> = folders.iter().map(|f| f.id.clone()).collect();
        for folder in &folders {
            self.writer
                .push(Change::Folder(folder_of(folder, &roles, &ids)))
                .await?;
        }
        let stored = self.ctx.store.folder_provider_ids(self.account()).await?;
        self.categories = stored
            .iter()
            .filter_map(|id| id.strip_prefix(CATEGORY_PREFIX))
            .map(str::to_owned)
            .collect();
        let mut keep = ids.clone();
        keep.extend(
            stored
                .into_iter()
                .filter(|id| id.starts_with(CATEGORY_PREFIX)),
        );
        self.writer.push(Change::KeepFolders(keep)).await?;
        let stale: Vec<CursorUpdate> = self
            .ctx
            .store
            .cursor_resources(self.account(), DELTA_PREFIX)
            .await?
            .into_iter()
            .filter(|r| !ids.iter().any(|id| delta_resource(id) == *r))
            .map(CursorUpdate::clear)
            .collect();
        self.writer.commit(stale).await?;
        self.ctx.progress.report(
            SyncPhase::Folders,
            folders.len() as u64,
            Some(folders.len() as u64),
        );
        Ok(ids)
    }

    /// Syncs one folder: its stored round, or a first one; a refused token
    /// means exactly one fresh round that reconciles. A folder deleted since
    /// the tree was listed (404) is passed over: the next run's listing
    /// takes it out, with its cursor.
    async fn folder(&mut self, folder: &str) -> Result<(), RunError> {
        match self.folder_rounds(folder).await {
            Err(RunError::Provider(e)) if e.status() == Some(404) => {
                tracing::info!(
                    account = self.account(),
                    folder,
                    error = %e,
                    "a Graph folder went while this run synced; the next run takes it out"
                );
                Ok(())
            }
            other => other,
        }
    }

    async fn folder_rounds(&mut self, folder: &str) -> Result<(), RunError> {
        let resource = delta_resource(folder);
        match self.ctx.store.cursor(self.account(), &resource).await? {
            Some(link) => match self.round(folder, Some(link)).await {
                Err(RunError::Provider(e)) if token_expired(&e) => {
                    tracing::warn!(
                        account = self.account(),
                        folder,
                        error = %e,
                        "Graph no longer honours this folder's delta token: one full resync"
                    );
                    self.round(folder, None).await
                }
                other => other,
            },
            None => self.round(folder, None).await,
        }
    }

    /// One delta round of `folder`, from `link` or from the start. A round
    /// from the start takes out of the folder what it no longer holds.
    async fn round(&mut self, folder: &str, link: Option<String>) -> Result<(), RunError> {
        let resource = delta_resource(folder);
        let fresh = link.is_none();
        let mut seen: HashSet<String> = HashSet::new();
        let mut page = match link {
            Some(link) => self.client.delta_page(&link).await?,
            None => {
                let since = self.since().await?;
                self.client.delta_start(folder, since.as_deref()).await?
            }
        };
        loop {
            self.check_cancel()?;
            let DeltaPage {
                value,
                next_link,
                delta_link,
            } = page;
            self.fetched += value.len() as u64;
            if fresh {
                seen.extend(
                    value
                        .iter()
                        .filter(|e| !is_removed(e))
                        .filter_map(|e| e["id"].as_str().map(str::to_owned)),
                );
            }
            self.apply_page(folder, value).await?;
            match (next_link, delta_link) {
                (Some(next), _) => {
                    // A fresh round must see every page to reconcile: its
                    // progress is not kept across runs.
                    if !fresh {
                        self.writer
                            .commit(vec![CursorUpdate::set(&resource, &next)])
                            .await?;
                    }
                    page = self.client.delta_page(&next).await?;
                }
                (None, Some(delta)) => {
                    if fresh {
                        self.reconcile(folder, &seen).await?;
                    }
                    self.writer
                        .commit(vec![CursorUpdate::set(&resource, delta)])
                        .await?;
                    return Ok(());
                }
                (None, None) => {
                    return Err(ProviderError::Malformed {
                        service: SERVICE,
                        message: "a delta page had neither a next link nor a delta link".into(),
                    }
                    .into())
                }
            }
        }
    }

    /// Converts one page (off the async workers: bodies are sanitised) and
    /// queues it, categories first.
    async fn apply_page(
        &mut self,
        folder: &str,
        entries: Vec<serde_json::Value>,
    ) -> Result<(), RunError> {
        let account = self.account();
        let folder_id = folder.to_owned();
        for entry in &entries {
            if let Some(id) = entry["id"].as_str() {
                if is_removed(entry) {
                    self.removed.insert(id.to_owned());
                } else {
                    self.present.insert(id.to_owned());
                }
            }
        }
        let changes = crate::cpu::run(move || page_changes(account, &folder_id, &entries))
            .await
            .map_err(|e| ProviderError::Malformed {
                service: SERVICE,
                message: e.to_string(),
            })?;
        for change in changes {
            self.push_message(change).await?;
        }
        Ok(())
    }

    /// Queues a change, writing first the label rows of categories not seen
    /// before (a message can only join folders that exist).
    async fn push_message(&mut self, change: Change) -> Result<(), RunError> {
        if let Change::Message { row, .. } = &change {
            let new: Vec<String> = row
                .folders
                .iter()
                .filter_map(|f| f.strip_prefix(CATEGORY_PREFIX))
                .filter(|c| !self.categories.contains(*c))
                .map(str::to_owned)
                .collect();
            for category in new {
                self.writer
                    .push(Change::Folder(category_folder(&category)))
                    .await?;
                self.categories.insert(category);
            }
        }
        self.writer.push(change).await?;
        Ok(())
    }

    /// After a fresh round of `folder`: what is stored in it (inside the
    /// round's window) but was not in the round has left it.
    async fn reconcile(&mut self, folder: &str, seen: &HashSet<String>) -> Result<(), RunError> {
        self.writer.flush(Vec::new()).await?;
        let since_ms = self.since().await?.as_deref().and_then(parse_date);
        let stored = self
            .ctx
            .store
            .messages_in_folder(self.account(), folder, since_ms)
            .await?;
        for id in stored.into_iter().filter(|id| !seen.contains(id)) {
            self.writer
                .push(Change::LeaveFolder {
                    provider_id: id,
                    folder: folder.to_owned(),
                })
                .await?;
        }
        Ok(())
    }

    /// The oldest `receivedDateTime` a fresh round asks for: the window's
    /// start, or later when the mailbox holds more than the window's cap
    /// (the date of the newest messages that fit), computed once a run.
    async fn since(&mut self) -> Result<Option<String>, RunError> {
        if let Some(since) = &self.since {
            return Ok(since.clone());
        }
        let window_start = self.window.start_ms(store::now_ms());
        let cap_start = if self.window.max_messages == usize::MAX {
            None
        } else {
            self.client
                .nth_newest_date(self.window.max_messages)
                .await?
                .as_deref()
                .and_then(parse_date)
        };
        let since = match (window_start, cap_start) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
        .map(format_date);
        self.since = Some(since.clone());
        Ok(since)
    }

    /// Fetches again what an earlier run could not.
    async fn retry_skipped(&mut self) -> Result<(), RunError> {
        let ids = retry_ids(&self.ctx.store, self.account(), RETRY_CURSOR).await?;
        self.lookup(ids).await
    }

    /// Messages left in no folder, and stored ones `@removed` from a
    /// folder that no round brought in elsewhere: deleted at Graph, or
    /// moved where this run did not see them arrive. Looked up by id to
    /// tell which.
    async fn orphans(&mut self) -> Result<(), RunError> {
        self.writer.flush(Vec::new()).await?;
        let mut orphans = self
            .ctx
            .store
            .messages_without_folder(self.account(), CATEGORY_PREFIX)
            .await?;
        let unplaced: Vec<String> = self
            .removed
            .iter()
            .filter(|id| !self.present.contains(*id) && !orphans.contains(*id))
            .cloned()
            .collect();
        orphans.extend(
            self.ctx
                .store
                .stored_provider_ids(self.account(), &unplaced)
                .await?,
        );
        self.lookup(orphans).await
    }

    /// Looks `ids` up by id, in batches: found ones are written as they
    /// are now, gone ones deleted, unreadable ones kept for the next run.
    async fn lookup(&mut self, ids: Vec<String>) -> Result<(), RunError> {
        for chunk in ids.chunks(MAX_REQUESTS * 4) {
            self.check_cancel()?;
            let requests = chunk
                .iter()
                .map(|id| GraphClient::get_request(id))
                .collect();
            let answers = self.client.batch(requests).await?;
            for (id, answer) in chunk.iter().zip(answers) {
                self.fetched += 1;
                let change = match answer {
                    Ok(found) => match message_change(self.account(), &found.body) {
                        Some(change) => change,
                        None => Change::Skip {
                            provider_id: id.clone(),
                            reason: "Graph answered without an id".into(),
                        },
                    },
                    Err(e) if e.status() == Some(404) => Change::Delete(id.clone()),
                    Err(e @ ProviderError::Status { status: 401, .. }) => return Err(e.into()),
                    Err(e) => Change::Skip {
                        provider_id: id.clone(),
                        reason: e.to_string(),
                    },
                };
                self.push_message(change).await?;
            }
        }
        Ok(())
    }
}
