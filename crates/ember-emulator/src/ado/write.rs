//! Changing work items: JSON Patch updates (with `test /rev`), and
//! comments, which are revisions too.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::fields::{self, Field, Kind};
use super::items::{
    changed_ms, expand_param, json_body, now_ms, owner, parse_id, person, with_item, Shape, View,
    JSON_TYPES,
};
use super::wiql::parse_date;
use super::{
    argument_error, content_type, item_not_found, reply, resolve_project, vss_error, wit_error,
    Versioning,
};
use crate::state::Shared;
use crate::work_items::{identity, iso, process, Comment, WorkItem};

fn bad_patch(message: &str) -> Response {
    vss_error(
        StatusCode::BAD_REQUEST,
        message,
        "Microsoft.VisualStudio.Services.Common.VssPropertyValidationException, Microsoft.VisualStudio.Services.Common",
        "VssPropertyValidationException",
        3000,
    )
}

fn rule_error(message: &str) -> Response {
    wit_error(StatusCode::BAD_REQUEST, message, "RuleValidationException")
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("emu:{offset}"))
}

fn decode_token(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("emu:")?
        .parse()
        .ok()
}

/// `GET …/workitems/{id}/comments` (`$top`, `continuationToken`, `order`,
/// `ids`), 7.1-preview.4.
pub(crate) async fn comments(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = preamble!(
        shared,
        method,
        path,
        query,
        headers,
        Versioning::PreviewOnly
    );
    let top = try_or_return!(call.params.count("$top")).unwrap_or(200);
    let offset = match call.params.get("continuationToken") {
        None => 0,
        Some(t) => match decode_token(t) {
            Some(o) => o,
            None => {
                return argument_error(
                    &format!("The continuation token '{t}' is not valid."),
                    "ArgumentException",
                )
            }
        },
    };
    let ascending = match call
        .params
        .get("order")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(other) => {
            return argument_error(
                &format!(
                "The value '{other}' is not valid for parameter order. Valid values are Asc, Desc."
            ),
                "ArgumentException",
            )
        }
    };
    let wanted: Option<HashSet<u32>> = match call.params.get("ids") {
        Some(list) => Some(try_or_return!(list
            .split(',')
            .map(parse_id)
            .collect::<Result<_, _>>())),
        None => None,
    };
    let body = with_item(&shared, &call, |view, item| {
        let mut all: Vec<&Comment> = item
            .comments
            .iter()
            .filter(|c| wanted.as_ref().is_none_or(|w| w.contains(&c.id)))
            .collect();
        all.sort_by_key(|c| (c.created_ms, c.id));
        if !ascending {
            all.reverse();
        }
        let end = offset.saturating_add(top).min(all.len());
        let start = offset.min(end);
        let comments: Vec<Value> = all[start..end]
            .iter()
            .map(|c| view.comment(item, c))
            .collect();
        let mut body = Map::new();
        body.insert("totalCount".into(), json!(all.len()));
        body.insert("count".into(), json!(comments.len()));
        body.insert("comments".into(), Value::Array(comments));
        if end < all.len() {
            let token = encode_token(end);
            body.insert(
                "nextPage".into(),
                json!(format!(
                    "{}/comments?continuationToken={token}&api-version={}",
                    view.root(item),
                    view.version.text
                )),
            );
            body.insert("continuationToken".into(), json!(token));
        }
        Ok(Value::Object(body))
    });
    match body {
        Ok(b) => reply(&b, &call.version),
        Err(r) => r,
    }
}

