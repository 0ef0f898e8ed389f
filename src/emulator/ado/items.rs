//! Reading work items: WIQL, get, list, batch, updates and revisions, and
//! the rendering the write side shares.
//!
//! The model keeps each revision's own fields; what the service computes
//! (`System.Id`, `System.Rev`, `System.Watermark`, area and iteration ids and
//! levels, `System.AuthorizedDate`, `System.RevisedDate`, ...) is derived here
//! when a response asks for all fields, and diffs of revisions make the
//! updates.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::fields::{self, Field};
use super::projects::stable_hash;
use super::wiql::{self, parse_date};
use super::{
    argument_error, begin, content_type, item_not_found, reply, resolve_project, vss_error,
    wit_error, ApiVersion, Call, Params, Versioning,
};
use crate::emulator::state::Shared;
use crate::emulator::work_items::{identity, iso, Comment, Organization, WorkItem, PEOPLE};

/// Most ids one list or batch call may ask for.
pub(crate) const MAX_IDS: usize = 200;
/// Most work items one WIQL query may return.
pub(crate) const MAX_QUERY_RESULTS: usize = 20_000;
/// `System.RevisedDate` of a current revision.
const END_OF_TIME: &str = "9999-01-01T00:00:00Z";
/// Fields the service computes rather than stores.
const COMPUTED: &[&str] = &[
    "System.Id",
    "System.AreaId",
    "System.NodeName",
    "System.AreaLevel1",
    "System.AreaLevel2",
    "System.AreaLevel3",
    "System.Rev",
    "System.AuthorizedDate",
    "System.RevisedDate",
    "System.IterationId",
    "System.IterationLevel1",
    "System.IterationLevel2",
    "System.IterationLevel3",
    "System.AuthorizedAs",
    "System.PersonId",
    "System.Watermark",
];

pub(super) const JSON_TYPES: &[&str] = &["application/json", "application/json-patch+json"];

/// The person the personal access token belongs to.
pub(super) fn owner() -> (&'static str, &'static str) {
    PEOPLE[0]
}

/// A known person by display name or address.
pub(super) fn person(text: &str) -> Option<(&'static str, &'static str)> {
    let text = text.trim();
    PEOPLE
        .iter()
        .copied()
        .find(|(n, e)| n.eq_ignore_ascii_case(text) || e.eq_ignore_ascii_case(text))
}

/// A comment author's identity (comments keep only the display name).
fn author_identity(name: &str) -> Value {
    match person(name) {
        Some((n, e)) => identity(n, e),
        None => identity(
            name,
            &format!("{}@contoso.example", name.to_lowercase().replace(' ', ".")),
        ),
    }
}

pub(super) fn changed_ms(fields: &Map<String, Value>) -> i64 {
    fields
        .get("System.ChangedDate")
        .and_then(Value::as_str)
        .and_then(parse_date)
        .map_or(0, |d| d.0)
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `$expand` on work item reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expand {
    None,
    Relations,
    Fields,
    Links,
    All,
}

pub(super) fn expand_param(value: Option<&str>) -> Result<Expand, Response> {
    Ok(match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "none") => Expand::None,
        Some("relations") => Expand::Relations,
        Some("fields") => Expand::Fields,
        Some("links") => Expand::Links,
        Some("all") => Expand::All,
        Some(_) => {
            return Err(argument_error(
                &format!(
                    "The value '{}' is not valid for parameter $expand. Valid values are None, Relations, Fields, Links, All.",
                    value.unwrap_or_default()
                ),
                "ArgumentException",
            ))
        }
    })
}

/// Which fields and links a work item body carries.
#[derive(Debug, Clone)]
pub(super) struct Shape {
    /// Stored and computed fields, not just stored.
    all_fields: bool,
    /// `_links`.
    links: bool,
    /// Only these fields (the `fields` parameter).
    only: Option<Vec<&'static Field>>,
}

impl Shape {
    /// `single`: a one-item read or an update, which carry links by default.
    pub(super) fn new(expand: Expand, only: Option<Vec<&'static Field>>, single: bool) -> Self {
        let links = only.is_none() && (matches!(expand, Expand::Links | Expand::All) || single);
        Self {
            all_fields: matches!(expand, Expand::Fields | Expand::All),
            links,
            only,
        }
    }
}

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

