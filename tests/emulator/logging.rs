//! No secret reaches a log, the database or the command line's output.
//!
//! The emulator is given canary secrets (a unique OAuth client secret and
//! personal access token) and mail whose body is a canary; `ember demo
//! setup --sync` signs the three demo accounts in through the real paths
//! (the client secret, an authorization code, tokens, the PAT) and syncs
//! them with logging at `trace`; the Gmail tokens are then expired so that
//! `ember sync --once` refreshes them; then the read-only commands run. The
//! test then looks for every canary, every token Ember was given (read
//! back from its secrets file) and the prefix of every code and token the
//! emulator issues, in the log files, the database, its WAL, and all
//! output. The secrets file must hold them (so the search can find what it
//! looks for), and the log must hold trace lines and the sync runs' spans
//! (so the search looks at a real log).

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use ember::auth::{Secrets, StoreChoice, SECRETS_FILE};
use ember::{Config, Ember};
use serde_json::{json, Value};

use crate::support::{control, start};

/// The prefixes of what the emulator issues: authorization codes, Google
/// and Microsoft access tokens, Google and Microsoft refresh tokens.
const ISSUED_PREFIXES: [&str; 5] = [
    "4/0AVG7fiQ",
    "ya29.a0AfB_",
    "EwB4A8l6BAAU",
    "1//0gEmu",
    "M.C5emu",
];

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{tag}{nanos:x}p{}", std::process::id())
}

fn mail_with_body(body: &str) -> Value {
    let raw = format!(
        "From: Grace <grace@example.org>\r\nTo: alex.rivera@gmail.example\r\nSubject: Quarterly numbers\r\nDate: {}\r\nMessage-ID: <{body}@example.org>\r\n\r\n{body} is the figure we agreed on.\r\n",
        chrono::Utc::now().to_rfc2822()
    );
    json!({"provider": "gmail", "folder": "INBOX",
           "raw_base64": base64::engine::general_purpose::STANDARD.encode(raw)})
}

/// Runs `ember` with logging at trace; returns stdout and stderr together.
#[allow(
    clippy::disallowed_methods,
    reason = "a child process is blocking I/O, waited for on a blocking thread"
)]
async fn ember(data: &Path, logs: &Path, args: &[&str]) -> anyhow::Result<String> {
    ember_with_token(data, logs, args, "").await
}

/// [`ember`] with the emulator's control token in EMBER_EMULATOR_TOKEN.
#[allow(
    clippy::disallowed_methods,
    reason = "a child process is blocking I/O, waited for on a blocking thread"
)]
async fn ember_with_token(
    data: &Path,
    logs: &Path,
    args: &[&str],
    token: &str,
) -> anyhow::Result<String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ember"));
    command
        .env("EMBER_EMULATOR_TOKEN", token)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("EMBER_LOG", "trace")
        .env("EMBER_LOG_DIR", logs)
        .env("EMBER_SECRET_STORE", "file")
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:");
    let out = tokio::task::spawn_blocking(move || command.output()).await??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    anyhow::ensure!(out.status.success(), "ember {args:?} failed: {text}");
    Ok(text)
}

/// Every value in the secrets file, and the tokens inside the token entries.
fn filed_secrets(path: &Path) -> anyhow::Result<Vec<String>> {
    let all: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(path)?)?;
    let mut out = Vec::new();
    for value in all.into_values() {
        if let Ok(tokens) = serde_json::from_str::<Value>(&value) {
            for key in ["access_token", "refresh_token"] {
                if let Some(t) = tokens[key].as_str() {
                    out.push(t.to_owned());
                }
            }
        }
        out.push(value);
    }
    Ok(out)
}

/// The bytes of every file under `dir`, by name.
fn files_in(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            out.push((path.display().to_string(), std::fs::read(&path)?));
        }
    }
    Ok(out)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// The needles found in `haystack`, each with the place it was found.
