//! Sending mail: `POST /me/sendMail`, either a Graph `message` JSON, which
//! is composed here into RFC 822 bytes, or a base64 MIME message posted as
//! `text/plain`. The sent message is delivered to Sent Items and, when the
//! owner is a recipient, to the inbox.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{Map, Value};

use super::{body_read_error, parse_object, SharedState};
use crate::gmail::payload::b64_decode_lenient;
use crate::graph::resource::{Bits, Owner};
use crate::graph::{b64, bad_request, digest, mailbox_mut, Params, Target};
use crate::http::Caller;
use crate::mailbox::{Message, Source};
use crate::world::{graph_folder_bit, MailProvider};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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
    let stamp = digest(&[
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
