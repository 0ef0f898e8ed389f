//! Microsoft Graph v1.0 mail, under its real paths (`/v1.0/me/...` and
//! `/v1.0/users/{id|address}/...`): the signed-in user, mail folders
//! (well-known and the user's, nested; list, get, create, rename, move,
//! delete), the message resource (get, `$value`, list, PATCH, move, DELETE,
//! permanentDelete), `sendMail`, drafts (create, createReply, createReplyAll,
//! createForward, attachments, send), per-folder message delta queries, and
//! JSON `$batch`.
//!
//! Shapes follow the CSDL and the recorded responses: OData JSON with
//! `@odata.context`, `@odata.etag`, `@odata.nextLink` / `@odata.deltaLink`,
//! DateTimes as `2026-05-04T09:23:10Z`, and Graph's error body. Handlers
//! take the world's lock only to read or change records; composing and
//! parsing message bytes happens after it is released.

mod batch;
mod delta;
pub(crate) mod folders;
mod messages;
pub(crate) mod resource;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, MethodRouter};
use axum::Router;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::http::{emulated, graph_error, Caller, Endpoint};
use super::mailbox::Mailbox;
use super::state::Shared;
use super::world::{MailProvider, World};

/// The Content-Type of every Graph JSON answer.
pub const ODATA_JSON: &str = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8";

/// The Graph routes.
pub fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let e = |name: &'static str, route: MethodRouter<Arc<Shared>>| {
        emulated(shared, Endpoint::graph(name), route)
    };
    // Messages are written here: read bodies past Graph's 4 MB limit, so
    // that the answer beyond it is Graph's own.
    let big =
        |route: MethodRouter<Arc<Shared>>| route.layer(DefaultBodyLimit::max(messages::BODY_LIMIT));
    let mut router = Router::new();
    for p in ["/v1.0/me", "/v1.0/users/{user}"] {
        router = router
            .route(p, e("graph.me", get(folders::me)))
            .route(
                &format!("{p}/mailFolders"),
                e("graph.folders", get(folders::list).post(folders::create)),
            )
            .route(
                &format!("{p}/mailFolders/{{folder}}"),
                e(
                    "graph.folders",
                    get(folders::get_folder)
                        .patch(folders::update)
                        .delete(folders::delete),
                ),
            )
            .route(
                &format!("{p}/mailFolders/{{folder}}/move"),
                e("graph.folders", post(folders::move_folder)),
            )
            .route(
                &format!("{p}/mailFolders/{{folder}}/permanentDelete"),
                e("graph.folders", post(folders::permanent_delete)),
            )
            .route(
                &format!("{p}/mailFolders/{{folder}}/childFolders"),
                e(
                    "graph.folders",
                    get(folders::child_folders).post(folders::create),
                ),
            )
            .route(
                &format!("{p}/{{key}}/childFolders"),
                e(
                    "graph.folders",
                    get(folders::child_folders).post(folders::create),
                ),
            )
            .route(
                &format!("{p}/mailFolders/{{folder}}/messages"),
                e("graph.message", get(messages::list)),
            )
            .route(
                &format!("{p}/{{key}}/messages"),
                e("graph.message", get(messages::list)),
            )
            .route(
                &format!("{p}/mailFolders/{{folder}}/messages/delta"),
                e("graph.delta", get(delta::delta)),
            )
            .route(
                &format!("{p}/{{key}}/messages/delta"),
                e("graph.delta", get(delta::delta)),
            )
            .route(
                &format!("{p}/messages"),
                big(e("graph.message", get(messages::list))
                    .merge(e("graph.drafts", post(messages::create_draft)))),
            )
            .route(
                &format!("{p}/messages/{{id}}"),
                big(e(
                    "graph.message",
                    get(messages::get_message)
                        .patch(messages::patch)
                        .delete(messages::delete),
                )),
            )
            .route(
                &format!("{p}/messages/{{id}}/createReply"),
                big(e("graph.drafts", post(messages::create_reply))),
            )
            .route(
                &format!("{p}/messages/{{id}}/createReplyAll"),
                big(e("graph.drafts", post(messages::create_reply_all))),
            )
            .route(
                &format!("{p}/messages/{{id}}/createForward"),
                big(e("graph.drafts", post(messages::create_forward))),
            )
            .route(
                &format!("{p}/messages/{{id}}/attachments"),
                big(e("graph.message", get(messages::list_attachments))
                    .merge(e("graph.drafts", post(messages::add_attachment)))),
            )
            .route(
                &format!("{p}/messages/{{id}}/attachments/{{attachment}}"),
                e("graph.message", delete(messages::delete_attachment)),
            )
            .route(
                &format!("{p}/messages/{{id}}/send"),
                e("graph.drafts.send", post(messages::send_draft)),
            )
            .route(
                &format!("{p}/messages/{{id}}/$value"),
                e("graph.message", get(messages::value)),
            )
            .route(
                &format!("{p}/messages/{{id}}/%24value"),
                e("graph.message", get(messages::value)),
            )
            .route(
                &format!("{p}/messages/{{id}}/move"),
                e("graph.message", post(messages::move_message)),
            )
            .route(
                &format!("{p}/messages/{{id}}/permanentDelete"),
                e("graph.message", post(messages::delete)),
            )
            .route(
                &format!("{p}/sendMail"),
                big(e("graph.send", post(messages::send_mail))),
            );
    }
    router
        .route("/v1.0/$batch", e("graph.batch", post(batch::batch)))
        .route("/v1.0/%24batch", e("graph.batch", post(batch::batch)))
        .route("/v1.0/{*rest}", e("graph.other", any(unknown_segment)))
        .layer(middleware::from_fn(request_ids))
}

