//! What delivery, threading and the truth need from a message's header
//! block (its Message-ID, In-Reply-To, References, Subject and recipients),
//! read without touching its body, and the byte-exact header edits the
//! services make to mail they send (Gmail's From, Date and Message-Id,
//! Bcc left out of the copies recipients get).

use mail_parser::{Address, MessageParser};

/// A message's identity and addressing, from its headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Message-ID, without the angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To ids, without brackets.
    pub in_reply_to: Vec<String>,
    /// References ids, oldest first, without brackets.
    pub references: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
    /// Bcc addresses.
    pub bcc: Vec<String>,
}

fn addresses(a: Option<&Address<'_>>) -> Vec<String> {
    a.map(|a| {
        a.iter()
            .filter_map(|x| x.address())
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

fn ids(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .unwrap_or_default()
        .iter()
        .flat_map(|v| v.split_whitespace())
        .map(|v| v.trim_matches(|c| c == '<' || c == '>').to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

impl Envelope {
    /// Reads the header block of `raw`.
    pub fn of(raw: &[u8]) -> Self {
        let (head, _) = split_head(raw);
        let Some(m) = MessageParser::default().parse_headers(head) else {
            return Self::default();
        };
        Self {
            message_id: m
                .message_id()
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty()),
            in_reply_to: ids(m.in_reply_to()),
            references: ids(m.references()),
            subject: m.subject().unwrap_or_default().to_owned(),
            to: addresses(m.to()),
            cc: addresses(m.cc()),
            bcc: addresses(m.bcc()),
        }
    }

    /// Every recipient: To, Cc and Bcc.
    pub fn recipients(&self) -> impl Iterator<Item = &str> {
        self.to
            .iter()
            .chain(&self.cc)
            .chain(&self.bcc)
            .map(String::as_str)
    }

    /// Whether `address` is among the recipients.
    pub fn is_recipient(&self, address: &str) -> bool {
        self.recipients().any(|r| r.eq_ignore_ascii_case(address))
    }

    /// The ids it refers to, most relevant first: In-Reply-To, then
    /// References newest first.
    pub fn refs(&self) -> impl Iterator<Item = &str> {
        self.in_reply_to
            .iter()
            .chain(self.references.iter().rev())
            .map(String::as_str)
    }
}

/// `<id>`.
pub fn bracketed(id: &str) -> String {
    format!("<{id}>")
}

/// Whether two Message-IDs (without brackets) name the same message. The
/// part after the last `@` is a domain, compared in any case as RFC 5321
/// compares domains; the part before it is compared exactly, since only its
/// author knows whether its case matters.
pub fn same_message_id(a: &str, b: &str) -> bool {
    match (a.rsplit_once('@'), b.rsplit_once('@')) {
        (Some((left_a, domain_a)), Some((left_b, domain_b))) => {
            left_a == left_b && domain_a.eq_ignore_ascii_case(domain_b)
        }
        _ => a == b,
    }
}

/// A subject without its reply and forward prefixes, folded, lower case:
/// what threading compares.
pub fn normalized_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["re:", "fw:", "fwd:", "aw:", "sv:", "wg:", "tr:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start(),
            None => break,
        }
    }
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The header block (with its last line's terminator) and the rest (the
/// blank line and the body).
pub fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = raw.windows(2).position(|w| w == b"\n\n");
    let cut = match (crlf, lf) {
        (Some(c), Some(l)) if l < c + 1 => l + 1,
        (Some(c), _) => c + 2,
        (None, Some(l)) => l + 1,
        (None, None) => raw.len(),
    };
    raw.split_at(cut)
}

/// The header fields of a header block, each with its continuation lines
/// and terminators, as `(name, bytes)`.
fn fields(head: &[u8]) -> Vec<(String, &[u8])> {
    let mut out: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    let mut start = 0;
    while start < head.len() {
        let end = head[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(head.len(), |p| start + p + 1);
        let line = &head[start..end];
        match out.last_mut() {
            Some((_, range)) if line.starts_with(b" ") || line.starts_with(b"\t") => {
                range.end = end;
            }
            _ => {
                let name = line
                    .iter()
                    .position(|b| *b == b':')
                    .map(|p| String::from_utf8_lossy(&line[..p]).trim().to_owned())
                    .unwrap_or_default();
                out.push((name, start..end));
            }
        }
        start = end;
    }
    out.into_iter().map(|(n, r)| (n, &head[r])).collect()
}

/// Whether the header block of `raw` has a field called `name`.
pub fn has_header(raw: &[u8], name: &str) -> bool {
    fields(split_head(raw).0)
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// `raw` with the fields named in `remove` taken out, `prepend` lines put
/// first and `append` lines after the others (each a full `Name: value`
/// without terminator). The body is left byte for byte.
pub fn rewrite_headers(
    raw: &[u8],
    remove: &[&str],
    prepend: &[String],
    append: &[String],
) -> Vec<u8> {
    let (head, rest) = split_head(raw);
    let mut out = Vec::with_capacity(raw.len() + 256);
    for line in prepend {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, bytes) in fields(head) {
        if remove.iter().any(|r| r.eq_ignore_ascii_case(&name)) {
            continue;
        }
        out.extend_from_slice(bytes);
        if !bytes.ends_with(b"\n") {
            out.extend_from_slice(b"\r\n");
        }
    }
    for line in append {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if rest.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] =
        b"From: Ann <ann@example.com>\r\nTo: Bob <bob@example.com>, cy@example.com\r\n\
Cc: dee@example.com\r\nBcc: eve@example.com\r\nSubject: =?UTF-8?B?UmU6IEjDqWxsbw==?=\r\n\
Message-ID: <m2@example.com>\r\nIn-Reply-To: <m1@example.com>\r\n\
References: <m0@example.com>\r\n <m1@example.com>\r\n\r\nBody\r\n\r\nmore\r\n";

    #[test]
    fn the_envelope_comes_from_the_headers() {
        let e = Envelope::of(RAW);
        assert_eq!(e.message_id.as_deref(), Some("m2@example.com"));
        assert_eq!(e.in_reply_to, ["m1@example.com"]);
        assert_eq!(e.references, ["m0@example.com", "m1@example.com"]);
        assert_eq!(e.subject, "Re: Héllo");
        assert_eq!(e.to, ["bob@example.com", "cy@example.com"]);
        assert!(e.is_recipient("EVE@example.com"));
        let refs: Vec<_> = e.refs().collect();
        assert_eq!(refs, ["m1@example.com", "m1@example.com", "m0@example.com"]);
    }

    #[test]
    fn message_ids_match_exactly_but_for_the_case_of_their_domain() {
        assert!(same_message_id("Ab.1@Example.COM", "Ab.1@example.com"));
        assert!(!same_message_id("Ab.1@example.com", "ab.1@example.com"));
        assert!(!same_message_id("ab.1@example.com", "ab.1@example.org"));
        assert!(!same_message_id("ab.1@example.com", "ab.1"));
        assert!(same_message_id("local-only", "local-only"));
    }

    #[test]
    fn subjects_are_compared_without_prefixes() {
        assert_eq!(normalized_subject("RE: Fwd:  Lunch  plans"), "lunch plans");
        assert_eq!(normalized_subject("Lunch plans"), "lunch plans");
        assert_ne!(
            normalized_subject("Re: Lunch"),
            normalized_subject("Dinner")
        );
    }

    #[test]
    fn header_edits_keep_the_body_and_folded_fields() {
        let out = rewrite_headers(
            RAW,
            &["bcc", "Subject"],
            &["Received: x".into()],
            &["X-A: 1".into()],
        );
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("Received: x\r\nFrom: Ann"));
        assert!(!text.contains("Bcc:") && !text.contains("Subject:"));
        assert!(text.contains("References: <m0@example.com>\r\n <m1@example.com>\r\nX-A: 1\r\n\r\nBody\r\n\r\nmore\r\n"));
        assert!(has_header(&out, "x-a") && !has_header(&out, "bcc"));
        let lf = rewrite_headers(b"Subject: a\nTo: b\n\nbody\n", &["To"], &[], &[]);
        assert_eq!(lf, b"Subject: a\n\nbody\n");
        let bare = rewrite_headers(b"Subject: a\r\n", &[], &[], &["To: b".into()]);
        assert_eq!(bare, b"Subject: a\r\nTo: b\r\n\r\n");
    }
}
