//! Listing messages: `GET /me/messages` and a folder's `messages`, with
//! paging (`$top`, `$skip`, `@odata.nextLink`) and the `$filter` and
//! `$orderby` clauses clients use. The `$filter` parser is shared with
//! delta queries.
//!
//! `$filter=internetMessageId eq '<id@host>'` finds a message by its
//! Message-ID, as Exchange allows: how a sender that crashed mid-send
//! learns whether its mail reached Sent Items before sending it again.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};

use super::{applied, SharedState};
use crate::delivery::envelope::same_message_id;
use crate::delivery::message_id_of;
use crate::graph::folders::{folder_key, resolve, FolderRef};
use crate::graph::resource::{render, snap, stand_in_message_id, Bits, Owner, Select, Snap};
use crate::graph::{
    bad_request, context, encode_query, mailbox_mut, parse_datetime, query_first, query_pairs,
    respond, BodyPref, Params, Target,
};
use crate::http::Caller;
use crate::mailbox::Message;

/// Page size of message lists without `$top`, and the largest `$top`.
const DEFAULT_TOP: usize = 10;
const MAX_TOP: usize = 1000;

/// A `$filter` on a message list: the clauses Ember and common clients use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    /// Received at or after (ms).
    pub(crate) min_date: Option<i64>,
    /// Received before (ms).
    pub(crate) max_date: Option<i64>,
    /// `isRead eq ...`.
    pub(crate) is_read: Option<bool>,
    /// `inferenceClassification eq 'focused'|'other'`.
    pub(crate) focused: Option<bool>,
    /// `internetMessageId eq '<id@host>'`, as written (brackets and all).
    pub(crate) internet_message_id: Option<String>,
}

fn invalid_filter(clause: &str) -> Response {
    bad_request(
        "ErrorInvalidUrlQueryFilter",
        &format!("The query filter contains one or more invalid nodes: '{clause}'."),
    )
}

/// One token of a `$filter`: where it is in the text, and for an OData
/// string literal (`'...'`, a quote inside written `''`) its value.
struct Token {
    span: std::ops::Range<usize>,
    text: Option<String>,
}

/// Splits a `$filter` into words and string literals; `None` when a
/// literal is never closed.
fn tokens(filter: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = filter.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut text = String::new();
            let end = loop {
                match chars.next()? {
                    (_, '\'') if chars.peek().is_some_and(|(_, c)| *c == '\'') => {
                        chars.next();
                        text.push('\'');
                    }
                    (i, '\'') => break i + 1,
                    (_, c) => text.push(c),
                }
            };
            out.push(Token {
                span: start..end,
                text: Some(text),
            });
        } else {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if c.is_whitespace() || c == '\'' {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            out.push(Token {
                span: start..end,
                text: None,
            });
        }
    }
    Some(out)
}

/// Parses `$filter` (clauses joined by `and`).
pub(crate) fn parse_filter(value: Option<&str>) -> Result<Filter, Response> {
    let mut f = Filter::default();
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(f);
    };
    let tokens = tokens(value).ok_or_else(|| invalid_filter(value))?;
    let is_and = |t: &Token| t.text.is_none() && value[t.span.clone()].eq_ignore_ascii_case("and");
    for clause in tokens.split(is_and) {
        let text = match (clause.first(), clause.last()) {
            (Some(a), Some(b)) => &value[a.span.start..b.span.end],
            _ => value,
        };
        let [field, op, literal] = clause else {
            return Err(invalid_filter(text));
        };
        if field.text.is_some() || op.text.is_some() {
            return Err(invalid_filter(text));
        }
        let word = |t: &Token| &value[t.span.clone()];
        let op = word(op).to_ascii_lowercase();
        match word(field).to_ascii_lowercase().as_str() {
            "receiveddatetime" => {
                let t = parse_datetime(word(literal)).ok_or_else(|| invalid_filter(text))?;
                match op.as_str() {
                    "ge" => f.min_date = Some(t),
                    "gt" => f.min_date = Some(t + 1),
                    "lt" => f.max_date = Some(t),
                    "le" => f.max_date = Some(t + 1),
                    _ => return Err(invalid_filter(text)),
                }
            }
            "isread" => {
                let b = match word(literal) {
                    "true" => true,
                    "false" => false,
                    _ => return Err(invalid_filter(text)),
                };
                f.is_read = match op.as_str() {
                    "eq" => Some(b),
                    "ne" => Some(!b),
                    _ => return Err(invalid_filter(text)),
                };
            }
            "inferenceclassification" if op == "eq" => {
                let class = literal.text.as_deref().unwrap_or(word(literal));
                f.focused = match class.to_ascii_lowercase().as_str() {
                    "focused" => Some(true),
                    "other" => Some(false),
                    _ => return Err(invalid_filter(text)),
                };
            }
            // Exchange answers equality on the Message-ID; the value is a
            // string literal, compared with the brackets Graph writes.
            "internetmessageid" if op == "eq" => match &literal.text {
                Some(id) => f.internet_message_id = Some(id.clone()),
                None => return Err(invalid_filter(text)),
            },
            _ => return Err(invalid_filter(text)),
        }
    }
    Ok(f)
}

