//! Azure DevOps work items in the store: what sync writes (items keyed on
//! account and number, keeping the newer revision; their comments, state
//! history and type states), and what the work-item pane reads (filtered
//! and searched lists, one item's detail).

use std::collections::HashMap;

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::{page_limit, Store, StoreError};
use crate::model::{AccountId, StateChange, WorkItem, WorkItemComment, WorkItemQuery};
use crate::search::work_items::{Assigned, WorkItemSearch};

pub(super) const COLUMNS: &str = "w.id, w.account_id, w.organization, w.project, w.item_id, w.rev, \
     w.item_type, w.title, w.state, w.assigned_to, w.priority, w.iteration, w.changed_date, \
     w.url, w.memberships, \
     EXISTS (SELECT 1 FROM outbox o WHERE o.account_id = w.account_id AND o.state = 'conflict' \
             AND o.action LIKE 'wi.%' AND json_extract(o.payload, '$.item') = w.item_id) AS conflict, \
     (SELECT count(*) FROM outbox o WHERE o.account_id = w.account_id AND o.state = 'pending' \
             AND o.action LIKE 'wi.%' AND json_extract(o.payload, '$.item') = w.item_id) AS pending_edits";

pub(super) fn work_item_from_row(row: &SqliteRow) -> Result<WorkItem, StoreError> {
    let memberships: String = row.try_get("memberships")?;
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
        priority: row.try_get("priority")?,
        iteration: row.try_get("iteration")?,
        changed_date: row.try_get("changed_date")?,
        url: row.try_get("url")?,
        memberships: serde_json::from_str(&memberships).unwrap_or_default(),
        conflict: row.try_get("conflict")?,
        pending_edits: row.try_get("pending_edits")?,
    })
}

/// A work item as sync hands it to the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewWorkItem {
    /// Organisation name.
    pub organization: String,
    /// Project name.
    pub project: String,
    /// Its number.
    pub item_id: i64,
    /// Its revision.
    pub rev: i64,
    /// Bug, Task ...
    pub item_type: String,
    /// Title.
    pub title: String,
    /// State.
    pub state: String,
    /// The assignee's display name.
    pub assigned_to: Option<String>,
    /// The assignee's address.
    pub assigned_to_address: Option<String>,
    /// Priority.
    pub priority: Option<i64>,
    /// Iteration path.
    pub iteration: Option<String>,
    /// Who created it.
    pub created_by: Option<String>,
    /// Last change, Unix ms.
    pub changed_date: i64,
    /// Its web page.
    pub url: String,
    /// The description, sanitised HTML.
    pub description: Option<String>,
    /// The description's text, for search.
    pub description_text: Option<String>,
    /// Links to other items: (`parent` | `child` | `related`, number).
    pub relations: Vec<(String, i64)>,
    /// Why it is synced.
    pub memberships: Vec<String>,
    /// The fields as Azure DevOps sent them (kept for what the pane may
    /// show later).
    pub fields: serde_json::Value,
}

