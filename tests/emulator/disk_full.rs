//! A full disk (issue 16, item 21): SQLite's `max_page_count` is lowered on
//! every connection of the store (`Store::set_max_pages`), and what space
//! is left is filled, so that the next write that needs a page fails with
//! `SQLITE_FULL`, as on a full disk. Sync and sending must then say "disk
//! full" (a typed error, and the account's state the window shows), keep
//! nothing partial (no message without its cursor, the cursor not past
//! what was saved, the outbox entry whole), and carry on once the limit is
//! lifted: the next run completes and the store equals the truth.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use ember::model::{ComposeKind, ComposeRequest, DraftState, SyncErrorCode, SyncState};
use ember::store::Store;
use ember::sync::SyncError;
use ember::Ember;
use serde_json::json;

use crate::full_disk::{fill_the_disk, make_room};
use crate::support::{control, start};

/// Every cursor of `account`: resource → cursor.
async fn cursors(store: &Store, account: i64) -> anyhow::Result<BTreeMap<String, String>> {
    Ok(sqlx::query_as::<_, (String, String)>(
        "SELECT resource, cursor FROM sync_cursors WHERE account_id = ?",
    )
    .bind(account)
    .fetch_all(store.pool())
    .await?
    .into_iter()
    .collect())
}

/// `count` new messages of a few kilobytes each in `provider`'s inbox.
async fn deliver(
    emu: &ember_emulator::Emulator,
    provider: &str,
    folder: &str,
    count: usize,
) -> anyhow::Result<()> {
    for i in 0..count {
        let body = format!("Paragraph {i} of a long report. ").repeat(100);
        let raw = format!(
            "From: Grace <grace@example.org>\r\nTo: me@example.org\r\nSubject: Report {i}\r\n\
             Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <report-{i}@example.org>\r\n\r\n{body}\r\n"
        );
        control(
            emu,
            "mail",
            json!({"provider": provider, "folder": folder,
                   "raw_base64": base64::engine::general_purpose::STANDARD.encode(raw)}),
        )
        .await?;
    }
    Ok(())
}

/// The account's state as the window shows it.
async fn shown(ember: &Ember, account: i64) -> anyhow::Result<SyncState> {
    ember
        .status()
        .await?
        .accounts
        .into_iter()
        .find(|a| a.account.id == account)
        .map(|a| a.sync)
        .ok_or_else(|| anyhow::anyhow!("no account {account} in the status"))
}

