//! Turning a raw RFC 822 message into what the store keeps: headers the list
//! and classifier use, recipients, the plain-text body, the HTML body
//! sanitised, and attachment metadata.
//!
//! mail-parser does the parsing (charsets, encoded words, broken structure);
//! each HTML part is sanitised on its own by [`crate::render::sanitise_part`]
//! before it is ever stored, so raw provider HTML never reaches the database
//! (remote image URLs are kept there, for [`crate::render::render`] to block
//! or allow at display time).

use mail_parser::{Address as MpAddress, HeaderValue, MessageParser, MimeHeaders};
use serde_json::{Map, Value};

use crate::model::Address;
use crate::store::NewAttachment;

/// Characters of body text kept as the snippet.
pub const SNIPPET_CHARS: usize = 200;

/// The largest text body stored (longer ones are cut, with a note).
pub const MAX_TEXT: usize = 1024 * 1024;

/// A message that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable message: {0}")]
pub struct MimeError(pub String);

/// What the store needs from a message. Its `Debug` prints the bodies as
/// their length.
#[derive(Clone, Default, PartialEq)]
pub struct ParsedMessage {
    /// Subject.
    pub subject: String,
    /// Sender.
    pub from: Option<Address>,
    /// To.
    pub to: Vec<Address>,
    /// Cc.
    pub cc: Vec<Address>,
    /// The Date header, Unix milliseconds.
    pub date_ms: Option<i64>,
    /// Message-ID.
    pub message_id: Option<String>,
    /// In-Reply-To.
    pub in_reply_to: Option<String>,
    /// Headers the classifier and UI use.
    pub headers: Map<String, Value>,
    /// Plain text (from the HTML when there is no text part).
    pub text: Option<String>,
    /// Sanitised HTML.
    pub html: Option<String>,
    /// Attachments.
    pub attachments: Vec<NewAttachment>,
}

impl std::fmt::Debug for ParsedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::secret::BodyLen;
        f.debug_struct("ParsedMessage")
            .field("subject", &self.subject)
            .field("from", &self.from)
            .field("date_ms", &self.date_ms)
            .field("message_id", &self.message_id)
            .field("text", &BodyLen(self.text.as_deref()))
            .field("html", &BodyLen(self.html.as_deref()))
            .field("attachments", &self.attachments.len())
            .finish_non_exhaustive()
    }
}

impl ParsedMessage {
    /// The start of the text, whitespace folded.
    pub fn snippet(&self) -> String {
        snippet_of(self.text.as_deref().unwrap_or_default())
    }
}

/// Whitespace-folded start of `text`.
pub fn snippet_of(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() >= SNIPPET_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.chars().take(SNIPPET_CHARS).collect()
}

/// Headers copied into the message's header bag.
pub const KEPT_HEADERS: &[&str] = &[
    "List-Id",
    "List-Unsubscribe",
    "List-Post",
    "Precedence",
    "Auto-Submitted",
    "References",
    "Reply-To",
    "X-Mailer",
    // The provider's SPF/DKIM/DMARC verdict (the topmost, its own): whether
    // a per-sender remote-content allowance applies (crate::render::sender).
    crate::render::sender::AUTHENTICATION_RESULTS,
];

fn addresses(value: Option<&MpAddress<'_>>) -> Vec<Address> {
    let Some(value) = value else {
        return Vec::new();
    };
    value
        .iter()
        .filter_map(|a| {
            let address = a.address()?.trim().to_owned();
            (!address.is_empty()).then(|| Address {
                name: a
                    .name()
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty()),
                address,
            })
        })
        .collect()
}

/// `text` cut to [`MAX_TEXT`] bytes (at a character boundary), with a note
/// saying how much was left out.
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n\n[message shortened: {} bytes not shown]",
        &text[..end],
        text.len() - end
    )
}

/// Sanitises untrusted HTML for storage: no script, no forms, no embedded
/// documents, no event handlers; links keep only safe schemes (see
/// [`crate::render`]).
pub fn sanitise_html(html: &str) -> String {
    crate::render::sanitise_part(html)
}

/// Parses a raw message.
///
/// The parser is third-party code reading hostile bytes: a panic inside it
/// (the fuzzer found a `debug_assert!` in mail-parser's multipart
/// bookkeeping that a malformed report trips) is this message's error, not
/// the end of the sync run that met it.
pub fn parse(raw: &[u8]) -> Result<ParsedMessage, MimeError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_unguarded(raw)))
        .unwrap_or_else(|_| Err(MimeError("the MIME parser failed on it".into())))
}

