//! Demo mode: the three demo accounts signed in against the emulator through
//! the real OAuth path, in-process and from the command line.

use std::process::Command;

use ember::auth::{self, Secrets, Tokens};
use ember::model::ProviderKind;
use ember::model::SyncWindow;
use ember::service::demo;
use ember::{Config, Ember};

use crate::support::{get_json, start};

fn memory_config(dir: &std::path::Path) -> Config {
    let mut config = Config::new(dir);
    config.secrets = Some(Secrets::memory("tests use no keychain"));
    // Sync and demo set-up under test; categorisation has its own tests.
    config.model_dir = dir.join("no-model");
    config
}

#[tokio::test]
async fn setup_signs_in_three_demo_accounts_whose_tokens_work() -> anyhow::Result<()> {
    let emu = start(50).await?;
    let dir = tempfile::tempdir()?;
    let ember = Ember::open(memory_config(dir.path()), Default::default()).await?;
    let accounts = demo::setup_in_process(&ember, &emu, SyncWindow::Days(30)).await?;
    let providers: Vec<_> = accounts.iter().map(|a| a.provider).collect();
    assert_eq!(
        providers,
        [ProviderKind::Gmail, ProviderKind::Graph, ProviderKind::Ado]
    );
    assert!(accounts.iter().all(|a| a.demo));

    let secrets = ember.secrets().await;
    let stored = secrets
        .get(&auth::tokens_key(accounts[0].id))
        .await?
        .unwrap_or_default();
    let tokens: Tokens = serde_json::from_str(stored.expose())?;
    assert!(tokens.refresh_token.is_some(), "offline access was granted");
    let (status, profile) = get_json(
        &format!("{}/gmail/v1/users/me/profile", emu.base_url()),
        tokens.access_token.expose(),
    )
    .await?;
    assert_eq!(status, 200, "the stored token opens the demo mailbox");
    assert_eq!(profile["emailAddress"], accounts[0].address.as_str());
    assert!(secrets.get(&auth::pat_key(accounts[2].id)).await?.is_some());

    let settings = ember.store().account_settings(accounts[0].id).await?;
    let mail = settings
        .mail()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("mail settings"))?;
    assert_eq!(mail.api_base, emu.base_url());
    assert_eq!(mail.window, Some(SyncWindow::Days(30)));
    assert!(
        !settings.to_json().contains(tokens.access_token.expose()),
        "no token in the database"
    );

    // A second run (a new emulator) re-points the same three accounts.
    let again = demo::setup_in_process(&ember, &emu, SyncWindow::All).await?;
    assert_eq!(
        again.iter().map(|a| a.id).collect::<Vec<_>>(),
        accounts.iter().map(|a| a.id).collect::<Vec<_>>()
    );
    let status = ember.status().await?;
    assert!(status.demo);
    assert_eq!(status.accounts.len(), 3);
    ember.shutdown(std::time::Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn demo_mode_starts_only_when_no_real_account_exists() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ember = Ember::open(memory_config(dir.path()), Default::default()).await?;
    let url = ember.start_demo().await?;
    assert!(url
        .as_deref()
        .is_some_and(|u| u.starts_with("http://127.0.0.1:")));
    assert_eq!(ember.accounts().await?.len(), 3);
    assert_eq!(ember.start_demo().await?, url, "one emulator per run");
    ember.shutdown(std::time::Duration::from_secs(5)).await;

    let dir = tempfile::tempdir()?;
    let ember = Ember::open(memory_config(dir.path()), Default::default()).await?;
    ember
        .add_account(ember::model::NewAccount {
            provider: ProviderKind::Gmail,
            address: "real@example.com".into(),
            display_name: "Real".into(),
            settings: ember::model::AccountSettings::offline(ember::model::ProviderKind::Gmail),
            sync_enabled: true,
        })
        .await?;
    assert_eq!(ember.start_demo().await?, None, "real accounts: no demo");
    assert_eq!(ember.accounts().await?.len(), 1);
    ember.shutdown(std::time::Duration::from_secs(5)).await;
    Ok(())
}

#[tokio::test]
#[allow(
    clippy::disallowed_methods,
    reason = "waiting on a child process is blocking I/O; the emulator must keep serving meanwhile"
)]
async fn ember_demo_setup_adds_the_accounts_from_the_command_line() -> anyhow::Result<()> {
    let emu = start(30).await?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().to_str().unwrap_or_default().to_owned();
    let url = emu.base_url();
    let token = emu.control_token().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ember"))
            .args([
                "--data-dir",
                &data,
                "demo",
                "setup",
                "--emulator",
                &url,
                "--window",
                "all",
                "--json",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
            .env("EMBER_EMULATOR_TOKEN", &token)
            .output()
    })
    .await??;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let accounts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(accounts.len(), 3);
    assert!(accounts.iter().all(|a| a["demo"] == true));

    let bad = Command::new(env!("CARGO_BIN_EXE_ember"))
        .args([
            "--data-dir",
            dir.path().to_str().unwrap_or_default(),
            "demo",
            "setup",
            "--emulator",
            "http://127.0.0.1:9",
            "--json",
        ])
        .env("EMBER_EMULATOR_TOKEN", "x")
        .output()?;
    assert_eq!(bad.status.code(), Some(1));
    // The error is the last line (warnings may come first).
    let stderr = String::from_utf8_lossy(&bad.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let error: serde_json::Value = serde_json::from_str(last)?;
    assert_eq!(error["code"], "unavailable");
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn two_data_folders_sharing_one_keychain_keep_their_own_credentials() -> anyhow::Result<()> {
    // One keychain (as on a desktop), two profiles in two data folders.
    let emu = start(30).await?;
    let keychain = ember::auth::Secrets::memory("one keychain for both profiles");
    let open = |dir: &std::path::Path| {
        let mut config = ember::Config::new(dir);
        config.secrets = Some(keychain.clone());
        config.model_dir = dir.join("no-model");
        async move {
            Ember::open(config, ember::service::sources::standard()?)
                .await
                .map_err(anyhow::Error::from)
        }
    };
    let (first_dir, second_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let first = open(first_dir.path()).await?;
    let mine = demo::setup_in_process(&first, &emu, SyncWindow::All).await?;
    // The second profile signs in (its account 1 too) and removes it.
    let second = open(second_dir.path()).await?;
    let theirs = demo::setup_in_process(&second, &emu, SyncWindow::All).await?;
    assert_eq!(mine[0].id, theirs[0].id, "both profiles have an account 1");
    second.remove_account(theirs[0].id).await?;
    second.shutdown(std::time::Duration::from_secs(5)).await;
    // The first profile's account 1 still signs in and syncs.
    let report = first.sync_once(mine[0].id).await?;
    assert!(report.stored > 0, "{report:?}");
    first.shutdown(std::time::Duration::from_secs(5)).await;
    emu.stop().await;
    Ok(())
}
