//! The service layer: the sync switch, sync loops, status and shutdown.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ember::events::Event;
use ember::model::{NewAccount, ProviderKind, SyncPhase, SyncState};
use ember::store;
use ember::sync::{BoxFuture, SyncContext, SyncError, SyncReport, SyncSource, SyncSources};
use ember::{Config, Ember};
use tempfile::TempDir;
use tokio::sync::Notify;

use crate::support::message;

const WAIT: Duration = Duration::from_secs(10);

async fn open(sources: SyncSources) -> anyhow::Result<(TempDir, Ember)> {
    let dir = tempfile::tempdir()?;
    let ember = Ember::open(Config::new(dir.path()), sources).await?;
    Ok((dir, ember))
}

async fn add(ember: &Ember, provider: ProviderKind, address: &str) -> anyhow::Result<i64> {
    Ok(ember
        .add_account(NewAccount {
            provider,
            address: address.into(),
            display_name: address.into(),
            settings: ember::model::AccountSettings::offline(ember::model::ProviderKind::Gmail),
            sync_enabled: true,
        })
        .await?
        .id)
}

fn is_state(account: i64, pred: impl Fn(&SyncState) -> bool) -> impl FnMut(&Event) -> bool {
    move |e| matches!(e, Event::AccountSync { account_id, sync } if *account_id == account && pred(sync))
}

/// Counts runs and finishes each at once.
#[derive(Default)]
struct Counting {
    runs: AtomicU32,
}

impl SyncSource for Counting {
    fn sync(&self, ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>> {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            ctx.progress.report(SyncPhase::Headers, 1, Some(1));
            Ok(SyncReport::default())
        })
    }
}

/// Writes a message in a transaction, then waits forever before committing.
#[derive(Default)]
struct Stuck {
    started: Notify,
}

