//! Messages in the store: newest-first keyset paging for the list, the
//! reading pane's detail, and idempotent upserts keyed on provider ids for
//! the sync engine.

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{page_limit, Store, StoreError};
use crate::model::{
    AccountId, Address, Attachment, Category, MailView, MessageDetail, MessageId, MessagePage,
    MessageQuery, MessageSummary, PageCursor,
};

/// The columns [`summary_from_row`] reads, qualified for joins.
pub(super) const SUMMARY_COLUMNS: &str = "m.id, m.account_id, m.thread_id, m.subject, \
     m.from_name, m.from_address, m.date, m.snippet, m.unread, m.starred, \
     m.has_attachments, m.category, m.category_confidence, m.spam, \
     CASE WHEN m.thread_id IS NULL THEN 1 ELSE \
       (SELECT count(*) FROM messages t WHERE t.thread_id = m.thread_id) END AS thread_size";

pub(super) fn summary_from_row(row: &SqliteRow) -> Result<MessageSummary, StoreError> {
    let category: Option<String> = row.try_get("category")?;
    Ok(MessageSummary {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        thread_id: row.try_get("thread_id")?,
        subject: row.try_get("subject")?,
        from: Address {
            name: row.try_get("from_name")?,
            address: row.try_get("from_address")?,
        },
        date: row.try_get("date")?,
        snippet: row.try_get("snippet")?,
        unread: row.try_get("unread")?,
        starred: row.try_get("starred")?,
        has_attachments: row.try_get("has_attachments")?,
        // An id this version does not know reads as uncategorised rather
        // than failing the whole list.
        category: category.as_deref().and_then(Category::parse),
        category_confidence: row.try_get("category_confidence")?,
        thread_size: row.try_get("thread_size")?,
        spam: row.try_get("spam")?,
    })
}

fn addresses_from_json(text: &str) -> Result<Vec<Address>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table: "messages",
        detail: format!("recipients are not a list of addresses: {e}"),
    })
}

/// A stored message as `ember messages --json` prints it: with the
/// provider's own ids, so it can be compared with the provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedMessage {
    /// Local row id.
    pub id: MessageId,
    /// Local account id.
    pub account: AccountId,
    /// `gmail` or `graph`.
    pub provider: String,
    /// The account's address.
    pub address: String,
    /// The message id exactly as the provider's API gave it.
    pub provider_id: String,
    /// The provider's thread or conversation id.
    pub thread_id: Option<String>,
    /// Provider ids of its labels or folder, sorted.
    pub folders: Vec<String>,
    /// Unread.
    pub unread: bool,
    /// Subject.
    pub subject: String,
    /// Date, Unix milliseconds.
    pub date: i64,
    /// The Azure DevOps work items it refers to, by number.
    pub work_items: Vec<i64>,
}

/// Restricts `n` (another message of `m`'s thread) to the same view, so a
/// conversation row is the newest message *in the view*.
fn push_same_view(q: &mut QueryBuilder<'_, Sqlite>, view: &MailView) {
    match view {
        MailView::Unified | MailView::Account { .. } => {}
        MailView::Folder { folder_id } => {
            q.push(" AND EXISTS (SELECT 1 FROM message_folders nf WHERE nf.message_id = n.id AND nf.folder_id = ")
                .push_bind(*folder_id)
                .push(")");
        }
        MailView::Category { category } => {
            q.push(" AND n.category = ").push_bind(category.as_str());
        }
    }
}

fn push_view_filter(q: &mut QueryBuilder<'_, Sqlite>, view: &MailView) {
    match view {
        MailView::Unified => {
            q.push(" FROM messages m WHERE 1");
        }
        MailView::Account { account_id } => {
            q.push(" FROM messages m WHERE m.account_id = ")
                .push_bind(*account_id);
        }
        MailView::Folder { folder_id } => {
            q.push(" FROM message_folders f JOIN messages m ON m.id = f.message_id WHERE f.folder_id = ")
                .push_bind(*folder_id);
        }
        MailView::Category { category } => {
            q.push(" FROM messages m WHERE m.category = ")
                .push_bind(category.as_str());
        }
    }
}

impl Store {
    /// A page of a message list, newest first.
    pub async fn messages(&self, query: &MessageQuery) -> Result<MessagePage, StoreError> {
        self.messages_folding(query, false).await
    }

