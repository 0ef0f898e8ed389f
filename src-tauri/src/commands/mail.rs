//! Mail commands: lists, folders, conversations, the reading pane (safe
//! rendering, remote content, links) and search.

use ember::model::{
    Folder, MessageDetail, MessagePage, MessageQuery, RemoteScope, RenderedBody, SearchHit,
    SearchQuery,
};
use tauri::{AppHandle, Runtime, State};

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

/// Search with the search box's operators; hits carry highlight spans.
#[tauri::command]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: SearchQuery,
) -> CommandResult<Vec<SearchHit>> {
    Ok(state.ember.search(&query).await?)
}

/// Folders and labels with unread and total counts.
#[tauri::command]
pub async fn list_folders(
    state: State<'_, AppState>,
    account_id: Option<i64>,
) -> CommandResult<Vec<Folder>> {
    Ok(state.ember.folders(account_id).await?)
}

/// A conversation, oldest first.
#[tauri::command]
pub async fn get_thread(
    state: State<'_, AppState>,
    thread_id: i64,
) -> CommandResult<Vec<MessageDetail>> {
    Ok(state.ember.thread(thread_id).await?)
}

/// The sanitised document for the reading pane's sandboxed frame.
#[tauri::command]
pub async fn render_message(state: State<'_, AppState>, id: i64) -> CommandResult<RenderedBody> {
    Ok(state.ember.render_message(id).await?)
}

/// Allows remote content for a message (returns it rendered again) or a
/// sender (returns null).
#[tauri::command]
pub async fn allow_remote(
    state: State<'_, AppState>,
    scope: RemoteScope,
) -> CommandResult<Option<RenderedBody>> {
    Ok(state.ember.allow_remote(&scope).await?)
}

/// Opens a clicked link in the system browser (or mail handler): only
/// http, https and mailto, with tracking and injected parameters removed.
#[tauri::command]
pub async fn open_link<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    url: String,
) -> CommandResult<()> {
    let url = state.ember.checked_link(&url)?;
    crate::links::open_external(&app, &url)?;
    Ok(())
}
