//! The loopback redirect listener: one ephemeral port on 127.0.0.1 that
//! waits for the browser to come back with `?code=...&state=...`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::AuthError;
use crate::secret::Secret;

/// The largest request head we read from the browser.
const MAX_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// What the browser brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The authorization code (a [`Secret`]: never printed).
    pub code: Secret,
    /// The state we sent.
    pub state: String,
}

/// A bound listener and the redirect URI that reaches it.
pub struct Loopback {
    listener: TcpListener,
    /// `http://127.0.0.1:PORT/`.
    pub redirect_uri: String,
}

impl Loopback {
    /// Binds an ephemeral port on 127.0.0.1.
    pub async fn bind() -> Result<Self, AuthError> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}/"),
        })
    }

    /// Waits up to `limit` for the redirect that carries `state`,
    /// answering the browser with a page saying it may close. Anything else
    /// (a favicon, a stray or forged callback with another state, or none)
    /// is answered and ignored: only the provider's answer to this
    /// sign-in, approval or refusal, ends the wait.
    pub async fn wait(self, state: String, limit: Duration) -> Result<Redirect, AuthError> {
        tokio::time::timeout(limit, self.accept_loop(state))
            .await
            .map_err(|_| AuthError::Timeout)?
    }

    async fn accept_loop(self, state: String) -> Result<Redirect, AuthError> {
        loop {
            let (stream, _) = self.listener.accept().await?;
            // A browser opens spare connections and may leave them idle, or
            // drop them: a bad connection never ends the sign-in.
            match serve(stream, &state).await {
                Ok(Some(result)) => return result,
                Ok(None) | Err(_) => continue,
            }
        }
    }
}

/// Answers one connection; `Some` when it carried the answer to the
/// sign-in whose state is `state`.
async fn serve(
    mut stream: tokio::net::TcpStream,
    state: &str,
) -> std::io::Result<Option<Result<Redirect, AuthError>>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = tokio::time::timeout(CONNECTION_TIMEOUT, stream.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    // A callback of another sign-in (or a forgery) is not ours: ignored.
    let outcome = parse_request_line(&head).filter(|(got, _)| got.as_deref() == Some(state));
    let outcome = outcome.map(|(_, result)| result);
    let (status, page) = match &outcome {
        Some(Ok(_)) => (
            "200 OK",
            "Signed in to Fireside Ember. You can close this window.",
        ),
        Some(Err(_)) => (
            "400 Bad Request",
            "Sign-in was not completed. You can close this window and try again.",
        ),
        None => ("404 Not Found", "Not found."),
    };
    let body =
        format!("<!doctype html><meta charset=utf-8><title>Fireside Ember</title><p>{page}</p>");
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    let _ = stream.shutdown().await;
    Ok(outcome)
}

/// Reads `GET /?code=..&state=..` (or `?error=..&state=..`) from a
/// request head: the state it carries, and the code or the refusal; `None`
/// when the request carries neither.
fn parse_request_line(head: &[u8]) -> Option<(Option<String>, Result<Redirect, AuthError>)> {
    let text = String::from_utf8_lossy(head);
    let line = text.lines().next()?;
    let target = line.split_whitespace().nth(1)?;
    let query = target.split_once('?')?.1;
    let mut code = None;
    let mut state = None;
    let mut error = None;
    for (k, v) in url_pairs(query) {
        match k.as_str() {
            "code" => code = Some(v),
            "state" => state = Some(v),
            "error" => error = Some(v),
            _ => {}
        }
    }
    if let Some(e) = error {
        return Some((state, Err(AuthError::Denied(e))));
    }
    let redirect = Redirect {
        code: Secret::new(code?),
        state: state.clone().unwrap_or_default(),
    };
    Some((state, Ok(redirect)))
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 8: the authorization code never shows in a log line.
    #[test]
    fn a_redirect_prints_its_state_but_not_its_code() {
        let redirect = Redirect {
            code: Secret::new("4/0Acanary-code"),
            state: "state-1".into(),
        };
        for printed in [format!("{redirect:?}"), format!("{redirect:#?}")] {
            assert!(!printed.contains("canary"), "printed the code: {printed}");
            assert!(printed.contains("state-1"), "{printed}");
        }
    }

    #[test]
    fn the_code_and_state_are_read_from_the_redirect() {
        let head = b"GET /?code=4%2F0Ab&state=xyz&scope=a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        let got = parse_request_line(head).and_then(|(_, r)| r.ok());
        assert_eq!(
            got,
            Some(Redirect {
                code: Secret::new("4/0Ab"),
                state: "xyz".into()
            })
        );
    }

    #[test]
    fn a_refusal_and_a_favicon_are_told_apart() {
        let denied = parse_request_line(b"GET /?error=access_denied&state=s HTTP/1.1\r\n\r\n");
        assert!(matches!(denied, Some((Some(_), Err(AuthError::Denied(_))))));
        assert!(parse_request_line(b"GET /favicon.ico HTTP/1.1\r\n\r\n").is_none());
    }

    #[tokio::test]
    async fn stray_callbacks_are_ignored_until_the_real_one_comes() -> anyhow::Result<()> {
        let lb = Loopback::bind().await?;
        let uri = lb.redirect_uri.clone();
        let waiter = tokio::spawn(lb.wait("s1".into(), Duration::from_secs(5)));
        let client = reqwest::Client::new();
        let favicon = client.get(format!("{uri}favicon.ico")).send().await?;
        assert_eq!(favicon.status(), 404);
        // A stray refusal, and a callback of another sign-in: neither ends it.
        for stray in [
            "?error=access_denied",
            "?error=access_denied&state=other",
            "?code=evil&state=other",
        ] {
            let page = client.get(format!("{uri}{stray}")).send().await?;
            assert_eq!(page.status(), 404, "{stray}");
            assert!(!waiter.is_finished(), "{stray} ended the sign-in");
        }
        let page = client
            .get(format!("{uri}?code=abc&state=s1"))
            .send()
            .await?;
        assert_eq!(page.status(), 200);
        let got = waiter.await??;
        assert_eq!(got.code.expose(), "abc");
        Ok(())
    }

    #[tokio::test]
    async fn a_refusal_of_this_sign_in_ends_it() -> anyhow::Result<()> {
        let lb = Loopback::bind().await?;
        let uri = lb.redirect_uri.clone();
        let waiter = tokio::spawn(lb.wait("s2".into(), Duration::from_secs(5)));
        reqwest::Client::new()
            .get(format!("{uri}?error=access_denied&state=s2"))
            .send()
            .await?;
        assert!(matches!(waiter.await?, Err(AuthError::Denied(_))));
        Ok(())
    }
}
