//! Query strings as Gmail reads them: repeated parameters (`labelIds=A&labelIds=B`)
//! and the `q` search language's terms that Ember uses.
//!
//! Among them is `rfc822msgid:`, which finds a message by its Message-ID
//! header, written with or without its angle brackets: how a sender that
//! crashed mid-send learns whether its mail went out (`in:sent
//! rfc822msgid:<id@host>`) before sending it again.

use chrono::NaiveDate;

use crate::delivery::has_message_id;
use crate::mailbox::{Mailbox, Message};

/// Every `(key, value)` of a raw query string, decoded, in order.
pub fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `key`.
pub fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Every value of `key`.
pub fn all<'a>(pairs: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A parsed `q`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// Labels every match carries.
    pub labels: u64,
    /// Labels no match carries.
    pub without: u64,
    /// Received at or after, Unix ms.
    pub after_ms: Option<i64>,
    /// Received before, Unix ms.
    pub before_ms: Option<i64>,
    /// `in:anywhere`: spam and trash included.
    pub anywhere: bool,
    /// `rfc822msgid:`: the Message-IDs (without brackets) every match has.
    pub message_ids: Vec<String>,
}

fn date_ms(value: &str) -> Option<i64> {
    if let Ok(secs) = value.parse::<i64>() {
        return Some(secs * 1000);
    }
    let value = value.replace('-', "/");
    NaiveDate::parse_from_str(&value, "%Y/%m/%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

fn span_ms(value: &str) -> Option<i64> {
    let (n, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    let day = 86_400_000;
    match unit {
        "d" => Some(n * day),
        "m" => Some(n * 30 * day),
        "y" => Some(n * 365 * day),
        _ => None,
    }
}

/// Parses `q` against `mailbox`'s labels, at time `now_ms`. Terms Ember does
/// not use are refused rather than silently ignored.
pub fn parse_search(q: &str, mailbox: &Mailbox, now_ms: i64) -> Result<Search, String> {
    let mut s = Search::default();
    let bit = |id: &str| mailbox.label_bit(id);
    for term in q.split_whitespace() {
        let (negated, term) = match term.strip_prefix('-') {
            Some(t) => (true, t),
            None => (false, term),
        };
        let (key, value) = term
            .split_once(':')
            .ok_or_else(|| format!("unsupported search term {term:?}"))?;
        let label = match key.to_ascii_lowercase().as_str() {
            "newer_than" => {
                let span = span_ms(value).ok_or_else(|| format!("bad newer_than {value:?}"))?;
                s.after_ms = Some(now_ms - span);
                None
            }
            "older_than" => {
                let span = span_ms(value).ok_or_else(|| format!("bad older_than {value:?}"))?;
                s.before_ms = Some(now_ms - span);
                None
            }
            "after" => {
                s.after_ms = Some(date_ms(value).ok_or_else(|| format!("bad date {value:?}"))?);
                None
            }
            "before" => {
                s.before_ms = Some(date_ms(value).ok_or_else(|| format!("bad date {value:?}"))?);
                None
            }
            // Gmail takes the id with or without its brackets. Ember never
            // searches for mail that lacks one, so `-rfc822msgid:` is refused.
            "rfc822msgid" if !negated => {
                let id = value
                    .strip_prefix('<')
                    .and_then(|v| v.strip_suffix('>'))
                    .unwrap_or(value);
                if id.is_empty() || id.contains(['<', '>']) {
                    return Err(format!("bad rfc822msgid {value:?}"));
                }
                s.message_ids.push(id.to_owned());
                None
            }
            "in" if value.eq_ignore_ascii_case("anywhere") => {
                s.anywhere = true;
                None
            }
            "in" | "label" => Some(
                mailbox
                    .labels
                    .iter()
                    .position(|l| {
                        let value = if value.eq_ignore_ascii_case("drafts") {
                            "DRAFT"
                        } else {
                            value
                        };
                        l.id.eq_ignore_ascii_case(value) || l.name.eq_ignore_ascii_case(value)
                    })
                    .map(|i| 1u64 << i)
                    .ok_or_else(|| format!("unknown label {value:?}"))?,
            ),
            "is" => Some(
                match value.to_ascii_lowercase().as_str() {
                    "unread" => bit("UNREAD"),
                    "starred" => bit("STARRED"),
                    "important" => bit("IMPORTANT"),
                    _ => None,
                }
                .ok_or_else(|| format!("unsupported is:{value}"))?,
            ),
            "category" => {
                let id = match value.to_ascii_lowercase().as_str() {
                    "primary" | "personal" => "CATEGORY_PERSONAL",
                    "social" => "CATEGORY_SOCIAL",
                    "promotions" => "CATEGORY_PROMOTIONS",
                    "updates" => "CATEGORY_UPDATES",
                    "forums" => "CATEGORY_FORUMS",
                    _ => return Err(format!("unknown category {value:?}")),
                };
                bit(id)
            }
            _ => return Err(format!("unsupported search term {term:?}")),
        };
        if let Some(label) = label {
            if negated {
                s.without |= label;
            } else {
                s.labels |= label;
            }
        }
    }
    Ok(s)
}

impl Search {
    /// Whether `m` matches.
    pub fn matches(&self, m: &Message) -> bool {
        m.labels & self.labels == self.labels
            && m.labels & self.without == 0
            && self.after_ms.is_none_or(|a| m.date_ms >= a)
            && self.before_ms.is_none_or(|b| m.date_ms < b)
            && self.message_ids.iter().all(|id| has_message_id(m, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::{Label, LabelKind};

    fn mailbox() -> Mailbox {
        let labels = ["INBOX", "UNREAD", "CATEGORY_PROMOTIONS"]
            .iter()
            .map(|id| Label {
                id: (*id).into(),
                name: (*id).into(),
                kind: LabelKind::System,
            })
            .collect();
        Mailbox::new("a@example.com", "A", labels, 1)
    }

    #[test]
    fn the_terms_ember_uses_parse() {
        let mb = mailbox();
        let day = 86_400_000;
        let s = parse_search(
            "newer_than:90d in:inbox -category:promotions is:unread",
            &mb,
            100 * day,
        )
        .unwrap_or_default();
        assert_eq!(s.after_ms, Some(10 * day));
        assert_eq!(s.labels, 0b011);
        assert_eq!(s.without, 0b100);
        let s = parse_search("after:2024/01/02 before:1704326400", &mb, 0).unwrap_or_default();
        assert_eq!(s.after_ms, Some(1_704_153_600_000));
        assert_eq!(s.before_ms, Some(1_704_326_400_000));
    }

    #[test]
    fn rfc822msgid_takes_the_id_with_or_without_brackets() {
        let mb = mailbox();
        for q in [
            "rfc822msgid:<a.1@example.com>",
            "RFC822MSGID:a.1@example.com",
        ] {
            let s = parse_search(q, &mb, 0).unwrap_or_default();
            assert_eq!(s.message_ids, ["a.1@example.com"], "{q}");
        }
        let s =
            parse_search("in:inbox rfc822msgid:<a@x> rfc822msgid:b@y", &mb, 0).unwrap_or_default();
        assert_eq!(
            (s.labels, s.message_ids),
            (0b001, vec!["a@x".to_owned(), "b@y".to_owned()])
        );
        for bad in [
            "rfc822msgid:",
            "rfc822msgid:<>",
            "rfc822msgid:<a@x",
            "-rfc822msgid:a@x",
        ] {
            assert!(parse_search(bad, &mb, 0).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn rfc822msgid_matches_the_message_id_header() {
        use crate::mailbox::Source;
        use std::sync::Arc;
        let mb = mailbox();
        let raw: Arc<[u8]> = Arc::from(&b"Message-ID: <Crash.1@Fireside.example>\r\n\r\nx\r\n"[..]);
        let m = Message {
            id: "m1".into(),
            thread_id: "m1".into(),
            labels: 0b001,
            date_ms: 0,
            source: Source::Raw(raw),
            deleted: false,
            changed: 0,
        };
        let found = |q: &str| parse_search(q, &mb, 0).is_ok_and(|s| s.matches(&m));
        assert!(found("rfc822msgid:<Crash.1@Fireside.example>"));
        assert!(found("in:inbox rfc822msgid:Crash.1@fireside.example"));
        assert!(
            !found("rfc822msgid:crash.1@fireside.example"),
            "the local part's case counts"
        );
        assert!(!found("rfc822msgid:Crash.2@Fireside.example"));
        assert!(!found("is:unread rfc822msgid:Crash.1@Fireside.example"));
    }

    #[test]
    fn unknown_terms_are_refused() {
        let mb = mailbox();
        assert!(parse_search("has:drive", &mb, 0).is_err());
        assert!(parse_search("label:nope", &mb, 0).is_err());
        assert!(parse_search("newer_than:9x", &mb, 0).is_err());
    }

    #[test]
    fn repeated_parameters_are_all_kept() {
        let p = pairs(Some("labelIds=INBOX&labelIds=UNREAD&q=a%20b"));
        assert_eq!(all(&p, "labelIds"), ["INBOX", "UNREAD"]);
        assert_eq!(first(&p, "q"), Some("a b"));
    }
}
