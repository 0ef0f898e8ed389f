//! WIQL: `POST /{org}[/{project}]/_apis/wit/wiql`, and saved queries run
//! by id (`GET …/_apis/wit/wiql/{id}`), with a small parser and evaluator
//! for the flat work item queries clients send:
//! `SELECT fields FROM WorkItems [WHERE condition] [ORDER BY fields]`.
//!
//! Conditions compare a field with a constant or a macro (`@me`, `@project`,
//! `@today - n`) using `= <> != < > <= >=`, `[NOT] IN (...)`,
//! `[NOT] CONTAINS` and `[NOT] UNDER`, joined by `AND`/`OR` and parentheses;
//! `[System.Id] [NOT] IN (@Follows)` and `(@RecentMentions)` name the items
//! the token's owner follows and those whose comments @mentioned them in
//! the last 30 days. Date comparisons follow the real service: without
//! `timePrecision=true` a date literal may not carry a time of day and
//! compares whole days. Anything else (link queries, `ASOF`, `EVER`,
//! field-to-field comparisons, other macros) is refused with an error
//! rather than ignored.
//!
//! This module holds the handlers and the error every stage reports; the
//! stages are [`lex`], [`parse`] (into the [`ast`]) and [`eval`].

mod ast;
mod date;
mod eval;
mod lex;
mod parse;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

pub(super) use self::date::parse_date;
use super::fields::Field;
use super::items::{json_body, now_ms, owner, View, JSON_TYPES};
use super::{
    argument_error, begin, content_type, queries, reply, resolve_project, vss_error, wit_error,
    Call, Versioning,
};
use crate::state::Shared;
use crate::work_items::{iso, WorkItem};

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WiqlError {
    /// The message, as the service words it.
    pub message: String,
}

fn err(message: &str, node: &str) -> WiqlError {
    WiqlError {
        message: format!("{message} The error is caused by «{node}»."),
    }
}

/// How far back `@RecentMentions` looks: 30 days.
const RECENT_MENTIONS_MS: i64 = 30 * 24 * 3_600_000;

/// Most work items one WIQL query may return.
const MAX_QUERY_RESULTS: usize = 20_000;

/// The SELECT list and ORDER BY of a query, when it parses.
pub(super) fn shape_of(text: &str) -> Option<Columns> {
    let q = parse::parse(
        text,
        parse::Options {
            time_precision: true,
            now_ms: 0,
        },
    )
    .ok()?;
    Some((q.columns, q.order))
}

/// A query's columns, and its sort columns with whether each descends.
pub(super) type Columns = (Vec<&'static Field>, Vec<(&'static Field, bool)>);

/// `POST /{org}[/{project}]/_apis/wit/wiql` (`$top`, `timePrecision`).
pub(super) async fn query(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = try_or_return!(begin(
        &shared,
        &method,
        path,
        query.as_deref(),
        &headers,
        Versioning::Released
    ));
    try_or_return!(content_type(&headers, &method, JSON_TYPES));
    let text = match json_body(&body) {
        Ok(v) => v.get("query").and_then(Value::as_str).map(str::to_owned),
        Err(_) => None,
    };
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return argument_error(
            "Value cannot be null.\r\nParameter name: wiql",
            "ArgumentNullException",
        );
    };
    run(&shared, &call, &text, None)
}

/// `GET /{org}[/{project}]/_apis/wit/wiql/{id}`: runs a saved query
/// (`$top`, `timePrecision`); `@project` is the URL's project, or the
/// query's own at organisation level.
pub(super) async fn by_id(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = try_or_return!(begin(
        &shared,
        &method,
        path,
        query.as_deref(),
        &headers,
        Versioning::Released
    ));
    let id = call.path.get("id").cloned().unwrap_or_default();
    let found = {
        let world = shared.world();
        try_or_return!(resolve_project(&world, &call));
        queries::find(&world.ado, &id).map(|(project, q)| (project, q.wiql))
    };
    match found {
        Some((project, wiql)) => run(&shared, &call, wiql, Some(project)),
        None => queries::not_found(&id),
    }
}

