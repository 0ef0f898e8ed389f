//! Ember's Gmail sync against the emulated Gmail: the synced store must
//! equal the server's truth after a first sync, after changes, and after
//! Gmail forgets the history id.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use ember::auth::Secrets;
use ember::model::SyncWindow;
use ember::service::demo;
use ember::sync::SyncSources;
use ember::{Config, Ember};
use ember_emulator::Emulator;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{control, control_get, start, start_with};

/// An Ember with the Gmail demo account signed in against `emu`.
pub async fn gmail_ember(
    emu: &Emulator,
    window: SyncWindow,
) -> anyhow::Result<(TempDir, Ember, i64)> {
    gmail_ember_using(emu, window, ember::service::sources::standard()?).await
}

/// The same, syncing through `sources`.
pub async fn gmail_ember_using(
    emu: &Emulator,
    window: SyncWindow,
    sources: SyncSources,
) -> anyhow::Result<(TempDir, Ember, i64)> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path());
    config.secrets = Some(Secrets::memory("tests use no keychain"));
    config.sync.run_timeout = Duration::from_secs(60);
    // These tests measure sync. The categoriser runs the model over every
    // stored message on the same two cores and holds shutdown for its batch
    // in flight; without the model it leaves mail for later, as documented.
    // Categorisation has its own tests (tests/core/classify.rs).
    config.model_dir = dir.path().join("no-model");
    let ember = Ember::open(config, sources).await?;
    let accounts = demo::setup_in_process(&ember, emu, window).await?;
    Ok((dir, ember, accounts[0].id))
}

pub type Row = (String, BTreeSet<String>, bool);

pub async fn local(ember: &Ember, account: i64) -> anyhow::Result<BTreeSet<Row>> {
    Ok(ember
        .export_messages(Some(account), None)
        .await?
        .into_iter()
        .map(|m| (m.provider_id, m.folders.into_iter().collect(), m.unread))
        .collect())
}

pub async fn truth(emu: &Emulator) -> anyhow::Result<BTreeSet<Row>> {
    let t = control_get(emu, "truth").await?;
    Ok(t["accounts"][0]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap_or_default().to_owned(),
                m["folders"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect(),
                m["unread"].as_bool().unwrap_or_default(),
            )
        })
        .collect())
}

pub async fn assert_converged(ember: &Ember, account: i64, emu: &Emulator) -> anyhow::Result<()> {
    let (ours, theirs) = (local(ember, account).await?, truth(emu).await?);
    let missing: Vec<_> = theirs.difference(&ours).take(5).collect();
    let extra: Vec<_> = ours.difference(&theirs).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "store differs from Gmail: {} missing (e.g. {missing:?}), {} extra (e.g. {extra:?})",
        theirs.difference(&ours).count(),
        ours.difference(&theirs).count()
    );
    Ok(())
}

fn inject(subject: &str) -> Value {
    let raw = format!("From: Grace <grace@example.org>\r\nTo: alex.rivera@gmail.example\r\nSubject: {subject}\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <{subject}@x>\r\n\r\nBody of {subject}\r\n");
    json!({"provider": "gmail", "folder": "INBOX", "raw_base64": base64::engine::general_purpose::STANDARD.encode(raw)})
}