/// Whether `m`'s `internetMessageId`, as Graph renders it, is `wanted`:
/// the Message-ID its bytes carry, in brackets, or the stand-in a message
/// without one is given.
fn has_internet_message_id(m: &Message, wanted: &str) -> bool {
    let Some(bare) = wanted.strip_prefix('<').and_then(|w| w.strip_suffix('>')) else {
        return false;
    };
    match message_id_of(m) {
        Some(id) => same_message_id(&id, bare),
        None => stand_in_message_id(&m.id) == wanted,
    }
}

impl Filter {
    fn matches(&self, m: &Message, bits: &Bits) -> bool {
        self.min_date.is_none_or(|t| m.date_ms >= t)
            && self.max_date.is_none_or(|t| m.date_ms < t)
            && self
                .is_read
                .is_none_or(|r| (m.labels & bits.unread == 0) == r)
            && self
                .focused
                .is_none_or(|f| (m.labels & bits.focused != 0) == f)
            && self
                .internet_message_id
                .as_deref()
                .is_none_or(|id| has_internet_message_id(m, id))
    }
}

/// `GET /me/messages` and `GET /me/mailFolders/{id}/messages` (`$top`,
/// `$skip`, `$select`, `$filter`, `$orderby=receivedDateTime desc|asc`).
pub(crate) async fn list(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let key = match folder_key(&params) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let pairs = query_pairs(raw.as_deref());
    let number = |name: &str, default: usize| match query_first(&pairs, name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            bad_request(
                "BadRequest",
                &format!("Invalid value '{v}' for query option '{name}'."),
            )
        }),
    };
    let (top, skip) = match (number("$top", DEFAULT_TOP), number("$skip", 0)) {
        (Ok(t), Ok(s)) => (t.clamp(1, MAX_TOP), s),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let select = match Select::parse(query_first(&pairs, "$select")) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let filter = match parse_filter(query_first(&pairs, "$filter")) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let ascending = match query_first(&pairs, "$orderby").map(|o| {
        o.split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
    }) {
        None => false,
        Some(words) => match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["receiveddatetime"] | ["receiveddatetime", "asc"] => true,
            ["receiveddatetime", "desc"] => false,
            _ => {
                return bad_request(
                    "ErrorInvalidUrlQuery",
                    "The $orderby clause is not supported.",
                )
            }
        },
    };
    let (snaps, owner, more) = {
        let mut world = shared.world();
        let seed = world.config.seed;
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let folder_bit = match key.as_deref().map(|k| resolve(mb, seed, k)) {
            None => None,
            Some(Ok(FolderRef::Folder(i))) => Some(1u64 << i),
            Some(Ok(FolderRef::Root)) => Some(0),
            Some(Err(r)) => return r,
        };
        let bits = Bits::of(mb);
        let mut hits: Vec<(i64, usize)> = mb
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                !m.deleted
                    && folder_bit.is_none_or(|b| m.labels & b != 0)
                    && filter.matches(m, &bits)
            })
            .map(|(i, m)| (m.date_ms, i))
            .collect();
        if ascending {
            hits.sort_unstable();
        } else {
            hits.sort_unstable_by(|a, b| b.cmp(a));
        }
        let snaps: Vec<Snap> = hits
            .iter()
            .skip(skip)
            .take(top)
            .map(|(_, i)| snap(mb, *i))
            .collect();
        (snaps, Owner::of(mb), hits.len() > skip + top)
    };
    let (pref, pref_applied) = BodyPref::of(&headers);
    let value: Vec<Value> = snaps
        .iter()
        .map(|s| Value::Object(render(s, &owner, &shared.base_url, select, pref, false)))
        .collect();
    let (context_path, link_path) = match &key {
        Some(k) => (
            format!("{}/mailFolders('{k}')/messages", target.context_user()),
            format!("{}/mailFolders/{k}/messages", target.prefix),
        ),
        None => (
            format!("{}/messages", target.context_user()),
            format!("{}/messages", target.prefix),
        ),
    };
    let suffix = if select.is_custom() {
        format!("({})", select.names())
    } else {
        String::new()
    };
    let mut body = json!({
        "@odata.context": context(&shared, &format!("{context_path}{suffix}")),
        "value": value,
    });
    if more {
        let mut q = String::new();
        for (k, v) in &pairs {
            if !k.eq_ignore_ascii_case("$skip") {
                q.push_str(&format!("{}={}&", encode_query(k), encode_query(v)));
            }
        }
        body["@odata.nextLink"] = json!(format!(
            "{}{link_path}?{q}%24skip={}",
            shared.base_url,
            skip + top
        ));
    }
    respond(StatusCode::OK, &body, &applied(pref_applied))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_the_common_clauses() {
        let f = parse_filter(Some(
            "receivedDateTime ge 2026-04-04T13:50:17.103Z and isRead eq false",
        ))
        .unwrap_or_default();
        assert_eq!(f.min_date, Some(1_775_310_617_103));
        assert_eq!(f.is_read, Some(false));
        assert!(parse_filter(Some("subject eq 'x'")).is_err());
        assert!(parse_filter(Some("isRead eq maybe")).is_err());
    }

    #[test]
    fn internet_message_id_is_an_odata_string_literal() {
        let f = parse_filter(Some(
            "internetMessageId eq '<o''brien and co@example.com>' AND isRead eq true",
        ))
        .unwrap_or_default();
        assert_eq!(
            f.internet_message_id.as_deref(),
            Some("<o'brien and co@example.com>"),
            "'' is a quote, and `and` inside a literal is text"
        );
        assert_eq!(f.is_read, Some(true));
        for bad in [
            "internetMessageId eq '<x@y>",
            "internetMessageId eq <x@y>",
            "internetMessageId ne '<x@y>'",
            "internetMessageId eq '<x@y>' and",
            "'internetMessageId' eq '<x@y>'",
            "internetMessageId eq '<x@y>' '<z@y>'",
        ] {
            assert!(parse_filter(Some(bad)).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn internet_message_id_matches_what_graph_renders() {
        use crate::mailbox::Source;
        let raw = |h: &str| Source::Raw(format!("{h}Subject: s\r\n\r\nx\r\n").into_bytes().into());
        let message = |source| Message {
            id: "AAMkAD1".into(),
            thread_id: "t".into(),
            labels: 0,
            date_ms: 0,
            source,
            deleted: false,
            changed: 0,
        };
        let with = message(raw("Message-ID: <Crash.1@Fireside.example>\r\n"));
        assert!(has_internet_message_id(&with, "<Crash.1@fireside.example>"));
        assert!(
            !has_internet_message_id(&with, "Crash.1@Fireside.example"),
            "brackets count"
        );
        assert!(!has_internet_message_id(
            &with,
            "<crash.1@Fireside.example>"
        ));
        let without = message(raw(""));
        assert!(has_internet_message_id(
            &without,
            &stand_in_message_id("AAMkAD1")
        ));
        assert!(!has_internet_message_id(
            &without,
            "<Crash.1@Fireside.example>"
        ));
    }
}
