//! A Graph message being written, as properties: what `sendMail`, a new
//! draft (`POST /me/messages`), a draft's PATCH and a reply or forward set
//! (subject, body, recipients, importance, `x-` headers, receipts,
//! attachments), composed into the RFC 822 bytes the mailbox stores and
//! read back from them when a draft is edited. Also the size limits Graph
//! puts on what a client writes.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde_json::{Map, Value};

use super::attachments::Attachment;
use super::body_read_error;
use crate::gmail::payload::parse_headers;
use crate::graph::resource::Owner;
use crate::graph::{b64, bad_request, digest};
use crate::http::graph_error;

/// The largest JSON request Graph takes (beyond: upload sessions).
pub const MAX_REQUEST: usize = 4 * 1024 * 1024;
/// The largest message Exchange sends (its default MaxSendSize).
pub const MAX_MESSAGE: usize = 35 * 1024 * 1024;
/// The largest body the writing routes read, so that the answer beyond
/// [`MAX_REQUEST`] is Graph's own.
pub const BODY_LIMIT: usize = 40 * 1024 * 1024;

/// Graph's answer to an item too big to save or send.
pub fn size_exceeded(status: StatusCode, detail: &str) -> Response {
    graph_error(
        status,
        "ErrorMessageSizeExceeded",
        &format!("The message exceeds the maximum supported size., {detail}"),
    )
}

/// Refuses a request body over [`MAX_REQUEST`].
pub fn check_request_size(body: &Bytes) -> Result<(), Response> {
    if body.len() > MAX_REQUEST {
        return Err(size_exceeded(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Requests are limited to 4 MB: attach larger files with an upload session.",
        ));
    }
    Ok(())
}

/// A name and an address.
pub type Mailbox = (String, String);

/// A message's writable properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftFields {
    /// Subject.
    pub subject: String,
    /// The body is HTML (else text).
    pub html: bool,
    /// The body.
    pub body: String,
    /// From (drafts have none until sent; replies have the owner).
    pub from: Option<Mailbox>,
    /// To.
    pub to: Vec<Mailbox>,
    /// Cc.
    pub cc: Vec<Mailbox>,
    /// Bcc.
    pub bcc: Vec<Mailbox>,
    /// Reply-To.
    pub reply_to: Vec<Mailbox>,
    /// `low`, `normal` or `high`.
    pub importance: String,
    /// `x-` headers.
    pub extra: Vec<(String, String)>,
    /// In-Reply-To, as written (`<id>`).
    pub in_reply_to: Option<String>,
    /// References, as written.
    pub references: Option<String>,
    /// Message-ID, `<id>`.
    pub message_id: String,
    /// Return-Receipt-To requested.
    pub delivery_receipt: bool,
    /// Disposition-Notification-To requested.
    pub read_receipt: bool,
    /// File attachments.
    pub attachments: Vec<Attachment>,
}

/// RFC 2047-encodes a header value when it is not plain ASCII.
pub fn header_text(value: &str) -> String {
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

/// Graph recipients as `(name, address)`.
pub fn address_list(value: Option<&Value>) -> Result<Vec<Mailbox>, Response> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(v) => v.as_array().ok_or_else(|| {
            body_read_error("Cannot convert the literal to the expected type 'Collection(microsoft.graph.recipient)'.")
        })?,
    };
    list.iter().map(recipient).collect()
}

fn recipient(r: &Value) -> Result<Mailbox, Response> {
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
        .unwrap_or_default();
    Ok((name.to_owned(), address.to_owned()))
}

