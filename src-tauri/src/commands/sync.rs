//! Sync commands: the switch the tray mirrors, sync now, the status snapshot.

use ember::model::Status;
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// The switch, every account's state and the store's size.
#[tauri::command]
pub async fn get_status(state: State<'_, AppState>) -> CommandResult<Status> {
    Ok(state.ember.status().await?)
}

/// Flips the global sync switch; the tray follows through the event it raises.
#[tauri::command]
pub async fn set_sync_enabled(state: State<'_, AppState>, enabled: bool) -> CommandResult<Status> {
    Ok(state.ember.set_sync_enabled(enabled).await?)
}

/// Asks one account (or every account) to sync now.
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>, account_id: Option<i64>) -> CommandResult<()> {
    state.ember.sync_now(account_id)?;
    Ok(())
}
