//! Work item commands.

use ember::model::{WorkItem, WorkItemQuery};
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// Work items, most recently changed first.
#[tauri::command]
pub async fn list_work_items(
    state: State<'_, AppState>,
    query: WorkItemQuery,
) -> CommandResult<Vec<WorkItem>> {
    Ok(state.ember.work_items(&query).await?)
}