/// Adds or updates a work item (keyed on account and number) as part of
/// `tx`. Its content is replaced only by the same or a newer revision; why
/// it is synced always is. Returns its row id, and whether the revision
/// written is newer than what was stored (`None` when it was not stored).
pub async fn upsert_work_item(
    tx: &mut SqliteConnection,
    account: AccountId,
    item: &NewWorkItem,
) -> Result<(i64, Option<i64>), StoreError> {
    let before: Option<i64> =
        sqlx::query_scalar("SELECT rev FROM work_items WHERE account_id = ? AND item_id = ?")
            .bind(account)
            .bind(item.item_id)
            .fetch_optional(&mut *tx)
            .await?;
    let relations = serde_json::Value::Array(
        item.relations
            .iter()
            .map(|(rel, id)| serde_json::json!({ "rel": rel, "item": id }))
            .collect(),
    )
    .to_string();
    let memberships = serde_json::to_string(&item.memberships).unwrap_or_else(|_| "[]".into());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO work_items (account_id, organization, project, item_id, rev, item_type,
             title, state, assigned_to, assigned_to_address, priority, iteration, created_by,
             changed_date, url, description, description_text, relations, memberships, fields)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, item_id) DO UPDATE SET
             memberships = excluded.memberships,
             organization = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.organization ELSE work_items.organization END,
             project = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.project ELSE work_items.project END,
             item_type = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.item_type ELSE work_items.item_type END,
             title = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.title ELSE work_items.title END,
             state = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.state ELSE work_items.state END,
             assigned_to = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.assigned_to ELSE work_items.assigned_to END,
             assigned_to_address = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.assigned_to_address ELSE work_items.assigned_to_address END,
             priority = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.priority ELSE work_items.priority END,
             iteration = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.iteration ELSE work_items.iteration END,
             created_by = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.created_by ELSE work_items.created_by END,
             changed_date = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.changed_date ELSE work_items.changed_date END,
             url = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.url ELSE work_items.url END,
             description = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.description ELSE work_items.description END,
             description_text = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.description_text ELSE work_items.description_text END,
             relations = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.relations ELSE work_items.relations END,
             fields = CASE WHEN excluded.rev >= work_items.rev
                 THEN excluded.fields ELSE work_items.fields END,
             rev = max(work_items.rev, excluded.rev)
         RETURNING id",
    )
    .bind(account)
    .bind(&item.organization)
    .bind(&item.project)
    .bind(item.item_id)
    .bind(item.rev)
    .bind(&item.item_type)
    .bind(&item.title)
    .bind(&item.state)
    .bind(&item.assigned_to)
    .bind(&item.assigned_to_address)
    .bind(item.priority)
    .bind(&item.iteration)
    .bind(&item.created_by)
    .bind(item.changed_date)
    .bind(&item.url)
    .bind(&item.description)
    .bind(&item.description_text)
    .bind(relations)
    .bind(memberships)
    .bind(item.fields.to_string())
    .fetch_one(&mut *tx)
    .await?;
    Ok((id, before))
}

