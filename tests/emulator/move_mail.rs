//! Moving mail to a folder: the message leaves where it was shown and is
//! filed in the folder at once, the provider follows on the next run
//! (Gmail: labels changed, its other labels kept; Microsoft 365: the one
//! folder it is in), and a move that cannot be done is refused up front.

use std::time::Duration;

use ember::model::{FolderRole, SyncWindow};
use ember::service::{Ember, ServiceError};

use crate::graph_sync::{assert_converged as graph_converged, graph_ember};
use crate::support::{cli_demo_account, control_get, ember_json, first_inbox_message, start};

/// A folder of `account` mail can be filed in that is neither a system
/// folder nor a category: the user's own.
async fn own_folder(ember: &Ember, account: i64) -> anyhow::Result<(i64, String)> {
    for f in ember.folders(Some(account)).await? {
        let stored = ember.store().folder(f.id).await?;
        if f.role == FolderRole::Label && !stored.provider_id.starts_with("category:") {
            return Ok((f.id, stored.provider_id));
        }
    }
    anyhow::bail!("account {account} has no folder of its own")
}

#[tokio::test]
async fn moved_mail_is_filed_at_once_and_the_provider_follows() -> anyhow::Result<()> {
    let emu = start(120).await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    let gmail = ember
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.provider == ember::model::ProviderKind::Gmail)
        .map(|a| a.id)
        .ok_or_else(|| anyhow::anyhow!("no Gmail demo account"))?;
    ember.sync_once(graph).await?;
    ember.sync_once(gmail).await?;

    // Microsoft 365: out of the inbox into Junk Email, categories kept.
    let junk = ember
        .folders(Some(graph))
        .await?
        .into_iter()
        .find(|f| f.role == FolderRole::Spam)
        .ok_or_else(|| anyhow::anyhow!("no Junk Email folder"))?;
    let (folder, folder_provider_id) = (junk.id, ember.store().folder(junk.id).await?.provider_id);
    let rows = ember.export_messages(Some(graph), None).await?;
    let inbox_id = crate::graph_sync::folder_id(&emu, "inbox").await?;
    let message = rows
        .iter()
        .find(|m| m.folders.contains(&inbox_id))
        .ok_or_else(|| anyhow::anyhow!("no Microsoft 365 inbox mail"))?;
    ember.move_to_folder(&[message.id], folder).await?;
    let now = ember.export_messages(Some(graph), None).await?;
    let moved = now.iter().find(|m| m.id == message.id).cloned();
    let moved = moved.ok_or_else(|| anyhow::anyhow!("the message is still there"))?;
    let categories: Vec<_> = message
        .folders
        .iter()
        .filter(|f| f.starts_with("category:"))
        .cloned()
        .collect();
    let mut expected = vec![folder_provider_id.clone()];
    expected.extend(categories);
    expected.sort();
    let mut got = moved.folders.clone();
    got.sort();
    assert_eq!(got, expected, "filed locally before any request");
    let report = ember.sync_once(graph).await?;
    assert_eq!(report.actions_sent, 1, "{report:?}");
    // Graph gives a moved message a new id only without immutable ids;
    // Ember asks for immutable ones, so it is the same message.
    let theirs = crate::graph_sync::truth(&emu).await?;
    assert!(
        theirs
            .iter()
            .any(|(id, f, _)| *id == message.provider_id && *f == folder_provider_id),
        "Microsoft 365 has it in the folder"
    );
    graph_converged(&ember, graph, &emu).await?;

    // Gmail: INBOX off, the label on, its other labels kept.
    let (label, label_id) = own_folder(&ember, gmail).await?;
    let rows = ember.export_messages(Some(gmail), None).await?;
    let message = rows
        .iter()
        .find(|m| m.folders.iter().any(|f| f == "INBOX") && !m.folders.contains(&label_id))
        .ok_or_else(|| anyhow::anyhow!("no Gmail inbox mail"))?;
    ember.move_to_folder(&[message.id], label).await?;
    let local = ember.export_messages(Some(gmail), None).await?;
    let local = local
        .iter()
        .find(|m| m.id == message.id)
        .map(|m| m.folders.clone())
        .unwrap_or_default();
    let mut expected: Vec<String> = message
        .folders
        .iter()
        .filter(|f| *f != "INBOX")
        .cloned()
        .chain([label_id.clone()])
        .collect();
    expected.sort();
    let mut got = local.clone();
    got.sort();
    assert_eq!(got, expected, "filed locally, other labels kept");
    let report = ember.sync_once(gmail).await?;
    assert_eq!(report.actions_sent, 1, "{report:?}");
    let truth = control_get(&emu, "truth").await?;
    let labels = truth["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|a| a["messages"].as_array().into_iter().flatten())
        .find(|m| m["id"] == message.provider_id.as_str())
        .map(|m| m["folders"].clone())
        .unwrap_or_default();
    let mut theirs: Vec<String> = serde_json::from_value(labels)?;
    theirs.sort();
    assert_eq!(theirs, expected, "Gmail holds the same labels");
    crate::gmail_sync::assert_converged(&ember, gmail, &emu).await?;

    // Refused before anything changes: another account's folder, Sent.
    let refused = ember.move_to_folder(&[message.id], folder).await;
    assert!(
        matches!(refused, Err(ServiceError::InvalidInput(_))),
        "{refused:?}"
    );
    let sent = ember
        .folders(Some(gmail))
        .await?
        .into_iter()
        .find(|f| f.role == FolderRole::Sent)
        .map(|f| f.id)
        .unwrap_or_default();
    let refused = ember.move_to_folder(&[message.id], sent).await;
    assert!(
        matches!(refused, Err(ServiceError::InvalidInput(_))),
        "{refused:?}"
    );
    assert_eq!(ember.store().outbox_len(gmail).await?, 0, "nothing queued");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_command_line_moves_mail_and_sends_it_with_now() -> anyhow::Result<()> {
    let emu = start(60).await?;
    let dir = tempfile::tempdir()?;
    let gmail = cli_demo_account(dir.path(), &emu, "gmail", false).await?;
    let folders = ember_json(dir.path(), &["folders", "--account", &gmail, "--json"]).await?;
    let spam = folders
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["role"] == "spam")
        .and_then(|f| f["id"].as_i64())
        .ok_or_else(|| anyhow::anyhow!("no spam folder: {folders}"))?
        .to_string();
    let messages = ember_json(dir.path(), &["messages", "--account", &gmail, "--json"]).await?;
    let message = first_inbox_message(&messages)?;
    let id = message["id"].as_i64().unwrap_or_default().to_string();
    let outcome = ember_json(
        dir.path(),
        &["mail", "move", &id, "--to", &spam, "--now", "--json"],
    )
    .await?;
    assert_eq!(outcome["action"], "move");
    assert_eq!(outcome["accounts"][0]["pending"], 0, "{outcome}");
    let truth = control_get(&emu, "truth").await?;
    let theirs = truth["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|a| a["messages"].as_array().into_iter().flatten())
        .find(|m| m["id"] == message["provider_id"])
        .map(|m| m["folders"].clone())
        .unwrap_or_default();
    let theirs: Vec<String> = serde_json::from_value(theirs)?;
    assert!(theirs.contains(&"SPAM".to_owned()), "{theirs:?}");
    assert!(!theirs.contains(&"INBOX".to_owned()), "{theirs:?}");
    // A move without a folder is a usage error, not a guess.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_ember"))
        .args([
            "--data-dir",
            &dir.path().display().to_string(),
            "mail",
            "move",
            &id,
        ])
        .output()?;
    assert_eq!(bad.status.code(), Some(2), "clap's usage error");

    // With the app running (its lock on the profile), --now queues the
    // change for the app instead of failing after recording it.
    let held = ember::profile::ProfileLock::acquire(dir.path(), "fireside-ember")?;
    let outcome = ember_json(dir.path(), &["mail", "star", &id, "--now", "--json"]).await?;
    assert_eq!(outcome["action"], "star");
    assert_eq!(outcome["accounts"][0]["pending"], 1, "{outcome}");
    assert!(
        outcome["sent_by"]
            .as_str()
            .is_some_and(|w| w.starts_with("fireside-ember (pid ")),
        "{outcome}"
    );
    drop(held);
    emu.stop().await;
    Ok(())
}
