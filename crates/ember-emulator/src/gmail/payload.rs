//! Turns raw RFC 822 bytes into Gmail's `MessagePart` tree, as
//! `messages.get?format=full` returns it: the root part has id `""`, children
//! `"0"`, `"1"`, grandchildren `"0.1"`; each part carries its own headers in
//! wire order; leaf bodies are the transfer-decoded bytes in their original
//! charset, base64url with padding; attachments carry an `attachmentId`
//! instead of data.
//!
//! mail-parser finds the part tree and offsets; the headers and bodies are
//! read from the raw bytes so that they are exactly what was sent.

use base64::Engine as _;
use mail_parser::{Encoding, MessageParser, MimeHeaders, PartType};
use serde_json::{json, Value};

/// Gmail's base64url, with `=` padding.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// Decodes base64 or base64url, padded or not, ignoring whitespace.
pub fn b64_decode_lenient(text: &str) -> Option<Vec<u8>> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let trimmed = clean.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()
}

/// The header block of a part, as `[{name, value}]` in wire order with
/// folded lines joined.
pub fn parse_headers(block: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(block);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    headers
}

fn headers_json(headers: &[(String, String)]) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

/// Decodes quoted-printable (RFC 2045), leniently.
pub fn decode_qp(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'=' if input.get(i + 1) == Some(&b'\r') && input.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if input.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' => {
                let hex = input
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'=');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn decode_body(raw: &[u8], encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Base64 => {
            b64_decode_lenient(&String::from_utf8_lossy(raw)).unwrap_or_else(|| raw.to_vec())
        }
        Encoding::QuotedPrintable => decode_qp(raw),
        Encoding::None => raw.to_vec(),
    }
}

fn slice(raw: &[u8], from: u32, to: u32) -> &[u8] {
    let from = (from as usize).min(raw.len());
    let to = (to as usize).clamp(from, raw.len());
    &raw[from..to]
}

/// The id Gmail would give an attachment: opaque, and stable for the message and part.
pub fn attachment_id(message_id: &str, part_id: &str) -> String {
    format!(
        "ANGjdJ{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{message_id}:{part_id}"))
    )
}

/// The part id an attachment id points at, for the given message.
pub fn part_of_attachment(message_id: &str, attachment_id: &str) -> Option<String> {
    let encoded = attachment_id.strip_prefix("ANGjdJ")?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (mid, part) = text.split_once(':')?;
    (mid == message_id).then(|| part.to_owned())
}

/// A leaf found while walking the tree.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// Its part id.
    pub part_id: String,
    /// Its decoded bytes.
    pub data: Vec<u8>,
}

/// Builds the `payload` of `raw` for message `message_id`; when `want` names
/// a part, also returns that part's decoded bytes.
pub fn payload(raw: &[u8], message_id: &str, want: Option<&str>) -> (Value, Option<Leaf>) {
    let Some(parsed) = MessageParser::default().parse(raw) else {
        // Not MIME at all: one text part holding everything after the headers.
        let split = find_body(raw);
        let headers = parse_headers(&raw[..split]);
        let body = &raw[split..];
        let value = json!({
            "partId": "",
            "mimeType": "text/plain",
            "filename": "",
            "headers": headers_json(&headers),
            "body": {"size": body.len(), "data": b64url(body)},
        });
        let leaf = (want == Some("")).then(|| Leaf {
            part_id: String::new(),
            data: body.to_vec(),
        });
        return (value, leaf);
    };
    let mut found = None;
    let value = part_json(
        &parsed,
        raw,
        0,
        String::new(),
        message_id,
        want,
        &mut found,
        0,
    );
    (value, found)
}

/// Where the body starts: after the first empty line.
fn find_body(raw: &[u8]) -> usize {
    raw.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
        .unwrap_or(raw.len())
}

