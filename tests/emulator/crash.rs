//! Crash safety: a child process syncing a large mailbox (Gmail, or
//! Microsoft 365 through Graph) is killed with SIGKILL at seeded random
//! moments. After each kill the database passes `PRAGMA integrity_check`,
//! every batch the child reported committed is there, and the next run
//! converges to the same state as a run that was never interrupted. Five
//! kills per provider by default; `EMBER_FULL_TESTS=1` runs fifty.
//!
//! The harness also checks itself: kills that all land before the first
//! commit, or after the child finished, would prove nothing, so at least
//! one kill per provider must land while the child was still syncing and
//! after it had committed a batch.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ember::store::Store;

use crate::support::start_with;

const MESSAGES: usize = 1500;

/// Kills per harness: five by default, fifty with `EMBER_FULL_TESTS`.
pub fn runs() -> usize {
    if std::env::var_os("EMBER_FULL_TESTS").is_some() {
        50
    } else {
        5
    }
}

/// A small deterministic generator for kill moments.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Which demo account is synced, and its local account id (the demo adds
/// Gmail first, then Microsoft 365, then Azure DevOps).
#[derive(Debug, Clone, Copy)]
pub enum Provider {
    Gmail,
    Graph,
    Ado,
}

impl Provider {
    pub fn arg(self) -> &'static str {
        match self {
            Self::Gmail => "gmail",
            Self::Graph => "graph",
            Self::Ado => "ado",
        }
    }

    pub fn account(self) -> i64 {
        match self {
            Self::Gmail => 1,
            Self::Graph => 2,
            Self::Ado => 3,
        }
    }
}

/// A message as both sides are compared: id, folders, unread.
pub type Row = (String, BTreeSet<String>, bool);

pub async fn truth(
    emu: &ember_emulator::Emulator,
    provider: Provider,
) -> anyhow::Result<BTreeSet<Row>> {
    if let Provider::Ado = provider {
        // The items the user's queries select, as the truth has them.
        let selected = crate::ado_sync::selected(emu).await?;
        let all = crate::ado_sync::truth(emu).await?;
        return Ok(selected
            .into_iter()
            .filter_map(|id| {
                let w = all.get(&id)?;
                Some((
                    id.to_string(),
                    BTreeSet::from([format!("rev {}", w["rev"])]),
                    false,
                ))
            })
            .collect());
    }
    let t = crate::support::control_get(emu, "truth").await?;
    let account = t["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["provider"] == provider.arg()).cloned())
        .unwrap_or_default();
    Ok(account["messages"]
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

pub async fn local(ember: &ember::Ember, provider: Provider) -> anyhow::Result<BTreeSet<Row>> {
    if let Provider::Ado = provider {
        return Ok(crate::ado_sync::local(ember)
            .await?
            .into_iter()
            .map(|(id, rev, _)| {
                (
                    id.to_string(),
                    BTreeSet::from([format!("rev {rev}")]),
                    false,
                )
            })
            .collect());
    }
    Ok(ember
        .export_messages(Some(provider.account()), None)
        .await?
        .into_iter()
        .map(|m| {
            let folders = m
                .folders
                .into_iter()
                .filter(|f| !f.starts_with("category:"))
                .collect();
            (m.provider_id, folders, m.unread)
        })
        .collect())
}

/// The emulator a child process syncs from: its address and control token.
#[derive(Clone)]
struct Target {
    url: String,
    token: String,
}

fn sync_command(data: &str, target: &Target, provider: Provider) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ember"));
    cmd.args([
        "--data-dir",
        data,
        "demo",
        "setup",
        "--emulator",
        &target.url,
        "--window",
        "all",
        "--sync",
        "--only",
        provider.arg(),
        "--no-quota",
        "--json",
    ])
    .env("EMBER_LOG", "ember::sync=info")
    .env("EMBER_EMULATOR_TOKEN", &target.token)
    .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

/// What one killed child did.
struct Killed {
    /// Provider ids its committed batches named last.
    committed: Vec<String>,
    /// It was still running when the kill landed.
    while_running: bool,
}

/// Runs a sync child and kills it after `after`. Runs on a blocking thread.
#[allow(
    clippy::disallowed_methods,
    reason = "polls a child process from a blocking thread, not a Tokio worker"
)]
fn run_and_kill(
    data: &str,
    url: &Target,
    provider: Provider,
    after: Duration,
) -> anyhow::Result<Killed> {
    let mut child = sync_command(data, url, provider).spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let account = format!("account={}", provider.account());
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .filter(|l| l.contains("batch committed"))
            .filter(|l| l.split_whitespace().any(|w| w == account))
            .filter_map(|l| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix("last="))
                    .map(|id| id.trim_matches('"').to_owned())
            })
            .filter(|id| !id.is_empty() && id != "-")
            .collect::<Vec<_>>()
    });
    let started = Instant::now();
    let mut while_running = true;
    while started.elapsed() < after {
        if child.try_wait()?.is_some() {
            while_running = false;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL on Unix: no destructors, no WAL checkpoint.
    let status = child.wait()?;
    // Killed by the signal, not exited: it was still running.
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        while_running &= status.signal().is_some();
    }
    let committed = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader panicked"))?;
    Ok(Killed {
        committed,
        while_running,
    })
}

