//! The control API, determinism, every fault kind and the quotas, seen from
//! a plain HTTP client.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{client, control, control_get, get_json, start, start_with, token};

const PROFILE: &str = "gmail/v1/users/me/profile";

#[tokio::test]
async fn the_same_seed_gives_the_same_truth_and_reset_rebuilds() -> anyhow::Result<()> {
    let a = start(150).await?;
    let b = start(150).await?;
    let ta = control_get(&a, "truth").await?;
    assert_eq!(ta, control_get(&b, "truth").await?, "same seed, same world");
    assert_eq!(
        ta["accounts"].as_array().map(Vec::len),
        Some(3),
        "gmail, graph and ado"
    );

    control(
        &b,
        "reset",
        json!({"seed": 43, "messages": 20, "work_items": 5}),
    )
    .await?;
    let tb = control_get(&b, "truth").await?;
    assert_ne!(ta, tb);
    assert_eq!(
        tb["accounts"][0]["messages"].as_array().map(Vec::len),
        Some(20)
    );
    assert_eq!(
        tb["accounts"][2]["work_items"].as_array().map(Vec::len),
        Some(5)
    );
    let bad = client()
        .post(format!("{}/_emulator/reset", b.base_url()))
        .header(ember_emulator::control::TOKEN_HEADER, b.control_token())
        .json(&json!({"messages": 5}))
        .send()
        .await?;
    assert_eq!(bad.status(), 400, "fewer than 10 messages is refused");
    a.stop().await;
    b.stop().await;
    Ok(())
}

async fn profile_with(
    faults: &str,
) -> anyhow::Result<(
    reqwest::Result<reqwest::Response>,
    ember_emulator::Emulator,
    Duration,
)> {
    let emu = start_with(20, faults, true).await?;
    let bearer = token(&emu, "gmail").await?;
    let started = Instant::now();
    let r = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?
        .get(format!("{}/{PROFILE}", emu.base_url()))
        .bearer_auth(bearer)
        .send()
        .await;
    Ok((r, emu, started.elapsed()))
}

#[tokio::test]
async fn every_fault_kind_is_observable_from_a_plain_client() -> anyhow::Result<()> {
    let (r, emu, took) = profile_with("gmail.profile:latency,ms=300").await?;
    assert_eq!(r?.status(), 200);
    assert!(
        took >= Duration::from_millis(300),
        "latency delays the answer: {took:?}"
    );
    emu.stop().await;

    let (r, emu, _) = profile_with("gmail.profile:429,retry_after=7").await?;
    let r = r?;
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("7")
    );
    emu.stop().await;

    let (r, emu, _) = profile_with("gmail.profile:403rate").await?;
    let r = r?;
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await?;
    assert_eq!(
        body["error"]["errors"][0]["reason"],
        "userRateLimitExceeded"
    );
    emu.stop().await;

    for (spec, status) in [
        ("gmail.profile:500", 500),
        ("gmail.profile:503", 503),
        ("*:html203", 203),
    ] {
        let (r, emu, _) = profile_with(spec).await?;
        assert_eq!(r?.status().as_u16(), status, "{spec}");
        emu.stop().await;
    }

    let (r, emu, _) = profile_with("gmail.profile:reset").await?;
    let outcome = match r {
        Ok(resp) => resp.text().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "a reset connection fails the read");
    emu.stop().await;

    let (r, emu, took) = profile_with("gmail.profile:hang").await?;
    assert!(
        r.is_err_and(|e| e.is_timeout()),
        "a hung request ends in the client's timeout"
    );
    assert!(took >= Duration::from_secs(2));
    emu.stop().await;

    for spec in ["gmail.profile:truncate", "gmail.profile:badjson"] {
        let (r, emu, _) = profile_with(spec).await?;
        let r = r?;
        assert_eq!(r.status(), 200, "{spec} answers 200");
        assert!(
            r.json::<serde_json::Value>().await.is_err(),
            "{spec} does not parse"
        );
        emu.stop().await;
    }

    let emu = start_with(40, "gmail.messages.get:badmime", true).await?;
    let bearer = token(&emu, "gmail").await?;
    let (_, list) = get_json(
        &format!("{}/gmail/v1/users/me/messages?maxResults=1", emu.base_url()),
        &bearer,
    )
    .await?;
    let id = list["messages"][0]["id"].as_str().unwrap_or_default();
    let (_, raw) = get_json(
        &format!(
            "{}/gmail/v1/users/me/messages/{id}?format=raw",
            emu.base_url()
        ),
        &bearer,
    )
    .await?;
    let bytes =
        ember_emulator::gmail::payload::b64_decode_lenient(raw["raw"].as_str().unwrap_or_default())
            .unwrap_or_default();
    assert!(
        bytes.windows(10).any(|w| w == b"never-used"),
        "the MIME is broken"
    );
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn faults_can_be_changed_at_run_time_and_bad_specs_are_refused() -> anyhow::Result<()> {
    let emu = start_with(20, "", true).await?;
    let bearer = token(&emu, "gmail").await?;
    let url = format!("{}/{PROFILE}", emu.base_url());
    assert_eq!(get_json(&url, &bearer).await?.0, 200);
    control(&emu, "faults", json!({"spec": "gmail.profile:503"})).await?;
    assert_eq!(get_json(&url, &bearer).await?.0, 503);
    let r = client()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .header(ember_emulator::control::TOKEN_HEADER, emu.control_token())
        .json(&json!({"spec": "gmail.profile:teapot"}))
        .send()
        .await?;
    assert_eq!(r.status(), 400);
    control(&emu, "faults", json!({"spec": ""})).await?;
    assert_eq!(get_json(&url, &bearer).await?.0, 200);
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn gmail_quota_answers_429_past_the_per_user_limit() -> anyhow::Result<()> {
    let emu = start(60).await?;
    let bearer = token(&emu, "gmail").await?;
    let (_, list) = get_json(
        &format!("{}/gmail/v1/users/me/messages?maxResults=1", emu.base_url()),
        &bearer,
    )
    .await?;
    let id = list["messages"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let url = format!(
        "{}/gmail/v1/users/me/messages/{id}?format=minimal",
        emu.base_url()
    );
    let mut statuses = Vec::new();
    // 250 units a second at 5 units a get: the 51st get within a second is refused.
    for _ in 0..80 {
        statuses.push(get_json(&url, &bearer).await?.0);
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(limited > 0, "some requests are refused: {statuses:?}");
    assert!(ok >= 45, "about a second's quota is granted: {ok}");
    let stats = control_get(&emu, "stats").await?;
    assert!(stats["statuses"]["gmail.messages.get"]["429"].as_u64() >= Some(1));
    assert!(stats["quota_units"]
        .as_object()
        .is_some_and(|m| !m.is_empty()));
    let log = control_get(&emu, "log").await?;
    assert!(log["requests"]
        .as_array()
        .is_some_and(|r| r.iter().any(|e| e["status"] == 429)));
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn tokens_for_one_service_do_not_open_another() -> anyhow::Result<()> {
    let emu = start(20).await?;
    let graph = token(&emu, "graph").await?;
    let (status, body) = get_json(&format!("{}/{PROFILE}", emu.base_url()), &graph).await?;
    assert_eq!(status, 401, "{body}");
    let (status, _) = get_json(&format!("{}/{PROFILE}", emu.base_url()), "nonsense").await?;
    assert_eq!(status, 401);
    emu.stop().await;
    Ok(())
}
