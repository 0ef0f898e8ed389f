//! The `message` resource: a record snapshotted under the world's lock, then
//! rendered (composed, parsed with mail-parser) after it is released.

use mail_parser::{Address, MessageParser, MimeHeaders, PartType};
use serde_json::{json, Map, Value};

use super::folders::tree;
use super::{b64, bad_request, digest, iso, BodyPref};
use crate::compose::{self, ComposeContext};
use crate::gmail::payload::parse_headers;
use crate::mailbox::{Label, LabelKind, Mailbox, Message, Source};
use crate::world::ADO_ORG;

/// Label ids of the flags and categories a Graph message carries beside its
/// folder (the world creates UNREAD, FLAGGED and FOCUSED; the rest are added
/// on first use).
pub const UNREAD: &str = "UNREAD";
/// `flag.flagStatus == "flagged"`.
pub const FLAGGED: &str = "FLAGGED";
/// `inferenceClassification == "focused"`.
pub const FOCUSED: &str = "FOCUSED";
/// `flag.flagStatus == "complete"`.
pub const COMPLETE: &str = "FLAG_COMPLETE";
/// Outlook categories are labels whose id has this prefix.
pub const CATEGORY_PREFIX: &str = "category:";

/// The message properties, in the order Graph writes them; the first
/// [`DEFAULT_PROPS`] make the default set.
pub const PROPS: &[&str] = &[
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "conversationIndex",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "isRead",
    "isDraft",
    "webLink",
    "inferenceClassification",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "flag",
    "uniqueBody",
    "internetMessageHeaders",
];

/// How many of [`PROPS`] a message has without `$select`.
pub const DEFAULT_PROPS: usize = 28;

/// Properties read from the message bytes (the rest come from the record).
const FROM_BYTES: &[&str] = &[
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "uniqueBody",
    "internetMessageHeaders",
];

/// A `$select`: a bit per entry of [`PROPS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Select(pub u64);

impl Default for Select {
    fn default() -> Self {
        Self((1u64 << DEFAULT_PROPS) - 1)
    }
}

impl Select {
    /// Parses `$select=a,b` (property names are case-insensitive; `id` is
    /// always returned).
    pub fn parse(value: Option<&str>) -> Result<Self, axum::response::Response> {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            return Ok(Self::default());
        };
        let mut mask = 0u64;
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("id") {
                continue;
            }
            if name == "*" {
                mask |= Self::default().0;
                continue;
            }
            match PROPS.iter().position(|p| p.eq_ignore_ascii_case(name)) {
                Some(i) => mask |= 1 << i,
                None => {
                    return Err(bad_request(
                        "RequestBroker--ParseUri",
                        &format!(
                            "Could not find a property named '{name}' on type 'microsoft.graph.message'."
                        ),
                    ))
                }
            }
        }
        Ok(Self(mask))
    }

    /// Whether `prop` is selected.
    pub fn wants(self, prop: &str) -> bool {
        PROPS
            .iter()
            .position(|p| *p == prop)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Whether this is not the default set (the context then names the properties).
    pub fn is_custom(self) -> bool {
        self != Self::default()
    }

    /// `id,subject,...` for `@odata.context`.
    pub fn names(self) -> String {
        let mut out = vec!["id"];
        out.extend(
            PROPS
                .iter()
                .enumerate()
                .filter(|(i, _)| self.0 & (1 << i) != 0)
                .map(|(_, p)| *p),
        );
        out.join(",")
    }

    fn needs_bytes(self) -> bool {
        FROM_BYTES.iter().any(|p| self.wants(p))
    }
}

/// The label bits a Graph mailbox uses for flags, and its folders'.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bits {
    /// Unread.
    pub unread: u64,
    /// Flagged.
    pub flagged: u64,
    /// Focused inbox.
    pub focused: u64,
    /// Flag completed (0 until first used).
    pub complete: u64,
    /// Every folder that exists, well-known or the user's.
    pub folders: u64,
}

