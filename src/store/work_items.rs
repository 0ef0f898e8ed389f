//! Azure DevOps work items in the store.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::{page_limit, Store, StoreError};
use crate::model::{WorkItem, WorkItemQuery};

const COLUMNS: &str = "id, account_id, organization, project, item_id, rev, item_type, title, \
     state, assigned_to, changed_date, url";

fn work_item_from_row(row: &SqliteRow) -> Result<WorkItem, StoreError> {
    Ok(WorkItem {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        organization: row.try_get("organization")?,
        project: row.try_get("project")?,
        item_id: row.try_get("item_id")?,
        rev: row.try_get("rev")?,
        item_type: row.try_get("item_type")?,
        title: row.try_get("title")?,
        state: row.try_get("state")?,
        assigned_to: row.try_get("assigned_to")?,
        changed_date: row.try_get("changed_date")?,
        url: row.try_get("url")?,
    })
}

/// Adds or updates a work item (keyed on account and item id) as part of
/// `tx`, keeping the newer revision; returns its row id, or `None` when the
/// stored revision is newer and nothing changed. The `id` of `item` is ignored.
pub async fn upsert_work_item(
    tx: &mut SqliteConnection,
    item: &WorkItem,
    fields: &serde_json::Value,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO work_items (account_id, organization, project, item_id, rev, item_type,
             title, state, assigned_to, changed_date, url, fields)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, item_id) DO UPDATE SET
             organization = excluded.organization, project = excluded.project,
             rev = excluded.rev, item_type = excluded.item_type, title = excluded.title,
             state = excluded.state, assigned_to = excluded.assigned_to,
             changed_date = excluded.changed_date, url = excluded.url, fields = excluded.fields
         WHERE excluded.rev >= work_items.rev
         RETURNING id",
    )
    .bind(item.account_id)
    .bind(&item.organization)
    .bind(&item.project)
    .bind(item.item_id)
    .bind(item.rev)
    .bind(&item.item_type)
    .bind(&item.title)
    .bind(&item.state)
    .bind(&item.assigned_to)
    .bind(item.changed_date)
    .bind(&item.url)
    .bind(fields.to_string())
    .fetch_optional(&mut *tx)
    .await?)
}

/// Removes a work item (by its Azure DevOps id) as part of `tx`; returns
/// whether it was stored.
pub async fn delete_work_item(
    tx: &mut SqliteConnection,
    account: crate::model::AccountId,
    item_id: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM work_items WHERE account_id = ? AND item_id = ?")
        .bind(account)
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

impl Store {
    /// Work items, most recently changed first.
    pub async fn work_items(&self, query: &WorkItemQuery) -> Result<Vec<WorkItem>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM work_items
             WHERE (?1 IS NULL OR account_id = ?1)
             ORDER BY changed_date DESC, id DESC LIMIT ?2"
        ))
        .bind(query.account_id)
        .bind(page_limit(query.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(work_item_from_row).collect()
    }

    /// How many work items are stored.
    pub async fn work_item_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM work_items")
            .fetch_one(&self.pool)
            .await?)
    }
}
