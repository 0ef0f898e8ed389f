//! `ember bench sync`: a first Gmail sync of N messages against an
//! in-process emulator, end to end (HTTP, parsing, writes), next to the write
//! ceiling measured in the same run: the same rows inserted through one
//! prepared statement in one transaction, the fastest this machine can store
//! them. With `--quota`, Gmail's per-user quota applies and the figure to
//! compare is the quota ceiling instead.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::Row;

use crate::auth::Secrets;
use crate::demo::{self, SyncWindow};
use crate::emulator::world::WorldConfig;
use crate::emulator::{Emulator, EmulatorConfig};
use crate::model::ProviderKind;
use crate::providers::gmail::GmailSource;
use crate::providers::limits::GMAIL_UNITS_PER_SECOND;
use crate::providers::{AccountLimits, Http};
use crate::store::Store;
use crate::sync::SyncSources;
use crate::{Config, Ember};

/// Gmail's documented per-user quota, units a second.
const GMAIL_QUOTA_UNITS_PER_SECOND: f64 = 250.0;
/// Units one message costs in a first sync (one `messages.get`).
const UNITS_PER_MESSAGE: f64 = 5.0;

/// What the benchmark prints.
#[derive(Debug, Clone, Serialize)]
pub struct SyncBench {
    /// Messages stored by the sync.
    pub messages: usize,
    /// Whether Gmail's quota was enforced.
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
    /// Messages a second through one prepared statement in one transaction.
    pub ceiling_messages_per_s: f64,
    /// `messages_per_s / ceiling_messages_per_s`.
    pub fraction_of_write_ceiling: f64,
    /// With the quota on: messages a second Gmail's quota allows (250 units
    /// a second at 5 units a message).
    pub quota_ceiling_messages_per_s: Option<f64>,
    /// With the quota on: `messages_per_s / quota_ceiling_messages_per_s`.
    pub fraction_of_quota_ceiling: Option<f64>,
    /// Ember's own limiter, units a second.
    pub client_units_per_s: u32,
}

/// Runs the benchmark.
pub async fn run(messages: usize, quota: bool) -> anyhow::Result<SyncBench> {
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
    config.secrets = Some(Secrets::memory("benchmark"));
    config.sync.run_timeout = Duration::from_secs(24 * 3600);
    let limits: fn() -> AccountLimits = if quota {
        AccountLimits::gmail
    } else {
        AccountLimits::unmetered_gmail
    };
    let sources = SyncSources::new().with(
        ProviderKind::Gmail,
        std::sync::Arc::new(GmailSource::with_limits(Http::new(), limits)),
    );
    let ember = Ember::open(config, sources).await?;
    let accounts = demo::setup(&ember, &emu.base_url(), SyncWindow::All).await?;
    let gmail = accounts
        .first()
        .ok_or_else(|| anyhow::anyhow!("no Gmail demo account"))?
        .id;

    let started = Instant::now();
    let report = ember.sync_once(gmail).await?;
    let seconds = started.elapsed().as_secs_f64();
    let stats = emu.shared().stats();
    let http_429 = stats
        .statuses
        .values()
        .filter_map(|s| s.get(&429))
        .sum::<u64>();
    let requests = stats.requests.values().sum::<u64>();
    let ceiling = write_ceiling(ember.store(), &dir).await?;
    ember.shutdown(Duration::from_secs(10)).await;
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);

    // The rate of what was actually stored, not of what was asked for.
    let stored = usize::try_from(report.stored).unwrap_or(usize::MAX);
    let rate = stored as f64 / seconds;
    let quota_ceiling = quota.then_some(GMAIL_QUOTA_UNITS_PER_SECOND / UNITS_PER_MESSAGE);
    Ok(SyncBench {
        messages: stored,
        quota,
        seconds,
        messages_per_s: rate,
        http_429,
        requests,
        retries: report.retries,
        ceiling_messages_per_s: ceiling,
        fraction_of_write_ceiling: rate / ceiling,
        quota_ceiling_messages_per_s: quota_ceiling,
        fraction_of_quota_ceiling: quota_ceiling.map(|q| rate / q),
        client_units_per_s: GMAIL_UNITS_PER_SECOND,
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
async fn write_ceiling(synced: &Store, dir: &std::path::Path) -> anyhow::Result<f64> {
    let rows = sqlx::query(
        "SELECT m.provider_id, m.subject, m.from_name, m.from_address, m.to_addresses,
                m.cc_addresses, m.headers, m.date, m.snippet, m.unread, m.size,
                b.text, b.html, b.raw_size
           FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id",
    )
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
