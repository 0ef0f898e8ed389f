//! The categoriser's reads and writes in the store: what it needs of a
//! message (subject, sender, list headers, body start, embedding) and the
//! one-transaction-per-batch write of its verdicts. A verdict never replaces
//! a user's correction, nor a provider's own category (it only adds the spam
//! flag and the embedding there).

use sqlx::Row;

use super::features::{Email, BODY_CHARS};
use crate::model::{Category, CategorySource, MessageId};
use crate::store::{Store, StoreError};

/// A message as the categoriser reads it.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its id.
    pub id: MessageId,
    /// What the classifier reads.
    pub email: Email,
    /// Where its current category came from.
    pub source: Option<CategorySource>,
    /// Its category.
    pub category: Option<Category>,
    /// Its stored embedding.
    pub embedding: Option<Vec<f32>>,
    /// The provider says it is not the user's own mail (Outlook's "Other").
    pub not_primary: bool,
}

/// The header a provider's "not the user's own mail" signal is kept under
/// (Microsoft 365's inference classification "other").
pub const INFERENCE_HEADER: &str = "X-Ember-Inference";

/// A verdict to store.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The message.
    pub id: MessageId,
    /// Its category.
    pub category: Category,
    /// The classifier's confidence.
    pub confidence: f32,
    /// Spam flag.
    pub spam: bool,
    /// The embedding (None keeps the stored one).
    pub embedding: Option<Vec<f32>>,
}

const SELECT: &str = "SELECT m.id, m.subject, m.from_name, m.from_address, m.headers, \
     m.snippet, m.category, m.category_source, m.embedding, \
     substr(b.text, 1, 2000) AS body, (b.html IS NOT NULL) AS html \
     FROM messages m LEFT JOIN message_bodies b ON b.message_id = m.id";

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn unblob(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn record(row: &sqlx::sqlite::SqliteRow) -> Result<Record, StoreError> {
    let headers: String = row.try_get("headers")?;
    let headers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&headers).unwrap_or_default();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
            .filter(|v| !v.trim().is_empty())
    };
    let name: Option<String> = row.try_get("from_name")?;
    let address: String = row.try_get("from_address")?;
    let from = match name.filter(|n| !n.is_empty()) {
        Some(n) => format!("{n} <{address}>"),
        None => address,
    };
    let body: Option<String> = row.try_get("body")?;
    let body = match body.filter(|b| !b.trim().is_empty()) {
        Some(b) => b.chars().take(BODY_CHARS).collect(),
        None => row.try_get("snippet")?,
    };
    let source: Option<String> = row.try_get("category_source")?;
    let category: Option<String> = row.try_get("category")?;
    let embedding: Option<Vec<u8>> = row.try_get("embedding")?;
    Ok(Record {
        id: row.try_get("id")?,
        email: Email {
            subject: row.try_get("subject")?,
            from,
            body,
            list_id: header("List-Id"),
            list_unsubscribe: header("List-Unsubscribe").is_some(),
            precedence: header("Precedence"),
            html: row.try_get("html")?,
        },
        source: source.as_deref().and_then(CategorySource::parse),
        category: category.as_deref().and_then(Category::parse),
        embedding: embedding.map(|b| unblob(&b)).filter(|v| !v.is_empty()),
        not_primary: header(INFERENCE_HEADER).is_some_and(|v| v.eq_ignore_ascii_case("other")),
    })
}

/// Reads the messages `ids` (those that exist), in id order.
pub async fn read(store: &Store, ids: &[MessageId]) -> Result<Vec<Record>, StoreError> {
    let mut q = sqlx::QueryBuilder::new(SELECT);
    q.push(" WHERE m.id IN (");
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    q.push(") ORDER BY m.id");
    let rows = q.build().fetch_all(store.pool()).await?;
    rows.iter().map(record).collect()
}

/// Up to `limit` uncategorised message ids after `after`, ascending.
pub async fn uncategorised(
    store: &Store,
    after: MessageId,
    limit: i64,
) -> Result<Vec<MessageId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM messages WHERE category IS NULL AND id > ? ORDER BY id LIMIT ?",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}

/// Up to `limit` ids after `after` of messages the user corrected that have
/// no embedding yet (moved before the categoriser reached them, or while
/// categories were off), ascending. Retraining embeds them first, so that
/// no correction goes unlearned.
pub async fn corrected_without_embedding(
    store: &Store,
    after: MessageId,
    limit: i64,
) -> Result<Vec<MessageId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM messages WHERE category_source = 'user' AND embedding IS NULL \
         AND id > ? ORDER BY id LIMIT ?",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}

/// How many messages wait for a category.
pub async fn pending(store: &Store) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE category IS NULL")
            .fetch_one(store.pool())
            .await?,
    )
}

/// Messages with an embedding whose category came from `source`, after
/// `after`, ascending by id.
pub async fn with_source(
    store: &Store,
    source: CategorySource,
    after: MessageId,
    limit: i64,
) -> Result<Vec<Record>, StoreError> {
    let mut q = sqlx::QueryBuilder::new(SELECT);
    q.push(" WHERE m.category_source = ")
        .push_bind(source.as_str())
        .push(" AND m.embedding IS NOT NULL AND m.id > ")
        .push_bind(after)
        .push(" ORDER BY m.id LIMIT ")
        .push_bind(limit);
    let rows = q.build().fetch_all(store.pool()).await?;
    rows.iter().map(record).collect()
}

/// Writes a batch of verdicts in one transaction. Model verdicts replace
/// only model categories (or none); on provider- and user-categorised
/// messages only the spam flag and the embedding are stored.
pub async fn write(store: &Store, verdicts: &[Verdict]) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    for v in verdicts {
        let embedding = v.embedding.as_deref().map(blob);
        sqlx::query(
            "UPDATE messages SET category = ?, category_confidence = ?, category_source = 'model', \
             spam = ?, embedding = coalesce(?, embedding) \
             WHERE id = ? AND (category_source IS NULL OR category_source = 'model')",
        )
        .bind(v.category.as_str())
        .bind(f64::from(v.confidence))
        .bind(v.spam)
        .bind(embedding.as_deref())
        .bind(v.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE messages SET spam = ?, embedding = coalesce(?, embedding) \
             WHERE id = ? AND category_source IN ('provider', 'user')",
        )
        .bind(v.spam)
        .bind(embedding.as_deref())
        .bind(v.id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Files `ids` under `category` as the user's correction; returns how many
/// messages exist.
pub async fn correct(
    store: &Store,
    ids: &[MessageId],
    category: Category,
) -> Result<u64, StoreError> {
    let mut tx = store.begin_write().await?;
    let mut changed = 0;
    for id in ids {
        changed += sqlx::query(
            "UPDATE messages SET category = ?, category_source = 'user', category_confidence = 1.0 \
             WHERE id = ?",
        )
        .bind(category.as_str())
        .bind(*id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(changed)
}

/// A message's stored verdict: category, confidence, source, spam.
pub async fn verdict(
    store: &Store,
    id: MessageId,
) -> Result<Option<(Option<f64>, bool)>, StoreError> {
    let row = sqlx::query("SELECT category_confidence, spam FROM messages WHERE id = ?")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.map(|r| Ok((r.try_get("category_confidence")?, r.try_get("spam")?)))
        .transpose()
}
