//! Azure DevOps work items against the emulator: a first sync holds
//! exactly what the queries select, changes behind Ember's back converge
//! (state, new items, items leaving the queries, deletions), a run with
//! nothing changed costs two requests per query, edits reach the service
//! with a test of the revision the user saw, a conflicting edit waits for
//! the user, the service's slow-down signals and throttling are obeyed, a
//! revoked token needs a new one, and mail links to its work items.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ember::auth::Secrets;
use ember::model::{ConflictChoice, ProviderKind, SyncWindow, WorkItemEdit, WorkItemQuery};
use ember::service::demo;
use ember::sync::{SyncError, SyncSources};
use ember::{Config, Ember};
use ember_emulator::Emulator;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{client, control, control_get, start, start_with};

/// An Ember with the demo accounts signed in against `emu`, syncing
/// through `sources`; returns the Azure DevOps account's id.
pub async fn ado_ember_using(
    emu: &Emulator,
    sources: SyncSources,
) -> anyhow::Result<(TempDir, Ember, i64)> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path());
    config.secrets = Some(Secrets::memory("tests use no keychain"));
    config.sync.run_timeout = Duration::from_secs(60);
    config.model_dir = dir.path().join("no-model");
    let ember = Ember::open(config, sources).await?;
    let accounts = demo::setup_in_process(&ember, emu, SyncWindow::All).await?;
    let ado = accounts
        .iter()
        .find(|a| a.provider == ProviderKind::Ado)
        .map(|a| a.id)
        .ok_or_else(|| anyhow::anyhow!("no Azure DevOps demo account"))?;
    Ok((dir, ember, ado))
}

pub async fn ado_ember(emu: &Emulator) -> anyhow::Result<(TempDir, Ember, i64)> {
    ado_ember_using(emu, ember::service::sources::standard()?).await
}

/// (number, rev, state) of every stored item.
pub async fn local(ember: &Ember) -> anyhow::Result<BTreeSet<(i64, i64, String)>> {
    let rows: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT item_id, rev, state FROM work_items")
            .fetch_all(ember.store().pool())
            .await?;
    Ok(rows.into_iter().collect())
}

