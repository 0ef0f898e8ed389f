//! Gmail API v1 as Ember uses it, under its real paths
//! (`/gmail/v1/users/{userId}/...`): profile, labels, messages (list, get in
//! every format, modify, batchModify, trash, send), attachments, threads,
//! history, and the multipart batch endpoint. Shapes follow the discovery
//! document and recorded responses: 64-bit numbers as strings, base64url
//! with padding, empty fields left out.

mod batch;
mod drafts;
#[cfg(test)]
mod drafts_tests;
mod messages;
pub mod payload;
mod query;
#[cfg(test)]
mod query_tests;
pub mod send;
#[cfg(test)]
mod send_tests;
mod upload;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use serde_json::{json, Value};

use super::compose::{self, ComposeContext};
use super::http::{emulated, gmail_error, Caller, Endpoint};
use super::mailbox::{Mailbox, Message, Source};
use super::material::material;
use super::state::Shared;
use super::world::World;

pub use batch::dispatch_router;

/// Quota units per method, as Google documents them.
pub mod units {
    /// users.getProfile.
    pub const PROFILE: u32 = 1;
    /// labels.list / labels.get.
    pub const LABELS: u32 = 1;
    /// messages.list.
    pub const LIST: u32 = 5;
    /// messages.get and attachments.get.
    pub const GET: u32 = 5;
    /// messages.modify / trash / untrash.
    pub const MODIFY: u32 = 5;
    /// messages.batchModify.
    pub const BATCH_MODIFY: u32 = 50;
    /// messages.send and drafts.send.
    pub const SEND: u32 = 100;
    /// drafts.create.
    pub const DRAFT_CREATE: u32 = 10;
    /// drafts.update.
    pub const DRAFT_UPDATE: u32 = 15;
    /// drafts.list and drafts.get.
    pub const DRAFT_READ: u32 = 5;
    /// drafts.delete.
    pub const DRAFT_DELETE: u32 = 10;
    /// threads.get.
    pub const THREAD: u32 = 10;
    /// history.list.
    pub const HISTORY: u32 = 2;
}

/// The Gmail routes.
pub fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let e = |name, units, route| emulated(shared, Endpoint::gmail(name, units), route);
    // Whole messages are written here: read bodies up to Gmail's own limit.
    let big =
        |route: MethodRouter<Arc<Shared>>| route.layer(DefaultBodyLimit::max(send::BODY_LIMIT));
    Router::new()
        .route(
            "/gmail/v1/users/{user}/profile",
            e("gmail.profile", units::PROFILE, get(messages::profile)),
        )
        .route(
            "/gmail/v1/users/{user}/labels",
            e("gmail.labels.list", units::LABELS, get(messages::labels)),
        )
        .route(
            "/gmail/v1/users/{user}/labels/{id}",
            e("gmail.labels.get", units::LABELS, get(messages::label)),
        )
        .route(
            "/gmail/v1/users/{user}/messages",
            e("gmail.messages.list", units::LIST, get(messages::list)),
        )
        .route(
            "/gmail/v1/users/{user}/messages/batchModify",
            e(
                "gmail.messages.batchModify",
                units::BATCH_MODIFY,
                post(messages::batch_modify),
            ),
        )
        .route(
            "/gmail/v1/users/{user}/messages/send",
            big(e("gmail.messages.send", units::SEND, post(send::send))),
        )
        .route(
            "/upload/gmail/v1/users/{user}/messages/send",
            big(e(
                "gmail.messages.send",
                units::SEND,
                post(send::send_upload),
            )),
        )
        .route(
            "/gmail/v1/users/{user}/drafts",
            big(
                e("gmail.drafts", units::DRAFT_READ, get(drafts::list)).merge(e(
                    "gmail.drafts",
                    units::DRAFT_CREATE,
                    post(drafts::create),
                )),
            ),
        )
        .route(
            "/upload/gmail/v1/users/{user}/drafts",
            big(e(
                "gmail.drafts",
                units::DRAFT_CREATE,
                post(drafts::create_upload),
            )),
        )
        .route(
            "/gmail/v1/users/{user}/drafts/send",
            big(e("gmail.drafts.send", units::SEND, post(drafts::send))),
        )
        .route(
            "/upload/gmail/v1/users/{user}/drafts/send",
            big(e(
                "gmail.drafts.send",
                units::SEND,
                post(drafts::send_upload),
            )),
        )
        .route(
            "/gmail/v1/users/{user}/drafts/{id}",
            big(e("gmail.drafts", units::DRAFT_READ, get(drafts::get))
                .merge(e("gmail.drafts", units::DRAFT_UPDATE, put(drafts::update)))
                .merge(e(
                    "gmail.drafts",
                    units::DRAFT_DELETE,
                    delete(drafts::delete),
                ))),
        )
        .route(
            "/upload/gmail/v1/users/{user}/drafts/{id}",
            big(e(
                "gmail.drafts",
                units::DRAFT_UPDATE,
                put(drafts::update_upload),
            )),
        )
        .route(
            "/gmail/v1/users/{user}/messages/{id}",
            e("gmail.messages.get", units::GET, get(messages::get_message)),
        )
        .route(
            "/gmail/v1/users/{user}/messages/{id}/modify",
            e(
                "gmail.messages.modify",
                units::MODIFY,
                post(messages::modify),
            ),
        )
        .route(
            "/gmail/v1/users/{user}/messages/{id}/trash",
            e("gmail.messages.trash", units::MODIFY, post(messages::trash)),
        )
        .route(
            "/gmail/v1/users/{user}/messages/{id}/untrash",
            e(
                "gmail.messages.untrash",
                units::MODIFY,
                post(messages::untrash),
            ),
        )
        .route(
            "/gmail/v1/users/{user}/messages/{id}/attachments/{attachment}",
            e(
                "gmail.attachments.get",
                units::GET,
                get(messages::attachment),
            ),
        )
        .route(
            "/gmail/v1/users/{user}/threads/{id}",
            e("gmail.threads.get", units::THREAD, get(messages::thread)),
        )
        .route(
            "/gmail/v1/users/{user}/history",
            e("gmail.history.list", units::HISTORY, get(messages::history)),
        )
        .route("/batch/gmail/v1", e("gmail.batch", 0, post(batch::batch)))
        .route("/batch", e("gmail.batch", 0, post(batch::batch)))
}

