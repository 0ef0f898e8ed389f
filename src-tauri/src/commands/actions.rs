//! Mail actions: read or unread, star, archive, trash, move. Applied locally at
//! once and sent to the provider by the account's next run.

use ember::model::MessageId;
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// Marks messages read or unread.
#[tauri::command]
pub async fn set_unread(
    state: State<'_, AppState>,
    ids: Vec<MessageId>,
    unread: bool,
) -> CommandResult<()> {
    Ok(state.ember.set_unread(&ids, unread).await?)
}

/// Stars or unstars messages.
#[tauri::command]
pub async fn set_starred(
    state: State<'_, AppState>,
    ids: Vec<MessageId>,
    starred: bool,
) -> CommandResult<()> {
    Ok(state.ember.set_starred(&ids, starred).await?)
}

/// Takes messages out of the inbox.
#[tauri::command]
pub async fn archive_messages(
    state: State<'_, AppState>,
    ids: Vec<MessageId>,
) -> CommandResult<()> {
    Ok(state.ember.archive(&ids).await?)
}

/// Moves messages to the trash.
#[tauri::command]
pub async fn trash_messages(state: State<'_, AppState>, ids: Vec<MessageId>) -> CommandResult<()> {
    Ok(state.ember.trash(&ids).await?)
}

/// Moves messages to a folder of their account.
#[tauri::command]
pub async fn move_messages(
    state: State<'_, AppState>,
    ids: Vec<MessageId>,
    folder_id: i64,
) -> CommandResult<()> {
    Ok(state.ember.move_to_folder(&ids, folder_id).await?)
}
