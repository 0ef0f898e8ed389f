//! Which of a sync run's new messages deserve the user's attention now: the
//! unread ones that belong in Primary (or are not categorised yet), not spam.

use sqlx::{QueryBuilder, Sqlite};

use super::messages::{summary_from_row, SUMMARY_COLUMNS};
use super::{Store, StoreError};
use crate::model::{MessageId, MessageSummary};

impl Store {
    /// Up to `limit` of `ids` that are unread, not spam and in Primary or
    /// not yet categorised, newest first.
    pub async fn new_primary_mail(
        &self,
        ids: &[MessageId],
        limit: u32,
    ) -> Result<Vec<MessageSummary>, StoreError> {
        if ids.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<Sqlite>::new("SELECT ");
        q.push(SUMMARY_COLUMNS)
            .push(" FROM messages m WHERE m.unread = 1 AND m.spam = 0")
            .push(" AND (m.category IS NULL OR m.category = 'primary') AND m.id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        q.push(") ORDER BY m.date DESC, m.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(summary_from_row).collect()
    }
}