impl SyncSource for Stuck {
    fn sync(&self, ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>> {
        Box::pin(async move {
            let mut tx = ctx.store.begin_write().await?;
            store::upsert_message(&mut tx, &message(ctx.account.id, "half", 1, "half-done"))
                .await?;
            self.started.notify_one();
            std::future::pending::<()>().await;
            tx.commit().await.map_err(ember::store::StoreError::from)?;
            Ok(SyncReport::default())
        })
    }
}

/// Fails for one address, succeeds for the rest.
struct FailsFor(&'static str);

impl SyncSource for FailsFor {
    fn sync(&self, ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>> {
        Box::pin(async move {
            if ctx.account.address == self.0 {
                Err(SyncError::Provider {
                    code: ember::model::SyncErrorCode::ServerError,
                    message: "Gmail is having trouble (HTTP 503).".into(),
                })
            } else {
                Ok(SyncReport::default())
            }
        })
    }
}

#[tokio::test]
async fn the_sync_switch_is_announced_persisted_and_reported() -> anyhow::Result<()> {
    let (dir, ember) = open(SyncSources::new()).await?;
    assert!(
        ember.status().await?.sync_enabled,
        "sync starts switched on"
    );
    let mut events = ember.events().collector();

    let status = ember.set_sync_enabled(false).await?;
    assert!(!status.sync_enabled);
    let heard = events
        .wait_for(WAIT, |e| {
            matches!(e, Event::SyncEnabledChanged { enabled: false })
        })
        .await;
    assert!(heard.is_some(), "the window and tray hear of the change");
    ember.shutdown(WAIT).await;

    let reopened = Ember::open(Config::new(dir.path()), SyncSources::new()).await?;
    assert!(
        !reopened.status().await?.sync_enabled,
        "the switch survives a restart"
    );
    Ok(())
}

#[tokio::test]
async fn sync_now_runs_an_account_again() -> anyhow::Result<()> {
    let source = Arc::new(Counting::default());
    let (_dir, ember) = open(SyncSources::new().with(ProviderKind::Gmail, source.clone())).await?;
    let id = add(&ember, ProviderKind::Gmail, "me@example.org").await?;
    let mut events = ember.events().collector();
    ember.start_sync().await?;
    let idle = |s: &SyncState| {
        matches!(
            s,
            SyncState::Idle {
                last_synced_at: Some(_)
            }
        )
    };
    assert!(events.wait_for(WAIT, is_state(id, idle)).await.is_some());
    assert_eq!(source.runs.load(Ordering::SeqCst), 1);
    events.drain();

    assert_eq!(ember.sync_now(Some(id))?, 1);
    assert!(events.wait_for(WAIT, is_state(id, idle)).await.is_some());
    assert_eq!(source.runs.load(Ordering::SeqCst), 2);
    let status = ember.status().await?;
    assert!(matches!(
        status.accounts[0].sync,
        SyncState::Idle {
            last_synced_at: Some(_)
        }
    ));
    ember.shutdown(WAIT).await;
    Ok(())
}

#[tokio::test]
async fn switching_sync_off_stops_a_run_and_rolls_back_its_batch() -> anyhow::Result<()> {
    let source = Arc::new(Stuck::default());
    let (_dir, ember) = open(SyncSources::new().with(ProviderKind::Gmail, source.clone())).await?;
    let id = add(&ember, ProviderKind::Gmail, "me@example.org").await?;
    let mut events = ember.events().collector();
    ember.start_sync().await?;
    tokio::time::timeout(WAIT, source.started.notified()).await?;

    ember.set_sync_enabled(false).await?;
    let paused = events
        .wait_for(WAIT, is_state(id, |s| *s == SyncState::Paused))
        .await;
    assert!(paused.is_some(), "the account shows as paused");
    assert_eq!(
        ember.status().await?.message_count,
        0,
        "the half-written batch was rolled back"
    );
    ember.shutdown(WAIT).await;
    Ok(())
}

#[tokio::test]
async fn shutdown_returns_within_its_deadline_while_a_loop_is_mid_work() -> anyhow::Result<()> {
    let source = Arc::new(Stuck::default());
    let (dir, ember) = open(SyncSources::new().with(ProviderKind::Gmail, source.clone())).await?;
    add(&ember, ProviderKind::Gmail, "me@example.org").await?;
    ember.start_sync().await?;
    tokio::time::timeout(WAIT, source.started.notified()).await?;

    let deadline = Duration::from_secs(3);
    let report = ember.shutdown(deadline).await;
    assert!(report.clean, "every task ended and the database closed");
    assert!(
        report.elapsed < deadline,
        "shutdown took {:?}",
        report.elapsed
    );
    assert!(matches!(
        ember.sync_now(None),
        Err(ember::ServiceError::ShuttingDown)
    ));

    let reopened = Ember::open(Config::new(dir.path()), SyncSources::new()).await?;
    assert_eq!(
        reopened.status().await?.message_count,
        0,
        "nothing half-written"
    );
    Ok(())
}

#[tokio::test]
async fn one_failing_account_does_not_stop_another() -> anyhow::Result<()> {
    let sources =
        SyncSources::new().with(ProviderKind::Gmail, Arc::new(FailsFor("bad@example.org")));
    let (_dir, ember) = open(sources).await?;
    let bad = add(&ember, ProviderKind::Gmail, "bad@example.org").await?;
    let good = add(&ember, ProviderKind::Gmail, "good@example.org").await?;
    let mut events = ember.events().collector();
    ember.start_sync().await?;

    let failed = events
        .wait_for(
            WAIT,
            is_state(bad, |s| matches!(s, SyncState::Error { .. })),
        )
        .await;
    let fine = events
        .wait_for(
            WAIT,
            is_state(good, |s| matches!(s, SyncState::Idle { .. })),
        )
        .await;
    assert!(failed.is_some() && fine.is_some());

    let status = ember.status().await?;
    let bad_state = &status
        .accounts
        .iter()
        .find(|a| a.account.id == bad)
        .map(|a| &a.sync);
    assert_eq!(
        *bad_state,
        Some(&SyncState::Error {
            code: ember::model::SyncErrorCode::ServerError,
            message: "Gmail is having trouble (HTTP 503).".into()
        }),
        "the user sees a sentence and a code"
    );
    ember.shutdown(WAIT).await;
    Ok(())
}

#[tokio::test]
async fn an_account_without_a_sync_source_says_so() -> anyhow::Result<()> {
    let (_dir, ember) = open(SyncSources::new()).await?;
    let id = add(&ember, ProviderKind::Ado, "https://dev.azure.com/fabrikam").await?;
    let mut events = ember.events().collector();
    ember.start_sync().await?;
    let state = events
        .wait_for(WAIT, is_state(id, |s| matches!(s, SyncState::Error { .. })))
        .await;
    let Some(Event::AccountSync {
        sync: SyncState::Error { code, message },
        ..
    }) = state
    else {
        anyhow::bail!("no error state for an unsupported account");
    };
    assert_eq!(code, ember::model::SyncErrorCode::Unsupported);
    assert!(message.contains("Azure DevOps"), "{message}");
    ember.shutdown(WAIT).await;
    Ok(())
}

#[tokio::test]
async fn removing_an_account_stops_its_loop() -> anyhow::Result<()> {
    let source = Arc::new(Counting::default());
    let (_dir, ember) = open(SyncSources::new().with(ProviderKind::Gmail, source.clone())).await?;
    let id = add(&ember, ProviderKind::Gmail, "me@example.org").await?;
    let mut events = ember.events().collector();
    ember.start_sync().await?;
    let idle = |s: &SyncState| matches!(s, SyncState::Idle { .. });
    assert!(events.wait_for(WAIT, is_state(id, idle)).await.is_some());
    ember.remove_account(id).await?;
    assert_eq!(ember.sync_now(None)?, 0, "no loop left to ask");
    assert!(ember.status().await?.accounts.is_empty());
    ember.shutdown(WAIT).await;
    Ok(())
}

#[tokio::test]
async fn settings_are_validated_stored_and_survive_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ember = Ember::open(Config::new(dir.path()), SyncSources::new()).await?;
    let defaults = ember.settings().await?;
    assert_eq!(defaults, ember::model::Settings::default());

    let bad = ember::model::Settings {
        sync_interval_minutes: 0,
        ..defaults.clone()
    };
    let refused = ember.update_settings(bad).await;
    let Err(e) = refused else {
        anyhow::bail!("an interval of 0 minutes must be refused");
    };
    assert_eq!(e.code(), ember::ErrorCode::InvalidSetting);
    assert!(e.to_string().contains("sync interval"), "{e}");
    assert_eq!(ember.settings().await?, defaults, "nothing stored");

    let wanted = ember::model::Settings {
        sync_interval_minutes: 15,
        initial_sync_days: 30,
        notifications_enabled: false,
        remote_content_senders: vec!["News@Example.com".into()],
        ..defaults
    };
    let saved = ember.update_settings(wanted).await?;
    assert_eq!(saved.remote_content_senders, vec!["news@example.com"]);
    ember.shutdown(Duration::from_secs(5)).await;

    let reopened = Ember::open(Config::new(dir.path()), SyncSources::new()).await?;
    assert_eq!(reopened.settings().await?, saved);
    reopened.shutdown(Duration::from_secs(5)).await;
    Ok(())
}
