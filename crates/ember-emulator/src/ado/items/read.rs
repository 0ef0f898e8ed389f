//! Reading work items as they are or were (`asOf`): one by id, a list of
//! ids, and `workitemsbatch`, with the `fields`, `$expand` and
//! `errorPolicy` options the service takes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::view::{expand_param, Expand, Shape, View};
use super::{changed_ms, json_body, parse_id, JSON_TYPES};
use crate::ado::fields::{self, Field};
use crate::ado::wiql::parse_date;
use crate::ado::{
    argument_error, begin, content_type, item_not_found, reply, resolve_project, vss_error,
    wit_error, Call, Versioning,
};
use crate::state::Shared;
use crate::work_items::WorkItem;

/// Most ids one list or batch call may ask for.
const MAX_IDS: usize = 200;

fn field_list(names: impl Iterator<Item = String>) -> Result<Vec<&'static Field>, Response> {
    names
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            fields::find(&n).ok_or_else(|| {
                wit_error(
                    StatusCode::BAD_REQUEST,
                    &format!("TF51535: Cannot find field {}.", n.trim()),
                    "WorkItemTrackingFieldDefinitionNotFoundException",
                )
            })
        })
        .collect()
}

fn too_many_ids(n: usize) -> Response {
    vss_error(
        StatusCode::BAD_REQUEST,
        &format!("VS403474: You requested {n} work items which exceeds the limit of {MAX_IDS}."),
        "Microsoft.VisualStudio.Services.Common.VssPropertyValidationException, Microsoft.VisualStudio.Services.Common",
        "VssPropertyValidationException",
        3000,
    )
}

/// The revision index an `asOf` picks: the last one changed at or before it.
fn as_of(item: &WorkItem, as_of: Option<i64>) -> Option<usize> {
    match as_of {
        None => Some(View::current(item)),
        Some(t) => item
            .revisions
            .iter()
            .rposition(|r| changed_ms(&r.fields) <= t),
    }
}

fn as_of_param(value: Option<&str>) -> Result<Option<i64>, Response> {
    match value {
        None => Ok(None),
        Some(v) => parse_date(v).map(|d| Some(d.0)).ok_or_else(|| {
            argument_error(
                &format!("The value '{v}' is not valid for parameter asOf."),
                "ArgumentException",
            )
        }),
    }
}

/// Reads `ids` at `as_of` for list and batch: 404 on the first missing id
/// unless `omit`, which leaves `null` in its place.
fn read_many(
    shared: &Shared,
    call: &Call,
    ids: &[u32],
    shape: &Shape,
    as_of_ms: Option<i64>,
    omit: bool,
) -> Response {
    let world = shared.world();
    if let Err(r) = resolve_project(&world, call) {
        return r;
    }
    let view = View::new(shared, call, &world.ado);
    let mut value = Vec::with_capacity(ids.len());
    for &id in ids {
        let found = world
            .ado
            .item(id)
            .and_then(|w| as_of(w, as_of_ms).map(|idx| view.item(w, idx, shape)));
        match found {
            Some(v) => value.push(v),
            None if omit => value.push(Value::Null),
            None => return item_not_found(id),
        }
    }
    reply(
        &json!({"count": value.len(), "value": value}),
        &call.version,
    )
}

fn error_policy(value: Option<&str>) -> Result<bool, Response> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("fail") => Ok(false),
        Some("omit") => Ok(true),
        Some(_) => Err(argument_error(
            &format!(
                "The value '{}' is not valid for parameter errorPolicy. Valid values are Fail, Omit.",
                value.unwrap_or_default()
            ),
            "ArgumentException",
        )),
    }
}

fn conflicting_expand() -> Response {
    wit_error(
        StatusCode::BAD_REQUEST,
        "The expand parameter can not be used with the fields parameter.",
        "ConflictingParametersException",
    )
}

/// `GET /{org}[/{project}]/_apis/wit/workitems?ids=…` (`fields`, `$expand`,
/// `asOf`, `errorPolicy`).
pub(crate) async fn list(
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
    let Some(raw_ids) = call.params.get("ids").filter(|v| !v.trim().is_empty()) else {
        return argument_error(
            "Value cannot be null.\r\nParameter name: ids",
            "ArgumentNullException",
        );
    };
    let ids: Vec<u32> = try_or_return!(raw_ids.split(',').map(parse_id).collect::<Result<_, _>>());
    if ids.len() > MAX_IDS {
        return too_many_ids(ids.len());
    }
    let expand = try_or_return!(expand_param(call.params.get("$expand")));
    let only = match call.params.get("fields") {
        Some(f) => Some(try_or_return!(field_list(f.split(',').map(str::to_owned)))),
        None => None,
    };
    if only.is_some() && expand != Expand::None {
        return conflicting_expand();
    }
    let as_of_ms = try_or_return!(as_of_param(call.params.get("asOf")));
    let omit = try_or_return!(error_policy(call.params.get("errorPolicy")));
    let shape = Shape::new(expand, only, false);
    read_many(&shared, &call, &ids, &shape, as_of_ms, omit)
}

/// `POST /{org}[/{project}]/_apis/wit/workitemsbatch`.
pub(crate) async fn batch(
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
    let Ok(req) = json_body(&body) else {
        return argument_error(
            "Value cannot be null.\r\nParameter name: workItemGetRequest",
            "ArgumentNullException",
        );
    };
    let ids: Option<Vec<u32>> = req.get("ids").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|v| v.as_u64().and_then(|n| u32::try_from(n).ok()))
            .collect()
    });
    let count = req.get("ids").and_then(Value::as_array).map_or(0, Vec::len);
    let Some(ids) = ids.filter(|ids| !ids.is_empty() && ids.len() == count) else {
        return argument_error(
            "The ids of the work items to get must be a non-empty list of integers.\r\nParameter name: ids",
            "ArgumentException",
        );
    };
    if ids.len() > MAX_IDS {
        return too_many_ids(ids.len());
    }
    let expand = try_or_return!(expand_param(req.get("$expand").and_then(Value::as_str)));
    let only = match req.get("fields").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => Some(try_or_return!(field_list(
            list.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
        ))),
        _ => None,
    };
    if only.is_some() && expand != Expand::None {
        return conflicting_expand();
    }
    let as_of_ms = try_or_return!(as_of_param(req.get("asOf").and_then(Value::as_str)));
    let omit = try_or_return!(error_policy(req.get("errorPolicy").and_then(Value::as_str)));
    let shape = Shape::new(expand, only, false);
    read_many(&shared, &call, &ids, &shape, as_of_ms, omit)
}

/// `GET …/workitems/{id}` (`fields`, `$expand`, `asOf`).
pub(crate) async fn get_one(
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
    let id = try_or_return!(parse_id(call.path.get("id").map_or("", String::as_str)));
    let expand = try_or_return!(expand_param(call.params.get("$expand")));
    let only = match call.params.get("fields") {
        Some(f) => Some(try_or_return!(field_list(f.split(',').map(str::to_owned)))),
        None => None,
    };
    if only.is_some() && expand != Expand::None {
        return conflicting_expand();
    }
    let as_of_ms = try_or_return!(as_of_param(call.params.get("asOf")));
    let shape = Shape::new(expand, only, true);
    let world = shared.world();
    try_or_return!(resolve_project(&world, &call));
    let view = View::new(&shared, &call, &world.ado);
    match world
        .ado
        .item(id)
        .and_then(|w| as_of(w, as_of_ms).map(|idx| view.item(w, idx, &shape)))
    {
        Some(body) => reply(&body, &call.version),
        None => item_not_found(id),
    }
}