/// Every Graph answer carries a `request-id`, and echoes the client's
/// `client-request-id` (or repeats the request id when none was sent).
async fn request_ids(request: Request, next: Next) -> Response {
    let client = request.headers().get("client-request-id").cloned();
    let mut response = next.run(request).await;
    let id = HeaderValue::from_str(&new_guid()).unwrap_or(HeaderValue::from_static(
        "00000000-0000-0000-0000-000000000000",
    ));
    let h = response.headers_mut();
    h.insert("client-request-id", client.unwrap_or_else(|| id.clone()));
    h.insert("request-id", id);
    response
}

/// Graph's answer to a path it does not serve.
async fn unknown_segment(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let segment = path
        .trim_start_matches("/v1.0/")
        .split('/')
        .next_back()
        .unwrap_or_default()
        .to_owned();
    bad_request(
        "BadRequest",
        &format!("Resource not found for the segment '{segment}'."),
    )
}

/// Path parameters by name; empty for routes without any.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let map = match RawPathParams::from_request_parts(parts, state).await {
            Ok(raw) => raw
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            Err(_) => HashMap::new(),
        };
        Ok(Self(map))
    }
}

/// Who a request is for, once the `users/{id}` segment (if any) is checked.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `/v1.0/me` or `/v1.0/users/{user}`, as the client wrote it.
    pub prefix: String,
    /// The mailbox address.
    pub address: String,
}

impl Target {
    /// Checks that `params`' user (if any) is the caller.
    pub fn of(caller: &Caller, params: &Params) -> Result<Self, Response> {
        let address = caller.address().to_owned();
        match params.get("user") {
            None => Ok(Self {
                prefix: "/v1.0/me".into(),
                address,
            }),
            Some(user)
                if user.eq_ignore_ascii_case(&address)
                    || user.eq_ignore_ascii_case(&user_id(&address)) =>
            {
                Ok(Self {
                    prefix: format!("/v1.0/users/{user}"),
                    address,
                })
            }
            Some(_) => Err(graph_error(
                StatusCode::FORBIDDEN,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            )),
        }
    }

    /// `users('alex%40contoso.example')`, as `@odata.context` names the user.
    pub fn context_user(&self) -> String {
        format!("users('{}')", self.address.replace('@', "%40"))
    }
}

/// The caller's Graph mailbox.
pub(crate) fn mailbox_mut<'w>(
    world: &'w mut World,
    address: &str,
) -> Result<&'w mut Mailbox, Response> {
    world
        .mailbox_mut(MailProvider::Graph, Some(address))
        .ok_or_else(|| {
            graph_error(
                StatusCode::NOT_FOUND,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            )
        })
}

/// `{base}/v1.0/$metadata#{tail}`.
pub(crate) fn context(shared: &Shared, tail: &str) -> String {
    format!("{}/v1.0/$metadata#{tail}", shared.base_url)
}

/// A Graph JSON answer.
pub(crate) fn respond(
    status: StatusCode,
    body: &Value,
    extra: &[(&'static str, String)],
) -> Response {
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ODATA_JSON));
    h.insert("OData-Version", HeaderValue::from_static("4.0"));
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(*name, v);
        }
    }
    r
}

/// 400 with `code`.
pub(crate) fn bad_request(code: &str, message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, code, message)
}

/// 404 for an item that is not (or no longer) in the store.
pub(crate) fn item_not_found() -> Response {
    graph_error(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

/// 400 for an id that cannot be one Exchange issued.
pub(crate) fn id_malformed() -> Response {
    bad_request("ErrorInvalidIdMalformed", "Id is malformed.")
}

/// Whether `id` is shaped like an Exchange id (base64 of a long binary
/// entry id), so that an unknown one is "not found" rather than "malformed".
pub(crate) fn looks_like_id(id: &str) -> bool {
    id.len() >= 20
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='))
}

/// Every `(key, value)` of a raw query string, decoded, in order.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `key` (OData system options match with or without `$`).
pub(crate) fn query_first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// The value of the `Prefer` preference `name` (`odata.maxpagesize`,
/// `outlook.body-content-type`, `IdType`), unquoted.
pub(crate) fn prefer(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
}

/// How the client asked for message bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyPref {
    /// As stored: HTML when the message has an HTML part.
    Native,
    /// `Prefer: outlook.body-content-type="text"`.
    Text,
    /// `Prefer: outlook.body-content-type="html"`.
    Html,
}

impl BodyPref {
    /// Reads the preference, with the `Preference-Applied` value it earns.
    pub fn of(headers: &HeaderMap) -> (Self, Option<String>) {
        match prefer(headers, "outlook.body-content-type")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            Some("text") => (
                Self::Text,
                Some("outlook.body-content-type=\"text\"".into()),
            ),
            Some("html") => (
                Self::Html,
                Some("outlook.body-content-type=\"html\"".into()),
            ),
            _ => (Self::Native, None),
        }
    }
}

/// SHA-256 of the concatenated parts.
pub(crate) fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

fn guid(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The user's object id: a GUID, stable for the address.
pub(crate) fn user_id(address: &str) -> String {
    guid(&digest(&[
        b"graph-user",
        address.to_ascii_lowercase().as_bytes(),
    ]))
}

/// A fresh GUID for request ids.
fn new_guid() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    guid(&digest(&[&n.to_le_bytes(), &t.to_le_bytes()]))
}

/// `2026-05-04T09:23:10Z`.
pub(crate) fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Parses an OData DateTimeOffset literal (`2026-04-04T13:50:17.103Z`).
pub(crate) fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim().trim_matches('\'');
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(d.timestamp_millis());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(text, f) {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

/// Standard base64, as Edm.Binary values are written.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Percent-encodes a query parameter value.
pub(crate) fn encode_query(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
