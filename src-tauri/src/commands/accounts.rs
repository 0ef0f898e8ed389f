//! Account commands.

use ember::model::Account;
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// Every account.
#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> CommandResult<Vec<Account>> {
    Ok(state.ember.accounts().await?)
}
