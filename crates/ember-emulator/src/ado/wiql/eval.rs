//! The WIQL evaluator: whether a parsed WHERE clause holds for a work item,
//! comparing as the service does (identities by name or address, dates by
//! day unless `timePrecision`, tags as whole tags, paths by subtree), and
//! how ORDER BY orders two values.

use std::cmp::Ordering;

use serde_json::Value;

use super::ast::{Cond, Expr, Op, Operand};
use super::date::{parse_date, DAY_MS};
use crate::ado::fields::{Field, Kind};

/// Who and where a query runs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Env<'a> {
    /// `@me`: display name and unique name.
    pub(super) me: (&'a str, &'a str),
    /// `@project`, when the URL names one.
    pub(super) project: Option<&'a str>,
    /// `timePrecision=true`.
    pub(super) time_precision: bool,
    /// `@Follows`: ids, ascending.
    pub(super) follows: &'a [u32],
    /// `@RecentMentions`: ids, ascending.
    pub(super) mentions: &'a [u32],
}

/// Whether `expr` holds for an item whose field values `get` returns.
pub(super) fn matches(expr: &Expr, get: &dyn Fn(&Field) -> Option<Value>, env: &Env<'_>) -> bool {
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
        Operand::Date(ms, _) => crate::work_items::iso(*ms),
        Operand::Me => env.me.0.to_owned(),
        Operand::Project => env.project.unwrap_or_default().to_owned(),
        Operand::Follows => "@Follows".into(),
        Operand::RecentMentions => "@RecentMentions".into(),
    }
}

/// How a field value compares with an operand; `None` when they cannot be
/// ordered (a missing date or number).
fn compare(field: &Field, value: Option<&Value>, v: &Operand, env: &Env<'_>) -> Option<Ordering> {
    match (field.kind, v) {
        (_, Operand::Follows | Operand::RecentMentions) => {
            let set = if *v == Operand::Follows {
                env.follows
            } else {
                env.mentions
            };
            let id = value
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())?;
            Some(if set.binary_search(&id).is_ok() {
                Ordering::Equal
            } else {
                Ordering::Less
            })
        }
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
pub(super) fn order(field: &Field, a: Option<&Value>, b: Option<&Value>) -> Ordering {
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
    use crate::ado::wiql::ast::Query;
    use crate::ado::wiql::parse::{parse, Options};
    use crate::ado::wiql::WiqlError;

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
            follows: &[3, 7],
            mentions: &[8],
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
    fn follows_and_recent_mentions_are_sets_of_ids() {
        assert!(run(
            "SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN (@Follows)"
        ));
        assert!(!run(
            "SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN (@RecentMentions)"
        ));
        assert!(run(
            "SELECT [System.Id] FROM WorkItems WHERE [System.Id] NOT IN (@RecentMentions) AND [System.ChangedDate] >= '2027-01-01T00:00:00Z' ORDER BY [System.ChangedDate]"
        ));
        assert!(run(
            "SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN (@RecentMentions, 7)"
        ));
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
}
