//! Changing a message: PATCH (read state, categories, flag, Focused/Other,
//! and on drafts their content: subject, body, recipients ...), DELETE and
//! `permanentDelete`, and `move`. Each honours `If-Match` against the
//! message's changeKey, as Exchange does.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{Map, Value};

use super::draft::check_request_size;
use super::drafts::{fields_of, is_draft};
use super::{body_read_error, entity, find, message_id, parse_object, SharedState};
use crate::graph::folders::{resolve, FolderRef};
use crate::graph::resource::{self, category_bit, category_mask, snap, Bits, Owner, Select};
use crate::graph::{bad_request, item_not_found, mailbox_mut, prefer, Params, Target};
use crate::http::{graph_error, Caller};
use crate::mailbox::{Mailbox, Message, Source};
use crate::world::MailProvider;

/// Checks `If-Match` (an etag or bare changeKey) against the message's
/// current changeKey: Exchange refuses stale updates with 412.
fn check_if_match(headers: &HeaderMap, mb: &Mailbox, index: usize) -> Result<(), Response> {
    let Some(given) = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    else {
        return Ok(());
    };
    if given == "*" {
        return Ok(());
    }
    let given = given.strip_prefix("W/").unwrap_or(given).trim_matches('"');
    if given == resource::change_key(&Owner::of(mb), &mb.messages[index]) {
        Ok(())
    } else {
        Err(graph_error(
            StatusCode::PRECONDITION_FAILED,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
        ))
    }
}

/// What a PATCH changes.
#[derive(Debug, Default)]
struct Update {
    is_read: Option<bool>,
    categories: Option<Vec<String>>,
    flag: Option<String>,
    focused: Option<bool>,
    /// Content properties, which only drafts take.
    draft: Map<String, Value>,
}

/// Properties that exist but only drafts may change.
const DRAFT_ONLY: &[&str] = &[
    "subject",
    "body",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "from",
    "sender",
    "importance",
    "internetMessageId",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "uniqueBody",
    "internetMessageHeaders",
];

fn parse_update(map: &Map<String, Value>) -> Result<Update, Response> {
    let mut u = Update::default();
    let wrong_type = |prop: &str, edm: &str| {
        body_read_error(&format!(
            "Cannot convert the literal for property '{prop}' to the expected type '{edm}'."
        ))
    };
    for (k, v) in map {
        match k.as_str() {
            "isRead" => u.is_read = Some(v.as_bool().ok_or_else(|| wrong_type(k, "Edm.Boolean"))?),
            "categories" => {
                let list = v
                    .as_array()
                    .ok_or_else(|| wrong_type(k, "Collection(Edm.String)"))?;
                let mut names: Vec<String> = Vec::new();
                for c in list {
                    let c = c
                        .as_str()
                        .ok_or_else(|| wrong_type(k, "Collection(Edm.String)"))?;
                    if !names.iter().any(|n| n.eq_ignore_ascii_case(c)) {
                        names.push(c.to_owned());
                    }
                }
                u.categories = Some(names);
            }
            "flag" => {
                let status = v
                    .get("flagStatus")
                    .and_then(Value::as_str)
                    .ok_or_else(|| wrong_type(k, "microsoft.graph.followupFlag"))?;
                match status {
                    "notFlagged" | "flagged" | "complete" => u.flag = Some(status.to_owned()),
                    other => {
                        return Err(body_read_error(&format!(
                            "The value '{other}' is not valid for followupFlagStatus."
                        )))
                    }
                }
            }
            "inferenceClassification" => {
                u.focused = match v.as_str() {
                    Some("focused") => Some(true),
                    Some("other") => Some(false),
                    _ => return Err(wrong_type(k, "microsoft.graph.inferenceClassificationType")),
                };
            }
            k if k.starts_with("@odata.") => {}
            k if DRAFT_ONLY.contains(&k) => {
                u.draft.insert(k.to_owned(), v.clone());
            }
            k => {
                return Err(body_read_error(&format!(
                    "The property '{k}' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type or mark the type as open type."
                )))
            }
        }
    }
    Ok(u)
}

fn apply_update(mb: &mut Mailbox, index: usize, u: &Update) -> Result<(), Response> {
    let bits = Bits::of(mb);
    let (mut add, mut remove) = (0u64, 0u64);
    match u.is_read {
        Some(true) => remove |= bits.unread,
        Some(false) => add |= bits.unread,
        None => {}
    }
    match u.focused {
        Some(true) => add |= bits.focused,
        Some(false) => remove |= bits.focused,
        None => {}
    }
    if let Some(flag) = &u.flag {
        let complete = if flag == "complete" {
            Bits::ensure_complete(mb).unwrap_or(0)
        } else {
            bits.complete
        };
        match flag.as_str() {
            "flagged" => {
                add |= bits.flagged;
                remove |= complete;
            }
            "complete" => {
                add |= complete;
                remove |= bits.flagged;
            }
            _ => remove |= bits.flagged | complete,
        }
    }
    if let Some(names) = &u.categories {
        let mut wanted = 0u64;
        for name in names {
            wanted |= category_bit(mb, name, true).ok_or_else(|| {
                bad_request("ErrorQuotaExceeded", "The mailbox has too many categories.")
            })?;
        }
        add |= wanted;
        remove |= category_mask(mb) & !wanted;
    }
    mb.relabel(index, add, remove & !add);
    Ok(())
}

