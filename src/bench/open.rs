//! `ember bench open`: how long the reading pane waits for a large message.
//!
//! One message with `html_mb` MB of newsletter-shaped HTML (tables, styled
//! cells, links, remote images) goes through the path a synced message
//! takes (MIME parse, sanitising for storage with its bound, a store
//! write), then is opened through [`Ember::render_message`], the call the
//! reading pane makes: once (nothing kept yet) and `samples` times again.
//! Beside them, `sanitise_each_open` times what every open cost before
//! rendered documents were kept: reading the body and running the
//! sanitiser over it.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::percentile_ms;
use crate::store::{NewMessage, NewMessageBody};
use crate::sync::SyncSources;
use crate::{Config, Ember};

/// The result, printed as one JSON object.
#[derive(Debug, Serialize)]
pub struct OpenBench {
    /// HTML in the raw message.
    pub raw_html_bytes: usize,
    /// HTML stored after the bound and sanitising.
    pub stored_html_bytes: usize,
    /// The document handed to the reading pane.
    pub document_bytes: usize,
    /// Parsing and sanitising the raw message for storage.
    pub parse_ms: f64,
    /// The first open (rendered).
    pub first_open_ms: f64,
    /// Opening it again.
    pub reopen_p50_ms: f64,
    /// Opening it again.
    pub reopen_p99_ms: f64,
    /// Reading the body and rendering it, as every open did before.
    pub sanitise_each_open_p50_ms: f64,
    /// Timed runs per figure.
    pub samples: usize,
}

/// About `bytes` of HTML: a newsletter table, about 400 bytes a row.
fn newsletter(bytes: usize) -> String {
    let mut html = String::with_capacity(bytes + 1024);
    html.push_str(
        "<html><head><style>.item{color:#333;font-family:Arial}a{color:#06c}</style></head>\
         <body><table width=\"600\" cellpadding=\"0\" cellspacing=\"0\">",
    );
    let mut i = 0u64;
    while html.len() < bytes {
        html.push_str(&format!(
            "<tr><td class=\"item\" style=\"padding:8px 12px;border-bottom:1px solid #eee\">\
             <img src=\"https://img.example.com/p/{i}.png\" width=\"48\" height=\"48\" alt=\"\">\
             <a href=\"https://shop.example.com/item/{i}?utm_source=mail\">Item {i}</a> \
             <span style=\"font-size:13px\">in stock, ships tomorrow, &amp; more</span></td></tr>"
        ));
        i += 1;
    }
    html.push_str("</table></body></html>");
    html
}

/// Runs the benchmark with `html_mb` MB of HTML and `samples` reopens.
pub async fn run(html_mb: usize, samples: usize) -> anyhow::Result<OpenBench> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path());
    config.secrets = Some(crate::auth::Secrets::memory("benchmarks keep no sign-ins"));
    config.model_dir = dir.path().join("no-model");
    let ember = Ember::open(config, SyncSources::new()).await?;
    let account = super::bench_account(ember.store()).await?;

    let html = newsletter(html_mb.max(1) * 1024 * 1024);
    let raw_html_bytes = html.len();
    let raw = format!(
        "From: Shop <news@shop.example.com>\r\nTo: bench@example.org\r\nSubject: Big\r\n\
         Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <big@bench>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n{html}"
    );
    drop(html);
    let started = Instant::now();
    let parsed = crate::cpu::run(move || crate::providers::mime::parse(raw.as_bytes())).await??;
    let parse_ms = started.elapsed().as_secs_f64() * 1000.0;
    let stored_html_bytes = parsed.html.as_ref().map_or(0, String::len);
    let mut tx = ember.store().begin_write().await?;
    let id = crate::store::upsert_message(
        &mut tx,
        &NewMessage {
            account_id: account.id,
            provider_id: "big".into(),
            subject: parsed.subject.clone(),
            from: parsed.from.clone(),
            date: 1_748_858_400_000,
            ..NewMessage::default()
        },
    )
    .await?;
    crate::store::put_body(
        &mut tx,
        id,
        &NewMessageBody {
            text: parsed.text.clone(),
            html: parsed.html.clone(),
            raw_size: 0,
            attachments: Vec::new(),
        },
    )
    .await?;
    tx.commit().await?;
    drop(parsed);

    let started = Instant::now();
    let document = ember.render_message(id).await?;
    let first_open_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut reopens: Vec<Duration> = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        ember.render_message(id).await?;
        reopens.push(started.elapsed());
    }
    // The path every open took before: the body read, then the sanitiser.
    let mut uncached: Vec<Duration> = Vec::new();
    for _ in 0..samples.clamp(1, 5) {
        let started = Instant::now();
        let html = ember
            .store()
            .message_body(id)
            .await?
            .html
            .unwrap_or_default();
        crate::cpu::run(move || crate::render::render(&html, false)).await?;
        uncached.push(started.elapsed());
    }
    ember.shutdown(Duration::from_secs(5)).await;
    Ok(OpenBench {
        raw_html_bytes,
        stored_html_bytes,
        document_bytes: document.html.len(),
        parse_ms,
        first_open_ms,
        reopen_p50_ms: percentile_ms(&mut reopens, 50.0),
        reopen_p99_ms: percentile_ms(&mut reopens, 99.0),
        sanitise_each_open_p50_ms: percentile_ms(&mut uncached, 50.0),
        samples,
    })
}
