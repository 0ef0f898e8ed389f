//! A work item's history: its updates (what each revision changed) and its
//! revisions (the whole item as it was), each as a paged list or one by
//! number.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::view::{expand_param, Shape};
use super::with_item;
use crate::ado::{argument_error, reply, wit_error, Call, Params, Versioning};
use crate::state::Shared;

fn page(params: &Params, len: usize) -> Result<std::ops::Range<usize>, Response> {
    let skip = params.count("$skip")?.unwrap_or(0).min(len);
    let top = params.count("$top")?.unwrap_or(len);
    Ok(skip..skip.saturating_add(top).min(len))
}

fn nth(call: &Call) -> Result<usize, Response> {
    let n = call.path.get("n").map_or("", String::as_str);
    n.trim().parse().map_err(|_| {
        argument_error(
            &format!("The value '{n}' is not valid for this request."),
            "ArgumentException",
        )
    })
}

/// `GET …/workitems/{id}/updates` (`$top`, `$skip`).
pub(crate) async fn updates(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    let body = with_item(&shared, &call, |view, item| {
        let range = page(&call.params, item.revisions.len())?;
        let value: Vec<Value> = range.map(|i| view.update(item, i, false)).collect();
        Ok(json!({"count": value.len(), "value": value}))
    });
    match body {
        Ok(b) => reply(&b, &call.version),
        Err(r) => r,
    }
}

/// `GET …/workitems/{id}/updates/{updateNumber}`.
pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    let body = with_item(&shared, &call, |view, item| {
        let n = nth(&call)?;
        if n == 0 || n > item.revisions.len() {
            return Err(wit_error(
                StatusCode::NOT_FOUND,
                &format!("Work item {} does not have update {n}.", item.id),
                "WitResourceNotFoundException",
            ));
        }
        Ok(view.update(item, n - 1, true))
    });
    match body {
        Ok(b) => reply(&b, &call.version),
        Err(r) => r,
    }
}

/// `GET …/workitems/{id}/revisions` (`$top`, `$skip`, `$expand`).
pub(crate) async fn revisions(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    let expand = try_or_return!(expand_param(call.params.get("$expand")));
    let shape = Shape::new(expand, None, false);
    let body = with_item(&shared, &call, |view, item| {
        let range = page(&call.params, item.revisions.len())?;
        let value: Vec<Value> = range.map(|i| view.revision(item, i, &shape)).collect();
        Ok(json!({"count": value.len(), "value": value}))
    });
    match body {
        Ok(b) => reply(&b, &call.version),
        Err(r) => r,
    }
}

/// `GET …/workitems/{id}/revisions/{revisionNumber}` (`$expand`).
pub(crate) async fn revision(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    let expand = try_or_return!(expand_param(call.params.get("$expand")));
    let shape = Shape::new(expand, None, true);
    let body = with_item(&shared, &call, |view, item| {
        let n = nth(&call)?;
        let idx = item
            .revisions
            .iter()
            .position(|r| r.rev as usize == n)
            .ok_or_else(|| {
                wit_error(
                    StatusCode::NOT_FOUND,
                    &format!("Work item {} does not have revision {n}.", item.id),
                    "WorkItemIdRevisionNotFoundException",
                )
            })?;
        Ok(view.revision(item, idx, &shape))
    });
    match body {
        Ok(b) => reply(&b, &call.version),
        Err(r) => r,
    }
}
