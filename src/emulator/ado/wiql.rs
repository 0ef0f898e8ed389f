//! A small WIQL parser and evaluator for the flat work item queries clients
//! send: `SELECT fields FROM WorkItems [WHERE condition] [ORDER BY fields]`.
//!
//! Conditions compare a field with a constant or a macro (`@me`, `@project`,
//! `@today - n`) using `= <> != < > <= >=`, `[NOT] IN (...)`,
//! `[NOT] CONTAINS` and `[NOT] UNDER`, joined by `AND`/`OR` and parentheses.
//! Date comparisons follow the real service: without `timePrecision=true` a
//! date literal may not carry a time of day and compares whole days.
//! Anything else (link queries, `ASOF`, `EVER`, field-to-field comparisons,
//! other macros) is refused with an error rather than ignored.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::fields::{self, Field, Kind};

const DAY_MS: i64 = 86_400_000;

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WiqlError {
    /// The message, as the service words it.
    pub message: String,
}

fn err(message: &str, node: &str) -> WiqlError {
    WiqlError {
        message: format!("{message} The error is caused by «{node}»."),
    }
}

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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Field(String),
    Str(String),
    Num(String),
    Macro(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    text: String,
}

fn lex(src: &str) -> Result<Vec<Token>, WiqlError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            '[' => {
                let end = chars[i..].iter().position(|&c| c == ']').map(|p| i + p);
                let Some(end) = end else {
                    return Err(err("Expecting ']'.", &text(i, chars.len())));
                };
                i = end + 1;
                Tok::Field(text(start + 1, end))
            }
            '\'' | '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err("Expecting closing quote.", &text(start, i))),
                        Some(&q) if q == c => {
                            if chars.get(i + 1) == Some(&c) {
                                value.push(c);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                Tok::Str(value)
            }
            '@' => {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                Tok::Macro(text(start + 1, i).to_ascii_lowercase())
            }
            '(' | ')' | ',' | '+' | '-' => {
                i += 1;
                match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    ',' => Tok::Comma,
                    '+' => Tok::Plus,
                    _ => Tok::Minus,
                }
            }
            '<' | '>' | '=' | '!' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => ("<>", 2),
                    ('!', Some('=')) => ("<>", 2),
                    ('<', Some('=')) => ("<=", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', _) => ("<", 1),
                    ('>', _) => (">", 1),
                    ('=', _) => ("=", 1),
                    _ => ("", 1),
                };
                i += len;
                if op.is_empty() {
                    Tok::Other
                } else {
                    Tok::Op(op)
                }
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                Tok::Num(text(start, i))
            }
            c if c.is_alphanumeric() || c == '_' => {
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                Tok::Word(text(start, i))
            }
            _ => {
                i += 1;
                Tok::Other
            }
        };
        out.push(Token {
            tok,
            text: text(start, i),
        });
    }
    Ok(out)
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `=`
    Eq,
    /// `<>` or `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `IN (...)`
    In,
    /// `NOT IN (...)`
    NotIn,
    /// `CONTAINS`
    Contains,
    /// `NOT CONTAINS`
    NotContains,
    /// `UNDER`
    Under,
    /// `NOT UNDER`
    NotUnder,
}

/// A right-hand side.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// A string constant.
    Str(String),
    /// A number.
    Num(f64),
    /// A date: milliseconds, and whether a time of day was given.
    Date(i64, bool),
    /// `@me`.
    Me,
    /// `@project`.
    Project,
}

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cond {
    /// The field compared.
    pub field: &'static Field,
    /// How.
    pub op: Op,
    /// With what (several for IN).
    pub values: Vec<Operand>,
}

/// A WHERE clause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// A comparison.
    Cond(Cond),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    /// The SELECT list.
    pub columns: Vec<&'static Field>,
    /// The WHERE clause.
    pub filter: Option<Expr>,
    /// ORDER BY: field and descending.
    pub order: Vec<(&'static Field, bool)>,
}

/// What parsing depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// `timePrecision=true` was passed.
    pub time_precision: bool,
    /// Now, for `@today`.
    pub now_ms: i64,
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

fn is_word(t: Option<&Token>, word: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(word))
}

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
}

fn is_keyword(w: &str) -> bool {
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "ORDER", "BY", "ASC", "DESC",
        "CONTAINS", "UNDER", "EVER", "ASOF", "MODE",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(w))
}

