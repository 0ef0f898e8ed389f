//! JSON batching: `POST /v1.0/$batch` with up to 20 requests
//! `{"requests":[{id, method, url, headers?, body?, dependsOn?}]}`, answered
//! 200 `{"responses":[{id, status, headers, body}]}`.
//!
//! Each inner request goes through the finished router, and so through the
//! same authentication, quotas, faults and statistics as if it had been sent
//! on its own (Graph counts them one by one against the mailbox). Without
//! `dependsOn` the requests run concurrently, as Graph runs them, so slow
//! ones can trip the mailbox's concurrency limit; with it they run in order,
//! and a request whose dependency failed answers 424.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use tower::ServiceExt as _;

use super::bad_request;
use crate::state::Shared;

/// The most requests one batch may carry.
pub const MAX_REQUESTS: usize = 20;

/// Inner response headers worth passing on.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "retry-after",
    "location",
    "preference-applied",
    "odata-version",
];

/// One parsed inner request.
#[derive(Debug, Clone)]
struct Inner {
    id: String,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    depends_on: Vec<String>,
}

fn invalid(message: &str) -> Response {
    bad_request("BadRequest", message)
}

/// The router path of an inner request's url: relative to the version
/// (`/me/messages`, `me/messages`), or absolute.
fn inner_path(url: &str, base_url: &str) -> Option<String> {
    let mut u = url.trim();
    for host in ["https://graph.microsoft.com", base_url] {
        if let Some(rest) = u.strip_prefix(host) {
            u = rest;
        }
    }
    let u = u.trim_start_matches('/');
    let u = u.strip_prefix("v1.0/").unwrap_or(u);
    // No absolute urls to elsewhere, and no batch inside a batch.
    if u.is_empty() || u.contains("://") || u.starts_with("$batch") || u.starts_with("%24batch") {
        return None;
    }
    Some(format!("/v1.0/{}", u.replace(' ', "%20")))
}

fn parse_inner(v: &Value, base_url: &str) -> Result<Inner, Response> {
    let id = match v.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(invalid(
                "Invalid batch payload format: every request needs an id.",
            ))
        }
    };
    let method = v
        .get("method")
        .and_then(Value::as_str)
        .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
        .ok_or_else(|| {
            invalid(&format!(
                "Invalid batch payload format: request {id} has no valid method."
            ))
        })?;
    let path = v
        .get("url")
        .and_then(Value::as_str)
        .and_then(|u| inner_path(u, base_url))
        .ok_or_else(|| {
            invalid(&format!(
                "Invalid batch payload format: request {id} has no valid url."
            ))
        })?;
    let mut headers: Vec<(String, String)> = match v.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(h)) => h
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), value)
            })
            .collect(),
        Some(_) => {
            return Err(invalid(
                "Invalid batch payload format: headers must be an object.",
            ))
        }
    };
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_ascii_lowercase());
    let body = match v.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if content_type.as_deref().is_some_and(|c| !c.contains("json")) => {
            Some(s.clone().into_bytes())
        }
        Some(other) => {
            if content_type.is_none() {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(other.to_string().into_bytes())
        }
    };
    let depends_on = match v.get("dependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|d| match d {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(_) => {
            return Err(invalid(
                "Invalid batch payload format: dependsOn must be an array.",
            ))
        }
    };
    Ok(Inner {
        id,
        method,
        path,
        headers,
        body,
        depends_on,
    })
}

async fn run(router: Router, auth: Option<HeaderValue>, inner: Inner) -> Value {
    let mut builder = Request::builder()
        .method(inner.method.clone())
        .uri(inner.path.as_str());
    for (k, v) in &inner.headers {
        if !k.eq_ignore_ascii_case("authorization") {
            builder = builder.header(k.as_str(), v.as_str());
        }
    }
    if let Some(a) = auth {
        builder = builder.header(header::AUTHORIZATION, a);
    }
    let response = match builder.body(Body::from(inner.body.clone().unwrap_or_default())) {
        Ok(req) => match router.oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        },
        Err(_) => invalid("The request URL or headers are not valid."),
    };
    answer(&inner.id, response).await
}

