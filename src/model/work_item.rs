//! Azure DevOps work items as the work-item pane and the reading pane show
//! them, and the edits a user makes to them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{AccountId, MessageSummary};

/// One work item, at the revision last synced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkItem {
    /// Local row id.
    #[ts(type = "number")]
    pub id: i64,
    /// The Azure DevOps account it came from.
    #[ts(type = "number")]
    pub account_id: AccountId,
    /// Organisation name.
    pub organization: String,
    /// Project name.
    pub project: String,
    /// The work item's number in Azure DevOps.
    #[ts(type = "number")]
    pub item_id: i64,
    /// Revision number.
    #[ts(type = "number")]
    pub rev: i64,
    /// Bug, Task, User Story ...
    pub item_type: String,
    /// Title.
    pub title: String,
    /// New, Active, Resolved, Closed ...
    pub state: String,
    /// Display name of the assignee, if any.
    pub assigned_to: Option<String>,
    /// 1 (highest) to 4, when set.
    #[ts(type = "number | null")]
    pub priority: Option<i64>,
    /// The iteration path (`Project\Sprint 3`), when set.
    pub iteration: Option<String>,
    /// Last change, Unix milliseconds.
    #[ts(type = "number")]
    pub changed_date: i64,
    /// The work item's page in Azure DevOps.
    pub url: String,
    /// Why it is synced: `assigned`, `created`, `mentioned`, `followed`,
    /// or `query:<id>` for a saved query.
    pub memberships: Vec<String>,
    /// An edit of the user's met someone else's change and waits for the
    /// user to re-apply or drop it.
    pub conflict: bool,
    /// Edits of the user's not yet accepted by Azure DevOps.
    #[ts(type = "number")]
    pub pending_edits: i64,
}

/// Which work items to list: most recently changed first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemQuery {
    /// Only this account's, or all.
    #[ts(type = "number | null")]
    pub account_id: Option<AccountId>,
    /// Only items synced for this reason (`assigned`, `mentioned`,
    /// `created`, `followed`, `query:<id>`), or all.
    #[serde(default)]
    pub membership: Option<String>,
    /// The search box's text: free words over titles and descriptions, and
    /// `type:`, `state:`, `assigned:` (a name, an address, or `me`).
    #[serde(default)]
    pub search: Option<String>,
    /// At most this many (capped by the service).
    pub limit: u32,
}

/// One comment on a work item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemComment {
    /// Who wrote it.
    pub author: String,
    /// When, Unix milliseconds.
    #[ts(type = "number")]
    pub created_at: i64,
    /// Its text as sanitised HTML: render it in a sandboxed frame, as mail.
    pub html: String,
}

/// One state change of a work item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StateChange {
    /// The revision that made it.
    #[ts(type = "number")]
    pub rev: i64,
    /// The state it entered.
    pub state: String,
    /// Who changed it.
    pub changed_by: String,
    /// When, Unix milliseconds.
    #[ts(type = "number")]
    pub changed_at: i64,
}

/// A link from a work item to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItem {
    /// `parent`, `child` or `related`.
    pub rel: String,
    /// The other item's number.
    #[ts(type = "number")]
    pub item_id: i64,
    /// The other item, when it is synced too.
    pub item: Option<WorkItem>,
}

/// Everything the work-item pane shows of one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemDetail {
    /// What the list shows.
    pub item: WorkItem,
    /// Who created it.
    pub created_by: Option<String>,
    /// The description as a sandboxed document (as mail is rendered).
    pub description: Option<super::RenderedBody>,
    /// Comments, oldest first, each as a sandboxed document.
    pub comments: Vec<WorkItemComment>,
    /// State changes, oldest first.
    pub history: Vec<StateChange>,
    /// Links to related items.
    pub related: Vec<RelatedItem>,
    /// Mail about it, newest first.
    pub mail: Vec<MessageSummary>,
    /// The states its type allows, in the process's order.
    pub allowed_states: Vec<String>,
    /// The edit that met someone else's change, if one waits for the user.
    pub conflict: Option<WorkItemConflict>,
}

/// An edit of the user's that Azure DevOps refused because someone else
/// changed the item first. The item has been refreshed; the user re-applies
/// the edit on top of the new revision or drops it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemConflict {
    /// The waiting outbox entry.
    #[ts(type = "number")]
    pub entry: i64,
    /// What the user wanted.
    pub edit: WorkItemEdit,
    /// The revision the user saw.
    #[ts(type = "number")]
    pub seen_rev: i64,
    /// A sentence for the user.
    pub message: String,
}

/// A change the user makes to a work item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum WorkItemEdit {
    /// Move it to another state its type allows.
    SetState {
        /// The new state.
        state: String,
    },
    /// Assign it to someone (an address or display name), or nobody.
    Assign {
        /// Who, or `None` to unassign.
        to: Option<String>,
    },
    /// Set its priority (1 to 4).
    SetPriority {
        /// The new priority.
        #[ts(type = "number")]
        priority: i64,
    },
    /// Add a comment (plain text).
    Comment {
        /// The text.
        text: String,
    },
}

impl WorkItemEdit {
    /// A short name for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SetState { .. } => "setState",
            Self::Assign { .. } => "assign",
            Self::SetPriority { .. } => "setPriority",
            Self::Comment { .. } => "comment",
        }
    }
}

/// What the user decides about a conflicting edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ConflictChoice {
    /// Apply the edit again, on top of the revision now synced.
    Reapply,
    /// Forget the edit; keep the other person's change.
    Drop,
}

/// A work item a message refers to, with its live state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LinkedWorkItem {
    /// The item's number.
    #[ts(type = "number")]
    pub item_id: i64,
    /// How the mail refers to it: `mention`, `url` or `notification`.
    pub source: String,
    /// The item, when it is synced.
    pub item: Option<WorkItem>,
}
