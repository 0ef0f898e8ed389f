//! The WIQL parser: tokens to a [`Query`], checking each operand against
//! its field's type and refusing, with the service's messages, what the
//! emulator does not run.

use super::ast::{Cond, Expr, Op, Operand, Query};
use super::date::{parse_date, DAY_MS};
use super::lex::{is_keyword, is_word, lex, Tok, Token};
use super::{err, WiqlError};
use crate::ado::fields::{self, Field, Kind};

/// Real service messages.
const MISSING_FROM: &str = "TF51006: The query statement is missing a FROM clause.";
const EXPECT_COMPARISON: &str = "Expecting comparison operator.";
const EXPECT_CONSTANT: &str = "Expecting constant value.";
const UNKNOWN_FIELD: &str = "TF51005: The query references a field that does not exist.";
const TIME_WITH_DATE: &str =
    "You cannot supply a time with the date when running a query using date precision.";
const TREE_OPERATOR: &str = "The specified operator cannot be used with area path fields.";
/// The emulator's own (the real service would run these queries).
const UNSUPPORTED: &str = "The Ember emulator does not support this part of WIQL.";

/// What parsing depends on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Options {
    /// `timePrecision=true` was passed.
    pub(super) time_precision: bool,
    /// Now, for `@today`.
    pub(super) now_ms: i64,
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    opts: Options,
    /// The first unknown field: reported after the syntax is checked.
    unknown: Option<WiqlError>,
}

