//! One Gmail sync run.
//!
//! A first run (or one after Gmail forgot our history id) is a full sync:
//! the profile's history id is read first, then labels, then the ids inside
//! the window (newest first, at most the configured number); headers come
//! first for the newest messages so the list fills at once, then every
//! message whole. Later runs read history since the stored id and apply it.
//!
//! Everything learned goes to the shared [`BatchWriter`], which commits in
//! batches while fetching goes on; the history id is committed last,
//! together with the ids of messages Gmail answered unreadably this time
//! (retried next run), so a crash never leaves the cursor ahead of the mail
//! and nothing skipped is forgotten.
//!
//! History is applied as it is read, [`HISTORY_CHUNK`] records at a time
//! (planned, fetched and committed before the next pages are asked for),
//! so a run holds at most one chunk and one page of it however long the
//! account was away. The chunks commit without the cursor: a run that stops
//! half-way leaves the old history id, and the next run reads the same
//! history again. Applying history twice is harmless (a fetch brings the
//! message as it is now, a label list is the state after the change, a
//! deletion of what is gone deletes nothing), so it converges.

use std::collections::HashSet;

use futures_util::stream::{self, StreamExt};

use super::client::{Format, GmailClient, HistoryRecord};
use super::convert::{convert, flags_of, folder_of};
use super::plan::{plan_full, plan_incremental, Op};
use crate::model::SyncPhase;
use crate::providers::clients::sync_error;
use crate::providers::limits::GMAIL_CONCURRENCY;
use crate::providers::window::Window;
use crate::providers::ProviderError;
use crate::store::{self, StoreError};
use crate::sync::writer::retry_ids;
use crate::sync::{BatchWriter, Change, CursorUpdate, SyncContext, SyncError, SyncReport};

/// The cursor holding Gmail's history id.
pub const HISTORY_CURSOR: &str = "gmail.history";
/// The cursor holding ids to fetch again next run (JSON list).
pub const RETRY_CURSOR: &str = "gmail.retry";
/// Ids per messages.list page.
const LIST_PAGE: u32 = 500;
/// New messages whose headers are fetched first, so the list fills at once.
const FIRST_SCREEN: usize = 200;
/// History pages one run reads (Gmail's pages hold at most 500 records):
/// more than this is a resync's worth of change (a full sync is bounded by
/// the window, and costs less than 100,000 records of history).
const MAX_HISTORY_PAGES: usize = 200;
/// History records planned and applied at once (two of Gmail's pages): what
/// a run holds of history is at most this plus the page being read.
pub const HISTORY_CHUNK: usize = 1_000;

/// Why a run stopped.
#[derive(Debug)]
pub(super) enum RunError {
    /// Gmail failed (a 404 on history means it forgot our history id).
    Provider(ProviderError),
    /// Anything else: storage, cancellation.
    Sync(SyncError),
    /// Gmail's history could not be read to its end (a page token came
    /// back twice, or too many pages): the run resyncs in full.
    HistoryUnusable(String),
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
            Self::Provider(e) => sync_error(e, "Gmail"),
            Self::HistoryUnusable(why) => sync_error(
                ProviderError::Malformed {
                    service: "Gmail",
                    message: why,
                },
                "Gmail",
            ),
        }
    }
}

pub(super) struct Run<'a> {
    ctx: &'a SyncContext,
    client: GmailClient,
    window: Window,
    writer: BatchWriter,
    fetched: u64,
}

