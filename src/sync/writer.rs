//! The one way a sync source writes: a provider-neutral batch writer.
//!
//! A source describes what it learned as [`Change`]s (a folder, a message,
//! its new flags, a deletion, a work item ...) and pushes them; the writer
//! groups them into transactions of at most [`WRITE_BATCH`] rows and
//! commits each on its own task, so the source keeps fetching while the
//! previous batch is written (at most [`BATCHES_IN_FLIGHT`] wait). A
//! [`BatchWriter::commit`] with a cursor puts the cursor, and the list of
//! items to fetch again next run, in the same transaction as the last rows
//! it covers: a crash never leaves a cursor ahead of its data, and nothing
//! skipped is forgotten.
//!
//! After each commit the writer hands the new messages to the categoriser
//! without ever waiting for it: sync runs at its own speed and
//! categorisation catches up behind it.
//!
//! No provider writes SQL of its own; they all go through here.

use std::collections::{HashMap, HashSet};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{SyncContext, SyncError, SyncReport};
use crate::links::{self, KnownOrg};
use crate::model::{AccountId, Category, MessageId, StateChange, WorkItemComment};
use crate::store::{
    self, cursors, FlagChange, NewFolder, NewMessage, NewMessageBody, NewWorkItem, Store,
    StoreError, WRITE_BATCH,
};

/// Batches handed to the writing task and not yet committed, at most:
/// one being written while the next one fills.
pub const BATCHES_IN_FLIGHT: usize = 2;

/// The most ids kept for fetching again; beyond it, the next full sync
/// finds them.
pub const MAX_RETRY: usize = 1_000;

/// One thing a source learned about the account.
#[derive(Debug, Clone)]
pub enum Change {
    /// A folder or label exists (parents are pushed before their children).
    Folder(NewFolder),
    /// Only these folders exist: the others were deleted at the provider.
    KeepFolders(Vec<String>),
    /// A message, new or changed, with its body when it was fetched whole.
    Message {
        /// The message's row.
        row: Box<NewMessage>,
        /// Its body and attachments, when fetched.
        body: Option<Box<NewMessageBody>>,
        /// The provider's own category signal, if any.
        category: Option<Category>,
    },
    /// A message the provider answered unreadably: its headers (if known
    /// already) stay, its flags and folders change, and the body says why.
    Unreadable {
        /// What is known of the message.
        row: Box<NewMessage>,
        /// The note that stands in for its body.
        body: Box<NewMessageBody>,
        /// Why, for the run's report.
        reason: String,
    },
    /// A stored message's flags and folders changed.
    Flags(FlagChange),
    /// A message left one folder (moved or deleted there).
    LeaveFolder {
        /// The message's provider id.
        provider_id: String,
        /// The folder's provider id.
        folder: String,
    },
    /// A message is gone at the provider.
    Delete(String),
    /// A message could not be fetched this run: fetch it again next run.
    Skip {
        /// The message's provider id.
        provider_id: String,
        /// Why.
        reason: String,
    },
    /// A work item, new or changed (the stored one is kept when newer),
    /// with its comments and state history when they were fetched.
    WorkItem {
        /// The item.
        item: Box<NewWorkItem>,
        /// Its comments (id, comment), oldest first, when fetched.
        comments: Option<Vec<(i64, WorkItemComment)>>,
        /// Its state changes, when fetched.
        history: Option<Vec<StateChange>>,
    },
    /// The states a project's work item type allows, in order, with their
    /// categories.
    TypeStates {
        /// The project.
        project: String,
        /// The type (Bug, Task ...).
        item_type: String,
        /// (state, category), in the process's order.
        states: Vec<(String, String)>,
    },
    /// A work item is gone, or left every synced query.
    DeleteWorkItem(i64),
}

/// A cursor to save with a commit: `None` forgets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorUpdate {
    /// The resource (`gmail.history`, `graph.delta.<folder>` ...).
    pub resource: String,
    /// The new position.
    pub value: Option<String>,
}

impl CursorUpdate {
    /// Saves `value` for `resource`.
    pub fn set(resource: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            value: Some(value.into()),
        }
    }

    /// Forgets `resource`.
    pub fn clear(resource: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            value: None,
        }
    }
}

