//! Drafts in Microsoft Graph: `POST /me/messages` (a new draft in Drafts)
//! and `send`, which moves the draft out of Drafts into Sent Items (202, no
//! body); a draft sent once is gone, so sending it again answers 404. Also
//! what replies, forwards and attachments share with them: whether a
//! message is a draft, its properties read back, storing a new draft.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::draft::{check_request_size, size_exceeded, DraftFields, MAX_MESSAGE};
use super::send::{file_sent, no_recipients, now_ms};
use super::{body_read_error, entity, find, message_id, parse_object, SharedState};
use crate::graph::resource::{self, snap, Bits, Owner, Select, PROPS};
use crate::graph::{bad_request, mailbox_mut, Params, Target};
use crate::http::Caller;
use crate::mailbox::{Message, Source};
use crate::state::Shared;
use crate::world::{graph_folder_bit, MailProvider, World};

/// Whether message `index` of `mb` is a draft (in Drafts).
pub(super) fn is_draft(mb: &crate::mailbox::Mailbox, index: usize) -> bool {
    mb.messages[index].labels & graph_folder_bit("drafts") != 0
}

/// The properties of message `index`, read back from its bytes.
pub(super) fn fields_of(
    shared: &Shared,
    mb: &crate::mailbox::Mailbox,
    index: usize,
) -> DraftFields {
    match &mb.messages[index].source {
        Source::Raw(bytes) => DraftFields::from_raw(bytes),
        _ => DraftFields::from_raw(&resource::raw_of(
            &snap(mb, index),
            &Owner::of(mb),
            &shared.base_url,
        )),
    }
}

pub(super) fn not_a_draft(property: &str) -> Response {
    bad_request(
        "ErrorInvalidPropertyUpdateSentMessage",
        &format!("Update operation is not allowed for property '{property}' on a sent or received message."),
    )
}

/// Stores `fields` as a new draft (message `id`) in `address`'s Drafts, in
/// `thread` or a conversation of its own; returns its index.
pub(super) fn store(
    world: &mut World,
    address: &str,
    id: String,
    fields: &DraftFields,
    thread: Option<String>,
    now: i64,
) -> Result<usize, Response> {
    let mb = mailbox_mut(world, address)?;
    let owner = Owner::of(mb);
    let focused = Bits::of(mb).focused;
    Ok(mb.deliver(Message {
        thread_id: thread.unwrap_or_else(|| id.clone()),
        id,
        labels: graph_folder_bit("drafts") | focused,
        date_ms: now,
        source: Source::Raw(fields.compose(&owner, now).into()),
        deleted: false,
        changed: 0,
    }))
}

/// Answers 201 with the draft at `index`.
pub(super) fn created(
    shared: &Shared,
    target: &Target,
    headers: &HeaderMap,
    index: usize,
) -> Response {
    let (snap, owner) = {
        let mut world = shared.world();
        match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => (snap(mb, index), Owner::of(mb)),
            Err(r) => return r,
        }
    };
    entity(
        shared,
        target,
        &snap,
        &owner,
        Select::default(),
        headers,
        StatusCode::CREATED,
    )
}

/// `POST /me/messages`: 201 with the new draft.
pub(crate) async fn create(
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
    let map = match check_request_size(&body).and_then(|()| parse_object(&body)) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Some(k) = map
        .keys()
        .find(|k| !k.starts_with("@odata.") && *k != "attachments" && !PROPS.contains(&k.as_str()))
    {
        return body_read_error(&format!(
            "The property '{k}' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type or mark the type as open type."
        ));
    }
    let now = now_ms();
    let index = {
        let mut world = shared.world();
        let id = world.new_message_id(MailProvider::Graph, now);
        let owner = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => Owner::of(mb),
            Err(r) => return r,
        };
        let mut fields = DraftFields::new(&owner, now, &id);
        if let Err(r) = fields.apply(&map) {
            return r;
        }
        match store(&mut world, &target.address, id, &fields, None, now) {
            Ok(i) => i,
            Err(r) => return r,
        }
    };
    created(&shared, &target, &headers, index)
}

/// `POST /me/messages/{id}/send`: 202 with no body. The draft leaves Drafts
/// and is saved to Sent Items with its attachments; anything but a draft is
/// refused, and a draft already sent is not found.
pub(crate) async fn send(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(&params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let now = now_ms();
    let mut world = shared.world();
    let (raw, thread) = {
        let mb = match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb,
            Err(r) => return r,
        };
        let i = match find(mb, &id) {
            Ok(i) => i,
            Err(r) => return r,
        };
        if !is_draft(mb, i) {
            return bad_request(
                "ErrorInvalidOperation",
                "The send operation can only be performed on a draft message.",
            );
        }
        let owner = Owner::of(mb);
        let mut fields = fields_of(&shared, mb, i);
        if !fields.has_recipients() {
            return no_recipients();
        }
        if fields.from.is_none() {
            fields.from = Some((owner.name.clone(), owner.address.clone()));
        }
        let raw = fields.compose(&owner, now);
        if raw.len() > MAX_MESSAGE {
            return size_exceeded(
                StatusCode::BAD_REQUEST,
                "Cannot send an item larger than the mailbox's 35 MB limit.",
            );
        }
        let thread = mb.messages[i].thread_id.clone();
        mb.delete(i);
        (raw, thread)
    };
    match file_sent(&mut world, &target.address, raw, true, Some(thread), now) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(r) => r,
    }
}
