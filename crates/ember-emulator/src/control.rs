//! The control API under `/_emulator/`: what tests and demo set-up use to
//! reset the world, inject mail, change state behind a client's back, expire
//! cursors, revoke credentials, change faults, and read back the truth, the
//! statistics and the request log. Bodies are JSON; `provider` is `gmail`,
//! `graph` or `ado`; `address` picks an account where a provider has several.
//! Azure DevOps' own parts (work item changes, personal access tokens) are
//! in [`ado`].
//!
//! Every control route wants the run's secret in [`TOKEN_HEADER`]: without
//! it the answer is 401 and nothing changes. A web page cannot send that
//! header to 127.0.0.1 without a CORS preflight the emulator never grants,
//! and another local user cannot read the secret.

mod ado;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::faults::FaultSpec;
use super::gmail::payload::b64_decode_lenient;
use super::graph::folders::tree;
use super::mailbox::{Mailbox, Message, Source};
use super::state::Shared;
use super::world::{MailProvider, World, WorldConfig, GRAPH_FOLDERS};

/// The largest `/_emulator/mail` body: a 40 MB message in base64, in JSON.
pub const MAIL_BODY_LIMIT: usize = 40 * 1024 * 1024 * 4 / 3 + 64 * 1024;

/// The header that carries the run's control secret.
pub const TOKEN_HEADER: &str = "x-emulator-token";

/// A fresh control secret: 128 bits from the OS, in hex.
pub fn new_token() -> std::io::Result<String> {
    use rand::TryRngCore as _;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `given` is `expected`, in time that does not depend on where
/// they first differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Refuses a control request without the run's secret.
async fn require_token(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(TOKEN_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if same_secret(given, shared.control_token.as_bytes()) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({
            "error": format!("the emulator's control routes need this run's secret in the {TOKEN_HEADER} header")
        })),
    )
        .into_response()
}

/// The control routes, each behind [`require_token`].
pub fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/reset", post(reset))
        .route(
            "/_emulator/mail",
            post(mail).layer(DefaultBodyLimit::max(MAIL_BODY_LIMIT)),
        )
        .route("/_emulator/mutate", post(mutate))
        .route("/_emulator/expire", post(expire))
        .route("/_emulator/expire_tokens", post(expire_tokens))
        .route("/_emulator/revoke", post(revoke))
        .route("/_emulator/token", post(token))
        .route("/_emulator/pat", post(ado::pat))
        .route("/_emulator/faults", post(faults))
        .route("/_emulator/truth", get(truth))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/log", get(log))
        .route("/_emulator/accounts", get(accounts))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            require_token,
        ))
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

fn parse<T: for<'de> Deserialize<'de>>(body: &str) -> Result<T, Response> {
    serde_json::from_str(body).map_err(|e| bad(format!("bad request body: {e}")))
}

/// `{"provider","address"?}`.
#[derive(Debug, Deserialize)]
struct Target {
    provider: String,
    address: Option<String>,
}

fn mail_provider(name: &str) -> Result<MailProvider, Response> {
    match name {
        "gmail" => Ok(MailProvider::Gmail),
        "graph" => Ok(MailProvider::Graph),
        other => Err(bad(format!(
            "provider must be gmail or graph, not {other:?}"
        ))),
    }
}

fn account_key(world: &World, target: &Target) -> Result<String, Response> {
    match target.provider.as_str() {
        "ado" => Ok(format!("ado:{}", world.ado.name)),
        p => {
            let provider = mail_provider(p)?;
            let mb = world
                .mailbox(provider, target.address.as_deref())
                .ok_or_else(|| bad("no such account"))?;
            Ok(format!("{p}:{}", mb.address))
        }
    }
}

/// `POST /_emulator/reset {"seed","messages","work_items"}`.
#[derive(Debug, Deserialize)]
struct ResetBody {
    seed: Option<u64>,
    messages: Option<usize>,
    work_items: Option<usize>,
}

