//! `GET /me/mailFolders/{id}/messages/delta`: a folder's messages, page by
//! page (`Prefer: odata.maxpagesize`), ending with a deltaLink; the deltaLink
//! then answers with what changed in the folder since: current state for
//! messages created or updated in it, `@removed` for those deleted or moved
//! out.
//!
//! Tokens are opaque (base64url of a small record and a MAC) and carry
//! everything the round needs: the mailbox sequence number it started at,
//! the folder, `$select`, `changeType`, the `$filter` date, and the position
//! reached. A token older than the mailbox's retained history, or from a
//! world that has been reset, answers 410 `SyncStateNotFound`; one that does
//! not decode answers 400.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use base64::Engine as _;
use serde_json::{json, Value};

use super::folders::{folder_key, resolve, FolderRef};
use super::messages::parse_filter;
use super::resource::{removed, render, snap, Owner, Select, Snap};
use super::{
    bad_request, context, digest, id_malformed, mailbox_mut, prefer, query_first, query_pairs,
    respond, BodyPref, Params, Target,
};
use crate::http::{graph_error, Caller};
use crate::mailbox::{ChangeKind, Mailbox};
use crate::state::Shared;

/// Page size without `Prefer: odata.maxpagesize`, and the largest honoured.
const DEFAULT_PAGE: usize = 10;
const MAX_PAGE: usize = 1000;

/// `changeType` bits.
const CREATED: u8 = 1;
const UPDATED: u8 = 2;
const DELETED: u8 = 4;
const ALL_TYPES: u8 = CREATED | UPDATED | DELETED;

const TOKEN_VERSION: u8 = 1;
const TOKEN_LEN: usize = 4 + 6 * 8;

/// Where a round is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Paging through the folder's messages (a skip token of the first round).
    Initial = 0,
    /// Paging through changes (a skip token of a later round).
    Changes = 1,
    /// A delta token: changes since `since`.
    Delta = 2,
}

/// What a token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    phase: Phase,
    /// The world's identity (its build time): a reset world forgets tokens.
    world: i64,
    /// The folder's index.
    folder: u8,
    /// `$select`.
    select: u64,
    /// `changeType` bits.
    types: u8,
    /// `$filter=receivedDateTime ge`, or `i64::MIN`.
    min_date: i64,
    /// The sequence number the round's changes start after.
    since: u64,
    /// The last sequence number this round covers (later rounds).
    upto: u64,
    /// Initial: the message index to walk down from; changes: the offset in
    /// the round's list of changed messages.
    pos: u64,
}

fn mac(payload: &[u8], address: &str) -> [u8; 32] {
    digest(&[
        b"ember-graph-delta",
        address.to_ascii_lowercase().as_bytes(),
        payload,
    ])
}

/// XORs a token's record with a stream derived from the address, so that
/// tokens look as opaque as Graph's (it is its own inverse).
fn veil(bytes: &[u8], address: &str) -> Vec<u8> {
    let stream = digest(&[b"ember-graph-veil", address.to_ascii_lowercase().as_bytes()]);
    bytes
        .iter()
        .zip(stream.iter().cycle())
        .map(|(b, s)| b ^ s)
        .collect()
}

impl Cursor {
    fn encode(&self, address: &str) -> String {
        let mut b = Vec::with_capacity(TOKEN_LEN);
        b.extend_from_slice(&[TOKEN_VERSION, self.phase as u8, self.folder, self.types]);
        b.extend_from_slice(&self.world.to_le_bytes());
        b.extend_from_slice(&self.select.to_le_bytes());
        b.extend_from_slice(&self.min_date.to_le_bytes());
        b.extend_from_slice(&self.since.to_le_bytes());
        b.extend_from_slice(&self.upto.to_le_bytes());
        b.extend_from_slice(&self.pos.to_le_bytes());
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let tag = mac(&b, address);
        format!("{}.{}", e.encode(veil(&b, address)), e.encode(&tag[..12]))
    }

