//! The Gmail handlers. Each takes the world's lock only to read or change
//! records; composing and parsing message bytes happens after it is released.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::payload::{self, b64url};
use super::query::{self, parse_search};
use super::{bad_parameter, bad_request, mailbox_of, not_found, raw_and_snippet, short_message};
use crate::http::{gmail_error, Caller};
use crate::mailbox::{ChangeKind, CursorError, LabelKind, Mailbox, Message};
use crate::state::Shared;

/// Default and largest page sizes of list and history.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 500;
/// The most ids batchModify takes.
const MAX_BATCH_MODIFY: usize = 1000;

type Shared_ = State<Arc<Shared>>;

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(super) fn page_size(pairs: &[(String, String)]) -> Result<usize, Response> {
    match query::first(pairs, "maxResults") {
        None => Ok(DEFAULT_PAGE),
        Some(v) => v
            .parse::<usize>()
            .map(|n| n.clamp(1, MAX_PAGE))
            .map_err(|_| {
                bad_parameter("maxResults", &format!("Invalid value for maxResults: {v}"))
            }),
    }
}

/// `GET users/{user}/profile`.
pub async fn profile(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Response {
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, &caller, &user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let live: Vec<&Message> = mb.messages.iter().filter(|m| !m.deleted).collect();
    let threads: std::collections::HashSet<&str> =
        live.iter().map(|m| m.thread_id.as_str()).collect();
    Json(json!({
        "emailAddress": mb.address,
        "messagesTotal": live.len(),
        "threadsTotal": threads.len(),
        "historyId": mb.seq.to_string(),
    }))
    .into_response()
}

fn label_json(mb: &Mailbox, index: usize, counts: bool) -> Value {
    let l = &mb.labels[index];
    let mut v = json!({"id": l.id, "name": l.name});
    match l.kind {
        LabelKind::SystemHidden => {
            v["messageListVisibility"] = json!("hide");
            v["labelListVisibility"] = json!("labelHide");
            v["type"] = json!("system");
        }
        // Graph's folders never reach a Gmail mailbox.
        LabelKind::System
        | LabelKind::Folder
        | LabelKind::UserFolder { .. }
        | LabelKind::Retired => v["type"] = json!("system"),
        LabelKind::User => {
            v["messageListVisibility"] = json!("show");
            v["labelListVisibility"] = json!("labelShow");
            v["type"] = json!("user");
        }
    }
    if counts {
        let bit = 1u64 << index;
        let unread = mb.label_bit("UNREAD").unwrap_or(0);
        let (mut total, mut unread_n) = (0, 0);
        let mut threads = std::collections::HashSet::new();
        let mut unread_threads = std::collections::HashSet::new();
        for m in mb
            .messages
            .iter()
            .filter(|m| !m.deleted && m.labels & bit != 0)
        {
            total += 1;
            threads.insert(m.thread_id.as_str());
            if m.labels & unread != 0 {
                unread_n += 1;
                unread_threads.insert(m.thread_id.as_str());
            }
        }
        v["messagesTotal"] = json!(total);
        v["messagesUnread"] = json!(unread_n);
        v["threadsTotal"] = json!(threads.len());
        v["threadsUnread"] = json!(unread_threads.len());
    }
    v
}

/// `GET users/{user}/labels`.
pub async fn labels(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
) -> Response {
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, &caller, &user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let labels: Vec<Value> = (0..mb.labels.len())
        .map(|i| label_json(mb, i, false))
        .collect();
    Json(json!({ "labels": labels })).into_response()
}

/// `GET users/{user}/labels/{id}`.
pub async fn label(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
) -> Response {
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, &caller, &user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    match mb.labels.iter().position(|l| l.id == id) {
        Some(i) => Json(label_json(mb, i, true)).into_response(),
        None => not_found(),
    }
}

/// `GET users/{user}/messages`.
pub async fn list(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query::pairs(raw.as_deref());
    let size = match page_size(&pairs) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, &caller, &user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let mut search = match parse_search(query::first(&pairs, "q").unwrap_or_default(), mb, now_ms())
    {
        Ok(s) => s,
        Err(e) => return bad_request(&e),
    };
    for id in query::all(&pairs, "labelIds") {
        match mb.label_bit(id) {
            Some(bit) => search.labels |= bit,
            None => return bad_parameter("labelIds", &format!("Invalid label: {id}")),
        }
    }
    let include_spam_trash = query::first(&pairs, "includeSpamTrash") == Some("true");
    if !include_spam_trash && !search.anywhere {
        // Spam and trash are left out unless asked for by label.
        let hidden = mb.label_bit("SPAM").unwrap_or(0) | mb.label_bit("TRASH").unwrap_or(0);
        search.without |= hidden & !search.labels;
    }
    // The page token is the index (in the oldest-first array) to continue
    // below: stable while new mail arrives on top.
    let start = match query::first(&pairs, "pageToken") {
        None => mb.messages.len(),
        Some(t) => match t.parse::<usize>() {
            Ok(i) if i <= mb.messages.len() => i,
            _ => return bad_parameter("pageToken", "Invalid pageToken"),
        },
    };
    let mut page = Vec::with_capacity(size);
    let mut next = None;
    for i in (0..start).rev() {
        let m = &mb.messages[i];
        if m.deleted || !search.matches(m) {
            continue;
        }
        if page.len() == size {
            next = Some(i + 1);
            break;
        }
        page.push(json!({"id": m.id, "threadId": m.thread_id}));
    }
    let estimate = mb
        .messages
        .iter()
        .filter(|m| !m.deleted && search.matches(m))
        .count();
    let mut body = Map::new();
    if !page.is_empty() {
        body.insert("messages".into(), Value::Array(page));
    }
    if let Some(n) = next {
        body.insert("nextPageToken".into(), json!(n.to_string()));
    }
    body.insert("resultSizeEstimate".into(), json!(estimate));
    Json(Value::Object(body)).into_response()
}

/// Message formats of messages.get and threads.get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Minimal,
    Metadata,
    Full,
    Raw,
}

