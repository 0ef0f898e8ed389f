//! What the user does to mail reaches Gmail: read state, stars, archive and
//! trash change the local copy at once, go out with the next sync run, and
//! leave the store equal to Gmail's truth.

use std::collections::HashMap;
use std::time::Duration;

use ember::model::SyncWindow;
use serde_json::json;

use crate::gmail_sync::{assert_converged, gmail_ember};
use crate::support::{control, control_get, start};

fn folders_of(rows: &[ember::store::ExportedMessage]) -> HashMap<String, (Vec<String>, bool)> {
    rows.iter()
        .map(|m| (m.provider_id.clone(), (m.folders.clone(), m.unread)))
        .collect()
}

#[tokio::test]
async fn actions_apply_locally_at_once_and_reach_gmail_on_the_next_run() -> anyhow::Result<()> {
    let emu = start(120).await?;
    let (_dir, ember, gmail) = gmail_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(gmail).await?;
    let rows = ember.export_messages(Some(gmail), None).await?;
    let inbox: Vec<_> = rows
        .iter()
        .filter(|m| m.folders.iter().any(|f| f == "INBOX") && m.unread)
        .take(4)
        .collect();
    assert_eq!(inbox.len(), 4, "the demo inbox has unread mail");
    let (read, star, archive, trash) = (inbox[0], inbox[1], inbox[2], inbox[3]);

    ember.set_unread(&[read.id], false).await?;
    ember.set_starred(&[star.id], true).await?;
    ember.archive(&[archive.id]).await?;
    ember.trash(&[trash.id]).await?;

    // The window sees every change before any network traffic.
    let now = folders_of(&ember.export_messages(Some(gmail), None).await?);
    assert!(!now[&read.provider_id].1, "marked read locally");
    assert!(now[&star.provider_id].0.contains(&"STARRED".to_owned()));
    assert!(!now[&archive.provider_id].0.contains(&"INBOX".to_owned()));
    assert_eq!(now[&trash.provider_id].0, vec!["TRASH".to_owned()]);
    assert_eq!(ember.store().outbox_len(gmail).await?, 4);

    let report = ember.sync_once(gmail).await?;
    assert_eq!(report.actions_sent, 4, "{report:?}");
    assert_eq!(ember.store().outbox_len(gmail).await?, 0);
    // Gmail now holds the same state, and syncing it back changes nothing.
    assert_converged(&ember, gmail, &emu).await?;
    let truth = control_get(&emu, "truth").await?;
    let of = |id: &str| {
        truth["accounts"][0]["messages"]
            .as_array()
            .and_then(|all| all.iter().find(|m| m["id"] == id).cloned())
            .unwrap_or_default()
    };
    assert_eq!(of(&read.provider_id)["unread"], json!(false));
    assert!(of(&trash.provider_id)["folders"]
        .as_array()
        .is_some_and(|f| f.contains(&json!("TRASH"))));
    let log = control_get(&emu, "log").await?;
    let names: Vec<&str> = log["requests"]
        .as_array()
        .map(|r| r.iter().filter_map(|e| e["endpoint"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "gmail.messages.batchModify")
            .count(),
        3,
        "one batchModify per action: {names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "gmail.messages.trash")
            .count(),
        1
    );
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_action_on_mail_gmail_already_deleted_is_dropped_not_retried_forever(
) -> anyhow::Result<()> {
    let emu = start(40).await?;
    let (_dir, ember, gmail) = gmail_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(gmail).await?;
    let rows = ember.export_messages(Some(gmail), None).await?;
    let victim = &rows[0];
    control(
        &emu,
        "mutate",
        json!({"provider": "gmail", "delete": [victim.provider_id]}),
    )
    .await?;
    ember.trash(&[victim.id]).await?;
    let report = ember.sync_once(gmail).await?;
    assert_eq!(ember.store().outbox_len(gmail).await?, 0, "{report:?}");
    assert_eq!(report.deleted, 1, "the deletion still syncs: {report:?}");
    assert_converged(&ember, gmail, &emu).await?;
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}
