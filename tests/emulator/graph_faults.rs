//! Microsoft Graph sync when Graph misbehaves: throttling storms (429 with
//! Retry-After, 503, inner `$batch` 429s), resets, hangs and malformed
//! pages, revoked consent, and the mailbox's concurrency limit. Nothing may
//! be lost, the account converges, and other accounts are unaffected.

use std::sync::Arc;
use std::time::Duration;

use ember::model::{AccountState, ProviderKind, SyncWindow};
use ember::providers::graph::GraphSource;
use ember::providers::limits::GRAPH_CONCURRENCY;
use ember::providers::retry::RetryPolicy;
use ember::providers::{AccountLimits, Http};
use ember::sync::{SyncError, SyncSources};
use serde_json::json;

use crate::graph_sync::{assert_converged, graph_ember, graph_ember_using, truth};
use crate::support::{control, control_get, start_with};

/// Short waits so that storms resolve in seconds.
fn quick_http(timeout: Duration) -> anyhow::Result<Http> {
    Ok(Http::with_timeout(
        RetryPolicy {
            initial: Duration::from_millis(20),
            max_interval: Duration::from_millis(500),
            max_elapsed: Duration::from_secs(60),
        },
        timeout,
    )?)
}

fn graph_only(http: Http, limits: fn() -> AccountLimits) -> SyncSources {
    SyncSources::new().with(
        ProviderKind::Graph,
        Arc::new(GraphSource::with_limits(http, limits)),
    )
}

fn unmetered() -> AccountLimits {
    AccountLimits::new(GRAPH_CONCURRENCY, None)
}