pub(super) fn format_of(pairs: &[(String, String)]) -> Result<Format, Response> {
    match query::first(pairs, "format").unwrap_or("full") {
        "minimal" => Ok(Format::Minimal),
        "metadata" => Ok(Format::Metadata),
        "full" => Ok(Format::Full),
        "raw" => Ok(Format::Raw),
        other => Err(bad_parameter(
            "format",
            &format!("Invalid value for format: {other}"),
        )),
    }
}

/// A message's JSON in `format`, composed outside the world's lock.
pub(super) fn message_json(
    message: &Message,
    label_ids: Vec<String>,
    owner: (&str, &str),
    base_url: &str,
    format: Format,
    metadata_headers: &[&str],
) -> Value {
    let mb_ctx = crate::compose::ComposeContext {
        owner: owner.0,
        owner_name: owner.1,
        ado_base: base_url,
        ado_org: crate::world::ADO_ORG,
    };
    let (raw, snippet) = raw_and_snippet(message, mb_ctx);
    let mut v = Map::new();
    v.insert("id".into(), json!(message.id));
    v.insert("threadId".into(), json!(message.thread_id));
    v.insert("labelIds".into(), json!(label_ids));
    if !snippet.is_empty() {
        v.insert("snippet".into(), json!(snippet));
    }
    match format {
        Format::Minimal => {
            v.insert("payload".into(), json!({"partId": ""}));
        }
        Format::Metadata => {
            let (headers, _) = payload::headers_and_snippet(&raw);
            let mime = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
                .map(|(_, v)| {
                    v.split(';')
                        .next()
                        .unwrap_or("text/plain")
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_else(|| "text/plain".into());
            let headers: Vec<Value> = headers
                .iter()
                .filter(|(n, _)| {
                    metadata_headers.is_empty()
                        || metadata_headers.iter().any(|h| h.eq_ignore_ascii_case(n))
                })
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect();
            v.insert(
                "payload".into(),
                json!({"mimeType": mime, "headers": headers}),
            );
        }
        Format::Full => {
            v.insert(
                "payload".into(),
                payload::payload(&raw, &message.id, None).0,
            );
        }
        Format::Raw => {}
    }
    v.insert("sizeEstimate".into(), json!(raw.len()));
    if format == Format::Raw {
        v.insert("raw".into(), json!(b64url(&raw)));
    }
    v.insert("historyId".into(), json!(message.changed.to_string()));
    v.insert("internalDate".into(), json!(message.date_ms.to_string()));
    Value::Object(v)
}

/// What is needed to render one message after the lock is released.
pub(super) struct Snapshot {
    pub(super) message: Message,
    pub(super) labels: Vec<String>,
    pub(super) owner: (String, String),
}

pub(super) fn snapshot(mb: &Mailbox, index: usize) -> Snapshot {
    let message = mb.messages[index].clone();
    Snapshot {
        labels: mb
            .label_ids(message.labels)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        message,
        owner: (mb.address.clone(), mb.display_name.clone()),
    }
}

/// `GET users/{user}/messages/{id}`.
pub async fn get_message(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query::pairs(raw.as_deref());
    let format = match format_of(&pairs) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let snap = {
        let mut world = shared.world();
        let mb = match mailbox_of(&mut world, &caller, &user) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        match mb.find(&id) {
            Some(i) => snapshot(mb, i),
            None => return not_found(),
        }
    };
    let wanted = query::all(&pairs, "metadataHeaders");
    Json(message_json(
        &snap.message,
        snap.labels,
        (&snap.owner.0, &snap.owner.1),
        &shared.base_url,
        format,
        &wanted,
    ))
    .into_response()
}

/// `GET users/{user}/messages/{id}/attachments/{attachment}`.
pub async fn attachment(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path((user, id, attachment)): Path<(String, String, String)>,
) -> Response {
    let snap = {
        let mut world = shared.world();
        let mb = match mailbox_of(&mut world, &caller, &user) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        match mb.find(&id) {
            Some(i) => snapshot(mb, i),
            None => return not_found(),
        }
    };
    let Some(part) = payload::part_of_attachment(&id, &attachment) else {
        return bad_request("Invalid attachment token");
    };
    let raw = {
        let ctx = crate::compose::ComposeContext {
            owner: &snap.owner.0,
            owner_name: &snap.owner.1,
            ado_base: &shared.base_url,
            ado_org: crate::world::ADO_ORG,
        };
        crate::compose::raw(&snap.message, ctx)
    };
    match payload::payload(&raw, &id, Some(&part)).1 {
        Some(leaf) => {
            Json(json!({"size": leaf.data.len(), "data": b64url(&leaf.data)})).into_response()
        }
        None => not_found(),
    }
}

/// Body of modify and batchModify.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifyBody {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    add_label_ids: Vec<String>,
    #[serde(default)]
    remove_label_ids: Vec<String>,
}

fn label_mask(mb: &Mailbox, ids: &[String]) -> Result<u64, Response> {
    let mut mask = 0;
    for id in ids {
        mask |= mb
            .label_bit(id)
            .ok_or_else(|| bad_request(&format!("Invalid label: {id}")))?;
    }
    Ok(mask)
}

pub(super) fn parse_json<T: for<'de> Deserialize<'de> + Default>(
    body: &Bytes,
) -> Result<T, Response> {
    if body.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        gmail_error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid JSON payload received. {e}"),
            "parseError",
        )
    })
}

