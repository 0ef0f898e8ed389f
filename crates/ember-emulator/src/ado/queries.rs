//! Saved queries: `GET /{org}/{project}/_apis/wit/queries` (`$depth`,
//! `$expand`) and `…/queries/{id or path}`, the tree of "My Queries" and
//! "Shared Queries" every project has, with a few deterministic queries in
//! it. `GET …/_apis/wit/wiql/{id}` runs one (see [`super::wiql`]).
//!
//! As on the real service, a folder says `isFolder: true` and a query says
//! nothing (the flag is left out when false); the WIQL text, `queryType`,
//! `columns` and `sortColumns` come only with `$expand=wiql`, `clauses`,
//! `minimal` or `all` (clauses themselves are not modelled). Ids are GUIDs
//! stable per project.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::projects::stable_guid;
use super::{argument_error, reply, resolve_project, wiql, wit_error, Call, Versioning};
use crate::state::Shared;
use crate::work_items::{identity, iso, Organization, PEOPLE};

/// The two root folders.
const FOLDERS: &[&str] = &["My Queries", "Shared Queries"];

/// A saved query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Saved {
    /// Index into [`FOLDERS`].
    pub folder: usize,
    /// Its name.
    pub name: &'static str,
    /// Its WIQL.
    pub wiql: &'static str,
}

/// Every project's saved queries.
pub(crate) const SAVED: &[Saved] = &[
    Saved {
        folder: 0,
        name: "Assigned to me",
        wiql: "SELECT [System.Id], [System.WorkItemType], [System.Title], [System.State] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.AssignedTo] = @me AND [System.State] NOT IN ('Closed', 'Done', 'Removed') ORDER BY [System.ChangedDate] DESC",
    },
    Saved {
        folder: 1,
        name: "Active bugs",
        wiql: "SELECT [System.Id], [System.Title], [System.State] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.WorkItemType] = 'Bug' AND [System.State] = 'Active'",
    },
    Saved {
        folder: 1,
        name: "Followed work items",
        wiql: "SELECT [System.Id], [System.Title], [System.State] FROM WorkItems WHERE [System.Id] IN (@Follows) ORDER BY [System.ChangedDate] DESC",
    },
    Saved {
        folder: 1,
        name: "Recently mentioned",
        wiql: "SELECT [System.Id], [System.Title], [System.State] FROM WorkItems WHERE [System.Id] IN (@RecentMentions) ORDER BY [System.ChangedDate] DESC",
    },
];

fn folder_id(project_id: &str, folder: usize) -> String {
    stable_guid(&format!("query:{project_id}:{}", FOLDERS[folder]))
}

fn query_id(project_id: &str, q: &Saved) -> String {
    stable_guid(&format!(
        "query:{project_id}:{}/{}",
        FOLDERS[q.folder], q.name
    ))
}

/// The saved query with `id` in any project, and that project's index.
pub(crate) fn find(ado: &Organization, id: &str) -> Option<(usize, &'static Saved)> {
    ado.projects.iter().enumerate().find_map(|(i, p)| {
        SAVED
            .iter()
            .find(|q| query_id(&p.id, q).eq_ignore_ascii_case(id.trim()))
            .map(|q| (i, q))
    })
}

/// 404 for a query that does not exist.
pub(crate) fn not_found(id: &str) -> Response {
    wit_error(
        StatusCode::NOT_FOUND,
        &format!(
            "TF401243: The query {id} does not exist, or you do not have permission to read it."
        ),
        "QueryItemNotFoundException",
    )
}

/// `$expand` on queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expand {
    None,
    Wiql,
}

/// What one request renders.
struct Render {
    /// `{base URL}/{org}`.
    base: String,
    project_id: String,
    anchor_ms: i64,
    depth: usize,
    expand: Expand,
}

impl Render {
    fn url(&self, id: &str) -> String {
        format!("{}/{}/_apis/wit/queries/{id}", self.base, self.project_id)
    }

    fn links(&self, id: &str, parent: Option<&str>, wiql: bool) -> Value {
        let mut links = Map::new();
        links.insert("self".into(), json!({"href": self.url(id)}));
        links.insert(
            "html".into(),
            json!({"href": format!("{}/web/qr.aspx?pguid={}&qid={id}", self.base, self.project_id)}),
        );
        if let Some(p) = parent {
            links.insert("parent".into(), json!({"href": self.url(p)}));
        }
        if wiql {
            links.insert(
                "wiql".into(),
                json!({"href": format!("{}/{}/_apis/wit/wiql/{id}", self.base, self.project_id)}),
            );
        }
        Value::Object(links)
    }

    fn date(&self, days_ago: i64) -> Value {
        json!(iso(self.anchor_ms - days_ago * 86_400_000))
    }

    /// A root folder with its children down to the requested depth.
    fn folder(&self, folder: usize, level: usize) -> Value {
        let id = folder_id(&self.project_id, folder);
        let owner = identity(PEOPLE[0].0, PEOPLE[0].1);
        let admin = identity(PEOPLE[2].0, PEOPLE[2].1);
        let children: Vec<&Saved> = SAVED.iter().filter(|q| q.folder == folder).collect();
        let mut v = Map::new();
        v.insert("id".into(), json!(id));
        v.insert("name".into(), json!(FOLDERS[folder]));
        v.insert("path".into(), json!(FOLDERS[folder]));
        if folder == 0 {
            // The service names no creator for Shared Queries.
            v.insert("createdBy".into(), owner.clone());
        }
        v.insert("createdDate".into(), self.date(400));
        v.insert(
            "lastModifiedBy".into(),
            if folder == 0 { owner } else { admin },
        );
        v.insert("lastModifiedDate".into(), self.date(120));
        v.insert("isFolder".into(), json!(true));
        v.insert("hasChildren".into(), json!(!children.is_empty()));
        if level < self.depth && !children.is_empty() {
            v.insert(
                "children".into(),
                Value::Array(children.iter().map(|q| self.query(q)).collect()),
            );
        }
        v.insert("isPublic".into(), json!(folder == 1));
        v.insert("_links".into(), self.links(&id, None, false));
        v.insert("url".into(), json!(self.url(&id)));
        Value::Object(v)
    }

