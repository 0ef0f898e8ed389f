//! `ember account add`: signing in from a terminal. With the installed-app
//! flow the command prints the address to open, and the test opens it as a
//! browser would (the emulator approves at once); with the device-code flow
//! it prints an address and a code, and the test types the code in as a
//! person on another device would. Either way the command finishes with
//! the account, and secrets never travel as arguments.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::{control_get, start};

#[tokio::test(flavor = "multi_thread")]
#[allow(
    clippy::disallowed_methods,
    reason = "a child process and its pipes are blocking I/O"
)]
async fn account_add_gmail_prints_the_sign_in_address_and_files_the_account() -> anyhow::Result<()>
{
    let emu = start(20).await?;
    let accounts = control_get(&emu, "accounts").await?;
    let client_id = accounts["gmail"]["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let secret = accounts["gmail"]["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().unwrap_or_default().to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ember"))
        .args([
            "--data-dir",
            &data,
            "account",
            "add",
            "gmail",
            "--client-id",
            &client_id,
            "--base-url",
            &emu.base_url(),
            "--json",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        .env("EMBER_CLIENT_SECRET", &secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    // Keep reading stderr to the end (a closed pipe would fail the child's
    // later writes), handing over the address as soon as it appears.
    let (found, url_rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.trim().starts_with("http") {
                let _ = found.send(line.trim().to_owned());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let url = tokio::task::spawn_blocking(move || {
        url_rx.recv_timeout(std::time::Duration::from_secs(30))
    })
    .await?
    .map_err(|_| anyhow::anyhow!("no sign-in address printed"))?;
    assert!(
        url.contains("code_challenge_method=S256"),
        "PKCE is used: {url}"
    );
    assert!(
        url.contains("redirect_uri=http%3A%2F%2F127.0.0.1"),
        "a loopback redirect: {url}"
    );
    // The "browser": follows the consent page's redirect to the loopback listener.
    let page = reqwest::get(&url).await?;
    assert!(page.status().is_success());
    assert!(page.text().await?.contains("close this window"));
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
    let log = log.join().unwrap_or_default();
    assert!(out.status.success(), "{log}");
    let added: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(added[0]["provider"], "gmail");
    assert_eq!(
        added[0]["address"], "alex.rivera@gmail.example",
        "the address comes from Gmail's profile"
    );
    assert_eq!(added[0]["demo"], false);
    emu.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
#[allow(
    clippy::disallowed_methods,
    reason = "the child's pipes are blocking I/O, read on blocking threads"
)]
async fn account_add_microsoft_by_device_code_prints_the_address_and_code_and_waits(
) -> anyhow::Result<()> {
    let emu = start(20).await?;
    let accounts = control_get(&emu, "accounts").await?;
    let client_id = accounts["graph"]["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().unwrap_or_default().to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ember"))
        .args([
            "--data-dir",
            &data,
            "account",
            "add",
            "microsoft",
            "--client-id",
            &client_id,
            "--tenant",
            "contoso.example",
            "--device-code",
            "--base-url",
            &emu.base_url(),
            "--json",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    // A failed assertion must not leave the command polling for the code's
    // fifteen minutes.
    let mut child = Reap(Some(child));
    let (found, prompt_rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut all = String::new();
        let mut address = None;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let line_trimmed = line.trim().to_owned();
            if line_trimmed.starts_with("http") {
                address = Some(line_trimmed.clone());
            }
            if let (Some(a), Some(code)) = (
                address.clone(),
                line_trimmed
                    .split("enter the code ")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next()),
            ) {
                let _ = found.send((a, code.to_owned()));
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let (address, code) = tokio::task::spawn_blocking(move || {
        prompt_rx.recv_timeout(std::time::Duration::from_secs(30))
    })
    .await?
    .map_err(|_| anyhow::anyhow!("no address and code printed"))?;
    assert!(address.ends_with("/device"), "{address}");
    assert!(
        code.len() >= 8 && code.contains('-'),
        "a code like BCDF-GHJ: {code}"
    );
    // The person types the code on another device.
    let page = reqwest::get(format!("{address}?user_code={code}")).await?;
    assert!(page.status().is_success());
    let child = child
        .0
        .take()
        .ok_or_else(|| anyhow::anyhow!("the child is gone"))?;
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
    let log = log.join().unwrap_or_default();
    assert!(out.status.success(), "{log}");
    let added: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(added[0]["provider"], "graph");
    assert_eq!(added[0]["address"], "alex.rivera@contoso.example");
    emu.stop().await;
    Ok(())
}

#[test]
fn secrets_are_not_command_line_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_ember"))
        .args([
            "account",
            "add",
            "gmail",
            "--client-id",
            "x",
            "--client-secret",
            "s",
        ])
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("cannot run ember: {e}"),
    };
    assert_eq!(out.status.code(), Some(2), "clap refuses the flag");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--client-secret"), "{stderr}");
}

/// Runs `ember account add ado` for the emulator's organisation with
/// `stdin` piped in and `env` set; returns the exit status, stdout and
/// stderr.
#[allow(
    clippy::disallowed_methods,
    reason = "a child process and its pipes are blocking I/O"
)]
fn add_ado(
    emu_accounts: &serde_json::Value,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> anyhow::Result<(std::process::ExitStatus, String, String)> {
    use std::io::Write;
    let dir = tempfile::tempdir()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_ember"));
    command
        .args(["--data-dir", dir.path().to_str().unwrap_or_default()])
        .args(["account", "add", "ado", "--json"])
        .args([
            "--organization",
            emu_accounts["ado"]["organization"]
                .as_str()
                .unwrap_or_default(),
            "--base-url",
            emu_accounts["ado"]["api_base"].as_str().unwrap_or_default(),
        ])
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        .env_remove("EMBER_ADO_PAT")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    Ok((
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Finding 8: a personal access token reaches `ember account add` through
/// standard input (--pat-stdin) or EMBER_ADO_PAT, never the command line;
/// the token read is the one used (a wrong one is refused), and a refused
/// token is not echoed back.
#[tokio::test(flavor = "multi_thread")]
#[allow(
    clippy::disallowed_methods,
    reason = "each child process runs and is waited for on a blocking thread"
)]
async fn account_add_reads_the_token_from_stdin_or_the_environment() -> anyhow::Result<()> {
    let emu = start(5).await?;
    let accounts = control_get(&emu, "accounts").await?;
    let pat = accounts["ado"]["pat"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    anyhow::ensure!(!pat.is_empty(), "the emulator has a token: {accounts}");

    let piped = {
        let accounts = accounts.clone();
        let line = format!("{pat}\n");
        tokio::task::spawn_blocking(move || add_ado(&accounts, &["--pat-stdin"], &[], &line))
            .await??
    };
    anyhow::ensure!(piped.0.success(), "--pat-stdin: {}", piped.2);
    let added: Vec<serde_json::Value> = serde_json::from_str(&piped.1)?;
    assert_eq!(added[0]["provider"], "ado");

    let from_env = {
        let accounts = accounts.clone();
        let pat = pat.clone();
        tokio::task::spawn_blocking(move || {
            add_ado(&accounts, &[], &[("EMBER_ADO_PAT", pat.as_str())], "")
        })
        .await??
    };
    anyhow::ensure!(from_env.0.success(), "EMBER_ADO_PAT: {}", from_env.2);

    let wrong = {
        let accounts = accounts.clone();
        tokio::task::spawn_blocking(move || {
            add_ado(&accounts, &["--pat-stdin"], &[], "wrong-canary-token\n")
        })
        .await??
    };
    assert!(!wrong.0.success(), "a wrong token on stdin is refused");
    assert!(
        !wrong.2.contains("wrong-canary-token") && !wrong.1.contains("wrong-canary-token"),
        "the refused token is not echoed: {}",
        wrong.2
    );
    let blank = {
        let accounts = accounts.clone();
        tokio::task::spawn_blocking(move || add_ado(&accounts, &["--pat-stdin"], &[], "\n"))
            .await??
    };
    assert!(!blank.0.success());
    assert!(
        blank.2.contains("standard input held no secret"),
        "{}",
        blank.2
    );
    emu.stop().await;
    Ok(())
}

/// Kills the child it holds when dropped.
struct Reap(Option<std::process::Child>);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
