//! Sending as Gmail does it, for `messages.send` and `drafts.send`: the
//! message is checked (RFC 822, at most 35 MB raw and 25 MB of
//! attachments, at least one recipient), given the headers Gmail adds (a
//! `Received` line, `From` the account, `Date` and `Message-Id` when
//! missing), filed under SENT (read) in the requested thread when Gmail's
//! threading rule allows it, and delivered to every emulated recipient.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use mail_parser::MessageParser;
use serde::Deserialize;
use serde_json::{json, Value};

use super::messages::{now_ms, parse_json};
use super::payload::b64_decode_lenient;
use super::{bad_request, mailbox_of, short_message, upload};
use crate::delivery::envelope::{has_header, rewrite_headers, Envelope};
use crate::delivery::{deliver_to_recipients, may_join};
use crate::http::{gmail_error, Caller};
use crate::mailbox::{Mailbox, Message, Source};
use crate::state::Shared;
use crate::world::{MailProvider, World};

/// The largest raw message Gmail takes (its discovery document's `maxSize`).
pub const MAX_RAW: usize = 36_700_160;
/// The most attachment bytes a message may carry.
pub const MAX_ATTACHMENTS: usize = 25 * 1024 * 1024;
/// The largest request body the send and draft routes read: a base64url
/// JSON of the largest raw message, with room to spare, so that the
/// answer beyond the limit is Gmail's own.
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// 413 for a message over [`MAX_RAW`].
pub fn too_large() -> Response {
    let message = format!("Request payload size exceeds the limit: {MAX_RAW} bytes.");
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Json(json!({"error": {
            "code": 413,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": "uploadTooLarge"}],
            "status": "OUT_OF_RANGE",
        }})),
    )
        .into_response()
}

/// 400 for attachments over [`MAX_ATTACHMENTS`].
pub fn attachments_too_large() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {
            "code": 400,
            "message": "Precondition check failed.",
            "errors": [{"message": "Precondition check failed.", "domain": "global", "reason": "failedPrecondition"}],
            "status": "FAILED_PRECONDITION",
        }})),
    )
        .into_response()
}

/// 400 for a message with nobody to send it to.
pub fn no_recipients() -> Response {
    gmail_error(
        StatusCode::BAD_REQUEST,
        "Recipient address required",
        "invalidArgument",
    )
}

/// The `raw` field decoded, or Gmail's 400 when it is missing or not base64.
pub fn decode_raw(raw: Option<&str>) -> Result<Vec<u8>, Response> {
    raw.and_then(b64_decode_lenient).ok_or_else(|| {
        bad_request(
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
        )
    })
}

fn rfc2822(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc2822()
}

/// Checks a message written by the client and adds the headers Gmail adds.
/// `salt` makes the generated Message-Id unique (the new message's id).
pub fn prepare(raw: &[u8], owner: (&str, &str), now: i64, salt: &str) -> Result<Vec<u8>, Response> {
    if raw.len() > MAX_RAW {
        return Err(too_large());
    }
    let Some(parsed) = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
    else {
        return Err(bad_request("Invalid raw message: not RFC 822"));
    };
    let attached: usize = parsed.attachments().map(|a| a.contents().len()).sum();
    if attached > MAX_ATTACHMENTS {
        return Err(attachments_too_large());
    }
    let (address, name) = owner;
    let from_owner = parsed
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .is_some_and(|a| a.eq_ignore_ascii_case(address));
    let date = rfc2822(now);
    let mut prepend = vec![format!(
        "Received: from 1057356891234 named unknown by gmailapi.google.com with HTTPREST; {date}"
    )];
    let mut remove = Vec::new();
    if !from_owner {
        // Gmail sends as the signed-in account.
        remove.push("From");
        prepend.push(format!("From: {name} <{address}>"));
    }
    let mut append = Vec::new();
    if !has_header(raw, "Date") {
        append.push(format!("Date: {date}"));
    }
    if !has_header(raw, "Message-ID") {
        let d = crate::graph::digest(&[address.as_bytes(), &now.to_le_bytes(), salt.as_bytes()]);
        let local =
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &d[..30]);
        append.push(format!("Message-Id: <CA{local}@mail.gmail.com>"));
    }
    Ok(rewrite_headers(raw, &remove, &prepend, &append))
}

/// The thread a message written into `mb` goes in: the requested one when
/// Gmail's rule lets it join, else a new one named after `id`.
pub fn pick_thread(mb: &Mailbox, requested: Option<&str>, env: &Envelope, id: &str) -> String {
    requested
        .filter(|t| may_join(mb, t, env))
        .map_or_else(|| id.to_owned(), str::to_owned)
}

/// The account's address and name (the owner of a caller's mailbox).
pub fn owner_of(
    shared: &Shared,
    caller: &Caller,
    user: &str,
) -> Result<(String, String), Response> {
    let mut world = shared.world();
    let mb = mailbox_of(&mut world, caller, user)?;
    Ok((mb.address.clone(), mb.display_name.clone()))
}

/// Files a prepared message under SENT (and INBOX, unread, when the
/// account wrote to itself) as message `id` in `thread`, and delivers it to
/// every other emulated recipient. Answers the short message form.
pub fn file_sent(
    world: &mut World,
    caller: &Caller,
    user: &str,
    sent: (String, String),
    raw: Arc<[u8]>,
    env: &Envelope,
    now: i64,
) -> Result<Value, Response> {
    let (id, thread_id) = sent;
    let mb = mailbox_of(world, caller, user)?;
    let bit = |l: &str| mb.label_bit(l).unwrap_or(0);
    let mut labels = bit("SENT");
    if env.is_recipient(&mb.address) {
        labels |= bit("INBOX") | bit("UNREAD");
    }
    let i = mb.deliver(Message {
        id,
        thread_id,
        labels,
        date_ms: now,
        source: Source::Raw(raw.clone()),
        deleted: false,
        changed: 0,
    });
    let answer = short_message(mb, &mb.messages[i]);
    let owner = mb.address.clone();
    deliver_to_recipients(world, (MailProvider::Gmail, &owner), &raw, env, now, None);
    Ok(answer)
}

/// Body of messages.send.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendBody {
    raw: Option<String>,
    thread_id: Option<String>,
}

fn send_raw(
    shared: &Shared,
    caller: &Caller,
    user: &str,
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
    if env.recipients().next().is_none() {
        return no_recipients();
    }
    let mut world = shared.world();
    let thread_id = match mailbox_of(&mut world, caller, user) {
        Ok(mb) => pick_thread(mb, thread, &env, &id),
        Err(r) => return r,
    };
    match file_sent(
        &mut world,
        caller,
        user,
        (id, thread_id),
        raw.into(),
        &env,
        now,
    ) {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

/// `POST users/{user}/messages/send` with `{"raw": base64url, "threadId"?}`.
pub async fn send(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    body: Bytes,
) -> Response {
    let req: SendBody = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match decode_raw(req.raw.as_deref()) {
        Ok(raw) => send_raw(&shared, &caller, &user, &raw, req.thread_id.as_deref()),
        Err(r) => r,
    }
}

/// `POST /upload/gmail/v1/users/{user}/messages/send?uploadType=media|multipart`.
pub async fn send_upload(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(user): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let up = match upload::parse(query.as_deref(), &headers, &body) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let thread = up.metadata.get("threadId").and_then(Value::as_str);
    send_raw(&shared, &caller, &user, &up.media, thread)
}