impl Bits {
    /// The bits of `mb`.
    pub fn of(mb: &Mailbox) -> Self {
        Self {
            unread: mb.label_bit(UNREAD).unwrap_or(0),
            flagged: mb.label_bit(FLAGGED).unwrap_or(0),
            focused: mb.label_bit(FOCUSED).unwrap_or(0),
            complete: mb.label_bit(COMPLETE).unwrap_or(0),
            folders: mb.folder_mask(),
        }
    }

    /// The label index of the folder a message with `labels` is in.
    pub fn folder(self, labels: u64) -> Option<usize> {
        let f = labels & self.folders;
        (f != 0).then(|| f.trailing_zeros() as usize)
    }

    /// Adds (if needed) the label for completed flags, returning its bit.
    pub fn ensure_complete(mb: &mut Mailbox) -> Option<u64> {
        mb.add_label(Label {
            id: COMPLETE.into(),
            name: COMPLETE.into(),
            kind: LabelKind::SystemHidden,
        })
    }
}

/// The bit of a category, adding its label when `create`.
pub fn category_bit(mb: &mut Mailbox, name: &str, create: bool) -> Option<u64> {
    let id = format!("{CATEGORY_PREFIX}{name}");
    if create {
        mb.add_label(Label {
            id,
            name: name.to_owned(),
            kind: LabelKind::User,
        })
    } else {
        mb.label_bit(&id)
    }
}

/// The mask of every category label.
pub fn category_mask(mb: &Mailbox) -> u64 {
    mb.labels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.id.starts_with(CATEGORY_PREFIX))
        .fold(0, |m, (i, _)| m | (1 << i))
}

/// The mailbox owner, for composing.
#[derive(Debug, Clone)]
pub struct Owner {
    /// Address.
    pub address: String,
    /// Display name.
    pub name: String,
}

impl Owner {
    /// The owner of `mb`.
    pub fn of(mb: &Mailbox) -> Self {
        Self {
            address: mb.address.clone(),
            name: mb.display_name.clone(),
        }
    }
}

/// What rendering a message needs, copied out under the lock.
#[derive(Debug, Clone)]
pub struct Snap {
    /// The record.
    pub message: Message,
    /// `parentFolderId`.
    pub folder_id: String,
    /// The folder's well-known name (`None` for a user folder).
    pub folder: Option<&'static str>,
    /// Unread.
    pub unread: bool,
    /// `notFlagged`, `flagged` or `complete`.
    pub flag: &'static str,
    /// Focused inbox.
    pub focused: bool,
    /// Outlook categories.
    pub categories: Vec<String>,
}

/// Snapshots message `index` of `mb`.
pub fn snap(mb: &Mailbox, index: usize) -> Snap {
    let m = &mb.messages[index];
    let bits = Bits::of(mb);
    let folder = bits.folder(m.labels);
    let flag = if m.labels & bits.flagged != 0 {
        "flagged"
    } else if bits.complete != 0 && m.labels & bits.complete != 0 {
        "complete"
    } else {
        "notFlagged"
    };
    Snap {
        message: m.clone(),
        folder_id: folder
            .and_then(|i| mb.labels.get(i))
            .map(|l| l.id.clone())
            .unwrap_or_default(),
        folder: folder.and_then(|i| tree::well_known(mb, i)),
        unread: m.labels & bits.unread != 0,
        flag,
        focused: m.labels & bits.focused != 0,
        categories: mb
            .labels
            .iter()
            .enumerate()
            .filter(|(i, l)| m.labels & (1 << i) != 0 && l.id.starts_with(CATEGORY_PREFIX))
            .map(|(_, l)| l.name.clone())
            .collect(),
    }
}

/// The raw bytes of a snapshotted message.
pub fn raw_of(snap: &Snap, owner: &Owner, base_url: &str) -> Vec<u8> {
    compose::raw(
        &snap.message,
        ComposeContext {
            owner: &owner.address,
            owner_name: &owner.name,
            ado_base: base_url,
            ado_org: ADO_ORG,
        },
    )
}

