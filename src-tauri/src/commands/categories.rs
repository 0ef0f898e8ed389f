//! Category commands: the user's corrections and the "why" of a category.

use ember::model::{Category, CategoryExplanation};
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// Moves messages to a category (a correction the classifier learns from).
#[tauri::command]
pub async fn move_to_category(
    state: State<'_, AppState>,
    ids: Vec<i64>,
    category: Category,
) -> CommandResult<()> {
    Ok(state.ember.move_to_category(&ids, category).await?)
}

/// Why a message is in its category: source, nearest examples, one sentence.
#[tauri::command]
pub async fn explain_category(
    state: State<'_, AppState>,
    id: i64,
) -> CommandResult<CategoryExplanation> {
    Ok(state.ember.explain_category(id).await?)
}
