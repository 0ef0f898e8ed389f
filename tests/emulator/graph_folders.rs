//! A Microsoft 365 mailbox's own folders, nested, synced into a real
//! temporary database from the emulator on loopback: the folder tree the
//! sidebar and `ember folders` show, with each folder's counts, its mail by
//! delta like the well-known folders', and the tree's changes on the server
//! (renames, folders moved, made, deleted into Deleted Items or for good)
//! reflected locally; and the bound on how deep the tree is walked.

use std::collections::{BTreeMap, BTreeSet};

use ember::model::{Folder, SyncWindow};
use ember::Ember;
use ember_emulator::Emulator;
use serde_json::{json, Value};

use crate::graph_sync::{assert_converged, folder_id, graph_ember};
use crate::support::{client, control, control_get, start, token};

/// A Graph call as another client of the mailbox makes it (Outlook on the
/// web, a phone): method, path under `/v1.0/me`, JSON body.
async fn graph(emu: &Emulator, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
    let bearer = token(emu, "graph").await?;
    let method = reqwest::Method::from_bytes(method.as_bytes())?;
    let r = client()
        .request(method, format!("{}/v1.0/me{path}", emu.base_url()))
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await?;
    anyhow::ensure!(status.is_success(), "{path}: {status} {text}");
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The id of the truth's folder at `path` (`Inbox/Projects`).
async fn truth_folder_id(emu: &Emulator, path: &str) -> anyhow::Result<String> {
    truth_tree(emu)
        .await?
        .get(path)
        .map(|(id, _, _)| id.clone())
        .ok_or_else(|| anyhow::anyhow!("the mailbox has no folder {path}"))
}

/// The mailbox's folders by path, with id, total and unread, from the truth.
async fn truth_tree(emu: &Emulator) -> anyhow::Result<BTreeMap<String, (String, i64, i64)>> {
    let t = control_get(emu, "truth").await?;
    let account = t["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["provider"] == "graph").cloned())
        .unwrap_or_default();
    let messages = account["messages"].as_array().cloned().unwrap_or_default();
    let mut out = BTreeMap::new();
    for f in account["folders"].as_array().into_iter().flatten() {
        let id = f["id"].as_str().unwrap_or_default().to_owned();
        let inside = messages.iter().filter(|m| m["folders"][0] == id.as_str());
        let (total, unread) = inside.fold((0, 0), |(t, u), m| {
            (t + 1, u + i64::from(m["unread"] == true))
        });
        let path = f["path"].as_str().unwrap_or_default().to_owned();
        out.insert(path, (id, total, unread));
    }
    Ok(out)
}

/// The folders Ember shows for `account` (what `ember folders --json`
/// prints) by path of names, with total and unread.
async fn local_tree(ember: &Ember, account: i64) -> anyhow::Result<BTreeMap<String, (i64, i64)>> {
    let folders = ember.folders(Some(account)).await?;
    let by_id: BTreeMap<i64, &Folder> = folders.iter().map(|f| (f.id, f)).collect();
    let path = |f: &Folder| {
        let mut names = vec![f.name.clone()];
        let mut up = f.parent_id;
        while let Some(p) = up.and_then(|p| by_id.get(&p)) {
            names.push(p.name.clone());
            up = p.parent_id;
            assert!(names.len() < 100, "a parent cycle at {}", f.name);
        }
        names.reverse();
        names.join("/")
    };
    Ok(folders
        .iter()
        .map(|f| (path(f), (f.total, f.unread)))
        .collect())
}

/// Every folder of the mailbox is shown at its path with the mailbox's
/// counts (Ember also shows Outlook categories, which are not folders).
async fn assert_tree(ember: &Ember, account: i64, emu: &Emulator) -> anyhow::Result<()> {
    let (ours, theirs) = (local_tree(ember, account).await?, truth_tree(emu).await?);
    for (path, (_, total, unread)) in &theirs {
        assert_eq!(
            ours.get(path),
            Some(&(*total, *unread)),
            "{path}: (total, unread) shown; Ember shows {ours:?}"
        );
    }
    let extra: Vec<&String> = ours
        .keys()
        .filter(|p| !theirs.contains_key(*p) && p.contains('/'))
        .collect();
    assert!(extra.is_empty(), "folders Graph does not have: {extra:?}");
    Ok(())
}

fn delta_requests(stats: &Value) -> u64 {
    stats["requests"]["graph.delta"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn user_folders_sync_nested_with_counts_and_follow_the_server_tree() -> anyhow::Result<()> {
    let emu = start(300).await?;
    let (_dir, ember, account) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(account).await?;
    assert_converged(&ember, account, &emu).await?;
    assert_tree(&ember, account, &emu).await?;
    let shown = local_tree(&ember, account).await?;
    for path in ["Inbox/Projects", "Inbox/Projects/Ember", "Receipts"] {
        let (total, _) = shown.get(path).copied().unwrap_or_default();
        assert!(total > 0, "{path} is shown with its mail: {shown:?}");
    }

    // Elsewhere, the user reshapes the tree and files mail.
    let projects = truth_folder_id(&emu, "Inbox/Projects").await?;
    let ember_folder = truth_folder_id(&emu, "Inbox/Projects/Ember").await?;
    let receipts = truth_folder_id(&emu, "Receipts").await?;
    let gone: BTreeSet<String> = crate::graph_sync::truth(&emu)
        .await?
        .into_iter()
        .filter(|(_, f, _)| *f == receipts)
        .map(|(id, _, _)| id)
        .collect();
    assert!(!gone.is_empty(), "Receipts holds mail");
    graph(
        &emu,
        "PATCH",
        &format!("/mailFolders/{ember_folder}"),
        json!({"displayName": "Ember desktop"}),
    )
    .await?;
    graph(
        &emu,
        "POST",
        &format!("/mailFolders/{projects}/move"),
        json!({"destinationId": "msgfolderroot"}),
    )
    .await?;
    let taxes = graph(
        &emu,
        "POST",
        "/mailFolders",
        json!({"displayName": "Taxes"}),
    )
    .await?;
    let taxes = taxes["id"].as_str().unwrap_or_default().to_owned();
    let old = graph(
        &emu,
        "POST",
        &format!("/mailFolders/{taxes}/childFolders"),
        json!({"displayName": "Old"}),
    )
    .await?;
    graph(
        &emu,
        "DELETE",
        &format!("/mailFolders/{}", old["id"].as_str().unwrap_or_default()),
        Value::Null,
    )
    .await?;
    graph(
        &emu,
        "POST",
        &format!("/mailFolders/{receipts}/permanentDelete"),
        Value::Null,
    )
    .await?;
    // Mail filed into the new folder, and read state changed in a user folder.
    let inbox = folder_id(&emu, "inbox").await?;
    let rows = crate::graph_sync::truth(&emu).await?;
    let filed: Vec<String> = rows
        .iter()
        .filter(|(_, f, _)| *f == inbox)
        .take(2)
        .map(|(id, _, _)| id.clone())
        .collect();
    let flip = rows
        .iter()
        .find(|(_, f, _)| *f == ember_folder)
        .map(|(id, _, unread)| (id.clone(), *unread))
        .ok_or_else(|| anyhow::anyhow!("Ember holds mail"))?;
    let (read, unread) = if flip.1 {
        (vec![flip.0], vec![])
    } else {
        (vec![], vec![flip.0])
    };
    control(
        &emu,
        "mutate",
        json!({
            "provider": "graph",
            "move": filed.iter().map(|id| json!({"id": id, "folder": "Taxes"})).collect::<Vec<_>>(),
            "mark_read": read,
            "mark_unread": unread,
        }),
    )
    .await?;

    let before = delta_requests(&control_get(&emu, "stats").await?);
    let report = ember.sync_once(account).await?;
    let after = delta_requests(&control_get(&emu, "stats").await?);
    let folders = truth_tree(&emu).await?.len() as u64;
    assert_eq!(
        after - before,
        folders,
        "one delta request per folder, user folders as well-known ones: {report:?}"
    );
    assert_converged(&ember, account, &emu).await?;
    assert_tree(&ember, account, &emu).await?;
    let shown = local_tree(&ember, account).await?;
    for path in [
        "Projects",
        "Projects/Ember desktop",
        "Taxes",
        "Deleted Items/Old",
    ] {
        assert!(shown.contains_key(path), "{path} is shown: {shown:?}");
    }
    for path in [
        "Inbox/Projects",
        "Inbox/Projects/Ember",
        "Receipts",
        "Taxes/Old",
    ] {
        assert!(!shown.contains_key(path), "{path} is gone: {shown:?}");
    }
    assert_eq!(
        shown.get("Taxes").map(|(total, _)| *total),
        Some(2),
        "the mail filed in Taxes"
    );
    let stored: BTreeSet<String> = ember
        .export_messages(Some(account), None)
        .await?
        .into_iter()
        .map(|m| m.provider_id)
        .collect();
    assert!(
        stored.is_disjoint(&gone),
        "the mail of a folder deleted for good is deleted"
    );
    assert!(report.deleted >= gone.len() as u64, "{report:?}");

    // Quiet again: one request per folder and nothing fetched.
    let idle = ember.sync_once(account).await?;
    assert_eq!(idle.fetched, 0, "{idle:?}");
    ember.shutdown(std::time::Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_folder_tree_is_walked_to_a_bounded_depth() -> anyhow::Result<()> {
    let emu = start(30).await?;
    let (_dir, ember, account) = graph_ember(&emu, SyncWindow::All).await?;
    // A chain two levels deeper than Ember lists.
    let levels = ember::providers::graph::client::MAX_FOLDER_DEPTH + 2;
    let mut parent = String::new();
    let mut path = Vec::new();
    for level in 1..=levels {
        let name = format!("L{level}");
        let made = if parent.is_empty() {
            graph(&emu, "POST", "/mailFolders", json!({"displayName": name})).await?
        } else {
            graph(
                &emu,
                "POST",
                &format!("/mailFolders/{parent}/childFolders"),
                json!({"displayName": name}),
            )
            .await?
        };
        parent = made["id"].as_str().unwrap_or_default().to_owned();
        path.push(name);
    }
    ember.sync_once(account).await?;
    let shown = local_tree(&ember, account).await?;
    let deepest = path[..levels - 2].join("/");
    assert!(
        shown.contains_key(&deepest),
        "{deepest} is shown: {shown:?}"
    );
    let chain: Vec<&String> = shown.keys().filter(|p| p.starts_with("L1")).collect();
    assert_eq!(
        chain.len(),
        levels - 2,
        "the chain is shown to the bound and no deeper: {chain:?}"
    );
    ember.shutdown(std::time::Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_folder_deleted_during_a_run_is_passed_over_and_gone_the_next() -> anyhow::Result<()> {
    let emu = start(300).await?;
    let (_dir, ember, account) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(account).await?;
    let receipts = truth_folder_id(&emu, "Receipts").await?;
    // Slow delta rounds: Receipts (sixth of nine, by name) comes seconds
    // after the tree is listed, and is deleted for good in between.
    control(
        &emu,
        "faults",
        json!({"spec": "graph.delta:latency,ms=400"}),
    )
    .await?;
    let before = delta_requests(&control_get(&emu, "stats").await?);
    let delete = async {
        while delta_requests(&control_get(&emu, "stats").await?) == before {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        graph(
            &emu,
            "POST",
            &format!("/mailFolders/{receipts}/permanentDelete"),
            Value::Null,
        )
        .await
    };
    let (run, deleted) = tokio::join!(ember.sync_once(account), delete);
    deleted?;
    let run = run?;
    let stats = control_get(&emu, "stats").await?;
    assert!(
        stats["statuses"]["graph.delta"]["404"].as_u64() >= Some(1),
        "the deleted folder's round was refused: {stats}"
    );
    assert!(run.fetched == 0, "nothing else changed: {run:?}");

    control(&emu, "faults", json!({"spec": ""})).await?;
    ember.sync_once(account).await?;
    assert_converged(&ember, account, &emu).await?;
    assert_tree(&ember, account, &emu).await?;
    assert!(!local_tree(&ember, account).await?.contains_key("Receipts"));
    ember.shutdown(std::time::Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}
