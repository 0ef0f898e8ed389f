//! A simulated week (issue 16, item 20): three accounts (Gmail, Microsoft
//! 365, Azure DevOps) synced every five minutes for seven days against the
//! emulator, with a random mix of faults changing every hour, mail arriving
//! and changing on the providers' side, the user reading, archiving,
//! filing, starring and sending, the sync switch turned off for hours and
//! the network down for hours. At the end the store equals the truth,
//! nothing the user sent is lost or doubled, the outbox is empty, and the
//! database, memory, tasks, file descriptors and connections are no more
//! than what the mail explains (all counted, before and after).
//!
//! What is simulated and what is real: time is a tick counter. Each tick is
//! five simulated minutes, and runs the service's real sync loops (started
//! by `start_sync`) through `sync_now`, the trigger their five-minute
//! ticker pulls, then waits for every loop's run to end; the loops'
//! own timer is set to a day so that only the ticks start runs. The HTTP
//! requests, the emulator, SQLite and the outbox are real. Within a run,
//! retry waits are real but short (the test's retry policy); the outbox's
//! waits between tries of an entry are kept in real time by the store, so
//! each tick moves every waiting entry five minutes closer to due (the one
//! place the test stands in for the clock). "Network down" is a proxy
//! between Ember and the emulator that drops every connection, open or
//! new, while down; the control API is reached directly. Categorisation is
//! off (no model): it has its own tests.
//!
//! The short form (in `cargo test`, so in `make test`) runs six simulated
//! hours with the same events, shorter; `EMBER_FULL_TESTS=1` runs the whole
//! week and prints its figures.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use ember::auth::Secrets;
use ember::events::Event;
use ember::model::{ComposeKind, ComposeRequest, DraftState, SyncState, SyncWindow};
use ember::providers::retry::RetryPolicy;
use ember::providers::Http;
use ember::service::{demo, sources};
use ember::{Config, Ember};
use ember_emulator::Emulator;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

use crate::crash::{local, truth, Lcg, Provider};
use crate::support::{control, control_get};

/// Ticks in a simulated day.
const DAY: u64 = 288;

/// The run's length and its outages, in ticks: `(ticks, first outage,
/// second outage, switch off)`. The week with `EMBER_FULL_TESTS` (three
/// and five hours down, two hours off); by default six hours with the same
/// events, shorter.
fn schedule() -> (u64, u64, u64, u64) {
    if std::env::var_os("EMBER_FULL_TESTS").is_some() {
        (7 * DAY, 36, 60, 24)
    } else {
        (DAY / 4, 6, 9, 4)
    }
}

/// A TCP proxy in front of the emulator that can take the network down:
/// while down it drops every connection, those open and those new. Counts
/// the connections it saw and those still open.
struct Network {
    addr: std::net::SocketAddr,
    down: Arc<AtomicBool>,
    /// Bumped on each outage, so open connections notice.
    outage: tokio::sync::watch::Sender<u64>,
    accepted: Arc<AtomicU64>,
    open: Arc<AtomicU64>,
    stop: tokio_util::sync::CancellationToken,
}

