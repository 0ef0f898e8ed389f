//! Work item types and their states, as a project's process defines them:
//! `GET /{org}/{project}/_apis/wit/workitemtypes`, `…/workitemtypes/{type}`
//! and `…/workitemtypes/{type}/states`. The table is
//! [`crate::work_items::process`], the same one the JSON Patch rules check
//! a new state against.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::fields::{self, Field};
use super::{reply, resolve_project, wit_error, Call, Versioning};
use crate::state::Shared;
use crate::work_items::process::{self, ItemType};

/// Fields every type has besides the `System.*` ones.
const COMMON: &[&str] = &[
    "Microsoft.VSTS.Common.Priority",
    "Microsoft.VSTS.Common.StateChangeDate",
    "Microsoft.VSTS.Common.ActivatedDate",
    "Microsoft.VSTS.Common.ActivatedBy",
    "Microsoft.VSTS.Common.ClosedDate",
    "Microsoft.VSTS.Common.ClosedBy",
];

/// Fields only some types have.
fn own_fields(name: &str) -> &'static [&'static str] {
    match name {
        "Bug" => &[
            "Microsoft.VSTS.TCM.ReproSteps",
            "Microsoft.VSTS.TCM.SystemInfo",
            "Microsoft.VSTS.Common.Severity",
            "Microsoft.VSTS.Common.ResolvedDate",
            "Microsoft.VSTS.Common.ResolvedBy",
            "Microsoft.VSTS.Scheduling.StoryPoints",
        ],
        "User Story" => &[
            "Microsoft.VSTS.Common.AcceptanceCriteria",
            "Microsoft.VSTS.Common.ValueArea",
            "Microsoft.VSTS.Common.ResolvedDate",
            "Microsoft.VSTS.Common.ResolvedBy",
            "Microsoft.VSTS.Scheduling.StoryPoints",
        ],
        "Task" => &[
            "Microsoft.VSTS.Scheduling.RemainingWork",
            "Microsoft.VSTS.Scheduling.OriginalEstimate",
            "Microsoft.VSTS.Scheduling.CompletedWork",
        ],
        "Feature" => &[
            "Microsoft.VSTS.Common.ValueArea",
            "Microsoft.VSTS.Scheduling.Effort",
        ],
        _ => &[],
    }
}

/// The (legacy) form layout every type carries.
const XML_FORM: &str = "<FORM><Layout HideReadOnlyEmptyFields=\"true\" HideControlBorders=\"true\"><Group><Column PercentWidth=\"100\"><Control FieldName=\"System.Title\" Type=\"FieldControl\" Label=\"Title\" LabelPosition=\"Left\" /></Column></Group></Layout></FORM>";

/// Fields a new item of any type must have.
const REQUIRED: &[&str] = &[
    "System.Title",
    "System.State",
    "System.WorkItemType",
    "System.AreaPath",
    "System.IterationPath",
];

fn type_fields(t: &ItemType) -> Vec<&'static Field> {
    let own = own_fields(t.name);
    fields::FIELDS
        .iter()
        .filter(|f| {
            f.reference.starts_with("System.")
                || COMMON.contains(&f.reference)
                || own.contains(&f.reference)
        })
        .collect()
}

fn type_json(shared: &Shared, call: &Call, project_id: &str, t: &ItemType) -> Value {
    let base = &shared.base_url;
    let org = &call.org;
    let url = format!(
        "{base}/{org}/{project_id}/_apis/wit/workItemTypes/{}",
        t.name.replace(' ', "%20")
    );
    let field_list: Vec<Value> = type_fields(t)
        .into_iter()
        .map(|f| {
            json!({
                "defaultValue": null,
                "alwaysRequired": REQUIRED.contains(&f.reference),
                "referenceName": f.reference,
                "name": f.name,
                "url": format!("{base}/{org}/_apis/wit/fields/{}", f.reference),
            })
        })
        .collect();
    // Any state may move to any other, as the generated process allows.
    let mut transitions = Map::new();
    transitions.insert(
        String::new(),
        json!([{"to": t.states[0].name, "actions": null}]),
    );
    for from in t.states {
        let to: Vec<Value> = t
            .states
            .iter()
            .filter(|s| s.name != from.name)
            .map(|s| json!({"to": s.name, "actions": null}))
            .collect();
        transitions.insert(from.name.into(), Value::Array(to));
    }
    json!({
        "name": t.name,
        "referenceName": t.reference_name,
        "description": t.description,
        "color": t.color,
        "icon": {
            "id": t.icon,
            "url": format!("{base}/{org}/_apis/wit/workItemIcons/{}?color={}&v=2", t.icon, t.color),
        },
        "isDisabled": false,
        "xmlForm": XML_FORM,
        "fields": field_list,
        "fieldInstances": field_list,
        "transitions": transitions,
        "states": states_json(t),
        "_links": {"self": {"href": url}},
        "url": url,
    })
}

fn states_json(t: &ItemType) -> Vec<Value> {
    t.states
        .iter()
        .map(|s| json!({"name": s.name, "color": s.color, "category": s.category}))
        .collect()
}

/// The call's project id, or the response that ends the request.
fn project_id(shared: &Shared, call: &Call) -> Result<String, Response> {
    let world = shared.world();
    let index = resolve_project(&world, call)?.unwrap_or_default();
    Ok(world
        .ado
        .projects
        .get(index)
        .map(|p| p.id.clone())
        .unwrap_or_default())
}

/// The type the path names, or 404 as the service words it.
fn named_type(call: &Call) -> Result<&'static ItemType, Response> {
    let name = call.path.get("type").map_or("", String::as_str);
    process::TYPES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            let project = call.project.as_deref().unwrap_or_default();
            wit_error(
                StatusCode::NOT_FOUND,
                &format!("VS402323: Work item type {name} does not exist in project {project} or you do not have permission to access it."),
                "WorkItemTypeNotFoundException",
            )
        })
}

/// `GET /{org}/{project}/_apis/wit/workitemtypes`.
pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    let project = try_or_return!(project_id(&shared, &call));
    let value: Vec<Value> = process::TYPES
        .iter()
        .map(|t| type_json(&shared, &call, &project, t))
        .collect();
    reply(
        &json!({"count": value.len(), "value": value}),
        &call.version,
    )
}

/// `GET /{org}/{project}/_apis/wit/workitemtypes/{type}`.
pub(super) async fn get_one(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    let project = try_or_return!(project_id(&shared, &call));
    let t = try_or_return!(named_type(&call));
    reply(&type_json(&shared, &call, &project, t), &call.version)
}

/// `GET /{org}/{project}/_apis/wit/workitemtypes/{type}/states`.
pub(super) async fn states(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    try_or_return!(project_id(&shared, &call));
    let t = try_or_return!(named_type(&call));
    let value = states_json(t);
    reply(
        &json!({"count": value.len(), "value": value}),
        &call.version,
    )
}
