//! Google's media upload forms, which Gmail takes wherever a whole message
//! is written (`/upload/gmail/v1/users/{user}/messages/send`, `.../drafts`,
//! `.../drafts/{id}`, `.../drafts/send`): `uploadType=media` (the body is the
//! `message/rfc822` bytes) and `uploadType=multipart` (a `multipart/related`
//! body: the JSON resource, then the message). Resumable sessions are not
//! emulated and are refused.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use serde_json::Value;

use super::{bad_parameter, bad_request, query};

/// What an upload carried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Upload {
    /// The JSON resource of a multipart upload (Null otherwise).
    pub metadata: Value,
    /// The message bytes.
    pub media: Vec<u8>,
}

fn boundary_of(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    ct.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of a multipart body: (headers, body) each.
fn parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<(String, &'a [u8])>> {
    let delimiter = format!("--{boundary}");
    let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
    let mut out = Vec::new();
    while !rest.starts_with(b"--") {
        let end = find(rest, format!("\n{delimiter}").as_bytes())?;
        let mut part = &rest[..end];
        part = part
            .strip_prefix(b"\r\n")
            .or_else(|| part.strip_prefix(b"\n"))
            .unwrap_or(part);
        part = part.strip_suffix(b"\r").unwrap_or(part);
        let (head, data) = match find(part, b"\r\n\r\n") {
            Some(p) => (&part[..p], &part[p + 4..]),
            None => match find(part, b"\n\n") {
                Some(p) => (&part[..p], &part[p + 2..]),
                None => (&part[..0], part),
            },
        };
        out.push((String::from_utf8_lossy(head).to_ascii_lowercase(), data));
        rest = &rest[end + 1 + delimiter.len()..];
    }
    Some(out)
}

/// Reads an upload request's body as its `uploadType` says.
pub fn parse(
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Upload, Response> {
    let pairs = query::pairs(raw_query);
    match query::first(&pairs, "uploadType").unwrap_or("media") {
        "media" => Ok(Upload {
            metadata: Value::Null,
            media: body.to_vec(),
        }),
        "multipart" => {
            let invalid = || {
                bad_request("Invalid multipart request: expected a JSON part and a message part")
            };
            let boundary = boundary_of(headers).ok_or_else(invalid)?;
            let parts = parts(body, &boundary).ok_or_else(invalid)?;
            let mut upload = Upload::default();
            for (head, data) in parts {
                if head.contains("application/json") && upload.metadata.is_null() {
                    upload.metadata = if data.iter().all(u8::is_ascii_whitespace) {
                        Value::Null
                    } else {
                        serde_json::from_slice(data).map_err(|e| {
                            bad_request(&format!("Invalid JSON payload received. {e}"))
                        })?
                    };
                } else {
                    upload.media = data.to_vec();
                }
            }
            if upload.media.is_empty() {
                return Err(invalid());
            }
            Ok(upload)
        }
        "resumable" => Err(bad_parameter(
            "uploadType",
            "Resumable uploads are not emulated: use uploadType=media or uploadType=multipart",
        )),
        other => Err(bad_parameter(
            "uploadType",
            &format!("Invalid value for uploadType: {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn multipart_related_bodies_give_the_resource_and_the_message() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/related; boundary=\"foo_bar\""),
        );
        let body = Bytes::from_static(
            b"--foo_bar\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"threadId\": \"t1\"}\r\n\
--foo_bar\r\nContent-Type: message/rfc822\r\n\r\nSubject: a\r\n\r\nbody\r\n--foo_bar--\r\n",
        );
        let up = parse(Some("uploadType=multipart"), &headers, &body).unwrap_or_default();
        assert_eq!(up.metadata["threadId"], "t1");
        assert_eq!(up.media, b"Subject: a\r\n\r\nbody");
        let media = parse(Some("uploadType=media"), &HeaderMap::new(), &body).unwrap_or_default();
        assert_eq!(media.media, body.to_vec());
        assert!(parse(Some("uploadType=resumable"), &headers, &body).is_err());
        assert!(parse(Some("uploadType=multipart"), &HeaderMap::new(), &body).is_err());
    }
}
