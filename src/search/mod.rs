//! The search box's language, parsed in one place for the window and
//! `ember search`.
//!
//! A query is free text plus operators, Gmail-style:
//! `from:` `to:` `subject:` `has:attachment` `is:unread` `is:read`
//! `is:starred` `category:` `in:` (or `label:`) `before:` `after:`.
//! Quoted text is a phrase (`"quarterly report"`, `subject:"new plan"`), a
//! leading `-` excludes a word, phrase or address (`-newsletter`,
//! `-from:noreply`, also `-is:unread`, `-has:attachment`). Dates are
//! `YYYY-MM-DD` (or `YYYY/MM/DD`), whole days in UTC: `after:` includes its
//! day, `before:` excludes it.
//!
//! [`parse`] yields a [`Query`]; the store turns its text parts into one
//! FTS5 expression (words are always quoted, so user text is never FTS
//! syntax) and the rest into SQL conditions; [`highlight`] finds what to
//! mark in each hit. While the user types, the last bare word (and an
//! address after `from:`/`to:`) matches as a prefix, and an operator with
//! no value yet is ignored rather than an error.

pub mod highlight;
pub mod work_items;

use crate::model::Category;

/// The operators, for error messages.
pub const OPERATORS: &str =
    "from:, to:, subject:, has:attachment, is:unread, is:read, is:starred, category:, in:, before:, after:";

/// A query that cannot be understood, with a sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// Which text a term must be found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Any indexed column.
    Any,
    /// The sender's name and address.
    From,
    /// To and Cc names and addresses.
    To,
    /// The subject.
    Subject,
}

impl Field {
    /// The FTS5 column filter for this field.
    fn column(self) -> Option<&'static str> {
        match self {
            Self::Any => None,
            Self::From => Some("sender"),
            Self::To => Some("recipients"),
            Self::Subject => Some("subject"),
        }
    }
}

/// A word or phrase to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Where.
    pub field: Field,
    /// Its words, lower-cased, as the index tokenises them (letters and
    /// digits; an address is several words matched as a phrase).
    pub words: Vec<String>,
    /// The last word may be the start of a longer one.
    pub prefix: bool,
    /// Messages containing it are excluded.
    pub negated: bool,
}

/// A parsed search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Words and phrases, in text or in a field.
    pub terms: Vec<Term>,
    /// `has:attachment` (`Some(false)` for `-has:attachment`).
    pub has_attachment: Option<bool>,
    /// `is:unread` / `is:read`.
    pub unread: Option<bool>,
    /// `is:starred` (`Some(false)` for `-is:starred`).
    pub starred: Option<bool>,
    /// `category:`.
    pub category: Option<Category>,
    /// `in:` folder roles or names, lower-cased (all must hold).
    pub folders: Vec<String>,
    /// `before:` as Unix milliseconds (exclusive).
    pub before: Option<i64>,
    /// `after:` as Unix milliseconds (inclusive).
    pub after: Option<i64>,
}

impl Query {
    /// Whether nothing was asked for.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The FTS5 expression for the positive terms, with the negated ones
    /// as `NOT`; `None` when there is no positive term.
    pub fn fts_expression(&self) -> Option<String> {
        let positives: Vec<String> = self
            .terms
            .iter()
            .filter(|t| !t.negated)
            .map(fts_term)
            .collect();
        if positives.is_empty() {
            return None;
        }
        let mut expr = positives.join(" AND ");
        for t in self.terms.iter().filter(|t| t.negated) {
            expr.push_str(" NOT ");
            expr.push_str(&fts_term(t));
        }
        Some(expr)
    }

    /// The negated terms as one FTS5 expression (any of them), for a query
    /// that has nothing positive to search for.
    pub fn negated_expression(&self) -> Option<String> {
        let negatives: Vec<String> = self
            .terms
            .iter()
            .filter(|t| t.negated)
            .map(fts_term)
            .collect();
        (!negatives.is_empty()).then(|| negatives.join(" OR "))
    }

    /// Positive terms that may appear in `field` (free text appears anywhere).
    pub fn highlight_terms(&self, field: Field) -> Vec<&Term> {
        self.terms
            .iter()
            .filter(|t| !t.negated && (t.field == Field::Any || t.field == field))
            .collect()
    }
}

fn fts_term(term: &Term) -> String {
    // Words hold only letters and digits, so quoting is all the escaping needed.
    let mut out = String::new();
    if let Some(column) = term.field.column() {
        out.push_str(column);
        out.push_str(" : ");
    }
    out.push('"');
    out.push_str(&term.words.join(" "));
    out.push('"');
    if term.prefix {
        out.push('*');
    }
    out
}

/// Splits text into index words: runs of letters and digits, lower-cased
/// (as FTS5's unicode61 tokenizer does).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(highlight::fold)
        // After folding: a word of combining letters alone (U+0363 to
        // U+036F are alphabetic) folds to nothing, as in the index.
        .filter(|w| !w.is_empty())
        .collect()
}

