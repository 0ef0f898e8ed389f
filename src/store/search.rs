//! Search over mail: a parsed [`Query`](crate::search::Query) becomes one
//! FTS5 match over the contentless `message_search` index plus SQL
//! conditions on `messages`.
//!
//! Ranking depends on how broad the words are. FTS5 answers "which rows
//! match" in well under a millisecond even for common words, but ranking
//! every match by bm25 costs about 4.5 µs a row (77 ms for 17,000 rows at
//! 100,000 messages, see PERF-NOTES). So the store first counts matches up
//! to [`RANKED_MATCH_LIMIT`] (under a millisecond): below it, hits are
//! ranked by bm25 with the subject and sender weighted up (newest first
//! among equals; newest first only when the query names just senders or
//! recipients); at or above
//! it the words are too common to rank usefully and hits come newest first,
//! found by walking the date index and probing the match set.

use sqlx::{QueryBuilder, Sqlite};

use super::messages::{summary_from_row, SUMMARY_COLUMNS};
use super::{page_limit, Store, StoreError};
use crate::model::MessageSummary;
use crate::search::{Field, Query};

/// Matches above which results are newest first instead of ranked.
pub const RANKED_MATCH_LIMIT: i64 = 500;

/// bm25 weights of the index's columns: subject, sender, recipients,
/// snippet, body.
const BM25: &str = "bm25(message_search, 8.0, 4.0, 2.0, 1.0, 1.0)";

/// Free text as an FTS5 expression of quoted words, the last a prefix;
/// `None` when the text has no words. (Operators are not read here: see
/// [`crate::search::parse`].)
pub fn fts_match_expression(text: &str) -> Option<String> {
    let words = crate::search::words(text);
    let (last, rest) = words.split_last()?;
    let mut expr = String::new();
    for w in rest {
        expr.push_str(&format!("\"{w}\" "));
    }
    expr.push_str(&format!("\"{last}\"*"));
    Some(expr)
}

/// Adds the query's non-text conditions on `m`.
fn push_conditions(q: &mut QueryBuilder<'_, Sqlite>, query: &Query) {
    if let Some(has) = query.has_attachment {
        q.push(" AND m.has_attachments = ").push_bind(has);
    }
    if let Some(unread) = query.unread {
        q.push(" AND m.unread = ").push_bind(unread);
    }
    if let Some(starred) = query.starred {
        q.push(" AND m.starred = ").push_bind(starred);
    }
    if let Some(category) = query.category {
        q.push(" AND m.category = ").push_bind(category.as_str());
    }
    for folder in &query.folders {
        q.push(
            " AND EXISTS (SELECT 1 FROM message_folders mf JOIN folders f ON f.id = mf.folder_id \
             WHERE mf.message_id = m.id AND (f.role = ",
        )
        .push_bind(folder.clone())
        .push(" OR lower(f.name) = ")
        .push_bind(folder.clone())
        .push("))");
    }
    if let Some(after) = query.after {
        q.push(" AND m.date >= ").push_bind(after);
    }
    if let Some(before) = query.before {
        q.push(" AND m.date < ").push_bind(before);
    }
}

impl Store {
    /// Messages matching `query`: ranked when the words are selective,
    /// newest first when they are common or there are none.
    pub async fn search(
        &self,
        query: &Query,
        limit: u32,
    ) -> Result<Vec<MessageSummary>, StoreError> {
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let limit = page_limit(limit);
        let mut q = QueryBuilder::<Sqlite>::new("SELECT ");
        q.push(SUMMARY_COLUMNS);
        match query.fts_expression() {
            Some(expr) => {
                let matches: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM (SELECT rowid FROM message_search
                     WHERE message_search MATCH ? LIMIT ?)",
                )
                .bind(&expr)
                .bind(RANKED_MATCH_LIMIT)
                .fetch_one(&self.pool)
                .await?;
                if matches < RANKED_MATCH_LIMIT {
                    q.push(" FROM message_search JOIN messages m ON m.id = message_search.rowid")
                        .push(" WHERE message_search MATCH ")
                        .push_bind(expr);
                    push_conditions(&mut q, query);
                    // Relevance means something for words; for a sender
                    // or recipient alone, newest first is what is wanted.
                    let ranked = query
                        .terms
                        .iter()
                        .any(|t| !t.negated && matches!(t.field, Field::Any | Field::Subject));
                    if ranked {
                        q.push(format!(" ORDER BY {BM25}, m.date DESC, m.id DESC LIMIT "));
                    } else {
                        q.push(" ORDER BY m.date DESC, m.id DESC LIMIT ");
                    }
                    q.push_bind(limit);
                } else {
                    // The match set is built once (unordered it costs little),
                    // then the date index is walked newest first and each
                    // row probed against it: with this many matches the
                    // first page is found within a few hundred rows.
                    q.push(" FROM messages m INDEXED BY messages_by_date WHERE m.id IN (SELECT rowid FROM message_search WHERE message_search MATCH ")
                        .push_bind(expr)
                        .push(")");
                    push_conditions(&mut q, query);
                    q.push(" ORDER BY m.date DESC, m.id DESC LIMIT ")
                        .push_bind(limit);
                }
            }
            None => {
                q.push(" FROM messages m WHERE 1");
                if let Some(negated) = query.negated_expression() {
                    q.push(" AND m.id NOT IN (SELECT rowid FROM message_search WHERE message_search MATCH ")
                        .push_bind(negated)
                        .push(")");
                }
                push_conditions(&mut q, query);
                q.push(" ORDER BY m.date DESC, m.id DESC LIMIT ")
                    .push_bind(limit);
            }
        }
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(summary_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fts_match_expression;

    #[test]
    fn words_become_quoted_with_a_prefix_on_the_last() {
        assert_eq!(
            fts_match_expression("quarterly rep").as_deref(),
            Some("\"quarterly\" \"rep\"*")
        );
        assert_eq!(fts_match_expression("\"()*:"), None);
    }
}
