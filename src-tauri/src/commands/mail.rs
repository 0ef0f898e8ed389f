//! Mail commands: lists, the reading pane, search.

use ember::model::{MessageDetail, MessagePage, MessageQuery, MessageSummary, SearchQuery};
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// A page of a message list, newest first.
#[tauri::command]
pub async fn list_messages(
    state: State<'_, AppState>,
    query: MessageQuery,
) -> CommandResult<MessagePage> {
    Ok(state.ember.messages(&query).await?)
}

/// One message for the reading pane.
#[tauri::command]
pub async fn get_message(state: State<'_, AppState>, id: i64) -> CommandResult<MessageDetail> {
    Ok(state.ember.message(id).await?)
}

/// Full-text search.
#[tauri::command]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: SearchQuery,
) -> CommandResult<Vec<MessageSummary>> {
    Ok(state.ember.search(&query).await?)
}