/// `PATCH /me/messages/{id}`: isRead, categories, flag, inferenceClassification;
/// on drafts also subject, body, recipients, importance, `x-` headers.
pub(crate) async fn patch(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let update = match check_request_size(&body)
        .and_then(|()| parse_object(&body))
        .and_then(|m| parse_update(&m))
    {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (snap, owner) = {
        let mut world = shared.world();
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let i = match find(mb, &id).and_then(|i| check_if_match(&headers, mb, i).map(|()| i)) {
            Ok(i) => i,
            Err(r) => return r,
        };
        if let Some(k) = update.draft.keys().next() {
            if !is_draft(mb, i) {
                return bad_request(
                    "ErrorInvalidPropertyUpdateSentMessage",
                    &format!("Update operation is not allowed for property '{k}' on a sent or received message."),
                );
            }
            let mut fields = fields_of(&shared, mb, i);
            if let Err(r) = fields.apply(&update.draft) {
                return r;
            }
            let raw = fields.compose(&Owner::of(mb), mb.messages[i].date_ms);
            mb.replace_source(i, Source::Raw(raw.into()));
        }
        if let Err(r) = apply_update(mb, i, &update) {
            return r;
        }
        (snap(mb, i), Owner::of(mb))
    };
    entity(
        &shared,
        &target,
        &snap,
        &owner,
        Select::default(),
        &headers,
        StatusCode::OK,
    )
}

/// `DELETE /me/messages/{id}` and `POST /me/messages/{id}/permanentDelete`:
/// 204, and the message is gone from every folder (Exchange keeps it in the
/// hidden Recoverable Items, out of the API's reach).
pub(crate) async fn delete(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let mut world = shared.world();
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    match find(mb, &id).and_then(|i| check_if_match(&headers, mb, i).map(|()| i)) {
        Ok(i) => {
            mb.delete(i);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

/// `POST /me/messages/{id}/move {"destinationId"}`: 201 with the moved
/// message. The destination is any folder's id, well-known or the user's,
/// or a well-known name. As Exchange does, the moved message gets a new id,
/// unless the client asked for immutable ids (`Prefer: IdType="ImmutableId"`).
pub(crate) async fn move_message(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let destination = match parse_object(&body) {
        Ok(map) => match map.get("destinationId").and_then(Value::as_str) {
            Some(d) if !d.trim().is_empty() => d.trim().to_owned(),
            _ => {
                return bad_request(
                    "ErrorInvalidParameter",
                    "The value of the parameter 'DestinationId' is empty.",
                )
            }
        },
        Err(r) => return r,
    };
    let immutable =
        prefer(&headers, "IdType").is_some_and(|v| v.eq_ignore_ascii_case("ImmutableId"));
    let (snap, owner) = {
        let mut world = shared.world();
        let seed = world.config.seed;
        let (index, dest_bit, date_ms) = {
            let mb = match mailbox_mut(&mut world, &target.address) {
                Ok(mb) => mb,
                Err(r) => return r,
            };
            let i = match find(mb, &id).and_then(|i| check_if_match(&headers, mb, i).map(|()| i)) {
                Ok(i) => i,
                Err(r) => return r,
            };
            let dest = match resolve(mb, seed, &destination) {
                Ok(FolderRef::Folder(f)) => f,
                Ok(FolderRef::Root) => {
                    return bad_request(
                        "ErrorMoveCopyFailed",
                        "The item cannot be moved to the root folder.",
                    )
                }
                Err(r) => return r,
            };
            let bits = Bits::of(mb);
            if bits.folder(mb.messages[i].labels) == Some(dest) || immutable {
                mb.relabel(i, 1 << dest, bits.folders & !(1 << dest));
                (Some(i), 0, 0)
            } else {
                (None, 1u64 << dest, mb.messages[i].date_ms)
            }
        };
        let new_id = index
            .is_none()
            .then(|| world.new_message_id(MailProvider::Graph, date_ms));
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let index = match (index, new_id) {
            (Some(i), _) => i,
            (None, Some(new_id)) => {
                let Ok(i) = find(mb, &id) else {
                    return item_not_found();
                };
                let old = mb.messages[i].clone();
                let folders = mb.folder_mask();
                mb.delete(i);
                mb.deliver(Message {
                    id: new_id,
                    labels: (old.labels & !folders) | dest_bit,
                    deleted: false,
                    ..old
                })
            }
            (None, None) => return item_not_found(),
        };
        (snap(mb, index), Owner::of(mb))
    };
    entity(
        &shared,
        &target,
        &snap,
        &owner,
        Select::default(),
        &headers,
        StatusCode::CREATED,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn patch_bodies_are_checked_property_by_property() {
        let ok = json!({"isRead": true, "categories": ["A", "a", "B"], "flag": {"flagStatus": "flagged"}});
        let u = parse_update(ok.as_object().unwrap_or(&Map::new()));
        let u = u.unwrap_or_default();
        assert_eq!(u.categories, Some(vec!["A".into(), "B".into()]));
        let draft = json!({"subject": "x", "isRead": false});
        let u = parse_update(draft.as_object().unwrap_or(&Map::new())).unwrap_or_default();
        assert_eq!(
            u.draft.len(),
            1,
            "draft content is kept apart for the draft check"
        );
        assert_eq!(u.is_read, Some(false));
        for bad in [
            json!({"isRead": "yes"}),
            json!({"nope": 1}),
            json!({"flag": {"flagStatus": "red"}}),
        ] {
            assert!(
                parse_update(bad.as_object().unwrap_or(&Map::new())).is_err(),
                "{bad}"
            );
        }
    }
}
