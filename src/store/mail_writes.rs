//! What sync writes about mail, inside the caller's transaction: folders,
//! messages keyed on their provider ids (idempotent upserts), bodies, flag
//! and folder changes, and deletions.
//!
//! Every function takes the open write transaction, so that the shared
//! batch writer ([`crate::sync`]) can put a page of changes and the cursor
//! that covers it into one commit. Nothing here reads the clock of the
//! network or waits on anything but SQLite.

use sqlx::SqliteConnection;

use super::{now_ms, StoreError};
use crate::model::{AccountId, Address, Category, MessageId};

/// A message as a provider hands it to the store.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    /// The account it belongs to.
    pub account_id: AccountId,
    /// The provider's id, exactly as its API gave it.
    pub provider_id: String,
    /// The provider's conversation id, if it has one.
    pub provider_thread_id: Option<String>,
    /// The RFC 5322 Message-ID header.
    pub rfc822_message_id: Option<String>,
    /// The In-Reply-To header.
    pub in_reply_to: Option<String>,
    /// Subject line.
    pub subject: String,
    /// Sender.
    pub from: Option<Address>,
    /// To recipients.
    pub to: Vec<Address>,
    /// Cc recipients.
    pub cc: Vec<Address>,
    /// Headers the classifier and UI use, as a JSON object.
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// Date, Unix milliseconds.
    pub date: i64,
    /// The start of the body.
    pub snippet: String,
    /// Not yet read.
    pub unread: bool,
    /// Starred or flagged.
    pub starred: bool,
    /// Has at least one non-inline attachment.
    pub has_attachments: bool,
    /// Size in bytes as the provider reports it.
    pub size: i64,
    /// Provider ids of the folders or labels it is in; unknown ones are skipped.
    pub folders: Vec<String>,
}

/// A fetched body with its attachments' metadata. Its `Debug` prints the
/// bodies as their length.
#[derive(Clone, Default)]
pub struct NewMessageBody {
    /// Plain text.
    pub text: Option<String>,
    /// Sanitised HTML (never raw provider HTML).
    pub html: Option<String>,
    /// Size of the raw message in bytes.
    pub raw_size: i64,
    /// Attachments.
    pub attachments: Vec<NewAttachment>,
}

impl std::fmt::Debug for NewMessageBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::secret::BodyLen;
        f.debug_struct("NewMessageBody")
            .field("text", &BodyLen(self.text.as_deref()))
            .field("html", &BodyLen(self.html.as_deref()))
            .field("raw_size", &self.raw_size)
            .field("attachments", &self.attachments)
            .finish()
    }
}

/// An attachment's metadata as a provider hands it over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAttachment {
    /// The provider's attachment id, if it has one.
    pub provider_id: Option<String>,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub mime_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Content-ID, for inline parts.
    pub content_id: Option<String>,
    /// Shown inline rather than listed.
    pub is_inline: bool,
}

/// Adds or updates a folder or label as part of `tx`; returns its row id.
pub async fn upsert_folder(
    tx: &mut SqliteConnection,
    account: AccountId,
    folder: &NewFolder,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO folders (account_id, provider_id, name, role, parent_id)
         VALUES (?1, ?2, ?3, ?4,
                 (SELECT id FROM folders WHERE account_id = ?1 AND provider_id = ?5))
         ON CONFLICT (account_id, provider_id) DO UPDATE
         SET name = excluded.name, role = excluded.role, parent_id = excluded.parent_id
         RETURNING id",
    )
    .bind(account)
    .bind(&folder.provider_id)
    .bind(&folder.name)
    .bind(folder.role)
    .bind(&folder.parent)
    .fetch_one(&mut *tx)
    .await?)
}

/// A folder or label as a provider hands it to the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewFolder {
    /// The provider's id.
    pub provider_id: String,
    /// What the sidebar shows.
    pub name: String,
    /// `inbox`, `sent`, `drafts`, `trash`, `spam`, `archive` ... or `None`
    /// for a user's own folder or label.
    pub role: Option<&'static str>,
    /// The provider id of the folder it sits in, written before it.
    pub parent: Option<String>,
}