fn parse_unguarded(raw: &[u8]) -> Result<ParsedMessage, MimeError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| MimeError("no message structure could be found".into()))?;
    let subject = message.subject().unwrap_or_default().trim().to_owned();
    let from = addresses(message.from()).into_iter().next();
    let date_ms = message.date().map(|d| d.to_timestamp() * 1000);
    let message_id = message.message_id().map(str::to_owned);
    if from.is_none() && subject.is_empty() && date_ms.is_none() && message_id.is_none() {
        return Err(MimeError(
            "it has no sender, subject, date or message id".into(),
        ));
    }
    // The first (topmost) of a repeated header: `header_raw` would give the
    // last, and the topmost Authentication-Results is the provider's own,
    // the ones below it whatever the sender wrote.
    let mut headers = Map::new();
    for (name, value) in message.headers_raw() {
        if let Some(kept) = KEPT_HEADERS.iter().find(|k| k.eq_ignore_ascii_case(name)) {
            headers
                .entry((*kept).to_owned())
                .or_insert_with(|| Value::String(value.trim().to_owned()));
        }
    }
    // Each HTML part on its own: one part's unclosed markup cannot swallow
    // the next. Text parts among them (multipart/mixed) are skipped here;
    // the text body keeps them.
    let html_parts: Vec<String> = message
        .html_body
        .iter()
        .filter_map(|&part| message.part(part))
        .filter(|part| part.is_text_html())
        .filter_map(|part| part.text_contents().map(str::to_owned))
        .collect();
    let html = (!html_parts.is_empty())
        .then(|| crate::render::sanitise_parts(html_parts.iter().map(String::as_str)));
    let text = message.body_text(0).map(|t| clip(&t));
    let attachments = message
        .attachments()
        .map(|part| NewAttachment {
            provider_id: None,
            filename: part.attachment_name().unwrap_or("attachment").to_owned(),
            mime_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: i64::try_from(part.contents().len()).unwrap_or(i64::MAX),
            content_id: part.content_id().map(str::to_owned),
            is_inline: part
                .content_disposition()
                .is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline")),
        })
        .collect();
    let in_reply_to = match message.in_reply_to() {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(l) => l.first().map(|t| t.to_string()),
        _ => None,
    };
    Ok(ParsedMessage {
        subject,
        from,
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        date_ms,
        message_id,
        in_reply_to,
        headers,
        text,
        html,
        attachments,
    })
}

/// Parses a header list (Gmail's `format=metadata`) as a message without a body.
pub fn parse_headers(headers: &[(String, String)]) -> Result<ParsedMessage, MimeError> {
    let mut raw = Vec::new();
    for (name, value) in headers {
        // Header values come from JSON: keep them on one line each.
        let value: String = value
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        raw.extend_from_slice(name.as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    parse(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzzer (fuzz/fuzz_targets/mime.rs): a multipart/report
    /// whose boundary lines are cut short trips a `debug_assert!` in
    /// mail-parser ("Invalid part ID, could not find multipart."), which
    /// panicked sync in debug builds. Release builds skip the assertion;
    /// debug builds now do too (Cargo.toml), and a panic in the parser is
    /// the message's error either way.
    #[test]
    fn a_report_with_cut_boundaries_parses_without_a_panic() {
        let raw = include_bytes!("../../fuzz/corpus/mime/crash-mail-parser-part-id.eml");
        let parsed = parse(raw).expect("its headers are whole");
        assert_eq!(parsed.subject, "Disposition notification");
    }

    #[test]
    fn headers_recipients_and_both_bodies_are_read() {
        let raw = b"From: =?UTF-8?Q?Ada_L=C3=B6velace?= <ada@example.org>\r\nTo: Me <me@example.com>, b@example.com\r\n\
Subject: Hello\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\nMessage-ID: <m1@x>\r\nList-Id: <dev.lists.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHi there\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<p onclick=\"x()\">Hi <script>alert(1)</script>there</p>\r\n--b--\r\n";
        let m = parse(raw).unwrap_or_default();
        assert_eq!(
            m.from.as_ref().and_then(|a| a.name.as_deref()),
            Some("Ada Lövelace")
        );
        assert_eq!(m.to.len(), 2);
        assert_eq!(m.subject, "Hello");
        assert_eq!(m.date_ms, Some(1_751_364_000_000));
        assert_eq!(m.headers["List-Id"], "<dev.lists.example>");
        assert_eq!(m.text.as_deref().map(str::trim), Some("Hi there"));
        let html = m.html.unwrap_or_default();
        assert!(
            !html.contains("script") && !html.contains("onclick"),
            "{html}"
        );
        assert!(html.contains("Hi"));
    }

    /// Finding 14: the provider's verdict is the topmost header; one the
    /// sender wrote further down is not the one kept.
    #[test]
    fn the_topmost_authentication_results_is_kept() {
        let raw = b"Authentication-Results: mx.google.com; dmarc=fail header.from=bank.example\r\n\
Received: from evil.example\r\n\
Authentication-Results: mx.google.com; dmarc=pass header.from=bank.example\r\n\
From: ceo@bank.example\r\nSubject: Hi\r\n\r\nHi\r\n";
        let m = parse(raw).unwrap_or_default();
        assert_eq!(
            m.headers["Authentication-Results"],
            "mx.google.com; dmarc=fail header.from=bank.example"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"").is_err());
        assert!(parse(b"\xff\xfe\x00\x01 not mail").is_err());
    }

    #[test]
    fn metadata_headers_parse_like_a_message() {
        let m = parse_headers(&[
            ("From".into(), "x@example.com".into()),
            ("Subject".into(), "evil\r\nBcc: injected".into()),
        ])
        .unwrap_or_default();
        assert_eq!(
            m.subject, "evil  Bcc: injected",
            "a header value cannot add headers"
        );
    }

    #[test]
    fn snippets_fold_whitespace_and_stop_near_200_characters() {
        assert_eq!(snippet_of("a\n\n  b\tc"), "a b c");
        assert!(snippet_of(&"word ".repeat(100)).chars().count() <= SNIPPET_CHARS);
    }
}
