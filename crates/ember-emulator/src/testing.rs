//! Test support: an emulator started as the app starts it, and a minimal
//! HTTP/1.0 client over loopback (the crate has no HTTP client of its own),
//! so tests drive the real router, middleware and all.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::faults::FaultSpec;
use crate::world::WorldConfig;
use crate::{Emulator, EmulatorConfig};

/// An emulator with `work_items` items, seed 42, quotas on, no faults.
pub(crate) async fn start(work_items: usize) -> Emulator {
    Emulator::start(EmulatorConfig {
        world: WorldConfig {
            seed: 42,
            messages: 10,
            work_items,
        },
        faults: FaultSpec::default(),
        no_quota: false,
        port: 0,
    })
    .await
    .unwrap()
}

/// An emulator of seed 42 with 30 messages and quotas off (sending mail
/// costs Gmail 100 units a call, more than tests should wait for).
pub(crate) async fn start_unthrottled() -> Emulator {
    Emulator::start(EmulatorConfig {
        world: WorldConfig {
            seed: 42,
            messages: 30,
            work_items: 5,
        },
        faults: FaultSpec::default(),
        no_quota: true,
        port: 0,
    })
    .await
    .unwrap()
}

/// An emulator of seed 42 with `messages` messages and quotas off, for
/// tests that need mail in every folder.
pub(crate) async fn start_with_messages(messages: usize) -> Emulator {
    Emulator::start(EmulatorConfig {
        world: WorldConfig {
            seed: 42,
            messages,
            work_items: 5,
        },
        faults: FaultSpec::default(),
        no_quota: true,
        port: 0,
    })
    .await
    .unwrap()
}

/// An answer: status, headers (names lower case) and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    /// The body as JSON (Null when it is not).
    pub json: Value,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request; `headers` are extra `Name: value` pairs.
pub(crate) async fn send(
    emu: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let stream = TcpStream::connect(emu.addr()).await.unwrap();
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Length: {}\r\n",
        emu.addr(),
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    write_all(&stream, request.as_bytes()).await;
    let raw = tokio::time::timeout(Duration::from_secs(60), read_to_end(&stream))
        .await
        .unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let text = rest.to_owned();
    Reply {
        status,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
        text,
    }
}

/// Writes all of `buf` (the crate's Tokio has no `io-util`).
async fn write_all(stream: &TcpStream, mut buf: &[u8]) {
    while !buf.is_empty() {
        stream.writable().await.unwrap();
        match stream.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            // The server answered early and closed: read what it said.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                return
            }
            Err(e) => panic!("write: {e}"),
        }
    }
}

/// Reads until the server closes the connection (HTTP/1.0).
async fn read_to_end(stream: &TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = vec![0_u8; 16 * 1024];
    loop {
        stream.readable().await.unwrap();
        match stream.try_read(&mut chunk) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            // A dropped connection (the reset fault) ends the answer.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// The `Authorization` value for a personal access token.
pub(crate) fn basic(pat: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{pat}"))
    )
}

/// The current personal access token.
pub(crate) async fn pat(emu: &Emulator) -> String {
    control_get(emu, "accounts").await["ado"]["pat"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// GET with the current PAT.
pub(crate) async fn ado_get(emu: &Emulator, path: &str) -> Reply {
    let auth = basic(&pat(emu).await);
    send(emu, "GET", path, &[("Authorization", &auth)], None).await
}

/// POST JSON with the current PAT.
pub(crate) async fn ado_post(emu: &Emulator, path: &str, body: &Value) -> Reply {
    let auth = basic(&pat(emu).await);
    send(
        emu,
        "POST",
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&body.to_string()),
    )
    .await
}

/// The ids of a WIQL query's answer.
pub(crate) fn ids(answer: &Value) -> Vec<u64> {
    answer["workItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["id"].as_u64())
        .collect()
}

/// POSTs to a control endpoint; the answer with its status.
pub(crate) async fn control(emu: &Emulator, path: &str, body: &Value) -> Reply {
    send(
        emu,
        "POST",
        &format!("/_emulator/{path}"),
        &[
            ("Content-Type", "application/json"),
            (crate::control::TOKEN_HEADER, emu.control_token()),
        ],
        Some(&body.to_string()),
    )
    .await
}

/// GETs a control endpoint's JSON.
pub(crate) async fn control_get(emu: &Emulator, path: &str) -> Value {
    send(
        emu,
        "GET",
        &format!("/_emulator/{path}"),
        &[(crate::control::TOKEN_HEADER, emu.control_token())],
        None,
    )
    .await
    .json
}

/// The truth's Azure DevOps account.
pub(crate) async fn ado_truth(emu: &Emulator) -> Value {
    control_get(emu, "truth").await["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["provider"] == "ado")
        .cloned()
        .unwrap_or_default()
}

/// An access token for the first account of `provider` (`gmail`, `graph`).
pub(crate) async fn token(emu: &Emulator, provider: &str) -> String {
    let r = control(emu, "token", &serde_json::json!({ "provider": provider })).await;
    format!(
        "Bearer {}",
        r.json["access_token"].as_str().unwrap_or_default()
    )
}

/// A request with a bearer token; `body` is sent as JSON when given.
pub(crate) async fn api(
    emu: &Emulator,
    method: &str,
    path: &str,
    bearer: &str,
    body: Option<&Value>,
) -> Reply {
    let text = body.map(Value::to_string);
    send(
        emu,
        method,
        path,
        &[
            ("Authorization", bearer),
            ("Content-Type", "application/json"),
        ],
        text.as_deref(),
    )
    .await
}

/// The truth's account of `provider` (`gmail`, `graph`), first one.
pub(crate) async fn mail_truth(emu: &Emulator, provider: &str) -> Value {
    control_get(emu, "truth").await["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["provider"] == provider)
        .cloned()
        .unwrap_or_default()
}
