//! The outbox: what the user did locally (to mail, or to a work item) that
//! the provider has not been told yet.
//!
//! A user action changes the local rows and queues its provider-side twin in
//! one transaction, so the window shows the change at once and a crash
//! between the two can never lose it. The next sync run of the account
//! sends what is due before it reads anything, so the provider's answer
//! already reflects the user's change. Failed sends wait with exponential
//! delays; ones the provider refuses for good are dropped with a warning.

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::{now_ms, Store, StoreError};
use crate::model::{AccountId, DraftId, MessageId, WorkItemConflict, WorkItemEdit};

/// Ids of messages one outbox entry covers at most (Gmail's batchModify
/// takes 1,000).
pub const MAX_IDS_PER_ENTRY: usize = 500;

/// Sends of one entry before it is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum MailAction {
    /// Marked read or unread.
    SetUnread {
        /// The new state.
        unread: bool,
    },
    /// Starred or unstarred.
    SetStarred {
        /// The new state.
        starred: bool,
    },
    /// Taken out of the inbox.
    Archive,
    /// Moved to the trash.
    Trash,
    /// Moved to a folder of its account: out of where it is shown (for
    /// Microsoft 365 the one folder it is in; for Gmail the inbox, spam or
    /// trash) and into `folder`, which keeps its other labels and
    /// categories.
    MoveTo {
        /// The provider's id of the folder or label.
        folder: String,
    },
}

impl MailAction {
    /// The name stored in the outbox.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SetUnread { .. } => "setUnread",
            Self::SetStarred { .. } => "setStarred",
            Self::Archive => "archive",
            Self::Trash => "trash",
            Self::MoveTo { .. } => "moveTo",
        }
    }
}

/// What one queued entry asks the provider to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// An action on messages, by the provider's ids.
    Mail {
        /// What to do.
        action: MailAction,
        /// The messages.
        provider_ids: Vec<String>,
    },
    /// An edit of one work item, made on the revision the user saw.
    WorkItem(WorkItemChange),
    /// A draft's copy at the provider, or its send.
    Draft(DraftAction),
}

/// What happens to a draft at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftAction {
    /// Put the draft's latest version in the provider's Drafts.
    Save {
        /// The local draft.
        draft: DraftId,
    },
    /// Send it (see `crate::providers::send` for why a retry never sends
    /// twice).
    Send {
        /// The local draft.
        draft: DraftId,
    },
    /// Delete the provider's copy of a discarded draft.
    Delete {
        /// Gmail's draft id.
        provider_draft_id: Option<String>,
        /// The draft's message id.
        provider_message_id: Option<String>,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DraftPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    draft: Option<DraftId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider_draft_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider_message_id: Option<String>,
}

impl DraftAction {
    /// The name stored in the outbox.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Save { .. } => "draft.save",
            Self::Send { .. } => "draft.send",
            Self::Delete { .. } => "draft.delete",
        }
    }
    /// The local draft it concerns, while it exists.
    pub fn draft(&self) -> Option<DraftId> {
        match self {
            Self::Save { draft } | Self::Send { draft } => Some(*draft),
            Self::Delete { .. } => None,
        }
    }

    fn payload(&self) -> Result<String, StoreError> {
        let payload = match self {
            Self::Save { draft } | Self::Send { draft } => DraftPayload {
                draft: Some(*draft),
                provider_draft_id: None,
                provider_message_id: None,
            },
            Self::Delete {
                provider_draft_id,
                provider_message_id,
            } => DraftPayload {
                draft: None,
                provider_draft_id: provider_draft_id.clone(),
                provider_message_id: provider_message_id.clone(),
            },
        };
        json(&payload)
    }

    fn parse(name: &str, payload: &str) -> Result<Self, serde_json::Error> {
        let p: DraftPayload = serde_json::from_str(payload)?;
        let draft = || {
            p.draft
                .ok_or_else(|| serde::de::Error::custom("a draft entry without its draft"))
        };
        Ok(match name {
            "draft.save" => Self::Save { draft: draft()? },
            "draft.send" => Self::Send { draft: draft()? },
            _ => Self::Delete {
                provider_draft_id: p.provider_draft_id,
                provider_message_id: p.provider_message_id,
            },
        })
    }
}

/// Queues `action` for `account`, due at `due` (Unix ms), as part of a
/// transaction; returns the entry's id.
pub(super) async fn insert_entry_at(
    tx: &mut SqliteConnection,
    account: AccountId,
    action: &DraftAction,
    due: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (account_id, action, payload, created_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(account)
    .bind(action.name())
    .bind(action.payload()?)
    .bind(now_ms())
    .bind(due)
    .fetch_one(&mut *tx)
    .await?)
}

