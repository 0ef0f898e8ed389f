//! Sync cursors: one opaque position per account and resource.
//!
//! A cursor is only ever written inside the transaction that stores the data
//! it covers, which is why [`save`] takes the caller's transaction and there
//! is no way to write one on its own.
//!
//! Two processes syncing one account (the app and `ember sync --once`, one
//! of them without the profile lock) must not let the slower one write its
//! older cursor last. So each account has a sync generation: a run notes it
//! before it reads a cursor ([`Store::sync_generation`]), and every batch it
//! writes checks it with [`advance_generation`] inside the batch's own
//! transaction, bumping it when the batch saves cursors. A run that finds
//! the generation moved was overtaken and writes nothing more. This covers
//! every kind of cursor alike: Gmail's numeric history id, Graph's opaque
//! delta links and Azure DevOps' watermarks.

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

/// Checks, as part of `tx`, that `account`'s sync generation is still
/// `expected` (any, when `None`), and bumps it when `bump` (the batch saves
/// cursors). Returns the generation now stored, or `None` when it had
/// moved (another run saved cursors since `expected` was read) or the
/// account is gone: the caller must then roll back.
pub async fn advance_generation(
    tx: &mut SqliteConnection,
    account: AccountId,
    expected: Option<i64>,
    bump: bool,
) -> Result<Option<i64>, StoreError> {
    // One statement: the check and the bump cannot be split by another
    // writer (the transaction already holds the write lock, too).
    Ok(sqlx::query_scalar(
        "UPDATE accounts SET sync_generation = sync_generation + ?1
          WHERE id = ?2 AND (?3 IS NULL OR sync_generation = ?3)
          RETURNING sync_generation",
    )
    .bind(i64::from(bump))
    .bind(account)
    .bind(expected)
    .fetch_optional(&mut *tx)
    .await?)
}

impl Store {
    /// `account`'s sync generation: read by a run before it reads any
    /// cursor (see [`advance_generation`]).
    pub async fn sync_generation(&self, account: AccountId) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT sync_generation FROM accounts WHERE id = ?")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("account"))
    }

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