    fn decode(token: &str, address: &str) -> Option<Self> {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (payload, tag) = token.trim().split_once('.')?;
        let b = veil(&e.decode(payload).ok()?, address);
        let tag = e.decode(tag).ok()?;
        if b.len() != TOKEN_LEN || b[0] != TOKEN_VERSION || tag != mac(&b, address)[..12] {
            return None;
        }
        let word = |i: usize| -> Option<[u8; 8]> { b.get(4 + i * 8..12 + i * 8)?.try_into().ok() };
        Some(Self {
            phase: match b[1] {
                0 => Phase::Initial,
                1 => Phase::Changes,
                2 => Phase::Delta,
                _ => return None,
            },
            folder: b[2],
            types: b[3],
            world: i64::from_le_bytes(word(0)?),
            select: u64::from_le_bytes(word(1)?),
            min_date: i64::from_le_bytes(word(2)?),
            since: u64::from_le_bytes(word(3)?),
            upto: u64::from_le_bytes(word(4)?),
            pos: u64::from_le_bytes(word(5)?),
        })
    }
}

fn malformed_token() -> Response {
    bad_request("BadRequest", "The delta or skip token is malformed.")
}

fn sync_state_not_found(since: u64, highest: u64) -> Response {
    graph_error(
        StatusCode::GONE,
        "SyncStateNotFound",
        &format!("The sync state generation is not found; generation={since};[highest={highest}]."),
    )
}

/// One entry of a page.
enum Item {
    Full(Box<Snap>),
    Removed(String),
}

/// A page: its entries and the cursor its link carries.
struct Page {
    items: Vec<Item>,
    link: Cursor,
}

fn initial_page(mb: &Mailbox, cursor: Cursor, size: usize) -> Page {
    let bit = 1u64 << cursor.folder;
    let mut items = Vec::new();
    let mut next = None;
    if cursor.types & CREATED != 0 {
        let mut i = usize::try_from(cursor.pos)
            .unwrap_or(usize::MAX)
            .min(mb.messages.len());
        while i > 0 {
            i -= 1;
            let m = &mb.messages[i];
            if m.deleted || m.labels & bit == 0 || m.date_ms < cursor.min_date {
                continue;
            }
            if items.len() == size {
                next = Some(i + 1);
                break;
            }
            items.push(Item::Full(Box::new(snap(mb, i))));
        }
    }
    let link = match next {
        Some(pos) => Cursor {
            pos: pos as u64,
            ..cursor
        },
        None => Cursor {
            phase: Phase::Delta,
            upto: 0,
            pos: 0,
            ..cursor
        },
    };
    Page { items, link }
}

