//! Microsoft 365 through Graph against the emulator, as Gmail's tests do it:
//! a first sync equals the mailbox, changes behind Ember's back converge, a
//! refused delta token means one full resync per folder, a move keeps the
//! message (its row, category and read state), the window caps a first
//! sync, and the user's actions reach Graph.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use ember::auth::Secrets;
use ember::model::{Category, MessageQuery, SyncWindow};
use ember::service::demo;
use ember::sync::SyncSources;
use ember::{Config, Ember};
use ember_emulator::Emulator;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{control, control_get, start, start_with};

/// An Ember with the demo accounts signed in against `emu`, syncing through
/// `sources`; returns the Microsoft 365 account's id.
pub async fn graph_ember_using(
    emu: &Emulator,
    window: SyncWindow,
    sources: SyncSources,
) -> anyhow::Result<(TempDir, Ember, i64)> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path());
    config.secrets = Some(Secrets::memory("tests use no keychain"));
    config.sync.run_timeout = Duration::from_secs(60);
    // As in Gmail's tests: sync is measured without the model.
    config.model_dir = dir.path().join("no-model");
    let ember = Ember::open(config, sources).await?;
    let accounts = demo::setup_in_process(&ember, emu, window).await?;
    let graph = accounts
        .iter()
        .find(|a| a.provider == ember::model::ProviderKind::Graph)
        .map(|a| a.id)
        .ok_or_else(|| anyhow::anyhow!("no Graph demo account"))?;
    Ok((dir, ember, graph))
}

/// The same with the standard sources.
pub async fn graph_ember(
    emu: &Emulator,
    window: SyncWindow,
) -> anyhow::Result<(TempDir, Ember, i64)> {
    graph_ember_using(emu, window, ember::service::sources::standard()?).await
}

/// A message as both sides are compared: id, its one folder, unread.
pub type Row = (String, String, bool);

pub async fn local(ember: &Ember, account: i64) -> anyhow::Result<BTreeSet<Row>> {
    Ok(ember
        .export_messages(Some(account), None)
        .await?
        .into_iter()
        .map(|m| {
            let folder = m
                .folders
                .into_iter()
                .find(|f| !f.starts_with("category:"))
                .unwrap_or_default();
            (m.provider_id, folder, m.unread)
        })
        .collect())
}

pub async fn truth(emu: &Emulator) -> anyhow::Result<BTreeSet<Row>> {
    let t = control_get(emu, "truth").await?;
    let graph = t["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["provider"] == "graph").cloned())
        .unwrap_or_default();
    Ok(graph["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap_or_default().to_owned(),
                m["folders"][0].as_str().unwrap_or_default().to_owned(),
                m["unread"].as_bool().unwrap_or_default(),
            )
        })
        .collect())
}

pub async fn assert_converged(ember: &Ember, account: i64, emu: &Emulator) -> anyhow::Result<()> {
    let (ours, theirs) = (local(ember, account).await?, truth(emu).await?);
    let missing: Vec<_> = theirs.difference(&ours).take(3).collect();
    let extra: Vec<_> = ours.difference(&theirs).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "store differs from Graph: {} missing (e.g. {missing:?}), {} extra (e.g. {extra:?})",
        theirs.difference(&ours).count(),
        ours.difference(&theirs).count()
    );
    Ok(())
}

