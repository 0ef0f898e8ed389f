//! The message endpoints: get, `$value`, list, PATCH, DELETE, move, and
//! `sendMail`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::folders::{folder_key, resolve, FolderRef};
use super::resource::{
    self, category_bit, category_mask, folder_index, render, snap, Bits, Owner, Select, Snap,
};
use super::{
    b64, bad_request, context, encode_query, id_malformed, item_not_found, looks_like_id,
    mailbox_mut, parse_datetime, prefer, query_first, query_pairs, respond, BodyPref, Params,
    Target,
};
use crate::emulator::gmail::payload::b64_decode_lenient;
use crate::emulator::http::{graph_error, Caller};
use crate::emulator::mailbox::{Mailbox, Message, Source};
use crate::emulator::state::Shared;
use crate::emulator::world::{graph_folder_bit, MailProvider, GRAPH_FOLDER_MASK};

/// Page size of message lists without `$top`, and the largest `$top`.
const DEFAULT_TOP: usize = 10;
const MAX_TOP: usize = 1000;

type SharedState = State<Arc<Shared>>;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn message_id(params: &Params) -> Result<String, Response> {
    match params.get("id") {
        Some(id) if looks_like_id(id) => Ok(id.to_owned()),
        _ => Err(id_malformed()),
    }
}

/// Finds message `id`; 404 when it is unknown or gone.
fn find(mb: &Mailbox, id: &str) -> Result<usize, Response> {
    mb.find(id).ok_or_else(item_not_found)
}

/// Checks `If-Match` (an etag or bare changeKey) against the message's
/// current changeKey: Exchange refuses stale updates with 412.
fn check_if_match(headers: &HeaderMap, mb: &Mailbox, index: usize) -> Result<(), Response> {
    let Some(given) = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    else {
        return Ok(());
    };
    if given == "*" {
        return Ok(());
    }
    let given = given.strip_prefix("W/").unwrap_or(given).trim_matches('"');
    if given == resource::change_key(&Owner::of(mb), &mb.messages[index]) {
        Ok(())
    } else {
        Err(graph_error(
            StatusCode::PRECONDITION_FAILED,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
        ))
    }
}

fn entity_context(shared: &Shared, target: &Target, select: Select) -> String {
    if select.is_custom() {
        context(
            shared,
            &format!(
                "{}/messages({})/$entity",
                target.context_user(),
                select.names()
            ),
        )
    } else {
        context(
            shared,
            &format!("{}/messages/$entity", target.context_user()),
        )
    }
}

fn applied(pref: Option<String>) -> Vec<(&'static str, String)> {
    pref.map(|p| vec![("Preference-Applied", p)])
        .unwrap_or_default()
}

/// Renders one snapshotted message as a single entity.
fn entity(
    shared: &Shared,
    target: &Target,
    snap: &Snap,
    owner: &Owner,
    select: Select,
    headers: &HeaderMap,
    status: StatusCode,
) -> Response {
    let (pref, pref_applied) = BodyPref::of(headers);
    let mut body = render(snap, owner, &shared.base_url, select, pref, false);
    body.insert(
        "@odata.context".into(),
        json!(entity_context(shared, target, select)),
    );
    respond(status, &Value::Object(body), &applied(pref_applied))
}

/// `GET /me/messages/{id}` (`$select`, `Prefer: outlook.body-content-type`).
pub async fn get_message(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let pairs = query_pairs(raw.as_deref());
    let select = match Select::parse(query_first(&pairs, "$select")) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (snap, owner) = {
        let mut world = shared.world();
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        match find(mb, &id) {
            Ok(i) => (snap(mb, i), Owner::of(mb)),
            Err(r) => return r,
        }
    };
    entity(
        &shared,
        &target,
        &snap,
        &owner,
        select,
        &headers,
        StatusCode::OK,
    )
}

/// `GET /me/messages/{id}/$value`: the MIME content, as `text/plain`.
pub async fn value(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let (snap, owner) = {
        let mut world = shared.world();
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        match find(mb, &id) {
            Ok(i) => (snap(mb, i), Owner::of(mb)),
            Err(r) => return r,
        }
    };
    let raw = resource::raw_of(&snap, &owner, &shared.base_url);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        raw,
    )
        .into_response()
}

