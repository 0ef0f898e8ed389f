//! Drafts in the store: what the composer saves as the user types, and the
//! bookkeeping of each draft's way out (its copy in the provider's Drafts,
//! its send, its undo window, its outcome).
//!
//! Every change that must reach the provider queues an outbox entry in the
//! same transaction (see [`super::outbox`]): a save coalesces into one
//! pending `draft.save` per draft; Send replaces it with one `draft.send`
//! due when the undo window closes; Undo takes that entry back only while
//! the draft is still `queued`, and a send attempt first claims the draft
//! (`queued` → `sending`) in a transaction of its own, so Undo and the
//! sender can never both win.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::outbox::{insert_entry_at, DraftAction};
use super::{now_ms, Store, StoreError};
use crate::model::{
    AccountId, Address, ComposeKind, Draft, DraftAttachment, DraftEdit, DraftId, DraftState,
    MessageId,
};

/// How long a save waits before it goes to the provider: typing for a
/// while sends one update, not one per keystroke.
pub const SAVE_DELAY_MS: i64 = 3_000;

/// A draft as the composer opens it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewDraft {
    /// The account it is sent from.
    pub account_id: AccountId,
    /// What it is written as.
    pub kind: Option<ComposeKind>,
    /// The message answered or forwarded.
    pub source_message_id: Option<MessageId>,
    /// That message's provider id.
    pub source_provider_id: Option<String>,
    /// To.
    pub to: Vec<Address>,
    /// Cc.
    pub cc: Vec<Address>,
    /// Subject.
    pub subject: String,
    /// The opening body (quote, signature).
    pub body_html: String,
    /// Its `Message-ID`, without angle brackets.
    pub message_id_header: String,
    /// What it answers.
    pub in_reply_to: Option<String>,
    /// The thread's ids.
    pub references: Vec<String>,
    /// The provider's thread (Gmail) or conversation (Graph).
    pub thread_provider_id: Option<String>,
    /// A copy the provider already has (a draft opened from its Drafts).
    pub provider_draft_id: Option<String>,
    /// Its message id there.
    pub provider_message_id: Option<String>,
}

/// An attached file with its bytes, for the upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentData {
    /// Row id (0 for one not stored yet).
    pub id: i64,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub data: Vec<u8>,
    /// Its id in the provider's copy, once uploaded there.
    pub provider_id: Option<String>,
    /// Removed by the user; still in the provider's copy.
    pub removed: bool,
}

/// Everything a provider needs to put a draft in its Drafts or send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftUpload {
    /// The draft as the window sees it.
    pub draft: Draft,
    /// The revision this is.
    pub revision: i64,
    /// The revision the provider has.
    pub synced_revision: i64,
    /// What it answers.
    pub in_reply_to: Option<String>,
    /// The thread's ids.
    pub references: Vec<String>,
    /// The provider's thread or conversation.
    pub thread_provider_id: Option<String>,
    /// The answered or forwarded message's provider id.
    pub source_provider_id: Option<String>,
    /// The provider's draft id.
    pub provider_draft_id: Option<String>,
    /// The provider's message id of the draft.
    pub provider_message_id: Option<String>,
    /// Files.
    pub attachments: Vec<AttachmentData>,
}

const COLUMNS: &str =
    "d.id, d.account_id, a.address AS from_address, d.kind, d.source_message_id, \
     d.source_provider_id, d.to_addresses, d.cc_addresses, d.bcc_addresses, d.subject, \
     d.body_html, d.message_id_header, d.in_reply_to, d.\"references\", d.thread_provider_id, \
     d.provider_draft_id, d.provider_message_id, d.revision, d.synced_revision, d.state, \
     d.send_at, d.error, d.updated_at";

fn addresses(row: &SqliteRow, column: &str) -> Result<Vec<Address>, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        table: "drafts",
        detail: format!("{column}: {e}"),
    })
}

fn to_json(list: &[Address]) -> Result<String, StoreError> {
    serde_json::to_string(list).map_err(|e| StoreError::Corrupt {
        table: "drafts",
        detail: e.to_string(),
    })
}

