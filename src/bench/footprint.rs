//! `ember bench footprint`: what it costs to leave Ember running in the
//! tray. No mail client publishes its idle CPU, wake-ups and memory; this
//! measures them so anyone can re-run the figures.
//!
//! The service opens a store of N synthetic messages (built by a child
//! process, so building leaves nothing in this one's heap), with
//! categorisation on and sync on against an idle emulator (also its own
//! process, so its work is not counted). The demo accounts' first syncs
//! bring a few hundred new messages, which the categoriser categorises, so
//! the sentence model is loaded when the measurement starts. Once every
//! account has synced, nothing waits to be categorised, the categoriser has
//! been quiet for ten seconds and a few more seconds have passed, the process sleeps for the measured window in one
//! timer (the benchmark adds no wake-ups of its own) and reads, for the
//! whole process: resident memory (`/proc/self/status`), CPU time and
//! context switches (`getrusage`, threads that ended included). Linux only.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::query::{build, tempfile_dir};
use crate::auth::Secrets;
use crate::events::Event;
use crate::model::{SyncState, SyncWindow};
use crate::service::{demo, sources};
use crate::store::Store;
use crate::{Config, Ember};

/// Messages in each mailbox of the idle emulator.
pub const EMULATOR_MESSAGES: usize = 100;
/// How long the categoriser must have been quiet to count as settled.
pub const QUIET: Duration = Duration::from_secs(10);
/// How long the service is left alone after it settles, before measuring.
pub const SETTLE: Duration = Duration::from_secs(5);
/// How long settling may take (first syncs, categorising) before giving up.
pub const SETTLE_DEADLINE: Duration = Duration::from_secs(3_600);

/// What to measure.
#[derive(Debug, Clone)]
pub struct FootprintOptions {
    /// Synthetic messages in the store.
    pub messages: usize,
    /// The measured window.
    pub window: Duration,
    /// Minutes between sync runs (the app's default is 5).
    pub sync_interval_minutes: u32,
    /// Keep the store here (reused when it already holds N messages).
    pub dir: Option<PathBuf>,
    /// The sentence model's folder.
    pub model_dir: PathBuf,
}

/// What the benchmark prints.
#[derive(Debug, Clone, Serialize)]
pub struct FootprintBench {
    /// Synthetic messages the store was built with.
    pub messages: usize,
    /// Messages stored when measured (the synthetic ones and the demo
    /// accounts' mail).
    pub stored_messages: i64,
    /// Seconds measured.
    pub seconds: f64,
    /// Resident memory at the end of the window, MB.
    pub rss_mb: f64,
    /// The most resident memory at any time since the process started
    /// (first syncs and categorising included), MB.
    pub peak_rss_mb: f64,
    /// CPU time over the window, as a percentage of one core.
    pub idle_cpu_percent: f64,
    /// Context switches of the process (voluntary and involuntary, all its
    /// threads) a minute over the window.
    pub wakeups_per_min: f64,
    /// Voluntary context switches over the window.
    pub voluntary_switches: u64,
    /// Involuntary context switches over the window.
    pub involuntary_switches: u64,
    /// Threads of the process at the end.
    pub threads: u64,
    /// Seconds between sync runs.
    pub sync_interval_s: u64,
    /// Sync runs that started during the window (all accounts).
    pub sync_runs: u64,
    /// Whether the categoriser ran (the model is present and loaded).
    pub categoriser_available: bool,
    /// What the categoriser said.
    pub categoriser: String,
    /// The database and its WAL, MB.
    pub db_mb: f64,
    /// Seconds building the store took (0 when reused).
    pub build_seconds: f64,
    /// Seconds from opening the service to settled.
    pub settle_seconds: f64,
}