/// Parses a date constant: ISO 8601 with or without time and zone, or
/// `M/D/YYYY`. Returns UTC milliseconds and whether a time of day was given
/// (midnight counts as no time).
pub(crate) fn parse_date(s: &str) -> Option<(i64, bool)> {
    let s = s.trim();
    let ms = if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        d.timestamp_millis()
    } else if let Ok(d) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        d.and_utc().timestamp_millis()
    } else if let Ok(d) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        d.and_utc().timestamp_millis()
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis()
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%m/%d/%Y") {
        d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis()
    } else {
        return None;
    };
    Some((ms, ms.rem_euclid(DAY_MS) != 0))
}

/// Parses `text` as WIQL.
pub(crate) fn parse(text: &str, opts: Options) -> Result<Query, WiqlError> {
    let toks = lex(text)?;
    Parser {
        toks: &toks,
        pos: 0,
        opts,
        unknown: None,
    }
    .query()
}

/// Who and where a query runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    /// `@me`: display name and unique name.
    pub me: (&'a str, &'a str),
    /// `@project`, when the URL names one.
    pub project: Option<&'a str>,
    /// `timePrecision=true`.
    pub time_precision: bool,
}

/// Whether `expr` holds for an item whose field values `get` returns.
pub(crate) fn matches(expr: &Expr, get: &dyn Fn(&Field) -> Option<Value>, env: &Env<'_>) -> bool {
    match expr {
        Expr::And(a, b) => matches(a, get, env) && matches(b, get, env),
        Expr::Or(a, b) => matches(a, get, env) || matches(b, get, env),
        Expr::Cond(c) => holds(c, get(c.field).as_ref(), env),
    }
}

fn holds(c: &Cond, value: Option<&Value>, env: &Env<'_>) -> bool {
    // At an organisation-wide URL @project has no value and matches nothing.
    if env.project.is_none() && c.values.contains(&Operand::Project) {
        return false;
    }
    let eq = |v: &Operand| compare(c.field, value, v, env) == Some(Ordering::Equal);
    match c.op {
        Op::In => c.values.iter().any(eq),
        Op::NotIn => !c.values.iter().any(eq),
        Op::Eq => c.values.first().is_some_and(eq),
        Op::Ne => !c.values.first().is_some_and(eq),
        Op::Lt | Op::Gt | Op::Le | Op::Ge => {
            let Some(ord) = c
                .values
                .first()
                .and_then(|v| compare(c.field, value, v, env))
            else {
                return false;
            };
            match c.op {
                Op::Lt => ord == Ordering::Less,
                Op::Gt => ord == Ordering::Greater,
                Op::Le => ord != Ordering::Greater,
                _ => ord != Ordering::Less,
            }
        }
        Op::Contains | Op::NotContains => {
            let found = c
                .values
                .first()
                .is_some_and(|v| contains(c.field, value, v, env));
            found == (c.op == Op::Contains)
        }
        Op::Under | Op::NotUnder => {
            let under = match (value.and_then(Value::as_str), c.values.first()) {
                (Some(path), Some(Operand::Str(root))) => {
                    let (path, root) = (path.to_lowercase(), root.to_lowercase());
                    path == root || path.starts_with(&format!("{root}\\"))
                }
                _ => false,
            };
            under == (c.op == Op::Under)
        }
    }
}

/// The text a field value compares as.
fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Some(other) => other.to_string(),
    }
}

fn operand_text(v: &Operand, env: &Env<'_>) -> String {
    match v {
        Operand::Str(s) => s.clone(),
        Operand::Num(n) => n.to_string(),
        Operand::Date(ms, _) => super::super::work_items::iso(*ms),
        Operand::Me => env.me.0.to_owned(),
        Operand::Project => env.project.unwrap_or_default().to_owned(),
    }
}