fn draft_from_row(row: &SqliteRow, attachments: Vec<DraftAttachment>) -> Result<Draft, StoreError> {
    let state: String = row.try_get("state")?;
    let kind: String = row.try_get("kind")?;
    let revision: i64 = row.try_get("revision")?;
    let synced: i64 = row.try_get("synced_revision")?;
    Ok(Draft {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        from: row.try_get("from_address")?,
        kind: ComposeKind::parse(&kind),
        source_message_id: row.try_get("source_message_id")?,
        to: addresses(row, "to_addresses")?,
        cc: addresses(row, "cc_addresses")?,
        bcc: addresses(row, "bcc_addresses")?,
        subject: row.try_get("subject")?,
        body_html: row.try_get("body_html")?,
        attachments,
        state: DraftState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            table: "drafts",
            detail: format!("unknown state {state:?}"),
        })?,
        error: row.try_get("error")?,
        send_at: row.try_get("send_at")?,
        message_id_header: row.try_get("message_id_header")?,
        synced: synced >= revision,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn attachments_of(
    conn: &mut SqliteConnection,
    draft: DraftId,
) -> Result<Vec<DraftAttachment>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, filename, content_type, size FROM draft_attachments
          WHERE draft_id = ? AND removed = 0 ORDER BY id",
    )
    .bind(draft)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DraftAttachment {
                id: r.try_get("id")?,
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                size: r.try_get("size")?,
            })
        })
        .collect()
}

async fn read_draft(conn: &mut SqliteConnection, id: DraftId) -> Result<Draft, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM drafts d JOIN accounts a ON a.id = d.account_id WHERE d.id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound("draft"))?;
    let attachments = attachments_of(conn, id).await?;
    draft_from_row(&row, attachments)
}

/// The draft's state, refusing changes unless it is being written.
async fn editable(conn: &mut SqliteConnection, id: DraftId) -> Result<(), StoreError> {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM drafts WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match state.as_deref() {
        None => Err(StoreError::NotFound("draft")),
        Some("editing" | "failed") => Ok(()),
        Some("queued") => Err(StoreError::WrongState(
            "this message is waiting to be sent: undo the send to change it".into(),
        )),
        Some(_) => Err(StoreError::WrongState(
            "this message has already been sent".into(),
        )),
    }
}

/// Marks the draft changed and makes sure one save is pending for it.
async fn touch(conn: &mut SqliteConnection, id: DraftId) -> Result<(), StoreError> {
    let now = now_ms();
    let account: AccountId = sqlx::query_scalar(
        "UPDATE drafts SET revision = revision + 1, state = 'editing', error = NULL,
                updated_at = ? WHERE id = ? RETURNING account_id",
    )
    .bind(now)
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let pending: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE action = 'draft.save' AND state = 'pending'
            AND json_extract(payload, '$.draft') = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    if pending.is_none() {
        insert_entry_at(
            conn,
            account,
            &DraftAction::Save { draft: id },
            now + SAVE_DELAY_MS,
        )
        .await?;
    }
    Ok(())
}

/// Deletes the draft's pending entries of `action` (`draft.save` or
/// `draft.send`).
async fn drop_entries(
    conn: &mut SqliteConnection,
    id: DraftId,
    action: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM outbox WHERE action = ? AND json_extract(payload, '$.draft') = ?")
        .bind(action)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Where a draft's sending stands on the wire: what the command line
/// reports after `ember send`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DraftDelivery {
    /// The outbox entry carrying its send, while there is one.
    pub outbox: Option<i64>,
    /// The provider's id of the message (once uploaded or sent).
    pub provider_message_id: Option<String>,
}

