//! App-wide preferences and the persisted outcome of each account's last sync
//! run: what survives a restart and what another process (`ember status`)
//! reads.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::Row;

use super::{now_ms, Store, StoreError};
use crate::model::{AccountId, Settings, SyncErrorCode};

/// The global sync switch (tray and in-app toggle).
pub const SYNC_ENABLED: &str = "sync.enabled";
/// Minutes between sync runs.
pub const SYNC_INTERVAL_MINUTES: &str = "sync_interval_minutes";
/// Days of mail a first sync fetches.
pub const INITIAL_SYNC_DAYS: &str = "initial_sync_days";
/// The most messages a first sync fetches.
pub const INITIAL_SYNC_MAX_MESSAGES: &str = "initial_sync_max_messages";
/// Whether mail is categorised.
pub const CATEGORIES_ENABLED: &str = "categories_enabled";
/// Whether new Primary mail raises an OS notification.
pub const NOTIFICATIONS_ENABLED: &str = "notifications_enabled";
/// Senders whose mail may load remote content (JSON list of addresses).
pub const REMOTE_CONTENT_SENDERS: &str = "remote_content_senders";
/// Whether Azure DevOps notifications fold under their work item.
pub const FOLD_WORK_ITEM_MAIL: &str = "fold_work_item_mail";
/// Seconds a sent message can be taken back.
pub const UNDO_SEND_SECONDS: &str = "undo_send_seconds";
/// Signatures by account id.
pub const SIGNATURES: &str = "signatures";
/// The profile's own id, which scopes its keychain entries.
pub const PROFILE_ID: &str = "profile.id";
/// The last message id scanned for work item links.
pub const LINKS_SCANNED: &str = "links.scanned_upto";

/// The persisted outcome of an account's last sync run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRecord {
    /// When the last successful run finished, Unix milliseconds.
    pub last_synced_at: Option<i64>,
    /// The last run's error code and message, if it failed.
    pub last_error: Option<(SyncErrorCode, String)>,
}

impl Store {
    /// The value stored under `key`, if any and if it reads as `T`.
    pub async fn setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let text: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Stores `value` under `key`.
    pub async fn set_setting<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let text = json(value)?;
        let mut tx = self.begin_write().await?;
        upsert(&mut tx, key, &text).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user's preferences: each stored one, the default for the rest
    /// (and for any stored value that no longer reads).
    pub async fn settings(&self) -> Result<Settings, StoreError> {
        let d = Settings::default();
        Ok(Settings {
            sync_interval_minutes: self
                .setting(SYNC_INTERVAL_MINUTES)
                .await?
                .unwrap_or(d.sync_interval_minutes),
            initial_sync_days: self
                .setting(INITIAL_SYNC_DAYS)
                .await?
                .unwrap_or(d.initial_sync_days),
            initial_sync_max_messages: self
                .setting(INITIAL_SYNC_MAX_MESSAGES)
                .await?
                .unwrap_or(d.initial_sync_max_messages),
            categories_enabled: self
                .setting(CATEGORIES_ENABLED)
                .await?
                .unwrap_or(d.categories_enabled),
            notifications_enabled: self
                .setting(NOTIFICATIONS_ENABLED)
                .await?
                .unwrap_or(d.notifications_enabled),
            remote_content_senders: self
                .setting(REMOTE_CONTENT_SENDERS)
                .await?
                .unwrap_or(d.remote_content_senders),
            fold_work_item_mail: self
                .setting(FOLD_WORK_ITEM_MAIL)
                .await?
                .unwrap_or(d.fold_work_item_mail),
            undo_send_seconds: self
                .setting(UNDO_SEND_SECONDS)
                .await?
                .unwrap_or(d.undo_send_seconds),
            signatures: self.setting(SIGNATURES).await?.unwrap_or(d.signatures),
        })
    }

    /// This profile's id (made on first use): its keychain entries are
    /// filed under it, so two data folders never share credentials.
    pub async fn profile_id(&self) -> Result<String, StoreError> {
        if let Some(id) = self.setting::<String>(PROFILE_ID).await? {
            return Ok(id);
        }
        let fresh: String = sqlx::query_scalar("SELECT lower(hex(randomblob(16)))")
            .fetch_one(&self.pool)
            .await?;
        let mut tx = self.begin_write().await?;
        // Two processes opening a new profile at once agree on the first.
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)")
            .bind(PROFILE_ID)
            .bind(json(&fresh)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(self.setting::<String>(PROFILE_ID).await?.unwrap_or(fresh))
    }

    /// Stores every preference in one transaction.
    pub async fn save_settings(&self, settings: &Settings) -> Result<(), StoreError> {
        let values = [
            (
                SYNC_INTERVAL_MINUTES,
                json(&settings.sync_interval_minutes)?,
            ),
            (INITIAL_SYNC_DAYS, json(&settings.initial_sync_days)?),
            (
                INITIAL_SYNC_MAX_MESSAGES,
                json(&settings.initial_sync_max_messages)?,
            ),
            (CATEGORIES_ENABLED, json(&settings.categories_enabled)?),
            (
                NOTIFICATIONS_ENABLED,
                json(&settings.notifications_enabled)?,
            ),
            (
                REMOTE_CONTENT_SENDERS,
                json(&settings.remote_content_senders)?,
            ),
            (FOLD_WORK_ITEM_MAIL, json(&settings.fold_work_item_mail)?),
            (UNDO_SEND_SECONDS, json(&settings.undo_send_seconds)?),
            (SIGNATURES, json(&settings.signatures)?),
        ];
        let mut tx = self.begin_write().await?;
        for (key, value) in values {
            upsert(&mut tx, key, &value).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The last sync outcome of one account.
    pub async fn sync_record(&self, account: AccountId) -> Result<SyncRecord, StoreError> {
        let row = sqlx::query(
            "SELECT last_synced_at, last_error_code, last_error_message FROM accounts WHERE id = ?",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("account"))?;
        let code: Option<String> = row.try_get("last_error_code")?;
        let message: Option<String> = row.try_get("last_error_message")?;
        Ok(SyncRecord {
            last_synced_at: row.try_get("last_synced_at")?,
            last_error: code.map(|c| (SyncErrorCode::parse(&c), message.unwrap_or_default())),
        })
    }

    /// Records a successful run that finished now.
    pub async fn record_sync_success(&self, account: AccountId) -> Result<i64, StoreError> {
        let at = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE accounts SET last_synced_at = ?, last_error_code = NULL,
                 last_error_message = NULL WHERE id = ?",
        )
        .bind(at)
        .bind(account)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(at)
    }

    /// Records a failed run.
    pub async fn record_sync_error(
        &self,
        account: AccountId,
        code: SyncErrorCode,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET last_error_code = ?, last_error_message = ? WHERE id = ?")
            .bind(code.as_str())
            .bind(message)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// `value` as the JSON text a setting is stored as.
pub(super) fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        table: "settings",
        detail: e.to_string(),
    })
}

/// Stores `value` under `key` as part of `tx`.
pub(super) async fn upsert(
    tx: &mut sqlx::SqliteConnection,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
