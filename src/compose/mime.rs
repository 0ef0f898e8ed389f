//! The RFC 5322 message a draft becomes, built by `mail-builder` (Stalwart's
//! builder, from the authors of the `mail-parser` Ember reads mail with):
//! encoded words for non-ASCII names and subjects, folded headers, base64
//! attachments, quoted-printable or base64 bodies, so no line passes the
//! 998-octet limit however long the user's paragraphs are.
//!
//! Gmail is handed these bytes as they are; Microsoft 365 takes the same
//! fields as JSON, so only Gmail's path uses this module on the wire.

use mail_builder::headers::address::Address as MimeAddress;
use mail_builder::headers::date::Date;
use mail_builder::MessageBuilder;

use super::ComposeError;
use crate::model::Address;

/// A file to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingAttachment<'a> {
    /// File name.
    pub filename: &'a str,
    /// MIME type.
    pub content_type: &'a str,
    /// Its bytes.
    pub data: &'a [u8],
}

/// Everything a message is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing<'a> {
    /// The sender.
    pub from: &'a Address,
    /// To recipients.
    pub to: &'a [Address],
    /// Cc recipients.
    pub cc: &'a [Address],
    /// Bcc recipients (kept in the header: Gmail reads them from there and
    /// removes the header before delivery).
    pub bcc: &'a [Address],
    /// Subject.
    pub subject: &'a str,
    /// HTML body.
    pub html: &'a str,
    /// Its plain-text alternative.
    pub text: &'a str,
    /// `Message-ID`, without angle brackets.
    pub message_id: &'a str,
    /// `In-Reply-To`, without angle brackets.
    pub in_reply_to: Option<&'a str>,
    /// `References`, without angle brackets.
    pub references: &'a [String],
    /// `Date` (Unix ms).
    pub date_ms: i64,
    /// Files.
    pub attachments: Vec<OutgoingAttachment<'a>>,
}

/// Whether `address` can be put in a header as an address: one `@` with
/// something on both sides, and nothing that could end or bend a header.
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && (domain.contains('.') || domain == "localhost")
        && address.len() <= 254
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c))
}

/// `text` with control characters (line breaks among them) turned into
/// spaces: a display name, subject or file name stays one header value.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn checked(list: &[Address]) -> Result<Vec<MimeAddress<'static>>, ComposeError> {
    list.iter()
        .map(|a| {
            let address = a.address.trim();
            if !valid_address(address) {
                return Err(ComposeError::BadAddress(a.address.clone()));
            }
            let name = a.name.as_deref().map(one_line).filter(|n| !n.is_empty());
            Ok(MimeAddress::new_address(name, address.to_owned()))
        })
        .collect()
}

/// A MIME type as `type/subtype`, or `application/octet-stream`.
fn content_type(value: &str) -> String {
    let value = value.trim().to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match value.split_once('/') {
        Some((t, s)) if token(t) && token(s) => value,
        _ => "application/octet-stream".into(),
    }
}