fn changes_page(mb: &Mailbox, cursor: Cursor, size: usize) -> Result<Page, Response> {
    let upto = if cursor.phase == Phase::Delta {
        mb.seq
    } else {
        cursor.upto
    };
    let changes = mb
        .changes_since(cursor.since)
        .map_err(|_| sync_state_not_found(cursor.since, mb.seq))?;
    // Messages changed in (since, upto], in the order they first changed.
    let mut seen = HashSet::new();
    let affected: Vec<usize> = changes
        .iter()
        .take_while(|c| c.seq <= upto)
        .filter(|c| seen.insert(c.message))
        .map(|c| c.message)
        .collect();
    // Their state at `since`: today's, with every later change undone.
    let mut before: HashMap<usize, (u64, bool)> = affected
        .iter()
        .map(|&i| (i, (mb.messages[i].labels, !mb.messages[i].deleted)))
        .collect();
    for c in changes.iter().rev() {
        if let Some(s) = before.get_mut(&c.message) {
            match c.kind {
                ChangeKind::LabelsAdded(m) => s.0 &= !m,
                ChangeKind::LabelsRemoved(m) => s.0 |= m,
                ChangeKind::Added => s.1 = false,
                ChangeKind::Deleted => s.1 = true,
                ChangeKind::Updated => {}
            }
        }
    }
    let bit = 1u64 << cursor.folder;
    let start = if cursor.phase == Phase::Delta {
        0
    } else {
        usize::try_from(cursor.pos).unwrap_or(usize::MAX)
    };
    let mut items = Vec::new();
    let mut next = None;
    for (k, &index) in affected.iter().enumerate().skip(start) {
        let m = &mb.messages[index];
        let (labels, existed) = before.get(&index).copied().unwrap_or_default();
        let was_in = existed && labels & bit != 0;
        let is_in = !m.deleted && m.labels & bit != 0;
        let kind = match (was_in, is_in) {
            (false, true) => CREATED,
            (true, true) => UPDATED,
            (true, false) => DELETED,
            (false, false) => continue,
        };
        if cursor.types & kind == 0 || m.date_ms < cursor.min_date {
            continue;
        }
        if items.len() == size {
            next = Some(k);
            break;
        }
        items.push(if kind == DELETED {
            Item::Removed(m.id.clone())
        } else {
            Item::Full(Box::new(snap(mb, index)))
        });
    }
    let link = match next {
        Some(pos) => Cursor {
            phase: Phase::Changes,
            upto,
            pos: pos as u64,
            ..cursor
        },
        None => Cursor {
            phase: Phase::Delta,
            since: upto,
            upto: 0,
            pos: 0,
            ..cursor
        },
    };
    Ok(Page { items, link })
}

/// The options of a first request (later ones take them from the token).
fn fresh_options(pairs: &[(String, String)]) -> Result<(Select, u8, i64), Response> {
    let select = Select::parse(query_first(pairs, "$select"))?;
    let types = match query_first(pairs, "changeType").map(str::to_ascii_lowercase) {
        None => ALL_TYPES,
        Some(t) => match t.as_str() {
            "created" => CREATED,
            "updated" => UPDATED,
            "deleted" => DELETED,
            _ => {
                return Err(bad_request(
                    "BadRequest",
                    &format!("Invalid value '{t}' for the custom query option 'changeType'."),
                ))
            }
        },
    };
    let filter = parse_filter(query_first(pairs, "$filter"))?;
    if filter.max_date.is_some()
        || filter.is_read.is_some()
        || filter.focused.is_some()
        || filter.internet_message_id.is_some()
    {
        return Err(bad_request(
            "ErrorInvalidUrlQueryFilter",
            "Delta queries on messages only support $filter on receivedDateTime ge/gt.",
        ));
    }
    if let Some(order) = query_first(pairs, "$orderby") {
        let words: Vec<String> = order
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        if words != ["receiveddatetime", "desc"] {
            return Err(bad_request(
                "ErrorInvalidUrlQuery",
                "Delta queries on messages only support $orderby=receivedDateTime desc.",
            ));
        }
    }
    Ok((select, types, filter.min_date.unwrap_or(i64::MIN)))
}