/// `POST …/workitems/{id}/comments` `{"text"}`: a comment by the token's
/// owner, which is also a new revision with the text as its history.
pub(crate) async fn add_comment(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = preamble!(
        shared,
        method,
        path,
        query,
        headers,
        Versioning::PreviewOnly
    );
    try_or_return!(content_type(&headers, &method, JSON_TYPES));
    let text = json_body(&body)
        .ok()
        .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_owned))
        .filter(|t| !t.trim().is_empty());
    let Some(text) = text else {
        return argument_error(
            "The comment text cannot be empty.\r\nParameter name: text",
            "ArgumentException",
        );
    };
    let id = try_or_return!(parse_id(call.path.get("id").map_or("", String::as_str)));
    let mut world = shared.world();
    try_or_return!(resolve_project(&world, &call));
    let Some(item) = world.ado.item_mut(id) else {
        return item_not_found(id);
    };
    let at = now_ms().max(changed_ms(&item.fields) + 1);
    let comment_id = item.comments.iter().map(|c| c.id).max().unwrap_or(0) + 1;
    item.comments.push(Comment {
        id: comment_id,
        text: text.clone(),
        author: owner().0.into(),
        created_ms: at,
    });
    let mut change = Map::new();
    change.insert("System.CommentCount".into(), json!(item.comments.len()));
    change.insert("System.History".into(), json!(text));
    item.apply(change, owner(), at);
    world.ado.changes += 1;
    let view = View::new(&shared, &call, &world.ado);
    match world
        .ado
        .item(id)
        .and_then(|w| w.comments.last().map(|c| view.comment(w, c)))
    {
        Some(body) => reply(&body, &call.version),
        None => item_not_found(id),
    }
}

/// What a patch document does to an item.
struct Patched {
    /// Field changes: new values, `null` to remove.
    change: Map<String, Value>,
    /// The history text, which also becomes a comment.
    history: Option<String>,
}

fn test_failed(path: &str, actual: &Value, expected: &Value) -> Response {
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    vss_error(
        StatusCode::PRECONDITION_FAILED,
        &format!(
            "VS403351: Test Operation for path {path} failed, value {} was not equal to test value {}.",
            show(actual),
            show(expected)
        ),
        "Microsoft.VisualStudio.Services.WebApi.Patch.TestPatchOperationFailedException, Microsoft.VisualStudio.Services.WebApi",
        "TestPatchOperationFailedException",
        3000,
    )
}

/// Loose equality for `test`: `2` equals `"2"`.
fn same(actual: &Value, expected: &Value) -> bool {
    if actual == expected {
        return true;
    }
    match (actual, expected) {
        (Value::Number(a), Value::String(e)) => e.trim().parse::<f64>().ok() == a.as_f64(),
        (Value::String(a), Value::Number(e)) => a.trim().parse::<f64>().ok() == e.as_f64(),
        _ => false,
    }
}

fn unsupported_path(op: &str, path: &str) -> Response {
    vss_error(
        StatusCode::BAD_REQUEST,
        &format!("The Ember emulator does not support the operation '{op}' on path '{path}'."),
        "Microsoft.VisualStudio.Services.WebApi.Patch.PatchOperationFailedException, Microsoft.VisualStudio.Services.WebApi",
        "PatchOperationFailedException",
        3000,
    )
}

/// An identity field value from what a client sent: an identity object, an
/// address, a display name or `"Name <address>"`; `None` clears it.
fn identity_value(field: &Field, v: &Value) -> Result<Option<Value>, Response> {
    let text = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().to_owned(),
        Value::Object(o) => o
            .get("uniqueName")
            .or_else(|| o.get("displayName"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    if let Some((name, email)) = person(&text) {
        return Ok(Some(identity(name, email)));
    }
    if let Some((name, email)) = text.strip_suffix('>').and_then(|t| t.split_once('<')) {
        if let Some((n, e)) = person(email) {
            return Ok(Some(identity(n, e)));
        }
        if email.contains('@') {
            return Ok(Some(identity(name.trim(), email.trim())));
        }
    }
    Err(rule_error(&format!(
        "The identity value '{text}' for field '{}' is an unknown identity.",
        field.name
    )))
}

/// The value a field stores for what a client sent; `None` clears it.
fn field_value(field: &Field, v: &Value, project: &str) -> Result<Option<Value>, Response> {
    let invalid = || {
        rule_error(&format!(
            "TF401320: Rule Error for field {}. Error code: InvalidType.",
            field.name
        ))
    };
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(match field.kind {
        Kind::Identity => return identity_value(field, v),
        Kind::Integer => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => json!(s.trim().parse::<i64>().map_err(|_| invalid())?),
            _ => return Err(invalid()),
        },
        Kind::Double => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => json!(s.trim().parse::<f64>().map_err(|_| invalid())?),
            _ => return Err(invalid()),
        },
        Kind::DateTime => {
            let ms = v.as_str().and_then(parse_date).ok_or_else(invalid)?.0;
            json!(iso(ms))
        }
        Kind::TreePath => {
            let path = v.as_str().ok_or_else(invalid)?.trim().trim_matches('\\');
            let root = path.split('\\').next().unwrap_or_default();
            if !root.eq_ignore_ascii_case(project) {
                return Err(wit_error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "TF401347: Invalid tree name given for work item, field '{}'.",
                        field.reference
                    ),
                    "WorkItemFieldInvalidTreeNameException",
                ));
            }
            json!(format!("{project}{}", &path[root.len()..]))
        }
        Kind::String | Kind::Html | Kind::History => match v {
            Value::String(s) if field.reference == "System.Tags" => json!(s
                .split([';', ','])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("; ")),
            Value::String(s) => json!(s),
            Value::Number(n) => json!(n.to_string()),
            Value::Bool(b) => json!(b.to_string()),
            _ => return Err(invalid()),
        },
    }))
}