/// `changeKey`: changes whenever the message does.
pub fn change_key(owner: &Owner, message: &Message) -> String {
    let mailbox = digest(&[b"mailbox", owner.address.as_bytes()]);
    let item = digest(&[b"item", message.id.as_bytes()]);
    let mut bytes = vec![0x09, 0, 0, 0, 0x16, 0, 0, 0];
    bytes.extend_from_slice(&mailbox[..10]);
    bytes.extend_from_slice(&item[..6]);
    bytes.extend_from_slice(&message.changed.to_be_bytes()[2..]);
    b64(&bytes)
}

/// `conversationId`: stable for the conversation (thread) id.
pub fn conversation_id(thread: &str) -> String {
    let d = digest(&[b"conversation", thread.as_bytes()]);
    let mut bytes = b"\x00\x10\x00".to_vec();
    bytes.extend_from_slice(&d[..16]);
    format!(
        "AAQkAGI2{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, &bytes)
    )
}

fn conversation_index(thread: &str, reply: u8) -> String {
    let d = digest(&[b"conversation-index", thread.as_bytes()]);
    let mut bytes = vec![0x01];
    bytes.extend_from_slice(&d[..21]);
    for r in 0..reply {
        let c = digest(&[b"reply", thread.as_bytes(), &[r]]);
        bytes.extend_from_slice(&c[..5]);
    }
    b64(&bytes)
}

fn web_link(id: &str) -> String {
    format!(
        "https://outlook.office365.com/owa/?ItemID={}&exvsurl=1&viewmodel=ReadMessageItem",
        super::encode_query(id)
    )
}

