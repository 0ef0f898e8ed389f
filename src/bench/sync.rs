//! `ember bench sync`: a first sync of N messages of one mail provider
//! (Gmail or Microsoft Graph) against an in-process emulator, end to end
//! (HTTP, parsing, sanitising, writes, and the categoriser catching up
//! behind), next to the write ceiling measured in the same run: the same
//! rows inserted through one prepared statement in one transaction, the
//! fastest this machine can store them. With `--quota`, the provider's
//! limits apply in the emulator and in Ember's own limiter, and the figure
//! to compare is the quota ceiling instead.

use std::time::{Duration, Instant};

use ember_emulator::world::WorldConfig;
use ember_emulator::{Emulator, EmulatorConfig};
use serde::Serialize;
use sqlx::Row;

use crate::auth::Secrets;
use crate::model::{ProviderKind, SyncWindow};
use crate::providers::graph::client::DELTA_PAGE;
use crate::providers::limits::{GMAIL_UNITS_PER_SECOND, GRAPH_REQUESTS_PER_SECOND};
use crate::service::{demo, sources};
use crate::store::Store;
use crate::{Config, Ember};

/// Gmail's documented per-user quota, units a second.
const GMAIL_QUOTA_UNITS_PER_SECOND: f64 = 250.0;
/// Units one message costs in a first Gmail sync (one `messages.get`).
const GMAIL_UNITS_PER_MESSAGE: f64 = 5.0;
/// Graph's documented budget: 10,000 requests per ten minutes per mailbox.
const GRAPH_REQUESTS_PER_S: f64 = 10_000.0 / 600.0;

/// What the benchmark prints.
#[derive(Debug, Clone, Serialize)]
pub struct SyncBench {
    /// `gmail` or `graph`.
    pub provider: String,
    /// Messages stored by the sync.
    pub messages: usize,
    /// Whether the provider's quota was enforced.
    pub quota: bool,
    /// Seconds for the sync.
    pub seconds: f64,
    /// Messages a second, end to end.
    pub messages_per_s: f64,
    /// 429 answers received.
    pub http_429: u64,
    /// Requests the emulator answered.
    pub requests: u64,
    /// Retries the client made.
    pub retries: u64,
    /// The most requests of the account the emulator saw at once.
    pub max_concurrency: u64,
    /// Messages a second through one prepared statement in one transaction.
    pub ceiling_messages_per_s: f64,
    /// `messages_per_s / ceiling_messages_per_s`.
    pub fraction_of_write_ceiling: f64,
    /// With the quota on: messages a second the provider's quota allows
    /// (Gmail: 250 units a second at 5 units a message; Graph: 10,000
    /// requests per ten minutes at one delta page of 100 messages each).
    pub quota_ceiling_messages_per_s: Option<f64>,
    /// With the quota on: `messages_per_s / quota_ceiling_messages_per_s`.
    pub fraction_of_quota_ceiling: Option<f64>,
    /// Ember's own limiter: units (Gmail) or requests (Graph) a second.
    pub client_rate_per_s: u32,
    /// Messages the categoriser had categorised when the sync finished.
    pub categorised_at_end: i64,
    /// Whether the categoriser could run (the model is present).
    pub categoriser_available: bool,
}

/// What `ember bench sync --provider ado` prints.
#[derive(Debug, Clone, Serialize)]
pub struct WorkItemSyncBench {
    /// `ado`.
    pub provider: String,
    /// Work items in the emulated organisation.
    pub world_items: usize,
    /// Work items the first sync stored (those the user's queries select).
    pub items: usize,
    /// Seconds for the first sync.
    pub seconds: f64,
    /// Items a second, end to end.
    pub items_per_s: f64,
    /// Requests the first sync made.
    pub requests: u64,
    /// Requests an incremental run with nothing changed made.
    pub idle_requests: u64,
    /// Queries that decide what is synced.
    pub queries: usize,
    /// Items a second through one prepared statement in one transaction.
    pub ceiling_items_per_s: f64,
    /// `items_per_s / ceiling_items_per_s`.
    pub fraction_of_write_ceiling: f64,
}

/// What `ember bench sync` prints, by provider.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Bench {
    /// Gmail or Microsoft 365.
    Mail(SyncBench),
    /// Azure DevOps.
    WorkItems(WorkItemSyncBench),
}

/// Runs the benchmark for `provider`: `count` messages, or work items.
pub async fn run(provider: ProviderKind, count: usize, quota: bool) -> anyhow::Result<Bench> {
    Ok(match provider {
        ProviderKind::Ado => Bench::WorkItems(run_work_items(count, quota).await?),
        _ => Bench::Mail(run_mail(provider, count, quota).await?),
    })
}