/// How a field value compares with an operand; `None` when they cannot be
/// ordered (a missing date or number).
fn compare(field: &Field, value: Option<&Value>, v: &Operand, env: &Env<'_>) -> Option<Ordering> {
    match (field.kind, v) {
        (Kind::DateTime, Operand::Date(ms, _)) => {
            let (have, _) = parse_date(value.and_then(Value::as_str)?)?;
            Some(if env.time_precision {
                have.cmp(ms)
            } else {
                have.div_euclid(DAY_MS).cmp(&ms.div_euclid(DAY_MS))
            })
        }
        (Kind::Integer | Kind::Double, Operand::Num(n)) => {
            let have = value.and_then(Value::as_f64)?;
            have.partial_cmp(n)
        }
        (Kind::Identity, Operand::Me) => {
            let same = identity_is(value, env.me.0, Some(env.me.1));
            Some(if same {
                Ordering::Equal
            } else {
                text_of(value).to_lowercase().cmp(&env.me.0.to_lowercase())
            })
        }
        (Kind::Identity, Operand::Str(s)) => {
            let (name, email) = split_identity(s);
            Some(if identity_is(value, name, email) {
                Ordering::Equal
            } else {
                text_of(value).to_lowercase().cmp(&s.to_lowercase())
            })
        }
        _ => Some(
            text_of(value)
                .to_lowercase()
                .cmp(&operand_text(v, env).to_lowercase()),
        ),
    }
}

/// `"Name <email>"` → name and email; otherwise the text alone.
fn split_identity(s: &str) -> (&str, Option<&str>) {
    match s.trim().strip_suffix('>').and_then(|t| t.split_once('<')) {
        Some((name, email)) => (name.trim(), Some(email.trim())),
        None => (s.trim(), None),
    }
}

