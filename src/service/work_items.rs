//! Work items from the window and the CLI: the filtered, searched list;
//! one item's detail (its description and comments rendered like mail, its
//! history, related items and mail); edits through the outbox; the
//! conflicts edits can meet; and the work items a message refers to.

use std::time::Duration;

use super::{Ember, ServiceError};
use crate::model::{
    ConflictChoice, LinkedWorkItem, MessageId, RelatedItem, WorkItem, WorkItemDetail, WorkItemEdit,
    WorkItemQuery,
};
use crate::store::outbox::WorkItemChange;

/// How long opening an item waits for its comments and history.
pub const REFRESH_LIMIT: Duration = Duration::from_secs(20);

/// The longest comment accepted.
pub const MAX_COMMENT: usize = 20_000;

/// Mail listed under a work item at most.
const MAIL_SHOWN: u32 = 50;

impl Ember {
    /// Work items matching `query`, most recently changed first.
    pub async fn work_items(&self, query: &WorkItemQuery) -> Result<Vec<WorkItem>, ServiceError> {
        let search = crate::search::work_items::parse(query.search.as_deref().unwrap_or(""))
            .map_err(|e| ServiceError::InvalidQuery(e.0))?;
        Ok(self.store.work_items(query, &search).await?)
    }

    /// Everything the pane shows of work item `id` (a local row id), as
    /// last synced.
    pub async fn work_item(&self, id: i64) -> Result<WorkItemDetail, ServiceError> {
        let item = self.store.work_item(id).await?;
        let (created_by, description, relations) = self.store.work_item_extras(id).await?;
        let mut related = Vec::with_capacity(relations.len());
        for (rel, number) in relations {
            let other = self
                .store
                .work_item_by_number(Some(item.account_id), number)
                .await
                .ok();
            related.push(RelatedItem {
                rel,
                item_id: number,
                item: other,
            });
        }
        Ok(WorkItemDetail {
            created_by,
            description: description.map(|html| crate::render::render(&html, false)),
            comments: self.store.work_item_comments(id).await?,
            history: self.store.work_item_history(id).await?,
            related,
            mail: self.store.mail_about(&item, MAIL_SHOWN).await?,
            allowed_states: self.store.allowed_states(&item).await?,
            conflict: self
                .store
                .work_item_conflict(item.account_id, item.item_id)
                .await?,
            item,
        })
    }

    /// Work item `id` by its Azure DevOps number (the CLI's `work-item
    /// show 123`).
    pub async fn work_item_by_number(&self, number: i64) -> Result<WorkItemDetail, ServiceError> {
        let item = self.store.work_item_by_number(None, number).await?;
        self.work_item(item.id).await
    }

    /// Reads work item `id` from Azure DevOps now, with its comments and
    /// history (the user opened it). Offline, the stored item stays as it is
    /// and the error says why.
    pub async fn refresh_work_item(&self, id: i64) -> Result<WorkItemDetail, ServiceError> {
        self.ensure_running()?;
        let item = self.store.work_item(id).await?;
        self.sync
            .refresh(item.account_id, item.item_id, REFRESH_LIMIT)
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        self.events.publish(crate::events::Event::DataChanged {
            account_id: Some(item.account_id),
        });
        self.work_item(id).await
    }

    /// Applies `edit` to work item `id` at once and queues it for Azure
    /// DevOps, tested against the revision the user saw; its account syncs
    /// now to send it.
    pub async fn edit_work_item(
        &self,
        id: i64,
        edit: WorkItemEdit,
    ) -> Result<WorkItem, ServiceError> {
        self.ensure_running()?;
        let item = self.store.work_item(id).await?;
        let edit = self.checked(&item, edit).await?;
        self.store
            .queue_work_item_edit(
                item.account_id,
                &WorkItemChange {
                    item: item.item_id,
                    rev: item.rev,
                    edit,
                },
            )
            .await?;
        self.sync.sync_now(Some(item.account_id));
        self.events.publish(crate::events::Event::DataChanged {
            account_id: Some(item.account_id),
        });
        Ok(self.store.work_item(id).await?)
    }