/// Applies a JSON Patch document to a copy of `item`'s fields: the whole
/// document or nothing.
fn apply_patch(item: &WorkItem, project: &str, ops: &[Value]) -> Result<Patched, Response> {
    let mut fields = item.fields.clone();
    // The previous revision's history entry is not part of this one.
    fields.remove("System.History");
    let mut history = None;
    for op in ops {
        let Some(obj) = op.as_object() else {
            return Err(bad_patch(
                "You must pass a valid patch document in the body of the request.",
            ));
        };
        let name = obj.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = obj.get("path").and_then(Value::as_str).unwrap_or_default();
        let value = obj.get("value").cloned().unwrap_or(Value::Null);
        let name = name.to_ascii_lowercase();
        if !["add", "replace", "remove", "test", "move", "copy"].contains(&name.as_str())
            || path.is_empty()
        {
            return Err(bad_patch(
                "You must pass a valid patch document in the body of the request.",
            ));
        }
        if name == "test" {
            let actual = match path {
                "/rev" => json!(item.rev),
                "/id" => json!(item.id),
                _ => match path.strip_prefix("/fields/").and_then(fields::find) {
                    Some(f) => fields.get(f.reference).cloned().unwrap_or(Value::Null),
                    None => return Err(unsupported_path(&name, path)),
                },
            };
            if !same(&actual, &value) {
                return Err(test_failed(path, &actual, &value));
            }
            continue;
        }
        let Some(field_name) = path.strip_prefix("/fields/") else {
            // Relations, attachments, move and copy are not modelled.
            return Err(unsupported_path(&name, path));
        };
        if matches!(name.as_str(), "move" | "copy") {
            return Err(unsupported_path(&name, path));
        }
        let Some(field) = fields::find(field_name) else {
            return Err(wit_error(
                StatusCode::BAD_REQUEST,
                &format!("TF51535: Cannot find field {field_name}."),
                "WorkItemTrackingFieldDefinitionNotFoundException",
            ));
        };
        if field.read_only {
            return Err(rule_error(&format!(
                "TF401326: Invalid field status 'ReadOnly' for field '{}'.",
                field.reference
            )));
        }
        let new = if name == "remove" {
            None
        } else {
            field_value(field, &value, project)?
        };
        if field.kind == Kind::History {
            history = new.as_ref().and_then(Value::as_str).map(str::to_owned);
        }
        match new {
            Some(v) => fields.insert(field.reference.into(), v),
            None => fields.remove(field.reference),
        };
    }
    // Rules the process enforces.
    for required in [
        "System.Title",
        "System.State",
        "System.WorkItemType",
        "System.AreaPath",
        "System.IterationPath",
    ] {
        let empty = fields
            .get(required)
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty());
        if empty {
            let name = fields::find(required).map_or(required, |f| f.name);
            return Err(rule_error(&format!(
                "TF401320: Rule Error for field {name}. Error code: Required, InvalidEmpty."
            )));
        }
    }
    if fields
        .get("System.Title")
        .and_then(Value::as_str)
        .is_some_and(|t| t.chars().count() > 255)
    {
        return Err(rule_error(
            "TF401320: Rule Error for field Title. Error code: MaxLength, InvalidTooLong.",
        ));
    }
    let item_type = fields
        .get("System.WorkItemType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let states: Option<Vec<&str>> = process::TYPES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(item_type))
        .map(|t| t.states.iter().map(|s| s.name).collect());
    let type_unchanged =
        fields.get("System.WorkItemType") == item.fields.get("System.WorkItemType");
    let Some(states) = states.or(type_unchanged.then(Vec::new)) else {
        return Err(rule_error(&format!(
            "TF401320: Rule Error for field Work Item Type. Error code: LimitedToValues, InvalidListValue. '{item_type}' is not a work item type of this project."
        )));
    };
    let state = fields
        .get("System.State")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // A value the item already has is allowed to stay (AllowsOldValue).
    let unchanged = ["System.State", "System.WorkItemType"]
        .iter()
        .all(|k| fields.get(*k) == item.fields.get(*k));
    match states.iter().find(|s| s.eq_ignore_ascii_case(&state)) {
        Some(s) => {
            fields.insert("System.State".into(), json!(s));
        }
        None if unchanged => {}
        None => {
            return Err(rule_error(
                "TF401320: Rule Error for field State. Error code: Required, HasValues, LimitedToValues, AllowsOldValue, InvalidListValue.",
            ))
        }
    }
    let mut change = Map::new();
    for (k, v) in &fields {
        if item.fields.get(k) != Some(v) {
            change.insert(k.clone(), v.clone());
        }
    }
    for k in item.fields.keys() {
        if !fields.contains_key(k) {
            change.insert(k.clone(), Value::Null);
        }
    }
    Ok(Patched { change, history })
}

