//! The message endpoints: get, `$value`, list, PATCH, DELETE, move,
//! `sendMail`, and drafts (create, reply, forward, attachments, send).
//!
//! This module serves the reads of one message (the entity and its MIME
//! `$value`) and owns what every message handler shares: checking the id,
//! finding the message, answering with it as an entity, and reading a JSON
//! body. Listing, changing and sending live in their own submodules.

mod answers;
mod attachments;
mod draft;
#[cfg(test)]
mod draft_tests;
mod drafts;
mod list;
#[cfg(test)]
mod list_tests;
mod send;
#[cfg(test)]
mod send_tests;
mod write;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

pub(super) use self::answers::{create_forward, create_reply, create_reply_all};
pub(super) use self::attachments::{add_attachment, delete_attachment, list_attachments};
pub(super) use self::draft::BODY_LIMIT;
pub(super) use self::drafts::{create as create_draft, send as send_draft};
pub(super) use self::list::{list, parse_filter};
pub(super) use self::send::send_mail;
pub(super) use self::write::{delete, move_message, patch};
use super::resource::{self, render, snap, Owner, Select, Snap};
use super::{
    bad_request, context, id_malformed, item_not_found, looks_like_id, mailbox_mut, query_first,
    query_pairs, respond, BodyPref, Params, Target,
};
use crate::http::Caller;
use crate::mailbox::Mailbox;
use crate::state::Shared;

type SharedState = State<Arc<Shared>>;

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

/// 400 `RequestBodyRead`: a body that is JSON but not what the type takes.
pub(super) fn body_read_error(message: &str) -> Response {
    bad_request("RequestBodyRead", message)
}

/// A request body that must be one JSON object.
pub(super) fn parse_object(body: &Bytes) -> Result<Map<String, Value>, Response> {
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