/// Builds the message. Refuses a message without recipients or with an
/// address that is not one.
pub fn build_mime(message: &Outgoing<'_>) -> Result<Vec<u8>, ComposeError> {
    let to = checked(message.to)?;
    let cc = checked(message.cc)?;
    let bcc = checked(message.bcc)?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err(ComposeError::NoRecipients);
    }
    let from = checked(std::slice::from_ref(message.from))?;
    let mut builder = MessageBuilder::new()
        .from(MimeAddress::new_list(from))
        .subject(one_line(message.subject))
        .message_id(message.message_id.to_owned())
        .date(Date::new(message.date_ms.div_euclid(1000)))
        .html_body(message.html.to_owned())
        .text_body(message.text.to_owned());
    if !to.is_empty() {
        builder = builder.to(MimeAddress::new_list(to));
    }
    if !cc.is_empty() {
        builder = builder.cc(MimeAddress::new_list(cc));
    }
    if !bcc.is_empty() {
        builder = builder.bcc(MimeAddress::new_list(bcc));
    }
    if let Some(parent) = message.in_reply_to {
        builder = builder.in_reply_to(parent.to_owned());
    }
    if !message.references.is_empty() {
        builder = builder.references(message.references.to_vec());
    }
    for a in &message.attachments {
        let name = one_line(a.filename);
        let name = if name.is_empty() {
            "attachment".into()
        } else {
            name
        };
        builder = builder.attachment(content_type(a.content_type), name, a.data.to_vec());
    }
    builder
        .write_to_vec()
        .map_err(|e| ComposeError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

    use super::*;

    fn addr(name: Option<&str>, address: &str) -> Address {
        Address {
            name: name.map(str::to_owned),
            address: address.into(),
        }
    }

    #[test]
    fn what_we_build_a_parser_reads_back_the_same() -> Result<(), ComposeError> {
        let from = addr(Some("Zoë Ångström"), "zoe@example.org");
        let to = [addr(Some("Łukasz \"Luke\" Nowak"), "luke@example.com")];
        let cc = [addr(None, "team@example.com")];
        let bcc = [addr(None, "audit@example.com")];
        let long_paragraph = "word ".repeat(2_000);
        let html = format!("<p>Grüße — {long_paragraph}</p>");
        let text = format!("Grüße — {long_paragraph}");
        let pdf: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        let refs = vec!["a@example.com".to_owned(), "b@example.com".to_owned()];
        let raw = build_mime(&Outgoing {
            from: &from,
            to: &to,
            cc: &cc,
            bcc: &bcc,
            subject: "Réunion: ☕ at 10?\r\nBcc: evil@example.com",
            html: &html,
            text: &text,
            message_id: "id1@example.org",
            in_reply_to: Some("b@example.com"),
            references: &refs,
            date_ms: 1_800_000_000_000,
            attachments: vec![
                OutgoingAttachment {
                    filename: "Übersicht 2027.pdf",
                    content_type: "application/pdf",
                    data: &pdf,
                },
                OutgoingAttachment {
                    filename: "notes.txt",
                    content_type: "not a type",
                    data: b"plain",
                },
            ],
        })?;
        assert!(
            raw.split(|b| *b == b'\n').all(|l| l.len() <= 998),
            "no line passes RFC 5322's limit"
        );
        let text_raw = String::from_utf8_lossy(&raw);
        assert!(!text_raw.contains("\nBcc: evil"), "no header injection");
        let parsed = MessageParser::default()
            .parse(&raw)
            .ok_or_else(|| ComposeError::Build("unparseable".into()))?;
        assert_eq!(
            parsed.subject(),
            Some("Réunion: ☕ at 10?  Bcc: evil@example.com")
        );
        let first = |list: Option<&mail_parser::Address<'_>>| {
            list.and_then(|l| l.first())
                .map(|a| (a.name().map(str::to_owned), a.address().map(str::to_owned)))
        };
        assert_eq!(
            first(parsed.from()),
            Some((Some("Zoë Ångström".into()), Some("zoe@example.org".into())))
        );
        assert_eq!(
            first(parsed.to()),
            Some((
                Some("Łukasz \"Luke\" Nowak".into()),
                Some("luke@example.com".into())
            ))
        );
        assert_eq!(
            first(parsed.cc()).and_then(|a| a.1),
            Some("team@example.com".into())
        );
        assert_eq!(
            first(parsed.bcc()).and_then(|a| a.1),
            Some("audit@example.com".into())
        );
        assert_eq!(parsed.message_id(), Some("id1@example.org"));
        assert_eq!(parsed.in_reply_to().as_text(), Some("b@example.com"));
        match parsed.references() {
            HeaderValue::TextList(list) => assert_eq!(list, &refs),
            other => panic!("references: {other:?}"),
        }
        assert_eq!(parsed.date().map(|d| d.to_timestamp()), Some(1_800_000_000));
        assert_eq!(parsed.body_html(0).as_deref(), Some(html.as_str()));
        assert_eq!(parsed.body_text(0).as_deref(), Some(text.as_str()));
        let attachments: Vec<_> = parsed.attachments().collect();
        assert_eq!(attachments.len(), 2);
        assert_eq!(attachments[0].attachment_name(), Some("Übersicht 2027.pdf"));
        assert_eq!(attachments[0].contents(), pdf.as_slice());
        assert_eq!(
            attachments[1].content_type().map(|c| c.ctype()),
            Some("application")
        );
        Ok(())
    }

    #[test]
    fn no_recipients_or_a_bad_address_is_refused() {
        let from = addr(None, "me@example.org");
        let base = Outgoing {
            from: &from,
            to: &[],
            cc: &[],
            bcc: &[],
            subject: "",
            html: "",
            text: "",
            message_id: "x@example.org",
            in_reply_to: None,
            references: &[],
            date_ms: 0,
            attachments: Vec::new(),
        };
        assert_eq!(build_mime(&base), Err(ComposeError::NoRecipients));
        let bad = [addr(None, "two words@example.com")];
        assert!(matches!(
            build_mime(&Outgoing {
                to: &bad,
                ..base.clone()
            }),
            Err(ComposeError::BadAddress(_))
        ));
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "root@localhost"] {
            assert!(valid_address(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "@b.co",
            "a@",
            "a@b",
            "a b@c.co",
            "a@b.co>",
            "x@y.z\r\nBcc: q@r.s",
        ] {
            assert!(!valid_address(bad), "{bad:?}");
        }
    }
}