/// One transaction's worth of work for the writing task.
#[derive(Debug)]
struct Batch {
    changes: Vec<Change>,
    cursors: Vec<CursorUpdate>,
    /// Answered once this batch is committed.
    done: Option<oneshot::Sender<()>>,
}

/// Writes a run's changes in batches on a task of its own. Dropping it
/// before [`BatchWriter::finish`] aborts the task: an open transaction
/// rolls back, and nothing after the last commit is kept.
#[derive(Debug)]
pub struct BatchWriter {
    pending: Vec<Change>,
    tx: Option<mpsc::Sender<Batch>>,
    task: Option<JoinHandle<Result<Tally, SyncError>>>,
}

impl Drop for BatchWriter {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl BatchWriter {
    /// A writer for the run `ctx`. Ids of messages skipped this run are
    /// saved under `retry_resource` with every cursor, for the next run to
    /// fetch again (see [`retry_ids`]).
    pub fn start(ctx: &SyncContext, retry_resource: Option<&'static str>) -> Self {
        let (tx, rx) = mpsc::channel(BATCHES_IN_FLIGHT.saturating_sub(1).max(1));
        let task = Task {
            orgs: None,
            ctx: ctx.clone(),
            retry_resource,
            skipped: HashMap::new(),
            known: None,
            tally: Tally::default(),
            counted: HashSet::new(),
        };
        Self {
            pending: Vec::with_capacity(WRITE_BATCH),
            tx: Some(tx),
            // In the run's span, so its lines name the account and run.
            task: Some(tokio::spawn(tracing::Instrument::instrument(
                task.run(rx),
                tracing::Span::current(),
            ))),
        }
    }

    /// Queues `change`; a full batch goes to the writing task (waiting only
    /// when [`BATCHES_IN_FLIGHT`] are already on their way).
    pub async fn push(&mut self, change: Change) -> Result<(), SyncError> {
        self.pending.push(change);
        if self.pending.len() >= WRITE_BATCH {
            self.send(Vec::new(), None).await?;
        }
        Ok(())
    }

    /// Queues every change of `changes`.
    pub async fn extend(
        &mut self,
        changes: impl IntoIterator<Item = Change>,
    ) -> Result<(), SyncError> {
        for change in changes {
            self.push(change).await?;
        }
        Ok(())
    }

    /// Commits what is pending together with `cursors` (and the retry
    /// list) in one transaction, without waiting for it to land.
    pub async fn commit(&mut self, cursors: Vec<CursorUpdate>) -> Result<(), SyncError> {
        self.send(cursors, None).await
    }

    /// Commits what is pending (with `cursors`) and waits until it is
    /// durable: for a source that must read what it wrote.
    pub async fn flush(&mut self, cursors: Vec<CursorUpdate>) -> Result<(), SyncError> {
        let (done, landed) = oneshot::channel();
        self.send(cursors, Some(done)).await?;
        match landed.await {
            Ok(()) => Ok(()),
            Err(_) => Err(self.failure().await),
        }
    }

    /// Writes what is pending, waits for every batch, and returns what the
    /// run stored, updated, deleted and skipped.
    pub async fn finish(mut self, cursors: Vec<CursorUpdate>) -> Result<SyncReport, SyncError> {
        if !self.pending.is_empty() || !cursors.is_empty() {
            self.send(cursors, None).await?;
        }
        self.tx = None;
        let Some(task) = self.task.take() else {
            return Err(SyncError::Cancelled);
        };
        let tally = join(task).await?;
        Ok(tally.into_report())
    }

    async fn send(
        &mut self,
        cursors: Vec<CursorUpdate>,
        done: Option<oneshot::Sender<()>>,
    ) -> Result<(), SyncError> {
        let changes = std::mem::replace(&mut self.pending, Vec::with_capacity(WRITE_BATCH));
        let batch = Batch {
            changes,
            cursors,
            done,
        };
        let Some(tx) = &self.tx else {
            return Err(SyncError::Cancelled);
        };
        if tx.send(batch).await.is_err() {
            // The task stopped: its error says why.
            return Err(self.failure().await);
        }
        Ok(())
    }