impl<'a> Run<'a> {
    pub(super) fn new(ctx: &'a SyncContext, client: GmailClient, window: Window) -> Self {
        Self {
            ctx,
            client,
            window,
            writer: BatchWriter::start(ctx, Some(RETRY_CURSOR)),
            fetched: 0,
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
        match self
            .ctx
            .store
            .cursor(self.account(), HISTORY_CURSOR)
            .await?
        {
            Some(start) => match self.incremental(&start).await {
                Err(RunError::Provider(e)) if e.status() == Some(404) => {
                    tracing::warn!(
                        account = self.account(),
                        "Gmail no longer has history since {start}: full resync"
                    );
                    self.full().await?;
                }
                Err(RunError::HistoryUnusable(why)) => {
                    tracing::warn!(account = self.account(), "{why}: full resync");
                    self.full().await?;
                }
                other => other?,
            },
            None => self.full().await?,
        }
        let mut report = self.writer.finish(Vec::new()).await?;
        report.fetched = self.fetched;
        Ok(report)
    }

    async fn labels(&mut self) -> Result<(), RunError> {
        self.ctx.progress.report(SyncPhase::Folders, 0, None);
        let labels = self.client.labels().await?;
        let ids = labels.iter().map(|l| l.id.clone()).collect();
        for label in &labels {
            self.writer.push(Change::Folder(folder_of(label))).await?;
        }
        self.writer.push(Change::KeepFolders(ids)).await?;
        self.ctx.progress.report(
            SyncPhase::Folders,
            labels.len() as u64,
            Some(labels.len() as u64),
        );
        Ok(())
    }

    async fn full(&mut self) -> Result<(), RunError> {
        let account = self.account();
        let profile = self.client.profile().await?;
        self.labels().await?;
        self.check_cancel()?;

        let window_start = self.window.start_ms(store::now_ms());
        let q = self.window.days.map(|d| format!("newer_than:{d}d"));
        let mut remote: Vec<String> = Vec::new();
        let mut page_token: Option<String> = None;
        let mut truncated = false;
        loop {
            self.check_cancel()?;
            let page = self
                .client
                .list(q.as_deref(), page_token.as_deref(), LIST_PAGE)
                .await?;
            remote.extend(page.messages.into_iter().map(|m| m.id));
            self.ctx.progress.report(SyncPhase::Headers, 0, None);
            if remote.len() >= self.window.max_messages {
                remote.truncate(self.window.max_messages);
                truncated = true;
                break;
            }
            match page.next_page_token {
                // A page token seen before would loop for ever.
                Some(t) if page_token.as_deref() != Some(t.as_str()) => page_token = Some(t),
                _ => break,
            }
        }
        self.fetched += remote.len() as u64;
        let local = self.ctx.store.message_dates(account).await?;
        // When the cap cut the listing short, what was not listed may still
        // exist: delete nothing. Otherwise delete what vanished inside the
        // window (everywhere, when the window is everything).
        let delete_from = if truncated {
            Some(i64::MAX)
        } else {
            window_start
        };
        let deletes: Vec<Change> = plan_full(&remote, &local, delete_from)
            .into_iter()
            .filter_map(|op| match op {
                Op::Delete(id) => Some(Change::Delete(id)),
                _ => None,
            })
            .collect();

        // Headers first for the newest new messages (the list fills at once)
        // and for mail already stored (a resync: labels may have changed);
        // then every message lacking a body, whole: `raw` carries its labels
        // too, so this is about one request a message.
        let known: HashSet<String> = local.keys().cloned().collect();
        let fresh: Vec<String> = remote
            .iter()
            .filter(|id| !known.contains(*id))
            .cloned()
            .collect();
        let mut headers_first: Vec<String> = fresh.iter().take(FIRST_SCREEN).cloned().collect();
        headers_first.extend(remote.iter().filter(|id| known.contains(*id)).cloned());
        self.fetch_phase(headers_first, Format::Metadata, SyncPhase::Headers)
            .await?;
        self.writer.flush(Vec::new()).await?;
        self.ctx.progress.data_changed();

        let mut whole: Vec<String> = self.ctx.store.ids_without_body(account, &remote).await?;
        let mut queued: HashSet<String> = whole.iter().cloned().collect();
        whole.extend(fresh.into_iter().filter(|id| queued.insert(id.clone())));
        self.fetch_phase(whole, Format::Raw, SyncPhase::Bodies)
            .await?;
        self.writer.extend(deletes).await?;
        self.writer
            .flush(vec![CursorUpdate::set(HISTORY_CURSOR, profile.history_id)])
            .await?;
        self.ctx.progress.data_changed();
        Ok(())
    }

    async fn incremental(&mut self, start: &str) -> Result<(), RunError> {
        let retry = retry_ids(&self.ctx.store, self.account(), RETRY_CURSOR).await?;
        let mut records = Vec::new();
        let mut paging = HistoryPaging::default();
        let mut applied = false;
        let latest = loop {
            self.check_cancel()?;
            let page = self.client.history(start, paging.token()).await?;
            records.extend(page.history);
            if paging
                .next(page.next_page_token)
                .map_err(RunError::HistoryUnusable)?
                .is_none()
            {
                break page.history_id;
            }
            if records.len() >= HISTORY_CHUNK {
                // Applied and committed now, without the cursor: the
                // history id moves only once the last page is applied.
                let chunk = std::mem::take(&mut records);
                if self.apply_history(&chunk, &[], applied).await? {
                    applied = true;
                    self.writer.commit(Vec::new()).await?;
                    self.ctx.progress.data_changed();
                }
            }
        };
        applied |= self.apply_history(&records, &retry, applied).await?;
        if !applied {
            if latest != start || !retry.is_empty() {
                self.writer
                    .commit(vec![CursorUpdate::set(HISTORY_CURSOR, latest)])
                    .await?;
            }
            return Ok(());
        }
        self.writer
            .flush(vec![CursorUpdate::set(HISTORY_CURSOR, latest)])
            .await?;
        self.ctx.progress.data_changed();
        Ok(())
    }

    /// Plans one chunk of history records, fetches what it needs (and the
    /// ids of `retry` it does not already cover) and hands every change to
    /// the writer. Labels are read first, once a run (`labels_read`: an
    /// earlier chunk did). Returns whether there was anything to do.
    async fn apply_history(
        &mut self,
        records: &[HistoryRecord],
        retry: &[String],
        labels_read: bool,
    ) -> Result<bool, RunError> {
        let mut fetch = Vec::new();
        let mut changes = Vec::new();
        for op in plan_incremental(records) {
            match op {
                Op::Fetch(id) => fetch.push(id),
                Op::Delete(id) => changes.push(Change::Delete(id)),
                Op::SetLabels(id, labels) => changes.push(Change::Flags(flags_of(&id, &labels))),
            }
        }
        let planned: HashSet<String> = fetch
            .iter()
            .cloned()
            .chain(changes.iter().filter_map(|c| match c {
                Change::Delete(id) => Some(id.clone()),
                _ => None,
            }))
            .collect();
        fetch.extend(retry.iter().filter(|id| !planned.contains(*id)).cloned());
        if fetch.is_empty() && changes.is_empty() {
            return Ok(false);
        }
        if !labels_read {
            self.labels().await?;
        }
        self.fetched += fetch.len() as u64;
        self.fetch_phase(fetch, Format::Raw, SyncPhase::Bodies)
            .await?;
        self.writer.extend(changes).await?;
        Ok(true)
    }

    /// Fetches `ids` in `format` with bounded concurrency, converting each on
    /// the CPU pool, and hands them to the writer as they come.
    async fn fetch_phase(
        &mut self,
        ids: Vec<String>,
        format: Format,
        phase: SyncPhase,
    ) -> Result<(), RunError> {
        let total = ids.len() as u64;
        let mut done = 0u64;
        self.ctx.progress.report(phase, 0, Some(total));
        let account = self.account();
        let client = self.client.clone();
        let mut fetches = stream::iter(ids)
            .map(move |id| {
                let client = client.clone();
                async move {
                    let answer = client.message(&id, format).await;
                    let converted =
                        crate::cpu::run(move || convert(account, &id, answer, format)).await;
                    converted.unwrap_or_else(|e| {
                        Err(ProviderError::Malformed {
                            service: "Gmail",
                            message: e.to_string(),
                        })
                    })
                }
            })
            .buffer_unordered(GMAIL_CONCURRENCY);
        while let Some(change) = fetches.next().await {
            self.writer.push(change?).await?;
            done += 1;
            if done % 100 == 0 {
                self.check_cancel()?;
                self.ctx.progress.report(phase, done, Some(total));
            }
        }
        self.ctx.progress.report(phase, done, Some(total));
        Ok(())
    }
}

/// Follows Gmail's `nextPageToken`s through one history read, at most
/// [`MAX_HISTORY_PAGES`] pages and never the same token twice.
#[derive(Debug, Default)]
struct HistoryPaging {
    token: Option<String>,
    seen: HashSet<String>,
}

impl HistoryPaging {
    /// The token of the page to ask for next (`None`: the first).
    fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Takes the token a page named: `Ok(None)` when there is no further
    /// page, an error when the token came before or the pages run over.
    fn next(&mut self, next: Option<String>) -> Result<Option<&str>, String> {
        let Some(t) = next else { return Ok(None) };
        if self.seen.len() + 1 >= MAX_HISTORY_PAGES {
            return Err(format!(
                "Gmail's history runs past {MAX_HISTORY_PAGES} pages"
            ));
        }
        if !self.seen.insert(t.clone()) {
            return Err("Gmail's history named a page it had already given".into());
        }
        self.token = Some(t);
        Ok(self.token.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::{HistoryPaging, MAX_HISTORY_PAGES};

    #[test]
    fn history_paging_ends_on_a_token_seen_before() {
        let mut paging = HistoryPaging::default();
        // A, B, A, B ... never ends unless a token seen before stops it.
        let mut pages = 0;
        for token in ["A", "B"].iter().cycle().take(1000) {
            pages += 1;
            if !matches!(paging.next(Some((*token).to_owned())), Ok(Some(_))) {
                break;
            }
        }
        assert!(pages <= 3, "followed {pages} pages of a cycle");
    }

    #[test]
    fn history_paging_is_bounded_and_ends_on_the_last_page() {
        let mut paging = HistoryPaging::default();
        assert_eq!(paging.token(), None);
        assert_eq!(paging.next(Some("p1".into())), Ok(Some("p1")));
        assert_eq!(paging.next(None), Ok(None));
        let mut paging = HistoryPaging::default();
        let followed = (0..10 * MAX_HISTORY_PAGES)
            .take_while(|i| paging.next(Some(format!("p{i}"))).is_ok())
            .count();
        assert_eq!(
            followed + 1,
            MAX_HISTORY_PAGES,
            "pages read, first included"
        );
    }
}