    /// Refuses what Azure DevOps would refuse anyway: a state the item's
    /// type does not allow, a priority out of range, an empty comment.
    async fn checked(
        &self,
        item: &WorkItem,
        edit: WorkItemEdit,
    ) -> Result<WorkItemEdit, ServiceError> {
        Ok(match edit {
            WorkItemEdit::SetState { state } => {
                let allowed = self.store.allowed_states(item).await?;
                let found = allowed
                    .iter()
                    .find(|s| s.eq_ignore_ascii_case(state.trim()))
                    .cloned();
                match (found, allowed.is_empty()) {
                    (Some(state), _) => WorkItemEdit::SetState { state },
                    // States not known yet: Azure DevOps will judge.
                    (None, true) if !state.trim().is_empty() => WorkItemEdit::SetState {
                        state: state.trim().to_owned(),
                    },
                    _ => {
                        return Err(ServiceError::InvalidInput(format!(
                            "A {} cannot be {}; it can be: {}.",
                            item.item_type,
                            state.trim(),
                            allowed.join(", ")
                        )))
                    }
                }
            }
            WorkItemEdit::SetPriority { priority } if (1..=4).contains(&priority) => {
                WorkItemEdit::SetPriority { priority }
            }
            WorkItemEdit::SetPriority { priority } => {
                return Err(ServiceError::InvalidInput(format!(
                    "Priority is 1 (highest) to 4, not {priority}."
                )))
            }
            WorkItemEdit::Assign { to } => {
                let to = to.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
                if to.as_ref().is_some_and(|t| t.len() > 320) {
                    return Err(ServiceError::InvalidInput("That name is too long.".into()));
                }
                WorkItemEdit::Assign { to }
            }
            WorkItemEdit::Comment { text } => {
                let text = text.trim().to_owned();
                if text.is_empty() {
                    return Err(ServiceError::InvalidInput(
                        "A comment needs some text.".into(),
                    ));
                }
                if text.len() > MAX_COMMENT {
                    return Err(ServiceError::InvalidInput(format!(
                        "A comment is at most {MAX_COMMENT} characters."
                    )));
                }
                WorkItemEdit::Comment { text }
            }
        })
    }

    /// Settles the edit of work item `id` that met someone else's change:
    /// re-applies it on the revision now synced, or drops it.
    pub async fn resolve_work_item_conflict(
        &self,
        id: i64,
        choice: ConflictChoice,
    ) -> Result<WorkItemDetail, ServiceError> {
        self.ensure_running()?;
        let item = self.store.work_item(id).await?;
        let conflict = self
            .store
            .work_item_conflict(item.account_id, item.item_id)
            .await?
            .ok_or(ServiceError::Store(crate::store::StoreError::NotFound(
                "conflict",
            )))?;
        let reapply_on = (choice == ConflictChoice::Reapply).then_some(item.rev);
        self.store
            .resolve_conflict(conflict.entry, reapply_on)
            .await?;
        if reapply_on.is_some() {
            self.sync.sync_now(Some(item.account_id));
        }
        self.events.publish(crate::events::Event::DataChanged {
            account_id: Some(item.account_id),
        });
        self.work_item(id).await
    }

    /// The work items message `id` refers to, with their live state.
    pub async fn linked_work_items(
        &self,
        id: MessageId,
    ) -> Result<Vec<LinkedWorkItem>, ServiceError> {
        Ok(self.store.linked_work_items(id).await?)
    }
}

/// Messages read per transaction by the link scan.
const SCAN_BATCH: i64 = 200;

/// Finds the work item links of mail stored before they were looked for
/// (a store from an earlier version, or mail that arrived before its
/// organisation's account was added), from where the last scan stopped. New
/// mail is linked as it is written; this only catches up, a batch per
/// transaction, until `cancel`.
pub(super) async fn scan_stored_mail(
    store: crate::store::Store,
    cancel: tokio_util::sync::CancellationToken,
) {
    let result: Result<usize, crate::store::StoreError> = async {
        let mut after: i64 = store
            .setting(crate::store::settings::LINKS_SCANNED)
            .await?
            .unwrap_or(0);
        let orgs = store.known_orgs().await?;
        let mut scanned = 0;
        while !cancel.is_cancelled() {
            let batch = store.messages_to_link(after, SCAN_BATCH).await?;
            let Some(last) = batch.last().map(|m| m.0) else {
                break;
            };
            let orgs = orgs.clone();
            let links = crate::cpu::run(move || {
                batch
                    .iter()
                    .map(|(id, from, subject, text)| {
                        (*id, crate::links::find(from, subject, text, &orgs))
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| crate::store::StoreError::Corrupt {
                table: "message_work_items",
                detail: e.to_string(),
            })?;
            scanned += links.len();
            store.put_scanned_links(&links, last).await?;
            after = last;
        }
        Ok(scanned)
    }
    .await;
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(messages = n, "stored mail scanned for work item links"),
        Err(e) => tracing::warn!("cannot scan stored mail for work item links: {e}"),
    }
}