pub(super) fn parse_id(text: &str) -> Result<u32, Response> {
    text.trim().parse().map_err(|_| {
        argument_error(
            &format!("The value '{text}' is not valid for parameter id."),
            "ArgumentException",
        )
    })
}

/// Renders work items for one request.
pub(super) struct View<'a> {
    base: &'a str,
    org: &'a str,
    ado: &'a Organization,
    pub(super) version: &'a ApiVersion,
    marks: OnceCell<HashMap<(u32, u32), u64>>,
}

impl<'a> View<'a> {
    pub(super) fn new(shared: &'a Shared, call: &'a Call, ado: &'a Organization) -> Self {
        Self {
            base: &shared.base_url,
            org: &call.org,
            ado,
            version: &call.version,
            marks: OnceCell::new(),
        }
    }

    /// `…/{org}/{projectGuid}/_apis/wit/workItems/{id}`.
    pub(super) fn root(&self, item: &WorkItem) -> String {
        format!(
            "{}/{}/{}/_apis/wit/workItems/{}",
            self.base,
            self.org,
            self.project_id(item),
            item.id
        )
    }

    fn project_id(&self, item: &WorkItem) -> &str {
        self.ado
            .projects
            .get(item.project)
            .map_or("", |p| p.id.as_str())
    }

    fn field_url(&self, reference: &str) -> String {
        format!("{}/{}/_apis/wit/fields/{reference}", self.base, self.org)
    }

    fn column(&self, f: &Field) -> Value {
        json!({"referenceName": f.reference, "name": f.name, "url": self.field_url(f.reference)})
    }

    /// Stored fields of revision `idx` (0-based).
    fn stored(item: &WorkItem, idx: usize) -> &Map<String, Value> {
        item.revisions.get(idx).map_or(&item.fields, |r| &r.fields)
    }

    fn rev_number(item: &WorkItem, idx: usize) -> u32 {
        item.revisions.get(idx).map_or(item.rev, |r| r.rev)
    }

    pub(super) fn current(item: &WorkItem) -> usize {
        item.revisions.len().saturating_sub(1)
    }

    fn watermark(&self, id: u32, rev: u32) -> u64 {
        let marks = self.marks.get_or_init(|| {
            let mut all: Vec<(i64, u32, u32)> = self
                .ado
                .items
                .iter()
                .flat_map(|w| {
                    w.revisions
                        .iter()
                        .map(move |r| (changed_ms(&r.fields), w.id, r.rev))
                })
                .collect();
            all.sort_unstable();
            all.iter()
                .enumerate()
                .map(|(i, &(_, id, rev))| ((id, rev), i as u64 + 1))
                .collect()
        });
        marks.get(&(id, rev)).copied().unwrap_or_default()
    }

    /// A computed field of revision `idx`.
    fn computed(&self, item: &WorkItem, idx: usize, reference: &str) -> Option<Value> {
        let stored = Self::stored(item, idx);
        let level = |path_field: &str, n: usize| {
            stored
                .get(path_field)
                .and_then(Value::as_str)
                .and_then(|p| p.split('\\').nth(n - 1))
                .map(|s| json!(s))
        };
        let node_id = |path_field: &str| {
            stored
                .get(path_field)
                .and_then(Value::as_str)
                .map(|p| json!(stable_hash(&p.to_lowercase()) % 9_000 + 1_000))
        };
        match reference {
            "System.Id" => Some(json!(item.id)),
            "System.Rev" => Some(json!(Self::rev_number(item, idx))),
            "System.AuthorizedDate" => stored.get("System.ChangedDate").cloned(),
            "System.RevisedDate" => Some(
                item.revisions
                    .get(idx + 1)
                    .and_then(|r| r.fields.get("System.ChangedDate").cloned())
                    .unwrap_or_else(|| json!(END_OF_TIME)),
            ),
            "System.AuthorizedAs" => stored.get("System.ChangedBy").cloned(),
            "System.PersonId" => stored
                .get("System.ChangedBy")
                .and_then(|v| v.get("id"))
                .and_then(Value::as_str)
                .map(|id| json!(stable_hash(id) % 90_000_000 + 10_000_000)),
            "System.Watermark" => Some(json!(self.watermark(item.id, Self::rev_number(item, idx)))),
            "System.AreaId" => node_id("System.AreaPath"),
            "System.IterationId" => node_id("System.IterationPath"),
            "System.NodeName" => stored
                .get("System.AreaPath")
                .and_then(Value::as_str)
                .and_then(|p| p.rsplit('\\').next())
                .map(|s| json!(s)),
            "System.AreaLevel1" => level("System.AreaPath", 1),
            "System.AreaLevel2" => level("System.AreaPath", 2),
            "System.AreaLevel3" => level("System.AreaPath", 3),
            "System.IterationLevel1" => level("System.IterationPath", 1),
            "System.IterationLevel2" => level("System.IterationPath", 2),
            "System.IterationLevel3" => level("System.IterationPath", 3),
            _ => None,
        }
    }

