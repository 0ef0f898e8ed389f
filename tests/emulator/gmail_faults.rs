//! Gmail sync when Gmail misbehaves: throttling storms, hangs, resets,
//! expired and revoked credentials, and cancellation. Nothing may be lost,
//! nothing may be sent beyond the quota, and the provider's waits are kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ember::events::Event;
use ember::model::SyncWindow;
use ember::model::{AccountState, ProviderKind, SyncPhase, SyncState};
use ember::providers::gmail::GmailSource;
use ember::providers::retry::RetryPolicy;
use ember::providers::{AccountLimits, Http};
use ember::sync::{SyncError, SyncSources};
use serde_json::{json, Value};

use crate::gmail_sync::{assert_converged, gmail_ember_using};
use crate::support::{control, control_get, start, start_with};

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

fn unthrottled() -> AccountLimits {
    AccountLimits::new(8, None)
}

fn source(http: Http, limits: fn() -> AccountLimits) -> (Arc<GmailSource>, SyncSources) {
    let gmail = Arc::new(GmailSource::with_limits(http, limits));
    (
        gmail.clone(),
        SyncSources::new().with(ProviderKind::Gmail, gmail),
    )
}

fn log_of(log: &Value) -> Vec<Value> {
    log["requests"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn throttling_storms_converge_with_nothing_lost_and_retry_after_kept() -> anyhow::Result<()> {
    let emu = start_with(
        120,
        "gmail.messages.get:429@0.05,retry_after=1;gmail.messages.get:403rate@0.05;\
         gmail.messages.list:503@0.3;gmail.profile:500@0.5;gmail.labels.list:503@0.3",
        true,
    )
    .await?;
    let (_, sources) = source(quick_http(Duration::from_secs(5))?, unthrottled);
    let (_dir, ember, gmail) = gmail_ember_using(&emu, SyncWindow::All, sources).await?;
    let report = ember.sync_once(gmail).await?;
    assert!(report.retries > 10, "{report:?}");
    assert!(report.skipped.is_empty(), "{report:?}");
    assert_converged(&ember, gmail, &emu).await?;

    // After every 429 that asked for a second, the account starts nothing
    // new within that second. Requests the client had already sent may still
    // arrive late on a loaded machine, but there are fewer of them than the
    // account's concurrency (8); a client that ignored Retry-After would send
    // dozens in that second.
    let log = log_of(&control_get(&emu, "log").await?);
    let throttled: Vec<u64> = log
        .iter()
        .filter(|r| r["status"] == 429 && r["endpoint"] == "gmail.messages.get")
        .filter_map(|r| r["t_ms"].as_u64())
        .collect();
    assert!(!throttled.is_empty());
    for t in &throttled {
        let early: Vec<&Value> = log
            .iter()
            .filter(|r| r["account"].is_string())
            .filter(|r| {
                r["started_ms"]
                    .as_u64()
                    .is_some_and(|s| s > *t && s < *t + 980)
            })
            .collect();
        assert!(
            early.len() < 8,
            "{} requests started within Retry-After of a 429 at {t} ms: {early:?}",
            early.len()
        );
    }
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn with_gmails_quota_enforced_a_sync_never_exceeds_it() -> anyhow::Result<()> {
    let emu = start(120).await?;
    let (_, sources) = source(quick_http(Duration::from_secs(10))?, AccountLimits::gmail);
    let (_dir, ember, gmail) = gmail_ember_using(&emu, SyncWindow::All, sources).await?;
    let report = ember.sync_once(gmail).await?;
    assert_converged(&ember, gmail, &emu).await?;
    let stats = control_get(&emu, "stats").await?;
    let refused: u64 = stats["statuses"]
        .as_object()
        .map(|m| m.values().filter_map(|s| s["429"].as_u64()).sum())
        .unwrap_or(0);
    assert_eq!(refused, 0, "no request beyond the quota: {stats}");
    assert_eq!(report.retries, 0);
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn hung_and_reset_requests_time_out_or_fail_and_are_retried() -> anyhow::Result<()> {
    let emu = start_with(
        60,
        "gmail.messages.get:hang@0.05;gmail.messages.get:reset@0.1",
        true,
    )
    .await?;
    let (_, sources) = source(quick_http(Duration::from_millis(800))?, unthrottled);
    let (_dir, ember, gmail) = gmail_ember_using(&emu, SyncWindow::All, sources).await?;
    let report = ember.sync_once(gmail).await?;
    assert!(report.retries > 0, "{report:?}");
    assert_converged(&ember, gmail, &emu).await?;
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_exactly_once_for_concurrent_requests(
) -> anyhow::Result<()> {
    // Each message fetch is held 150 ms, so eight are in flight at once and
    // finish together; the token expires while they are, and the next wave
    // all arrive with it. (Expired before the run, only the first,
    // sequential request saw it, and the test proved nothing concurrent.)
    let emu = start_with(60, "gmail.messages.get:latency,ms=150", true).await?;
    let (gmail_source, sources) = source(quick_http(Duration::from_secs(10))?, unthrottled);
    let (_dir, ember, gmail) = gmail_ember_using(&emu, SyncWindow::All, sources).await?;
    let stats = control_get(&emu, "stats").await?;
    let before = stats["statuses"]["oauth.token"]["200"]
        .as_u64()
        .unwrap_or(0);
    let gets_before = stats["requests"]["gmail.messages.get"]
        .as_u64()
        .unwrap_or(0);
    let refreshes_before = gmail_source.refreshes(gmail);
    let expire = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let stats = control_get(&emu, "stats").await?;
            let gets = stats["requests"]["gmail.messages.get"]
                .as_u64()
                .unwrap_or(0);
            if gets >= gets_before + 8 {
                break;
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "the run fetched no messages: {stats}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        control(&emu, "expire_tokens", json!({"provider": "gmail"})).await?;
        anyhow::Ok(())
    };
    let (synced, expired) = tokio::join!(ember.sync_once(gmail), expire);
    expired?;
    synced?;
    assert_eq!(
        gmail_source.refreshes(gmail) - refreshes_before,
        1,
        "one refresh"
    );
    let stats = control_get(&emu, "stats").await?;
    assert_eq!(
        stats["statuses"]["oauth.token"]["200"]
            .as_u64()
            .unwrap_or(0)
            - before,
        1,
        "{stats}"
    );
    // Several requests in flight met the expired token at once (or the
    // test exercised nothing concurrent), and one refresh served them all.
    let refused = stats["statuses"]["gmail.messages.get"]["401"]
        .as_u64()
        .unwrap_or(0);
    assert!(refused >= 2, "concurrent requests saw the expiry: {stats}");
    assert_converged(&ember, gmail, &emu).await?;
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_revoked_sign_in_asks_the_user_to_sign_in_again() -> anyhow::Result<()> {
    let emu = start_with(30, "", true).await?;
    let (_, sources) = source(quick_http(Duration::from_secs(10))?, unthrottled);
    let (_dir, ember, gmail) = gmail_ember_using(&emu, SyncWindow::All, sources).await?;
    control(&emu, "revoke", json!({"provider": "gmail"})).await?;
    let outcome = ember.sync_once(gmail).await;
    assert!(
        matches!(outcome, Err(SyncError::NeedsReauth(_))),
        "{outcome:?}"
    );
    let status = ember.status().await?;
    let account = status
        .accounts
        .iter()
        .find(|a| a.account.id == gmail)
        .map(|a| (&a.account.state, &a.sync));
    assert!(
        matches!(
            account,
            Some((AccountState::NeedsReauth, SyncState::NeedsReauth { .. }))
        ),
        "{account:?}"
    );

    // Signing in again makes the account whole.
    ember::service::demo::setup_in_process(&ember, &emu, SyncWindow::All).await?;
    let status = ember.status().await?;
    let again = status
        .accounts
        .iter()
        .find(|a| a.account.id == gmail)
        .map(|a| a.account.state);
    assert_eq!(again, Some(AccountState::Active));
    ember.sync_once(gmail).await?;
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn switching_sync_off_mid_run_stops_within_a_second_with_no_partial_batch(
) -> anyhow::Result<()> {
    let emu = start_with(1200, "gmail.messages.get:latency,ms=15", true).await?;
    let (_, sources) = source(quick_http(Duration::from_secs(10))?, unthrottled);
    let (_dir, ember, gmail) = gmail_ember_using(&emu, SyncWindow::All, sources).await?;
    let mut events = ember.events().collector();
    ember.start_sync().await?;
    // Wait for the first committed batch of whole messages: the newest 200
    // headers went first, so every batch boundary after is a multiple of 500.
    let first = events
        .wait_for(Duration::from_secs(30), |e| {
            matches!(e, Event::AccountSync { account_id, sync: SyncState::Syncing { phase: SyncPhase::Bodies, done, .. } } if *account_id == gmail && *done > 0)
        })
        .await;
    assert!(first.is_some(), "the sync got going");
    let asked = Instant::now();
    ember.set_sync_enabled(false).await?;
    let paused = events
        .wait_for(Duration::from_secs(5), |e| matches!(e, Event::AccountSync { account_id, sync: SyncState::Paused } if *account_id == gmail))
        .await;
    assert!(paused.is_some());
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "stopped in {:?}",
        asked.elapsed()
    );
    // Whole batches only: the 200 newest headers, then batches of 500
    // whole messages (the first of which completes those 200).
    let stored = ember.export_messages(Some(gmail), None).await?.len();
    assert!(
        stored == 200 || stored % 500 == 0,
        "only whole batches were committed: {stored}"
    );
    assert!(stored < 1200);
    ember.shutdown(Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_account_whose_provider_hangs_never_holds_up_another() -> anyhow::Result<()> {
    // Account A's Gmail never answers a listing; account B's is healthy.
    let hung = start_with(60, "gmail.messages.list:hang", true).await?;
    let healthy = start_with(80, "", true).await?;
    let (_, sources) = source(quick_http(Duration::from_millis(700))?, unthrottled);
    let (_dir, ember, a) = gmail_ember_using(&hung, SyncWindow::All, sources).await?;

    let base = healthy.base_url();
    let b = ember
        .add_account(ember::model::NewAccount {
            provider: ProviderKind::Gmail,
            address: "second@gmail.example".into(),
            display_name: "Second".into(),
            settings: ember::model::AccountSettings::Mail(ember::model::MailSettings {
                demo: false,
                api_base: base.clone(),
                oauth: ember::model::OAuthEndpoints {
                    auth_url: format!("{base}/o/oauth2/v2/auth"),
                    token_url: format!("{base}/token"),
                    device_code_url: None,
                    client_id: "x".into(),
                    scopes: Vec::new(),
                },
                window: Some(SyncWindow::All),
                max_messages: None,
                signed_in_at: 0,
            }),
            sync_enabled: false,
        })
        .await?;
    let tokens = ember::auth::Tokens {
        access_token: crate::support::token(&healthy, "gmail").await?.into(),
        refresh_token: None,
        expires_at: None,
    };
    ember
        .secrets()
        .await
        .set(
            &ember::auth::tokens_key(b.id),
            &serde_json::to_string(&tokens)?.into(),
        )
        .await?;
    ember.account_signed_in(b.id).await?;

    let started = Instant::now();
    ember.start_sync().await?;
    let truth_b = crate::gmail_sync::truth(&healthy).await?.len();
    loop {
        let stored_b = ember.export_messages(Some(b.id), None).await?.len();
        if stored_b == truth_b {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "account B stalled at {stored_b} of {truth_b} messages"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Meanwhile A is still stuck in its hung listing, with nothing stored.
    assert!(ember.export_messages(Some(a), None).await?.is_empty());
    let status = ember.status().await?;
    let state_a = status
        .accounts
        .iter()
        .find(|s| s.account.id == a)
        .map(|s| s.sync.clone());
    assert!(
        matches!(
            state_a,
            Some(SyncState::Syncing { .. } | SyncState::Error { .. })
        ),
        "{state_a:?}"
    );
    let report = ember.shutdown(Duration::from_secs(5)).await;
    assert!(
        report.clean,
        "the hung run is cancelled at shutdown: {report:?}"
    );
    hung.stop().await;
    healthy.stop().await;
    Ok(())
}