/// Builds the synthetic store of `n` messages in `dir` (the child step).
pub async fn build_store(n: usize, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let store = Store::open(&dir.join(crate::store::DATABASE_FILE)).await?;
    if store.message_count().await? != n as i64 {
        anyhow::ensure!(
            store.message_count().await? == 0,
            "{} holds a different store; use an empty directory",
            dir.display()
        );
        build(&store, n).await?;
    }
    store.close().await;
    Ok(())
}

/// The process's CPU time and context switches so far.
#[derive(Debug, Clone, Copy)]
struct Usage {
    cpu: Duration,
    voluntary: u64,
    involuntary: u64,
}

fn usage() -> anyhow::Result<Usage> {
    use nix::sys::resource::{getrusage, UsageWho};
    let u = getrusage(UsageWho::RUSAGE_SELF)?;
    let time = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    Ok(Usage {
        cpu: time(u.user_time()) + time(u.system_time()),
        voluntary: u64::try_from(u.voluntary_context_switches()).unwrap_or(0),
        involuntary: u64::try_from(u.involuntary_context_switches()).unwrap_or(0),
    })
}

/// A `kB` field of `/proc/self/status` (`VmRSS`, `VmHWM`), or a count
/// (`Threads`).
fn proc_status(field: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string("/proc/self/status")?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {field} in /proc/self/status"))
}