    async fn failure(&mut self) -> SyncError {
        self.tx = None;
        match self.task.take() {
            Some(task) => match join(task).await {
                Err(e) => e,
                Ok(_) => SyncError::Cancelled,
            },
            None => SyncError::Cancelled,
        }
    }
}

async fn join(task: JoinHandle<Result<Tally, SyncError>>) -> Result<Tally, SyncError> {
    match task.await {
        Ok(result) => result,
        Err(e) if e.is_cancelled() => Err(SyncError::Cancelled),
        Err(e) => Err(SyncError::Provider {
            code: crate::model::SyncErrorCode::Internal,
            message: format!("the sync writer failed: {e}"),
        }),
    }
}

/// The ids an earlier run of `account` could not fetch and left under
/// `resource`, to fetch again.
pub async fn retry_ids(
    store: &Store,
    account: AccountId,
    resource: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(store
        .cursor(account, resource)
        .await?
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// What the writer did, for the run's report.
#[derive(Debug, Default)]
struct Tally {
    stored: u64,
    updated: u64,
    deleted: u64,
    skipped: Vec<String>,
    new_messages: Vec<MessageId>,
}

impl Tally {
    fn into_report(self) -> SyncReport {
        let mut report = SyncReport {
            stored: self.stored,
            updated: self.updated,
            deleted: self.deleted,
            skipped: self.skipped,
            ..SyncReport::default()
        };
        report.note_new(&self.new_messages);
        report
    }
}

/// The writing task's state.
struct Task {
    /// The Azure DevOps organisations whose links count (read once, on the
    /// first message with a body).
    orgs: Option<Vec<KnownOrg>>,
    ctx: SyncContext,
    retry_resource: Option<&'static str>,
    /// Ids to fetch again, with why.
    skipped: HashMap<String, String>,
    /// Provider ids of the messages stored before this run (read once, on
    /// the first message), to tell new from updated.
    known: Option<HashSet<String>>,
    tally: Tally,
    /// Ids already counted as stored or updated (a message may be written
    /// twice in a run: headers, then whole).
    counted: HashSet<String>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Batch>) -> Result<Tally, SyncError> {
        while let Some(batch) = rx.recv().await {
            if self.ctx.cancel.is_cancelled() {
                return Err(SyncError::Cancelled);
            }
            self.write(batch).await?;
        }
        let mut still: Vec<String> = self
            .skipped
            .iter()
            .map(|(id, why)| format!("{id}: {why}"))
            .collect();
        still.sort();
        self.tally.skipped.extend(still);
        Ok(self.tally)
    }

    fn account(&self) -> AccountId {
        self.ctx.account.id
    }

    async fn write(&mut self, batch: Batch) -> Result<(), SyncError> {
        let Batch {
            changes,
            cursors,
            done,
        } = batch;
        if changes.is_empty() && cursors.is_empty() {
            if let Some(done) = done {
                let _ = done.send(());
            }
            return Ok(());
        }
        if self.known.is_none() && changes.iter().any(|c| matches!(c, Change::Message { .. })) {
            let known = self.ctx.store.message_dates(self.account()).await?;
            self.known = Some(known.into_keys().collect());
            self.orgs = Some(self.ctx.store.known_orgs().await?);
        }
        let rows = changes.len();
        let account = self.account();
        let mut new_ids = Vec::new();
        let mut last: Option<String> = None;
        let mut tx = self.ctx.store.begin_write().await?;
        // First, in the batch's own transaction: a run another process
        // overtook writes nothing more, so its older cursor never lands.
        // Saving a cursor outside a run still moves the generation on,
        // so that a run under way notices it.
        let expected = self.ctx.generation.as_ref().map(super::RunGeneration::get);
        let next_generation = if expected.is_some() || !cursors.is_empty() {
            Some(
                cursors::advance_generation(&mut tx, account, expected, !cursors.is_empty())
                    .await?
                    .ok_or(SyncError::Overtaken)?,
            )
        } else {
            None
        };
        for change in changes {
            if let Some(id) = self.apply(&mut tx, change, &mut new_ids).await? {
                last = Some(id);
            }
        }
        for cursor in &cursors {
            match &cursor.value {
                Some(value) => cursors::save(&mut tx, account, &cursor.resource, value).await?,
                None => cursors::clear(&mut tx, account, &cursor.resource).await?,
            }
        }
        if !cursors.is_empty() {
            if let Some(resource) = self.retry_resource {
                self.save_retry(&mut tx, resource).await?;
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        if let (Some(generation), Some(next)) = (&self.ctx.generation, next_generation) {
            generation.set(next);
        }
        self.tally.new_messages.extend_from_slice(&new_ids);
        let excess = self
            .tally
            .new_messages
            .len()
            .saturating_sub(super::source::NEW_MAIL_KEPT);
        self.tally.new_messages.drain(..excess);
        // After the commit, and never waiting: a categoriser that is behind
        // finds the rest in the store.
        self.ctx.categorise.offer(&new_ids);
        let cursor = cursors
            .iter()
            .map(|c| c.value.as_deref().unwrap_or("-"))
            .collect::<Vec<_>>()
            .join(",");
        // Crash tests read this line: what it names is durable.
        tracing::info!(
            account,
            rows,
            last = last.as_deref().unwrap_or("-"),
            cursor = if cursor.is_empty() { "-" } else { &cursor },
            "batch committed"
        );
        if let Some(done) = done {
            let _ = done.send(());
        }
        Ok(())
    }

    /// Applies one change; returns the provider id it concerned, if any.
    async fn apply(
        &mut self,
        tx: &mut store::WriteTx,
        change: Change,
        new_ids: &mut Vec<MessageId>,
    ) -> Result<Option<String>, StoreError> {
        let account = self.account();
        Ok(match change {
            Change::Folder(folder) => {
                store::upsert_folder(tx, account, &folder).await?;
                None
            }
            Change::KeepFolders(keep) => {
                store::prune_folders(tx, account, &keep).await?;
                None
            }
            Change::Message {
                row,
                body,
                category,
            } => {
                let id = store::upsert_message(tx, &row).await?;
                if let Some(category) = category {
                    store::set_provider_category(tx, id, category).await?;
                }
                if let Some(body) = &body {
                    store::put_body(tx, id, body).await?;
                    let refs = links::find(
                        row.from
                            .as_ref()
                            .map(|f| f.address.as_str())
                            .unwrap_or_default(),
                        &row.subject,
                        body.text.as_deref().unwrap_or_default(),
                        self.orgs.as_deref().unwrap_or_default(),
                    );
                    store::put_message_links(tx, id, &refs).await?;
                }
                self.skipped.remove(&row.provider_id);
                if self.counted.insert(row.provider_id.clone()) {
                    let known = self
                        .known
                        .as_ref()
                        .is_some_and(|k| k.contains(&row.provider_id));
                    if known {
                        self.tally.updated += 1;
                    } else {
                        self.tally.stored += 1;
                        new_ids.push(id);
                    }
                }
                Some(row.provider_id)
            }
            Change::Unreadable { row, body, reason } => {
                let flags = FlagChange {
                    provider_id: row.provider_id.clone(),
                    folders: row.folders.clone(),
                    unread: row.unread,
                    starred: row.starred,
                    category: None,
                };
                let id = match store::set_flags(tx, account, &flags).await? {
                    Some(id) => id,
                    None => store::upsert_message(tx, &row).await?,
                };
                store::put_body(tx, id, &body).await?;
                self.skipped.remove(&row.provider_id);
                self.tally
                    .skipped
                    .push(format!("{}: {reason}", row.provider_id));
                Some(row.provider_id)
            }
            Change::Flags(flags) => {
                if store::set_flags(tx, account, &flags).await?.is_some()
                    && self.counted.insert(flags.provider_id.clone())
                {
                    self.tally.updated += 1;
                }
                Some(flags.provider_id)
            }
            Change::LeaveFolder {
                provider_id,
                folder,
            } => {
                store::leave_folder(tx, account, &provider_id, &folder).await?;
                Some(provider_id)
            }
            Change::Delete(id) => {
                if store::delete_message(tx, account, &id).await? {
                    self.tally.deleted += 1;
                }
                self.skipped.remove(&id);
                Some(id)
            }
            Change::Skip {
                provider_id,
                reason,
            } => {
                self.skipped.insert(provider_id, reason);
                None
            }
            Change::WorkItem {
                item,
                comments,
                history,
            } => {
                let (id, before) = store::upsert_work_item(tx, account, &item).await?;
                if let Some(comments) = &comments {
                    store::put_work_item_comments(tx, id, comments).await?;
                }
                if let Some(history) = &history {
                    store::put_work_item_history(tx, id, history).await?;
                }
                match before {
                    None => self.tally.stored += 1,
                    Some(rev) if rev < item.rev => self.tally.updated += 1,
                    Some(_) => {}
                }
                Some(item.item_id.to_string())
            }
            Change::TypeStates {
                project,
                item_type,
                states,
            } => {
                store::put_type_states(tx, account, &project, &item_type, &states).await?;
                None
            }
            Change::DeleteWorkItem(item_id) => {
                if store::delete_work_item(tx, account, item_id).await? {
                    self.tally.deleted += 1;
                }
                Some(item_id.to_string())
            }
        })
    }

    async fn save_retry(&self, tx: &mut store::WriteTx, resource: &str) -> Result<(), StoreError> {
        let mut retry: Vec<&String> = self.skipped.keys().collect();
        retry.sort();
        retry.truncate(MAX_RETRY);
        if retry.is_empty() {
            cursors::clear(tx, self.account(), resource).await
        } else {
            let list = serde_json::to_string(&retry).map_err(|e| StoreError::Corrupt {
                table: "sync_cursors",
                detail: e.to_string(),
            })?;
            cursors::save(tx, self.account(), resource, &list).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountSettings, NewAccount, ProviderKind};
    use crate::sync::RunGeneration;

    /// A run of `account` on its own handle of the database at `path`,
    /// started from the generation stored now.
    async fn run_on(path: &std::path::Path, account: &crate::model::Account) -> SyncContext {
        let store = Store::open(path).await.expect("second handle");
        let (categorise, _queued) = crate::classify::CategoriseQueue::new(16);
        let generation = store.sync_generation(account.id).await.expect("generation");
        SyncContext {
            account: account.clone(),
            progress: super::super::Progress::new(
                account.id,
                super::super::LiveStates::new(crate::events::EventBus::new()),
            ),
            store,
            cancel: tokio_util::sync::CancellationToken::new(),
            secrets: crate::auth::Secrets::memory("tests"),
            categorise,
            generation: Some(RunGeneration::new(generation)),
        }
    }

    /// One run of `ctx` saving each of `positions` in a batch of its own.
    async fn save(ctx: &SyncContext, positions: &[&str]) -> Result<SyncReport, SyncError> {
        let mut writer = BatchWriter::start(ctx, None);
        for position in positions {
            writer
                .flush(vec![CursorUpdate::set("gmail.history", *position)])
                .await?;
        }
        writer.finish(Vec::new()).await
    }

    async fn stored(store: &Store, account: &crate::model::Account) -> Option<String> {
        store
            .cursor(account.id, "gmail.history")
            .await
            .expect("cursor")
    }

    #[tokio::test]
    async fn a_run_overtaken_by_another_process_cannot_move_the_cursor_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(crate::store::DATABASE_FILE);
        let store = Store::open(&path).await.expect("store");
        let account = store
            .upsert_account(&NewAccount {
                provider: ProviderKind::Gmail,
                address: "a@example.org".into(),
                display_name: "A".into(),
                settings: AccountSettings::offline(ProviderKind::Gmail),
                sync_enabled: true,
            })
            .await
            .expect("account");
        // Two processes start a run of the account at the same cursor,
        // each on its own connection pool to the one file.
        let slow = run_on(&path, &account).await;
        let fast = run_on(&path, &account).await;
        save(&fast, &["500"])
            .await
            .expect("the first run to finish saves its cursor");
        // The slower run, which read the cursor before the other saved,
        // ends with its older position: it must not land.
        let outcome = save(&slow, &["300"]).await;
        assert!(
            matches!(outcome, Err(SyncError::Overtaken)),
            "the overtaken run must be refused, got {outcome:?}"
        );
        assert_eq!(
            stored(&store, &account).await.as_deref(),
            Some("500"),
            "the cursor moved backwards"
        );
        // A run writing on after its own save is not refused.
        let next = run_on(&path, &account).await;
        save(&next, &["600", "700"])
            .await
            .expect("a run's own later batches");
        assert_eq!(stored(&store, &account).await.as_deref(), Some("700"));
    }
}