fn leaks(place: &str, haystack: &[u8], needles: &[String]) -> Vec<String> {
    needles
        .iter()
        .filter(|n| contains(haystack, n))
        .map(|n| format!("{n:?} in {place}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_secrets_reach_no_log_no_database_and_no_output() -> anyhow::Result<()> {
    let emu = start(30).await?;
    let client_secret = unique("GOCSPX-canary");
    let pat = unique("canarypat");
    {
        let mut credentials = emu.shared().credentials();
        credentials.google_client.1 = client_secret.clone();
        credentials.ado.1 = pat.clone();
    }
    let body = unique("canarybody");
    control(&emu, "mail", mail_with_body(&body)).await?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let logs = dir.path().join("logs");
    let url = emu.base_url();

    let mut output = ember_with_token(
        &data,
        &logs,
        &["demo", "setup", "--emulator", &url, "--sync", "--json"],
        emu.control_token(),
    )
    .await?;
    control(&emu, "expire_tokens", json!({"provider": "gmail"})).await?;
    output += &ember(&data, &logs, &["sync", "--once", "--json"]).await?;
    for args in [
        &["status", "--json"][..],
        &["status"],
        &["account", "list", "--json"],
        &["messages", "--all", "--json"],
    ] {
        output += &ember(&data, &logs, args).await?;
    }
    let filed = filed_secrets(&data.join(SECRETS_FILE))?;

    // Once more in this process, reading the WAL before it is checkpointed:
    // new mail, with a second body canary, lands there.
    let body_in_wal = unique("canarybody");
    control(&emu, "mail", mail_with_body(&body_in_wal)).await?;
    let mut config = Config::new(&data);
    config.secrets = Some(Secrets::open(&StoreChoice::File(data.join(SECRETS_FILE))).await);
    let app = Ember::open(config, ember::service::sources::unmetered()?).await?;
    for account in app.accounts().await? {
        app.sync_once(account.id).await?;
    }
    let database = std::fs::read(data.join(ember::store::DATABASE_FILE))?;
    let wal = std::fs::read(data.join(format!("{}-wal", ember::store::DATABASE_FILE)))?;
    app.shutdown(std::time::Duration::from_secs(5)).await;

    // What is looked for is there to be found.
    let filed_text = filed.join("\n");
    for (what, needle) in [("client secret", &client_secret), ("PAT", &pat)] {
        assert!(filed_text.contains(needle.as_str()), "the {what} was filed");
    }
    for prefix in ["ya29.a0AfB_", "1//0gEmu", "EwB4A8l6BAAU", "M.C5emu"] {
        assert!(
            filed_text.contains(prefix),
            "tokens starting {prefix} were filed"
        );
    }
    assert!(contains(&database, &body), "the first body was stored");
    assert!(
        contains(&wal, &body_in_wal),
        "the second body is in the WAL"
    );
    let log_files = files_in(&logs)?;
    let log_text: String = log_files
        .iter()
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    assert!(log_text.contains("TRACE"), "the log records trace lines");
    assert!(
        log_text.contains("sync_run{account=") && log_text.contains("outcome=\"ok\""),
        "the log follows each sync run"
    );

    let mut secrets: Vec<String> = vec![client_secret, pat];
    secrets.extend(filed);
    secrets.extend(ISSUED_PREFIXES.iter().map(|p| (*p).to_owned()));
    // As a URL or form would carry them.
    secrets.push("4%2F0AVG7fiQ".into());
    secrets.push("1%2F%2F0gEmu".into());
    let mut found = Vec::new();
    for (name, bytes) in &log_files {
        found.extend(leaks(name, bytes, &secrets));
        found.extend(leaks(name, bytes, &[body.clone(), body_in_wal.clone()]));
    }
    found.extend(leaks("the database", &database, &secrets));
    found.extend(leaks("the WAL", &wal, &secrets));
    found.extend(leaks(
        "the command line's output",
        output.as_bytes(),
        &secrets,
    ));
    assert!(found.is_empty(), "secrets leaked: {found:#?}");
    emu.stop().await;
    Ok(())
}