/// Replaces a work item's comments (oldest first) as part of `tx`.
pub async fn put_work_item_comments(
    tx: &mut SqliteConnection,
    work_item: i64,
    comments: &[(i64, WorkItemComment)],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM work_item_comments WHERE work_item_id = ?")
        .bind(work_item)
        .execute(&mut *tx)
        .await?;
    for (comment_id, c) in comments {
        sqlx::query(
            "INSERT OR REPLACE INTO work_item_comments
                 (work_item_id, comment_id, author, created_at, html) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(work_item)
        .bind(comment_id)
        .bind(&c.author)
        .bind(c.created_at)
        .bind(&c.html)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Replaces a work item's state history as part of `tx`.
pub async fn put_work_item_history(
    tx: &mut SqliteConnection,
    work_item: i64,
    history: &[StateChange],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM work_item_history WHERE work_item_id = ?")
        .bind(work_item)
        .execute(&mut *tx)
        .await?;
    for h in history {
        sqlx::query(
            "INSERT OR REPLACE INTO work_item_history
                 (work_item_id, rev, state, changed_by, changed_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(work_item)
        .bind(h.rev)
        .bind(&h.state)
        .bind(&h.changed_by)
        .bind(h.changed_at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Replaces the states a project's work item type allows, as part of `tx`.
pub async fn put_type_states(
    tx: &mut SqliteConnection,
    account: AccountId,
    project: &str,
    item_type: &str,
    states: &[(String, String)],
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM work_item_type_states WHERE account_id = ? AND project = ? AND item_type = ?",
    )
    .bind(account)
    .bind(project)
    .bind(item_type)
    .execute(&mut *tx)
    .await?;
    for (position, (state, category)) in states.iter().enumerate() {
        sqlx::query(
            "INSERT OR REPLACE INTO work_item_type_states
                 (account_id, project, item_type, state, category, position)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(account)
        .bind(project)
        .bind(item_type)
        .bind(state)
        .bind(category)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Removes a work item (by its Azure DevOps id) as part of `tx`; returns
/// whether it was stored.
pub async fn delete_work_item(
    tx: &mut SqliteConnection,
    account: AccountId,
    item_id: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM work_items WHERE account_id = ? AND item_id = ?")
        .bind(account)
        .bind(item_id)
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Applies a user's edit to the local row at once (the outbox sends it).
pub(super) async fn apply_edit_locally(
    tx: &mut SqliteConnection,
    account: AccountId,
    item_id: i64,
    edit: &crate::model::WorkItemEdit,
) -> Result<(), StoreError> {
    use crate::model::WorkItemEdit;
    let q = match edit {
        WorkItemEdit::SetState { state } => {
            sqlx::query("UPDATE work_items SET state = ? WHERE account_id = ? AND item_id = ?")
                .bind(state.clone())
        }
        WorkItemEdit::Assign { to } => sqlx::query(
            "UPDATE work_items SET assigned_to = ?, assigned_to_address = NULL
              WHERE account_id = ? AND item_id = ?",
        )
        .bind(to.clone()),
        WorkItemEdit::SetPriority { priority } => {
            sqlx::query("UPDATE work_items SET priority = ? WHERE account_id = ? AND item_id = ?")
                .bind(*priority)
        }
        WorkItemEdit::Comment { .. } => return Ok(()),
    };
    q.bind(account).bind(item_id).execute(&mut *tx).await?;
    Ok(())
}

/// Conditions of a work-item query (`w` is `work_items`).
fn push_filters(q: &mut QueryBuilder<'_, Sqlite>, query: &WorkItemQuery, search: &WorkItemSearch) {
    q.push(" WHERE 1");
    if let Some(account) = query.account_id {
        q.push(" AND w.account_id = ").push_bind(account);
    }
    if let Some(membership) = &query.membership {
        q.push(" AND EXISTS (SELECT 1 FROM json_each(w.memberships) WHERE value = ")
            .push_bind(membership.clone())
            .push(")");
    }
    if !search.types.is_empty() {
        q.push(" AND lower(w.item_type) IN (");
        let mut list = q.separated(", ");
        for t in &search.types {
            list.push_bind(t.clone());
        }
        q.push(")");
    }
    if !search.states.is_empty() {
        q.push(" AND lower(w.state) IN (");
        let mut list = q.separated(", ");
        for s in &search.states {
            list.push_bind(s.clone());
        }
        q.push(")");
    }
    match &search.assigned {
        None => {}
        Some(Assigned::Me) => {
            q.push(" AND EXISTS (SELECT 1 FROM json_each(w.memberships) WHERE value = 'assigned')");
        }
        Some(Assigned::Nobody) => {
            q.push(" AND w.assigned_to IS NULL");
        }
        Some(Assigned::Who(who)) => {
            let like = format!("%{}%", who.replace(['%', '_'], ""));
            q.push(" AND (lower(w.assigned_to) LIKE ")
                .push_bind(like.clone())
                .push(" OR lower(w.assigned_to_address) LIKE ")
                .push_bind(like)
                .push(")");
        }
    }
    if let Some(expression) = search.text.fts_expression() {
        q.push(" AND w.id IN (SELECT rowid FROM work_item_search WHERE work_item_search MATCH ")
            .push_bind(expression)
            .push(")");
    }
    if let Some(excluded) = search.text.negated_expression() {
        q.push(
            " AND w.id NOT IN (SELECT rowid FROM work_item_search WHERE work_item_search MATCH ",
        )
        .push_bind(excluded)
        .push(")");
    }
}

impl Store {
    /// Work items matching `query` (`search` parsed from its text), most
    /// recently changed first.
    pub async fn work_items(
        &self,
        query: &WorkItemQuery,
        search: &WorkItemSearch,
    ) -> Result<Vec<WorkItem>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM work_items w"));
        push_filters(&mut q, query, search);
        q.push(" ORDER BY w.changed_date DESC, w.id DESC LIMIT ")
            .push_bind(page_limit(query.limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(work_item_from_row).collect()
    }

    /// One work item by its local row id.
    pub async fn work_item(&self, id: i64) -> Result<WorkItem, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM work_items w WHERE w.id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("work item"))?;
        work_item_from_row(&row)
    }

    /// One work item by its number: the account's, or the first synced.
    pub async fn work_item_by_number(
        &self,
        account: Option<AccountId>,
        item_id: i64,
    ) -> Result<WorkItem, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM work_items w
              WHERE w.item_id = ?1 AND (?2 IS NULL OR w.account_id = ?2)
              ORDER BY w.account_id LIMIT 1"
        ))
        .bind(item_id)
        .bind(account)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("work item"))?;
        work_item_from_row(&row)
    }

    /// The parts of a work item's detail the list does not carry:
    /// creator, sanitised description, relations.
    pub async fn work_item_extras(
        &self,
        id: i64,
    ) -> Result<(Option<String>, Option<String>, Vec<(String, i64)>), StoreError> {
        let row =
            sqlx::query("SELECT created_by, description, relations FROM work_items WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("work item"))?;
        let relations: String = row.try_get("relations")?;
        let relations: Vec<serde_json::Value> =
            serde_json::from_str(&relations).unwrap_or_default();
        Ok((
            row.try_get("created_by")?,
            row.try_get("description")?,
            relations
                .iter()
                .filter_map(|r| Some((r["rel"].as_str()?.to_owned(), r["item"].as_i64()?)))
                .collect(),
        ))
    }

    /// A work item's comments, oldest first.
    pub async fn work_item_comments(&self, id: i64) -> Result<Vec<WorkItemComment>, StoreError> {
        let rows = sqlx::query(
            "SELECT author, created_at, html FROM work_item_comments
              WHERE work_item_id = ? ORDER BY created_at, comment_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WorkItemComment {
                    author: r.try_get("author")?,
                    created_at: r.try_get("created_at")?,
                    html: r.try_get("html")?,
                })
            })
            .collect()
    }

    /// A work item's state changes, oldest first.
    pub async fn work_item_history(&self, id: i64) -> Result<Vec<StateChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT rev, state, changed_by, changed_at FROM work_item_history
              WHERE work_item_id = ? ORDER BY rev",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StateChange {
                    rev: r.try_get("rev")?,
                    state: r.try_get("state")?,
                    changed_by: r.try_get("changed_by")?,
                    changed_at: r.try_get("changed_at")?,
                })
            })
            .collect()
    }

    /// The states `item`'s type allows, in the process's order (empty when
    /// not known yet).
    pub async fn allowed_states(&self, item: &WorkItem) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT state FROM work_item_type_states
              WHERE account_id = ? AND project = ? AND item_type = ? ORDER BY position",
        )
        .bind(item.account_id)
        .bind(&item.project)
        .bind(&item.item_type)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every stored work item of `account`: its number, its revision and
    /// why it is synced.
    pub async fn work_item_memberships(
        &self,
        account: AccountId,
    ) -> Result<HashMap<i64, (i64, Vec<String>)>, StoreError> {
        let rows: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT item_id, rev, memberships FROM work_items WHERE account_id = ?")
                .bind(account)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, rev, m)| (id, (rev, serde_json::from_str(&m).unwrap_or_default())))
            .collect())
    }

    /// Whether the states of `project`'s `item_type` are known.
    pub async fn type_states_known(
        &self,
        account: AccountId,
        project: &str,
        item_type: &str,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM work_item_type_states
              WHERE account_id = ? AND project = ? AND item_type = ?",
        )
        .bind(account)
        .bind(project)
        .bind(item_type)
        .fetch_one(&self.pool)
        .await?
            > 0)
    }

    /// How many work items are stored.
    pub async fn work_item_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM work_items")
            .fetch_one(&self.pool)
            .await?)
    }
}