/// Sync of `provider` meets a full disk, says so, keeps nothing partial and
/// catches up once there is room.
async fn sync_meets_a_full_disk(provider: &str) -> anyhow::Result<()> {
    let emu = start(60).await?;
    let (_dir, ember, gmail, graph) = crate::send::mail_ember(&emu).await?;
    let (account, folder) = match provider {
        "gmail" => (gmail, "INBOX"),
        _ => (graph, "inbox"),
    };
    ember.sync_once(account).await?;
    let before = ember.export_messages(Some(account), None).await?.len();
    let cursors_before = cursors(ember.store(), account).await?;
    deliver(&emu, provider, folder, 40).await?;

    fill_the_disk(ember.store()).await?;
    let error = match ember.sync_once(account).await {
        Err(e) => e,
        Ok(report) => {
            panic!("a sync that had to store 40 messages on a full disk succeeded: {report:?}")
        }
    };
    assert_eq!(error.code(), SyncErrorCode::DiskFull, "{error}");
    assert!(matches!(error, SyncError::Store(ref e) if e.is_disk_full()));
    assert!(error.to_string().contains("disk is full"), "{error}");
    match shown(&ember, account).await? {
        SyncState::Error { code, message } => {
            assert_eq!(code, SyncErrorCode::DiskFull);
            assert!(message.contains("disk is full"), "{message}");
        }
        other => panic!("the window shows {other:?} on a full disk"),
    }
    // Nothing partial: what was stored as before the run, and the cursor
    // of where the mail arrived (Gmail's one history cursor, the Microsoft
    // 365 inbox's delta token) not moved past it. Graph folders with
    // nothing new may keep their new token: it covers no unsaved mail.
    assert_eq!(
        ember.export_messages(Some(account), None).await?.len(),
        before
    );
    let cursors_after = cursors(ember.store(), account).await?;
    if provider == "gmail" {
        assert_eq!(cursors_after, cursors_before);
    } else {
        let inbox = format!(
            "graph.delta.{}",
            crate::graph_sync::folder_id(&emu, "inbox").await?
        );
        assert!(cursors_before.contains_key(&inbox), "{cursors_before:?}");
        assert_eq!(cursors_after.get(&inbox), cursors_before.get(&inbox));
    }
    let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(ember.store().pool())
        .await?;
    assert_eq!(check, ["ok"]);

    make_room(ember.store()).await?;
    ember.sync_once(account).await?;
    match provider {
        "gmail" => crate::gmail_sync::assert_converged(&ember, account, &emu).await?,
        _ => crate::graph_sync::assert_converged(&ember, account, &emu).await?,
    }
    assert_eq!(
        ember.export_messages(Some(account), None).await?.len(),
        before + 40
    );
    assert!(
        matches!(shown(&ember, account).await?, SyncState::Idle { .. }),
        "the error clears once a run succeeds"
    );
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn gmail_sync_on_a_full_disk_says_so_keeps_nothing_partial_and_catches_up(
) -> anyhow::Result<()> {
    sync_meets_a_full_disk("gmail").await
}

#[tokio::test]
async fn microsoft_365_sync_on_a_full_disk_says_so_keeps_nothing_partial_and_catches_up(
) -> anyhow::Result<()> {
    sync_meets_a_full_disk("graph").await
}

/// A message queued before the disk filled goes out exactly once: the run
/// that sends it on a full disk says "disk full", the draft is never lost
/// or sent twice, and once there is room it is recorded as sent.
#[tokio::test]
async fn a_message_sent_on_a_full_disk_goes_out_once_and_is_recorded_once_there_is_room(
) -> anyhow::Result<()> {
    let emu = start(30).await?;
    let (_dir, ember, gmail, _graph) = crate::send::mail_ember(&emu).await?;
    ember.sync_once(gmail).await?;
    let draft = ember
        .compose(ComposeRequest {
            kind: ComposeKind::New,
            message_id: None,
            account_id: Some(gmail),
        })
        .await?;
    let draft = crate::send::write(&ember, &draft, Some("friend@example.com"), "hello").await?;
    assert_eq!(ember.send(draft.id).await?.state, DraftState::Queued);
    // New mail arrives with it, so that the run must store something.
    deliver(&emu, "gmail", "INBOX", 20).await?;

    fill_the_disk(ember.store()).await?;
    let outcome = ember.sync_once(gmail).await;
    if let Err(e) = &outcome {
        assert_eq!(e.code(), SyncErrorCode::DiskFull, "{e}");
    }
    let copies = crate::send::sent_with(&emu, "gmail", &draft.message_id_header).await?;
    assert!(copies.len() <= 1, "sent twice: {copies:?}");
    let state = ember.draft(draft.id).await?.state;
    assert!(
        matches!(state, DraftState::Queued | DraftState::Sent),
        "the draft is {state:?}"
    );

    make_room(ember.store()).await?;
    ember.sync_once(gmail).await?;
    ember.sync_once(gmail).await?;
    assert_eq!(ember.draft(draft.id).await?.state, DraftState::Sent);
    let copies = crate::send::sent_with(&emu, "gmail", &draft.message_id_header).await?;
    assert_eq!(copies.len(), 1, "sent once: {copies:?}");
    assert_eq!(ember.pending_actions(gmail).await?, 0);
    crate::gmail_sync::assert_converged(&ember, gmail, &emu).await?;
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}
