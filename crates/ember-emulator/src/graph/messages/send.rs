//! Sending mail: `POST /me/sendMail`, either a Graph `message` JSON, which
//! is composed into RFC 822 bytes, or a base64 MIME message posted as
//! `text/plain`; and what sending a draft shares with it: the sent message
//! is saved to Sent Items (in the conversation it answers), a copy lands in
//! the inbox when the owner is a recipient, and every other emulated
//! recipient receives it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{Map, Value};

use super::draft::{check_request_size, DraftFields};
use super::{body_read_error, parse_object, SharedState};
use crate::delivery::envelope::Envelope;
use crate::delivery::{deliver_to_recipients, thread_by_references};
use crate::gmail::payload::b64_decode_lenient;
use crate::graph::resource::{Bits, Owner};
use crate::graph::{bad_request, mailbox_mut, Params, Target};
use crate::http::Caller;
use crate::mailbox::{Message, Source};
use crate::world::{graph_folder_bit, MailProvider, World};

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Graph's answer to a message with nobody to send it to.
pub(super) fn no_recipients() -> Response {
    bad_request(
        "ErrorInvalidRecipients",
        "At least one recipient is not valid., A message can't be sent because it contains no recipients.",
    )
}

/// A message to send: its bytes, and whether to keep it in Sent Items.
struct Outgoing {
    raw: Vec<u8>,
    save: bool,
}

/// Composes RFC 822 bytes from a `sendMail` JSON body.
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
    let subject = message
        .get("subject")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut fields = DraftFields::new(owner, now, subject);
    fields.apply(message)?;
    if !fields.has_recipients() {
        return Err(no_recipients());
    }
    fields.from = Some((owner.name.clone(), owner.address.clone()));
    Ok(Outgoing {
        raw: fields.compose(owner, now),
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
    mail_parser::MessageParser::default()
        .parse(&raw)
        .ok_or_else(invalid)?;
    if Envelope::of(&raw).recipients().next().is_none() {
        return Err(no_recipients());
    }
    Ok(Outgoing { raw, save: true })
}

/// Files sent bytes for the mailbox at `address`: in Sent Items (unless
/// `save` is false) in `thread` or the conversation it answers, a copy in
/// the inbox when the owner is a recipient, and one in every other
/// emulated recipient's inbox.
pub(super) fn file_sent(
    world: &mut World,
    address: &str,
    raw: Vec<u8>,
    save: bool,
    thread: Option<String>,
    now: i64,
) -> Result<(), Response> {
    let env = Envelope::of(&raw);
    let raw: Arc<[u8]> = raw.into();
    let sent_id = world.new_message_id(MailProvider::Graph, now);
    let mb = mailbox_mut(world, address)?;
    let thread_id = thread
        .or_else(|| thread_by_references(mb, &env))
        .unwrap_or_else(|| sent_id.clone());
    if save {
        let focused = Bits::of(mb).focused;
        mb.deliver(Message {
            id: sent_id,
            thread_id: thread_id.clone(),
            labels: graph_folder_bit("sentitems") | focused,
            date_ms: now,
            source: Source::Raw(raw.clone()),
            deleted: false,
            changed: 0,
        });
    }
    let owner = mb.address.clone();
    deliver_to_recipients(
        world,
        (MailProvider::Graph, &owner),
        &raw,
        &env,
        now,
        Some(&thread_id),
    );
    Ok(())
}

/// `POST /me/sendMail`: 202 with no body.
pub(crate) async fn send_mail(
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
    if let Err(r) = check_request_size(&body) {
        return r;
    }
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
    let mut world = shared.world();
    match file_sent(
        &mut world,
        &target.address,
        outgoing.raw,
        outgoing.save,
        None,
        now,
    ) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(r) => r,
    }
}
