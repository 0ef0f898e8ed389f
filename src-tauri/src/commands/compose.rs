//! Writing mail: the composer's commands. Each is one call into the
//! service, which keeps the draft in the store as the user types, syncs it
//! to the provider's Drafts and sends it through the outbox.

use ember::model::{ComposeRequest, Contact, Draft, DraftEdit, DraftId, MessageId};
use ember::{ApiError, ErrorCode};
use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use crate::error::CommandResult;
use crate::AppState;

/// Opens the composer: a new message, or a reply, reply-all or forward of
/// a stored message.
#[tauri::command]
pub async fn compose(state: State<'_, AppState>, request: ComposeRequest) -> CommandResult<Draft> {
    Ok(state.ember.compose(request).await?)
}

/// Opens a message of the Drafts folder (one written elsewhere) in the
/// composer.
#[tauri::command]
pub async fn open_draft(state: State<'_, AppState>, message_id: MessageId) -> CommandResult<Draft> {
    Ok(state.ember.open_draft(message_id).await?)
}

/// One draft as it stands.
#[tauri::command]
pub async fn get_draft(state: State<'_, AppState>, id: DraftId) -> CommandResult<Draft> {
    Ok(state.ember.draft(id).await?)
}

/// Drafts not yet sent (being written, queued, sending or refused), of one
/// account or all.
#[tauri::command]
pub async fn list_drafts(
    state: State<'_, AppState>,
    account_id: Option<i64>,
) -> CommandResult<Vec<Draft>> {
    Ok(state.ember.drafts(account_id).await?)
}

/// Saves what the composer holds.
#[tauri::command]
pub async fn save_draft(
    state: State<'_, AppState>,
    id: DraftId,
    edit: DraftEdit,
) -> CommandResult<Draft> {
    Ok(state.ember.save_draft(id, edit).await?)
}

/// Attaches a file. The bytes are the raw body of the call (no JSON or
/// base64 round trip for a 20 MB file); the draft, the file's name and its
/// type travel as headers `Ember-Draft`, `Ember-Filename` (percent-encoded)
/// and `Ember-Content-Type`.
#[tauri::command]
pub async fn attach_file(state: State<'_, AppState>, request: Request<'_>) -> CommandResult<Draft> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let invalid = |message: &str| ApiError {
        code: ErrorCode::InvalidInput,
        message: message.to_owned(),
    };
    let id: DraftId = header("Ember-Draft")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid("the attachment names no draft"))?;
    let filename = header("Ember-Filename")
        .map(|v| percent_decode(&v))
        .ok_or_else(|| invalid("the attachment has no file name"))?;
    let content_type =
        header("Ember-Content-Type").unwrap_or_else(|| "application/octet-stream".into());
    let InvokeBody::Raw(data) = request.body() else {
        return Err(invalid("the attachment's bytes must be sent raw").into());
    };
    Ok(state
        .ember
        .attach(id, &filename, &content_type, data.clone())
        .await?)
}

/// Removes an attachment.
#[tauri::command]
pub async fn detach_file(
    state: State<'_, AppState>,
    id: DraftId,
    attachment_id: i64,
) -> CommandResult<Draft> {
    Ok(state.ember.detach(id, attachment_id).await?)
}

/// Send: queued in the outbox at once, leaving when the undo window closes.
#[tauri::command]
pub async fn send_draft(state: State<'_, AppState>, id: DraftId) -> CommandResult<Draft> {
    Ok(state.ember.send(id).await?)
}

/// Takes a queued message back into the composer, while it can be.
#[tauri::command]
pub async fn undo_send(state: State<'_, AppState>, id: DraftId) -> CommandResult<Draft> {
    Ok(state.ember.undo_send(id).await?)
}

/// Discards a draft here and in the provider's Drafts.
#[tauri::command]
pub async fn discard_draft(state: State<'_, AppState>, id: DraftId) -> CommandResult<()> {
    Ok(state.ember.discard_draft(id).await?)
}

/// Addresses for the To, Cc and Bcc fields, best first.
#[tauri::command]
pub async fn suggest_contacts(
    state: State<'_, AppState>,
    prefix: String,
    limit: Option<u32>,
) -> CommandResult<Vec<Contact>> {
    Ok(state.ember.contacts(&prefix, limit.unwrap_or(8)).await?)
}

/// Decodes the file name the UI sends as `encodeURIComponent(name)`, since a
/// header carries only visible ASCII.
fn percent_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn file_names_survive_the_header() {
        assert_eq!(
            percent_decode("Gr%C3%BC%C3%9Fe%20%E2%98%95.pdf"),
            "Grüße ☕.pdf"
        );
        assert_eq!(percent_decode("100%.txt"), "100%.txt");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
