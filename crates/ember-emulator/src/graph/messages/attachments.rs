//! File attachments: `POST /me/messages/{id}/attachments` adds a
//! `#microsoft.graph.fileAttachment` of at most 3 MB to a draft (larger ones
//! need an upload session, which is not emulated), and
//! `GET /me/messages/{id}/attachments` lists any message's, read from its
//! MIME parts, and `DELETE /me/messages/{id}/attachments/{attachment}`
//! takes one off a draft. A draft carries its attachments when it is sent.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::draft::{check_request_size, size_exceeded};
use super::drafts::{fields_of, is_draft, not_a_draft};
use super::send::now_ms;
use super::{body_read_error, find, message_id, parse_object, SharedState};
use crate::gmail::payload::b64_decode_lenient;
use crate::graph::resource::Owner;
use crate::graph::{b64, bad_request, context, digest, iso, mailbox_mut, respond, Params, Target};
use crate::http::Caller;
use crate::mailbox::Source;

/// The largest attachment one `POST .../attachments` takes.
pub const MAX_ATTACHMENT: usize = 3 * 1024 * 1024;

/// One file attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Shown inline (with a Content-ID).
    pub is_inline: bool,
    /// Its Content-ID, if any.
    pub content_id: Option<String>,
}

impl Attachment {
    /// Reads a `#microsoft.graph.fileAttachment`.
    pub fn from_json(v: &Value) -> Result<Self, Response> {
        let kind = v
            .get("@odata.type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !kind.eq_ignore_ascii_case("#microsoft.graph.fileAttachment") {
            return Err(bad_request(
                "ErrorInvalidAttachmentType",
                &format!("The attachment type '{kind}' is not supported here: post a #microsoft.graph.fileAttachment."),
            ));
        }
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.trim().is_empty() {
            return Err(bad_request(
                "ErrorInvalidParameter",
                "The attachment name is empty.",
            ));
        }
        let bytes = v
            .get("contentBytes")
            .and_then(Value::as_str)
            .and_then(b64_decode_lenient)
            .ok_or_else(|| {
                body_read_error("Cannot convert the literal for property 'contentBytes' to the expected type 'Edm.Binary'.")
            })?;
        Ok(Self {
            name: name.to_owned(),
            content_type: v
                .get("contentType")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .unwrap_or("application/octet-stream")
                .to_owned(),
            bytes,
            is_inline: v.get("isInline").and_then(Value::as_bool).unwrap_or(false),
            content_id: v
                .get("contentId")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// The id of the attachment at `index` of `all`: from its message, name
/// and bytes (and its rank among identical ones), so it stays the same
/// when another attachment is removed, as Exchange's ids do.
fn attachment_id(message_id: &str, all: &[Attachment], index: usize) -> String {
    let a = &all[index];
    let rank = all[..index]
        .iter()
        .filter(|b| b.name == a.name && b.bytes == a.bytes)
        .count();
    let d = digest(&[
        b"attachment",
        message_id.as_bytes(),
        a.name.as_bytes(),
        &a.bytes,
        &rank.to_le_bytes(),
    ]);
    let suffix = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, &d[..12]);
    format!("{message_id}AR{suffix}")
}

/// A `fileAttachment` entity.
fn attachment_json(
    message_id: &str,
    all: &[Attachment],
    index: usize,
    modified_ms: i64,
) -> Map<String, Value> {
    let a = &all[index];
    let mut v = Map::new();
    v.insert(
        "@odata.type".into(),
        json!("#microsoft.graph.fileAttachment"),
    );
    v.insert("@odata.mediaContentType".into(), json!(a.content_type));
    v.insert("id".into(), json!(attachment_id(message_id, all, index)));
    v.insert("lastModifiedDateTime".into(), json!(iso(modified_ms)));
    v.insert("name".into(), json!(a.name));
    v.insert("contentType".into(), json!(a.content_type));
    v.insert("size".into(), json!(a.bytes.len()));
    v.insert("isInline".into(), json!(a.is_inline));
    v.insert("contentId".into(), json!(a.content_id));
    v.insert("contentLocation".into(), Value::Null);
    v.insert("contentBytes".into(), json!(b64(&a.bytes)));
    v
}

/// `POST /me/messages/{id}/attachments` with a `#microsoft.graph.fileAttachment`
/// of at most 3 MB: 201 with the attachment.
pub(crate) async fn add_attachment(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
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
    let attachment =
        match parse_object(&body).and_then(|m| Attachment::from_json(&Value::Object(m))) {
            Ok(a) => a,
            Err(r) => return r,
        };
    // The attachment's own limit first: its base64 alone nears the 4 MB
    // request limit.
    if attachment.bytes.len() > MAX_ATTACHMENT {
        return size_exceeded(
            StatusCode::BAD_REQUEST,
            "Attachments over 3 MB must be uploaded with an upload session (createUploadSession).",
        );
    }
    if let Err(r) = check_request_size(&body) {
        return r;
    }
    let now = now_ms();
    let mut world = shared.world();
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let i = match find(mb, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    if !is_draft(mb, i) {
        return not_a_draft("attachments");
    }
    let owner = Owner::of(mb);
    let mut fields = fields_of(&shared, mb, i);
    fields.attachments.push(attachment);
    let raw = fields.compose(&owner, now);
    mb.replace_source(i, Source::Raw(raw.into()));
    let index = fields.attachments.len() - 1;
    let mut body = attachment_json(&id, &fields.attachments, index, now);
    body.insert(
        "@odata.context".into(),
        json!(context(
            &shared,
            &format!(
                "{}/messages('{id}')/attachments/$entity",
                target.context_user()
            )
        )),
    );
    respond(StatusCode::CREATED, &Value::Object(body), &[])
}

/// `GET /me/messages/{id}/attachments`: the message's attachments.
pub(crate) async fn list_attachments(
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
    let (fields, date_ms) = {
        let mut world = shared.world();
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        match find(mb, &id) {
            Ok(i) => (fields_of(&shared, mb, i), mb.messages[i].date_ms),
            Err(r) => return r,
        }
    };
    let value: Vec<Value> = fields
        .attachments
        .iter()
        .enumerate()
        .map(|(k, _)| Value::Object(attachment_json(&id, &fields.attachments, k, date_ms)))
        .collect();
    let body = json!({
        "@odata.context": context(&shared, &format!("{}/messages('{id}')/attachments", target.context_user())),
        "value": value,
    });
    respond(StatusCode::OK, &body, &[])
}

/// `DELETE /me/messages/{id}/attachments/{attachment}`: 204, the draft
/// without it; 404 for an attachment it does not have.
pub(crate) async fn delete_attachment(
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
    let wanted = params.get("attachment").unwrap_or_default().to_owned();
    let now = now_ms();
    let mut world = shared.world();
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let i = match find(mb, &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    if !is_draft(mb, i) {
        return not_a_draft("attachments");
    }
    let owner = Owner::of(mb);
    let mut fields = fields_of(&shared, mb, i);
    let Some(k) = (0..fields.attachments.len())
        .find(|k| attachment_id(&id, &fields.attachments, *k) == wanted)
    else {
        return crate::graph::item_not_found();
    };
    fields.attachments.remove(k);
    let raw = fields.compose(&owner, now);
    mb.replace_source(i, Source::Raw(raw.into()));
    StatusCode::NO_CONTENT.into_response()
}