/// The emulator's items: number → (rev, state, assignee, title).
pub async fn truth(emu: &Emulator) -> anyhow::Result<BTreeMap<i64, Value>> {
    let t = control_get(emu, "truth").await?;
    let ado = t["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["provider"] == "ado").cloned())
        .unwrap_or_default();
    Ok(ado["work_items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|w| Some((w["id"].as_i64()?, w)))
        .collect())
}

/// The ids Azure DevOps' own queries select for the user: what a sync must
/// hold.
pub async fn selected(emu: &Emulator) -> anyhow::Result<BTreeSet<i64>> {
    let accounts = control_get(emu, "accounts").await?;
    let pat = accounts["ado"]["pat"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let org = accounts["ado"]["organization"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut ids = BTreeSet::new();
    for (_, condition) in ember::providers::ado::BUILTIN {
        let answer: Value = client()
            .post(format!(
                "{}/{org}/_apis/wit/wiql?api-version=7.1",
                emu.base_url()
            ))
            .basic_auth("", Some(&pat))
            .json(&json!({
                "query": format!("SELECT [System.Id] FROM WorkItems WHERE {condition}")
            }))
            .send()
            .await?
            .json()
            .await?;
        for item in answer["workItems"].as_array().cloned().unwrap_or_default() {
            if let Some(id) = item["id"].as_i64() {
                ids.insert(id);
            }
        }
    }
    Ok(ids)
}

/// What the store should hold: the selected items as the truth has them.
async fn expected(emu: &Emulator) -> anyhow::Result<BTreeSet<(i64, i64, String)>> {
    let truth = truth(emu).await?;
    Ok(selected(emu)
        .await?
        .into_iter()
        .filter_map(|id| {
            let w = truth.get(&id)?;
            Some((id, w["rev"].as_i64()?, w["state"].as_str()?.to_owned()))
        })
        .collect())
}

async fn assert_converged(ember: &Ember, emu: &Emulator) -> anyhow::Result<()> {
    let (ours, theirs) = (local(ember).await?, expected(emu).await?);
    assert!(
        ours == theirs,
        "store differs from Azure DevOps: missing {:?}, extra {:?}",
        theirs.difference(&ours).take(5).collect::<Vec<_>>(),
        ours.difference(&theirs).take(5).collect::<Vec<_>>()
    );
    Ok(())
}

fn ado_requests(stats: &Value) -> u64 {
    stats["requests"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with("ado."))
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_first_sync_holds_what_the_queries_select_and_changes_converge() -> anyhow::Result<()> {
    let emu = start(40).await?;
    let (_dir, ember, ado) = ado_ember(&emu).await?;
    let report = ember.sync_once(ado).await?;
    assert!(report.stored > 0, "{report:?}");
    assert_converged(&ember, &emu).await?;
    let items = ember
        .work_items(&WorkItemQuery {
            limit: 500,
            ..WorkItemQuery::default()
        })
        .await?;
    assert!(
        items
            .iter()
            .any(|w| w.memberships.contains(&"assigned".to_owned())),
        "some items are the user's own"
    );

    // Behind Ember's back: a colleague moves one item on, deletes one,
    // assigns a new one to the user, and takes another off the user.
    let truth_before = truth(&emu).await?;
    let ours: Vec<i64> = items.iter().map(|w| w.item_id).collect();
    let mine = items
        .iter()
        .find(|w| w.memberships == ["assigned"])
        .map(|w| w.item_id)
        .ok_or_else(|| anyhow::anyhow!("an item only assigned to the user"))?;
    let moved = ours.iter().copied().find(|id| *id != mine).unwrap_or(mine);
    let deleted = ours
        .iter()
        .copied()
        .find(|id| *id != mine && *id != moved)
        .unwrap_or(moved);
    let state = truth_before[&moved]["state"].as_str().unwrap_or_default();
    let next = match state {
        "New" => "Active",
        "Active" => "Resolved",
        "To Do" => "Doing",
        "Doing" => "Done",
        _ => "New",
    };
    let answer = control(
        &emu,
        "mutate",
        json!({"provider": "ado",
               "work_items": [{"id": moved, "state": next},
                              {"id": deleted, "delete": true},
                              {"id": mine, "assigned_to": "jamie.chen@contoso.example"}],
               "add_work_items": [{"type": "Bug", "title": "Crash on start", "assigned_to": "alex.rivera@contoso.example"}]}),
    )
    .await?;
    let added = answer["added"][0].as_i64().unwrap_or_default();
    let report = ember.sync_once(ado).await?;
    assert!(report.deleted >= 1, "{report:?}");
    assert_converged(&ember, &emu).await?;
    let now: BTreeSet<i64> = local(&ember).await?.into_iter().map(|w| w.0).collect();
    assert!(now.contains(&added), "the new item arrived");
    assert!(!now.contains(&deleted), "the deleted item went");
    assert!(!now.contains(&mine), "the item that left every query went");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_run_with_nothing_changed_costs_at_most_two_requests_per_query() -> anyhow::Result<()> {
    let emu = start(40).await?;
    let (_dir, ember, ado) = ado_ember(&emu).await?;
    ember.sync_once(ado).await?;
    let before = ado_requests(&control_get(&emu, "stats").await?);
    let idle = ember.sync_once(ado).await?;
    let after = ado_requests(&control_get(&emu, "stats").await?);
    assert_eq!(
        (idle.stored, idle.updated, idle.deleted),
        (0, 0, 0),
        "{idle:?}"
    );
    let queries = ember::providers::ado::BUILTIN.len() as u64;
    assert!(
        after - before <= 2 * queries,
        "{} requests for {queries} queries",
        after - before
    );
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

/// The first synced item whose type has known states, with a state it may
/// move to.
async fn editable(ember: &Ember) -> anyhow::Result<(i64, i64, String)> {
    for w in ember
        .work_items(&WorkItemQuery {
            limit: 500,
            ..WorkItemQuery::default()
        })
        .await?
    {
        let detail = ember.work_item(w.id).await?;
        if let Some(state) = detail
            .allowed_states
            .iter()
            .find(|s| !s.eq_ignore_ascii_case(&w.state))
        {
            return Ok((w.id, w.item_id, state.clone()));
        }
    }
    anyhow::bail!("no item with known states")
}

#[tokio::test]
async fn a_state_edit_is_applied_at_once_and_reaches_azure_devops() -> anyhow::Result<()> {
    let emu = start(30).await?;
    let (_dir, ember, ado) = ado_ember(&emu).await?;
    ember.sync_once(ado).await?;
    let (id, number, state) = editable(&ember).await?;
    let refused = ember
        .edit_work_item(
            id,
            WorkItemEdit::SetState {
                state: "Teleported".into(),
            },
        )
        .await;
    assert!(
        refused.is_err(),
        "a state the type does not allow is refused"
    );
    let local = ember
        .edit_work_item(
            id,
            WorkItemEdit::SetState {
                state: state.clone(),
            },
        )
        .await?;
    assert_eq!(local.state, state, "applied locally at once");
    assert_eq!(local.pending_edits, 1);
    let report = ember.sync_once(ado).await?;
    assert_eq!(report.actions_sent, 1, "{report:?}");
    let truth = truth(&emu).await?;
    assert_eq!(truth[&number]["state"], state.as_str());
    let after = ember.work_item(id).await?.item;
    assert_eq!(after.pending_edits, 0);
    assert_eq!(
        after.rev,
        truth[&number]["rev"].as_i64().unwrap_or_default()
    );
    // A comment too.
    ember
        .edit_work_item(
            id,
            WorkItemEdit::Comment {
                text: "On it.".into(),
            },
        )
        .await?;
    ember.sync_once(ado).await?;
    let detail = ember.work_item(id).await?;
    assert!(
        detail.comments.iter().any(|c| c.html.contains("On it.")),
        "{:?}",
        detail.comments
    );
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_edit_that_meets_someone_elses_change_waits_for_the_user() -> anyhow::Result<()> {
    let emu = start(30).await?;
    let (_dir, ember, ado) = ado_ember(&emu).await?;
    ember.sync_once(ado).await?;
    let (id, number, state) = editable(&ember).await?;
    // The user sees revision r; a colleague retitles the item meanwhile.
    control(
        &emu,
        "mutate",
        json!({"provider": "ado", "work_items": [{"id": number, "title": "Renamed by Jamie"}]}),
    )
    .await?;
    ember
        .edit_work_item(
            id,
            WorkItemEdit::SetState {
                state: state.clone(),
            },
        )
        .await?;
    let report = ember.sync_once(ado).await?;
    assert_eq!(report.actions_sent, 0, "{report:?}");
    let detail = ember.work_item(id).await?;
    let conflict = detail
        .conflict
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the conflict is shown"))?;
    assert_eq!(
        detail.item.title, "Renamed by Jamie",
        "the item was refreshed"
    );
    assert!(
        conflict.message.contains("someone else"),
        "{}",
        conflict.message
    );
    let truth_now = truth(&emu).await?;
    assert_ne!(
        truth_now[&number]["state"],
        state.as_str(),
        "their change was not overwritten"
    );
    // Another sync does not send it: it waits for the user.
    ember.sync_once(ado).await?;
    assert!(ember.work_item(id).await?.conflict.is_some());

    // Re-applied on top of their revision, it lands, and their title stays.
    ember
        .resolve_work_item_conflict(id, ConflictChoice::Reapply)
        .await?;
    let report = ember.sync_once(ado).await?;
    assert_eq!(report.actions_sent, 1, "{report:?}");
    let truth_now = truth(&emu).await?;
    assert_eq!(truth_now[&number]["state"], state.as_str());
    assert_eq!(truth_now[&number]["title"], "Renamed by Jamie");
    assert!(ember.work_item(id).await?.conflict.is_none());

    // Dropped, nothing is sent and theirs stays.
    control(
        &emu,
        "mutate",
        json!({"provider": "ado", "work_items": [{"id": number, "priority": 1}]}),
    )
    .await?;
    ember
        .edit_work_item(id, WorkItemEdit::SetPriority { priority: 4 })
        .await?;
    ember.sync_once(ado).await?;
    assert!(ember.work_item(id).await?.conflict.is_some());
    let detail = ember
        .resolve_work_item_conflict(id, ConflictChoice::Drop)
        .await?;
    assert!(detail.conflict.is_none());
    assert_eq!(detail.item.pending_edits, 0);
    ember.sync_once(ado).await?;
    let detail = ember.refresh_work_item(id).await?;
    assert_eq!(detail.item.priority, Some(1), "theirs stays");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn throttling_and_slow_down_signals_are_obeyed() -> anyhow::Result<()> {
    let emu = start_with(
        40,
        "ado.wiql:429@0.3,retry_after=1;ado.workitem:slowdown,remaining=3,delay=1;\
         ado.workitem:503@0.2",
        true,
    )
    .await?;
    let http = ember::providers::Http::with_timeout(
        ember::providers::retry::RetryPolicy {
            initial: Duration::from_millis(20),
            max_interval: Duration::from_millis(500),
            max_elapsed: Duration::from_secs(60),
        },
        Duration::from_secs(5),
    )?;
    let sources = SyncSources::new().with(
        ProviderKind::Ado,
        std::sync::Arc::new(ember::providers::ado::AdoSource::new(http)),
    );
    let (_dir, ember, ado) = ado_ember_using(&emu, sources).await?;
    let report = ember.sync_once(ado).await?;
    assert!(report.retries > 0, "{report:?}");
    assert_converged(&ember, &emu).await?;
    // After an answer asking for a second's delay, the next request of the
    // organisation waited.
    let log = control_get(&emu, "log").await?;
    let requests: Vec<&Value> = log["requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| {
                    r["endpoint"]
                        .as_str()
                        .is_some_and(|e| e.starts_with("ado."))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut checked = 0;
    for pair in requests.windows(2) {
        // Only answers of the slowed endpoint carry the delay.
        if pair[0]["status"] != 200 || pair[0]["endpoint"] != "ado.workitem" {
            continue;
        }
        let answered =
            pair[0]["started_ms"].as_u64().unwrap_or(0) + pair[0]["t_ms"].as_u64().unwrap_or(0);
        let next = pair[1]["started_ms"].as_u64().unwrap_or(0);
        assert!(
            next + 150 >= answered + 1000,
            "a request {} ms after a one-second slow-down",
            next.saturating_sub(answered)
        );
        checked += 1;
    }
    assert!(checked > 0, "the slow-down was exercised");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_revoked_token_needs_a_new_one_while_mail_keeps_syncing() -> anyhow::Result<()> {
    let emu = start(30).await?;
    let (_dir, ember, ado) = ado_ember(&emu).await?;
    ember.sync_once(ado).await?;
    control(&emu, "revoke", json!({"provider": "ado"})).await?;
    let refused = ember.sync_once(ado).await;
    assert!(
        matches!(refused, Err(SyncError::NeedsReauth(_))),
        "{refused:?}"
    );
    let gmail = ember
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.provider == ProviderKind::Gmail)
        .map(|a| a.id)
        .ok_or_else(|| anyhow::anyhow!("no Gmail"))?;
    let mail = ember.sync_once(gmail).await?;
    assert!(mail.stored > 0, "{mail:?}");
    // A new token signs the organisation in again and it syncs.
    let pat = control(&emu, "pat", json!({"provider": "ado"})).await?;
    let accounts = control_get(&emu, "accounts").await?;
    ember
        .sign_in(
            ember::model::AddAccount {
                provider: ProviderKind::Ado,
                client_id: None,
                client_secret: None,
                organization: accounts["ado"]["organization"].as_str().map(str::to_owned),
                pat: pat["pat"].as_str().map(Into::into),
                base_url: Some(emu.base_url()),
                tenant: None,
                device_code: false,
            },
            &ember::auth::DirectBrowser::new()?,
        )
        .await?;
    ember.sync_once(ado).await?;
    assert_converged(&ember, &emu).await?;
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn mail_about_a_work_item_links_to_it_and_folds_under_it() -> anyhow::Result<()> {
    let emu = start(400).await?;
    let (_dir, ember, ado) = ado_ember(&emu).await?;
    let gmail = ember
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.provider == ProviderKind::Gmail)
        .map(|a| a.id)
        .ok_or_else(|| anyhow::anyhow!("no Gmail"))?;
    ember.sync_once(ado).await?;
    ember.sync_once(gmail).await?;
    let rows = ember.export_messages(Some(gmail), None).await?;
    let linked: Vec<_> = rows.iter().filter(|m| !m.work_items.is_empty()).collect();
    assert!(!linked.is_empty(), "the demo's notifications link to items");
    let notice = linked[0];
    let items = ember.linked_work_items(notice.id).await?;
    assert_eq!(items[0].item_id, notice.work_items[0]);
    assert_eq!(items[0].source, "notification");
    // Folded: notifications about synced items leave the inbox view.
    let page = ember
        .messages(&ember::model::MessageQuery {
            view: ember::model::MailView::Account { account_id: gmail },
            before: None,
            limit: 500,
            conversations: false,
        })
        .await?;
    let synced = items[0].item.is_some();
    assert_eq!(
        page.messages.iter().any(|m| m.id == notice.id),
        !synced,
        "a notice about a synced item folds under it"
    );
    if let Some(item) = &items[0].item {
        let detail = ember.work_item(item.id).await?;
        assert!(
            detail.mail.iter().any(|m| m.id == notice.id),
            "the item lists its mail"
        );
    }
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}