async fn reset(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: ResetBody = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let current = shared.world().config;
    let config = WorldConfig {
        seed: req.seed.unwrap_or(current.seed),
        messages: req.messages.unwrap_or(current.messages),
        work_items: req.work_items.unwrap_or(current.work_items),
    };
    if !(10..=super::world::MAX_MESSAGES).contains(&config.messages) {
        return bad("messages must be between 10 and 1000000");
    }
    // Building a large world is seconds of CPU: keep it off the async workers.
    #[allow(
        clippy::disallowed_methods,
        reason = "CPU-bound world generation in the emulator only"
    )]
    let built = tokio::task::spawn_blocking(move || {
        World::build(config, chrono::Utc::now().timestamp_millis())
    })
    .await;
    match built {
        Ok(world) => {
            shared.replace_world(world);
            Json(json!({"seed": config.seed, "messages": config.messages, "work_items": config.work_items})).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

/// `POST /_emulator/mail {"provider","address"?,"folder","raw_base64"}`.
#[derive(Debug, Deserialize)]
struct MailBody {
    provider: String,
    address: Option<String>,
    folder: String,
    raw_base64: String,
}

/// The bit of a Gmail label by id, or of a Graph folder by well-known
/// name, id, path (`Inbox/Projects/Ember`) or unique display name.
fn folder_bits(mb: &Mailbox, provider: MailProvider, folder: &str) -> Option<u64> {
    match provider {
        MailProvider::Gmail => mb.label_bit(folder),
        MailProvider::Graph => tree::find(mb, folder).map(|i| 1u64 << i),
    }
}

async fn mail(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: MailBody = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let provider = match mail_provider(&req.provider) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Some(raw) = b64_decode_lenient(&req.raw_base64) else {
        return bad("raw_base64 is not base64");
    };
    let now = chrono::Utc::now().timestamp_millis();
    let mut world = shared.world();
    let id = world.new_message_id(provider, now);
    let Some(mb) = world.mailbox_mut(provider, req.address.as_deref()) else {
        return bad("no such account");
    };
    let Some(folder) = folder_bits(mb, provider, &req.folder) else {
        return bad(format!("no folder or label {:?}", req.folder));
    };
    let unread = mb.label_bit("UNREAD").unwrap_or(0);
    let category = match provider {
        MailProvider::Gmail => mb.label_bit("CATEGORY_PERSONAL").unwrap_or(0),
        MailProvider::Graph => mb.label_bit("FOCUSED").unwrap_or(0),
    };
    let index = mb.deliver(Message {
        thread_id: id.clone(),
        id,
        labels: folder | unread | category,
        date_ms: now,
        source: Source::Raw(raw.into()),
        deleted: false,
        changed: 0,
    });
    Json(json!({"id": mb.messages[index].id, "threadId": mb.messages[index].thread_id}))
        .into_response()
}

/// `POST /_emulator/mutate`.
#[derive(Debug, Deserialize)]
struct MutateBody {
    provider: String,
    address: Option<String>,
    #[serde(default)]
    delete: Vec<String>,
    #[serde(default)]
    mark_read: Vec<String>,
    #[serde(default)]
    mark_unread: Vec<String>,
    #[serde(default, rename = "move")]
    moves: Vec<MoveTo>,
    #[serde(default)]
    work_items: Vec<ado::ItemChange>,
    #[serde(default)]
    add_work_items: Vec<ado::AddItem>,
}

#[derive(Debug, Deserialize)]
struct MoveTo {
    id: String,
    folder: String,
}

async fn mutate(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: MutateBody = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let mut world = shared.world();
    let mut missing = Vec::new();
    let mut changed = 0;
    if req.provider == "ado" {
        return ado::mutate(&mut world, &req.work_items, &req.add_work_items);
    }
    let provider = match mail_provider(&req.provider) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Some(mb) = world.mailbox_mut(provider, req.address.as_deref()) else {
        return bad("no such account");
    };
    let unread = mb.label_bit("UNREAD").unwrap_or(0);
    for id in &req.delete {
        match mb.find(id) {
            Some(i) => changed += u64::from(mb.delete(i)),
            None => missing.push(id.clone()),
        }
    }
    for (ids, add, remove) in [(&req.mark_read, 0, unread), (&req.mark_unread, unread, 0)] {
        for id in ids {
            match mb.find(id) {
                Some(i) => changed += u64::from(mb.relabel(i, add, remove)),
                None => missing.push(id.clone()),
            }
        }
    }
    for mv in &req.moves {
        let Some(bit) = folder_bits(mb, provider, &mv.folder) else {
            return bad(format!("no folder or label {:?}", mv.folder));
        };
        let Some(i) = mb.find(&mv.id) else {
            missing.push(mv.id.clone());
            continue;
        };
        // Graph: a message is in one folder. Gmail: moving out of the inbox.
        let remove = match provider {
            MailProvider::Graph => mb.folder_mask() & !bit,
            MailProvider::Gmail => {
                let inbox = mb.label_bit("INBOX").unwrap_or(0);
                if bit == inbox {
                    0
                } else {
                    inbox
                }
            }
        };
        changed += u64::from(mb.relabel(i, bit, remove));
    }
    Json(json!({"changed": changed, "missing": missing})).into_response()
}

async fn expire(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: Target = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let provider = match mail_provider(&req.provider) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut world = shared.world();
    match world.mailbox_mut(provider, req.address.as_deref()) {
        Some(mb) => {
            mb.expire();
            Json(json!({"floor": mb.floor.to_string()})).into_response()
        }
        None => bad("no such account"),
    }
}

async fn expire_tokens(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: Target = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let key = match account_key(&shared.world(), &req) {
        Ok(k) => k,
        Err(e) => return e,
    };
    shared.credentials().expire_access(&key);
    Json(json!({"expired": key})).into_response()
}

async fn revoke(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: Target = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let key = match account_key(&shared.world(), &req) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let mut creds = shared.credentials();
    creds.revoke_account(&key);
    if req.provider == "ado" {
        // The personal access token stops working: 203 and the sign-in page.
        creds.revoke_pat();
    }
    Json(json!({"revoked": key})).into_response()
}

async fn token(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: Target = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if req.provider == "ado" {
        return bad("Azure DevOps uses the personal access token from /_emulator/accounts or /_emulator/pat");
    }
    let key = match account_key(&shared.world(), &req) {
        Ok(k) => k,
        Err(e) => return e,
    };
    let token = shared.credentials().mint_access(&key);
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": super::oauth::ACCESS_TOKEN_LIFETIME.as_secs()})).into_response()
}

#[derive(Debug, Deserialize)]
struct FaultsBody {
    spec: String,
}

async fn faults(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: FaultsBody = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match FaultSpec::parse(&req.spec) {
        Ok(spec) => {
            let rules = spec.rules.len();
            shared.set_faults(spec);
            Json(json!({"rules": rules})).into_response()
        }
        Err(e) => bad(e.to_string()),
    }
}

async fn truth(State(shared): State<Arc<Shared>>) -> Response {
    let truth = shared.world().truth();
    Json(truth).into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.stats()).into_response()
}

async fn log(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"requests": shared.log()})).into_response()
}

