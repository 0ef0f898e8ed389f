//! App-wide preferences and the persisted outcome of each account's last sync
//! run: what survives a restart and what another process (`ember status`)
//! reads.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::Row;

use super::{now_ms, Store, StoreError};
use crate::model::AccountId;

/// The global sync switch (tray and in-app toggle).
pub const SYNC_ENABLED: &str = "sync.enabled";

/// The persisted outcome of an account's last sync run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRecord {
    /// When the last successful run finished, Unix milliseconds.
    pub last_synced_at: Option<i64>,
    /// The last run's error code and message, if it failed.
    pub last_error: Option<(String, String)>,
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
        let text = serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
            table: "settings",
            detail: e.to_string(),
        })?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(text)
        .execute(&mut *tx)
        .await?;
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
            last_error: code.map(|c| (c, message.unwrap_or_default())),
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
        code: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET last_error_code = ?, last_error_message = ? WHERE id = ?")
            .bind(code)
            .bind(message)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