/// Runs `text` for `call`; `query_project` is the project a saved query
/// belongs to, `@project` when the URL names none.
fn run(shared: &Shared, call: &Call, text: &str, query_project: Option<usize>) -> Response {
    let top = try_or_return!(call.params.count("$top"));
    let time_precision = call.params.flag("timePrecision");
    let now = now_ms();
    let parsed = match parse::parse(
        text,
        parse::Options {
            time_precision,
            now_ms: now,
        },
    ) {
        Ok(q) => q,
        Err(e) => {
            return vss_error(
                StatusCode::BAD_REQUEST,
                &e.message,
                "Microsoft.TeamFoundation.WorkItemTracking.Client.Wiql.SyntaxException, Microsoft.TeamFoundation.WorkItemTracking.Client.QueryLanguage",
                "SyntaxException",
                3000,
            )
        }
    };
    let world = shared.world();
    let project = try_or_return!(resolve_project(&world, call)).or(query_project);
    let project_name = project
        .and_then(|i| world.ado.projects.get(i))
        .map(|p| p.name.as_str());
    let view = View::new(shared, call, &world.ado);
    let follows = world.ado.live_followed();
    let mentions = world.ado.mentioned(Some(now - RECENT_MENTIONS_MS));
    let env = eval::Env {
        me: owner(),
        project: project_name,
        time_precision,
        follows: &follows,
        mentions: &mentions,
    };
    let mut hits: Vec<&WorkItem> = world
        .ado
        .items
        .iter()
        .filter(|w| !w.deleted)
        .filter(|w| {
            parsed.filter.as_ref().is_none_or(|f| {
                let idx = View::current(w);
                let get = |field: &Field| view.value(w, idx, field.reference);
                eval::matches(f, &get, &env)
            })
        })
        .collect();
    let limit = match top {
        Some(t) if t <= MAX_QUERY_RESULTS => t,
        _ => {
            if hits.len() > MAX_QUERY_RESULTS {
                return wit_error(
                    StatusCode::BAD_REQUEST,
                    &format!("VS402337: The number of work items returned exceeds the size limit of {MAX_QUERY_RESULTS}. Change the query to return fewer items."),
                    "WorkItemTrackingQueryResultSizeLimitExceededException",
                );
            }
            top.unwrap_or(MAX_QUERY_RESULTS)
        }
    };
    if !parsed.order.is_empty() {
        hits.sort_by(|a, b| {
            parsed
                .order
                .iter()
                .map(|(field, desc)| {
                    let va = view.value(a, View::current(a), field.reference);
                    let vb = view.value(b, View::current(b), field.reference);
                    let o = eval::order(field, va.as_ref(), vb.as_ref());
                    if *desc {
                        o.reverse()
                    } else {
                        o
                    }
                })
                .find(|o| o.is_ne())
                .unwrap_or_else(|| a.id.cmp(&b.id))
        });
    }
    hits.truncate(limit);
    let mut body = Map::new();
    body.insert("queryType".into(), json!("flat"));
    body.insert("queryResultType".into(), json!("workItem"));
    body.insert("asOf".into(), json!(iso(now)));
    body.insert(
        "columns".into(),
        Value::Array(parsed.columns.iter().map(|f| view.column(f)).collect()),
    );
    if !parsed.order.is_empty() {
        body.insert(
            "sortColumns".into(),
            Value::Array(
                parsed
                    .order
                    .iter()
                    .map(|(f, desc)| json!({"field": view.column(f), "descending": desc}))
                    .collect(),
            ),
        );
    }
    body.insert(
        "workItems".into(),
        Value::Array(
            hits.iter()
                .map(|w| json!({"id": w.id, "url": view.root(w)}))
                .collect(),
        ),
    );
    reply(&Value::Object(body), &call.version)
}