/// The caller's mailbox, if `user` is `me` or the caller's own address.
fn mailbox_of<'w>(
    world: &'w mut World,
    caller: &Caller,
    user: &str,
) -> Result<&'w mut Mailbox, Response> {
    let address = caller.address();
    if user != "me" && !user.eq_ignore_ascii_case(address) {
        return Err(gmail_error(
            StatusCode::FORBIDDEN,
            &format!("Delegation denied for {address}"),
            "forbidden",
        ));
    }
    world
        .mailbox_mut(super::world::MailProvider::Gmail, Some(address))
        .ok_or_else(|| {
            gmail_error(
                StatusCode::NOT_FOUND,
                "Requested entity was not found.",
                "notFound",
            )
        })
}

fn not_found() -> Response {
    gmail_error(
        StatusCode::NOT_FOUND,
        "Requested entity was not found.",
        "notFound",
    )
}

fn bad_request(message: &str) -> Response {
    gmail_error(StatusCode::BAD_REQUEST, message, "invalidArgument")
}

/// A 400 about one query parameter, naming it as Google does.
fn bad_parameter(parameter: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": {
            "code": 400,
            "message": message,
            "errors": [{
                "message": message,
                "domain": "global",
                "reason": "badRequest",
                "location": parameter,
                "locationType": "parameter",
            }],
            "status": "INVALID_ARGUMENT",
        }})),
    )
        .into_response()
}

/// A message's raw bytes and snippet.
fn raw_and_snippet(message: &Message, ctx: ComposeContext<'_>) -> (Vec<u8>, String) {
    let raw = compose::raw(message, ctx);
    let snippet = match &message.source {
        Source::Sample { sample, .. } => material()
            .samples
            .get(*sample)
            .map(|s| payload::snippet(&s.body))
            .unwrap_or_default(),
        _ => payload::snippet(&payload::headers_and_snippet(&raw).1),
    };
    (raw, snippet)
}

/// The short form modify, trash and send answer with.
fn short_message(mailbox: &Mailbox, message: &Message) -> Value {
    json!({
        "id": message.id,
        "threadId": message.thread_id,
        "labelIds": mailbox.label_ids(message.labels),
    })
}

/// Replaces the `raw` field of a JSON message with broken MIME (the badmime fault).
pub fn break_raw_field(text: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return text.to_owned();
    };
    if let Some(raw) = value.get("raw").and_then(Value::as_str) {
        let decoded = payload::b64_decode_lenient(raw).unwrap_or_default();
        value["raw"] = json!(payload::b64url(&compose::corrupt(&decoded)));
    } else if value.get("payload").is_some() {
        value["payload"] = json!({"partId": "", "mimeType": "multipart/mixed", "filename": "", "headers": [{"name": "Content-Type", "value": "multipart/mixed; boundary=\"never-used\""}], "body": {"size": 0}, "parts": []});
    }
    value.to_string()
}