/// Stands in for an unknown field until the whole query is read.
static UNKNOWN: Field = Field {
    reference: "",
    name: "",
    kind: Kind::String,
    read_only: true,
};

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.toks.get(self.pos + n)
    }

    /// The text of the current token, or of the last one at the end.
    fn here(&self) -> String {
        self.peek()
            .or_else(|| self.toks.last())
            .map(|t| t.text.clone())
            .unwrap_or_default()
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if is_word(self.peek(), word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A field reference: `[Name]` or a bare `System.Id`.
    fn field(&mut self, expecting: &str) -> Result<&'static Field, WiqlError> {
        let Some(t) = self.peek() else {
            return Err(err(expecting, &self.here()));
        };
        let name = match &t.tok {
            Tok::Field(name) => name.clone(),
            Tok::Word(w) if !is_keyword(w) => w.clone(),
            _ => return Err(err(expecting, &t.text)),
        };
        let text = t.text.clone();
        self.pos += 1;
        Ok(fields::find(&name).unwrap_or_else(|| {
            self.unknown
                .get_or_insert_with(|| err(UNKNOWN_FIELD, &text));
            &UNKNOWN
        }))
    }

    fn query(&mut self) -> Result<Query, WiqlError> {
        if !self.eat_word("SELECT") {
            return Err(err("Expecting SELECT.", &self.here()));
        }
        let mut columns = vec![self.field("Expecting field name.")?];
        loop {
            match self.peek().map(|t| &t.tok) {
                Some(Tok::Comma) => {
                    self.pos += 1;
                    columns.push(self.field("Expecting field name.")?);
                }
                _ if is_word(self.peek(), "FROM") => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(err(MISSING_FROM, &self.here())),
            }
        }
        if is_word(self.peek(), "WorkItemLinks") {
            return Err(err(UNSUPPORTED, &self.here()));
        }
        if !self.eat_word("WorkItems") {
            return Err(err("Expecting WorkItems or WorkItemLinks.", &self.here()));
        }
        let filter = if self.eat_word("WHERE") {
            Some(self.or()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.eat_word("ORDER") {
            if !self.eat_word("BY") {
                return Err(err("Expecting BY.", &self.here()));
            }
            loop {
                let field = self.field("Expecting field name.")?;
                let desc = if self.eat_word("DESC") {
                    true
                } else {
                    self.eat_word("ASC");
                    false
                };
                order.push((field, desc));
                if matches!(self.peek().map(|t| &t.tok), Some(Tok::Comma)) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        if let Some(t) = self.peek() {
            let message = if is_word(Some(t), "ASOF") || is_word(Some(t), "MODE") {
                UNSUPPORTED
            } else {
                "Expecting end of statement."
            };
            return Err(err(message, &t.text));
        }
        if let Some(unknown) = self.unknown.take() {
            return Err(unknown);
        }
        Ok(Query {
            columns,
            filter,
            order,
        })
    }

    fn or(&mut self) -> Result<Expr, WiqlError> {
        let mut left = self.and()?;
        while self.eat_word("OR") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, WiqlError> {
        let mut left = self.primary()?;
        while self.eat_word("AND") {
            let right = self.primary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, WiqlError> {
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::LParen)) {
            self.pos += 1;
            let inner = self.or()?;
            if !matches!(self.peek().map(|t| &t.tok), Some(Tok::RParen)) {
                return Err(err("Expecting ')'.", &self.here()));
            }
            self.pos += 1;
            return Ok(inner);
        }
        if is_word(self.peek(), "NOT") || is_word(self.peek(), "EVER") {
            return Err(err(UNSUPPORTED, &self.here()));
        }
        self.condition().map(Expr::Cond)
    }

    fn condition(&mut self) -> Result<Cond, WiqlError> {
        let start = self.pos;
        let field = self.field("Expecting field name.")?;
        let op = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Op(o)) => {
                self.pos += 1;
                match o {
                    "=" => Op::Eq,
                    "<>" => Op::Ne,
                    "<" => Op::Lt,
                    ">" => Op::Gt,
                    "<=" => Op::Le,
                    _ => Op::Ge,
                }
            }
            Some(Tok::Word(w)) => {
                let negated = w.eq_ignore_ascii_case("NOT");
                let word = if negated {
                    self.pos += 1;
                    match self.peek().map(|t| t.tok.clone()) {
                        Some(Tok::Word(w)) => w,
                        _ => return Err(err(EXPECT_COMPARISON, &self.here())),
                    }
                } else {
                    w
                };
                let op = match (word.to_ascii_uppercase().as_str(), negated) {
                    ("IN", false) => Op::In,
                    ("IN", true) => Op::NotIn,
                    ("CONTAINS", false) => Op::Contains,
                    ("CONTAINS", true) => Op::NotContains,
                    ("UNDER", false) => Op::Under,
                    ("UNDER", true) => Op::NotUnder,
                    ("EVER", _) => return Err(err(UNSUPPORTED, &self.here())),
                    _ => return Err(err(EXPECT_COMPARISON, &self.here())),
                };
                self.pos += 1;
                if is_word(self.peek(), "GROUP") || is_word(self.peek(), "WORDS") {
                    return Err(err(UNSUPPORTED, &self.here()));
                }
                op
            }
            _ => return Err(err(EXPECT_COMPARISON, &self.here())),
        };
        let values = if matches!(op, Op::In | Op::NotIn) {
            if !matches!(self.peek().map(|t| &t.tok), Some(Tok::LParen)) {
                return Err(err("Expecting '('.", &self.here()));
            }
            self.pos += 1;
            let mut values = vec![self.operand()?];
            loop {
                match self.peek().map(|t| &t.tok) {
                    Some(Tok::Comma) => {
                        self.pos += 1;
                        values.push(self.operand()?);
                    }
                    Some(Tok::RParen) => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(err("Expecting ')'.", &self.here())),
                }
            }
            values
        } else {
            vec![self.operand()?]
        };
        let text = self.toks[start..self.pos]
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let values = values
            .into_iter()
            .map(|v| self.typed(field, op, v, &text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cond { field, op, values })
    }

    /// A constant or macro, before typing.
    fn operand(&mut self) -> Result<Raw, WiqlError> {
        let Some(t) = self.peek().cloned() else {
            return Err(err(EXPECT_CONSTANT, &self.here()));
        };
        self.pos += 1;
        match t.tok {
            Tok::Str(s) => Ok(Raw::Str(s, t.text)),
            Tok::Num(n) => Ok(Raw::Num(n)),
            Tok::Minus => match self.peek().map(|t| t.tok.clone()) {
                Some(Tok::Num(n)) => {
                    self.pos += 1;
                    Ok(Raw::Num(format!("-{n}")))
                }
                _ => Err(err(EXPECT_CONSTANT, &self.here())),
            },
            Tok::Macro(m) => match m.as_str() {
                "me" => Ok(Raw::Me),
                "project" => Ok(Raw::Project),
                "follows" => Ok(Raw::IdSet(Operand::Follows, t.text)),
                "recentmentions" => Ok(Raw::IdSet(Operand::RecentMentions, t.text)),
                "today" => {
                    let sign = match self.peek().map(|t| &t.tok) {
                        Some(Tok::Plus) => 1,
                        Some(Tok::Minus) => -1,
                        _ => return Ok(Raw::Today(0)),
                    };
                    match self.peek_at(1).map(|t| t.tok.clone()) {
                        Some(Tok::Num(n)) => {
                            self.pos += 2;
                            let days: i64 = n.parse().map_err(|_| err(EXPECT_CONSTANT, &n))?;
                            Ok(Raw::Today(sign * days))
                        }
                        _ => Err(err(EXPECT_CONSTANT, &self.here())),
                    }
                }
                _ => Err(err(UNSUPPORTED, &t.text)),
            },
            // A field on the right: field-to-field comparisons.
            Tok::Field(_) => Err(err(UNSUPPORTED, &t.text)),
            _ => Err(err(EXPECT_CONSTANT, &t.text)),
        }
    }

    /// Checks an operand against the field's type.
    fn typed(&self, field: &Field, op: Op, raw: Raw, cond: &str) -> Result<Operand, WiqlError> {
        let tree = field.kind == Kind::TreePath;
        if tree && matches!(op, Op::Contains | Op::NotContains) {
            return Err(err(TREE_OPERATOR, cond));
        }
        if !tree && matches!(op, Op::Under | Op::NotUnder) {
            return Err(err(
                "The specified operator can only be used with area and iteration path fields.",
                cond,
            ));
        }
        match (field.kind, raw) {
            (_, Raw::IdSet(set, text)) => {
                if field.reference == "System.Id" && matches!(op, Op::In | Op::NotIn) {
                    Ok(set)
                } else {
                    Err(err(
                        &format!("The macro '{text}' can only be used with the In operator on the field 'ID'."),
                        cond,
                    ))
                }
            }
            (_, Raw::Me) => Ok(Operand::Me),
            (_, Raw::Project) => Ok(Operand::Project),
            (Kind::DateTime, Raw::Today(days)) => {
                let today = self.opts.now_ms.div_euclid(DAY_MS) * DAY_MS;
                Ok(Operand::Date(today + days * DAY_MS, false))
            }
            (Kind::DateTime, Raw::Str(s, text)) => {
                let Some((ms, has_time)) = parse_date(&s) else {
                    return Err(err("The query contains an invalid date value.", &text));
                };
                if has_time && !self.opts.time_precision {
                    return Err(err(TIME_WITH_DATE, cond));
                }
                Ok(Operand::Date(ms, has_time))
            }
            (Kind::DateTime, Raw::Num(n)) => {
                Err(err("The query contains an invalid date value.", &n))
            }
            (_, Raw::Today(_)) => Err(err(
                "The @today macro can only be used with date fields.",
                cond,
            )),
            (Kind::Integer | Kind::Double, Raw::Num(n)) => n
                .parse()
                .map(Operand::Num)
                .map_err(|_| err(EXPECT_CONSTANT, &n)),
            (Kind::Integer | Kind::Double, Raw::Str(s, text)) => {
                if s.trim().is_empty() && matches!(op, Op::Eq | Op::Ne) {
                    return Ok(Operand::Str(String::new()));
                }
                s.trim()
                    .parse()
                    .map(Operand::Num)
                    .map_err(|_| err("The query contains a value that is not a number.", &text))
            }
            (_, Raw::Str(s, _)) => Ok(Operand::Str(s)),
            (_, Raw::Num(n)) => Ok(Operand::Str(n)),
        }
    }
}

/// An operand as written.
enum Raw {
    Str(String, String),
    Num(String),
    Me,
    Project,
    Today(i64),
    /// `@Follows` or `@RecentMentions`, and the macro as written.
    IdSet(Operand, String),
}

/// Parses `text` as WIQL.
pub(super) fn parse(text: &str, opts: Options) -> Result<Query, WiqlError> {
    let toks = lex(text)?;
    Parser {
        toks: &toks,
        pos: 0,
        opts,
        unknown: None,
    }
    .query()
}
#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Result<Query, WiqlError> {
        parse(
            text,
            Options {
                time_precision: true,
                now_ms: 1_800_000_000_000,
            },
        )
    }

    #[test]
    fn errors_read_like_the_service() {
        let e = q("SELECT [System.Sprint] FROM WorkItems").unwrap_err();
        assert_eq!(e.message, "TF51005: The query references a field that does not exist. The error is caused by «[System.Sprint]».");
        let e = q("SELECT TOP 5000 [System.Id] FROM WorkItems").unwrap_err();
        assert!(e.message.starts_with("TF51006"), "{}", e.message);
        let e = q("SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN ()").unwrap_err();
        assert_eq!(
            e.message,
            "Expecting constant value. The error is caused by «)»."
        );
        let e = q("SELECT [System.Id] FROM WorkItems WHERE [System.Id] 5").unwrap_err();
        assert!(e.message.starts_with("Expecting comparison operator."));
        let e = q("SELECT [System.Id] FROM WorkItems WHERE [System.IterationPath] CONTAINS 'x'")
            .unwrap_err();
        assert!(e
            .message
            .starts_with("The specified operator cannot be used with area path fields."));
        for unsupported in [
            "SELECT [System.Id] FROM WorkItemLinks",
            "SELECT [System.Id] FROM WorkItems ASOF '2020-01-01'",
            "SELECT [System.Id] FROM WorkItems WHERE [System.State] EVER 'Active'",
            "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] > [System.CreatedDate]",
            "SELECT [System.Id] FROM WorkItems WHERE [System.IterationPath] = @CurrentIteration",
            "SELECT [System.Id] FROM WorkItems WHERE [System.AssignedTo] IN GROUP 'x'",
        ] {
            let e = q(unsupported).unwrap_err();
            assert!(
                e.message.starts_with(UNSUPPORTED),
                "{unsupported}: {}",
                e.message
            );
        }
        for misused in [
            "SELECT [System.Id] FROM WorkItems WHERE [System.Id] = @Follows",
            "SELECT [System.Id] FROM WorkItems WHERE [System.Parent] IN (@RecentMentions)",
        ] {
            let e = q(misused).unwrap_err();
            assert!(
                e.message.starts_with("The macro '@"),
                "{misused}: {}",
                e.message
            );
        }
        assert!(q("SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN (@Follows) OR [System.Id] NOT IN (@recentMentions)").is_ok());
        assert!(q("SELECT [System.Id] FROM WorkItems WHERE").is_err());
        assert!(
            q("SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'unterminated").is_err()
        );
    }
}