/// The demo mailbox's folders (well-known and the user's) from the truth:
/// display name and id.
pub async fn truth_folders(emu: &Emulator) -> anyhow::Result<Vec<(String, String)>> {
    let t = control_get(emu, "truth").await?;
    let graph = t["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["provider"] == "graph").cloned())
        .unwrap_or_default();
    Ok(graph["folders"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or_default().to_owned(),
                f["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

/// The id of the well-known folder `name` of the demo mailbox.
pub async fn folder_id(emu: &Emulator, name: &str) -> anyhow::Result<String> {
    let token = crate::support::token(emu, "graph").await?;
    let (status, folder) = crate::support::get_json(
        &format!("{}/v1.0/me/mailFolders/{name}", emu.base_url()),
        &token,
    )
    .await?;
    anyhow::ensure!(status == 200, "no folder {name}: {folder}");
    Ok(folder["id"].as_str().unwrap_or_default().to_owned())
}

pub fn inject(subject: &str) -> Value {
    let raw = format!("From: Grace <grace@example.org>\r\nTo: alex.rivera@contoso.example\r\nSubject: {subject}\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <{subject}@x>\r\n\r\nBody of {subject}\r\n");
    json!({"provider": "graph", "folder": "inbox", "raw_base64": base64::engine::general_purpose::STANDARD.encode(raw)})
}

pub async fn local_id(ember: &Ember, account: i64, provider_id: &str) -> anyhow::Result<i64> {
    ember
        .export_messages(Some(account), None)
        .await?
        .into_iter()
        .find(|m| m.provider_id == provider_id)
        .map(|m| m.id)
        .ok_or_else(|| anyhow::anyhow!("{provider_id} is not stored"))
}

#[tokio::test]
async fn a_first_graph_sync_equals_the_mailbox_and_changes_converge() -> anyhow::Result<()> {
    let emu = start(300).await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    let report = ember.sync_once(graph).await?;
    assert_eq!(report.stored, 300, "{report:?}");
    assert_converged(&ember, graph, &emu).await?;

    // The sidebar shows the folder tree with roles and unread counts.
    let folders = ember.folders(Some(graph)).await?;
    let inbox = folders
        .iter()
        .find(|f| f.role == ember::model::FolderRole::Inbox)
        .ok_or_else(|| anyhow::anyhow!("no inbox among {folders:?}"))?;
    let inbox_id = folder_id(&emu, "inbox").await?;
    let expected_unread = truth(&emu)
        .await?
        .iter()
        .filter(|(_, f, unread)| *unread && *f == inbox_id)
        .count() as i64;
    assert_eq!(inbox.unread, expected_unread, "the inbox's unread count");
    // User folders nest as in Outlook, Inbox/Projects/Ember, with their mail.
    let named = |name: &str| {
        folders
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| anyhow::anyhow!("no {name} among {folders:?}"))
    };
    let (projects, ember_folder) = (named("Projects")?, named("Ember")?);
    assert_eq!(
        projects.parent_id,
        Some(inbox.id),
        "Projects is in the Inbox"
    );
    assert_eq!(ember_folder.parent_id, Some(projects.id));
    assert_eq!(named("Receipts")?.parent_id, None, "Receipts is at the top");
    let ember_id = truth_folders(&emu)
        .await?
        .into_iter()
        .find(|(name, _)| name == "Ember")
        .map(|(_, id)| id)
        .unwrap_or_default();
    let in_ember = truth(&emu)
        .await?
        .iter()
        .filter(|(_, f, _)| *f == ember_id)
        .count() as i64;
    assert!(in_ember > 0, "the world files mail in Ember");
    assert_eq!(ember_folder.total, in_ember, "Ember's count");
    for role in [
        ember::model::FolderRole::Sent,
        ember::model::FolderRole::Drafts,
        ember::model::FolderRole::Trash,
        ember::model::FolderRole::Archive,
        ember::model::FolderRole::Spam,
    ] {
        assert!(
            folders.iter().any(|f| f.role == role),
            "{role:?} among {folders:?}"
        );
    }

    // Changes behind Ember's back: a delete, read state, a move, new mail.
    let ids: Vec<String> = truth(&emu)
        .await?
        .into_iter()
        .map(|r| r.0)
        .take(6)
        .collect();
    let archive = folder_id(&emu, "archive").await?;
    let moved_before = local_id(&ember, graph, &ids[4]).await?;
    ember
        .move_to_category(&[moved_before], Category::Forums)
        .await?;
    control(&emu, "mutate", json!({"provider": "graph", "delete": [ids[0]], "mark_read": [ids[1], ids[2]], "mark_unread": [ids[3]], "move": [{"id": ids[4], "folder": archive}]})).await?;
    let added = control(&emu, "mail", inject("fresh")).await?;
    let report = ember.sync_once(graph).await?;
    assert_eq!(report.deleted, 1, "{report:?}");
    assert_eq!(report.stored, 1, "only the new message is new: {report:?}");
    assert_converged(&ember, graph, &emu).await?;
    assert!(
        ember
            .export_messages(Some(graph), None)
            .await?
            .iter()
            .any(
                |m| m.provider_id == added["id"].as_str().unwrap_or_default()
                    && m.subject == "fresh"
            ),
        "the new message arrived"
    );
    // The moved message is the same message: same row, its category kept.
    let moved_after = local_id(&ember, graph, &ids[4]).await?;
    assert_eq!(moved_before, moved_after, "a move keeps the row");
    let detail = ember.message(moved_after).await?;
    assert_eq!(detail.summary.category, Some(Category::Forums));

    // Nothing changed: nothing fetched, one delta request per folder.
    let before = control_get(&emu, "stats").await?["requests"]["graph.delta"]
        .as_u64()
        .unwrap_or(0);
    let idle = ember.sync_once(graph).await?;
    assert_eq!((idle.fetched, idle.stored, idle.deleted), (0, 0, 0));
    let after = control_get(&emu, "stats").await?["requests"]["graph.delta"]
        .as_u64()
        .unwrap_or(0);
    let folders = truth_folders(&emu).await?.len() as u64;
    assert_eq!(folders, 9, "six well-known folders and three of the user's");
    assert_eq!(after - before, folders, "one delta request per folder");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_expired_delta_token_means_one_full_resync_per_folder_with_deletions_reconciled(
) -> anyhow::Result<()> {
    let emu = start(200).await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(graph).await?;
    let ids: Vec<String> = truth(&emu)
        .await?
        .into_iter()
        .map(|r| r.0)
        .take(3)
        .collect();
    control(
        &emu,
        "mutate",
        json!({"provider": "graph", "delete": [ids[0]], "mark_read": [ids[1]]}),
    )
    .await?;
    control(&emu, "mail", inject("after-expiry")).await?;
    control(&emu, "expire", json!({"provider": "graph"})).await?;
    let report = ember.sync_once(graph).await?;
    assert_eq!(report.deleted, 1, "the deletion is reconciled: {report:?}");
    assert_converged(&ember, graph, &emu).await?;
    let stats = control_get(&emu, "stats").await?;
    let folders = truth_folders(&emu).await?.len();
    assert_eq!(
        stats["statuses"]["graph.delta"]["410"],
        json!(folders),
        "one 410 for each folder (well-known and the user's), and no more"
    );
    let rows = ember.export_messages(Some(graph), None).await?;
    let unique: BTreeSet<_> = rows.iter().map(|r| &r.provider_id).collect();
    assert_eq!(unique.len(), rows.len(), "no duplicates");
    // And the next run is incremental again.
    let next = ember.sync_once(graph).await?;
    assert_eq!(next.fetched, 0, "{next:?}");
    let stats = control_get(&emu, "stats").await?;
    assert_eq!(stats["statuses"]["graph.delta"]["410"], json!(folders));
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_window_and_the_cap_keep_a_first_graph_sync_to_the_newest_mail() -> anyhow::Result<()> {
    let emu = start(600).await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::Days(30)).await?;
    ember.sync_once(graph).await?;
    let stored = ember.export_messages(Some(graph), None).await?;
    assert!(
        !stored.is_empty() && stored.len() < 600,
        "{} of 600",
        stored.len()
    );
    let cutoff = ember::store::now_ms() - 31 * 86_400_000;
    assert!(stored.iter().all(|m| m.date >= cutoff), "only 30 days");

    // A cap of 100 messages: the newest 100 of the whole mailbox.
    let emu2 = start(600).await?;
    let (_dir2, ember2, graph2) = graph_ember(&emu2, SyncWindow::All).await?;
    let mut settings = ember2.settings().await?;
    settings.initial_sync_days = 3650;
    settings.initial_sync_max_messages = 100;
    ember2.update_settings(settings).await?;
    // "All" has no cap of its own: give the account the global window.
    let mut account = ember2.store().account_settings(graph2).await?;
    if let ember::model::AccountSettings::Mail(m) = &mut account {
        m.window = None;
    }
    ember2
        .store()
        .set_account_settings(graph2, &account)
        .await?;
    ember2.sync_once(graph2).await?;
    let capped = ember2.export_messages(Some(graph2), None).await?;
    assert!(
        (100..=102).contains(&capped.len()),
        "about the newest 100 (ties at the cut-off date may add one): {}",
        capped.len()
    );
    ember.shutdown(Duration::from_secs(5)).await;
    ember2.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    emu2.stop().await;
    Ok(())
}

/// Found by the simulated week: the user archives a message here while
/// another device deletes it at Microsoft 365. The archive finds nothing to
/// move (404, dropped as gone), and the deletion arrives as `@removed` in
/// the delta of the folder it was deleted from, Inbox, where the store no
/// longer has it: it stayed in Archive locally for good.
#[tokio::test]
async fn a_message_archived_here_and_deleted_at_graph_leaves_the_store() -> anyhow::Result<()> {
    let emu = start(40).await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(graph).await?;
    let inbox = folder_id(&emu, "inbox").await?;
    let (victim, _, _) = truth(&emu)
        .await?
        .into_iter()
        .find(|(_, f, _)| *f == inbox)
        .ok_or_else(|| anyhow::anyhow!("no message in the inbox"))?;
    ember
        .archive(&[local_id(&ember, graph, &victim).await?])
        .await?;
    control(
        &emu,
        "mutate",
        json!({"provider": "graph", "delete": [victim.clone()]}),
    )
    .await?;
    ember.sync_once(graph).await?;
    assert!(
        !local(&ember, graph)
            .await?
            .iter()
            .any(|(id, _, _)| *id == victim),
        "{victim} was deleted at Graph and is still stored"
    );
    assert_converged(&ember, graph, &emu).await?;
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn actions_reach_graph_in_batches_and_survive_the_next_sync() -> anyhow::Result<()> {
    let emu = start(120).await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(graph).await?;
    let page = ember
        .messages(&MessageQuery {
            view: ember::model::MailView::Account { account_id: graph },
            before: None,
            limit: 30,
            conversations: false,
        })
        .await?;
    let ids: Vec<i64> = page.messages.iter().map(|m| m.id).collect();
    anyhow::ensure!(ids.len() >= 30, "a page of mail");
    ember.set_unread(&ids[0..25], false).await?;
    ember.set_starred(&ids[25..27], true).await?;
    ember.archive(&ids[27..28]).await?;
    ember.trash(&ids[28..30]).await?;
    let report = ember.sync_once(graph).await?;
    assert_eq!(report.actions_sent, 4, "{report:?}");
    assert_converged(&ember, graph, &emu).await?;
    let stats = control_get(&emu, "stats").await?;
    assert!(
        stats["requests"]["graph.batch"].as_u64().unwrap_or(0) >= 2,
        "25 changes went in batches of at most 20: {stats}"
    );
    let archive = folder_id(&emu, "archive").await?;
    let deleted = folder_id(&emu, "deleteditems").await?;
    let theirs = truth(&emu).await?;
    let rows = ember.export_messages(Some(graph), None).await?;
    let find = |id: i64| {
        rows.iter()
            .find(|r| r.id == id)
            .map(|r| r.provider_id.clone())
    };
    let archived = find(ids[27]).unwrap_or_default();
    assert!(theirs
        .iter()
        .any(|(i, f, _)| *i == archived && *f == archive));
    for id in &ids[28..30] {
        let trashed = find(*id).unwrap_or_default();
        assert!(theirs
            .iter()
            .any(|(i, f, _)| *i == trashed && *f == deleted));
    }
    // Flags are not in the truth: ask Graph.
    let token = crate::support::token(&emu, "graph").await?;
    let starred = find(ids[25]).unwrap_or_default();
    let (_, message) = crate::support::get_json(
        &format!("{}/v1.0/me/messages/{starred}", emu.base_url()),
        &token,
    )
    .await?;
    assert_eq!(message["flag"]["flagStatus"], "flagged");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn outlook_categories_are_labels_and_focused_mail_is_primary() -> anyhow::Result<()> {
    let emu = start_with(60, "", true).await?;
    let token = crate::support::token(&emu, "graph").await?;
    let theirs: Vec<String> = truth(&emu).await?.into_iter().map(|r| r.0).collect();
    let client = crate::support::client();
    let response = client
        .patch(format!("{}/v1.0/me/messages/{}", emu.base_url(), theirs[0]))
        .bearer_auth(&token)
        .json(&json!({"categories": ["Project X"], "inferenceClassification": "focused"}))
        .send()
        .await?;
    anyhow::ensure!(response.status().is_success(), "{}", response.status());
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(graph).await?;
    let folders = ember.folders(Some(graph)).await?;
    let label = folders
        .iter()
        .find(|f| f.name == "Project X")
        .ok_or_else(|| anyhow::anyhow!("the category is a label: {folders:?}"))?;
    assert_eq!(label.total, 1);
    let id = local_id(&ember, graph, &theirs[0]).await?;
    let detail = ember.message(id).await?;
    assert_eq!(detail.summary.category, Some(Category::Primary));
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}