/// `GET /me/mailFolders/{id}/messages/delta`.
pub async fn delta(
    State(shared): State<Arc<Shared>>,
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
        Ok(Some(k)) => k,
        Ok(None) => return id_malformed(),
        Err(r) => return r,
    };
    let pairs = query_pairs(raw.as_deref());
    let mut applied = Vec::new();
    let size = match prefer(&headers, "odata.maxpagesize").and_then(|v| v.parse::<usize>().ok()) {
        Some(n) => {
            let n = n.clamp(1, MAX_PAGE);
            applied.push(format!("odata.maxpagesize={n}"));
            n
        }
        None => DEFAULT_PAGE,
    };
    let (pref, pref_applied) = BodyPref::of(&headers);
    applied.extend(pref_applied);
    let token = match (
        query_first(&pairs, "$deltatoken"),
        query_first(&pairs, "$skiptoken"),
    ) {
        (Some(_), Some(_)) => return malformed_token(),
        (Some(t), None) => match Cursor::decode(t, &target.address) {
            Some(c) if c.phase == Phase::Delta => Some(c),
            _ => return malformed_token(),
        },
        (None, Some(t)) => match Cursor::decode(t, &target.address) {
            Some(c) if c.phase != Phase::Delta => Some(c),
            _ => return malformed_token(),
        },
        (None, None) => None,
    };
    let fresh = match token {
        Some(_) => None,
        None => match fresh_options(&pairs) {
            Ok(o) => Some(o),
            Err(r) => return r,
        },
    };
    let (page, owner) = {
        let mut world = shared.world();
        let seed = world.config.seed;
        let anchor = world.anchor_ms;
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let folder = match resolve(mb, seed, &key) {
            Ok(FolderRef::Folder(i)) => i as u8,
            Ok(FolderRef::Root) => {
                return bad_request(
                    "ErrorInvalidOperation",
                    "Delta queries are not supported on the root folder.",
                )
            }
            Err(r) => return r,
        };
        let cursor = match (token, fresh) {
            (Some(c), _) => {
                if c.folder != folder {
                    return malformed_token();
                }
                if c.world != anchor {
                    return sync_state_not_found(c.since, mb.seq);
                }
                c
            }
            (None, Some((select, types, min_date))) => Cursor {
                phase: Phase::Initial,
                world: anchor,
                folder,
                select: select.0,
                types,
                min_date,
                since: mb.seq,
                upto: 0,
                pos: mb.messages.len() as u64,
            },
            (None, None) => return malformed_token(),
        };
        if cursor.since < mb.floor || cursor.since > mb.seq {
            return sync_state_not_found(cursor.since, mb.seq);
        }
        let page = if cursor.phase == Phase::Initial {
            initial_page(mb, cursor, size)
        } else {
            match changes_page(mb, cursor, size) {
                Ok(p) => p,
                Err(r) => return r,
            }
        };
        (page, Owner::of(mb))
    };
    let select = Select(page.link.select);
    let value: Vec<Value> = page
        .items
        .iter()
        .map(|item| match item {
            Item::Full(s) => Value::Object(render(s, &owner, &shared.base_url, select, pref, true)),
            Item::Removed(id) => removed(id),
        })
        .collect();
    let (link_name, param) = if page.link.phase == Phase::Delta {
        ("@odata.deltaLink", "$deltatoken")
    } else {
        ("@odata.nextLink", "$skiptoken")
    };
    let link = format!(
        "{}{}/mailFolders('{key}')/messages/delta?{param}={}",
        shared.base_url,
        target.prefix,
        page.link.encode(&target.address)
    );
    let mut body = json!({
        "@odata.context": context(&shared, "Collection(message)"),
        "value": value,
    });
    body[link_name] = json!(link);
    let extra: Vec<(&'static str, String)> = if applied.is_empty() {
        Vec::new()
    } else {
        vec![("Preference-Applied", applied.join(", "))]
    };
    respond(StatusCode::OK, &body, &extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_mailbox() {
        let c = Cursor {
            phase: Phase::Changes,
            world: 1_800_000_000_000,
            folder: 3,
            select: 0b1011,
            types: CREATED | DELETED,
            min_date: i64::MIN,
            since: 80_017,
            upto: 80_100,
            pos: 42,
        };
        let t = c.encode("a@example.com");
        assert!(t
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)));
        assert_eq!(Cursor::decode(&t, "A@example.com"), Some(c));
        assert_eq!(Cursor::decode(&t, "b@example.com"), None);
        assert_eq!(Cursor::decode("garbage", "a@example.com"), None);
        let mut tampered = t.clone().into_bytes();
        tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap_or_default();
        assert_eq!(Cursor::decode(&tampered, "a@example.com"), None);
    }
}