/// A `$filter` on a message list: the clauses Ember and common clients use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter {
    /// Received at or after (ms).
    pub min_date: Option<i64>,
    /// Received before (ms).
    pub max_date: Option<i64>,
    /// `isRead eq ...`.
    pub is_read: Option<bool>,
    /// `inferenceClassification eq 'focused'|'other'`.
    pub focused: Option<bool>,
}

fn invalid_filter(clause: &str) -> Response {
    bad_request(
        "ErrorInvalidUrlQueryFilter",
        &format!("The query filter contains one or more invalid nodes: '{clause}'."),
    )
}

/// Parses `$filter` (clauses joined by `and`).
pub fn parse_filter(value: Option<&str>) -> Result<Filter, Response> {
    let mut f = Filter::default();
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(f);
    };
    let lower = value.to_ascii_lowercase();
    let mut start = 0;
    let mut clauses = Vec::new();
    while let Some(p) = lower[start..].find(" and ") {
        clauses.push(&value[start..start + p]);
        start += p + 5;
    }
    clauses.push(&value[start..]);
    for clause in clauses {
        let words: Vec<&str> = clause.split_whitespace().collect();
        let [field, op, literal] = words[..] else {
            return Err(invalid_filter(clause));
        };
        let op = op.to_ascii_lowercase();
        match field.to_ascii_lowercase().as_str() {
            "receiveddatetime" => {
                let t = parse_datetime(literal).ok_or_else(|| invalid_filter(clause))?;
                match op.as_str() {
                    "ge" => f.min_date = Some(t),
                    "gt" => f.min_date = Some(t + 1),
                    "lt" => f.max_date = Some(t),
                    "le" => f.max_date = Some(t + 1),
                    _ => return Err(invalid_filter(clause)),
                }
            }
            "isread" => {
                let b = match literal {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid_filter(clause)),
                };
                f.is_read = match op.as_str() {
                    "eq" => Some(b),
                    "ne" => Some(!b),
                    _ => return Err(invalid_filter(clause)),
                };
            }
            "inferenceclassification" if op == "eq" => {
                f.focused = match literal.trim_matches('\'').to_ascii_lowercase().as_str() {
                    "focused" => Some(true),
                    "other" => Some(false),
                    _ => return Err(invalid_filter(clause)),
                };
            }
            _ => return Err(invalid_filter(clause)),
        }
    }
    Ok(f)
}

impl Filter {
    fn matches(&self, m: &Message, bits: &Bits) -> bool {
        self.min_date.is_none_or(|t| m.date_ms >= t)
            && self.max_date.is_none_or(|t| m.date_ms < t)
            && self
                .is_read
                .is_none_or(|r| (m.labels & bits.unread == 0) == r)
            && self
                .focused
                .is_none_or(|f| (m.labels & bits.focused != 0) == f)
    }
}