    fn query(&self, q: &Saved) -> Value {
        let id = query_id(&self.project_id, q);
        let parent = folder_id(&self.project_id, q.folder);
        let who = if q.folder == 0 { PEOPLE[0] } else { PEOPLE[2] };
        let who = identity(who.0, who.1);
        let mut v = Map::new();
        v.insert("id".into(), json!(id));
        v.insert("name".into(), json!(q.name));
        v.insert(
            "path".into(),
            json!(format!("{}/{}", FOLDERS[q.folder], q.name)),
        );
        v.insert("createdBy".into(), who.clone());
        v.insert("createdDate".into(), self.date(90));
        v.insert("lastModifiedBy".into(), who);
        v.insert("lastModifiedDate".into(), self.date(30));
        if self.expand == Expand::Wiql {
            let column = |f: &super::fields::Field| json!({"referenceName": f.reference, "name": f.name, "url": format!("{}/_apis/wit/fields/{}", self.base, f.reference)});
            v.insert("queryType".into(), json!("flat"));
            if let Some((columns, order)) = wiql::shape_of(q.wiql) {
                v.insert(
                    "columns".into(),
                    Value::Array(columns.into_iter().map(column).collect()),
                );
                if !order.is_empty() {
                    v.insert(
                        "sortColumns".into(),
                        Value::Array(
                            order
                                .into_iter()
                                .map(|(f, d)| json!({"field": column(f), "descending": d}))
                                .collect(),
                        ),
                    );
                }
            }
            v.insert("wiql".into(), json!(q.wiql));
        }
        v.insert("isPublic".into(), json!(q.folder == 1));
        v.insert("_links".into(), self.links(&id, Some(&parent), true));
        v.insert("url".into(), json!(self.url(&id)));
        Value::Object(v)
    }
}

/// Reads `$depth` and `$expand`, and finds the project.
fn render(shared: &Shared, call: &Call) -> Result<Render, Response> {
    let depth = call.params.count("$depth")?.unwrap_or(0);
    if depth > 2 {
        return Err(argument_error(
            &format!("The value '{depth}' is not valid for parameter $depth. It must be between 0 and 2."),
            "ArgumentOutOfRangeException",
        ));
    }
    let expand = match call
        .params
        .get("$expand")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("" | "none") => Expand::None,
        Some("wiql" | "clauses" | "all" | "minimal") => Expand::Wiql,
        Some(other) => {
            return Err(argument_error(
                &format!("The value '{other}' is not valid for parameter $expand. Valid values are None, Wiql, Clauses, All, Minimal."),
                "ArgumentException",
            ))
        }
    };
    let world = shared.world();
    let index = resolve_project(&world, call)?.unwrap_or_default();
    let project_id = world
        .ado
        .projects
        .get(index)
        .map(|p| p.id.clone())
        .unwrap_or_default();
    Ok(Render {
        base: format!("{}/{}", shared.base_url, call.org),
        project_id,
        anchor_ms: world.anchor_ms,
        depth,
        expand,
    })
}

/// `GET /{org}/{project}/_apis/wit/queries` (`$depth` 0 to 2, `$expand`).
pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    let r = try_or_return!(render(&shared, &call));
    let value: Vec<Value> = (0..FOLDERS.len()).map(|f| r.folder(f, 0)).collect();
    reply(
        &json!({"count": value.len(), "value": value}),
        &call.version,
    )
}

/// `GET /{org}/{project}/_apis/wit/queries/{id or path}` (`$depth`,
/// `$expand`): a folder (with children to `$depth`) or a query.
pub(super) async fn get_one(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    let wanted = call
        .path
        .get("query")
        .map_or("", String::as_str)
        .trim_matches('/')
        .to_owned();
    let r = try_or_return!(render(&shared, &call));
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let folder = (0..FOLDERS.len())
        .find(|&f| same(&folder_id(&r.project_id, f), &wanted) || same(FOLDERS[f], &wanted));
    if let Some(f) = folder {
        return reply(&r.folder(f, 0), &call.version);
    }
    let saved = SAVED.iter().find(|q| {
        same(&query_id(&r.project_id, q), &wanted)
            || same(&format!("{}/{}", FOLDERS[q.folder], q.name), &wanted)
    });
    match saved {
        Some(q) => reply(&r.query(q), &call.version),
        None => not_found(&wanted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_queries_parse_and_have_stable_distinct_ids() {
        let org = Organization::generate("fabrikam", 2, 5, 1_800_000_000_000);
        let mut ids = std::collections::HashSet::new();
        for p in &org.projects {
            for q in SAVED {
                assert!(wiql::shape_of(q.wiql).is_some(), "{}", q.name);
                let id = query_id(&p.id, q);
                assert!(ids.insert(id.clone()));
                assert_eq!(find(&org, &id.to_uppercase()).map(|(_, s)| s), Some(q));
            }
        }
        assert!(find(&org, "00000000-0000-0000-0000-000000000000").is_none());
    }
}