/// `PATCH …/workitems/{id}` with `application/json-patch+json`
/// (`validateOnly`, `bypassRules`, `suppressNotifications`, `$expand`).
pub(crate) async fn patch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = preamble!(shared, method, path, query, headers, Versioning::Released);
    try_or_return!(content_type(
        &headers,
        &method,
        &["application/json-patch+json"]
    ));
    let ops = match json_body(&body) {
        Ok(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => return bad_patch("You must pass a valid patch document in the body of the request."),
    };
    let id = try_or_return!(parse_id(call.path.get("id").map_or("", String::as_str)));
    let expand = try_or_return!(expand_param(call.params.get("$expand")));
    let validate_only = call.params.flag("validateOnly");
    let shape = Shape::new(expand, None, true);
    let mut world = shared.world();
    try_or_return!(resolve_project(&world, &call));
    let Some(item) = world.ado.item(id) else {
        return item_not_found(id);
    };
    let project = world
        .ado
        .projects
        .get(item.project)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let Patched {
        mut change,
        history,
    } = try_or_return!(apply_patch(item, &project, &ops));
    if let Some(text) = &history {
        // A new history entry is a change even when its text repeats the last.
        change.insert("System.History".into(), json!(text));
    }
    // Dropping the previous revision's history entry alone changes nothing.
    let real_change = change
        .iter()
        .any(|(k, v)| k != "System.History" || !v.is_null());
    if !real_change {
        // Nothing changes: no new revision.
        let view = View::new(&shared, &call, &world.ado);
        return reply(&view.item(item, View::current(item), &shape), &call.version);
    }
    let at = now_ms().max(changed_ms(&item.fields) + 1);
    if change.contains_key("System.State")
        && !change.contains_key("Microsoft.VSTS.Common.StateChangeDate")
    {
        change.insert(
            "Microsoft.VSTS.Common.StateChangeDate".into(),
            json!(iso(at)),
        );
    }
    let mut next = item.clone();
    if let Some(text) = &history {
        next.comments.push(Comment {
            id: next.comments.iter().map(|c| c.id).max().unwrap_or(0) + 1,
            text: text.clone(),
            author: owner().0.into(),
            created_ms: at,
        });
        change.insert("System.CommentCount".into(), json!(next.comments.len()));
    }
    next.apply(change, owner(), at);
    if validate_only {
        // The item as it would be, saved nowhere.
        let view = View::new(&shared, &call, &world.ado);
        let mut body = view.item(&next, View::current(&next), &shape);
        if let Some(obj) = body.as_object_mut() {
            obj.insert("rev".into(), json!(item.rev));
        }
        return reply(&body, &call.version);
    }
    if let Some(slot) = world.ado.item_mut(id) {
        *slot = next;
    }
    world.ado.changes += 1;
    let view = View::new(&shared, &call, &world.ado);
    match world.ado.item(id) {
        Some(item) => reply(&view.item(item, View::current(item), &shape), &call.version),
        None => item_not_found(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work_items::Organization;

    fn org() -> Organization {
        Organization::generate("fabrikam", 5, 30, 1_800_000_000_000)
    }

    #[test]
    fn a_stale_rev_fails_the_whole_document() {
        let org = org();
        let item = &org.items[0];
        let project = org.projects[item.project].name.clone();
        let ops = vec![
            json!({"op": "replace", "path": "/fields/System.Title", "value": "x"}),
            json!({"op": "test", "path": "/rev", "value": item.rev + 1}),
        ];
        let Err(r) = apply_patch(item, &project, &ops) else {
            panic!("a stale rev must fail");
        };
        assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let org = org();
        let item = &org.items[0];
        let project = org.projects[item.project].name.clone();
        let ops = vec![
            json!({"op": "test", "path": "/rev", "value": item.rev}),
            json!({"op": "add", "path": "/fields/System.Title", "value": "New title"}),
            json!({"op": "add", "path": "/fields/System.AssignedTo", "value": "Priya Natarajan <priya.natarajan@contoso.example>"}),
            json!({"op": "add", "path": "/fields/System.Tags", "value": "a;b ; c"}),
        ];
        let p = apply_patch(item, &project, &ops).unwrap();
        assert_eq!(p.change.get("System.Title"), Some(&json!("New title")));
        assert_eq!(p.change.get("System.Tags"), Some(&json!("a; b; c")));
        assert_eq!(
            p.change
                .get("System.AssignedTo")
                .and_then(|v| v.get("uniqueName")),
            Some(&json!("priya.natarajan@contoso.example"))
        );
        assert!(!p.change.contains_key("System.State"));
    }

    #[test]
    fn rules_refuse_bad_values() {
        let org = org();
        let item = &org.items[0];
        let project = org.projects[item.project].name.clone();
        for (op, status) in [
            (
                json!({"op": "add", "path": "/fields/System.State", "value": "Nonsense"}),
                400,
            ),
            (
                json!({"op": "add", "path": "/fields/System.Id", "value": 5}),
                400,
            ),
            (json!({"op": "remove", "path": "/fields/System.Title"}), 400),
            (
                json!({"op": "add", "path": "/fields/System.AreaPath", "value": "Elsewhere\\X"}),
                400,
            ),
            (
                json!({"op": "add", "path": "/fields/Custom.Nope", "value": 1}),
                400,
            ),
            (
                json!({"op": "add", "path": "/relations/-", "value": {}}),
                400,
            ),
            (
                json!({"op": "test", "path": "/fields/System.Title", "value": "not it"}),
                412,
            ),
        ] {
            let Err(r) = apply_patch(item, &project, std::slice::from_ref(&op)) else {
                panic!("{op} must fail");
            };
            assert_eq!(r.status().as_u16(), status, "{op}");
        }
    }

    #[test]
    fn a_state_the_item_already_has_may_stay() {
        let org = org();
        let mut item = org.items[0].clone();
        item.fields.insert("System.State".into(), json!("Nonsense"));
        let project = org.projects[item.project].name.clone();
        let ops = [json!({"op": "add", "path": "/fields/System.Title", "value": "x"})];
        assert!(apply_patch(&item, &project, &ops).is_ok());
        let ops = [json!({"op": "add", "path": "/fields/System.State", "value": "Other nonsense"})];
        assert!(apply_patch(&item, &project, &ops).is_err());
    }

    #[test]
    fn comment_tokens_round_trip() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("garbage"), None);
    }
}
