//! The `ember` binary, run as a user would run it.

use std::process::{Command, Output};

use ember::model::{ProviderKind, Status};
use ember::store::ExportedMessage;

use crate::support::{add_account, insert_messages, message, temp_store};

fn ember(args: &[&str]) -> anyhow::Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_ember"))
        .args(args)
        .env_remove("EMBER_DATA_DIR")
        .output()?)
}

#[tokio::test]
async fn status_json_describes_a_fresh_data_directory() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("fresh");
    let out = ember(&[
        "--data-dir",
        data.to_str().unwrap_or_default(),
        "status",
        "--json",
    ])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Status = serde_json::from_slice(&out.stdout)?;
    assert!(status.sync_enabled);
    assert!(status.accounts.is_empty());
    assert_eq!(status.message_count, 0);
    assert!(
        data.join("ember.sqlite3").exists(),
        "the database was created"
    );
    Ok(())
}

#[tokio::test]
async fn messages_json_lists_the_newest_first_up_to_the_limit() -> anyhow::Result<()> {
    let (dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;
    insert_messages(
        &store,
        &[
            message(account.id, "a", 1_000, "oldest"),
            message(account.id, "b", 3_000, "newest"),
            message(account.id, "c", 2_000, "middle"),
        ],
    )
    .await?;
    store.close().await;

    let data = dir.path().to_str().unwrap_or_default();
    let out = ember(&["--data-dir", data, "messages", "--limit", "2", "--json"])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<ExportedMessage> = serde_json::from_slice(&out.stdout)?;
    let subjects: Vec<_> = listed.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["newest", "middle"]);
    assert_eq!(listed[0].provider, "gmail");
    assert_eq!(
        listed[0].provider_id, "b",
        "ids exactly as the provider gave them"
    );
    assert_eq!(listed[0].thread_id.as_deref(), Some("t-b"));
    assert_eq!(listed[0].address, "me@example.org");

    let out = ember(&["--data-dir", data, "messages", "--all", "--json"])?;
    let all: Vec<ExportedMessage> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(all.len(), 3, "--all ignores the limit");
    Ok(())
}

#[test]
fn an_unusable_data_directory_is_a_clear_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x")?;
    let out = ember(&[
        "--data-dir",
        file.to_str().unwrap_or_default(),
        "status",
        "--json",
    ])?;
    assert_eq!(out.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&out.stderr)?;
    assert_eq!(error["code"], "storage");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not-a-dir"),
        "the message names the path: {error}"
    );
    Ok(())
}

#[test]
fn a_bad_limit_is_refused_before_anything_opens() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("d");
    let out = ember(&[
        "--data-dir",
        data.to_str().unwrap_or_default(),
        "messages",
        "--limit",
        "0",
    ])?;
    assert_eq!(out.status.code(), Some(2));
    assert!(!data.exists(), "nothing was created");
    Ok(())
}
