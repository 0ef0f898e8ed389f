//! Work item commands: the list, one item's detail, its refresh from Azure
//! DevOps, edits, conflicts, and the items a message refers to.

use ember::model::{
    ConflictChoice, LinkedWorkItem, WorkItem, WorkItemDetail, WorkItemEdit, WorkItemQuery,
};
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// Work items matching the query, most recently changed first.
#[tauri::command]
pub async fn list_work_items(
    state: State<'_, AppState>,
    query: WorkItemQuery,
) -> CommandResult<Vec<WorkItem>> {
    Ok(state.ember.work_items(&query).await?)
}

/// One work item as last synced.
#[tauri::command]
pub async fn get_work_item(state: State<'_, AppState>, id: i64) -> CommandResult<WorkItemDetail> {
    Ok(state.ember.work_item(id).await?)
}

/// One work item read from Azure DevOps now, with comments and history.
#[tauri::command]
pub async fn refresh_work_item(
    state: State<'_, AppState>,
    id: i64,
) -> CommandResult<WorkItemDetail> {
    Ok(state.ember.refresh_work_item(id).await?)
}

/// Changes a work item (applied at once, sent through the outbox).
#[tauri::command]
pub async fn edit_work_item(
    state: State<'_, AppState>,
    id: i64,
    edit: WorkItemEdit,
) -> CommandResult<WorkItem> {
    Ok(state.ember.edit_work_item(id, edit).await?)
}

/// Re-applies or drops an edit that met someone else's change.
#[tauri::command]
pub async fn resolve_work_item_conflict(
    state: State<'_, AppState>,
    id: i64,
    choice: ConflictChoice,
) -> CommandResult<WorkItemDetail> {
    Ok(state.ember.resolve_work_item_conflict(id, choice).await?)
}

/// The work items a message refers to, with their live state.
#[tauri::command]
pub async fn linked_work_items(
    state: State<'_, AppState>,
    message_id: i64,
) -> CommandResult<Vec<LinkedWorkItem>> {
    Ok(state.ember.linked_work_items(message_id).await?)
}
