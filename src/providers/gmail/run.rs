//! One Gmail sync run.
//!
//! A first run (or one after Gmail forgot our history id) is a full sync:
//! the profile's history id is read first, then labels, then the ids inside
//! the window (newest first, at most the configured number); headers come
//! first for the newest messages so the list fills at once, then every
//! message whole. Later runs read history since the stored id and apply it.
//!
//! Writes go in transactions of at most [`WRITE_BATCH`] rows, and no
//! transaction ever waits on the network. The history id is saved in the
//! last transaction, together with the ids of messages Gmail answered
//! unreadably this time (retried next run), so a crash never leaves the
//! cursor ahead of the mail and nothing skipped is forgotten.

use std::collections::{HashMap, HashSet};

use futures_util::stream::{self, StreamExt};

use super::client::{Format, GmailClient};
use super::convert::{category_of, convert, label_name_and_role, Fetched, Window};
use super::plan::{plan_full, plan_incremental, Op};
use crate::model::SyncPhase;
use crate::providers::limits::GMAIL_CONCURRENCY;
use crate::providers::ProviderError;
use crate::store::{self, cursors, StoreError, WRITE_BATCH};
use crate::sync::{SyncContext, SyncReport};

/// The cursor holding Gmail's history id.
pub const HISTORY_CURSOR: &str = "gmail.history";
/// The cursor holding ids to fetch again next run (JSON list).
pub const RETRY_CURSOR: &str = "gmail.retry";
/// Ids per messages.list page.
const LIST_PAGE: u32 = 500;
/// New messages whose headers are fetched first, so the list fills at once.
const FIRST_SCREEN: usize = 200;
/// The most ids kept for retrying; beyond it, the next full sync finds them.
const MAX_RETRY: usize = 1_000;

/// Label changes: message id and its labels after the change.
type Relabels = [(String, Vec<String>)];

/// Why a run stopped.
#[derive(Debug)]
pub(super) enum RunError {
    Provider(ProviderError),
    Store(StoreError),
    Cancelled,
}

impl From<ProviderError> for RunError {
    fn from(e: ProviderError) -> Self {
        Self::Provider(e)
    }
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<sqlx::Error> for RunError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

pub(super) struct Run<'a> {
    ctx: &'a SyncContext,
    client: GmailClient,
    window: Window,
    report: SyncReport,
    /// Ids already counted as stored or updated (a message may be written
    /// twice in a run: headers, then whole).
    counted: HashSet<String>,
    /// Ids Gmail answered unusably this run, with why; retried next run.
    skipped: HashMap<String, String>,
}

impl<'a> Run<'a> {
    pub(super) fn new(ctx: &'a SyncContext, client: GmailClient, window: Window) -> Self {
        Self {
            ctx,
            client,
            window,
            report: SyncReport::default(),
            counted: HashSet::new(),
            skipped: HashMap::new(),
        }
    }

    fn account(&self) -> i64 {
        self.ctx.account.id
    }