    /// A page of a message list; with `fold_notices`, Azure DevOps'
    /// notifications about a synced work item are left out (they show
    /// under the item).
    pub async fn messages_folding(
        &self,
        query: &MessageQuery,
        fold_notices: bool,
    ) -> Result<MessagePage, StoreError> {
        let limit = page_limit(query.limit);
        let mut q = QueryBuilder::<Sqlite>::new("SELECT ");
        q.push(SUMMARY_COLUMNS);
        push_view_filter(&mut q, &query.view);
        if fold_notices {
            q.push(
                " AND (m.work_item_notice IS NULL OR NOT EXISTS \
                   (SELECT 1 FROM work_items w WHERE w.item_id = m.work_item_notice))",
            );
        }
        if let Some(before) = query.before {
            q.push(" AND (m.date, m.id) < (")
                .push_bind(before.date)
                .push(", ")
                .push_bind(before.id)
                .push(")");
        }
        if query.conversations {
            // One row per thread: skip a message when a newer one of its
            // thread is in the view (an index probe on messages_by_thread).
            q.push(
                " AND (m.thread_id IS NULL OR NOT EXISTS (SELECT 1 FROM messages n \
                   WHERE n.thread_id = m.thread_id AND n.date >= m.date \
                   AND (n.date, n.id) > (m.date, m.id)",
            );
            push_same_view(&mut q, &query.view);
            q.push("))");
        }
        q.push(" ORDER BY m.date DESC, m.id DESC LIMIT ")
            .push_bind(limit + 1);
        let rows = q.build().fetch_all(&self.pool).await?;
        let mut messages = rows
            .iter()
            .map(summary_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if messages.len() as i64 > limit {
            messages.truncate(limit as usize);
            messages.last().map(|m| PageCursor {
                date: m.date,
                id: m.id,
            })
        } else {
            None
        };
        Ok(MessagePage { messages, next })
    }

    /// One message with its recipients, folders, body and attachments.
    pub async fn message(&self, id: MessageId) -> Result<MessageDetail, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, m.to_addresses, m.cc_addresses, b.text AS body_text,
                    coalesce(length(b.html), 0) > 0 AS has_html
             FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id
             WHERE m.id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("message"))?;
        let folders = sqlx::query_scalar(
            "SELECT f.name FROM message_folders mf JOIN folders f ON f.id = mf.folder_id
             WHERE mf.message_id = ? ORDER BY f.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let attachments = sqlx::query(
            "SELECT id, filename, mime_type, size FROM attachments
             WHERE message_id = ? AND is_inline = 0 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Attachment {
                id: r.try_get("id")?,
                filename: r.try_get("filename")?,
                mime_type: r.try_get("mime_type")?,
                size: r.try_get("size")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(MessageDetail {
            summary: summary_from_row(&row)?,
            to: addresses_from_json(row.try_get("to_addresses")?)?,
            cc: addresses_from_json(row.try_get("cc_addresses")?)?,
            folders,
            body_text: row.try_get("body_text")?,
            html: row.try_get("has_html")?,
            attachments,
        })
    }

    /// Stored messages as the CLI exports them, newest first; `limit`
    /// `None` for all.
    pub async fn export_messages(
        &self,
        account: Option<AccountId>,
        limit: Option<u32>,
    ) -> Result<Vec<ExportedMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.account_id, a.provider, a.address, m.provider_id,
                    t.provider_id AS thread, m.unread, m.subject, m.date,
                    (SELECT json_group_array(f.provider_id) FROM message_folders mf
                       JOIN folders f ON f.id = mf.folder_id
                      WHERE mf.message_id = m.id) AS folders,
                    (SELECT json_group_array(l.item_number) FROM message_work_items l
                      WHERE l.message_id = m.id) AS work_items
               FROM messages m
               JOIN accounts a ON a.id = m.account_id
               LEFT JOIN threads t ON t.id = m.thread_id
              WHERE (?1 IS NULL OR m.account_id = ?1)
              ORDER BY m.date DESC, m.id DESC
              LIMIT ?2",
        )
        .bind(account)
        .bind(limit.map_or(-1, i64::from))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let folders: String = r.try_get("folders")?;
                let mut folders: Vec<String> = serde_json::from_str(&folders).unwrap_or_default();
                folders.sort();
                let work_items: String = r.try_get("work_items")?;
                let mut work_items: Vec<i64> =
                    serde_json::from_str(&work_items).unwrap_or_default();
                work_items.sort_unstable();
                Ok(ExportedMessage {
                    id: r.try_get("id")?,
                    account: r.try_get("account_id")?,
                    provider: r.try_get("provider")?,
                    address: r.try_get("address")?,
                    provider_id: r.try_get("provider_id")?,
                    thread_id: r.try_get("thread")?,
                    folders,
                    unread: r.try_get("unread")?,
                    subject: r.try_get("subject")?,
                    date: r.try_get("date")?,
                    work_items,
                })
            })
            .collect()
    }

    /// Every stored message of `account`: provider id and date.
    pub async fn message_dates(
        &self,
        account: AccountId,
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT provider_id, date FROM messages WHERE account_id = ?")
                .bind(account)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Of `ids`, those stored for `account` without a body yet.
    pub async fn ids_without_body(
        &self,
        account: AccountId,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let missing: std::collections::HashSet<String> = sqlx::query_scalar(
            "SELECT m.provider_id FROM messages m
             WHERE m.account_id = ?
               AND NOT EXISTS (SELECT 1 FROM message_bodies b WHERE b.message_id = m.id)",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        Ok(ids
            .iter()
            .filter(|id| missing.contains(*id))
            .cloned()
            .collect())
    }

    /// How many messages are stored.
    pub async fn message_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM messages")
            .fetch_one(&self.pool)
            .await?)
    }
}
