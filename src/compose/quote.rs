//! How a reply or a forward starts: who it goes to, its subject, the
//! headers that thread it, and the original quoted under an attribution
//! line, as the mail clients people know do it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::{Address, ComposeKind};

/// The message being answered or forwarded, as the store has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Original {
    /// Its sender.
    pub from: Address,
    /// Where answers go, when it asked (`Reply-To`).
    pub reply_to: Vec<Address>,
    /// To recipients.
    pub to: Vec<Address>,
    /// Cc recipients.
    pub cc: Vec<Address>,
    /// Sent (Unix ms).
    pub date: i64,
    /// Subject.
    pub subject: String,
    /// Its `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// Its `References`, without angle brackets, oldest first.
    pub references: Vec<String>,
    /// Sanitised HTML body, when it has one.
    pub html: Option<String>,
    /// Plain-text body.
    pub text: Option<String>,
}

/// Most ids a `References` header carries: the thread's first message and
/// the latest ones (RFC 5322 §3.6.4 allows trimming the middle).
const MAX_REFERENCES: usize = 20;

/// `subject` as a reply's: one `Re: `, never `Re: Re: `.
pub fn reply_subject(subject: &str) -> String {
    prefixed("Re: ", &["re:", "aw:", "sv:"], subject)
}

/// `subject` as a forward's.
pub fn forward_subject(subject: &str) -> String {
    prefixed("Fwd: ", &["fwd:", "fw:"], subject)
}

fn prefixed(prefix: &str, known: &[&str], subject: &str) -> String {
    let trimmed = subject.trim();
    let lower = trimmed.to_lowercase();
    if known.iter().any(|k| lower.starts_with(k)) {
        trimmed.to_owned()
    } else {
        format!("{prefix}{trimmed}")
    }
}

