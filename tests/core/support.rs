//! Shared fixtures: temporary stores, accounts and messages.

use ember::model::{Account, Address, NewAccount, ProviderKind};
use ember::store::{self, NewMessage, Store};
use tempfile::TempDir;

/// A store in a fresh temporary directory (kept alive by the returned guard).
pub async fn temp_store() -> anyhow::Result<(TempDir, Store)> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("ember.sqlite3")).await?;
    Ok((dir, store))
}

/// Adds an account of `provider` with `address`.
pub async fn add_account(
    store: &Store,
    provider: ProviderKind,
    address: &str,
) -> anyhow::Result<Account> {
    Ok(store
        .upsert_account(&NewAccount {
            provider,
            address: address.into(),
            display_name: address.into(),
            settings: ember::model::AccountSettings::offline(ember::model::ProviderKind::Gmail),
            sync_enabled: true,
        })
        .await?)
}

/// A plain message for `account` with provider id `pid`.
pub fn message(account: i64, pid: &str, date: i64, subject: &str) -> NewMessage {
    NewMessage {
        account_id: account,
        provider_id: pid.into(),
        provider_thread_id: Some(format!("t-{pid}")),
        subject: subject.into(),
        from: Some(Address {
            name: Some("Ada Lovelace".into()),
            address: "ada@example.org".into(),
        }),
        to: vec![Address {
            name: None,
            address: "me@example.org".into(),
        }],
        date,
        snippet: format!("snippet of {subject}"),
        unread: true,
        ..NewMessage::default()
    }
}

/// Writes `messages` in one transaction.
pub async fn insert_messages(store: &Store, messages: &[NewMessage]) -> anyhow::Result<Vec<i64>> {
    let mut tx = store.begin_write().await?;
    let mut ids = Vec::with_capacity(messages.len());
    for m in messages {
        ids.push(store::upsert_message(&mut tx, m).await?);
    }
    tx.commit().await?;
    Ok(ids)
}
