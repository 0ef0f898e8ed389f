//! What a parsed WIQL query is: the SELECT list, the WHERE clause as a tree
//! of conditions, and the ORDER BY list. The parser builds it; the
//! evaluator and the handler read it.

use super::super::fields::Field;

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
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
pub(super) enum Operand {
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
    /// `@Follows`: the items the user follows (`[System.Id] IN (@Follows)`).
    Follows,
    /// `@RecentMentions`: the items that @mentioned the user in the last 30
    /// days (`[System.Id] IN (@RecentMentions)`).
    RecentMentions,
}

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Cond {
    /// The field compared.
    pub field: &'static Field,
    /// How.
    pub op: Op,
    /// With what (several for IN).
    pub values: Vec<Operand>,
}

/// A WHERE clause.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// A comparison.
    Cond(Cond),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Query {
    /// The SELECT list.
    pub columns: Vec<&'static Field>,
    /// The WHERE clause.
    pub filter: Option<Expr>,
    /// ORDER BY: field and descending.
    pub order: Vec<(&'static Field, bool)>,
}