impl Network {
    async fn start(upstream: std::net::SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let down = Arc::new(AtomicBool::new(false));
        let (outage, _) = tokio::sync::watch::channel(0_u64);
        let accepted = Arc::new(AtomicU64::new(0));
        let open = Arc::new(AtomicU64::new(0));
        let stop = tokio_util::sync::CancellationToken::new();
        let net = Self {
            addr,
            down: down.clone(),
            outage: outage.clone(),
            accepted: accepted.clone(),
            open: open.clone(),
            stop: stop.clone(),
        };
        tokio::spawn(async move {
            loop {
                let (mut inbound, _) = tokio::select! {
                    () = stop.cancelled() => break,
                    accepted = listener.accept() => match accepted {
                        Ok(c) => c,
                        Err(_) => continue,
                    },
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                if down.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let open = open.clone();
                let mut cut = outage.subscribe();
                let stop = stop.clone();
                open.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = cut.changed() => {}
                            () = stop.cancelled() => {}
                        }
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(net)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn set_down(&self, down: bool) {
        if self.down.swap(down, Ordering::SeqCst) != down && down {
            self.outage.send_modify(|n| *n += 1);
        }
    }
}

/// What the process holds, for before-and-after comparisons.
#[derive(Debug, Clone, Copy)]
struct Footprint {
    tasks: usize,
    fds: usize,
    rss_kib: u64,
    open_connections: u64,
    db_bytes: u64,
    messages: i64,
}

async fn footprint(ember: &Ember, net: &Network) -> anyhow::Result<Footprint> {
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    let pool = ember.store().pool();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(pool)
        .await?;
    let free: i64 = sqlx::query_scalar("PRAGMA freelist_count")
        .fetch_one(pool)
        .await?;
    let size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(pool)
        .await?;
    Ok(Footprint {
        tasks: tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        fds,
        rss_kib,
        open_connections: net.open.load(Ordering::SeqCst),
        db_bytes: u64::try_from((pages - free) * size).unwrap_or(0),
        messages: ember.store().message_count().await?,
    })
}

/// How the runs of the week ended.
#[derive(Debug, Default)]
struct Tally {
    runs: u64,
    ok: u64,
    failed: BTreeMap<String, u64>,
    skipped_ticks: u64,
}

/// Waits until each of `accounts` has started a run and ended it (as the
/// window sees: `Syncing`, then a resting state).
async fn wait_for_runs(
    ember: &Ember,
    rx: &mut broadcast::Receiver<Event>,
    accounts: &[i64],
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let mut started = HashSet::new();
    let mut done = HashSet::new();
    while done.len() < accounts.len() {
        let event = tokio::time::timeout_at(deadline, rx.recv()).await;
        let event = match event {
            Err(_) => anyhow::bail!(
                "runs did not end within three minutes: started {started:?}, ended {done:?}"
            ),
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                // Fell behind the bus: wait until nothing syncs instead.
                loop {
                    let status = ember.status().await?;
                    if !status
                        .accounts
                        .iter()
                        .any(|a| matches!(a.sync, SyncState::Syncing { .. }))
                    {
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(event)) => event,
        };
        let Event::AccountSync { account_id, sync } = event else {
            continue;
        };
        match sync {
            SyncState::Syncing { .. } => {
                started.insert(account_id);
            }
            resting if started.contains(&account_id) && done.insert(account_id) => {
                tally.runs += 1;
                match resting {
                    SyncState::Error { code, .. } => {
                        *tally.failed.entry(code.to_string()).or_default() += 1;
                    }
                    SyncState::Paused => {
                        *tally.failed.entry("cancelled".into()).or_default() += 1;
                    }
                    _ => tally.ok += 1,
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The fault mixes an hour may have: throttling, outages, broken answers,
/// slowness, each on some endpoints of each provider.
const FAULT_MIXES: &[&str] = &[
    "",
    "",
    "",
    "gmail.history.list:503@0.3;graph.delta:429@0.3;ado.wiql:500@0.3",
    "*:500@0.05",
    "gmail.messages.get:reset@0.1;graph.delta:truncate@0.1;ado.workitemsbatch:badjson@0.1",
    "*:latency,ms=20,jitter_ms=30",
    "gmail.messages.modify:503@0.3;gmail.batch:503@0.3;graph.message:503@0.3;graph.batch:429@0.3",
    "oauth.token:503@0.5",
    "gmail.send:503@0.5;graph.send:503@0.5",
    "gmail.history.list:403rate@0.2;graph.folders:503@0.2",
    "*:hang@0.005",
];

/// A message of a few lines from an outsider, for `provider`'s inbox.
fn arrival(provider: &str, n: u64) -> Value {
    let raw = format!(
        "From: Outsider {n} <outsider{n}@example.org>\r\nTo: me@example.org\r\n\
         Subject: Week mail {n}\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\n\
         Message-ID: <week-{n}@example.org>\r\n\r\nHello, this is message {n} of the week.\r\n"
    );
    let folder = if provider == "gmail" {
        "INBOX"
    } else {
        "inbox"
    };
    json!({"provider": provider, "folder": folder,
           "raw_base64": base64::engine::general_purpose::STANDARD.encode(raw)})
}

/// Ids of `provider`'s messages that neither side of the week touches:
/// the user's drafts on their way out and the mail they sent. A draft filed
/// or deleted elsewhere before it is sent comes back to the composer instead
/// of going out (send.rs,
/// `a_draft_filed_elsewhere_after_a_failed_send_is_never_marked_sent_unsent`),
/// and a sent message deleted or filed out of Sent is no longer there to be
/// counted: the week's "every message sent once" allows for neither.
async fn protected_ids(emu: &Emulator, provider: Provider) -> anyhow::Result<HashSet<String>> {
    let mailbox = crate::send::mailbox(emu, provider.arg()).await?;
    let ids = |list: &str, key: &str| -> Vec<String> {
        mailbox[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d[key].as_str().map(str::to_owned))
            .collect()
    };
    let mut protected: HashSet<String> = ids("drafts", "message_id").into_iter().collect();
    protected.extend(ids("sent", "id"));
    Ok(protected)
}

/// Ids of messages `provider` has now that the other device may change.
async fn provider_ids(emu: &Emulator, provider: Provider) -> anyhow::Result<Vec<String>> {
    let protected = protected_ids(emu, provider).await?;
    Ok(truth(emu, provider)
        .await?
        .into_iter()
        .map(|(id, _, _)| id)
        .filter(|id| !protected.contains(id))
        .collect())
}

/// What happens on the providers' side in one tick.
async fn provider_changes(emu: &Emulator, rng: &mut Lcg, n: &mut u64) -> anyhow::Result<()> {
    for (provider, name) in [(Provider::Gmail, "gmail"), (Provider::Graph, "graph")] {
        if rng.next_below(3) == 0 {
            *n += 1;
            control(emu, "mail", arrival(name, *n)).await?;
        }
        if rng.next_below(4) == 0 {
            let ids = provider_ids(emu, provider).await?;
            if ids.is_empty() {
                continue;
            }
            let pick = |rng: &mut Lcg| ids[rng.next_below(ids.len() as u64) as usize].clone();
            let body = match rng.next_below(4) {
                0 => json!({"provider": name, "mark_read": [pick(&mut *rng)]}),
                1 => json!({"provider": name, "mark_unread": [pick(&mut *rng)]}),
                // Deletions keep the mailbox near its size, as a user's does.
                2 => json!({"provider": name, "delete": [pick(&mut *rng), pick(&mut *rng)]}),
                _ => {
                    let folder = if name == "gmail" { "INBOX" } else { "archive" };
                    json!({"provider": name, "move": [{"id": pick(&mut *rng), "folder": folder}]})
                }
            };
            control(emu, "mutate", body).await?;
        }
    }
    if rng.next_below(6) == 0 {
        let id = 1 + rng.next_below(60);
        let body = if rng.next_below(5) == 0 {
            json!({"provider": "ado", "add_work_items": [{"type": "Task", "title": format!("Chore {n}")}]})
        } else {
            json!({"provider": "ado", "work_items": [{"id": id, "title": format!("Edited at {n}")}]})
        };
        control(emu, "mutate", body).await?;
    }
    Ok(())
}

/// The user's own doing in one tick: reading, archiving, filing, starring.
/// Drafts and sent mail are left alone, as in `protected_ids`.
async fn user_actions(
    ember: &Ember,
    emu: &Emulator,
    rng: &mut Lcg,
    (account, provider): (i64, Provider),
) -> anyhow::Result<u64> {
    if rng.next_below(3) != 0 {
        return Ok(0);
    }
    let protected = protected_ids(emu, provider).await?;
    let mut rows = ember.export_messages(Some(account), Some(200)).await?;
    rows.retain(|r| !protected.contains(&r.provider_id));
    if rows.is_empty() {
        return Ok(0);
    }
    let id = rows[rng.next_below(rows.len() as u64) as usize].id;
    match rng.next_below(5) {
        0 => ember.set_unread(&[id], false).await?,
        1 => ember.set_unread(&[id], true).await?,
        2 => ember.archive(&[id]).await?,
        3 => ember.set_starred(&[id], true).await?,
        _ => {
            let folders = ember.folders(Some(account)).await?;
            let target = folders
                .iter()
                .filter(|f| {
                    let n = f.name.to_lowercase();
                    n.contains("archive") || n.contains("inbox") || n == "work"
                })
                .nth(rng.next_below(2) as usize)
                .or_else(|| {
                    folders
                        .iter()
                        .find(|f| f.name.eq_ignore_ascii_case("inbox"))
                });
            match target {
                Some(folder) => match ember.move_to_folder(&[id], folder.id).await {
                    Ok(()) => {}
                    // A folder mail cannot be filed in is refused up front.
                    Err(e) if e.code() == ember::service::ErrorCode::InvalidInput => return Ok(0),
                    Err(e) => return Err(e.into()),
                },
                None => return Ok(0),
            }
        }
    }
    Ok(1)
}

/// A draft row as the week reports it: state, error, the provider's copy
/// and the sent message's id.
type DraftRow = (String, Option<String>, Option<String>, Option<String>);

/// Writes and sends one message from `from` to `to_address`; returns its
/// Message-ID.
async fn send_one(ember: &Ember, from: i64, to_address: &str, n: u64) -> anyhow::Result<String> {
    let draft = ember
        .compose(ComposeRequest {
            kind: ComposeKind::New,
            message_id: None,
            account_id: Some(from),
        })
        .await?;
    let draft = crate::send::write(ember, &draft, Some(to_address), &format!("note {n}")).await?;
    let queued = ember.send(draft.id).await?;
    anyhow::ensure!(queued.state == DraftState::Queued, "{queued:?}");
    Ok(draft.message_id_header)
}

/// The outbox's waits, moved five simulated minutes on.
async fn advance_outbox_clock(ember: &Ember) -> anyhow::Result<()> {
    sqlx::query("UPDATE outbox SET next_attempt_at = next_attempt_at - 300000")
        .execute(ember.store().pool())
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::print_stderr,
    reason = "the long form reports its figures for the issue's note"
)]
async fn a_simulated_week_ends_with_the_store_equal_to_the_truth_and_nothing_leaked(
) -> anyhow::Result<()> {
    let wall = Instant::now();
    let (ticks, first_outage, second_outage, off_for) = schedule();
    let emu = Emulator::start(ember_emulator::EmulatorConfig {
        world: ember_emulator::world::WorldConfig {
            seed: 7,
            messages: 150,
            work_items: 60,
        },
        no_quota: true,
        ..Default::default()
    })
    .await?;
    let net = Network::start(emu.addr()).await?;
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path());
    config.secrets = Some(Secrets::memory("tests use no keychain"));
    config.sync.run_timeout = Duration::from_secs(60);
    // Only the ticks start runs.
    config.sync.interval = Duration::from_secs(24 * 3600);
    config.model_dir = dir.path().join("no-model");
    let http = Http::with_timeout(
        RetryPolicy {
            initial: Duration::from_millis(10),
            max_interval: Duration::from_millis(100),
            max_elapsed: Duration::from_millis(500),
        },
        Duration::from_secs(2),
    )?;
    // The emulator's quotas are off, and so are the client's meters.
    let ember = Ember::open(config, sources::unmetered_over(http)).await?;
    let accounts = demo::setup(&ember, &net.url(), emu.control_token(), SyncWindow::All).await?;
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    let (gmail, graph) = (Provider::Gmail.account(), Provider::Graph.account());
    let mut settings = ember.settings().await?;
    settings.undo_send_seconds = 0;
    ember.update_settings(settings).await?;
    let addresses = control_get(&emu, "accounts").await?;
    let address = |p: &str| {
        addresses[p]["accounts"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (gmail_address, graph_address) = (address("gmail"), address("graph"));

    let mut rx = ember.events().subscribe();
    let mut tally = Tally::default();
    ember.start_sync().await?;
    wait_for_runs(&ember, &mut rx, &ids, &mut tally).await?;
    let warm = footprint(&ember, &net).await?;

    let mut rng = Lcg(0x5EED_2026);
    let (mut arrivals, mut actions, mut faults_set, mut outage_ticks) = (0_u64, 0_u64, 0_u64, 0);
    let mut sent: Vec<(Provider, String)> = Vec::new();
    let mut saw_unreachable = false;
    // Hours, as fractions of the run: the network down for three hours and
    // later for five, the sync switch off for two.
    let at = |f: f64| (ticks as f64 * f) as u64;
    let down = [
        (at(0.3), at(0.3) + first_outage),
        (at(0.7), at(0.7) + second_outage),
    ];
    let off = (at(0.5), at(0.5) + off_for);
    for tick in 0..ticks {
        if tick % 12 == 0 {
            let mix = FAULT_MIXES[rng.next_below(FAULT_MIXES.len() as u64) as usize];
            control(&emu, "faults", json!({ "spec": mix })).await?;
            faults_set += u64::from(!mix.is_empty());
        }
        let is_down = down.iter().any(|(from, to)| (*from..*to).contains(&tick));
        net.set_down(is_down);
        outage_ticks += u64::from(is_down);
        provider_changes(&emu, &mut rng, &mut arrivals).await?;
        for account in [(gmail, Provider::Gmail), (graph, Provider::Graph)] {
            actions += user_actions(&ember, &emu, &mut rng, account).await?;
        }
        // A message each way about every six hours (every hour in the
        // short form).
        if tick % (ticks / 7).clamp(12, 72) == 6 {
            let id = send_one(&ember, gmail, &graph_address, tick).await?;
            sent.push((Provider::Gmail, id));
            let id = send_one(&ember, graph, &gmail_address, tick).await?;
            sent.push((Provider::Graph, id));
        }
        advance_outbox_clock(&ember).await?;
        if tick == off.0 {
            ember.set_sync_enabled(false).await?;
        }
        if (off.0..off.1).contains(&tick) {
            tally.skipped_ticks += 1;
            continue;
        }
        if tick == off.1 {
            // Switching on starts a run at once, as the tray's switch does.
            ember.set_sync_enabled(true).await?;
        } else {
            ember.sync_now(None)?;
        }
        wait_for_runs(&ember, &mut rx, &ids, &mut tally).await?;
        if is_down {
            saw_unreachable |= tally.failed.contains_key("unreachable");
        }
    }

    // The week is over: faults cleared, the network up, a few quiet ticks
    // until the outbox is empty.
    control(&emu, "faults", json!({"spec": ""})).await?;
    net.set_down(false);
    for _ in 0..20 {
        advance_outbox_clock(&ember).await?;
        ember.sync_now(None)?;
        wait_for_runs(&ember, &mut rx, &ids, &mut tally).await?;
        let mut pending = 0;
        for id in &ids {
            pending += ember.pending_actions(*id).await?;
        }
        if pending == 0 {
            break;
        }
    }
    // One more, so that what the last sends delivered is read too.
    ember.sync_now(None)?;
    wait_for_runs(&ember, &mut rx, &ids, &mut tally).await?;

    for provider in [Provider::Gmail, Provider::Graph, Provider::Ado] {
        let (ours, theirs) = (local(&ember, provider).await?, truth(&emu, provider).await?);
        let missing: Vec<_> = theirs.difference(&ours).take(3).collect();
        let extra: Vec<_> = ours.difference(&theirs).take(3).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{provider:?}: the store differs from the truth: {} missing (e.g. {missing:?}), {} extra (e.g. {extra:?})",
            theirs.difference(&ours).count(),
            ours.difference(&theirs).count()
        );
    }
    for id in &ids {
        assert_eq!(
            ember.pending_actions(*id).await?,
            0,
            "account {id}'s outbox"
        );
    }
    for (provider, message_id) in &sent {
        let name = if matches!(provider, Provider::Gmail) {
            "gmail"
        } else {
            "graph"
        };
        let copies = crate::send::sent_with(&emu, name, message_id).await?;
        let left_here: Vec<DraftRow> = sqlx::query_as(
            "SELECT state, error, provider_message_id, sent_provider_id FROM drafts
                  WHERE message_id_header = ?",
        )
        .bind(message_id)
        .fetch_all(ember.store().pool())
        .await?;
        assert_eq!(
            copies.len(),
            1,
            "{message_id} sent {} times; its draft here: {left_here:?}",
            copies.len()
        );
    }
    assert!(
        ember.drafts(None).await?.is_empty(),
        "every message the user sent left"
    );
    assert!(
        saw_unreachable,
        "the outage was seen as one: {:?}",
        tally.failed
    );
    assert!(tally.ok > tally.runs / 2, "most runs succeed: {tally:?}");

    let end = footprint(&ember, &net).await?;
    let stats = control_get(&emu, "stats").await?;
    eprintln!(
        "simulated week: {ticks} ticks ({} days), {} runs ({} ok, failed {:?}), {} ticks with sync off, \
         {outage_ticks} ticks with the network down, {faults_set} faulty hours, {arrivals} arrivals, \
         {actions} user actions, {} messages sent; connections {} seen, {} open; \
         warm {warm:?}; end {end:?}; wall {:?}; emulator stats {}",
        ticks as f64 / DAY as f64,
        tally.runs,
        tally.ok,
        tally.failed,
        tally.skipped_ticks,
        sent.len(),
        net.accepted.load(Ordering::SeqCst),
        end.open_connections,
        wall.elapsed(),
        stats["requests"]
    );
    // Nothing grows beyond what the mail explains: the database by at most
    // what its messages take each (as measured at the start), the process
    // by a bounded amount; tasks and descriptors come back to where they
    // were, give or take the connections the HTTP client keeps open (each
    // open connection is a client socket, the proxy's two and the
    // emulator's one; a task for each end).
    let per_message = warm.db_bytes / u64::try_from(warm.messages.max(1)).unwrap_or(1);
    let explained = per_message * u64::try_from(end.messages).unwrap_or(0) * 3 / 2 + (1 << 20);
    assert!(
        end.db_bytes <= explained,
        "the database holds {} bytes for {} messages; at {per_message} bytes each, {explained} are explained",
        end.db_bytes,
        end.messages
    );
    let conn_slack = |f: &Footprint| f.open_connections as usize;
    assert!(
        end.tasks <= warm.tasks + 2 * conn_slack(&end) + 4,
        "tasks: {} after, {} before ({} connections open)",
        end.tasks,
        warm.tasks,
        end.open_connections
    );
    assert!(
        end.fds <= warm.fds + 4 * conn_slack(&end) + 8,
        "file descriptors: {} after, {} before ({} connections open)",
        end.fds,
        warm.fds,
        end.open_connections
    );
    assert!(
        end.open_connections <= 32,
        "{} connections still open",
        end.open_connections
    );
    assert!(
        end.rss_kib <= warm.rss_kib + 200 * 1024,
        "memory grew from {} KiB to {} KiB",
        warm.rss_kib,
        end.rss_kib
    );
    let shutdown = ember.shutdown(Duration::from_secs(10)).await;
    assert!(shutdown.clean, "{shutdown:?}");
    net.stop.cancel();
    emu.stop().await;
    Ok(())
}
