//! How work items are rendered for one request: which fields, relations and
//! links a body carries (`$expand`, `fields`), the fields the service
//! computes rather than stores, and the bodies of an item, a revision, an
//! update (a diff of two revisions) and a comment.

use std::cell::OnceCell;
use std::collections::HashMap;

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{changed_ms, person};
use crate::ado::fields::Field;
use crate::ado::projects::stable_hash;
use crate::ado::{argument_error, ApiVersion, Call};
use crate::state::Shared;
use crate::work_items::{identity, iso, Comment, Organization, WorkItem};

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

/// The parent an item's `System.Parent` names.
fn parent_of(item: &WorkItem) -> Option<u32> {
    item.fields
        .get("System.Parent")
        .and_then(Value::as_u64)
        .and_then(|p| u32::try_from(p).ok())
}

/// `$expand` on work item reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expand {
    None,
    Relations,
    Fields,
    Links,
    All,
}

pub(crate) fn expand_param(value: Option<&str>) -> Result<Expand, Response> {
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
pub(crate) struct Shape {
    /// Stored and computed fields, not just stored.
    all_fields: bool,
    /// `_links`.
    links: bool,
    /// `relations` (parent, children, related items).
    relations: bool,
    /// Only these fields (the `fields` parameter).
    only: Option<Vec<&'static Field>>,
}

impl Shape {
    /// `single`: a one-item read or an update, which carry links by default.
    pub(crate) fn new(expand: Expand, only: Option<Vec<&'static Field>>, single: bool) -> Self {
        let links = only.is_none() && (matches!(expand, Expand::Links | Expand::All) || single);
        Self {
            all_fields: matches!(expand, Expand::Fields | Expand::All),
            links,
            relations: matches!(expand, Expand::Relations | Expand::All),
            only,
        }
    }
}

/// Renders work items for one request.
pub(crate) struct View<'a> {
    base: &'a str,
    org: &'a str,
    ado: &'a Organization,
    pub(crate) version: &'a ApiVersion,
    marks: OnceCell<HashMap<(u32, u32), u64>>,
    children: OnceCell<HashMap<u32, Vec<u32>>>,
}

impl<'a> View<'a> {
    pub(crate) fn new(shared: &'a Shared, call: &'a Call, ado: &'a Organization) -> Self {
        Self {
            base: &shared.base_url,
            org: &call.org,
            ado,
            version: &call.version,
            marks: OnceCell::new(),
            children: OnceCell::new(),
        }
    }

    /// `…/{org}/{projectGuid}/_apis/wit/workItems/{id}`.
    pub(crate) fn root(&self, item: &WorkItem) -> String {
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

    pub(crate) fn column(&self, f: &Field) -> Value {
        json!({"referenceName": f.reference, "name": f.name, "url": self.field_url(f.reference)})
    }

    /// Stored fields of revision `idx` (0-based).
    fn stored(item: &WorkItem, idx: usize) -> &Map<String, Value> {
        item.revisions.get(idx).map_or(&item.fields, |r| &r.fields)
    }

    fn rev_number(item: &WorkItem, idx: usize) -> u32 {
        item.revisions.get(idx).map_or(item.rev, |r| r.rev)
    }

    pub(crate) fn current(item: &WorkItem) -> usize {
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
    pub(crate) fn value(&self, item: &WorkItem, idx: usize, reference: &str) -> Option<Value> {
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
    pub(crate) fn item(&self, item: &WorkItem, idx: usize, shape: &Shape) -> Value {
        let root = self.root(item);
        let mut body = Map::new();
        body.insert("id".into(), json!(item.id));
        body.insert("rev".into(), json!(Self::rev_number(item, idx)));
        body.insert(
            "fields".into(),
            Value::Object(self.shaped_fields(item, idx, shape)),
        );
        if shape.relations {
            let relations = self.relations(item);
            // The service leaves the key out when there are none.
            if !relations.is_empty() {
                body.insert("relations".into(), Value::Array(relations));
            }
        }
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

    /// `…/{org}/_apis/wit/workItems/{id}`, as relations name their targets.
    fn org_item_url(&self, id: u32) -> String {
        format!("{}/{}/_apis/wit/workItems/{id}", self.base, self.org)
    }

    /// An item's links to live items: its parent, its children, then the
    /// items related to it.
    fn relations(&self, item: &WorkItem) -> Vec<Value> {
        let children = self.children.get_or_init(|| {
            let mut map: HashMap<u32, Vec<u32>> = HashMap::new();
            for w in self.ado.items.iter().filter(|w| !w.deleted) {
                if let Some(p) = parent_of(w) {
                    map.entry(p).or_default().push(w.id);
                }
            }
            map
        });
        let link = |rel: &str, name: &str, id: u32| {
            json!({
                "rel": rel,
                "url": self.org_item_url(id),
                "attributes": {"isLocked": false, "name": name},
            })
        };
        let mut out = Vec::new();
        if let Some(p) = parent_of(item).filter(|p| self.ado.item(*p).is_some()) {
            out.push(link("System.LinkTypes.Hierarchy-Reverse", "Parent", p));
        }
        for &c in children.get(&item.id).into_iter().flatten() {
            out.push(link("System.LinkTypes.Hierarchy-Forward", "Child", c));
        }
        for &(a, b) in &self.ado.related {
            let other = match item.id {
                id if id == a => b,
                id if id == b => a,
                _ => continue,
            };
            if self.ado.item(other).is_some() {
                out.push(link("System.LinkTypes.Related", "Related", other));
            }
        }
        out
    }

    /// A revision body.
    pub(super) fn revision(&self, item: &WorkItem, idx: usize, shape: &Shape) -> Value {
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
    pub(super) fn update(&self, item: &WorkItem, idx: usize, links: bool) -> Value {
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

    pub(crate) fn comment(&self, item: &WorkItem, c: &Comment) -> Value {
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