#[allow(
    clippy::disallowed_methods,
    reason = "child processes and their pipes are blocking I/O"
)]
async fn kill_at_random_moments(provider: Provider, seed: u64) -> anyhow::Result<()> {
    let emu = match provider {
        // Enough work items for several batches of the user's.
        Provider::Ado => {
            ember_emulator::Emulator::start(ember_emulator::EmulatorConfig {
                world: ember_emulator::world::WorldConfig {
                    seed: 42,
                    messages: 10,
                    work_items: 6000,
                },
                no_quota: true,
                ..Default::default()
            })
            .await?
        }
        _ => start_with(MESSAGES, "", true).await?,
    };
    let url = Target {
        url: emu.base_url(),
        token: emu.control_token().to_owned(),
    };
    let expected = truth(&emu, provider).await?;
    assert!(!expected.is_empty());
    let mut lcg = Lcg(seed);

    // How long an uninterrupted first sync takes, to spread kills across it.
    let probe = tempfile::tempdir()?;
    let probe_data = probe.path().to_str().unwrap_or_default().to_owned();
    let started = Instant::now();
    let status = tokio::task::spawn_blocking({
        let url = url.clone();
        move || sync_command(&probe_data, &url, provider).status()
    })
    .await??;
    assert!(status.success());
    let full_ms = u64::try_from(started.elapsed().as_millis())?.max(200);

    let mut landed_mid_sync = 0;
    for run in 0..runs() {
        let dir = tempfile::tempdir()?;
        let data = dir.path().to_str().unwrap_or_default().to_owned();
        let after = Duration::from_millis(50 + lcg.next_below(full_ms));
        let killed = tokio::task::spawn_blocking({
            let (data, url) = (data.clone(), url.clone());
            move || run_and_kill(&data, &url, provider, after)
        })
        .await??;
        if killed.while_running && !killed.committed.is_empty() {
            landed_mid_sync += 1;
        }

        let store = Store::open(&dir.path().join("ember.sqlite3")).await?;
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(store.pool())
            .await?;
        assert_eq!(check, "ok", "run {run}: killed after {after:?}");
        let stored: BTreeSet<String> = match provider {
            Provider::Ado => store
                .work_item_memberships(provider.account())
                .await?
                .into_keys()
                .map(|id| id.to_string())
                .collect(),
            _ => store
                .message_dates(provider.account())
                .await?
                .into_keys()
                .collect(),
        };
        for id in &killed.committed {
            assert!(
                stored.contains(id),
                "run {run}: committed {id} is missing after the kill"
            );
        }
        store.close().await;

        // The next run, uninterrupted, converges.
        let status = tokio::task::spawn_blocking({
            let (data, url) = (data.clone(), url.clone());
            move || sync_command(&data, &url, provider).status()
        })
        .await??;
        assert!(status.success(), "run {run}: the follow-up sync failed");
        let config = {
            let mut c = ember::Config::new(dir.path());
            c.secrets = Some(ember::auth::Secrets::memory("tests"));
            c
        };
        let ember = ember::Ember::open(config, Default::default()).await?;
        let ours = local(&ember, provider).await?;
        assert_eq!(
            ours.len(),
            expected.len(),
            "run {run}: not converged after a kill at {after:?}"
        );
        assert!(
            ours == expected,
            "run {run}: not converged after a kill at {after:?}: {} differ",
            ours.symmetric_difference(&expected).count()
        );
        ember.shutdown(Duration::from_secs(5)).await;
    }
    assert!(
        landed_mid_sync > 0,
        "no kill landed mid-sync after a commit: the harness proved nothing"
    );
    emu.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_a_gmail_sync_at_random_moments_loses_nothing_committed_and_converges(
) -> anyhow::Result<()> {
    kill_at_random_moments(Provider::Gmail, 0x5EED).await
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_a_graph_sync_at_random_moments_loses_nothing_committed_and_converges(
) -> anyhow::Result<()> {
    kill_at_random_moments(Provider::Graph, 0x6EED).await
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_a_work_item_sync_at_random_moments_loses_nothing_committed_and_converges(
) -> anyhow::Result<()> {
    kill_at_random_moments(Provider::Ado, 0x7EED).await
}
