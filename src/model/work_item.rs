//! Azure DevOps work items as the UI lists them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AccountId;

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
    /// Last change, Unix milliseconds.
    #[ts(type = "number")]
    pub changed_date: i64,
    /// The work item's web URL.
    pub url: String,
}

/// Which work items to list, most recently changed first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemQuery {
    /// Only this account's, or all.
    #[ts(type = "number | null")]
    pub account_id: Option<AccountId>,
    /// At most this many (capped by the service).
    pub limit: u32,
}
