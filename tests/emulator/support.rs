//! Starting emulators and talking to them as a client would.

use std::path::PathBuf;

use ember_emulator::control::TOKEN_HEADER;
use ember_emulator::faults::FaultSpec;
use ember_emulator::world::WorldConfig;
use ember_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

/// An emulator with `messages` per mailbox, quotas on, no faults.
pub async fn start(messages: usize) -> anyhow::Result<Emulator> {
    start_with(messages, "", false).await
}

/// An emulator with the given fault spec and quota setting.
pub async fn start_with(messages: usize, faults: &str, no_quota: bool) -> anyhow::Result<Emulator> {
    Ok(Emulator::start(EmulatorConfig {
        world: WorldConfig {
            seed: 42,
            messages,
            work_items: 60,
        },
        faults: FaultSpec::parse(faults)?,
        no_quota,
        port: 0,
    })
    .await?)
}

/// A client that gives up after ten seconds.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

/// POSTs JSON to a control endpoint and returns the JSON answer.
pub async fn control(emu: &Emulator, path: &str, body: Value) -> anyhow::Result<Value> {
    let r = client()
        .post(format!("{}/_emulator/{path}", emu.base_url()))
        .header(TOKEN_HEADER, emu.control_token())
        .json(&body)
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await?;
    anyhow::ensure!(status.is_success(), "control {path} failed: {status} {v}");
    Ok(v)
}

/// GETs a control endpoint.
pub async fn control_get(emu: &Emulator, path: &str) -> anyhow::Result<Value> {
    Ok(client()
        .get(format!("{}/_emulator/{path}", emu.base_url()))
        .header(TOKEN_HEADER, emu.control_token())
        .send()
        .await?
        .json()
        .await?)
}

/// An access token for `provider` (`gmail` or `graph`), minted by the control API.
pub async fn token(emu: &Emulator, provider: &str) -> anyhow::Result<String> {
    let v = control(emu, "token", serde_json::json!({"provider": provider})).await?;
    Ok(v["access_token"].as_str().unwrap_or_default().to_owned())
}

/// A GET with a bearer token; returns status and JSON (Null when not JSON).
pub async fn get_json(url: &str, bearer: &str) -> anyhow::Result<(u16, Value)> {
    let r = client().get(url).bearer_auth(bearer).send().await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The shared data folder beside the clone, when present.
#[allow(
    clippy::print_stderr,
    reason = "tells whoever runs the tests why contract tests were skipped"
)]
pub fn shared_data() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("../shared/data is absent: contract tests against real payloads are skipped");
        None
    }
}

/// A recorded payload's response body (recorded-nango files wrap it).
pub fn recorded(path: &std::path::Path) -> anyhow::Result<Value> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    Ok(match v.get("response") {
        Some(r) if v.get("_origin").is_some() || v.get("endpoint").is_some() => r.clone(),
        _ => v,
    })
}

/// Checks that every field of `real` exists in `ours` with the same JSON
/// type, recursively (arrays compare their first elements). Returns the
/// differences as paths.
pub fn shape_diff(real: &Value, ours: &Value, path: &str, out: &mut Vec<String>) {
    fn kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
    match (real, ours) {
        (Value::Object(r), Value::Object(o)) => {
            for (k, rv) in r {
                match o.get(k) {
                    Some(ov) => shape_diff(rv, ov, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k} missing")),
                }
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if let (Some(rv), Some(ov)) = (r.first(), o.first()) {
                shape_diff(rv, ov, &format!("{path}[0]"), out);
            }
        }
        (Value::Null, _) => {}
        (r, o) if kind(r) != kind(o) => {
            out.push(format!("{path}: real {} vs ours {}", kind(r), kind(o)))
        }
        _ => {}
    }
}

/// Runs `ember` with `args` on the data folder `data`, off the runtime so
/// the emulator keeps serving; returns stdout as JSON.
pub async fn ember_json(
    data: &std::path::Path,
    args: &[&str],
) -> anyhow::Result<serde_json::Value> {
    ember_json_env(data, args, &[]).await
}

/// [`ember_json`] with extra environment variables.
#[expect(
    clippy::disallowed_methods,
    reason = "waiting on a child process is blocking I/O; the emulator must keep serving meanwhile"
)]
pub async fn ember_json_env(
    data: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<serde_json::Value> {
    let mut all = vec!["--data-dir".to_owned(), data.display().to_string()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ember"))
            .args(&all)
            .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
            .env("EMBER_SECRET_STORE", "file")
            .envs(env)
            .output()
    })
    .await??;
    anyhow::ensure!(
        out.status.success(),
        "ember {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Sets up the demo accounts in data folder `data` from the command line
/// (`ember demo setup --sync --only PROVIDER`, everything in the window,
/// quotas as `no_quota` says) and returns the id of `provider`'s account.
pub async fn cli_demo_account(
    data: &std::path::Path,
    emu: &Emulator,
    provider: &str,
    no_quota: bool,
) -> anyhow::Result<String> {
    let url = emu.base_url();
    let mut args = vec![
        "demo",
        "setup",
        "--emulator",
        &url,
        "--window",
        "all",
        "--sync",
        "--only",
        provider,
        "--json",
    ];
    if no_quota {
        args.push("--no-quota");
    }
    let accounts = ember_json_env(
        data,
        &args,
        &[("EMBER_EMULATOR_TOKEN", emu.control_token())],
    )
    .await?;
    accounts
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["provider"] == provider)
        .and_then(|a| a["account"].as_i64())
        .map(|id| id.to_string())
        .ok_or_else(|| anyhow::anyhow!("no {provider} account: {accounts}"))
}

/// The first message in the inbox of an `ember messages --json` listing.
pub fn first_inbox_message(messages: &Value) -> anyhow::Result<Value> {
    messages
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| {
            m["folders"]
                .as_array()
                .is_some_and(|f| f.contains(&"INBOX".into()))
        })
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no inbox mail"))
}