/// `Name <address>, ...`.
pub fn format_addresses(list: &[Mailbox]) -> String {
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

fn wrong_type(prop: &str, edm: &str) -> Response {
    body_read_error(&format!(
        "Cannot convert the literal for property '{prop}' to the expected type '{edm}'."
    ))
}

impl DraftFields {
    /// An empty message with a fresh Message-ID for `owner`, unique by `salt`.
    pub fn new(owner: &Owner, now_ms: i64, salt: &str) -> Self {
        let stamp = digest(&[
            owner.address.as_bytes(),
            &now_ms.to_le_bytes(),
            salt.as_bytes(),
        ]);
        let local: String = stamp[..12].iter().map(|b| format!("{b:02x}")).collect();
        let domain = owner
            .address
            .rsplit('@')
            .next()
            .unwrap_or("emulator.invalid");
        Self {
            importance: "normal".into(),
            message_id: format!("<{local}@{domain}>"),
            ..Self::default()
        }
    }

    /// Whether it has anyone to go to.
    pub fn has_recipients(&self) -> bool {
        !(self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty())
    }

    /// Applies the content properties of a Graph `message` JSON; the
    /// others (isRead, flag, categories ...) are left to the caller.
    pub fn apply(&mut self, map: &Map<String, Value>) -> Result<(), Response> {
        for (k, v) in map {
            match k.as_str() {
                "subject" => {
                    self.subject = match v {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        _ => return Err(wrong_type(k, "Edm.String")),
                    }
                }
                "body" => {
                    let kind = v
                        .get("contentType")
                        .and_then(Value::as_str)
                        .unwrap_or("text");
                    self.html = kind.eq_ignore_ascii_case("html");
                    self.body = v
                        .get("content")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                }
                "toRecipients" => self.to = address_list(Some(v))?,
                "ccRecipients" => self.cc = address_list(Some(v))?,
                "bccRecipients" => self.bcc = address_list(Some(v))?,
                "replyTo" => self.reply_to = address_list(Some(v))?,
                "from" | "sender" if !v.is_null() => self.from = Some(recipient(v)?),
                "importance" => {
                    self.importance = match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                        Some(i @ ("low" | "normal" | "high")) => i.to_owned(),
                        _ => return Err(wrong_type(k, "microsoft.graph.importance")),
                    }
                }
                "isDeliveryReceiptRequested" => {
                    self.delivery_receipt =
                        v.as_bool().ok_or_else(|| wrong_type(k, "Edm.Boolean"))?;
                }
                "isReadReceiptRequested" => {
                    self.read_receipt = v.as_bool().ok_or_else(|| wrong_type(k, "Edm.Boolean"))?;
                }
                "internetMessageId" => {
                    if let Some(id) = v.as_str().filter(|s| !s.trim().is_empty()) {
                        self.message_id = format!("<{}>", id.trim().trim_matches(['<', '>']));
                    }
                }
                "internetMessageHeaders" => {
                    let list = v.as_array().ok_or_else(|| {
                        wrong_type(k, "Collection(microsoft.graph.internetMessageHeader)")
                    })?;
                    self.extra.clear();
                    for x in list {
                        let name = x.get("name").and_then(Value::as_str).unwrap_or_default();
                        let value = x.get("value").and_then(Value::as_str).unwrap_or_default();
                        if !name.to_ascii_lowercase().starts_with("x-") {
                            return Err(bad_request(
                                "InvalidInternetMessageHeader",
                                &format!("The internet message header name '{name}' should start with 'x-' or 'X-'."),
                            ));
                        }
                        self.extra.push((name.to_owned(), value.to_owned()));
                    }
                }
                "attachments" => {
                    let list = v
                        .as_array()
                        .ok_or_else(|| wrong_type(k, "Collection(microsoft.graph.attachment)"))?;
                    for a in list {
                        self.attachments.push(Attachment::from_json(a)?);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads the properties back from stored bytes.
    pub fn from_raw(raw: &[u8]) -> Self {
        let split = crate::delivery::envelope::split_head(raw).0.len();
        let headers = parse_headers(&raw[..split]);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut f = Self {
            importance: header("Importance")
                .map(|i| i.to_ascii_lowercase())
                .filter(|i| i == "low" || i == "high")
                .unwrap_or_else(|| "normal".into()),
            extra: headers
                .iter()
                .filter(|(n, _)| {
                    n.to_ascii_lowercase().starts_with("x-")
                        && !n.eq_ignore_ascii_case("X-Priority")
                })
                .cloned()
                .collect(),
            in_reply_to: header("In-Reply-To"),
            references: header("References"),
            message_id: header("Message-ID").unwrap_or_default(),
            delivery_receipt: header("Return-Receipt-To").is_some(),
            read_receipt: header("Disposition-Notification-To").is_some(),
            ..Self::default()
        };
        let Some(m) = MessageParser::default().parse(raw) else {
            return f;
        };
        let list = |a: Option<&mail_parser::Address<'_>>| -> Vec<Mailbox> {
            a.map(|a| {
                a.iter()
                    .filter_map(|x| {
                        Some((
                            x.name().unwrap_or_default().to_owned(),
                            x.address()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
        };
        f.subject = m.subject().unwrap_or_default().to_owned();
        f.from = list(m.from()).into_iter().next();
        f.to = list(m.to());
        f.cc = list(m.cc());
        f.bcc = list(m.bcc());
        f.reply_to = list(m.reply_to());
        f.html = m
            .html_part(0)
            .is_some_and(|p| matches!(p.body, PartType::Html(_)));
        f.body = if f.html {
            m.body_html(0).unwrap_or_default().into_owned()
        } else {
            m.body_text(0).unwrap_or_default().into_owned()
        };
        f.attachments = m
            .attachments()
            .map(|a| Attachment {
                name: a.attachment_name().unwrap_or("attachment").to_owned(),
                content_type: a
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(sub) => format!("{}/{sub}", c.ctype()),
                        None => c.ctype().to_owned(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".into()),
                bytes: a.contents().to_vec(),
                is_inline: a.content_disposition().is_some_and(|d| d.is_inline()),
                content_id: a.content_id().map(str::to_owned),
            })
            .collect();
        f
    }

    /// The RFC 822 bytes, dated `now_ms`.
    pub fn compose(&self, owner: &Owner, now_ms: i64) -> Vec<u8> {
        let date = chrono::DateTime::from_timestamp_millis(now_ms)
            .unwrap_or_default()
            .to_rfc2822();
        let mut h = String::new();
        if let Some(from) = &self.from {
            h.push_str(&format!(
                "From: {}\r\n",
                format_addresses(std::slice::from_ref(from))
            ));
        }
        for (name, list) in [
            ("To", &self.to),
            ("Cc", &self.cc),
            ("Bcc", &self.bcc),
            ("Reply-To", &self.reply_to),
        ] {
            if !list.is_empty() {
                h.push_str(&format!("{name}: {}\r\n", format_addresses(list)));
            }
        }
        h.push_str(&format!("Subject: {}\r\n", header_text(&self.subject)));
        h.push_str(&format!("Date: {date}\r\n"));
        h.push_str(&format!("Message-ID: {}\r\n", self.message_id));
        if let Some(r) = &self.in_reply_to {
            h.push_str(&format!("In-Reply-To: {r}\r\n"));
        }
        if let Some(r) = &self.references {
            h.push_str(&format!("References: {r}\r\n"));
        }
        match self.importance.as_str() {
            "high" => h.push_str("Importance: high\r\nX-Priority: 1\r\n"),
            "low" => h.push_str("Importance: low\r\nX-Priority: 5\r\n"),
            _ => {}
        }
        if self.delivery_receipt {
            h.push_str(&format!("Return-Receipt-To: {}\r\n", owner.address));
        }
        if self.read_receipt {
            h.push_str(&format!(
                "Disposition-Notification-To: {}\r\n",
                owner.address
            ));
        }
        for (name, value) in &self.extra {
            h.push_str(&format!("{name}: {}\r\n", header_text(value)));
        }
        h.push_str("MIME-Version: 1.0\r\n");
        let mime_type = if self.html { "text/html" } else { "text/plain" };
        let body_part = format!(
            "Content-Type: {mime_type}; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
            b64_lines(self.body.as_bytes())
        );
        if self.attachments.is_empty() {
            h.push_str(&body_part);
            return h.into_bytes();
        }
        let boundary = format!(
            "_ember_{}",
            self.message_id.trim_matches(['<', '>']).replace('@', "_")
        );
        h.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n{body_part}"
        ));
        for a in &self.attachments {
            let name = header_text(&a.name).replace('"', "'");
            let disposition = if a.is_inline { "inline" } else { "attachment" };
            h.push_str(&format!(
                "--{boundary}\r\nContent-Type: {}; name=\"{name}\"\r\nContent-Disposition: {disposition}; filename=\"{name}\"\r\n",
                a.content_type
            ));
            if let Some(cid) = &a.content_id {
                h.push_str(&format!(
                    "Content-ID: <{}>\r\n",
                    cid.trim_matches(['<', '>'])
                ));
            }
            h.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
            h.push_str(&b64_lines(&a.bytes));
        }
        h.push_str(&format!("--{boundary}--\r\n"));
        h.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn owner() -> Owner {
        Owner {
            address: "alex@contoso.example".into(),
            name: "Alex".into(),
        }
    }

    #[test]
    fn what_is_composed_reads_back_the_same() {
        let mut f = DraftFields::new(&owner(), 1_800_000_000_000, "a");
        let message = json!({
            "subject": "Plans ☕",
            "body": {"contentType": "HTML", "content": "<p>Hi</p>"},
            "toRecipients": [{"emailAddress": {"address": "bob@example.com", "name": "Bob"}}],
            "bccRecipients": [{"emailAddress": {"address": "eve@example.com"}}],
            "importance": "High",
            "isReadReceiptRequested": true,
            "internetMessageHeaders": [{"name": "x-ember-id", "value": "42"}],
            "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentType": "text/plain", "contentBytes": "SGVsbG8="}],
        });
        f.apply(message.as_object().unwrap_or(&Map::new()))
            .unwrap_or_default();
        f.in_reply_to = Some("<x@y>".into());
        let raw = f.compose(&owner(), 1_800_000_000_000);
        let back = DraftFields::from_raw(&raw);
        assert_eq!(back, f);
        assert_eq!(back.attachments[0].bytes, b"Hello");
        let bad = json!({"internetMessageHeaders": [{"name": "Subject", "value": "x"}]});
        assert!(f.apply(bad.as_object().unwrap_or(&Map::new())).is_err());
        let no_at = json!({"toRecipients": [{"emailAddress": {"address": "bob"}}]});
        assert!(f.apply(no_at.as_object().unwrap_or(&Map::new())).is_err());
    }
}
