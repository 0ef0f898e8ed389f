//! Two processes on one profile (issue 16, findings 2 and 11): the profile
//! lock, outbox claims, and a database from a newer version left untouched.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ember::model::{NewAccount, ProviderKind};
use ember::store::{outbox, Store, StoreError};
use ember::sync::{BoxFuture, SyncContext, SyncError, SyncReport, SyncSource, SyncSources};
use ember::{Config, Ember};

use crate::support::{add_account, insert_messages, message, temp_store};

/// A source that only counts its runs.
struct Counting(Arc<AtomicU32>);

impl SyncSource for Counting {
    fn sync(&self, _ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(SyncReport::default()) })
    }
}

fn counting(runs: &Arc<AtomicU32>) -> SyncSources {
    SyncSources::new().with(ProviderKind::Gmail, Arc::new(Counting(runs.clone())))
}

#[tokio::test]
async fn a_second_process_cannot_sync_a_profile_another_syncs_but_can_read_it() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let runs = Arc::new(AtomicU32::new(0));
    let app = Ember::open(Config::new(dir.path()), counting(&runs)).await?;
    let account = app
        .add_account(NewAccount {
            provider: ProviderKind::Gmail,
            address: "me@example.org".into(),
            display_name: "Me".into(),
            settings: ember::model::AccountSettings::offline(ProviderKind::Gmail),
            sync_enabled: true,
        })
        .await?;
    app.sync_once(account.id).await?;
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // `ember sync --once` while the app runs: its own service on the same
    // folder (its own lock file handle, as another process has).
    let cli = Ember::open(Config::new(dir.path()), counting(&runs)).await?;
    let refused = cli.sync_once(account.id).await;
    let Err(SyncError::ProfileBusy(e)) = &refused else {
        panic!("a second process synced the profile: {refused:?}");
    };
    let message = e.to_string();
    assert!(
        message.contains(&format!("(pid {})", std::process::id())) && message.contains("try again"),
        "the refusal names the holder and what to do: {message}"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the refused process ran a sync"
    );
    // Reading works alongside, and the refusal left no error on the account.
    assert_eq!(cli.accounts().await?.len(), 1);
    let status = cli.status().await?;
    assert!(
        matches!(
            status.accounts[0].sync,
            ember::model::SyncState::Idle { .. }
        ),
        "{:?}",
        status.accounts[0].sync
    );

    // Once the app has quit, the other may sync.
    app.shutdown(Duration::from_secs(5)).await;
    cli.sync_once(account.id).await?;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    cli.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::test]
async fn two_store_handles_racing_claim_each_outbox_entry_once() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;
    let rows: Vec<_> = (0..40)
        .map(|i| message(account.id, &format!("m{i}"), 1_000 + i, "hello"))
        .collect();
    let ids = insert_messages(&store, &rows).await?;
    // One queued action per message: 40 entries.
    for id in &ids {
        let mut tx = store.begin_write().await?;
        outbox::apply_locally(&mut tx, &[*id], outbox::MailAction::Archive).await?;
        tx.commit().await?;
    }
    // Two processes' handles of the one file, each sending the outbox.
    let other = Store::open(store.path()).await?;
    let account_id = account.id;
    let claim_all = |store: Store, owner: &'static str| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            // Never more claims than entries, whatever the store answers.
            for _ in 0..40 {
                let Some(entry) = store.claim_outbox(account_id, owner).await? else {
                    break;
                };
                got.push(entry.id);
                tokio::task::yield_now().await;
            }
            Ok::<_, StoreError>(got)
        })
    };
    let a = claim_all(store.clone(), "process-a");
    let b = claim_all(other.clone(), "process-b");
    let (a, b) = (a.await??, b.await??);
    let a_set: HashSet<i64> = a.iter().copied().collect();
    let b_set: HashSet<i64> = b.iter().copied().collect();
    assert!(
        a_set.is_disjoint(&b_set),
        "entries claimed by both, so sent twice: {:?}",
        a_set.intersection(&b_set).collect::<Vec<_>>()
    );
    assert_eq!(
        a.len() + b.len(),
        40,
        "every entry is claimed once: {a:?} {b:?}"
    );

    // A released claim is sent by the next run; one that is held is not.
    let first = a[0];
    store.outbox_release(first, "process-a").await?;
    let again = other.claim_outbox(account.id, "process-b").await?;
    assert_eq!(again.map(|e| e.id), Some(first));
    assert!(store.claim_outbox(account.id, "process-a").await?.is_none());
    // The process that takes the profile lock lets go of a dead one's.
    assert_eq!(
        store.release_foreign_claims("process-a").await?,
        b.len() as u64 + 1
    );
    Ok(())
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_and_left_byte_identical() -> anyhow::Result<()>
{
    let (dir, store) = temp_store().await?;
    let path = store.path().to_owned();
    // A later version applied a migration this one does not carry.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from the future', 1, x'00', 0)",
    )
    .execute(store.pool())
    .await?;
    store.close().await;
    let files = |dir: &std::path::Path| -> anyhow::Result<Vec<(String, Vec<u8>)>> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            files.push((
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path())?,
            ));
        }
        files.sort();
        Ok(files)
    };
    // Closed, the log is checkpointed and removed: wait for the pool's
    // last connection to get there, so that what follows starts from a
    // folder nothing else is still writing.
    for _ in 0..100 {
        let names: Vec<String> = files(dir.path())?.into_iter().map(|(n, _)| n).collect();
        if names
            .iter()
            .all(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = files(dir.path())?;
    let names =
        |files: &[(String, Vec<u8>)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();

    let refused = Store::open(&path).await;
    let Err(StoreError::NewerSchema { found, known, .. }) = &refused else {
        panic!("a newer schema was not refused as such: {refused:?}");
    };
    assert_eq!(*found, 9999);
    assert!(*known < 9999);
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("newer version of Ember"), "{message}");
    // Nothing written: not the database, not a journal left behind.
    let after = files(dir.path())?;
    assert_eq!(names(&after), names(&before), "files came or went");
    assert!(after == before, "the database changed");
    // Through the service, as the app and the CLI open it.
    let opened = Ember::open(Config::new(dir.path()), SyncSources::new()).await;
    assert!(matches!(
        opened,
        Err(ember::ServiceError::Store(StoreError::NewerSchema { .. }))
    ));
    let after = files(dir.path())?;
    assert_eq!(names(&after), names(&before), "files came or went");
    assert!(after == before, "the database changed");
    Ok(())
}