/// Whether an identity field value names this person (by display name,
/// unique name or both).
fn identity_is(value: Option<&Value>, name: &str, email: Option<&str>) -> bool {
    let Some(value) = value else {
        return name.is_empty();
    };
    let (display, unique) = match value {
        Value::Object(o) => (
            o.get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            o.get("uniqueName")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        Value::String(s) => match split_identity(s) {
            (n, Some(e)) => (n, e),
            (n, None) => (n, n),
        },
        _ => return false,
    };
    match email {
        Some(email) => unique.eq_ignore_ascii_case(email),
        None => display.eq_ignore_ascii_case(name) || unique.eq_ignore_ascii_case(name),
    }
}

fn contains(field: &Field, value: Option<&Value>, v: &Operand, env: &Env<'_>) -> bool {
    let needle = operand_text(v, env).to_lowercase();
    let hay = match value {
        Some(Value::Object(o)) => format!(
            "{} <{}>",
            o.get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            o.get("uniqueName")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
        other => text_of(other),
    }
    .to_lowercase();
    if field.reference == "System.Tags" {
        // Tags match whole tags.
        hay.split(';').any(|t| t.trim() == needle.trim())
    } else {
        hay.contains(&needle)
    }
}

/// Orders two values of `field` for ORDER BY (missing values first).
pub(crate) fn order(field: &Field, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let present = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    match (present(a), present(b)) {
        (false, false) => return Ordering::Equal,
        (false, true) => return Ordering::Less,
        (true, false) => return Ordering::Greater,
        _ => {}
    }
    match field.kind {
        Kind::DateTime => {
            let ms =
                |v: Option<&Value>| v.and_then(Value::as_str).and_then(parse_date).map(|d| d.0);
            ms(a).cmp(&ms(b))
        }
        Kind::Integer | Kind::Double => {
            let n = |v: Option<&Value>| v.and_then(Value::as_f64).unwrap_or_default();
            n(a).partial_cmp(&n(b)).unwrap_or(Ordering::Equal)
        }
        _ => text_of(a).to_lowercase().cmp(&text_of(b).to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn opts(time_precision: bool) -> Options {
        Options {
            time_precision,
            now_ms: NOW,
        }
    }

    fn q(text: &str) -> Result<Query, WiqlError> {
        parse(text, opts(true))
    }

    fn env() -> Env<'static> {
        Env {
            me: ("Alex Rivera", "alex.rivera@contoso.example"),
            project: Some("Fabrikam Fiber"),
            time_precision: true,
        }
    }

    fn item() -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("System.Id".into(), json!(7));
        m.insert("System.State".into(), json!("Active"));
        m.insert("System.WorkItemType".into(), json!("Bug"));
        m.insert("System.TeamProject".into(), json!("Fabrikam Fiber"));
        m.insert("System.AreaPath".into(), json!("Fabrikam Fiber\\Sync"));
        m.insert(
            "System.ChangedDate".into(),
            json!("2027-01-15T08:00:00.500Z"),
        );
        m.insert("System.Tags".into(), json!("ui; sync"));
        m.insert(
            "System.AssignedTo".into(),
            json!({"displayName": "Alex Rivera", "uniqueName": "alex.rivera@contoso.example"}),
        );
        m
    }

    fn run(text: &str) -> bool {
        let query = q(text).unwrap();
        let fields = item();
        let get = |f: &Field| fields.get(f.reference).cloned();
        query
            .filter
            .as_ref()
            .is_none_or(|e| matches(e, &get, &env()))
    }

    #[test]
    fn the_queries_ember_sends_parse_and_match() {
        assert!(run("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.ChangedDate] >= '2027-01-15T08:00:00Z'"));
        assert!(!run(
            "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] > '2027-01-15T08:00:01Z'"
        ));
        assert!(run(
            "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] < '2027-01-15T08:00:01Z'"
        ));
        assert!(run("select [System.Id] from workitems where [System.AssignedTo] = @Me and [System.State] <> 'Closed' and [System.WorkItemType] = 'Bug' order by [System.ChangedDate] desc"));
        assert!(run(
            "SELECT System.Id FROM WorkItems WHERE [State] IN ('New', 'active')"
        ));
        assert!(!run(
            "SELECT [System.Id] FROM WorkItems WHERE [State] NOT IN ('New', 'active')"
        ));
        assert!(run(
            "SELECT [System.Id] FROM WorkItems WHERE [System.AreaPath] UNDER 'fabrikam fiber'"
        ));
        assert!(run("SELECT [System.Id] FROM WorkItems WHERE [System.Tags] CONTAINS 'ui' AND ([System.Id] > 5 OR [System.Id] = 1)"));
        assert!(run("SELECT [System.Id] FROM WorkItems WHERE [Assigned To] = 'Alex Rivera <alex.rivera@contoso.example>'"));
        assert!(run(
            "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= @today - 30000"
        ));
        assert!(!run(
            "SELECT [System.Id] FROM WorkItems WHERE [Microsoft.VSTS.Common.Priority] = 1"
        ));
        let query = q("SELECT [System.Id], [System.Title] FROM WorkItems ORDER BY [System.ChangedDate] DESC, [System.Id]").unwrap();
        assert_eq!(query.columns.len(), 2);
        assert_eq!(query.order.len(), 2);
        assert!(query.order[0].1 && !query.order[1].1);
    }

    #[test]
    fn dates_without_time_precision_compare_whole_days() {
        let e = parse(
            "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= '2026-07-27T15:02:58Z'",
            opts(false),
        )
        .unwrap_err();
        assert_eq!(e.message, "You cannot supply a time with the date when running a query using date precision. The error is caused by «[System.ChangedDate] >= '2026-07-27T15:02:58Z'».");
        let query = parse(
            "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] = '2027-01-15'",
            opts(false),
        )
        .unwrap();
        let fields = item();
        let get = |f: &Field| fields.get(f.reference).cloned();
        let day_env = Env {
            time_precision: false,
            ..env()
        };
        assert!(matches(query.filter.as_ref().unwrap(), &get, &day_env));
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
        assert!(q("SELECT [System.Id] FROM WorkItems WHERE").is_err());
        assert!(
            q("SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'unterminated").is_err()
        );
    }

    #[test]
    fn project_at_organisation_level_matches_nothing() {
        let query =
            q("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] <> @project").unwrap();
        let fields = item();
        let get = |f: &Field| fields.get(f.reference).cloned();
        let org_env = Env {
            project: None,
            ..env()
        };
        assert!(!matches(query.filter.as_ref().unwrap(), &get, &org_env));
    }

    #[test]
    fn dates_parse_in_the_usual_forms() {
        assert_eq!(parse_date("2027-01-15"), Some((1_799_971_200_000, false)));
        assert_eq!(
            parse_date("2027-01-15T00:00:00Z"),
            Some((1_799_971_200_000, false))
        );
        assert_eq!(
            parse_date("2027-01-15T08:00:00.5Z").map(|d| d.1),
            Some(true)
        );
        assert_eq!(parse_date("1/15/2027"), Some((1_799_971_200_000, false)));
        assert_eq!(parse_date("yesterday"), None);
    }
}