async fn run_work_items(items: usize, quota: bool) -> anyhow::Result<WorkItemSyncBench> {
    let emu = Emulator::start(EmulatorConfig {
        world: WorldConfig {
            seed: 11,
            messages: 10,
            work_items: items,
        },
        no_quota: !quota,
        ..EmulatorConfig::default()
    })
    .await?;
    let dir = tempfile_dir()?;
    let mut config = Config::new(&dir);
    config.secrets = Some(Secrets::memory("benchmark"));
    config.sync.run_timeout = Duration::from_secs(24 * 3600);
    let sources = if quota {
        sources::standard()?
    } else {
        sources::unmetered()?
    };
    let ember = Ember::open(config, sources).await?;
    let accounts = demo::setup_in_process(&ember, &emu, SyncWindow::Days(1)).await?;
    let account = accounts
        .iter()
        .find(|a| a.provider == ProviderKind::Ado)
        .ok_or_else(|| anyhow::anyhow!("no Azure DevOps demo account"))?
        .id;
    let requests = |emu: &Emulator| {
        emu.shared()
            .stats()
            .requests
            .iter()
            .filter(|(k, _)| k.starts_with("ado."))
            .map(|(_, v)| *v)
            .sum::<u64>()
    };
    let before = requests(&emu);
    let started = Instant::now();
    let report = ember.sync_once(account).await?;
    let seconds = started.elapsed().as_secs_f64();
    let first = requests(&emu) - before;
    ember.sync_once(account).await?;
    let idle = requests(&emu) - before - first;
    let stored = usize::try_from(report.stored).unwrap_or(usize::MAX);
    let ceiling = work_item_ceiling(ember.store(), &dir).await?;
    ember.shutdown(Duration::from_secs(10)).await;
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    let rate = stored as f64 / seconds;
    Ok(WorkItemSyncBench {
        provider: "ado".into(),
        world_items: items,
        items: stored,
        seconds,
        items_per_s: rate,
        requests: first,
        idle_requests: idle,
        queries: crate::providers::ado::BUILTIN.len(),
        ceiling_items_per_s: ceiling,
        fraction_of_write_ceiling: rate / ceiling,
    })
}

/// Re-inserts the synced work items into a fresh database through one
/// prepared statement in one transaction; returns items a second.
async fn work_item_ceiling(synced: &Store, dir: &std::path::Path) -> anyhow::Result<f64> {
    let rows = sqlx::query(
        "SELECT organization, project, item_id, rev, item_type, title, state, assigned_to,
                changed_date, url, description, description_text, fields FROM work_items",
    )
    .fetch_all(synced.pool())
    .await?;
    let target = Store::open(&dir.join("ceiling-items.sqlite3")).await?;
    sqlx::query(
        "INSERT INTO accounts (provider, address, display_name, created_at) VALUES ('ado', 'c', 'c', 0)",
    )
    .execute(target.pool())
    .await?;
    let started = Instant::now();
    let mut tx = target.begin_write().await?;
    for r in &rows {
        sqlx::query(
            "INSERT INTO work_items (account_id, organization, project, item_id, rev, item_type,
                 title, state, assigned_to, changed_date, url, description, description_text, fields)
             VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.try_get::<String, _>("organization")?)
        .bind(r.try_get::<String, _>("project")?)
        .bind(r.try_get::<i64, _>("item_id")?)
        .bind(r.try_get::<i64, _>("rev")?)
        .bind(r.try_get::<String, _>("item_type")?)
        .bind(r.try_get::<String, _>("title")?)
        .bind(r.try_get::<String, _>("state")?)
        .bind(r.try_get::<Option<String>, _>("assigned_to")?)
        .bind(r.try_get::<i64, _>("changed_date")?)
        .bind(r.try_get::<String, _>("url")?)
        .bind(r.try_get::<Option<String>, _>("description")?)
        .bind(r.try_get::<Option<String>, _>("description_text")?)
        .bind(r.try_get::<String, _>("fields")?)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let secs = started.elapsed().as_secs_f64();
    target.close().await;
    Ok(rows.len() as f64 / secs.max(1e-9))
}