/// Adds or updates a message (keyed on its provider id) as part of `tx`,
/// with its thread and folder memberships; returns its row id. Category and
/// body are left as they are.
pub async fn upsert_message(
    tx: &mut SqliteConnection,
    msg: &NewMessage,
) -> Result<MessageId, StoreError> {
    let thread_id: Option<i64> = match &msg.provider_thread_id {
        Some(pid) => Some(
            sqlx::query_scalar(
                "INSERT INTO threads (account_id, provider_id, subject, last_date)
                 VALUES (?, ?, ?, ?)
                 ON CONFLICT (account_id, provider_id) DO UPDATE
                 SET last_date = max(last_date, excluded.last_date)
                 RETURNING id",
            )
            .bind(msg.account_id)
            .bind(pid)
            .bind(&msg.subject)
            .bind(msg.date)
            .fetch_one(&mut *tx)
            .await?,
        ),
        None => None,
    };
    let to_json = serde_json::to_string(&msg.to).unwrap_or_else(|_| "[]".into());
    let cc_json = serde_json::to_string(&msg.cc).unwrap_or_else(|_| "[]".into());
    let headers = serde_json::Value::Object(msg.headers.clone()).to_string();
    let from = msg.from.clone().unwrap_or(Address {
        name: None,
        address: String::new(),
    });
    let id: MessageId = sqlx::query_scalar(
        "INSERT INTO messages (account_id, provider_id, thread_id, rfc822_message_id,
             in_reply_to, subject, from_name, from_address, to_addresses, cc_addresses,
             headers, date, snippet, unread, starred, has_attachments, size)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, provider_id) DO UPDATE SET
             thread_id = excluded.thread_id,
             rfc822_message_id = excluded.rfc822_message_id,
             in_reply_to = excluded.in_reply_to,
             subject = excluded.subject,
             from_name = excluded.from_name,
             from_address = excluded.from_address,
             to_addresses = excluded.to_addresses,
             cc_addresses = excluded.cc_addresses,
             headers = excluded.headers,
             date = excluded.date,
             snippet = excluded.snippet,
             unread = excluded.unread,
             starred = excluded.starred,
             -- Mail content never changes: a headers-only update must not
             -- forget attachments found in the body.
             has_attachments = max(has_attachments, excluded.has_attachments),
             size = excluded.size
         RETURNING id",
    )
    .bind(msg.account_id)
    .bind(&msg.provider_id)
    .bind(thread_id)
    .bind(&msg.rfc822_message_id)
    .bind(&msg.in_reply_to)
    .bind(&msg.subject)
    .bind(&from.name)
    .bind(&from.address)
    .bind(to_json)
    .bind(cc_json)
    .bind(headers)
    .bind(msg.date)
    .bind(&msg.snippet)
    .bind(msg.unread)
    .bind(msg.starred)
    .bind(msg.has_attachments)
    .bind(msg.size)
    .fetch_one(&mut *tx)
    .await?;

    set_folders(tx, id, msg.account_id, &msg.folders).await?;
    Ok(id)
}

