//! What `ember doctor` asks of the database itself: its schema version,
//! SQLite's version, an integrity check, file sizes, and how fresh each
//! account's sync cursors are. Read-only, and cheap except for the
//! integrity check, which reads every page once.

use super::{Store, StoreError};
use crate::model::AccountId;

/// The database's files and their sizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileSizes {
    /// The main file, in bytes.
    pub database: u64,
    /// The write-ahead log, in bytes (0 when absent).
    pub wal: u64,
}

impl Store {
    /// The newest migration applied.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&self.pool)
        .await?
        .unwrap_or(0))
    }

    /// The SQLite library's version.
    pub async fn sqlite_version(&self) -> Result<String, StoreError> {
        Ok(sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&self.pool)
            .await?)
    }

    /// `PRAGMA quick_check`: `["ok"]`, or what is wrong (at most 20 lines).
    pub async fn quick_check(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("PRAGMA quick_check(20)")
            .fetch_all(&self.pool)
            .await?)
    }

    /// The sizes of the database file and its WAL.
    pub fn file_sizes(&self) -> FileSizes {
        let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        FileSizes {
            database: size(&self.path),
            wal: size(std::path::Path::new(&wal)),
        }
    }

    /// When `account`'s cursors last moved: the newest write of any of
    /// them, Unix milliseconds; `None` before its first run kept one.
    pub async fn cursor_updated_at(&self, account: AccountId) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT MAX(updated_at) FROM sync_cursors WHERE account_id = ?")
                .bind(account)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
