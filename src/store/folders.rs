//! Folders with their counts, conversations, and the remote-content
//! allowlist (per message in `remote_content_messages`, per sender in the
//! `remote_content_senders` setting).

use sqlx::Row;

use super::{now_ms, Store, StoreError};
use crate::model::{AccountId, Folder, FolderRole, MessageId};

use super::settings::REMOTE_CONTENT_SENDERS;

/// Where a folder role sorts in the folder list.
fn role_rank(role: FolderRole) -> u8 {
    match role {
        FolderRole::Inbox => 0,
        FolderRole::Starred => 1,
        FolderRole::Important => 2,
        FolderRole::Sent => 3,
        FolderRole::Drafts => 4,
        FolderRole::Archive => 5,
        FolderRole::Spam => 6,
        FolderRole::Trash => 7,
        FolderRole::Label => 8,
        FolderRole::Other => 9,
    }
}

/// One folder as the store keeps it: what moving mail there needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFolder {
    /// Its account.
    pub account_id: AccountId,
    /// The provider's id of it.
    pub provider_id: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub role: FolderRole,
}

/// What rendering a message needs from the store. No `Debug`: it carries
/// mail bodies.
#[derive(Clone, Default)]
pub struct StoredBody {
    /// The sanitised HTML body, if any.
    pub html: Option<String>,
    /// The plain-text body, if any.
    pub text: Option<String>,
    /// The From address.
    pub sender: String,
    /// The provider's `Authentication-Results` header, if it gave one.
    pub authentication_results: Option<String>,
}

impl Store {
    /// The folder with local id `id`.
    pub async fn folder(&self, id: i64) -> Result<StoredFolder, StoreError> {
        let row =
            sqlx::query("SELECT account_id, provider_id, name, role FROM folders WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("folder"))?;
        let role: Option<String> = row.try_get("role")?;
        Ok(StoredFolder {
            account_id: row.try_get("account_id")?,
            provider_id: row.try_get("provider_id")?,
            name: row.try_get("name")?,
            role: FolderRole::from_stored(role.as_deref()),
        })
    }

    /// The accounts the messages `ids` belong to, each once (unknown ids
    /// are left out).
    pub async fn accounts_of_messages(
        &self,
        ids: &[MessageId],
    ) -> Result<Vec<AccountId>, StoreError> {
        let mut accounts = Vec::new();
        for chunk in ids.chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT DISTINCT account_id FROM messages WHERE id IN (",
            );
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            q.push(")");
            let found: Vec<AccountId> = q.build_query_scalar().fetch_all(&self.pool).await?;
            accounts.extend(found);
        }
        accounts.sort_unstable();
        accounts.dedup();
        Ok(accounts)
    }