    /// One field of revision `idx`, stored or computed.
    fn value(&self, item: &WorkItem, idx: usize, reference: &str) -> Option<Value> {
        Self::stored(item, idx)
            .get(reference)
            .cloned()
            .or_else(|| self.computed(item, idx, reference))
    }

    /// Stored and computed fields of revision `idx`.
    fn full_fields(&self, item: &WorkItem, idx: usize) -> Map<String, Value> {
        let mut m = Self::stored(item, idx).clone();
        for name in COMPUTED {
            if let Some(v) = self.computed(item, idx, name) {
                m.insert((*name).into(), v);
            }
        }
        m
    }

    fn shaped_fields(&self, item: &WorkItem, idx: usize, shape: &Shape) -> Map<String, Value> {
        match &shape.only {
            Some(only) => only
                .iter()
                .filter_map(|f| {
                    self.value(item, idx, f.reference)
                        .map(|v| (f.reference.to_owned(), v))
                })
                .collect(),
            None if shape.all_fields => self.full_fields(item, idx),
            None => Self::stored(item, idx).clone(),
        }
    }

    /// A work item body at revision `idx`.
    pub(super) fn item(&self, item: &WorkItem, idx: usize, shape: &Shape) -> Value {
        let root = self.root(item);
        let mut body = Map::new();
        body.insert("id".into(), json!(item.id));
        body.insert("rev".into(), json!(Self::rev_number(item, idx)));
        body.insert(
            "fields".into(),
            Value::Object(self.shaped_fields(item, idx, shape)),
        );
        if self.version.is_7_2() {
            body.insert("multilineFieldsFormat".into(), json!({}));
        }
        if shape.links {
            let project = format!("{}/{}/{}", self.base, self.org, self.project_id(item));
            let item_type = Self::stored(item, idx)
                .get("System.WorkItemType")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .replace(' ', "%20");
            body.insert(
                "_links".into(),
                json!({
                    "self": {"href": root},
                    "workItemUpdates": {"href": format!("{root}/updates")},
                    "workItemRevisions": {"href": format!("{root}/revisions")},
                    "workItemComments": {"href": format!("{root}/comments")},
                    "html": {"href": format!("{project}/_workitems/edit/{}", item.id)},
                    "workItemType": {"href": format!("{project}/_apis/wit/workItemTypes/{item_type}")},
                    "fields": {"href": format!("{project}/_apis/wit/fields")},
                }),
            );
        }
        body.insert("url".into(), json!(root));
        Value::Object(body)
    }

    /// A revision body.
    fn revision(&self, item: &WorkItem, idx: usize, shape: &Shape) -> Value {
        let root = self.root(item);
        let rev = Self::rev_number(item, idx);
        let mut body = Map::new();
        body.insert("id".into(), json!(item.id));
        body.insert("rev".into(), json!(rev));
        body.insert(
            "fields".into(),
            Value::Object(self.shaped_fields(item, idx, shape)),
        );
        if shape.links {
            body.insert(
                "_links".into(),
                json!({
                    "self": {"href": format!("{root}/revisions/{rev}")},
                    "workItemRevisions": {"href": format!("{root}/revisions")},
                    "parent": {"href": root},
                }),
            );
        }
        body.insert("url".into(), json!(format!("{root}/revisions/{rev}")));
        Value::Object(body)
    }