/// `GET /me/messages` and `GET /me/mailFolders/{id}/messages` (`$top`,
/// `$skip`, `$select`, `$filter`, `$orderby=receivedDateTime desc|asc`).
pub async fn list(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let key = match folder_key(&params) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let pairs = query_pairs(raw.as_deref());
    let number = |name: &str, default: usize| match query_first(&pairs, name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            bad_request(
                "BadRequest",
                &format!("Invalid value '{v}' for query option '{name}'."),
            )
        }),
    };
    let (top, skip) = match (number("$top", DEFAULT_TOP), number("$skip", 0)) {
        (Ok(t), Ok(s)) => (t.clamp(1, MAX_TOP), s),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let select = match Select::parse(query_first(&pairs, "$select")) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let filter = match parse_filter(query_first(&pairs, "$filter")) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let ascending = match query_first(&pairs, "$orderby").map(|o| {
        o.split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
    }) {
        None => false,
        Some(words) => match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["receiveddatetime"] | ["receiveddatetime", "asc"] => true,
            ["receiveddatetime", "desc"] => false,
            _ => {
                return bad_request(
                    "ErrorInvalidUrlQuery",
                    "The $orderby clause is not supported.",
                )
            }
        },
    };
    let (snaps, owner, more) = {
        let mut world = shared.world();
        let seed = world.config.seed;
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let folder_bit = match key.as_deref().map(|k| resolve(mb, seed, k)) {
            None => None,
            Some(Ok(FolderRef::Folder(i))) => Some(1u64 << i),
            Some(Ok(FolderRef::Root)) => Some(0),
            Some(Err(r)) => return r,
        };
        let bits = Bits::of(mb);
        let mut hits: Vec<(i64, usize)> = mb
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                !m.deleted
                    && folder_bit.is_none_or(|b| m.labels & b != 0)
                    && filter.matches(m, &bits)
            })
            .map(|(i, m)| (m.date_ms, i))
            .collect();
        if ascending {
            hits.sort_unstable();
        } else {
            hits.sort_unstable_by(|a, b| b.cmp(a));
        }
        let snaps: Vec<Snap> = hits
            .iter()
            .skip(skip)
            .take(top)
            .map(|(_, i)| snap(mb, *i))
            .collect();
        (snaps, Owner::of(mb), hits.len() > skip + top)
    };
    let (pref, pref_applied) = BodyPref::of(&headers);
    let value: Vec<Value> = snaps
        .iter()
        .map(|s| Value::Object(render(s, &owner, &shared.base_url, select, pref, false)))
        .collect();
    let (context_path, link_path) = match &key {
        Some(k) => (
            format!("{}/mailFolders('{k}')/messages", target.context_user()),
            format!("{}/mailFolders/{k}/messages", target.prefix),
        ),
        None => (
            format!("{}/messages", target.context_user()),
            format!("{}/messages", target.prefix),
        ),
    };
    let suffix = if select.is_custom() {
        format!("({})", select.names())
    } else {
        String::new()
    };
    let mut body = json!({
        "@odata.context": context(&shared, &format!("{context_path}{suffix}")),
        "value": value,
    });
    if more {
        let mut q = String::new();
        for (k, v) in &pairs {
            if !k.eq_ignore_ascii_case("$skip") {
                q.push_str(&format!("{}={}&", encode_query(k), encode_query(v)));
            }
        }
        body["@odata.nextLink"] = json!(format!(
            "{}{link_path}?{q}%24skip={}",
            shared.base_url,
            skip + top
        ));
    }
    respond(StatusCode::OK, &body, &applied(pref_applied))
}

fn body_read_error(message: &str) -> Response {
    bad_request("RequestBodyRead", message)
}

fn parse_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_request(
            "BadRequest",
            "Empty Payload. JSON content expected.",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(body_read_error(
            "A JSON object was expected for the request payload.",
        )),
        Err(e) => Err(body_read_error(&format!(
            "Invalid JSON. An unexpected character was found: {e}"
        ))),
    }
}

/// What a PATCH changes.
#[derive(Debug, Default)]
struct Update {
    is_read: Option<bool>,
    categories: Option<Vec<String>>,
    flag: Option<String>,
    focused: Option<bool>,
}

/// Properties that exist but only drafts may change.
const DRAFT_ONLY: &[&str] = &[
    "subject",
    "body",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "from",
    "sender",
    "importance",
    "internetMessageId",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "uniqueBody",
];