/// One lexical piece of the query.
#[derive(Debug)]
struct Token {
    negated: bool,
    operator: Option<String>,
    value: String,
    quoted: bool,
    /// Ends the text with no space after it (the user may still be typing).
    at_end: bool,
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let mut negated = false;
        if chars[i] == '-' && chars.get(i + 1).is_some_and(|c| !c.is_whitespace()) {
            negated = true;
            i += 1;
        }
        let mut operator = None;
        // An operator is letters then a colon.
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_alphabetic() {
            j += 1;
        }
        if j > i && chars.get(j) == Some(&':') {
            operator = Some(chars[i..j].iter().collect::<String>().to_ascii_lowercase());
            i = j + 1;
        }
        let (value, quoted) = if chars.get(i) == Some(&'"') {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && chars[end] != '"' {
                end += 1;
            }
            i = (end + 1).min(chars.len() + 1);
            (chars[start..end.min(chars.len())].iter().collect(), true)
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            (chars[start..i].iter().collect::<String>(), false)
        };
        tokens.push(Token {
            negated,
            operator,
            value,
            quoted,
            at_end: i >= chars.len(),
        });
    }
    tokens
}

/// Parses what the user typed.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let mut query = Query::default();
    for token in tokenize(text) {
        let Token {
            negated,
            operator,
            value,
            quoted,
            at_end,
        } = token;
        let Some(op) = operator else {
            push_term(&mut query, Field::Any, &value, !quoted && at_end, negated);
            continue;
        };
        if value.trim().is_empty() {
            // `from:` with nothing after it yet: the user is still typing.
            if is_operator(&op) {
                continue;
            }
            push_term(&mut query, Field::Any, &op, false, negated);
            continue;
        }
        if !is_operator(&op) && value.starts_with("//") {
            // A pasted web address, not an operator.
            push_term(
                &mut query,
                Field::Any,
                &format!("{op}:{value}"),
                false,
                negated,
            );
            continue;
        }
        let lower = value.trim().to_lowercase();
        match op.as_str() {
            "from" => push_term(&mut query, Field::From, &value, !quoted, negated),
            "to" => push_term(&mut query, Field::To, &value, !quoted, negated),
            "subject" => push_term(&mut query, Field::Subject, &value, !quoted && at_end, negated),
            "has" => match lower.as_str() {
                "attachment" | "attachments" => query.has_attachment = Some(!negated),
                _ => return Err(QueryError(format!("has: understands only has:attachment, not has:{value}"))),
            },
            "is" => match lower.as_str() {
                "unread" => query.unread = Some(!negated),
                "read" => query.unread = Some(negated),
                "starred" => query.starred = Some(!negated),
                _ => {
                    return Err(QueryError(format!(
                        "is: understands is:unread, is:read and is:starred, not is:{value}"
                    )))
                }
            },
            "category" => {
                if negated {
                    return Err(QueryError("category: cannot be negated".into()));
                }
                let category = Category::parse(&lower).ok_or_else(|| {
                    QueryError(format!(
                        "category: expects primary, social, promotions, updates or forums, not {value}"
                    ))
                })?;
                query.category = Some(category);
            }
            "in" | "label" => {
                if negated {
                    return Err(QueryError(format!("{op}: cannot be negated")));
                }
                if !matches!(lower.as_str(), "anywhere" | "all") {
                    query.folders.push(lower);
                }
            }
            "before" | "after" => {
                if negated {
                    return Err(QueryError(format!("{op}: cannot be negated")));
                }
                let day = parse_day(&lower).ok_or_else(|| {
                    QueryError(format!("{op}: expects a date like 2024-05-01, not {value}"))
                })?;
                if op == "before" {
                    query.before = Some(day);
                } else {
                    query.after = Some(day);
                }
            }
            _ => {
                return Err(QueryError(format!(
                    "unknown operator {op}: (known: {OPERATORS}; put a word with a colon in quotes to search for it)"
                )))
            }
        }
    }
    if let (Some(after), Some(before)) = (query.after, query.before) {
        if after >= before {
            return Err(QueryError(
                "after: must be an earlier day than before:".into(),
            ));
        }
    }
    Ok(query)
}

fn is_operator(op: &str) -> bool {
    matches!(
        op,
        "from" | "to" | "subject" | "has" | "is" | "category" | "in" | "label" | "before" | "after"
    )
}

fn push_term(query: &mut Query, field: Field, text: &str, prefix: bool, negated: bool) {
    let words = words(text);
    if words.is_empty() {
        return;
    }
    query.terms.push(Term {
        field,
        words,
        // A negated word is a whole word: excluding every word that starts
        // with what is typed so far would make results jump while typing.
        prefix: prefix && !negated,
        negated,
    });
}

/// Midnight UTC of a `YYYY-MM-DD` or `YYYY/MM/DD` day, Unix milliseconds.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.split(['-', '/']);
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day == 0 || day > month_days[month as usize - 1] {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