    /// The update that made revision `idx`.
    fn update(&self, item: &WorkItem, idx: usize, links: bool) -> Value {
        let root = self.root(item);
        let n = idx + 1;
        let current = self.full_fields(item, idx);
        let mut diff = Map::new();
        if idx == 0 {
            for (k, v) in &current {
                diff.insert(k.clone(), json!({"newValue": v}));
            }
        } else {
            let before = self.full_fields(item, idx - 1);
            for (k, v) in &current {
                match before.get(k) {
                    Some(old) if old == v => {}
                    Some(old) => {
                        diff.insert(k.clone(), json!({"oldValue": old, "newValue": v}));
                    }
                    None => {
                        diff.insert(k.clone(), json!({"newValue": v}));
                    }
                }
            }
            for (k, old) in &before {
                // A revision's history entry is not carried over, not removed.
                if !current.contains_key(k) && k != "System.History" {
                    diff.insert(k.clone(), json!({"oldValue": old}));
                }
            }
        }
        let mut body = Map::new();
        body.insert("id".into(), json!(n));
        body.insert("workItemId".into(), json!(item.id));
        body.insert("rev".into(), json!(Self::rev_number(item, idx)));
        body.insert(
            "revisedBy".into(),
            current
                .get("System.ChangedBy")
                .cloned()
                .unwrap_or(Value::Null),
        );
        body.insert(
            "revisedDate".into(),
            current
                .get("System.RevisedDate")
                .cloned()
                .unwrap_or(Value::Null),
        );
        body.insert("fields".into(), Value::Object(diff));
        if links {
            body.insert(
                "_links".into(),
                json!({
                    "self": {"href": format!("{root}/updates/{n}")},
                    "workItemUpdates": {"href": format!("{root}/updates")},
                    "parent": {"href": root},
                }),
            );
        }
        body.insert("url".into(), json!(format!("{root}/updates/{n}")));
        Value::Object(body)
    }

    pub(super) fn comment(&self, item: &WorkItem, c: &Comment) -> Value {
        let who = author_identity(&c.author);
        json!({
            "workItemId": item.id,
            "commentId": c.id,
            "version": 1,
            "text": c.text,
            "createdBy": who,
            "createdDate": iso(c.created_ms),
            "modifiedBy": who,
            "modifiedDate": iso(c.created_ms),
            "isDeleted": false,
            "url": format!("{}/comments/{}", self.root(item), c.id),
        })
    }
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

pub(super) fn json_body(body: &Bytes) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- WIQL

/// `POST /{org}[/{project}]/_apis/wit/wiql` (`$top`, `timePrecision`).
pub(crate) async fn wiql(
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
    let top = try_or_return!(call.params.count("$top"));
    let time_precision = call.params.flag("timePrecision");
    let now = now_ms();
    let parsed = match wiql::parse(
        &text,
        wiql::Options {
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
    let project = try_or_return!(resolve_project(&world, &call));
    let project_name = project
        .and_then(|i| world.ado.projects.get(i))
        .map(|p| p.name.as_str());
    let view = View::new(&shared, &call, &world.ado);
    let env = wiql::Env {
        me: owner(),
        project: project_name,
        time_precision,
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
                wiql::matches(f, &get, &env)
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
                    let o = wiql::order(field, va.as_ref(), vb.as_ref());
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

// ---------------------------------------------------------------- reads

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

/// The live item a path names, with the request's preamble done.
pub(super) fn with_item<T>(
    shared: &Shared,
    call: &Call,
    f: impl FnOnce(&View<'_>, &WorkItem) -> Result<T, Response>,
) -> Result<T, Response> {
    let id = parse_id(call.path.get("id").map_or("", String::as_str))?;
    let world = shared.world();
    resolve_project(&world, call)?;
    let view = View::new(shared, call, &world.ado);
    let item = world.ado.item(id).ok_or_else(|| item_not_found(id))?;
    f(&view, item)
}

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