async fn accounts(State(shared): State<Arc<Shared>>) -> Response {
    let world = shared.world();
    let creds = shared.credentials();
    let folders: Vec<_> = GRAPH_FOLDERS
        .iter()
        .map(|(wk, name)| json!({"wellKnownName": wk, "displayName": name}))
        .collect();
    Json(json!({
        "gmail": {
            "client_id": creds.google_client.0,
            "client_secret": creds.google_client.1,
            "auth_url": format!("{}/o/oauth2/v2/auth", shared.base_url),
            "token_url": format!("{}/token", shared.base_url),
            "api_base": shared.base_url,
            "accounts": world.gmail.iter().map(|m| m.address.clone()).collect::<Vec<_>>(),
        },
        "graph": {
            "client_id": creds.microsoft_client,
            "tenant": "common",
            "auth_url": format!("{}/common/oauth2/v2.0/authorize", shared.base_url),
            "token_url": format!("{}/common/oauth2/v2.0/token", shared.base_url),
            "api_base": format!("{}/v1.0", shared.base_url),
            "accounts": world.graph.iter().map(|m| m.address.clone()).collect::<Vec<_>>(),
            "folders": folders,
        },
        "ado": {
            "organization": world.ado.name,
            "pat": creds.ado.1,
            "api_base": shared.base_url,
            "projects": world.ado.projects.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        },
    }))
    .into_response()
}
