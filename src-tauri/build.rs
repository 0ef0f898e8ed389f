//! Embeds the Tauri configuration and declares the app's commands, so that
//! each gets a permission and the window's capability can grant exactly the
//! ones the UI uses.

fn main() {
    let commands = &[
        "list_accounts",
        "list_messages",
        "get_message",
        "search_messages",
        "list_work_items",
        "get_work_item",
        "refresh_work_item",
        "edit_work_item",
        "resolve_work_item_conflict",
        "linked_work_items",
        "get_status",
        "set_sync_enabled",
        "sync_now",
        "add_account",
        "reauthenticate",
        "remove_account",
        "set_account_sync",
        "get_settings",
        "update_settings",
        "get_diagnostics",
        "set_unread",
        "set_starred",
        "archive_messages",
        "trash_messages",
        "move_messages",
        "compose",
        "open_draft",
        "get_draft",
        "list_drafts",
        "save_draft",
        "attach_file",
        "detach_file",
        "send_draft",
        "undo_send",
        "discard_draft",
        "suggest_contacts",
        "move_to_category",
        "explain_category",
        "list_folders",
        "get_thread",
        "render_message",
        "allow_remote",
        "open_link",
    ];
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(e) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; say why first.
        panic!("tauri-build failed: {e:#}");
    }
}
