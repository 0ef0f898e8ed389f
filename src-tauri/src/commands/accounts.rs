//! Account commands: list, add by signing in, sign in again, remove, switch
//! sync on or off. Sign-in opens the system browser.

use ember::model::{Account, AccountId, AddAccount};
use tauri::{AppHandle, Runtime, State};

use crate::browser::SystemBrowser;
use crate::error::CommandResult;
use crate::AppState;

/// Every account.
#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> CommandResult<Vec<Account>> {
    Ok(state.ember.accounts().await?)
}

/// Adds an account: OAuth in the system browser, or an Azure DevOps token.
#[tauri::command]
pub async fn add_account<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    account: AddAccount,
) -> CommandResult<Account> {
    let browser = SystemBrowser::new(app);
    Ok(state.ember.sign_in(account, &browser).await?)
}

/// Signs an account in again in the system browser.
#[tauri::command]
pub async fn reauthenticate<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    account_id: AccountId,
) -> CommandResult<Account> {
    let browser = SystemBrowser::new(app);
    Ok(state.ember.reauthenticate(account_id, &browser).await?)
}

/// Removes an account, its local mail and its keychain entries.
#[tauri::command]
pub async fn remove_account(
    state: State<'_, AppState>,
    account_id: AccountId,
) -> CommandResult<()> {
    Ok(state.ember.remove_account(account_id).await?)
}

/// Switches one account's sync on or off.
#[tauri::command]
pub async fn set_account_sync(
    state: State<'_, AppState>,
    account_id: AccountId,
    enabled: bool,
) -> CommandResult<Account> {
    Ok(state.ember.set_account_sync(account_id, enabled).await?)
}