/// The idle emulator, in a process of its own; killed when dropped.
struct EmulatorProcess {
    child: std::process::Child,
    url: String,
    /// Its control token.
    token: String,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ember emulator` and reads its address (blocking: run it off the
/// async workers).
fn start_emulator(exe: &Path, data_dir: &Path) -> anyhow::Result<EmulatorProcess> {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(exe)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["emulator", "--no-quota", "--messages"])
        .arg(EMULATOR_MESSAGES.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("the emulator's output was not captured"))?;
    let mut process = EmulatorProcess {
        child,
        url: String::new(),
        token: String::new(),
    };
    let mut lines = std::io::BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line?;
        if let Some(url) = line.trim().strip_prefix("listening on ") {
            process.url = url.to_owned();
        } else if let Some(token) = line.trim().strip_prefix("control token ") {
            process.token = token.to_owned();
            break;
        }
    }
    anyhow::ensure!(
        !process.url.is_empty() && !process.token.is_empty(),
        "the emulator exited before listening"
    );
    // It prints nothing more when idle; keep reading so it never blocks.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(process)
}

/// Counts sync runs as they start, from the event bus.
fn count_runs(ember: &Ember) -> Arc<AtomicU64> {
    let runs = Arc::new(AtomicU64::new(0));
    let mut events = ember.events().subscribe();
    let counter = runs.clone();
    tokio::spawn(async move {
        let mut syncing = std::collections::HashSet::new();
        loop {
            match events.recv().await {
                Ok(Event::AccountSync { account_id, sync }) => {
                    if matches!(sync, SyncState::Syncing { .. }) {
                        if syncing.insert(account_id) {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        syncing.remove(&account_id);
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    runs
}

/// Whether every syncing account has finished a run and nothing waits to
/// be categorised.
async fn settled(ember: &Ember) -> anyhow::Result<bool> {
    let status = ember.status().await?;
    let synced = status
        .accounts
        .iter()
        .filter(|a| a.account.sync_enabled)
        .all(|a| {
            matches!(
                a.sync,
                SyncState::Idle {
                    last_synced_at: Some(_)
                }
            )
        });
    let c = &status.classifier;
    anyhow::ensure!(
        c.available || c.message == "categoriser starting",
        "the categoriser cannot run ({}); the footprint is measured with the model loaded: set EMBER_MODEL_DIR or run scripts/fetch-model",
        c.message
    );
    Ok(synced && c.available && c.pending == 0)
}

/// Runs `f` off the async workers.
#[expect(
    clippy::disallowed_methods,
    reason = "waiting for a child process and reading its pipe block: they must leave the async workers"
)]
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f).await?
}

/// Runs the benchmark.
pub async fn run(options: FootprintOptions) -> anyhow::Result<FootprintBench> {
    anyhow::ensure!(
        cfg!(target_os = "linux"),
        "the footprint benchmark reads /proc/self: it runs on Linux only"
    );
    let exe = std::env::current_exe()?;
    let temp;
    let dir = match &options.dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile_dir()?;
            temp.0.clone()
        }
    };
    let n = options.messages;

    // The store, built by a child process so its allocations are not ours.
    let started = Instant::now();
    let mut builder = std::process::Command::new(&exe);
    builder
        .arg("--data-dir")
        .arg(&dir)
        .args(["bench", "footprint", "--build-only", "--messages"])
        .arg(n.to_string())
        .arg("--dir")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let status = blocking(move || Ok(builder.status()?)).await?;
    anyhow::ensure!(status.success(), "building the store failed ({status})");
    let build_seconds = started.elapsed().as_secs_f64();

    let (emulator_exe, emulator_dir) = (exe.clone(), dir.join("emulator"));
    let emulator = blocking(move || start_emulator(&emulator_exe, &emulator_dir)).await?;

    let mut config = Config::new(&dir);
    config.model_dir = options.model_dir.clone();
    config.secrets = Some(Secrets::memory("benchmark"));
    let started = Instant::now();
    let ember = Ember::open(config, sources::unmetered()?).await?;
    let mut settings = ember.settings().await?;
    settings.categories_enabled = true;
    settings.sync_interval_minutes = options.sync_interval_minutes;
    ember.update_settings(settings).await?;
    ember.set_sync_enabled(true).await?;
    demo::setup(&ember, &emulator.url, &emulator.token, SyncWindow::All).await?;
    ember.start_sync().await?;
    // Settled: every account synced, nothing uncategorised, and the
    // categoriser quiet for QUIET (synced mail that came with the
    // provider's category is still embedded from the queue).
    loop {
        anyhow::ensure!(
            started.elapsed() < SETTLE_DEADLINE,
            "not settled after {} s",
            SETTLE_DEADLINE.as_secs()
        );
        let progressed = ember.categoriser().progressed();
        if !settled(&ember).await? {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        if tokio::time::timeout(QUIET, progressed).await.is_err() {
            break;
        }
    }
    let settle_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;

    let runs = count_runs(&ember);
    let before = usage()?;
    let window_started = Instant::now();
    tokio::time::sleep(options.window).await;
    let after = usage()?;
    let wall = window_started.elapsed();
    let sync_runs = runs.load(Ordering::Relaxed);

    let rss_kb = proc_status("VmRSS")?;
    let hwm_kb = proc_status("VmHWM")?;
    let threads = proc_status("Threads")?;
    let status = ember.status().await?;
    let sizes = ember.store().file_sizes();
    ember.shutdown(Duration::from_secs(10)).await;
    drop(emulator);

    let minutes = wall.as_secs_f64() / 60.0;
    let voluntary = after.voluntary.saturating_sub(before.voluntary);
    let involuntary = after.involuntary.saturating_sub(before.involuntary);
    let mb = |bytes: f64| bytes / 1_048_576.0;
    Ok(FootprintBench {
        messages: n,
        stored_messages: status.message_count,
        seconds: wall.as_secs_f64(),
        rss_mb: mb(rss_kb as f64 * 1024.0),
        peak_rss_mb: mb(hwm_kb as f64 * 1024.0),
        idle_cpu_percent: (after.cpu.saturating_sub(before.cpu)).as_secs_f64() / wall.as_secs_f64()
            * 100.0,
        wakeups_per_min: (voluntary + involuntary) as f64 / minutes,
        voluntary_switches: voluntary,
        involuntary_switches: involuntary,
        threads,
        sync_interval_s: u64::from(options.sync_interval_minutes) * 60,
        sync_runs,
        categoriser_available: status.classifier.available,
        categoriser: status.classifier.message,
        db_mb: mb((sizes.database + sizes.wal) as f64),
        build_seconds,
        settle_seconds,
    })
}
