//! `ember bench responsiveness`: how quickly the window's commands answer
//! while the categoriser works through a large backlog.
//!
//! A temporary store is filled with N synthetic, uncategorised messages
//! (the same generator as `ember bench query`), then the real service opens
//! it: its categoriser starts the start-up sweep on its Rayon pool at once.
//! While that runs, the calls the window makes are timed through the same
//! [`Ember`] methods its commands use: the unified inbox's first page, one
//! message, and the status bar's status. They run back to back with a short
//! pause (a user clicking, not a flood), until nothing is left to categorise.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::percentile_ms;
use super::query::{build, tempfile_dir};
use crate::model::{MailView, MessageQuery};
use crate::store::Store;
use crate::{Config, Ember};

/// The pause between two commands.
pub const PAUSE: Duration = Duration::from_millis(20);

/// The result, printed as one JSON object.
#[derive(Debug, Serialize)]
pub struct ResponsivenessBench {
    /// Messages categorised in the background.
    pub messages: usize,
    /// Threads of the categoriser's pool.
    pub threads: usize,
    /// From opening the service to nothing pending (model loading included).
    pub categorise_seconds: f64,
    /// Messages over that time.
    pub emails_per_s: f64,
    /// Commands timed while categorisation ran.
    pub commands: usize,
    /// Over all commands.
    pub p50_ms: f64,
    /// Over all commands.
    pub p99_ms: f64,
    /// The slowest command.
    pub max_ms: f64,
    /// `messages` (inbox, first page of 50).
    pub first_page_p99_ms: f64,
    /// `message` (one message with its body).
    pub message_p99_ms: f64,
    /// `status` (accounts, counts, the categoriser's backlog).
    pub status_p99_ms: f64,
    /// Seconds spent building the store.
    pub build_seconds: f64,
}

/// Runs the benchmark over `n` messages with a pool of `threads`.
pub async fn run(
    n: usize,
    threads: Option<usize>,
    model_dir: &std::path::Path,
) -> anyhow::Result<ResponsivenessBench> {
    let temp = tempfile_dir()?;
    let mut config = Config::new(&temp.0);
    config.model_dir = model_dir.to_owned();
    config.secrets = Some(crate::auth::Secrets::memory("benchmark"));
    if let Some(t) = threads {
        config.classify_threads = t.max(1);
    }
    let started = Instant::now();
    {
        let store = Store::open(&config.database_path()).await?;
        build(&store, n).await?;
        // The generator files mail under categories: start uncategorised.
        sqlx::query("UPDATE messages SET category = NULL, category_source = NULL")
            .execute(store.pool())
            .await?;
        store.close().await;
    }
    let build_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let ember = Ember::open(config.clone(), crate::sync::SyncSources::new()).await?;
    let inbox = MessageQuery {
        view: MailView::Unified,
        before: None,
        limit: 50,
        conversations: false,
    };
    let (mut first_page, mut message, mut status) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = Duration::from_secs(3_600);
    let mut round = 0usize;
    loop {
        let t = Instant::now();
        let page = ember.messages(&inbox).await?;
        first_page.push(t.elapsed());
        tokio::time::sleep(PAUSE).await;

        if let Some(m) = page.messages.get(round % page.messages.len().max(1)) {
            let t = Instant::now();
            std::hint::black_box(ember.message(m.id).await?);
            message.push(t.elapsed());
            tokio::time::sleep(PAUSE).await;
        }

        let t = Instant::now();
        let s = ember.status().await?;
        status.push(t.elapsed());
        if s.classifier.pending == 0 && s.classifier.available {
            break;
        }
        anyhow::ensure!(
            s.classifier.available || s.classifier.message == "categoriser starting",
            "the categoriser cannot run: {}",
            s.classifier.message
        );
        anyhow::ensure!(
            started.elapsed() < deadline,
            "still {} to categorise after an hour",
            s.classifier.pending
        );
        tokio::time::sleep(PAUSE).await;
        round += 1;
    }
    let categorise_seconds = started.elapsed().as_secs_f64();
    let threads = config.classify_threads;
    ember.shutdown(Duration::from_secs(10)).await;
    let mut all: Vec<Duration> = first_page
        .iter()
        .chain(&message)
        .chain(&status)
        .copied()
        .collect();
    Ok(ResponsivenessBench {
        messages: n,
        threads,
        categorise_seconds,
        emails_per_s: n as f64 / categorise_seconds,
        commands: all.len(),
        p50_ms: percentile_ms(&mut all, 50.0),
        p99_ms: percentile_ms(&mut all, 99.0),
        max_ms: percentile_ms(&mut all, 100.0),
        first_page_p99_ms: percentile_ms(&mut first_page, 99.0),
        message_p99_ms: percentile_ms(&mut message, 99.0),
        status_p99_ms: percentile_ms(&mut status, 99.0),
        build_seconds,
    })
}