/// To and Cc of an answer to `original` written by the owner of
/// `own` (the account's addresses, compared case-insensitively).
pub fn reply_recipients(
    kind: ComposeKind,
    original: &Original,
    own: &[String],
) -> (Vec<Address>, Vec<Address>) {
    let mine = |a: &Address| own.iter().any(|o| o.eq_ignore_ascii_case(&a.address));
    let from_me = mine(&original.from);
    let mut to: Vec<Address> = if from_me {
        // Answering one's own message continues to its recipients.
        original.to.clone()
    } else if original.reply_to.is_empty() {
        vec![original.from.clone()]
    } else {
        original.reply_to.clone()
    };
    let mut cc = Vec::new();
    if kind == ComposeKind::ReplyAll {
        to.extend(original.to.iter().cloned());
        cc.extend(original.cc.iter().cloned());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut keep = |a: &Address| {
        let key = a.address.to_lowercase();
        if mine(a) || seen.contains(&key) {
            return false;
        }
        seen.push(key);
        true
    };
    to.retain(&mut keep);
    cc.retain(&mut keep);
    if to.is_empty() && from_me {
        // A note to oneself is answered to oneself.
        to.push(original.from.clone());
    }
    match kind {
        ComposeKind::Reply | ComposeKind::ReplyAll => (to, cc),
        ComposeKind::New | ComposeKind::Forward => (Vec::new(), Vec::new()),
    }
}

/// The `References` of an answer to `original`: its own references and
/// its id, trimmed to the first and the latest.
pub fn references_of(original: &Original) -> Vec<String> {
    let mut refs = original.references.clone();
    if let Some(id) = &original.message_id {
        refs.push(id.clone());
    }
    if refs.len() > MAX_REFERENCES {
        let tail = refs.split_off(refs.len() - (MAX_REFERENCES - 1));
        refs.truncate(1);
        refs.extend(tail);
    }
    refs
}

/// "On Tue, 3 Dec 2026 at 21:04, Sam <sam@example.com> wrote:"
pub fn attribution(original: &Original) -> String {
    let when = chrono::DateTime::from_timestamp_millis(original.date)
        .map(|d| {
            d.with_timezone(&chrono::Local)
                .format("%a, %-d %b %Y at %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    format!("On {when}, {} wrote:", display(&original.from))
}

fn display(a: &Address) -> String {
    match a.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!("{name} <{}>", a.address),
        None => a.address.clone(),
    }
}

/// HTML-escapes `text`.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The original's body as HTML: its sanitised HTML, or its text escaped.
fn original_body(original: &Original) -> String {
    match (&original.html, &original.text) {
        (Some(html), _) if !html.trim().is_empty() => html.clone(),
        (_, Some(text)) => format!("<div style=\"white-space:pre-wrap\">{}</div>", escape(text)),
        _ => String::new(),
    }
}

/// The quoted original a reply or forward opens with, below the space the
/// user writes in: an attribution line and a blockquote for a reply, the
/// "Forwarded message" block for a forward.
pub fn quote_html(kind: ComposeKind, original: &Original) -> String {
    match kind {
        ComposeKind::New => String::new(),
        ComposeKind::Reply | ComposeKind::ReplyAll => format!(
            "<div class=\"ember-quote\"><p>{}</p><blockquote type=\"cite\" \
             style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex\">{}</blockquote></div>",
            escape(&attribution(original)),
            original_body(original)
        ),
        ComposeKind::Forward => {
            let list = |v: &[Address]| v.iter().map(display).collect::<Vec<_>>().join(", ");
            let date = chrono::DateTime::from_timestamp_millis(original.date)
                .map(|d| d.with_timezone(&chrono::Local).to_rfc2822())
                .unwrap_or_default();
            let mut head = format!(
                "---------- Forwarded message ---------<br>From: {}<br>Date: {}<br>Subject: {}<br>To: {}",
                escape(&display(&original.from)),
                escape(&date),
                escape(&original.subject),
                escape(&list(&original.to)),
            );
            if !original.cc.is_empty() {
                head.push_str(&format!("<br>Cc: {}", escape(&list(&original.cc))));
            }
            format!(
                "<div class=\"ember-forward\"><p>{head}</p>{}</div>",
                original_body(original)
            )
        }
    }
}

/// A plain-text signature as the HTML the composer appends (the usual
/// "-- " separator line, then the text, escaped).
pub fn signature_html(signature: &str) -> String {
    let signature = signature.trim_end();
    if signature.trim().is_empty() {
        return String::new();
    }
    let lines: Vec<String> = signature.lines().map(escape).collect();
    format!(
        "<div class=\"ember-signature\">-- <br>{}</div>",
        lines.join("<br>")
    )
}

/// A new `Message-ID` (without angle brackets) at the sender's domain:
/// the time, a per-process random key and a counter, so two drafts never
/// share one even when created in the same millisecond.
pub fn new_message_id(from_address: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let domain = from_address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| {
            !d.is_empty()
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        })
        .unwrap_or("ember.invalid");
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let millis = chrono::Utc::now().timestamp_millis();
    format!("{millis:x}.{:016x}.ember@{domain}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(a: &str) -> Address {
        Address {
            name: None,
            address: a.into(),
        }
    }

    fn original() -> Original {
        Original {
            from: Address {
                name: Some("Sam Lee".into()),
                address: "sam@example.com".into(),
            },
            to: vec![addr("me@example.org"), addr("kim@example.com")],
            cc: vec![addr("lee@example.com"), addr("ME@example.org")],
            date: 1_800_000_000_000,
            subject: "Plans".into(),
            message_id: Some("m3@example.com".into()),
            references: vec!["m1@example.com".into(), "m2@example.com".into()],
            text: Some("see <you> & them".into()),
            ..Original::default()
        }
    }

    #[test]
    fn subjects_get_one_prefix() {
        assert_eq!(reply_subject("Plans"), "Re: Plans");
        assert_eq!(reply_subject("RE: Plans"), "RE: Plans");
        assert_eq!(forward_subject("Fw: Plans"), "Fw: Plans");
        assert_eq!(forward_subject("Re: Plans"), "Fwd: Re: Plans");
    }

    #[test]
    fn reply_all_answers_everyone_but_me_once() {
        let own = vec!["me@example.org".to_owned()];
        let (to, cc) = reply_recipients(ComposeKind::Reply, &original(), &own);
        assert_eq!(to, vec![original().from]);
        assert!(cc.is_empty());
        let (to, cc) = reply_recipients(ComposeKind::ReplyAll, &original(), &own);
        let to: Vec<_> = to.iter().map(|a| a.address.as_str()).collect();
        let cc: Vec<_> = cc.iter().map(|a| a.address.as_str()).collect();
        assert_eq!(to, ["sam@example.com", "kim@example.com"]);
        assert_eq!(cc, ["lee@example.com"]);
        // Reply-To wins over From.
        let mut o = original();
        o.reply_to = vec![addr("list@example.com")];
        let (to, _) = reply_recipients(ComposeKind::Reply, &o, &own);
        assert_eq!(to, vec![addr("list@example.com")]);
        // Answering my own message goes to its recipients.
        let mut o = original();
        o.from = addr("me@example.org");
        let (to, _) = reply_recipients(ComposeKind::Reply, &o, &own);
        assert_eq!(to[0].address, "kim@example.com");
    }

    #[test]
    fn references_chain_and_stay_bounded() {
        assert_eq!(
            references_of(&original()),
            ["m1@example.com", "m2@example.com", "m3@example.com"]
        );
        let mut o = original();
        o.references = (0..50).map(|i| format!("r{i}@x")).collect();
        let refs = references_of(&o);
        assert_eq!(refs.len(), MAX_REFERENCES);
        assert_eq!(refs[0], "r0@x");
        assert_eq!(refs.last().map(String::as_str), Some("m3@example.com"));
    }

    #[test]
    fn quotes_escape_text_and_attribute_the_sender() {
        let html = quote_html(ComposeKind::Reply, &original());
        assert!(
            html.contains("Sam Lee &lt;sam@example.com&gt; wrote:"),
            "{html}"
        );
        assert!(html.contains("see &lt;you&gt; &amp; them"), "{html}");
        assert!(html.contains("<blockquote"), "{html}");
        let fwd = quote_html(ComposeKind::Forward, &original());
        assert!(
            fwd.contains("Forwarded message") && fwd.contains("Subject: Plans"),
            "{fwd}"
        );
        assert_eq!(signature_html("  \n"), "");
        assert_eq!(
            signature_html("Sam\n<b>x</b>"),
            "<div class=\"ember-signature\">-- <br>Sam<br>&lt;b&gt;x&lt;/b&gt;</div>"
        );
    }

    #[test]
    fn message_ids_are_unique_and_at_the_senders_domain() {
        let a = new_message_id("me@example.org");
        let b = new_message_id("me@example.org");
        assert_ne!(a, b);
        assert!(a.ends_with("@example.org"), "{a}");
        assert!(new_message_id("bad<>@x y").ends_with("@ember.invalid"));
    }
}