/// What is read from the message bytes.
#[derive(Debug, Default)]
struct Parsed {
    subject: String,
    sent_ms: Option<i64>,
    message_id: Option<String>,
    has_attachments: bool,
    preview: String,
    importance: &'static str,
    delivery_receipt: bool,
    read_receipt: bool,
    body: (&'static str, String),
    sender: Option<Value>,
    from: Option<Value>,
    to: Vec<Value>,
    cc: Vec<Value>,
    bcc: Vec<Value>,
    reply_to: Vec<Value>,
    headers: Vec<(String, String)>,
}

fn body_start(raw: &[u8]) -> usize {
    raw.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
        .unwrap_or(raw.len())
}

fn recipients(a: Option<&Address<'_>>) -> Vec<Value> {
    a.map(|a| {
        a.iter()
            .filter_map(|x| {
                let address = x.address()?.trim();
                if address.is_empty() {
                    return None;
                }
                let name = x
                    .name()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .unwrap_or(address);
                Some(json!({"emailAddress": {"name": name, "address": address}}))
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Text with `\r\n` line breaks, as Exchange stores text bodies.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n")
}

/// `bodyPreview`: the text with `\r\n` line breaks, about 255 characters.
fn preview(text: &str) -> String {
    let cut: String = crlf(text.trim()).chars().take(255).collect();
    cut.trim_end().to_owned()
}

fn parse(raw: &[u8], pref: BodyPref) -> Parsed {
    let split = body_start(raw);
    let headers = parse_headers(&raw[..split]);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let importance = match header("Importance")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        Some("high") => "high",
        Some("low") => "low",
        Some(_) => "normal",
        None => match header("X-Priority").and_then(|v| v.chars().next()) {
            Some('1' | '2') => "high",
            Some('4' | '5') => "low",
            _ => "normal",
        },
    };
    let mut p = Parsed {
        importance,
        delivery_receipt: header("Return-Receipt-To").is_some(),
        read_receipt: header("Disposition-Notification-To").is_some(),
        body: ("text", String::new()),
        ..Parsed::default()
    };
    match MessageParser::default().parse(raw) {
        Some(m) => {
            p.subject = m.subject().unwrap_or_default().to_owned();
            p.sent_ms = m
                .date()
                .filter(|d| d.is_valid())
                .map(|d| d.to_timestamp() * 1000);
            p.message_id = m.message_id().map(|id| format!("<{id}>"));
            p.has_attachments = m.attachments().any(|part| {
                part.content_disposition()
                    .is_none_or(|d| !d.is_inline() || part.content_id().is_none())
            });
            p.preview = preview(&m.body_text(0).unwrap_or_default());
            let has_html = m
                .html_part(0)
                .is_some_and(|part| matches!(part.body, PartType::Html(_)));
            p.body = match pref {
                BodyPref::Text => ("text", crlf(&m.body_text(0).unwrap_or_default())),
                BodyPref::Html => ("html", m.body_html(0).unwrap_or_default().into_owned()),
                BodyPref::Native if has_html => {
                    ("html", m.body_html(0).unwrap_or_default().into_owned())
                }
                BodyPref::Native => ("text", crlf(&m.body_text(0).unwrap_or_default())),
            };
            p.from = recipients(m.from()).into_iter().next();
            p.sender = recipients(m.sender())
                .into_iter()
                .next()
                .or_else(|| p.from.clone());
            p.to = recipients(m.to());
            p.cc = recipients(m.cc());
            p.bcc = recipients(m.bcc());
            p.reply_to = recipients(m.reply_to());
        }
        None => {
            // Not MIME at all: everything after the headers is the text.
            let text = String::from_utf8_lossy(&raw[split..]).into_owned();
            p.subject = header("Subject").unwrap_or_default();
            p.preview = preview(&text);
            p.body = ("text", crlf(&text));
        }
    }
    p.headers = headers;
    p
}

/// The `internetMessageId` of message `id` when its bytes carry no
/// Message-ID: stable, and unlike any real one.
pub fn stand_in_message_id(id: &str) -> String {
    let d = digest(&[b"message-id", id.as_bytes()]);
    let local: String = d[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("<{local}@emulator.invalid>")
}

/// Renders a message with the properties `select` asks for. `delta` items
/// start with `@odata.type`.
pub fn render(
    snap: &Snap,
    owner: &Owner,
    base_url: &str,
    select: Select,
    pref: BodyPref,
    delta: bool,
) -> Map<String, Value> {
    let m = &snap.message;
    let parsed = select
        .needs_bytes()
        .then(|| parse(&raw_of(snap, owner, base_url), pref));
    let change_key = change_key(owner, m);
    let mut v = Map::new();
    if delta {
        v.insert("@odata.type".into(), json!("#microsoft.graph.message"));
    }
    v.insert("@odata.etag".into(), json!(format!("W/\"{change_key}\"")));
    v.insert("id".into(), json!(m.id));
    let is_draft = snap.folder == Some("drafts");
    let reply = match m.source {
        Source::Sample { reply, .. } => reply,
        _ => 0,
    };
    for (i, prop) in PROPS.iter().enumerate() {
        if select.0 & (1 << i) == 0 {
            continue;
        }
        let value = match (*prop, &parsed) {
            ("createdDateTime" | "lastModifiedDateTime" | "receivedDateTime", _) => {
                json!(iso(m.date_ms))
            }
            ("changeKey", _) => json!(change_key),
            ("categories", _) => json!(snap.categories),
            ("parentFolderId", _) => json!(snap.folder_id),
            ("conversationId", _) => json!(conversation_id(&m.thread_id)),
            ("conversationIndex", _) => json!(conversation_index(&m.thread_id, reply)),
            ("isRead", _) => json!(!snap.unread),
            ("isDraft", _) => json!(is_draft),
            ("webLink", _) => json!(web_link(&m.id)),
            ("inferenceClassification", _) => {
                json!(if snap.focused { "focused" } else { "other" })
            }
            ("flag", _) => json!({"flagStatus": snap.flag}),
            (_, None) => continue,
            ("sentDateTime", Some(p)) => json!(iso(p.sent_ms.unwrap_or(m.date_ms))),
            ("hasAttachments", Some(p)) => json!(p.has_attachments),
            ("internetMessageId", Some(p)) => json!(p
                .message_id
                .clone()
                .unwrap_or_else(|| stand_in_message_id(&m.id))),
            ("subject", Some(p)) => json!(p.subject),
            ("bodyPreview", Some(p)) => json!(p.preview),
            ("importance", Some(p)) => json!(p.importance),
            ("isDeliveryReceiptRequested", Some(p)) => json!(p.delivery_receipt),
            ("isReadReceiptRequested", Some(p)) => json!(p.read_receipt),
            ("body" | "uniqueBody", Some(p)) => {
                json!({"contentType": p.body.0, "content": p.body.1})
            }
            // Messages without a From: header (drafts) leave out sender and from.
            ("sender", Some(p)) => match &p.sender {
                Some(s) => s.clone(),
                None => continue,
            },
            ("from", Some(p)) => match &p.from {
                Some(s) => s.clone(),
                None => continue,
            },
            ("toRecipients", Some(p)) => json!(p.to),
            ("ccRecipients", Some(p)) => json!(p.cc),
            ("bccRecipients", Some(p)) => json!(p.bcc),
            ("replyTo", Some(p)) => json!(p.reply_to),
            ("internetMessageHeaders", Some(p)) => Value::Array(
                p.headers
                    .iter()
                    .map(|(n, v)| json!({"name": n, "value": v}))
                    .collect(),
            ),
            _ => continue,
        };
        v.insert((*prop).into(), value);
    }
    v
}

/// The `@removed` entry of a delta page.
pub fn removed(id: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.message",
        "id": id,
        "@removed": {"reason": "deleted"},
    })
}

/// A rough `sizeInBytes` of a message without composing it.
pub fn size_estimate(message: &Message) -> u64 {
    use crate::material::material;
    let n = match &message.source {
        Source::Raw(bytes) => bytes.len(),
        Source::Mime(i) => material().mime.get(*i).map_or(0, |(_, b)| b.len()),
        Source::Sample { sample, .. } => material().samples.get(*sample).map_or(1_000, |s| {
            s.body.len() * 4 / 3 + s.html.map_or(0, |h| h.len() * 4 / 3) + 900
        }),
        Source::WorkItemNotice { title, .. } => 1_500 + title.len() * 3,
    };
    n as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_parses_names_case_insensitively_and_refuses_unknown_ones() {
        let s = Select::parse(Some("Subject,isRead,id")).unwrap_or_default();
        assert!(s.wants("subject") && s.wants("isRead") && !s.wants("body"));
        assert_eq!(s.names(), "id,subject,isRead");
        assert!(Select::parse(Some("nope")).is_err());
        assert!(!Select::default().wants("uniqueBody"));
        assert!(Select::default().wants("flag"));
    }

    #[test]
    fn bytes_are_read_for_the_resource() {
        let raw = b"From: Ann <ann@example.com>\r\nTo: bob@example.com, Cy <cy@example.com>\r\n\
Subject: Hello\r\nDate: Mon, 4 May 2026 09:23:10 +0000\r\nMessage-ID: <x1@example.com>\r\n\
Importance: High\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nLine one\r\nLine two\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Line one</p>\r\n--b--\r\n";
        let p = parse(raw, BodyPref::Native);
        assert_eq!(p.subject, "Hello");
        assert_eq!(p.importance, "high");
        assert_eq!(p.message_id.as_deref(), Some("<x1@example.com>"));
        assert_eq!(p.body.0, "html");
        assert_eq!(p.preview, "Line one\r\nLine two");
        assert_eq!(p.to.len(), 2);
        assert_eq!(p.to[0]["emailAddress"]["name"], "bob@example.com");
        assert_eq!(
            p.from,
            Some(json!({"emailAddress": {"name": "Ann", "address": "ann@example.com"}}))
        );
        assert_eq!(p.sent_ms, Some(1_777_886_590_000));
        assert_eq!(parse(raw, BodyPref::Text).body.0, "text");
    }
}
