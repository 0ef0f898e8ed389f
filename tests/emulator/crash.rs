//! Crash safety: a child process syncing a large mailbox is killed with
//! SIGKILL at seeded random moments. After each kill the database passes
//! `PRAGMA integrity_check`, every batch the child reported committed is
//! there, and the next run converges to the same state as a run that was
//! never interrupted. Five kills by default; `EMBER_FULL_TESTS=1` runs fifty.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ember::store::Store;

use crate::gmail_sync::{local, truth};
use crate::support::start_with;

const MESSAGES: usize = 1500;

fn runs() -> usize {
    if std::env::var_os("EMBER_FULL_TESTS").is_some() {
        50
    } else {
        5
    }
}

/// A small deterministic generator for kill moments.
struct Lcg(u64);

impl Lcg {
    fn next_below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

fn sync_command(data: &str, url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ember"));
    cmd.args([
        "--data-dir",
        data,
        "demo",
        "setup",
        "--emulator",
        url,
        "--window",
        "all",
        "--sync",
        "--no-quota",
        "--json",
    ])
    .env("EMBER_LOG", "ember::providers=info")
    .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

/// Runs a sync child and kills it after `after`; returns the ids its
/// committed batches named last. Runs on a blocking thread.
#[allow(
    clippy::disallowed_methods,
    reason = "polls a child process from a blocking thread, not a Tokio worker"
)]
fn run_and_kill(data: &str, url: &str, after: Duration) -> anyhow::Result<Vec<String>> {
    let mut child = sync_command(data, url).spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .filter(|l| l.contains("batch committed"))
            .filter_map(|l| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix("last="))
                    .map(|id| id.trim_matches('"').to_owned())
            })
            .filter(|id| !id.is_empty() && id != "-")
            .collect::<Vec<_>>()
    });
    let started = Instant::now();
    while started.elapsed() < after {
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL on Unix: no destructors, no WAL checkpoint.
    child.wait()?;
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader panicked"))
}

#[tokio::test(flavor = "multi_thread")]
#[allow(
    clippy::disallowed_methods,
    reason = "child processes and their pipes are blocking I/O"
)]
async fn killing_a_sync_at_random_moments_loses_nothing_committed_and_converges(
) -> anyhow::Result<()> {
    let emu = start_with(MESSAGES, "", true).await?;
    let url = emu.base_url();
    let expected = truth(&emu).await?;
    let mut lcg = Lcg(0x5EED);

    // How long an uninterrupted first sync takes, to spread kills across it.
    let probe = tempfile::tempdir()?;
    let probe_data = probe.path().to_str().unwrap_or_default().to_owned();
    let started = Instant::now();
    let status = tokio::task::spawn_blocking({
        let url = url.clone();
        move || sync_command(&probe_data, &url).status()
    })
    .await??;
    assert!(status.success());
    let full_ms = u64::try_from(started.elapsed().as_millis())?.max(200);

    for run in 0..runs() {
        let dir = tempfile::tempdir()?;
        let data = dir.path().to_str().unwrap_or_default().to_owned();
        let after = Duration::from_millis(50 + lcg.next_below(full_ms));
        let committed = tokio::task::spawn_blocking({
            let (data, url) = (data.clone(), url.clone());
            move || run_and_kill(&data, &url, after)
        })
        .await??;

        let store = Store::open(&dir.path().join("ember.sqlite3")).await?;
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(store.pool())
            .await?;
        assert_eq!(check, "ok", "run {run}: killed after {after:?}");
        let stored = store.message_dates(1).await?;
        for id in &committed {
            assert!(
                stored.contains_key(id),
                "run {run}: committed {id} is missing after the kill"
            );
        }
        store.close().await;

        // The next run, uninterrupted, converges.
        let status = tokio::task::spawn_blocking({
            let (data, url) = (data.clone(), url.clone());
            move || sync_command(&data, &url).status()
        })
        .await??;
        assert!(status.success(), "run {run}: the follow-up sync failed");
        let config = {
            let mut c = ember::Config::new(dir.path());
            c.secrets = Some(ember::auth::Secrets::memory("tests"));
            c
        };
        let ember = ember::Ember::open(config, Default::default()).await?;
        assert_eq!(
            local(&ember, 1).await?,
            expected,
            "run {run}: not converged after a kill at {after:?}"
        );
        ember.shutdown(Duration::from_secs(5)).await;
    }
    emu.stop().await;
    Ok(())
}