/// A first sync of a mail provider.
async fn run_mail(
    provider: ProviderKind,
    messages: usize,
    quota: bool,
) -> anyhow::Result<SyncBench> {
    anyhow::ensure!(
        provider.is_mail(),
        "the sync benchmark measures a mail provider"
    );
    let emu = Emulator::start(EmulatorConfig {
        world: WorldConfig {
            seed: 11,
            messages,
            work_items: 10,
        },
        no_quota: !quota,
        ..EmulatorConfig::default()
    })
    .await?;
    let dir = tempfile_dir()?;
    let mut config = Config::new(&dir);
    if let Some(models) = std::env::var_os("EMBER_MODEL_DIR") {
        config.model_dir = models.into();
    }
    config.secrets = Some(Secrets::memory("benchmark"));
    config.sync.run_timeout = Duration::from_secs(24 * 3600);
    let sources = if quota {
        sources::standard()?
    } else {
        sources::unmetered()?
    };
    let ember = Ember::open(config, sources).await?;
    let accounts = demo::setup_in_process(&ember, &emu, SyncWindow::All).await?;
    let account = accounts
        .iter()
        .find(|a| a.provider == provider)
        .ok_or_else(|| anyhow::anyhow!("no {} demo account", provider.as_str()))?;
    let address = format!("{}:{}", provider.as_str(), account.address);
    // What the other demo accounts' sign-in cost is not the sync's.
    let before = emu.shared().stats();

    let started = Instant::now();
    let report = ember.sync_once(account.id).await?;
    let seconds = started.elapsed().as_secs_f64();
    let status = ember.status().await?;
    let categorised: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE account_id = ? AND category IS NOT NULL",
    )
    .bind(account.id)
    .fetch_one(ember.store().pool())
    .await?;
    let stats = emu.shared().stats();
    let count = |s: &ember_emulator::state::Stats| -> (u64, u64) {
        (
            s.statuses
                .values()
                .filter_map(|by| by.get(&429))
                .sum::<u64>(),
            s.requests.values().sum::<u64>(),
        )
    };
    let (http_429, requests) = count(&stats);
    let (before_429, before_requests) = count(&before);
    let max_concurrency = stats
        .max_concurrency
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(&address))
        .map(|(_, v)| u64::try_from(*v).unwrap_or(u64::MAX))
        .max()
        .unwrap_or(0);
    let ceiling = write_ceiling(ember.store(), account.id, &dir).await?;
    ember.shutdown(Duration::from_secs(10)).await;
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);

    // The rate of what was actually stored, not of what was asked for.
    let stored = usize::try_from(report.stored).unwrap_or(usize::MAX);
    let rate = stored as f64 / seconds;
    let quota_ceiling = quota.then_some(match provider {
        ProviderKind::Graph => GRAPH_REQUESTS_PER_S * f64::from(DELTA_PAGE),
        _ => GMAIL_QUOTA_UNITS_PER_SECOND / GMAIL_UNITS_PER_MESSAGE,
    });
    Ok(SyncBench {
        provider: provider.as_str().to_owned(),
        messages: stored,
        quota,
        seconds,
        messages_per_s: rate,
        http_429: http_429 - before_429,
        requests: requests - before_requests,
        retries: report.retries,
        max_concurrency,
        ceiling_messages_per_s: ceiling,
        fraction_of_write_ceiling: rate / ceiling,
        quota_ceiling_messages_per_s: quota_ceiling,
        fraction_of_quota_ceiling: quota_ceiling.map(|q| rate / q),
        client_rate_per_s: match provider {
            ProviderKind::Graph => GRAPH_REQUESTS_PER_SECOND,
            _ => GMAIL_UNITS_PER_SECOND,
        },
        categorised_at_end: categorised,
        categoriser_available: status.classifier.available,
    })
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "ember-bench-{}-{}",
        std::process::id(),
        crate::store::now_ms()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Re-inserts the synced messages and bodies into a fresh database through
/// one prepared statement each, in one transaction; returns messages a second.
async fn write_ceiling(
    synced: &Store,
    account: crate::model::AccountId,
    dir: &std::path::Path,
) -> anyhow::Result<f64> {
    let rows = sqlx::query(
        "SELECT m.provider_id, m.subject, m.from_name, m.from_address, m.to_addresses,
                m.cc_addresses, m.headers, m.date, m.snippet, m.unread, m.size,
                b.text, b.html, b.raw_size
           FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id
          WHERE m.account_id = ?",
    )
    .bind(account)
    .fetch_all(synced.pool())
    .await?;
    let target = Store::open(&dir.join("ceiling.sqlite3")).await?;
    sqlx::query(
        "INSERT INTO accounts (provider, address, display_name, created_at) VALUES ('gmail', 'c', 'c', 0)",
    )
    .execute(target.pool())
    .await?;
    let started = Instant::now();
    let mut tx = target.begin_write().await?;
    for r in &rows {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (account_id, provider_id, subject, from_name, from_address,
                 to_addresses, cc_addresses, headers, date, snippet, unread, size)
             VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(r.try_get::<String, _>("provider_id")?)
        .bind(r.try_get::<String, _>("subject")?)
        .bind(r.try_get::<Option<String>, _>("from_name")?)
        .bind(r.try_get::<String, _>("from_address")?)
        .bind(r.try_get::<String, _>("to_addresses")?)
        .bind(r.try_get::<String, _>("cc_addresses")?)
        .bind(r.try_get::<String, _>("headers")?)
        .bind(r.try_get::<i64, _>("date")?)
        .bind(r.try_get::<String, _>("snippet")?)
        .bind(r.try_get::<bool, _>("unread")?)
        .bind(r.try_get::<i64, _>("size")?)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO message_bodies (message_id, text, html, raw_size, fetched_at) VALUES (?, ?, ?, ?, 0)",
        )
        .bind(id)
        .bind(r.try_get::<Option<String>, _>("text")?)
        .bind(r.try_get::<Option<String>, _>("html")?)
        .bind(r.try_get::<Option<i64>, _>("raw_size")?.unwrap_or(0))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let secs = started.elapsed().as_secs_f64();
    target.close().await;
    Ok(rows.len() as f64 / secs)
}
