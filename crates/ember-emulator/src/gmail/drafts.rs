//! Gmail's `users.drafts`: create, update, list, get, delete and send, in
//! their JSON and upload forms.
//!
//! A draft is an immutable id pointing at a message labelled DRAFT; writing
//! the draft replaces that message with a new one (new id, the old one
//! deleted), so history shows `messageDeleted` and `messageAdded` as Gmail's
//! does. Sending deletes the draft's message and files a new SENT message in
//! the same thread; the draft is gone afterwards, so a second send of the
//! same id answers 404, which is what lets a client send exactly once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};

use super::messages::{format_of, message_json, now_ms, page_size, parse_json, snapshot};
use super::query::{self, parse_search};
use super::send::{decode_raw, file_sent, no_recipients, owner_of, pick_thread, prepare};
use super::{bad_parameter, bad_request, mailbox_of, not_found, upload};
use crate::delivery::envelope::Envelope;
use crate::http::Caller;
use crate::mailbox::{DraftRef, Mailbox, Message, Source};
use crate::state::Shared;
use crate::world::MailProvider;

type SharedState = State<Arc<Shared>>;

/// A draft id as Gmail writes them (`r-834494671212680745`), derived from
/// the draft's first message id.
fn draft_id(message_id: &str) -> String {
    let d = crate::graph::digest(&[b"gmail-draft", message_id.as_bytes()]);
    let mut n = [0u8; 8];
    n.copy_from_slice(&d[..8]);
    format!("r{}", i64::from_le_bytes(n))
}

fn draft_json(mb: &Mailbox, draft: &DraftRef) -> Value {
    let (message_id, thread_id, labels) = match mb.find(&draft.message) {
        Some(i) => {
            let m = &mb.messages[i];
            (m.id.clone(), m.thread_id.clone(), mb.label_ids(m.labels))
        }
        None => (draft.message.clone(), draft.message.clone(), Vec::new()),
    };
    json!({"id": draft.id, "message": {"id": message_id, "threadId": thread_id, "labelIds": labels}})
}

/// The message a draft resource carries: `{"raw"?, "threadId"?}`.
fn message_of(resource: &Value) -> (Option<&str>, Option<&str>) {
    let m = &resource["message"];
    (m["raw"].as_str(), m["threadId"].as_str())
}

/// Writes a draft (a new one, or draft `existing`): the prepared message
/// replaces its current one.
fn write(
    shared: &Shared,
    caller: &Caller,
    user: &str,
    existing: Option<&str>,
    raw: &[u8],
    thread: Option<&str>,
) -> Response {
    let owner = match owner_of(shared, caller, user) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let now = now_ms();
    let id = shared.world().new_message_id(MailProvider::Gmail, now);
    let raw = match prepare(raw, (&owner.0, &owner.1), now, &id) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let env = Envelope::of(&raw);
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, caller, user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let (slot, old_thread) = match existing {
        None => (None, None),
        Some(d) => match mb.drafts.iter().position(|r| r.id == d) {
            Some(k) => {
                let old = mb.find(&mb.drafts[k].message);
                (Some(k), old.map(|i| mb.messages[i].thread_id.clone()))
            }
            None => return not_found(),
        },
    };
    let thread_id = pick_thread(mb, thread.or(old_thread.as_deref()), &env, &id);
    let record = match slot {
        Some(k) => {
            let mut record = mb.drafts.remove(k);
            if let Some(i) = mb.find(&record.message) {
                mb.delete(i);
            }
            record.message = id.clone();
            record
        }
        None => DraftRef {
            id: draft_id(&id),
            message: id.clone(),
        },
    };
    let draft_bit = mb.label_bit("DRAFT").unwrap_or(0);
    mb.deliver(Message {
        id,
        thread_id,
        labels: draft_bit,
        date_ms: now,
        source: Source::Raw(raw.into()),
        deleted: false,
        changed: 0,
    });
    let answer = draft_json(mb, &record);
    mb.drafts.push(record);
    Json(answer).into_response()
}

/// `POST users/{user}/drafts` with `{"message": {"raw", "threadId"?}}`.
pub async fn create(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    body: Bytes,
) -> Response {
    let resource: Value = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (raw, thread) = message_of(&resource);
    match decode_raw(raw) {
        Ok(raw) => write(&shared, &caller, &user, None, &raw, thread),
        Err(r) => r,
    }
}

/// `POST /upload/gmail/v1/users/{user}/drafts?uploadType=media|multipart`.
pub async fn create_upload(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match upload::parse(query.as_deref(), &headers, &body) {
        Ok(up) => write(
            &shared,
            &caller,
            &user,
            None,
            &up.media,
            message_of(&up.metadata).1,
        ),
        Err(r) => r,
    }
}

/// `PUT users/{user}/drafts/{id}` with `{"id"?, "message": {"raw", "threadId"?}}`.
pub async fn update(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let resource: Value = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (raw, thread) = message_of(&resource);
    match decode_raw(raw) {
        Ok(raw) => write(&shared, &caller, &user, Some(&id), &raw, thread),
        Err(r) => r,
    }
}