impl Action {
    /// The name stored in the outbox.
    pub fn name(&self) -> String {
        match self {
            Self::Mail { action, .. } => action.name().to_owned(),
            Self::WorkItem(w) => format!("wi.{}", w.edit.name()),
            Self::Draft(d) => d.name().to_owned(),
        }
    }

    /// How many things it acts on.
    pub fn count(&self) -> usize {
        match self {
            Self::Mail { provider_ids, .. } => provider_ids.len(),
            Self::WorkItem(_) | Self::Draft(_) => 1,
        }
    }
}

/// An edit of a work item, as queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItemChange {
    /// The item's number.
    pub item: i64,
    /// The revision the user saw: the edit is sent with a test of it, so
    /// it never overwrites a change the user did not see.
    pub rev: i64,
    /// What the user wants.
    pub edit: WorkItemEdit,
}

/// One queued action of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Row id.
    pub id: i64,
    /// The account.
    pub account: AccountId,
    /// What to do.
    pub action: Action,
    /// Sends tried so far.
    pub attempts: i64,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(flatten)]
    action: MailAction,
    ids: Vec<String>,
}

/// Applies `action` to the local rows of `ids` and queues it for each
/// account the messages belong to, as part of `tx`. Returns the accounts
/// touched. Unknown ids are ignored (the message may have just been deleted).
pub async fn apply_locally(
    tx: &mut SqliteConnection,
    ids: &[MessageId],
    action: MailAction,
) -> Result<Vec<AccountId>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT id, account_id, provider_id FROM messages WHERE id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(") ORDER BY account_id, id");
    let rows = q.build().fetch_all(&mut *tx).await?;
    let mut by_account: Vec<(AccountId, Vec<String>)> = Vec::new();
    for row in &rows {
        let id: MessageId = row.try_get("id")?;
        let account: AccountId = row.try_get("account_id")?;
        let provider_id: String = row.try_get("provider_id")?;
        change_row(tx, id, account, &action).await?;
        match by_account.last_mut() {
            Some((a, list)) if *a == account => list.push(provider_id),
            _ => by_account.push((account, vec![provider_id])),
        }
    }
    for (account, provider_ids) in &by_account {
        for chunk in provider_ids.chunks(MAX_IDS_PER_ENTRY) {
            let payload = json(&Payload {
                action: action.clone(),
                ids: chunk.to_vec(),
            })?;
            insert_entry(tx, *account, action.name(), &payload).await?;
        }
    }
    Ok(by_account.into_iter().map(|(a, _)| a).collect())
}

/// Inserts an entry due now; returns its id.
async fn insert_entry(
    tx: &mut SqliteConnection,
    account: AccountId,
    action: &str,
    payload: &str,
) -> Result<i64, StoreError> {
    let now = now_ms();
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (account_id, action, payload, created_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(account)
    .bind(action)
    .bind(payload)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?)
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt(&e))
}

fn corrupt(e: &serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        table: "outbox",
        detail: e.to_string(),
    }
}

/// Reads a stored entry back.
fn parse_action(name: &str, payload: &str) -> Result<Action, serde_json::Error> {
    if name.starts_with("wi.") {
        return Ok(Action::WorkItem(serde_json::from_str(payload)?));
    }
    if name.starts_with("draft.") {
        return Ok(Action::Draft(DraftAction::parse(name, payload)?));
    }
    let p: Payload = serde_json::from_str(payload)?;
    Ok(Action::Mail {
        action: p.action,
        provider_ids: p.ids,
    })
}

