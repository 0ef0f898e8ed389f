//! The health report Settings → Diagnostics shows (the same as `ember doctor`).

use ember::model::Diagnostics;
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// The health report, with its shareable text.
#[tauri::command]
pub async fn get_diagnostics(state: State<'_, AppState>) -> CommandResult<Diagnostics> {
    Ok(state.ember.diagnostics().await?)
}