#[tokio::test]
async fn a_first_sync_equals_gmail_and_changes_converge_again() -> anyhow::Result<()> {
    let emu = start(250).await?;
    let (_dir, ember, gmail) = gmail_ember(&emu, SyncWindow::All).await?;
    let report = ember.sync_once(gmail).await?;
    assert_eq!(report.stored, 250, "{report:?}");
    assert_converged(&ember, gmail, &emu).await?;
    let detail = ember.store().export_messages(Some(gmail), Some(1)).await?;
    assert!(!detail.is_empty());

    // Changes behind Ember's back: a delete, read state, a move, new mail.
    let ids: Vec<String> = truth(&emu)
        .await?
        .into_iter()
        .map(|r| r.0)
        .take(6)
        .collect();
    control(&emu, "mutate", json!({"provider": "gmail", "delete": [ids[0]], "mark_read": [ids[1], ids[2]], "mark_unread": [ids[3]], "move": [{"id": ids[4], "folder": "Label_2"}]})).await?;
    let added = control(&emu, "mail", inject("fresh")).await?;
    let report = ember.sync_once(gmail).await?;
    assert_eq!(report.deleted, 1, "{report:?}");
    assert_eq!(
        report.stored, 1,
        "only the new message is fetched: {report:?}"
    );
    assert_converged(&ember, gmail, &emu).await?;
    let newest = ember.export_messages(Some(gmail), Some(1)).await?;
    assert_eq!(
        newest[0].provider_id,
        added["id"].as_str().unwrap_or_default()
    );
    assert_eq!(newest[0].subject, "fresh");

    // Nothing changed: nothing fetched.
    let idle = ember.sync_once(gmail).await?;
    assert_eq!((idle.fetched, idle.stored, idle.deleted), (0, 0, 0));
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_expired_history_id_triggers_exactly_one_full_resync() -> anyhow::Result<()> {
    let emu = start(150).await?;
    let (_dir, ember, gmail) = gmail_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(gmail).await?;
    let ids: Vec<String> = truth(&emu)
        .await?
        .into_iter()
        .map(|r| r.0)
        .take(3)
        .collect();
    control(
        &emu,
        "mutate",
        json!({"provider": "gmail", "delete": [ids[0]], "mark_read": [ids[1]]}),
    )
    .await?;
    control(&emu, "mail", inject("after-expiry")).await?;
    control(&emu, "expire", json!({"provider": "gmail"})).await?;
    let report = ember.sync_once(gmail).await?;
    assert_eq!(report.deleted, 1, "the deletion is reconciled: {report:?}");
    assert_converged(&ember, gmail, &emu).await?;
    let stats = control_get(&emu, "stats").await?;
    assert_eq!(
        stats["statuses"]["gmail.history.list"]["404"], 1,
        "one 404, one resync"
    );
    let rows = ember.export_messages(Some(gmail), None).await?;
    let unique: BTreeSet<_> = rows.iter().map(|r| &r.provider_id).collect();
    assert_eq!(unique.len(), rows.len(), "no duplicates");
    // And the next run is incremental again.
    ember.sync_once(gmail).await?;
    let stats = control_get(&emu, "stats").await?;
    assert_eq!(stats["statuses"]["gmail.history.list"]["200"], 1);
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_default_window_keeps_the_first_sync_to_recent_mail() -> anyhow::Result<()> {
    let emu = start(600).await?;
    let (_dir, ember, gmail) = gmail_ember(&emu, SyncWindow::Days(30)).await?;
    let report = ember.sync_once(gmail).await?;
    let stored = ember.export_messages(Some(gmail), None).await?;
    assert!(
        !stored.is_empty() && stored.len() < 600,
        "{} of 600",
        stored.len()
    );
    let cutoff = ember::store::now_ms() - 31 * 86_400_000;
    assert!(
        stored.iter().all(|m| m.date >= cutoff),
        "only the last 30 days"
    );
    assert_eq!(report.stored as usize, stored.len());
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn malformed_answers_are_skipped_with_a_reason_and_cut_off_ones_retried() -> anyhow::Result<()>
{
    let emu = start_with(
        80,
        "gmail.messages.get:badjson@0.1;gmail.messages.get:truncate@0.1",
        true,
    )
    .await?;
    let (_dir, ember, gmail) = gmail_ember(&emu, SyncWindow::All).await?;
    let report = ember.sync_once(gmail).await?;
    assert!(
        report.retries > 0,
        "cut-off answers are retried: {report:?}"
    );
    assert!(
        !report.skipped.is_empty(),
        "malformed answers are skipped: {report:?}"
    );
    assert!(
        report.skipped.iter().all(|s| s.contains("malformed")),
        "{:?}",
        report.skipped
    );
    // Every message is either stored or named in the report.
    let stored: BTreeSet<String> = local(&ember, gmail)
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect();
    for (id, _, _) in truth(&emu).await? {
        assert!(
            stored.contains(&id) || report.skipped.iter().any(|s| s.starts_with(&id)),
            "{id} vanished"
        );
    }
    // Once the service behaves, the next ordinary (incremental) run fetches
    // what was skipped: nothing waits for a full resync.
    control(&emu, "faults", json!({"spec": ""})).await?;
    let next = ember.sync_once(gmail).await?;
    assert!(next.skipped.is_empty(), "{next:?}");
    assert_converged(&ember, gmail, &emu).await?;
    let stats = control_get(&emu, "stats").await?;
    assert_eq!(
        stats["statuses"]["gmail.history.list"]["200"], 1,
        "an incremental run, not a resync"
    );
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn unreadable_mime_is_reported_and_the_message_keeps_its_place() -> anyhow::Result<()> {
    let emu = start_with(60, "gmail.messages.get:badmime@0.2", true).await?;
    let (_dir, ember, gmail) = gmail_ember(&emu, SyncWindow::All).await?;
    let report = ember.sync_once(gmail).await?;
    assert!(
        report.skipped.iter().any(|s| s.contains("unreadable")),
        "{report:?}"
    );
    // Every message is stored with its labels, readable or not.
    assert_converged(&ember, gmail, &emu).await?;
    // A placeholder subject only ever stands for a message the report
    // names (its headers never arrived readable either).
    let rows = ember.export_messages(Some(gmail), None).await?;
    for row in rows
        .iter()
        .filter(|r| r.subject == "(This message could not be read)")
    {
        assert!(
            report
                .skipped
                .iter()
                .any(|s| s.starts_with(&row.provider_id)),
            "{} shows a placeholder without being reported",
            row.provider_id
        );
    }
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

/// The stored Gmail history id of `account`.
async fn history_cursor(ember: &Ember, account: i64) -> anyhow::Result<Option<String>> {
    Ok(ember
        .store()
        .cursor(account, ember::providers::gmail::HISTORY_CURSOR)
        .await?)
}

/// Successful history pages the emulator has served.
async fn history_pages(emu: &Emulator) -> anyhow::Result<u64> {
    let stats = control_get(emu, "stats").await?;
    Ok(stats["statuses"]["gmail.history.list"]["200"]
        .as_u64()
        .unwrap_or(0))
}

#[tokio::test]
async fn long_history_is_applied_page_by_page_and_a_run_stopped_half_way_converges(
) -> anyhow::Result<()> {
    let emu = start(300).await?;
    let (_dir, ember, gmail) = gmail_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(gmail).await?;
    let before = local(&ember, gmail).await?;
    let old_cursor = history_cursor(&ember, gmail).await?;
    assert!(old_cursor.is_some());

    // About 3,000 history records (six of Gmail's 500-record pages): every
    // message read and unread five times, then a deletion and new mail.
    let ids: Vec<String> = before.iter().map(|r| r.0.clone()).collect();
    for _ in 0..5 {
        control(
            &emu,
            "mutate",
            json!({"provider": "gmail", "mark_read": ids}),
        )
        .await?;
        control(
            &emu,
            "mutate",
            json!({"provider": "gmail", "mark_unread": ids}),
        )
        .await?;
    }
    control(
        &emu,
        "mutate",
        json!({"provider": "gmail", "delete": [ids[0]], "mark_read": ids[1..100]}),
    )
    .await?;
    control(&emu, "mail", inject("after-the-long-history")).await?;

    // Each history page takes 400 ms: the store changes while later pages
    // are still to come, and the cursor stays where it was.
    control(
        &emu,
        "faults",
        json!({"spec": "gmail.history.list:latency,ms=400"}),
    )
    .await?;
    let run = tokio::spawn({
        let ember = ember.clone();
        async move { ember.sync_once(gmail).await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while local(&ember, gmail).await? == before {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline && !run.is_finished(),
            "nothing was applied while the history was read"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let pages_when_applied = history_pages(&emu).await?;
    assert_eq!(
        history_cursor(&ember, gmail).await?,
        old_cursor,
        "the cursor waits for the last page"
    );

    // Gmail now refuses the rest of the history: the run fails half-way.
    control(&emu, "faults", json!({"spec": "gmail.history.list:400"})).await?;
    let failed = run.await?;
    assert!(failed.is_err(), "the run stopped half-way: {failed:?}");
    assert_eq!(
        history_cursor(&ember, gmail).await?,
        old_cursor,
        "a run stopped half-way keeps the old cursor"
    );

    // The next run reads the same history again and ends equal to Gmail.
    control(&emu, "faults", json!({"spec": ""})).await?;
    let pages_before = history_pages(&emu).await?;
    let report = ember.sync_once(gmail).await?;
    let pages = history_pages(&emu).await? - pages_before;
    assert!(pages >= 6, "{pages} history pages");
    assert!(
        pages_when_applied < pages,
        "the first changes were stored after {pages_when_applied} of {pages} pages: \
         history must be applied as it is read, not collected whole first"
    );
    assert_converged(&ember, gmail, &emu).await?;
    assert_ne!(history_cursor(&ember, gmail).await?, old_cursor);
    assert_eq!(report.deleted, 1, "{report:?}");
    let newest = ember.export_messages(Some(gmail), Some(1)).await?;
    assert_eq!(newest[0].subject, "after-the-long-history");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}