fn parse_update(map: &Map<String, Value>) -> Result<Update, Response> {
    let mut u = Update::default();
    let wrong_type = |prop: &str, edm: &str| {
        body_read_error(&format!(
            "Cannot convert the literal for property '{prop}' to the expected type '{edm}'."
        ))
    };
    for (k, v) in map {
        match k.as_str() {
            "isRead" => u.is_read = Some(v.as_bool().ok_or_else(|| wrong_type(k, "Edm.Boolean"))?),
            "categories" => {
                let list = v
                    .as_array()
                    .ok_or_else(|| wrong_type(k, "Collection(Edm.String)"))?;
                let mut names: Vec<String> = Vec::new();
                for c in list {
                    let c = c
                        .as_str()
                        .ok_or_else(|| wrong_type(k, "Collection(Edm.String)"))?;
                    if !names.iter().any(|n| n.eq_ignore_ascii_case(c)) {
                        names.push(c.to_owned());
                    }
                }
                u.categories = Some(names);
            }
            "flag" => {
                let status = v
                    .get("flagStatus")
                    .and_then(Value::as_str)
                    .ok_or_else(|| wrong_type(k, "microsoft.graph.followupFlag"))?;
                match status {
                    "notFlagged" | "flagged" | "complete" => u.flag = Some(status.to_owned()),
                    other => {
                        return Err(body_read_error(&format!(
                            "The value '{other}' is not valid for followupFlagStatus."
                        )))
                    }
                }
            }
            "inferenceClassification" => {
                u.focused = match v.as_str() {
                    Some("focused") => Some(true),
                    Some("other") => Some(false),
                    _ => return Err(wrong_type(k, "microsoft.graph.inferenceClassificationType")),
                };
            }
            k if k.starts_with("@odata.") => {}
            k if DRAFT_ONLY.contains(&k) => {
                return Err(bad_request(
                    "ErrorInvalidPropertyUpdateSentMessage",
                    &format!("Update operation is not allowed for property '{k}' on a sent or received message."),
                ))
            }
            k => {
                return Err(body_read_error(&format!(
                    "The property '{k}' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type or mark the type as open type."
                )))
            }
        }
    }
    Ok(u)
}

fn apply_update(mb: &mut Mailbox, index: usize, u: &Update) -> Result<(), Response> {
    let bits = Bits::of(mb);
    let (mut add, mut remove) = (0u64, 0u64);
    match u.is_read {
        Some(true) => remove |= bits.unread,
        Some(false) => add |= bits.unread,
        None => {}
    }
    match u.focused {
        Some(true) => add |= bits.focused,
        Some(false) => remove |= bits.focused,
        None => {}
    }
    if let Some(flag) = &u.flag {
        let complete = if flag == "complete" {
            Bits::ensure_complete(mb).unwrap_or(0)
        } else {
            bits.complete
        };
        match flag.as_str() {
            "flagged" => {
                add |= bits.flagged;
                remove |= complete;
            }
            "complete" => {
                add |= complete;
                remove |= bits.flagged;
            }
            _ => remove |= bits.flagged | complete,
        }
    }
    if let Some(names) = &u.categories {
        let mut wanted = 0u64;
        for name in names {
            wanted |= category_bit(mb, name, true).ok_or_else(|| {
                bad_request("ErrorQuotaExceeded", "The mailbox has too many categories.")
            })?;
        }
        add |= wanted;
        remove |= category_mask(mb) & !wanted;
    }
    mb.relabel(index, add, remove & !add);
    Ok(())
}

/// `PATCH /me/messages/{id}`: isRead, categories, flag, inferenceClassification.
pub async fn patch(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let update = match parse_object(&body).and_then(|m| parse_update(&m)) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (snap, owner) = {
        let mut world = shared.world();
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let i = match find(mb, &id).and_then(|i| check_if_match(&headers, mb, i).map(|()| i)) {
            Ok(i) => i,
            Err(r) => return r,
        };
        if let Err(r) = apply_update(mb, i, &update) {
            return r;
        }
        (snap(mb, i), Owner::of(mb))
    };
    entity(
        &shared,
        &target,
        &snap,
        &owner,
        Select::default(),
        &headers,
        StatusCode::OK,
    )
}