    fn check_cancel(&self) -> Result<(), RunError> {
        if self.ctx.cancel.is_cancelled() {
            Err(RunError::Cancelled)
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
                other => other?,
            },
            None => self.full().await?,
        }
        let mut skipped: Vec<String> = self
            .skipped
            .iter()
            .map(|(id, why)| format!("{id}: {why}"))
            .collect();
        skipped.sort();
        self.report.skipped.extend(skipped);
        Ok(self.report)
    }

    async fn labels(&mut self) -> Result<(), RunError> {
        self.ctx.progress.report(SyncPhase::Folders, 0, None);
        let labels = self.client.labels().await?;
        let mut tx = self.ctx.store.begin_write().await?;
        for label in &labels {
            let (name, role) = label_name_and_role(label);
            store::upsert_folder(&mut tx, self.account(), &label.id, &name, role).await?;
        }
        tx.commit().await?;
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

        let window_start = self
            .window
            .days
            .map(|d| store::now_ms() - i64::from(d) * 86_400_000);
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
                Some(t) => page_token = Some(t),
                None => break,
            }
        }
        self.report.fetched += remote.len() as u64;
        let local = self.ctx.store.message_dates(account).await?;
        // When the cap cut the listing short, what was not listed may still
        // exist: delete nothing. Otherwise delete what vanished inside the
        // window (everywhere, when the window is everything).
        let delete_from = if truncated {
            Some(i64::MAX)
        } else {
            window_start
        };
        let deletes: Vec<String> = plan_full(&remote, &local, delete_from)
            .into_iter()
            .filter_map(|op| match op {
                Op::Delete(id) => Some(id),
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
        self.fetch_phase(headers_first, Format::Metadata, SyncPhase::Headers, &known)
            .await?;
        self.ctx.progress.data_changed();

        let mut whole: Vec<String> = self.ctx.store.ids_without_body(account, &remote).await?;
        let mut queued: HashSet<String> = whole.iter().cloned().collect();
        whole.extend(fresh.into_iter().filter(|id| queued.insert(id.clone())));
        self.fetch_phase(whole, Format::Raw, SyncPhase::Bodies, &known)
            .await?;
        self.finish(&deletes, &[], &profile.history_id).await?;
        self.ctx.progress.data_changed();
        Ok(())
    }

    async fn incremental(&mut self, start: &str) -> Result<(), RunError> {
        let account = self.account();
        let mut records = Vec::new();
        let mut page_token: Option<String> = None;
        let latest = loop {
            self.check_cancel()?;
            let page = self.client.history(start, page_token.as_deref()).await?;
            records.extend(page.history);
            match page.next_page_token {
                Some(t) => page_token = Some(t),
                None => break page.history_id,
            }
        };
        let retry: Vec<String> = self
            .ctx
            .store
            .cursor(account, RETRY_CURSOR)
            .await?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let mut fetch = Vec::new();
        let mut deletes = Vec::new();
        let mut relabels = Vec::new();
        for op in plan_incremental(&records) {
            match op {
                Op::Fetch(id) => fetch.push(id),
                Op::Delete(id) => deletes.push(id),
                Op::SetLabels(id, labels) => relabels.push((id, labels)),
            }
        }
        let planned: HashSet<String> = fetch.iter().chain(&deletes).cloned().collect();
        fetch.extend(retry.iter().filter(|id| !planned.contains(*id)).cloned());
        if fetch.is_empty() && deletes.is_empty() && relabels.is_empty() {
            if latest != start || !retry.is_empty() {
                self.finish(&[], &[], &latest).await?;
            }
            return Ok(());
        }
        self.labels().await?;
        let known: HashSet<String> = self
            .ctx
            .store
            .message_dates(account)
            .await?
            .into_keys()
            .collect();
        self.report.fetched += fetch.len() as u64;
        self.fetch_phase(fetch, Format::Raw, SyncPhase::Bodies, &known)
            .await?;
        self.finish(&deletes, &relabels, &latest).await?;
        self.ctx.progress.data_changed();
        Ok(())
    }

    /// Fetches `ids` in `format` with bounded concurrency, converting each on
    /// the CPU pool, and writes them in batches.
    async fn fetch_phase(
        &mut self,
        ids: Vec<String>,
        format: Format,
        phase: SyncPhase,
        known: &HashSet<String>,
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
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while let Some(fetched) = fetches.next().await {
            batch.push(fetched?);
            if batch.len() == WRITE_BATCH {
                self.check_cancel()?;
                done += batch.len() as u64;
                self.write(std::mem::take(&mut batch), known, &[], &[], None)
                    .await?;
                self.ctx.progress.report(phase, done, Some(total));
            }
        }
        drop(fetches);
        self.check_cancel()?;
        done += batch.len() as u64;
        self.write(batch, known, &[], &[], None).await?;
        self.ctx.progress.report(phase, done, Some(total));
        Ok(())
    }

    /// Deletions and label changes in transactions of at most
    /// [`WRITE_BATCH`], the last one also saving the history id and the ids
    /// to retry.
    async fn finish(
        &mut self,
        deletes: &[String],
        relabels: &[(String, Vec<String>)],
        cursor: &str,
    ) -> Result<(), RunError> {
        let none_deleted: &[String] = &[];
        let none_relabelled: &Relabels = &[];
        let mut chunks: Vec<(&[String], &Relabels)> = deletes
            .chunks(WRITE_BATCH)
            .map(|d| (d, none_relabelled))
            .chain(relabels.chunks(WRITE_BATCH).map(|r| (none_deleted, r)))
            .collect();
        if chunks.is_empty() {
            chunks.push((none_deleted, none_relabelled));
        }
        let last = chunks.len() - 1;
        let nothing_known = HashSet::new();
        for (i, (d, r)) in chunks.into_iter().enumerate() {
            self.write(
                Vec::new(),
                &nothing_known,
                d,
                r,
                (i == last).then_some(cursor),
            )
            .await?;
        }
        Ok(())
    }

    /// One transaction: rows, bodies, label changes, deletions, and (with
    /// `cursor`) the history id and the ids to retry.
    async fn write(
        &mut self,
        batch: Vec<Fetched>,
        known: &HashSet<String>,
        deletes: &[String],
        relabels: &[(String, Vec<String>)],
        cursor: Option<&str>,
    ) -> Result<(), RunError> {
        if batch.is_empty() && deletes.is_empty() && relabels.is_empty() && cursor.is_none() {
            return Ok(());
        }
        let account = self.account();
        let rows = batch.len();
        let mut last = None;
        let mut new_ids = Vec::new();
        let mut tx = self.ctx.store.begin_write().await?;
        for item in batch {
            match item {
                Fetched::Message {
                    row,
                    body,
                    category,
                } => {
                    let id = store::upsert_message(&mut tx, &row).await?;
                    if let Some(category) = category {
                        store::set_provider_category(&mut tx, id, category).await?;
                    }
                    if let Some(body) = &body {
                        store::put_body(&mut tx, id, body).await?;
                    }
                    self.skipped.remove(&row.provider_id);
                    if self.counted.insert(row.provider_id.clone()) {
                        if known.contains(&row.provider_id) {
                            self.report.updated += 1;
                        } else {
                            self.report.stored += 1;
                            new_ids.push(id);
                        }
                    }
                    last = Some(row.provider_id);
                }
                Fetched::Unreadable { row, body, reason } => {
                    // Keep headers already stored; only labels and the note change.
                    let labels: Vec<String> = row
                        .folders
                        .iter()
                        .cloned()
                        .chain(row.unread.then(|| "UNREAD".to_owned()))
                        .collect();
                    let existing =
                        store::set_labels(&mut tx, account, &row.provider_id, &labels, None)
                            .await?;
                    let id = match existing {
                        Some(id) => id,
                        None => store::upsert_message(&mut tx, &row).await?,
                    };
                    store::put_body(&mut tx, id, &body).await?;
                    self.skipped.remove(&row.provider_id);
                    self.report
                        .skipped
                        .push(format!("{}: {reason}", row.provider_id));
                    last = Some(row.provider_id);
                }
                Fetched::Gone(id) => {
                    if store::delete_message(&mut tx, account, &id).await? {
                        self.report.deleted += 1;
                    }
                    self.skipped.remove(&id);
                }
                Fetched::Skipped { id, reason } => {
                    self.skipped.insert(id, reason);
                }
            }
        }
        for (id, labels) in relabels {
            if store::set_labels(&mut tx, account, id, labels, category_of(labels))
                .await?
                .is_some()
            {
                self.report.updated += 1;
            }
        }
        for id in deletes {
            if store::delete_message(&mut tx, account, id).await? {
                self.report.deleted += 1;
            }
        }
        if let Some(cursor) = cursor {
            cursors::save(&mut tx, account, HISTORY_CURSOR, cursor).await?;
            let mut retry: Vec<&String> = self.skipped.keys().collect();
            retry.sort();
            retry.truncate(MAX_RETRY);
            if retry.is_empty() {
                cursors::clear(&mut tx, account, RETRY_CURSOR).await?;
            } else {
                let list = serde_json::to_string(&retry).unwrap_or_else(|_| "[]".into());
                cursors::save(&mut tx, account, RETRY_CURSOR, &list).await?;
            }
        }
        tx.commit().await?;
        self.report.note_new(&new_ids);
        // Outside the transaction: waiting here must never hold the lock.
        self.ctx.categorise.push(&new_ids).await;
        // Crash tests read this line: what it names is durable.
        tracing::info!(
            account,
            rows,
            last = last.as_deref().unwrap_or("-"),
            cursor = cursor.unwrap_or("-"),
            "batch committed"
        );
        Ok(())
    }
}
