//! Settings commands: read every preference, replace them after validation.

use ember::model::Settings;
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// Every preference.
#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<Settings> {
    Ok(state.ember.settings().await?)
}

/// Validates and stores every preference; rejects with `invalidSetting`.
#[tauri::command]
pub async fn update_settings(
    state: State<'_, AppState>,
    settings: Settings,
) -> CommandResult<Settings> {
    Ok(state.ember.update_settings(settings).await?)
}
