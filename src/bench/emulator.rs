//! `ember bench emulator`: how fast the emulated Gmail answers the requests
//! a sync makes most (a page of messages.list, a messages.get), measured
//! over loopback HTTP with quotas off, one request at a time.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::percentile_ms;
use ember_emulator::world::WorldConfig;
use ember_emulator::{Emulator, EmulatorConfig};

/// What the benchmark prints.
#[derive(Debug, Clone, Serialize)]
pub struct EmulatorBench {
    /// Messages in the mailbox.
    pub messages: usize,
    /// Seconds to build the world.
    pub build_seconds: f64,
    /// Requests timed per figure.
    pub samples: usize,
    /// messages.list, first page of 100.
    pub list_first_page_p50_ms: f64,
    /// messages.list, first page of 100.
    pub list_first_page_p99_ms: f64,
    /// messages.list, a page deep in the mailbox.
    pub list_deep_page_p99_ms: f64,
    /// messages.get, format=full.
    pub get_full_p50_ms: f64,
    /// messages.get, format=full.
    pub get_full_p99_ms: f64,
    /// messages.get, format=raw.
    pub get_raw_p50_ms: f64,
    /// messages.get, format=raw.
    pub get_raw_p99_ms: f64,
}

/// Runs the benchmark on a mailbox of `messages`, timing `samples` requests
/// of each kind.
pub async fn run(messages: usize, samples: usize) -> anyhow::Result<EmulatorBench> {
    let started = Instant::now();
    let emu = Emulator::start(EmulatorConfig {
        world: WorldConfig {
            seed: 7,
            messages,
            work_items: 10,
        },
        no_quota: true,
        ..EmulatorConfig::default()
    })
    .await?;
    let build_seconds = started.elapsed().as_secs_f64();
    let base = emu.base_url();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let token: serde_json::Value = client
        .post(format!("{base}/_emulator/token"))
        .header(ember_emulator::control::TOKEN_HEADER, emu.control_token())
        .json(&serde_json::json!({"provider": "gmail"}))
        .send()
        .await?
        .json()
        .await?;
    let bearer = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let api = format!("{base}/gmail/v1/users/me");

    let time = |url: String| {
        let client = client.clone();
        let bearer = bearer.clone();
        async move {
            let t = Instant::now();
            let r = client.get(&url).bearer_auth(&bearer).send().await?;
            anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
            let body = r.bytes().await?;
            anyhow::Ok((t.elapsed(), body))
        }
    };

    // Warm up, and collect ids to fetch.
    let (_, first) = time(format!("{api}/messages?maxResults=500")).await?;
    let page: serde_json::Value = serde_json::from_slice(&first)?;
    let ids: Vec<String> = page["messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!ids.is_empty(), "the mailbox is empty");
    let deep_token = (messages / 2).to_string();

    let (mut first_page, mut deep, mut full, mut raw) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..samples {
        first_page.push(time(format!("{api}/messages?maxResults=100")).await?.0);
        deep.push(
            time(format!(
                "{api}/messages?maxResults=100&pageToken={deep_token}"
            ))
            .await?
            .0,
        );
        let id = &ids[i % ids.len()];
        full.push(time(format!("{api}/messages/{id}?format=full")).await?.0);
        raw.push(time(format!("{api}/messages/{id}?format=raw")).await?.0);
    }
    emu.stop().await;
    Ok(EmulatorBench {
        messages,
        build_seconds,
        samples,
        list_first_page_p50_ms: percentile_ms(&mut first_page, 50.0),
        list_first_page_p99_ms: percentile_ms(&mut first_page, 99.0),
        list_deep_page_p99_ms: percentile_ms(&mut deep, 99.0),
        get_full_p50_ms: percentile_ms(&mut full, 50.0),
        get_full_p99_ms: percentile_ms(&mut full, 99.0),
        get_raw_p50_ms: percentile_ms(&mut raw, 50.0),
        get_raw_p99_ms: percentile_ms(&mut raw, 99.0),
    })
}
