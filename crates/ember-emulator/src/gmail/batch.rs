//! Google's batch endpoint: a `multipart/mixed` body of up to 100
//! `application/http` requests, answered by a `multipart/mixed` body of
//! responses in the same order, each tagged `response-{Content-ID}`.
//!
//! Each inner request is dispatched through the same routes (and so the same
//! quota, faults and statistics) as if it had been sent on its own, which is
//! how Google counts them.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt as _;

use super::bad_request;
use crate::state::Shared;

/// The most requests one batch may carry.
pub const MAX_PARTS: usize = 100;

/// Tells batches where to dispatch their inner requests: the finished router.
pub fn dispatch_router(shared: &Shared, router: Router) {
    shared.set_dispatch(Some(router));
}

struct InnerRequest {
    content_id: Option<String>,
    method: Method,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn boundary_of(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct.to_ascii_lowercase().starts_with("multipart/mixed") {
        return None;
    }
    ct.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn split_head(bytes: &[u8]) -> (&[u8], &[u8]) {
    if let Some(p) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        (&bytes[..p], &bytes[p + 4..])
    } else if let Some(p) = bytes.windows(2).position(|w| w == b"\n\n") {
        (&bytes[..p], &bytes[p + 2..])
    } else {
        (bytes, &[])
    }
}

fn parse_parts(body: &[u8], boundary: &str) -> Result<Vec<InnerRequest>, String> {
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text;
    // Skip the preamble.
    let Some(first) = find(rest, delimiter.as_bytes()) else {
        return Err("no parts in the batch body".into());
    };
    rest = &rest[first + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        let end = find(rest, delimiter.as_bytes()).ok_or("unterminated batch part")?;
        let part = trim_crlf(&rest[..end]);
        parts.push(parse_part(part)?);
        rest = &rest[end + delimiter.len()..];
        if parts.len() > MAX_PARTS {
            return Err(format!("A batch may hold at most {MAX_PARTS} requests"));
        }
    }
    Ok(parts)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_crlf(b: &[u8]) -> &[u8] {
    let b = b
        .strip_prefix(b"\r\n")
        .or_else(|| b.strip_prefix(b"\n"))
        .unwrap_or(b);
    b.strip_suffix(b"\r\n")
        .or_else(|| b.strip_suffix(b"\n"))
        .unwrap_or(b)
}

fn parse_part(part: &[u8]) -> Result<InnerRequest, String> {
    let (mime_head, http) = split_head(part);
    let mime_head = String::from_utf8_lossy(mime_head);
    let content_id = mime_head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-id")
            .then(|| v.trim().trim_matches(['<', '>']).to_owned())
    });
    let (head, body) = split_head(http);
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let request_line = lines.next().ok_or("empty inner request")?;
    let mut words = request_line.split_whitespace();
    let method = words
        .next()
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or("bad inner request line")?;
    let target = words.next().ok_or("inner request has no path")?.to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(InnerRequest {
        content_id,
        method,
        target,
        headers,
        body: body.to_vec(),
    })
}

/// `POST /batch/gmail/v1`.
pub async fn batch(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let outer_headers = request.headers().clone();
    let Some(boundary) = boundary_of(&outer_headers) else {
        return bad_request("Batch requests must be multipart/mixed with a boundary");
    };
    let Ok(body) = axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024).await else {
        return bad_request("Batch body too large");
    };
    let parts = match parse_parts(&body, &boundary) {
        Ok(p) if p.is_empty() => return bad_request("Empty batch"),
        Ok(p) => p,
        Err(e) => return bad_request(&e),
    };
    let Some(router) = shared.dispatch() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let auth = outer_headers.get(header::AUTHORIZATION).cloned();
    let mut out = Vec::new();
    let response_boundary = format!(
        "batch_{}",
        &boundary
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(24)
            .collect::<String>()
    );
    for (n, inner) in parts.into_iter().enumerate() {
        let path = inner
            .target
            .strip_prefix("https://gmail.googleapis.com")
            .or_else(|| inner.target.strip_prefix("https://www.googleapis.com"))
            .unwrap_or(&inner.target)
            .to_owned();
        let mut builder = Request::builder().method(inner.method.clone()).uri(path);
        let mut has_auth = false;
        for (k, v) in &inner.headers {
            has_auth |= k.eq_ignore_ascii_case("authorization");
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let (false, Some(a)) = (has_auth, &auth) {
            builder = builder.header(header::AUTHORIZATION, a.clone());
        }
        let response = match builder.body(Body::from(inner.body)) {
            Ok(req) => match router.clone().oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            },
            Err(_) => bad_request("Malformed inner request"),
        };
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/json; charset=UTF-8"));
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
            .await
            .unwrap_or_else(|_| Bytes::new());
        let id = inner.content_id.unwrap_or_else(|| format!("item{}", n + 1));
        out.extend_from_slice(format!("--{response_boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{id}>\r\n\r\n").as_bytes());
        out.extend_from_slice(
            format!(
                "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                content_type.to_str().unwrap_or("application/json"),
                bytes.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{response_boundary}--\r\n").as_bytes());
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            format!("multipart/mixed; boundary={response_boundary}"),
        )],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_body_splits_into_its_requests() {
        let body = b"--XYZ\r\nContent-Type: application/http\r\nContent-ID: <a1>\r\n\r\n\
GET /gmail/v1/users/me/messages/1?format=raw HTTP/1.1\r\n\r\n\r\n\
--XYZ\r\nContent-Type: application/http\r\nContent-ID: <a2>\r\n\r\n\
POST /gmail/v1/users/me/messages/2/modify HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"addLabelIds\":[\"STARRED\"]}\r\n\
--XYZ--\r\n";
        let parts = parse_parts(body, "XYZ").unwrap_or_default();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].content_id.as_deref(), Some("a1"));
        assert_eq!(parts[0].target, "/gmail/v1/users/me/messages/1?format=raw");
        assert_eq!(parts[1].method, Method::POST);
        assert_eq!(parts[1].body, b"{\"addLabelIds\":[\"STARRED\"]}");
    }

    #[test]
    fn more_than_a_hundred_requests_are_refused() {
        let mut body = Vec::new();
        for i in 0..101 {
            body.extend_from_slice(
                format!(
                    "--B\r\nContent-Type: application/http\r\n\r\nGET /x/{i} HTTP/1.1\r\n\r\n\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(b"--B--\r\n");
        assert!(parse_parts(&body, "B").is_err());
    }
}