fn count(stats: &serde_json::Value, endpoint: &str, status: &str) -> u64 {
    stats["statuses"][endpoint][status].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn throttling_storms_converge_with_nothing_lost() -> anyhow::Result<()> {
    let emu = start_with(
        200,
        "graph.delta:429@0.2,retry_after=1;graph.delta:503@0.15;graph.folders:503@0.3;\
         graph.me:500@0.3",
        true,
    )
    .await?;
    let sources = graph_only(quick_http(Duration::from_secs(5))?, unmetered);
    let (_dir, ember, graph) = graph_ember_using(&emu, SyncWindow::All, sources).await?;
    let report = ember.sync_once(graph).await?;
    assert!(report.retries > 0, "{report:?}");
    assert_converged(&ember, graph, &emu).await?;
    let stats = control_get(&emu, "stats").await?;
    assert!(
        count(&stats, "graph.delta", "429") > 0,
        "the storm happened"
    );
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_retry_after_holds_the_whole_mailbox() -> anyhow::Result<()> {
    // Every first delta page is refused once with Retry-After: 2.
    let emu = start_with(40, "graph.delta:429@0.5,retry_after=2", true).await?;
    let sources = graph_only(quick_http(Duration::from_secs(5))?, unmetered);
    let (_dir, ember, graph) = graph_ember_using(&emu, SyncWindow::All, sources).await?;
    ember.sync_once(graph).await?;
    assert_converged(&ember, graph, &emu).await?;
    // After each 429, no request of the mailbox started within the wait.
    let log = control_get(&emu, "log").await?;
    let requests: Vec<&serde_json::Value> = log["requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| {
                    r["account"]
                        .as_str()
                        .is_some_and(|a| a.starts_with("graph:"))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut checked = 0;
    for (i, r) in requests.iter().enumerate() {
        if r["status"] != 429 {
            continue;
        }
        // `t_ms` is when the 429 was answered, since the emulator started.
        let answered = r["t_ms"].as_u64().unwrap_or(0);
        for later in &requests[i + 1..] {
            let started = later["started_ms"].as_u64().unwrap_or(0);
            if started > answered {
                assert!(
                    started >= answered + 1_900,
                    "a request started {} ms after a Retry-After of 2 s",
                    started - answered
                );
                checked += 1;
                break;
            }
        }
    }
    assert!(checked > 0, "some 429 was followed by a request");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn inner_batch_throttling_is_retried_request_by_request() -> anyhow::Result<()> {
    let emu = start_with(60, "", true).await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(graph).await?;
    let rows = ember.export_messages(Some(graph), None).await?;
    let ids: Vec<i64> = rows.iter().take(40).map(|r| r.id).collect();
    // Half of the inner PATCH requests are throttled.
    control(
        &emu,
        "faults",
        json!({"spec": "graph.message:429@0.5,retry_after=1"}),
    )
    .await?;
    ember.set_unread(&ids, false).await?;
    let report = ember.sync_once(graph).await?;
    assert_eq!(report.actions_sent, 1, "{report:?}");
    let stats = control_get(&emu, "stats").await?;
    let throttled = count(&stats, "graph.message", "429");
    assert!(throttled > 0, "the storm happened");
    assert_eq!(
        count(&stats, "graph.message", "200"),
        40,
        "each change landed once, the throttled ones sent again on their own"
    );
    control(&emu, "faults", json!({"spec": ""})).await?;
    let theirs = truth(&emu).await?;
    for row in rows.iter().take(40) {
        assert!(
            theirs
                .iter()
                .any(|(id, _, unread)| *id == row.provider_id && !unread),
            "{} is read at Graph",
            row.provider_id
        );
    }
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn resets_hangs_and_malformed_pages_converge_over_runs() -> anyhow::Result<()> {
    let emu = start_with(
        300,
        "graph.delta:reset@0.1;graph.delta:hang@0.05;graph.delta:badjson@0.05;\
         graph.delta:truncate@0.05",
        true,
    )
    .await?;
    let sources = graph_only(quick_http(Duration::from_millis(800))?, unmetered);
    let (_dir, ember, graph) = graph_ember_using(&emu, SyncWindow::All, sources).await?;
    let mut failures = 0;
    for _ in 0..12 {
        match ember.sync_once(graph).await {
            Ok(_) => break,
            Err(SyncError::Provider { .. }) => failures += 1,
            Err(other) => anyhow::bail!("unexpected failure: {other}"),
        }
    }
    // Whatever happened, what is stored is real, and nothing is doubled.
    let rows = ember.export_messages(Some(graph), None).await?;
    let ids: std::collections::BTreeSet<_> = rows.iter().map(|r| &r.provider_id).collect();
    assert_eq!(ids.len(), rows.len(), "no duplicates");
    control(&emu, "faults", json!({"spec": ""})).await?;
    ember.sync_once(graph).await?;
    assert_converged(&ember, graph, &emu).await?;
    let _ = failures;
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn revoked_consent_needs_a_new_sign_in_while_gmail_keeps_syncing() -> anyhow::Result<()> {
    let emu = start_with(30, "", true).await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(graph).await?;
    let gmail = ember
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.provider == ProviderKind::Gmail)
        .map(|a| a.id)
        .ok_or_else(|| anyhow::anyhow!("no Gmail demo account"))?;
    control(&emu, "revoke", json!({"provider": "graph"})).await?;
    let refused = ember.sync_once(graph).await;
    assert!(
        matches!(refused, Err(SyncError::NeedsReauth(_))),
        "{refused:?}"
    );
    let status = ember.status().await?;
    let state = status
        .accounts
        .iter()
        .find(|a| a.account.id == graph)
        .map(|a| a.account.state);
    assert_eq!(state, Some(AccountState::NeedsReauth));
    let other = ember.sync_once(gmail).await?;
    assert!(other.stored > 0, "Gmail is unaffected: {other:?}");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_mailbox_never_sees_more_than_four_requests_at_once() -> anyhow::Result<()> {
    // Quotas on; slow answers make requests overlap if the client let them.
    let emu = start_with(
        150,
        "graph.delta:latency,ms=30;graph.message:latency,ms=30",
        false,
    )
    .await?;
    let (_dir, ember, graph) = graph_ember(&emu, SyncWindow::All).await?;
    ember.sync_once(graph).await?;
    let rows = ember.export_messages(Some(graph), None).await?;
    let ids: Vec<i64> = rows.iter().take(45).map(|r| r.id).collect();
    ember.set_unread(&ids, true).await?;
    ember.set_starred(&ids[..10], true).await?;
    ember.sync_once(graph).await?;
    let stats = control_get(&emu, "stats").await?;
    let max = stats["max_concurrency"]
        .as_object()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.starts_with("graph:"))
                .and_then(|(_, v)| v.as_u64())
        })
        .ok_or_else(|| anyhow::anyhow!("no concurrency figure for the mailbox: {stats}"))?;
    assert!(max <= 4, "at most four requests at once, saw {max}");
    let throttled: u64 = stats["statuses"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with("graph."))
                .filter_map(|(_, v)| v["429"].as_u64())
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(throttled, 0, "Graph never had to say 429");
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}