impl Store {
    /// The outbox entry and provider id of draft `id`.
    pub async fn draft_delivery(&self, id: DraftId) -> Result<DraftDelivery, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(d.sent_provider_id, d.provider_message_id) AS provider_message_id,
                    (SELECT o.id FROM outbox o
                      WHERE o.action = 'draft.send' AND json_extract(o.payload, '$.draft') = d.id)
                      AS outbox
               FROM drafts d WHERE d.id = ?",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("draft"))?;
        Ok(DraftDelivery {
            outbox: row.try_get("outbox")?,
            provider_message_id: row.try_get("provider_message_id")?,
        })
    }

    /// Stores a new draft; nothing goes to the provider until it is edited
    /// (an untouched reply the user closes leaves no trace in Drafts).
    pub async fn create_draft(&self, new: &NewDraft) -> Result<Draft, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: DraftId = sqlx::query_scalar(
            "INSERT INTO drafts (account_id, kind, source_message_id, source_provider_id,
                 to_addresses, cc_addresses, subject, body_html, message_id_header,
                 in_reply_to, \"references\", thread_provider_id, provider_draft_id,
                 provider_message_id, revision, synced_revision, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id",
        )
        .bind(new.account_id)
        .bind(new.kind.unwrap_or(ComposeKind::New).as_str())
        .bind(new.source_message_id)
        .bind(&new.source_provider_id)
        .bind(to_json(&new.to)?)
        .bind(to_json(&new.cc)?)
        .bind(&new.subject)
        .bind(&new.body_html)
        .bind(&new.message_id_header)
        .bind(&new.in_reply_to)
        .bind(new.references.join(" "))
        .bind(&new.thread_provider_id)
        .bind(&new.provider_draft_id)
        .bind(&new.provider_message_id)
        // A draft opened from the provider's Drafts is in sync already.
        .bind(i64::from(new.provider_draft_id.is_some()))
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let draft = read_draft(&mut tx, id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// One draft.
    pub async fn draft(&self, id: DraftId) -> Result<Draft, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_draft(&mut conn, id).await
    }

    /// The local draft that is the provider's draft message
    /// `provider_message_id` of `account`, if one is.
    pub async fn draft_by_provider_message(
        &self,
        account: AccountId,
        provider_message_id: &str,
    ) -> Result<Option<DraftId>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM drafts WHERE account_id = ? AND provider_message_id = ?
              AND state <> 'sent'",
        )
        .bind(account)
        .bind(provider_message_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Drafts not yet sent, of one account or all, most recently changed
    /// first.
    pub async fn drafts(&self, account: Option<AccountId>) -> Result<Vec<Draft>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM drafts d JOIN accounts a ON a.id = d.account_id
              WHERE d.state <> 'sent' AND (?1 IS NULL OR d.account_id = ?1)
              ORDER BY d.updated_at DESC, d.id DESC"
        ))
        .bind(account)
        .fetch_all(&mut *conn)
        .await?;
        let mut drafts = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: DraftId = row.try_get("id")?;
            let attachments = attachments_of(&mut conn, id).await?;
            drafts.push(draft_from_row(row, attachments)?);
        }
        Ok(drafts)
    }

    /// Saves what the composer holds (`body_html` already sanitised) and
    /// queues the provider's copy to follow.
    pub async fn update_draft(&self, id: DraftId, edit: &DraftEdit) -> Result<Draft, StoreError> {
        let mut tx = self.begin_write().await?;
        editable(&mut tx, id).await?;
        sqlx::query(
            "UPDATE drafts SET to_addresses = ?, cc_addresses = ?, bcc_addresses = ?,
                    subject = ?, body_html = ? WHERE id = ?",
        )
        .bind(to_json(&edit.to)?)
        .bind(to_json(&edit.cc)?)
        .bind(to_json(&edit.bcc)?)
        .bind(&edit.subject)
        .bind(&edit.body_html)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        touch(&mut tx, id).await?;
        let draft = read_draft(&mut tx, id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// Attaches a file.
    pub async fn add_draft_attachment(
        &self,
        id: DraftId,
        file: &AttachmentData,
    ) -> Result<Draft, StoreError> {
        let mut tx = self.begin_write().await?;
        editable(&mut tx, id).await?;
        sqlx::query(
            "INSERT INTO draft_attachments (draft_id, filename, content_type, size, data)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&file.filename)
        .bind(&file.content_type)
        .bind(i64::try_from(file.data.len()).unwrap_or(i64::MAX))
        .bind(&file.data)
        .execute(&mut *tx)
        .await?;
        touch(&mut tx, id).await?;
        let draft = read_draft(&mut tx, id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// Removes an attached file.
    pub async fn remove_draft_attachment(
        &self,
        id: DraftId,
        attachment: i64,
    ) -> Result<Draft, StoreError> {
        let mut tx = self.begin_write().await?;
        editable(&mut tx, id).await?;
        // One the provider's copy holds stays, marked, until the copy has
        // lost it too.
        sqlx::query(
            "DELETE FROM draft_attachments WHERE id = ? AND draft_id = ? AND provider_id IS NULL",
        )
        .bind(attachment)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE draft_attachments SET removed = 1 WHERE id = ? AND draft_id = ?")
            .bind(attachment)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        touch(&mut tx, id).await?;
        let draft = read_draft(&mut tx, id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// Queues the draft to be sent at `send_at` (the end of the undo
    /// window): one transaction, so Send is durable the moment it returns.
    pub async fn queue_send(&self, id: DraftId, send_at: i64) -> Result<Draft, StoreError> {
        let mut tx = self.begin_write().await?;
        editable(&mut tx, id).await?;
        let account: AccountId = sqlx::query_scalar(
            "UPDATE drafts SET state = 'queued', send_at = ?, error = NULL, updated_at = ?
              WHERE id = ? RETURNING account_id",
        )
        .bind(send_at)
        .bind(now_ms())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        // The send uploads the final version itself.
        drop_entries(&mut tx, id, "draft.save").await?;
        insert_entry_at(&mut tx, account, &DraftAction::Send { draft: id }, send_at).await?;
        let draft = read_draft(&mut tx, id).await?;
        tx.commit().await?;
        Ok(draft)
    }

    /// Takes a queued send back. `false` when it is too late: the sender
    /// has claimed it (or it is not queued at all).
    pub async fn undo_send(&self, id: DraftId) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let undone = sqlx::query(
            "UPDATE drafts SET state = 'editing', send_at = NULL, updated_at = ?
              WHERE id = ? AND state = 'queued'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if undone {
            drop_entries(&mut tx, id, "draft.send").await?;
            // The provider's Drafts may hold an older version.
            let behind: bool =
                sqlx::query_scalar("SELECT synced_revision < revision FROM drafts WHERE id = ?")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            if behind {
                touch(&mut tx, id).await?;
            }
        }
        tx.commit().await?;
        Ok(undone)
    }

    /// Deletes a draft, queueing the deletion of the provider's copy.
    pub async fn discard_draft(&self, id: DraftId) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        editable(&mut tx, id).await?;
        let (account, draft_id, message_id): (AccountId, Option<String>, Option<String>) =
            sqlx::query_as(
                "SELECT account_id, provider_draft_id, provider_message_id FROM drafts
                  WHERE id = ?",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        drop_entries(&mut tx, id, "draft.save").await?;
        sqlx::query("DELETE FROM drafts WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if draft_id.is_some() || message_id.is_some() {
            insert_entry_at(
                &mut tx,
                account,
                &DraftAction::Delete {
                    provider_draft_id: draft_id,
                    provider_message_id: message_id,
                },
                now_ms(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What a provider uploads for draft `id`: `None` when the draft is
    /// gone (discarded meanwhile).
    pub async fn draft_upload(&self, id: DraftId) -> Result<Option<DraftUpload>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM drafts d JOIN accounts a ON a.id = d.account_id WHERE d.id = ?"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let attachments = attachments_of(&mut conn, id).await?;
        let data = sqlx::query(
            "SELECT id, filename, content_type, data, provider_id, removed
               FROM draft_attachments WHERE draft_id = ? ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(AttachmentData {
                id: r.try_get("id")?,
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                data: r.try_get("data")?,
                provider_id: r.try_get("provider_id")?,
                removed: r.try_get("removed")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let references: String = row.try_get("references")?;
        Ok(Some(DraftUpload {
            draft: draft_from_row(&row, attachments)?,
            revision: row.try_get("revision")?,
            synced_revision: row.try_get("synced_revision")?,
            in_reply_to: row.try_get("in_reply_to")?,
            references: references.split_whitespace().map(str::to_owned).collect(),
            thread_provider_id: row.try_get("thread_provider_id")?,
            source_provider_id: row.try_get("source_provider_id")?,
            provider_draft_id: row.try_get("provider_draft_id")?,
            provider_message_id: row.try_get("provider_message_id")?,
            attachments: data,
        }))
    }

    /// Records the provider's copy of revision `revision` of draft `id`.
    /// `false` when the draft was discarded meanwhile: the caller then
    /// deletes the copy it just made.
    pub async fn draft_uploaded(
        &self,
        id: DraftId,
        revision: i64,
        provider_draft_id: &str,
        provider_message_id: &str,
        thread_provider_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE drafts SET provider_draft_id = ?, provider_message_id = ?,
                    thread_provider_id = coalesce(?, thread_provider_id),
                    synced_revision = max(synced_revision, ?)
              WHERE id = ?",
        )
        .bind(provider_draft_id)
        .bind(provider_message_id)
        .bind(thread_provider_id)
        .bind(revision)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(updated)
    }

    /// Records that attachment `attachment` is in the provider's copy as
    /// `provider_id` (or, with `None`, that a removed one has left it).
    pub async fn draft_attachment_uploaded(
        &self,
        attachment: i64,
        provider_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        match provider_id {
            Some(pid) => {
                sqlx::query("UPDATE draft_attachments SET provider_id = ? WHERE id = ?")
                    .bind(pid)
                    .bind(attachment)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM draft_attachments WHERE id = ? AND removed = 1")
                    .bind(attachment)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the provider's copy of draft `id` (it was deleted there
    /// while the user kept writing): the next save makes a new one.
    pub async fn forget_provider_copy(&self, id: DraftId) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE drafts SET provider_draft_id = NULL, provider_message_id = NULL,
                    synced_revision = 0 WHERE id = ?",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM draft_attachments WHERE draft_id = ? AND removed = 1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE draft_attachments SET provider_id = NULL WHERE draft_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Claims a queued draft for sending: `queued` (or `sending`, after an
    /// attempt that may or may not have reached the provider) becomes
    /// `sending`, after which Undo is refused. Returns the state it had;
    /// `None` when it was taken back or is gone.
    pub async fn claim_send(&self, id: DraftId) -> Result<Option<DraftState>, StoreError> {
        let mut tx = self.begin_write().await?;
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM drafts WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let state = state.as_deref().and_then(DraftState::parse);
        let claimed = match state {
            Some(s @ (DraftState::Queued | DraftState::Sending)) => {
                sqlx::query("UPDATE drafts SET state = 'sending' WHERE id = ?")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Some(s)
            }
            _ => None,
        };
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records that the provider has the message in Sent. Its attachments'
    /// bytes are no longer needed.
    pub async fn draft_sent(&self, id: DraftId, sent_provider_id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE drafts SET state = 'sent', sent_provider_id = ?, error = NULL,
                    send_at = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(sent_provider_id)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE draft_attachments SET data = x'' WHERE draft_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Returns a draft to the composer with the reason it was not sent.
    pub async fn draft_failed(&self, id: DraftId, reason: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        mark_failed(&mut tx, id, reason).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Addresses the To field suggests for `prefix` (matched at the start
    /// of the address, of the name, or of a word in the name), ranked by
    /// how often and how recently the user wrote to them, then by mail
    /// received from them.
    pub async fn contacts(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<crate::model::Contact>, StoreError> {
        let prefix = prefix.trim().to_lowercase();
        let like = format!(
            "{}%",
            prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let word = format!("% {like}");
        let rows = sqlx::query(
            "WITH sent AS (
                 SELECT lower(json_extract(r.value, '$.address')) AS address,
                        json_extract(r.value, '$.name') AS name, m.date AS date
                   FROM messages m
                   JOIN message_folders mf ON mf.message_id = m.id
                   JOIN folders f ON f.id = mf.folder_id AND f.role = 'sent'
                   JOIN json_each(json_array(json(m.to_addresses), json(m.cc_addresses))) AS l
                   JOIN json_each(l.value) AS r
             ),
             received AS (
                 SELECT lower(from_address) AS address, from_name AS name, date
                   FROM messages WHERE from_address <> ''
             ),
             own AS (SELECT lower(address) AS address FROM accounts)
             SELECT address, max(name) AS name,
                    sum(kind = 's') AS sent, sum(kind = 'r') AS received,
                    max(date) AS last_seen
               FROM (SELECT address, name, date, 's' AS kind FROM sent
                     UNION ALL SELECT address, name, date, 'r' FROM received)
              WHERE address IS NOT NULL AND address NOT IN (SELECT address FROM own)
                AND (address LIKE ?1 ESCAPE '\\' OR lower(name) LIKE ?1 ESCAPE '\\'
                     OR lower(name) LIKE ?2 ESCAPE '\\')
              GROUP BY address
              ORDER BY sent DESC, last_seen DESC, received DESC
              LIMIT ?3",
        )
        .bind(&like)
        .bind(&word)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::model::Contact {
                    name: r.try_get("name")?,
                    address: r.try_get("address")?,
                    sent: r.try_get("sent")?,
                    received: r.try_get("received")?,
                    last_seen: r.try_get("last_seen")?,
                })
            })
            .collect()
    }
}

/// Marks draft `id` failed with `reason`, as part of a transaction.
pub(super) async fn mark_failed(
    conn: &mut SqliteConnection,
    id: DraftId,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE drafts SET state = 'failed', error = ?, send_at = NULL, updated_at = ?
          WHERE id = ? AND state <> 'sent'",
    )
    .bind(reason)
    .bind(now_ms())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What a reply or forward needs of the message it starts from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComposeSource {
    /// The account it arrived at.
    pub account_id: AccountId,
    /// Its provider id.
    pub provider_id: String,
    /// Its thread's (Gmail) or conversation's (Graph) provider id.
    pub thread_provider_id: Option<String>,
    /// Sender.
    pub from: Address,
    /// To.
    pub to: Vec<Address>,
    /// Cc.
    pub cc: Vec<Address>,
    /// The raw `Reply-To` header, if it had one.
    pub reply_to: Option<String>,
    /// Sent (Unix ms).
    pub date: i64,
    /// Subject.
    pub subject: String,
    /// Its `Message-ID`, as stored (with or without angle brackets).
    pub message_id: Option<String>,
    /// Its raw `References` header.
    pub references: Option<String>,
    /// Sanitised HTML body.
    pub html: Option<String>,
    /// Text body.
    pub text: Option<String>,
}

impl Store {
    /// The message `id` as a reply or forward starts from it.
    pub async fn compose_source(&self, id: MessageId) -> Result<ComposeSource, StoreError> {
        let row = sqlx::query(
            "SELECT m.account_id, m.provider_id, t.provider_id AS thread, m.from_name,
                    m.from_address, m.to_addresses, m.cc_addresses,
                    json_extract(m.headers, '$.\"Reply-To\"') AS reply_to,
                    json_extract(m.headers, '$.References') AS refs,
                    m.date, m.subject, m.rfc822_message_id, b.html, b.text
               FROM messages m
               LEFT JOIN threads t ON t.id = m.thread_id
               LEFT JOIN message_bodies b ON b.message_id = m.id
              WHERE m.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("message"))?;
        let list = |column: &str| -> Result<Vec<Address>, StoreError> {
            let text: String = row.try_get(column)?;
            Ok(serde_json::from_str(&text).unwrap_or_default())
        };
        Ok(ComposeSource {
            account_id: row.try_get("account_id")?,
            provider_id: row.try_get("provider_id")?,
            thread_provider_id: row.try_get("thread")?,
            from: Address {
                name: row.try_get("from_name")?,
                address: row.try_get("from_address")?,
            },
            to: list("to_addresses")?,
            cc: list("cc_addresses")?,
            reply_to: row.try_get("reply_to")?,
            date: row.try_get("date")?,
            subject: row.try_get("subject")?,
            message_id: row.try_get("rfc822_message_id")?,
            references: row.try_get("refs")?,
            html: row.try_get("html")?,
            text: row.try_get("text")?,
        })
    }
}