/// Stores or replaces a message's body and attachment list as part of `tx`.
pub async fn put_body(
    tx: &mut SqliteConnection,
    message: MessageId,
    body: &NewMessageBody,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO message_bodies (message_id, text, html, raw_size, fetched_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (message_id) DO UPDATE SET
             text = excluded.text, html = excluded.html,
             raw_size = excluded.raw_size, fetched_at = excluded.fetched_at",
    )
    .bind(message)
    .bind(&body.text)
    .bind(&body.html)
    .bind(body.raw_size)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM attachments WHERE message_id = ?")
        .bind(message)
        .execute(&mut *tx)
        .await?;
    for a in &body.attachments {
        sqlx::query(
            "INSERT INTO attachments
                 (message_id, provider_id, filename, mime_type, size, content_id, is_inline)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(message)
        .bind(&a.provider_id)
        .bind(&a.filename)
        .bind(&a.mime_type)
        .bind(a.size)
        .bind(&a.content_id)
        .bind(a.is_inline)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Deletes a message (by provider id) as part of `tx`; returns whether it existed.
pub async fn delete_message(
    tx: &mut SqliteConnection,
    account: AccountId,
    provider_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM messages WHERE account_id = ? AND provider_id = ?")
        .bind(account)
        .bind(provider_id)
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Sets a message's category from the provider's own signal (Gmail tabs),
/// unless the user has corrected it.
pub async fn set_provider_category(
    tx: &mut SqliteConnection,
    message: MessageId,
    category: Category,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE messages SET category = ?, category_source = 'provider', category_confidence = 1.0
         WHERE id = ? AND (category_source IS NULL OR category_source = 'provider')",
    )
    .bind(category.as_str())
    .bind(message)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Sets a stored message's unread and starred flags and replaces its
/// folders (labels, for Gmail), as part of `tx`, leaving its content,
/// category and body alone; returns its row id, or `None` when it is not
/// stored. Folders the account does not have are skipped.
pub async fn set_flags(
    tx: &mut SqliteConnection,
    account: AccountId,
    change: &FlagChange,
) -> Result<Option<MessageId>, StoreError> {
    let Some(id): Option<MessageId> = sqlx::query_scalar(
        "UPDATE messages SET unread = ?, starred = ? WHERE account_id = ? AND provider_id = ?
         RETURNING id",
    )
    .bind(change.unread)
    .bind(change.starred)
    .bind(account)
    .bind(&change.provider_id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    set_folders(tx, id, account, &change.folders).await?;
    if let Some(category) = change.category {
        set_provider_category(tx, id, category).await?;
    }
    Ok(Some(id))
}

/// A message's flags and folders as the provider now has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagChange {
    /// The provider's id of the message.
    pub provider_id: String,
    /// Provider ids of every folder or label it is in now.
    pub folders: Vec<String>,
    /// Not yet read.
    pub unread: bool,
    /// Starred or flagged.
    pub starred: bool,
    /// The provider's own category signal, if any.
    pub category: Option<Category>,
}

/// Replaces the folder memberships of message `id` with `folders`.
async fn set_folders(
    tx: &mut SqliteConnection,
    id: MessageId,
    account: AccountId,
    folders: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM message_folders WHERE message_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for folder in folders {
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
    Ok(())
}

/// Takes a message out of one folder (it was moved or deleted there) as
/// part of `tx`, keeping the message itself: if it was moved, the
/// destination's changes bring it back into a folder with its category and
/// read state intact. Returns whether it was in that folder.
pub async fn leave_folder(
    tx: &mut SqliteConnection,
    account: AccountId,
    provider_id: &str,
    folder: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM message_folders
          WHERE message_id = (SELECT id FROM messages WHERE account_id = ?1 AND provider_id = ?2)
            AND folder_id = (SELECT id FROM folders WHERE account_id = ?1 AND provider_id = ?3)",
    )
    .bind(account)
    .bind(provider_id)
    .bind(folder)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes the account's folders whose provider ids are not in `keep`
/// (deleted at the provider), as part of `tx`; their memberships go with
/// them. Returns how many went.
pub async fn prune_folders(
    tx: &mut SqliteConnection,
    account: AccountId,
    keep: &[String],
) -> Result<u64, StoreError> {
    let keep = serde_json::to_string(keep).map_err(|e| StoreError::Corrupt {
        table: "folders",
        detail: e.to_string(),
    })?;
    let done = sqlx::query(
        "DELETE FROM folders WHERE account_id = ?
            AND provider_id NOT IN (SELECT value FROM json_each(?))",
    )
    .bind(account)
    .bind(keep)
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected())
}