async fn answer(id: &str, response: Response) -> Value {
    let status = response.status().as_u16();
    let mut headers = Map::new();
    headers.insert("Cache-Control".into(), json!("no-cache"));
    for (name, value) in response.headers() {
        if KEPT_HEADERS.contains(&name.as_str()) {
            let canonical = match name.as_str() {
                "content-type" => "Content-Type",
                "retry-after" => "Retry-After",
                "location" => "Location",
                "preference-applied" => "Preference-Applied",
                _ => "OData-Version",
            };
            headers.insert(canonical.into(), json!(value.to_str().unwrap_or_default()));
        }
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_else(|_| Bytes::new());
    let mut out = json!({"id": id, "status": status, "headers": headers});
    if !bytes.is_empty() {
        out["body"] = if is_json {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
        } else {
            // Graph base64-encodes bodies that are not JSON.
            json!(base64::engine::general_purpose::STANDARD.encode(&bytes))
        };
    }
    out
}

fn failed_dependency(id: &str) -> Value {
    json!({
        "id": id,
        "status": 424,
        "headers": {"Cache-Control": "no-cache", "Content-Type": "application/json"},
        "body": {"error": {
            "code": "FailedDependency",
            "message": "Dependent request failed or was not executed.",
        }},
    })
}

/// `POST /v1.0/$batch`.
pub async fn batch(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Invalid batch payload format.");
    };
    let Some(list) = map.get("requests").and_then(Value::as_array) else {
        return invalid("Invalid batch payload format.");
    };
    if list.is_empty() {
        return invalid("Invalid batch payload format: the batch has no requests.");
    }
    if list.len() > MAX_REQUESTS {
        return invalid(&format!(
            "Limit for number of requests in a batch is {MAX_REQUESTS}."
        ));
    }
    let mut requests = Vec::with_capacity(list.len());
    for v in list {
        match parse_inner(v, &shared.base_url) {
            Ok(r) => requests.push(r),
            Err(e) => return e,
        }
    }
    for (i, r) in requests.iter().enumerate() {
        if requests[..i].iter().any(|p| p.id == r.id) {
            return invalid(&format!("Batch request contains duplicate id '{}'.", r.id));
        }
        if let Some(d) = r
            .depends_on
            .iter()
            .find(|d| !requests[..i].iter().any(|p| &p.id == *d))
        {
            return invalid(&format!(
                "Request '{}' depends on '{d}', which is not an earlier request of the batch.",
                r.id
            ));
        }
    }
    let Some(router) = shared.dispatch() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let auth = headers.get(header::AUTHORIZATION).cloned();
    let responses: Vec<Value> = if requests.iter().all(|r| r.depends_on.is_empty()) {
        futures_util::future::join_all(
            requests
                .into_iter()
                .map(|r| run(router.clone(), auth.clone(), r)),
        )
        .await
    } else {
        let mut done: Vec<(String, u16)> = Vec::new();
        let mut out = Vec::new();
        for r in requests {
            let ok = r.depends_on.iter().all(|d| {
                done.iter()
                    .any(|(id, status)| id == d && (200..300).contains(status))
            });
            let answer = if ok {
                run(router.clone(), auth.clone(), r.clone()).await
            } else {
                failed_dependency(&r.id)
            };
            let status = answer["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(500);
            done.push((r.id, status));
            out.push(answer);
        }
        out
    };
    super::respond(StatusCode::OK, &json!({ "responses": responses }), &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_urls_are_made_router_paths() {
        let base = "http://127.0.0.1:9";
        assert_eq!(
            inner_path("/me/messages", base).as_deref(),
            Some("/v1.0/me/messages")
        );
        assert_eq!(inner_path("me", base).as_deref(), Some("/v1.0/me"));
        assert_eq!(
            inner_path(
                "https://graph.microsoft.com/v1.0/me/mailFolders?$top=2",
                base
            )
            .as_deref(),
            Some("/v1.0/me/mailFolders?$top=2")
        );
        assert_eq!(
            inner_path("/me/messages?$filter=isRead eq false", base).as_deref(),
            Some("/v1.0/me/messages?$filter=isRead%20eq%20false")
        );
        assert_eq!(inner_path("", base), None);
        assert_eq!(inner_path("/$batch", base), None);
    }
}
