//! Mail ↔ work item: which work items a message refers to (found by
//! [`crate::links`] when the message is written), the items a message shows
//! in the reading pane, and the mail a work item shows in its pane.
//!
//! Links are kept by item number (and organisation, when the link names
//! one), so mail that arrives before its work item syncs is linked as soon
//! as the item is there.

use sqlx::{Row, SqliteConnection};

use super::messages::{summary_from_row, SUMMARY_COLUMNS};
use super::work_items::work_item_from_row;
use super::{Store, StoreError};
use crate::links::{LinkSource, WorkItemRef};
use crate::model::{LinkedWorkItem, MessageId, MessageSummary, WorkItem};

/// How a link's item number and organisation find a stored work item.
const MATCH: &str = "w.item_id = l.item_number \
     AND (l.organization IS NULL OR lower(l.organization) = lower(w.organization))";

/// Replaces the work item links of message `id` with `refs`, as part of
/// `tx`, and records which item (if any) it is a notification about.
pub async fn put_message_links(
    tx: &mut SqliteConnection,
    id: MessageId,
    refs: &[WorkItemRef],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM message_work_items WHERE message_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for r in refs {
        sqlx::query(
            "INSERT INTO message_work_items (message_id, item_number, organization, source)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (message_id, item_number) DO NOTHING",
        )
        .bind(id)
        .bind(r.item)
        .bind(&r.organization)
        .bind(r.source.as_str())
        .execute(&mut *tx)
        .await?;
    }
    let notice = refs
        .iter()
        .find(|r| r.source == LinkSource::Notification)
        .map(|r| r.item);
    sqlx::query("UPDATE messages SET work_item_notice = ? WHERE id = ?")
        .bind(notice)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl Store {
    /// The work items message `id` refers to, with their live state when
    /// they are synced; strongest link first.
    pub async fn linked_work_items(
        &self,
        id: MessageId,
    ) -> Result<Vec<LinkedWorkItem>, StoreError> {
        let links: Vec<(i64, String)> = sqlx::query_as(
            "SELECT item_number, source FROM message_work_items WHERE message_id = ?
              ORDER BY CASE source WHEN 'notification' THEN 0 WHEN 'url' THEN 1 ELSE 2 END,
                       item_number",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(links.len());
        for (item_number, source) in links {
            let row = sqlx::query(&format!(
                "SELECT {} FROM message_work_items l JOIN work_items w ON {MATCH}
                  WHERE l.message_id = ? AND l.item_number = ? LIMIT 1",
                super::work_items::COLUMNS
            ))
            .bind(id)
            .bind(item_number)
            .fetch_optional(&self.pool)
            .await?;
            let item: Option<WorkItem> = row.as_ref().map(work_item_from_row).transpose()?;
            out.push(LinkedWorkItem {
                item_id: item_number,
                source,
                item,
            });
        }
        Ok(out)
    }

    /// Mail about `item`, newest first, at most `limit`.
    pub async fn mail_about(
        &self,
        item: &WorkItem,
        limit: u32,
    ) -> Result<Vec<MessageSummary>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM message_work_items l
               JOIN messages m ON m.id = l.message_id
              WHERE l.item_number = ?1
                AND (l.organization IS NULL OR lower(l.organization) = lower(?2))
              ORDER BY m.date DESC, m.id DESC LIMIT ?3"
        ))
        .bind(item.item_id)
        .bind(&item.organization)
        .bind(super::page_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }

    /// Records the links of a batch of messages scanned after the fact
    /// (mail stored before links were found, or before an organisation was
    /// added), with how far the scan got, in one transaction.
    pub async fn put_scanned_links(
        &self,
        links: &[(MessageId, Vec<WorkItemRef>)],
        upto: MessageId,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (id, refs) in links {
            put_message_links(&mut tx, *id, refs).await?;
        }
        super::settings::upsert(&mut tx, super::settings::LINKS_SCANNED, &upto.to_string()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Messages after `after` with their sender, subject and text: what a
    /// scan for work item links reads.
    pub async fn messages_to_link(
        &self,
        after: MessageId,
        limit: i64,
    ) -> Result<Vec<(MessageId, String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.from_address, m.subject, coalesce(substr(b.text, 1, 262144), '') AS text
               FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id
              WHERE m.id > ? ORDER BY m.id LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("from_address")?,
                    r.try_get("subject")?,
                    r.try_get("text")?,
                ))
            })
            .collect()
    }
}