/// `DELETE /me/messages/{id}` and `POST /me/messages/{id}/permanentDelete`:
/// 204, and the message is gone from every folder (Exchange keeps it in the
/// hidden Recoverable Items, out of the API's reach).
pub async fn delete(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut world = shared.world();
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    match find(mb, &id).and_then(|i| check_if_match(&headers, mb, i).map(|()| i)) {
        Ok(i) => {
            mb.delete(i);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

/// `POST /me/messages/{id}/move {"destinationId"}`: 201 with the moved
/// message. As Exchange does, the moved message gets a new id, unless the
/// client asked for immutable ids (`Prefer: IdType="ImmutableId"`).
pub async fn move_message(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let destination = match parse_object(&body) {
        Ok(map) => match map.get("destinationId").and_then(Value::as_str) {
            Some(d) if !d.trim().is_empty() => d.trim().to_owned(),
            _ => {
                return bad_request(
                    "ErrorInvalidParameter",
                    "The value of the parameter 'DestinationId' is empty.",
                )
            }
        },
        Err(r) => return r,
    };
    let immutable =
        prefer(&headers, "IdType").is_some_and(|v| v.eq_ignore_ascii_case("ImmutableId"));
    let (snap, owner) = {
        let mut world = shared.world();
        let seed = world.config.seed;
        let (index, dest_bit, date_ms) = {
            let mb = match mailbox_mut(&mut world, &target.address) {
                Ok(mb) => mb,
                Err(r) => return r,
            };
            let i = match find(mb, &id).and_then(|i| check_if_match(&headers, mb, i).map(|()| i)) {
                Ok(i) => i,
                Err(r) => return r,
            };
            let dest = match resolve(mb, seed, &destination) {
                Ok(FolderRef::Folder(f)) => f,
                Ok(FolderRef::Root) => {
                    return bad_request(
                        "ErrorMoveCopyFailed",
                        "The item cannot be moved to the root folder.",
                    )
                }
                Err(r) => return r,
            };
            if folder_index(mb.messages[i].labels) == Some(dest) || immutable {
                mb.relabel(i, 1 << dest, GRAPH_FOLDER_MASK & !(1 << dest));
                (Some(i), 0, 0)
            } else {
                (None, 1u64 << dest, mb.messages[i].date_ms)
            }
        };
        let new_id = index
            .is_none()
            .then(|| world.new_message_id(MailProvider::Graph, date_ms));
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let index = match (index, new_id) {
            (Some(i), _) => i,
            (None, Some(new_id)) => {
                let Ok(i) = find(mb, &id) else {
                    return item_not_found();
                };
                let old = mb.messages[i].clone();
                mb.delete(i);
                mb.deliver(Message {
                    id: new_id,
                    labels: (old.labels & !GRAPH_FOLDER_MASK) | dest_bit,
                    deleted: false,
                    ..old
                })
            }
            (None, None) => return item_not_found(),
        };
        (snap(mb, index), Owner::of(mb))
    };
    entity(
        &shared,
        &target,
        &snap,
        &owner,
        Select::default(),
        &headers,
        StatusCode::CREATED,
    )
}

/// RFC 2047-encodes a header value when it is not plain ASCII.
fn header_text(value: &str) -> String {
    let clean: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    if clean.is_ascii() {
        clean
    } else {
        format!("=?UTF-8?B?{}?=", b64(clean.as_bytes()))
    }
}

fn b64_lines(bytes: &[u8]) -> String {
    let encoded = b64(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// `"Name" <address>` list from Graph recipients.
fn address_list(value: Option<&Value>) -> Result<Vec<(String, String)>, Response> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let list = value.as_array().ok_or_else(|| {
        body_read_error("Cannot convert the literal to the expected type 'Collection(microsoft.graph.recipient)'.")
    })?;
    let mut out = Vec::new();
    for r in list {
        let address = r
            .pointer("/emailAddress/address")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if !address.contains('@') {
            return Err(bad_request(
                "ErrorInvalidRecipients",
                &format!("At least one recipient is not valid., Recipient '{address}' is not resolved. All recipients must be resolved before a message can be submitted."),
            ));
        }
        let name = r
            .pointer("/emailAddress/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        out.push((name, address.to_owned()));
    }
    Ok(out)
}

fn format_addresses(list: &[(String, String)]) -> String {
    list.iter()
        .map(|(name, address)| {
            if name.is_empty() {
                address.clone()
            } else {
                format!("{} <{address}>", header_text(name))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A sent message: its bytes and the addresses it goes to.
struct Outgoing {
    raw: Vec<u8>,
    recipients: Vec<String>,
    save: bool,
}

/// Composes RFC 822 bytes from a Graph `message` JSON.
fn compose_json(map: &Map<String, Value>, owner: &Owner, now: i64) -> Result<Outgoing, Response> {
    let Some(message) = map.get("message").and_then(Value::as_object) else {
        return Err(bad_request(
            "ErrorInvalidParameter",
            "The value of the parameter 'Message' is empty.",
        ));
    };
    let save = match map.get("saveToSentItems") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.eq_ignore_ascii_case("false"),
        Some(_) => {
            return Err(body_read_error(
                "Cannot convert the literal for parameter 'SaveToSentItems' to the expected type 'Edm.Boolean'.",
            ))
        }
    };
    let to = address_list(message.get("toRecipients"))?;
    let cc = address_list(message.get("ccRecipients"))?;
    let bcc = address_list(message.get("bccRecipients"))?;
    let reply_to = address_list(message.get("replyTo"))?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(bad_request(
            "ErrorInvalidRecipients",
            "At least one recipient is not valid., A message can't be sent because it contains no recipients.",
        ));
    }
    let subject = message
        .get("subject")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (content_type, content) = match message.get("body") {
        Some(b) => (
            b.get("contentType")
                .and_then(Value::as_str)
                .unwrap_or("text")
                .to_ascii_lowercase(),
            b.get("content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        None => ("text".into(), String::new()),
    };
    let mime_type = if content_type == "html" {
        "text/html"
    } else {
        "text/plain"
    };
    let stamp = super::digest(&[
        owner.address.as_bytes(),
        &now.to_le_bytes(),
        subject.as_bytes(),
    ]);
    let local: String = stamp[..12].iter().map(|b| format!("{b:02x}")).collect();
    let domain = owner
        .address
        .rsplit('@')
        .next()
        .unwrap_or("emulator.invalid");
    let date = chrono::DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .to_rfc2822();
    let mut h = String::new();
    h.push_str(&format!(
        "From: {}\r\n",
        format_addresses(&[(owner.name.clone(), owner.address.clone())])
    ));
    if !to.is_empty() {
        h.push_str(&format!("To: {}\r\n", format_addresses(&to)));
    }
    if !cc.is_empty() {
        h.push_str(&format!("Cc: {}\r\n", format_addresses(&cc)));
    }
    if !bcc.is_empty() {
        h.push_str(&format!("Bcc: {}\r\n", format_addresses(&bcc)));
    }
    if !reply_to.is_empty() {
        h.push_str(&format!("Reply-To: {}\r\n", format_addresses(&reply_to)));
    }
    h.push_str(&format!("Subject: {}\r\n", header_text(subject)));
    h.push_str(&format!("Date: {date}\r\n"));
    h.push_str(&format!("Message-ID: <{local}@{domain}>\r\n"));
    match message.get("importance").and_then(Value::as_str) {
        Some("high") => h.push_str("Importance: high\r\nX-Priority: 1\r\n"),
        Some("low") => h.push_str("Importance: low\r\nX-Priority: 5\r\n"),
        _ => {}
    }
    if let Some(extra) = message
        .get("internetMessageHeaders")
        .and_then(Value::as_array)
    {
        for x in extra {
            let name = x.get("name").and_then(Value::as_str).unwrap_or_default();
            let value = x.get("value").and_then(Value::as_str).unwrap_or_default();
            if !name.to_ascii_lowercase().starts_with("x-") {
                return Err(bad_request(
                    "InvalidInternetMessageHeader",
                    &format!(
                        "The internet message header name '{name}' should start with 'x-' or 'X-'."
                    ),
                ));
            }
            h.push_str(&format!("{name}: {}\r\n", header_text(value)));
        }
    }
    h.push_str("MIME-Version: 1.0\r\n");
    h.push_str(&format!(
        "Content-Type: {mime_type}; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ));
    h.push_str(&b64_lines(content.as_bytes()));
    let recipients = to
        .iter()
        .chain(&cc)
        .chain(&bcc)
        .map(|(_, a)| a.clone())
        .collect();
    Ok(Outgoing {
        raw: h.into_bytes(),
        recipients,
        save,
    })
}

/// A base64 MIME message, as `sendMail` takes it with `Content-Type: text/plain`.
fn outgoing_mime(body: &Bytes) -> Result<Outgoing, Response> {
    let invalid = || {
        bad_request(
            "ErrorMimeContentInvalidBase64String",
            "Invalid base64 string for MIME content.",
        )
    };
    let raw = b64_decode_lenient(&String::from_utf8_lossy(body)).ok_or_else(invalid)?;
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw)
        .ok_or_else(invalid)?;
    let mut recipients = Vec::new();
    for list in [parsed.to(), parsed.cc(), parsed.bcc()]
        .into_iter()
        .flatten()
    {
        recipients.extend(list.iter().filter_map(|a| a.address().map(str::to_owned)));
    }
    if recipients.is_empty() {
        return Err(bad_request(
            "ErrorInvalidRecipients",
            "At least one recipient is not valid., A message can't be sent because it contains no recipients.",
        ));
    }
    Ok(Outgoing {
        raw,
        recipients,
        save: true,
    })
}

/// `POST /me/sendMail`: 202 with no body. The message is saved in Sent
/// Items (unless `saveToSentItems` is false), and a copy lands in the inbox
/// when the owner is among its recipients.
pub async fn send_mail(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let owner = {
        let mut world = shared.world();
        match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => Owner::of(mb),
            Err(r) => return r,
        }
    };
    let now = now_ms();
    let is_mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/plain"));
    let outgoing = if is_mime {
        outgoing_mime(&body)
    } else {
        parse_object(&body).and_then(|map| compose_json(&map, &owner, now))
    };
    let outgoing = match outgoing {
        Ok(o) => o,
        Err(r) => return r,
    };
    let to_self = outgoing
        .recipients
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&owner.address));
    let raw: Arc<[u8]> = outgoing.raw.into();
    let mut world = shared.world();
    let sent_id = world.new_message_id(MailProvider::Graph, now);
    let inbox_id = to_self.then(|| world.new_message_id(MailProvider::Graph, now));
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let bits = Bits::of(mb);
    if outgoing.save {
        mb.deliver(Message {
            id: sent_id.clone(),
            thread_id: sent_id.clone(),
            labels: graph_folder_bit("sentitems") | bits.focused,
            date_ms: now,
            source: Source::Raw(raw.clone()),
            deleted: false,
            changed: 0,
        });
    }
    if let Some(inbox_id) = inbox_id {
        mb.deliver(Message {
            id: inbox_id,
            thread_id: sent_id,
            labels: graph_folder_bit("inbox") | bits.unread | bits.focused,
            date_ms: now,
            source: Source::Raw(raw),
            deleted: false,
            changed: 0,
        });
    }
    StatusCode::ACCEPTED.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_the_common_clauses() {
        let f = parse_filter(Some(
            "receivedDateTime ge 2026-04-04T13:50:17.103Z and isRead eq false",
        ))
        .unwrap_or_default();
        assert_eq!(f.min_date, Some(1_775_310_617_103));
        assert_eq!(f.is_read, Some(false));
        assert!(parse_filter(Some("subject eq 'x'")).is_err());
        assert!(parse_filter(Some("isRead eq maybe")).is_err());
    }

    #[test]
    fn patch_bodies_are_checked_property_by_property() {
        let ok = json!({"isRead": true, "categories": ["A", "a", "B"], "flag": {"flagStatus": "flagged"}});
        let u = parse_update(ok.as_object().unwrap_or(&Map::new()));
        let u = u.unwrap_or_default();
        assert_eq!(u.categories, Some(vec!["A".into(), "B".into()]));
        for bad in [
            json!({"isRead": "yes"}),
            json!({"nope": 1}),
            json!({"subject": "x"}),
            json!({"flag": {"flagStatus": "red"}}),
        ] {
            assert!(
                parse_update(bad.as_object().unwrap_or(&Map::new())).is_err(),
                "{bad}"
            );
        }
    }
}
