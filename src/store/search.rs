//! Full-text search over mail through the FTS5 index the schema's triggers
//! keep current.
//!
//! What the user types is never handed to FTS5 as syntax: each word becomes a
//! quoted phrase, so quotes, `NEAR`, `*`, column filters and unbalanced
//! parentheses in a query are just text and can neither fail nor widen it.

use super::messages::{summary_from_row, SUMMARY_COLUMNS};
use super::{page_limit, Store, StoreError};
use crate::model::{MessageSummary, SearchQuery};

/// Turns free text into an FTS5 expression matching messages that contain
/// every word, the last one as a prefix (so results follow typing).
/// `None` when the text has no words.
pub fn fts_match_expression(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '@' || c == '.' || c == '_' || c == '-'))
        .map(|w| w.trim_matches(|c: char| c == '.' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let (last, rest) = words.split_last()?;
    let mut expr = String::new();
    for w in rest {
        expr.push_str(&quote(w));
        expr.push(' ');
    }
    expr.push_str(&quote(last));
    expr.push('*');
    Some(expr)
}

fn quote(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

impl Store {
    /// Messages matching `query`, best match first.
    pub async fn search(&self, query: &SearchQuery) -> Result<Vec<MessageSummary>, StoreError> {
        let Some(expr) = fts_match_expression(&query.text) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM message_search s
             JOIN messages m ON m.id = s.rowid
             WHERE message_search MATCH ?
             ORDER BY s.rank, m.date DESC LIMIT ?"
        ))
        .bind(expr)
        .bind(page_limit(query.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fts_match_expression;

    #[test]
    fn words_become_quoted_phrases_with_a_prefix_on_the_last() {
        assert_eq!(
            fts_match_expression("quarterly rep").as_deref(),
            Some("\"quarterly\" \"rep\"*")
        );
    }

    #[test]
    fn fts_syntax_in_user_text_is_only_text() {
        let expr = fts_match_expression("subject:\"a NEAR(b OR c)* -d").unwrap_or_default();
        assert_eq!(expr, "\"subject\" \"a\" \"NEAR\" \"b\" \"OR\" \"c\" \"d\"*");
    }

    #[test]
    fn blank_or_punctuation_only_text_matches_nothing() {
        assert_eq!(fts_match_expression("   "), None);
        assert_eq!(fts_match_expression("\"()*:"), None);
    }

    #[test]
    fn addresses_stay_one_phrase() {
        assert_eq!(
            fts_match_expression("ada@example.org").as_deref(),
            Some("\"ada@example.org\"*")
        );
    }
}