/// `PUT /upload/gmail/v1/users/{user}/drafts/{id}?uploadType=media|multipart`.
pub async fn update_upload(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match upload::parse(query.as_deref(), &headers, &body) {
        Ok(up) => write(
            &shared,
            &caller,
            &user,
            Some(&id),
            &up.media,
            message_of(&up.metadata).1,
        ),
        Err(r) => r,
    }
}

/// `GET users/{user}/drafts` (`maxResults`, `pageToken`, `q`): newest first.
pub async fn list(
    State(shared): SharedState,
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
    let search = match parse_search(query::first(&pairs, "q").unwrap_or_default(), mb, now_ms()) {
        Ok(s) => s,
        Err(e) => return bad_request(&e),
    };
    let matching: Vec<&DraftRef> = mb
        .drafts
        .iter()
        .rev()
        .filter(|d| {
            mb.find(&d.message)
                .is_some_and(|i| search.matches(&mb.messages[i]))
        })
        .collect();
    let start = match query::first(&pairs, "pageToken") {
        None => 0,
        Some(t) => match t.parse::<usize>() {
            Ok(n) if n <= matching.len() => n,
            _ => return bad_parameter("pageToken", "Invalid pageToken"),
        },
    };
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(size)
        .map(|d| {
            let v = draft_json(mb, d);
            json!({"id": v["id"], "message": {"id": v["message"]["id"], "threadId": v["message"]["threadId"]}})
        })
        .collect();
    let mut body = Map::new();
    let end = start + page.len();
    if !page.is_empty() {
        body.insert("drafts".into(), Value::Array(page));
    }
    if end < matching.len() {
        body.insert("nextPageToken".into(), json!(end.to_string()));
    }
    body.insert("resultSizeEstimate".into(), json!(matching.len()));
    Json(Value::Object(body)).into_response()
}

/// `GET users/{user}/drafts/{id}?format=full|metadata|minimal|raw`.
pub async fn get(
    State(shared): SharedState,
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
        match mb
            .drafts
            .iter()
            .find(|d| d.id == id)
            .and_then(|d| mb.find(&d.message))
        {
            Some(i) => snapshot(mb, i),
            None => return not_found(),
        }
    };
    let wanted = query::all(&pairs, "metadataHeaders");
    let message = message_json(
        &snap.message,
        snap.labels,
        (&snap.owner.0, &snap.owner.1),
        &shared.base_url,
        format,
        &wanted,
    );
    Json(json!({"id": id, "message": message})).into_response()
}

/// `DELETE users/{user}/drafts/{id}`: 204, the draft and its message gone.
pub async fn delete(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    Path((user, id)): Path<(String, String)>,
) -> Response {
    let mut world = shared.world();
    let mb = match mailbox_of(&mut world, &caller, &user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let Some(k) = mb.drafts.iter().position(|d| d.id == id) else {
        return not_found();
    };
    let record = mb.drafts.remove(k);
    if let Some(i) = mb.find(&record.message) {
        mb.delete(i);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Sends draft `id`, after replacing its message with `raw` when given.
fn send_draft(
    shared: &Shared,
    caller: &Caller,
    user: &str,
    id: Option<&str>,
    raw: Option<&[u8]>,
    thread: Option<&str>,
) -> Response {
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return bad_request("Invalid draft: the id of the draft to send is required");
    };
    if let Some(raw) = raw {
        let written = write(shared, caller, user, Some(id), raw, thread);
        if written.status() != StatusCode::OK {
            return written;
        }
    }
    let now = now_ms();
    let mut world = shared.world();
    let sent_id = world.new_message_id(MailProvider::Gmail, now);
    let mb = match mailbox_of(&mut world, caller, user) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let Some((k, i)) = mb
        .drafts
        .iter()
        .position(|d| d.id == id)
        .and_then(|k| mb.find(&mb.drafts[k].message).map(|i| (k, i)))
    else {
        return not_found();
    };
    let Source::Raw(bytes) = mb.messages[i].source.clone() else {
        return bad_request("Invalid draft");
    };
    let env = Envelope::of(&bytes);
    if env.recipients().next().is_none() {
        return no_recipients();
    }
    let thread_id = mb.messages[i].thread_id.clone();
    mb.drafts.remove(k);
    mb.delete(i);
    match file_sent(
        &mut world,
        caller,
        user,
        (sent_id, thread_id),
        bytes,
        &env,
        now,
    ) {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

/// `POST users/{user}/drafts/send` with `{"id", "message"?: {"raw", "threadId"?}}`:
/// the sent Message (`{id, threadId, labelIds}`).
pub async fn send(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    body: Bytes,
) -> Response {
    let resource: Value = match parse_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (raw, thread) = message_of(&resource);
    let raw = match raw.map(|r| decode_raw(Some(r))).transpose() {
        Ok(r) => r,
        Err(r) => return r,
    };
    send_draft(
        &shared,
        &caller,
        &user,
        resource["id"].as_str(),
        raw.as_deref(),
        thread,
    )
}

/// `POST /upload/gmail/v1/users/{user}/drafts/send?uploadType=multipart`
/// (the resource names the draft, the message replaces its content).
pub async fn send_upload(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match upload::parse(query.as_deref(), &headers, &body) {
        Ok(up) => send_draft(
            &shared,
            &caller,
            &user,
            up.metadata["id"].as_str(),
            Some(&up.media),
            message_of(&up.metadata).1,
        ),
        Err(r) => r,
    }
}