#[allow(clippy::too_many_arguments)]
fn part_json(
    msg: &mail_parser::Message<'_>,
    raw: &[u8],
    index: usize,
    part_id: String,
    message_id: &str,
    want: Option<&str>,
    found: &mut Option<Leaf>,
    depth: usize,
) -> Value {
    let Some(part) = msg.parts.get(index) else {
        return json!({"partId": part_id, "mimeType": "text/plain", "filename": "", "headers": [], "body": {"size": 0}});
    };
    let header_block = slice(raw, part.offset_header, part.offset_body);
    let headers = parse_headers(header_block);
    let mime_type = part
        .content_type()
        .map(|ct| {
            format!(
                "{}/{}",
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or("plain").to_ascii_lowercase()
            )
        })
        .unwrap_or_else(|| "text/plain".into());
    let filename = part.attachment_name().unwrap_or_default().to_owned();
    match &part.body {
        PartType::Multipart(children) if depth < 64 => {
            let parts: Vec<Value> = children
                .iter()
                .enumerate()
                .map(|(i, child)| {
                    let id = if part_id.is_empty() {
                        i.to_string()
                    } else {
                        format!("{part_id}.{i}")
                    };
                    part_json(
                        msg,
                        raw,
                        *child as usize,
                        id,
                        message_id,
                        want,
                        found,
                        depth + 1,
                    )
                })
                .collect();
            json!({
                "partId": part_id,
                "mimeType": mime_type,
                "filename": filename,
                "headers": headers_json(&headers),
                "body": {"size": 0},
                "parts": parts,
            })
        }
        _ => {
            let body_raw = slice(raw, part.offset_body, part.offset_end);
            let data = decode_body(body_raw, part.encoding);
            let is_attachment = !filename.is_empty()
                || !(mime_type.starts_with("text/") || mime_type.starts_with("multipart/"));
            if want == Some(part_id.as_str()) {
                *found = Some(Leaf {
                    part_id: part_id.clone(),
                    data: data.clone(),
                });
            }
            let body = if is_attachment {
                json!({"attachmentId": attachment_id(message_id, &part_id), "size": data.len()})
            } else {
                json!({"size": data.len(), "data": b64url(&data)})
            };
            json!({
                "partId": part_id,
                "mimeType": mime_type,
                "filename": filename,
                "headers": headers_json(&headers),
                "body": body,
            })
        }
    }
}

/// The top-level headers of `raw`, and its snippet (the start of its text).
pub fn headers_and_snippet(raw: &[u8]) -> (Vec<(String, String)>, String) {
    let split = find_body(raw);
    let headers = parse_headers(&raw[..split]);
    let snippet = MessageParser::default()
        .parse(raw)
        .and_then(|m| m.body_preview(200).map(|p| p.into_owned()))
        .unwrap_or_default();
    (headers, snippet)
}

/// Gmail's snippet: whitespace folded, HTML-escaped, about 200 characters.
pub fn snippet(text: &str) -> String {
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = folded.chars().take(200).collect();
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALT: &[u8] = b"From: a@example.com\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n\
--b2\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 time\r\n\
--b2\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n<p>Caf\xc3\xa9</p>\r\n--b2--\r\n\
--b1\r\nContent-Type: application/pdf; name=\"x.pdf\"\r\nContent-Disposition: attachment; filename=\"x.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1--\r\n";

    #[test]
    fn the_tree_is_numbered_and_decoded_as_gmail_does() {
        let (p, _) = payload(ALT, "m1", None);
        assert_eq!(p["partId"], "");
        assert_eq!(p["mimeType"], "multipart/mixed");
        assert_eq!(p["body"]["size"], 0);
        assert_eq!(p["headers"][0]["name"], "From");
        let text = &p["parts"][0]["parts"][0];
        assert_eq!(text["partId"], "0.0");
        assert_eq!(text["mimeType"], "text/plain");
        let data = b64_decode_lenient(text["body"]["data"].as_str().unwrap_or_default());
        assert!(data.is_some_and(|d| d.starts_with("Café time".as_bytes())));
        let pdf = &p["parts"][1];
        assert_eq!(pdf["partId"], "1");
        assert_eq!(pdf["filename"], "x.pdf");
        assert!(pdf["body"].get("data").is_none());
        assert_eq!(pdf["body"]["size"], 5);
        let aid = pdf["body"]["attachmentId"].as_str().unwrap_or_default();
        assert_eq!(part_of_attachment("m1", aid).as_deref(), Some("1"));
        assert_eq!(
            part_of_attachment("m2", aid),
            None,
            "ids are bound to their message"
        );
        let (_, leaf) = payload(ALT, "m1", Some("1"));
        assert_eq!(leaf.map(|l| l.data), Some(b"%PDF-".to_vec()));
    }

    #[test]
    fn base64url_is_padded() {
        assert_eq!(b64url(b"ab"), "YWI=");
        assert_eq!(b64_decode_lenient("YWI"), Some(b"ab".to_vec()));
        assert_eq!(b64_decode_lenient("Y W\r\nI="), Some(b"ab".to_vec()));
    }

    #[test]
    fn snippets_are_folded_and_escaped() {
        assert_eq!(
            snippet("It wasn't  <here>\n& there"),
            "It wasn&#39;t &lt;here&gt; &amp; there"
        );
        assert_eq!(snippet(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn folded_headers_are_joined() {
        let h = parse_headers(b"Subject: a\r\n  b\r\nTo: c\r\n\r\nbody");
        assert_eq!(
            h,
            vec![("Subject".into(), "a b".into()), ("To".into(), "c".into())]
        );
    }
}