/// `POST users/{user}/messages/{id}/modify`.
pub async fn modify(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let req: ModifyBody = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, &caller, &user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let (add, remove) = match (
        label_mask(mb, &req.add_label_ids),
        label_mask(mb, &req.remove_label_ids),
    ) {
        (Ok(a), Ok(r)) => (a, r),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let Some(i) = mb.find(&id) else {
        return not_found();
    };
    mb.relabel(i, add, remove);
    Json(short_message(mb, &mb.messages[i])).into_response()
}

/// `POST users/{user}/messages/batchModify`: 204 with no body.
pub async fn batch_modify(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    body: Bytes,
) -> Response {
    let req: ModifyBody = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if req.ids.len() > MAX_BATCH_MODIFY {
        return bad_request("Too many ids: at most 1000 per request");
    }
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, &caller, &user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let (add, remove) = match (
        label_mask(mb, &req.add_label_ids),
        label_mask(mb, &req.remove_label_ids),
    ) {
        (Ok(a), Ok(r)) => (a, r),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    for id in &req.ids {
        if let Some(i) = mb.find(id) {
            mb.relabel(i, add, remove);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

fn move_to_trash(mb: &mut Mailbox, id: &str, trash: bool) -> Result<Value, Response> {
    let i = mb.find(id).ok_or_else(not_found)?;
    let trash_bit = mb.label_bit("TRASH").unwrap_or(0);
    let inbox_bit = mb.label_bit("INBOX").unwrap_or(0);
    if trash {
        mb.relabel(i, trash_bit, inbox_bit);
    } else {
        mb.relabel(i, inbox_bit, trash_bit);
    }
    Ok(short_message(mb, &mb.messages[i]))
}

/// `POST users/{user}/messages/{id}/trash`.
pub async fn trash(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
) -> Response {
    let mut world = shared.world();
    match mailbox_of(&mut world, &caller, &user).and_then(|mb| move_to_trash(mb, &id, true)) {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

/// `POST users/{user}/messages/{id}/untrash`.
pub async fn untrash(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
) -> Response {
    let mut world = shared.world();
    match mailbox_of(&mut world, &caller, &user).and_then(|mb| move_to_trash(mb, &id, false)) {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

/// `GET users/{user}/threads/{id}`.
pub async fn thread(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query::pairs(raw.as_deref());
    let format = match format_of(&pairs) {
        Ok(Format::Raw) => return bad_request("Invalid value for format: raw"),
        Ok(f) => f,
        Err(r) => return r,
    };
    let (snaps, history) = {
        let mut world = shared.world();
        let mb = match mailbox_of(&mut world, &caller, &user) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let snaps: Vec<Snapshot> = mb
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.deleted && m.thread_id == id)
            .map(|(i, _)| snapshot(mb, i))
            .collect();
        let history = snaps
            .iter()
            .map(|s| s.message.changed)
            .max()
            .unwrap_or(mb.seq);
        (snaps, history)
    };
    if snaps.is_empty() {
        return not_found();
    }
    let wanted = query::all(&pairs, "metadataHeaders");
    let messages: Vec<Value> = snaps
        .iter()
        .map(|s| {
            message_json(
                &s.message,
                s.labels.clone(),
                (&s.owner.0, &s.owner.1),
                &shared.base_url,
                format,
                &wanted,
            )
        })
        .collect();
    Json(json!({"id": id, "historyId": history.to_string(), "messages": messages})).into_response()
}

/// `GET users/{user}/history`.
pub async fn history(
    State(shared): Shared_,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let pairs = query::pairs(raw.as_deref());
    let size = match page_size(&pairs) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let Some(start) = query::first(&pairs, "startHistoryId") else {
        return bad_parameter(
            "startHistoryId",
            "Missing required parameter: startHistoryId",
        );
    };
    let Ok(start) = start.parse::<u64>() else {
        return bad_parameter("startHistoryId", "Invalid startHistoryId");
    };
    let since = match query::first(&pairs, "pageToken") {
        Some(t) => match t.parse::<u64>() {
            Ok(s) => s,
            Err(_) => return bad_parameter("pageToken", "Invalid pageToken"),
        },
        None => start,
    };
    let types: Vec<&str> = query::all(&pairs, "historyTypes");
    let wants = |t: &str| types.is_empty() || types.contains(&t);
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, &caller, &user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let label_filter = match query::first(&pairs, "labelId") {
        Some(l) => match mb.label_bit(l) {
            Some(bit) => Some(bit),
            None => return bad_request(&format!("Invalid label: {l}")),
        },
        None => None,
    };
    let changes = match mb.changes_since(since) {
        Ok(c) => c,
        // Gmail answers an out-of-date or unknown start with 404: do a full sync.
        Err(CursorError::Expired | CursorError::Invalid) => return not_found(),
    };
    let mut records = Vec::new();
    let mut next = None;
    for change in changes {
        let m = &mb.messages[change.message];
        if label_filter.is_some_and(|bit| m.labels & bit == 0) {
            continue;
        }
        if records.len() == size {
            next = Some(change.seq - 1);
            break;
        }
        let brief = json!({"id": m.id, "threadId": m.thread_id});
        let full = json!({"id": m.id, "threadId": m.thread_id, "labelIds": mb.label_ids(m.labels)});
        let mut record = json!({"id": change.seq.to_string(), "messages": [brief]});
        match change.kind {
            ChangeKind::Added if wants("messageAdded") => {
                record["messagesAdded"] = json!([{ "message": full }]);
            }
            ChangeKind::Deleted if wants("messageDeleted") => {
                record["messagesDeleted"] = json!([{ "message": brief }]);
            }
            ChangeKind::LabelsAdded(mask) if wants("labelAdded") => {
                record["labelsAdded"] =
                    json!([{ "message": full, "labelIds": mb.label_ids(mask) }]);
            }
            ChangeKind::LabelsRemoved(mask) if wants("labelRemoved") => {
                record["labelsRemoved"] =
                    json!([{ "message": full, "labelIds": mb.label_ids(mask) }]);
            }
            _ => {}
        }
        records.push(record);
    }
    let mut body = Map::new();
    if !records.is_empty() {
        body.insert("history".into(), Value::Array(records));
    }
    if let Some(n) = next {
        body.insert("nextPageToken".into(), json!(n.to_string()));
    }
    body.insert("historyId".into(), json!(mb.seq.to_string()));
    Json(Value::Object(body)).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_parse() {
        let p = super::query::pairs(Some("format=raw"));
        assert!(matches!(super::format_of(&p), Ok(super::Format::Raw)));
        let p = super::query::pairs(Some("format=bogus"));
        assert!(super::format_of(&p).is_err());
    }
}
