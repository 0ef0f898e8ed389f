//! The search box's language for work items: the same box and habits as
//! mail (free words, `"phrases"`, `-excluded`), with the operators a work
//! item has: `type:` (`bug`, `"user story"`), `state:`, and `assigned:` (a
//! name or address, `me`, or `none`).

use super::{push_term, tokenize, Field, Query, QueryError, Token};

/// The operators, for error messages.
pub const OPERATORS: &str = "type:, state:, assigned:";

/// Who an item is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigned {
    /// The user (the items synced as assigned to them).
    Me,
    /// Nobody.
    Nobody,
    /// Someone whose name or address contains this (lower-cased).
    Who(String),
}

/// A parsed work-item search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkItemSearch {
    /// Free words and phrases over titles and descriptions.
    pub text: Query,
    /// `type:` values (lower-cased); any of them.
    pub types: Vec<String>,
    /// `state:` values (lower-cased); any of them.
    pub states: Vec<String>,
    /// `assigned:`.
    pub assigned: Option<Assigned>,
}

/// Parses what the user typed.
pub fn parse(text: &str) -> Result<WorkItemSearch, QueryError> {
    let mut search = WorkItemSearch::default();
    for token in tokenize(text) {
        let Token {
            negated,
            operator,
            value,
            quoted,
            at_end,
        } = token;
        let Some(op) = operator else {
            push_term(
                &mut search.text,
                Field::Any,
                &value,
                !quoted && at_end,
                negated,
            );
            continue;
        };
        let lower = value.trim().to_lowercase();
        if lower.is_empty() {
            // `type:` with nothing after it yet: the user is still typing.
            continue;
        }
        if negated {
            return Err(QueryError(format!("{op}: cannot be negated")));
        }
        match op.as_str() {
            "type" => search.types.push(lower),
            "state" => search.states.push(lower),
            "assigned" => {
                search.assigned = Some(match lower.as_str() {
                    "me" | "@me" => Assigned::Me,
                    "none" | "nobody" | "unassigned" => Assigned::Nobody,
                    _ => Assigned::Who(lower),
                });
            }
            _ => {
                return Err(QueryError(format!(
                    "unknown operator {op}: for work items (known: {OPERATORS})"
                )))
            }
        }
    }
    Ok(search)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_and_words_parse_like_the_mail_box() -> Result<(), QueryError> {
        let s = parse(r#"type:bug state:Active assigned:me crash "on start" -flaky"#)?;
        assert_eq!(s.types, ["bug"]);
        assert_eq!(s.states, ["active"]);
        assert_eq!(s.assigned, Some(Assigned::Me));
        assert_eq!(s.text.terms.len(), 3);
        assert!(s.text.terms[2].negated);
        let s = parse(r#"type:"user story" assigned:jamie"#)?;
        assert_eq!(s.types, ["user story"]);
        assert_eq!(s.assigned, Some(Assigned::Who("jamie".into())));
        assert_eq!(parse("assigned:none")?.assigned, Some(Assigned::Nobody));
        assert!(parse("type:").is_ok(), "still typing");
        assert!(parse("from:bob").is_err());
        assert!(parse("-state:closed").is_err());
        Ok(())
    }
}