    /// Every folder of `account` (or of every account) with its unread and
    /// total counts; system folders first, then labels by name.
    pub async fn folders(&self, account: Option<AccountId>) -> Result<Vec<Folder>, StoreError> {
        // Counts are kept by triggers (migration 0003): one row per folder.
        let rows = sqlx::query(
            "SELECT f.id, f.account_id, f.name, f.role, f.parent_id,
                    coalesce(c.total, 0) AS total, coalesce(c.unread, 0) AS unread
               FROM folders f
               LEFT JOIN folder_counts c ON c.folder_id = f.id
              WHERE (?1 IS NULL OR f.account_id = ?1)",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        let mut folders = rows
            .iter()
            .map(|r| {
                let role: Option<String> = r.try_get("role")?;
                Ok(Folder {
                    id: r.try_get("id")?,
                    account_id: r.try_get("account_id")?,
                    name: r.try_get("name")?,
                    parent_id: r.try_get("parent_id")?,
                    role: FolderRole::from_stored(role.as_deref()),
                    unread: r.try_get("unread")?,
                    total: r.try_get("total")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        folders.sort_by(|a, b| {
            (a.account_id, role_rank(a.role), a.name.to_lowercase()).cmp(&(
                b.account_id,
                role_rank(b.role),
                b.name.to_lowercase(),
            ))
        });
        Ok(folders)
    }

    /// The provider ids of `account`'s folders and labels.
    pub async fn folder_provider_ids(&self, account: AccountId) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT provider_id FROM folders WHERE account_id = ? ORDER BY id")
                .bind(account)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Provider ids of `account`'s messages in the folder `folder` (a
    /// provider id), received at or after `since_ms` when given.
    pub async fn messages_in_folder(
        &self,
        account: AccountId,
        folder: &str,
        since_ms: Option<i64>,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT m.provider_id FROM folders f
               JOIN message_folders mf ON mf.folder_id = f.id
               JOIN messages m ON m.id = mf.message_id
              WHERE f.account_id = ?1 AND f.provider_id = ?2 AND m.date >= ?3",
        )
        .bind(account)
        .bind(folder)
        .bind(since_ms.unwrap_or(i64::MIN))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Which of `ids` (provider ids) `account` has stored.
    pub async fn stored_provider_ids(
        &self,
        account: AccountId,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt {
            table: "messages",
            detail: e.to_string(),
        })?;
        Ok(sqlx::query_scalar(
            "SELECT provider_id FROM messages
              WHERE account_id = ?1 AND provider_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(account)
        .bind(list)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Provider ids of `account`'s messages in no folder, not counting
    /// labels whose provider ids start with `label_prefix`.
    pub async fn messages_without_folder(
        &self,
        account: AccountId,
        label_prefix: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT m.provider_id FROM messages m
              WHERE m.account_id = ?1 AND NOT EXISTS (
                    SELECT 1 FROM message_folders mf JOIN folders f ON f.id = mf.folder_id
                     WHERE mf.message_id = m.id AND substr(f.provider_id, 1, length(?2)) <> ?2)",
        )
        .bind(account)
        .bind(label_prefix)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The messages of a thread, oldest first.
    pub async fn thread_message_ids(&self, thread: i64) -> Result<Vec<MessageId>, StoreError> {
        let ids: Vec<MessageId> =
            sqlx::query_scalar("SELECT id FROM messages WHERE thread_id = ? ORDER BY date, id")
                .bind(thread)
                .fetch_all(&self.pool)
                .await?;
        if ids.is_empty() {
            return Err(StoreError::NotFound("thread"));
        }
        Ok(ids)
    }

    /// A message's stored sanitised HTML, plain text, sender address, and
    /// the provider's verdict on that sender (its `Authentication-Results`).
    pub async fn message_body(&self, id: MessageId) -> Result<StoredBody, StoreError> {
        let row = sqlx::query(
            "SELECT b.html, b.text, m.from_address,
                    json_extract(m.headers, '$.\"Authentication-Results\"') AS auth
               FROM messages m
               LEFT JOIN message_bodies b ON b.message_id = m.id WHERE m.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("message"))?;
        Ok(StoredBody {
            html: row.try_get("html")?,
            text: row.try_get("text")?,
            sender: row.try_get("from_address")?,
            authentication_results: row.try_get("auth")?,
        })
    }

    /// Whether remote content was allowed for this message itself.
    pub async fn remote_allowed_for_message(&self, id: MessageId) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM remote_content_messages WHERE message_id = ?",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?
            > 0)
    }

    /// Allows remote content for one message.
    pub async fn allow_remote_for_message(&self, id: MessageId) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("message"));
        }
        sqlx::query(
            "INSERT INTO remote_content_messages (message_id, allowed_at) VALUES (?, ?)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The senders whose remote content loads (lower-cased).
    pub async fn remote_content_senders(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .setting::<Vec<String>>(REMOTE_CONTENT_SENDERS)
            .await?
            .unwrap_or_default())
    }

    /// Adds `address` (lower-cased) to the senders whose remote content
    /// loads, in one write transaction so two clicks cannot lose one.
    pub async fn allow_remote_for_sender(&self, address: &str) -> Result<(), StoreError> {
        let address = address.trim().to_lowercase();
        let mut tx = self.begin_write().await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(REMOTE_CONTENT_SENDERS)
                .fetch_optional(&mut *tx)
                .await?;
        let mut senders: Vec<String> = current
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        if !senders.contains(&address) {
            senders.push(address);
            senders.sort();
        }
        super::settings::upsert(
            &mut tx,
            REMOTE_CONTENT_SENDERS,
            &super::settings::json(&senders)?,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
