//! Sync cursors: one opaque position per account and resource.
//!
//! A cursor is only ever written inside the transaction that stores the data
//! it covers, which is why [`save`] takes the caller's transaction and there
//! is no way to write one on its own.

use sqlx::SqliteConnection;

use super::{now_ms, Store, StoreError};
use crate::model::AccountId;

/// Records `cursor` for `(account, resource)` as part of `tx`.
pub async fn save(
    tx: &mut SqliteConnection,
    account: AccountId,
    resource: &str,
    cursor: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_cursors (account_id, resource, cursor, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id, resource) DO UPDATE
         SET cursor = excluded.cursor, updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(resource)
    .bind(cursor)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Forgets the cursor for `(account, resource)` as part of `tx`, so the next
/// run starts over (an expired history id, a rejected delta token).
pub async fn clear(
    tx: &mut SqliteConnection,
    account: AccountId,
    resource: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sync_cursors WHERE account_id = ? AND resource = ?")
        .bind(account)
        .bind(resource)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl Store {
    /// The stored cursor for `(account, resource)`, if any.
    pub async fn cursor(
        &self,
        account: AccountId,
        resource: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT cursor FROM sync_cursors WHERE account_id = ? AND resource = ?",
        )
        .bind(account)
        .bind(resource)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The resources of `account`'s cursors that start with `prefix`.
    pub async fn cursor_resources(
        &self,
        account: AccountId,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError> {
        let all: Vec<String> = sqlx::query_scalar(
            "SELECT resource FROM sync_cursors WHERE account_id = ? ORDER BY resource",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok(all.into_iter().filter(|r| r.starts_with(prefix)).collect())
    }
}