/// The local half of an action on one message.
async fn change_row(
    tx: &mut SqliteConnection,
    id: MessageId,
    account: AccountId,
    action: &MailAction,
) -> Result<(), StoreError> {
    match action {
        MailAction::SetUnread { unread } => {
            sqlx::query("UPDATE messages SET unread = ? WHERE id = ?")
                .bind(unread)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        MailAction::SetStarred { starred } => {
            sqlx::query("UPDATE messages SET starred = ? WHERE id = ?")
                .bind(starred)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            set_role_membership(tx, id, account, "starred", *starred).await?;
        }
        MailAction::Archive => {
            set_role_membership(tx, id, account, "inbox", false).await?;
            // Where the provider has an Archive folder (Microsoft 365), the
            // message moves there; Gmail's archive is no label at all.
            set_role_membership(tx, id, account, "archive", true).await?;
        }
        MailAction::Trash => {
            sqlx::query("DELETE FROM message_folders WHERE message_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            set_role_membership(tx, id, account, "trash", true).await?;
        }
        MailAction::MoveTo { folder } => {
            // Where the message is shown: a Microsoft 365 message is in
            // exactly one folder (categories are labels, not folders); a
            // Gmail message leaves the inbox, spam or trash and keeps its
            // other labels, as Gmail's own "Move to" does.
            sqlx::query(
                "DELETE FROM message_folders WHERE message_id = ?1 AND folder_id IN
                   (SELECT f.id FROM folders f JOIN accounts a ON a.id = f.account_id
                     WHERE f.account_id = ?2 AND f.provider_id <> ?3
                       AND ((a.provider = 'graph' AND f.provider_id NOT LIKE 'category:%')
                            OR f.role IN ('inbox', 'spam', 'trash')))",
            )
            .bind(id)
            .bind(account)
            .bind(folder)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT OR IGNORE INTO message_folders (message_id, folder_id)
                 SELECT ?, id FROM folders WHERE account_id = ? AND provider_id = ?",
            )
            .bind(id)
            .bind(account)
            .bind(folder)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// Puts message `id` into (or takes it out of) the account's folder with
/// `role`, when the account has one.
async fn set_role_membership(
    tx: &mut SqliteConnection,
    id: MessageId,
    account: AccountId,
    role: &str,
    member: bool,
) -> Result<(), StoreError> {
    let sql = if member {
        "INSERT OR IGNORE INTO message_folders (message_id, folder_id)
         SELECT ?, id FROM folders WHERE account_id = ? AND role = ?"
    } else {
        "DELETE FROM message_folders WHERE message_id = ? AND folder_id IN
         (SELECT id FROM folders WHERE account_id = ? AND role = ?)"
    };
    sqlx::query(sql)
        .bind(id)
        .bind(account)
        .bind(role)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// How long a claim on an entry holds (see [`Store::claim_outbox`]): longer
/// than any one send takes with its timeouts; a claim left by a process
/// that died lapses after it.
pub const CLAIM_LEASE_MS: i64 = 20 * 60 * 1000;

/// Who claims entries in this process: the pid and the moment the first
/// claim was made, so a restarted process with a reused pid is another.
pub fn claimant() -> &'static str {
    static OWNER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OWNER.get_or_init(|| format!("{}@{}", std::process::id(), now_ms()))
}

impl Store {
    /// Claims the account's oldest entry that is due now and not claimed by
    /// anyone else (or whose claim lapsed), for `owner`, atomically: of two
    /// processes (or runs) asking at once, exactly one gets each entry, so
    /// an action is never sent twice at the same time. The entry stays
    /// claimed until [`Store::outbox_done`], [`Store::outbox_failed`],
    /// [`Store::outbox_conflict`], [`Store::outbox_dropped`] or
    /// [`Store::outbox_release`] settles it. Entries whose payload no longer
    /// reads are dropped with a warning.
    pub async fn claim_outbox(
        &self,
        account: AccountId,
        owner: &str,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        loop {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            let row = sqlx::query(
                "UPDATE outbox SET claimed_by = ?1, lease_until = ?2 + ?3
                  WHERE id = (SELECT id FROM outbox
                               WHERE account_id = ?4 AND state = 'pending'
                                 AND next_attempt_at <= ?2
                                 AND (claimed_by IS NULL OR lease_until <= ?2)
                               ORDER BY id LIMIT 1)
                  RETURNING id, action, payload, attempts",
            )
            .bind(owner)
            .bind(now)
            .bind(CLAIM_LEASE_MS)
            .bind(account)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let id: i64 = row.try_get("id")?;
            let name: String = row.try_get("action")?;
            let payload: String = row.try_get("payload")?;
            match parse_action(&name, &payload) {
                Ok(action) => {
                    return Ok(Some(OutboxEntry {
                        id,
                        account,
                        action,
                        attempts: row.try_get("attempts")?,
                    }))
                }
                Err(e) => {
                    tracing::warn!(id, error = %e, "dropping an unreadable outbox entry");
                    self.outbox_done(id).await?;
                }
            }
        }
    }

    /// Gives up `owner`'s claim on entry `id` unsent (the run was cancelled,
    /// or ended before it): the next run sends it.
    pub async fn outbox_release(&self, id: i64, owner: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, lease_until = NULL
              WHERE id = ? AND claimed_by = ?",
        )
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lets go of every claim made by anyone but `owner`: called by the
    /// process that has just taken the profile lock, which every sending
    /// path takes first, so another claimant is a process that died
    /// mid-send (its entry is sent again by the rules that make a retry
    /// safe, see `providers::outgoing`).
    pub async fn release_foreign_claims(&self, owner: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let released = sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, lease_until = NULL
              WHERE claimed_by IS NOT NULL AND claimed_by <> ?",
        )
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(released)
    }

    /// Queues `edit` of `account`'s work item `item` (seen at `rev`) and
    /// applies it to the local row, in one transaction.
    pub async fn queue_work_item_edit(
        &self,
        account: AccountId,
        change: &WorkItemChange,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        super::work_items::apply_edit_locally(&mut tx, account, change.item, &change.edit).await?;
        let id = insert_entry(
            &mut tx,
            account,
            &Action::WorkItem(change.clone()).name(),
            &json(change)?,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sets entry `id` aside for the user: its send met someone else's
    /// change (`message` says what happened).
    pub async fn outbox_conflict(&self, id: i64, message: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE outbox SET state = 'conflict', last_error = ?,
                 claimed_by = NULL, lease_until = NULL WHERE id = ?",
        )
        .bind(message)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The edit of work item `item` that waits for the user, if any.
    pub async fn work_item_conflict(
        &self,
        account: AccountId,
        item: i64,
    ) -> Result<Option<WorkItemConflict>, StoreError> {
        let row = sqlx::query(
            "SELECT id, action, payload, coalesce(last_error, '') AS message FROM outbox
              WHERE account_id = ? AND state = 'conflict' AND action LIKE 'wi.%'
                AND json_extract(payload, '$.item') = ?
              ORDER BY id LIMIT 1",
        )
        .bind(account)
        .bind(item)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let payload: String = row.try_get("payload")?;
        let change: WorkItemChange = serde_json::from_str(&payload).map_err(|e| corrupt(&e))?;
        Ok(Some(WorkItemConflict {
            entry: row.try_get("id")?,
            edit: change.edit,
            seen_rev: change.rev,
            message: row.try_get("message")?,
        }))
    }

    /// Re-queues a conflicting work item edit on top of revision `rev`
    /// (re-applying it locally), or drops it.
    pub async fn resolve_conflict(
        &self,
        entry: i64,
        reapply_on: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT account_id, payload FROM outbox WHERE id = ? AND state = 'conflict'",
        )
        .bind(entry)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("conflict"))?;
        match reapply_on {
            Some(rev) => {
                let account: AccountId = row.try_get("account_id")?;
                let payload: String = row.try_get("payload")?;
                let mut change: WorkItemChange =
                    serde_json::from_str(&payload).map_err(|e| corrupt(&e))?;
                change.rev = rev;
                super::work_items::apply_edit_locally(&mut tx, account, change.item, &change.edit)
                    .await?;
                sqlx::query(
                    "UPDATE outbox SET state = 'pending', payload = ?, attempts = 0,
                         last_error = NULL, next_attempt_at = ? WHERE id = ?",
                )
                .bind(json(&change)?)
                .bind(now_ms())
                .bind(entry)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM outbox WHERE id = ?")
                    .bind(entry)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes an entry that will not be sent: refused for good, or failed
    /// too often. A send's draft goes back to the composer with `reason`
    /// in the same transaction, so a message is never dropped silently.
    pub async fn outbox_dropped(
        &self,
        entry: &OutboxEntry,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM outbox WHERE id = ?")
            .bind(entry.id)
            .execute(&mut *tx)
            .await?;
        if let Action::Draft(DraftAction::Send { draft }) = &entry.action {
            super::drafts::mark_failed(&mut tx, *draft, reason).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a sent (or abandoned) entry.
    pub async fn outbox_done(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM outbox WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed send: the entry waits `2^attempts` seconds (at most
    /// an hour) before the next try.
    pub async fn outbox_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?,
                 claimed_by = NULL, lease_until = NULL,
                 next_attempt_at = ? + 1000 * min(
                     -- A message waiting to leave is tried at least every
                     -- two minutes: coming back online sends it soon.
                     CASE WHEN action = 'draft.send' THEN 120 ELSE 3600 END,
                     1 << min(attempts + 1, 12))
             WHERE id = ?",
        )
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many entries of `account` wait to be sent.
    pub async fn outbox_len(&self, account: AccountId) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE account_id = ?")
                .bind(account)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
