//! One HTTP client for every provider, and what its answers mean.
//!
//! Requests go through [`Http::send`], which waits for the account's rate
//! limiter and a concurrency permit, applies a per-request timeout (reading
//! the whole body inside it, so a stalled body is a timeout too), classifies
//! the answer, and retries with backoff what can heal: 429, rate-limit 403s,
//! 5xx, timeouts, resets and truncated bodies. A 401 is handed back to the
//! caller once so it can refresh its token; 400, 404 and the rest are never
//! retried blindly.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::limits::AccountLimits;
use super::retry::{self, RetryPolicy, Retryable};
use crate::auth::AuthError;
use crate::model::SyncErrorCode;
use crate::sync::ActionError;

/// Longest time one request (headers and body) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest time to establish a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read into memory (a raw message with attachments).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// What went wrong talking to a provider.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The provider answered with an error status.
    #[error("{service} answered HTTP {status}: {message}")]
    Status {
        /// Which provider.
        service: &'static str,
        /// The status.
        status: u16,
        /// The provider's own message, shortened.
        message: String,
        /// Gmail's error reason (`rateLimitExceeded` ...), Graph's code.
        reason: Option<String>,
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// No answer within the timeout.
    #[error("{0} did not answer in time")]
    Timeout(&'static str),
    /// The connection failed or dropped.
    #[error("cannot reach {service}: {message}")]
    Connection {
        /// Which provider.
        service: &'static str,
        /// Why.
        message: String,
    },
    /// The answer could not be read (truncated, not JSON, wrong shape).
    #[error("{service} sent an unreadable answer: {message}")]
    Decode {
        /// Which provider.
        service: &'static str,
        /// Why.
        message: String,
    },
    /// The answer is complete but not what the API promises (bad JSON, a
    /// wrong shape): retrying cannot help.
    #[error("{service} sent a malformed answer: {message}")]
    Malformed {
        /// Which provider.
        service: &'static str,
        /// Why.
        message: String,
    },
    /// The credentials were refused, even after a refresh.
    #[error("{0}")]
    Auth(String),
    /// The stored credentials could not be read (a locked keychain).
    #[error("cannot read the stored sign-in: {0}")]
    Credentials(String),
    /// The provider (or Ember's support for it) cannot do this.
    #[error("{0}")]
    Unsupported(String),
    /// The HTTP client could not be started (its TLS backend failed).
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
    /// Recording a step of a multi-request change in the local store
    /// failed; the change is resumed from the last recorded step.
    #[error("cannot record the provider's answer locally: {0}")]
    Local(String),
    /// The answer is larger than Ember accepts.
    #[error("{service} sent an answer larger than {limit_mib} MiB")]
    TooLarge {
        /// Which provider.
        service: &'static str,
        /// The limit.
        limit_mib: usize,
    },
}

impl ProviderError {
    /// The HTTP status, when the provider answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A stable code for the UI and logs.
    pub fn code(&self) -> SyncErrorCode {
        match self {
            Self::Status { status: 429, .. } => SyncErrorCode::RateLimited,
            Self::Status {
                status: 403,
                reason: Some(r),
                ..
            } if is_rate_reason(r) => SyncErrorCode::RateLimited,
            Self::Status {
                status: 401 | 403, ..
            }
            | Self::Auth(_) => SyncErrorCode::NeedsReauth,
            Self::Status { status: 404, .. } => SyncErrorCode::NotFound,
            Self::Status { status, .. } if *status >= 500 => SyncErrorCode::ServerError,
            Self::Status { .. } => SyncErrorCode::BadRequest,
            Self::Timeout(_) => SyncErrorCode::TimedOut,
            Self::Connection { .. } => SyncErrorCode::Unreachable,
            Self::Decode { .. } | Self::Malformed { .. } | Self::TooLarge { .. } => {
                SyncErrorCode::BadResponse
            }
            Self::Credentials(_) => SyncErrorCode::Keychain,
            Self::Unsupported(_) => SyncErrorCode::Unsupported,
            Self::Client(_) => SyncErrorCode::Internal,
            Self::Local(_) => SyncErrorCode::Storage,
        }
    }
}

fn is_rate_reason(reason: &str) -> bool {
    matches!(
        reason,
        "rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded" | "dailyLimitExceeded"
    )
}

impl Retryable for ProviderError {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, reason, .. } => {
                matches!(status, 429 | 500 | 502 | 503 | 504)
                    || (*status == 403 && reason.as_deref().is_some_and(is_rate_reason))
            }
            Self::Timeout(_) | Self::Connection { .. } | Self::Decode { .. } => true,
            Self::Auth(_)
            | Self::Malformed { .. }
            | Self::TooLarge { .. }
            | Self::Unsupported(_)
            | Self::Client(_) => false,
            // A locked keychain may open again; retrying soon is cheap.
            Self::Credentials(_) | Self::Local(_) => true,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A failed action as the outbox acts on it: gone, sign in again, try again
/// later, or refused for good.
impl From<ProviderError> for ActionError {
    fn from(e: ProviderError) -> Self {
        let message = e.to_string();
        match e {
            ProviderError::Status { status: 404, .. } => Self::Gone(message),
            ProviderError::Auth(_) | ProviderError::Status { status: 401, .. } => {
                Self::Reauth(message)
            }
            e if e.is_retryable() => Self::Later {
                retry_after: e.retry_after(),
                message,
            },
            _ => Self::Refused(message),
        }
    }
}

impl From<AuthError> for ProviderError {
    fn from(e: AuthError) -> Self {
        // Only a refused credential means "sign in again"; an unreachable
        // token endpoint or a locked keychain is a passing fault.
        if e.needs_reauth() {
            return Self::Auth(e.to_string());
        }
        match e {
            AuthError::Unreachable(message) => Self::Connection {
                service: "the sign-in service",
                message,
            },
            AuthError::Io(io) => Self::Connection {
                service: "the sign-in service",
                message: io.to_string(),
            },
            other => Self::Credentials(other.to_string()),
        }
    }
}

/// The longest wait a provider's answer can impose, in seconds: a
/// Retry-After (either form) or a rate-limit delay asking for more is
/// taken as this, so no answer can stall an account for longer.
pub const MAX_WAIT_SECS: f64 = 3600.0;

/// Reads Retry-After as seconds (fractions allowed, as Graph sends) or an
/// HTTP date; both are capped at [`MAX_WAIT_SECS`].
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs = match value.parse::<f64>() {
        Ok(secs) => secs,
        Err(_) => httpdate_parse(value)?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default()
            .as_secs_f64(),
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(MAX_WAIT_SECS)))
}

fn httpdate_parse(value: &str) -> Option<std::time::SystemTime> {
    // RFC 7231 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
    let parsed = mail_parser::DateTime::parse_rfc822(value)?;
    let secs = u64::try_from(parsed.to_timestamp()).ok()?;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

/// One request to send: built afresh for each attempt.
#[derive(Debug, Clone)]
pub struct Call {
    /// Which provider (for messages).
    pub service: &'static str,
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// JSON body, if any.
    pub json: Option<serde_json::Value>,
    /// Extra request headers (Graph's `Prefer`, Azure DevOps' content type).
    pub headers: Vec<(&'static str, String)>,
    /// Rate-limiter cost (Gmail quota units; requests elsewhere).
    pub cost: u32,
    /// Holds every request slot of the account while in flight (a Graph
    /// `$batch`, whose inner requests count against the mailbox's limit).
    pub exclusive: bool,
    /// A body that is not JSON (an upload), sent with the call's
    /// `Content-Type` header.
    pub raw: Option<std::sync::Arc<Vec<u8>>>,
    /// This call's own time limit, when the standard one is too short (an
    /// upload of many megabytes).
    pub timeout: Option<Duration>,
}

impl Call {
    /// A GET of `url`.
    pub fn get(service: &'static str, url: String, cost: u32) -> Self {
        Self {
            service,
            method: Method::GET,
            url,
            json: None,
            headers: Vec::new(),
            cost,
            exclusive: false,
            raw: None,
            timeout: None,
        }
    }

    /// The same call uploading `body` (of type `content_type`) with
    /// `method`, allowed the standard time plus one second per 128 KiB so a
    /// large message on a slow uplink is not cut off (nor left unbounded).
    pub fn with_upload(mut self, method: Method, content_type: &str, body: Vec<u8>) -> Self {
        let extra = Duration::from_secs(u64::try_from(body.len() / (128 * 1024)).unwrap_or(0));
        self.method = method;
        self.timeout = Some(REQUEST_TIMEOUT + extra);
        self.headers.push(("Content-Type", content_type.to_owned()));
        self.raw = Some(std::sync::Arc::new(body));
        self
    }

    /// The same call with `body` as its JSON body and `method`.
    pub fn with_json(mut self, method: Method, body: serde_json::Value) -> Self {
        self.method = method;
        self.json = Some(body);
        self
    }

    /// The same call with one more header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A boxed future, so credentials can live behind `dyn`.
pub type CredentialFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// How a request authenticates.
pub trait Credential: Send + Sync {
    /// Adds credentials to a request; returns it with the generation of the
    /// credential used.
    fn apply(
        &self,
        request: reqwest::RequestBuilder,
    ) -> CredentialFuture<'_, (reqwest::RequestBuilder, u64)>;
    /// Called after a 401 for a request sent with `generation`; returns
    /// whether to send it again (the credential was, or had already been,
    /// refreshed).
    fn rejected(&self, generation: u64) -> CredentialFuture<'_, bool>;
}

/// Counts what a run's requests did.
#[derive(Debug, Default)]
pub struct CallStats {
    /// Requests retried.
    pub retries: std::sync::atomic::AtomicU64,
}

/// The shared HTTP client.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
}

impl Http {
    /// A client with the standard timeouts and retry policy.
    pub fn new() -> Result<Self, ProviderError> {
        Self::with_policy(RetryPolicy::default())
    }

    /// A client with a custom retry policy (tests shorten it).
    pub fn with_policy(policy: RetryPolicy) -> Result<Self, ProviderError> {
        Self::with_timeout(policy, REQUEST_TIMEOUT)
    }

    /// A client with a custom retry policy and per-request timeout.
    /// A client that cannot be built (the TLS backend failed to start) is
    /// an error, never a fallback to a client that would panic the same way.
    pub fn with_timeout(
        policy: RetryPolicy,
        request_timeout: Duration,
    ) -> Result<Self, ProviderError> {
        Self::from_builder(reqwest::Client::builder(), policy, request_timeout)
    }

    /// [`Http::with_timeout`] on top of `builder` (what a caller configured
    /// first: a proxy, a certificate). A builder that cannot produce a
    /// client is [`ProviderError::Client`], never a panic.
    pub fn from_builder(
        builder: reqwest::ClientBuilder,
        policy: RetryPolicy,
        request_timeout: Duration,
    ) -> Result<Self, ProviderError> {
        let client = builder
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("FiresideEmber/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Client(e.to_string()))?;
        Ok(Self { client, policy })
    }

    /// Sends `call` (retrying what can heal) and parses the JSON answer. A
    /// cut-off answer is retried; a complete one that is not the JSON
    /// expected is [`ProviderError::Malformed`].
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        call: &Call,
        credential: &dyn Credential,
        limits: &AccountLimits,
        stats: &CallStats,
    ) -> Result<T, ProviderError> {
        Ok(self
            .send_json_with_headers(call, credential, limits, stats)
            .await?
            .0)
    }

    /// [`Http::send_json`], with the answer's headers (Azure DevOps' rate
    /// signals live there).
    pub async fn send_json_with_headers<T: DeserializeOwned>(
        &self,
        call: &Call,
        credential: &dyn Credential,
        limits: &AccountLimits,
        stats: &CallStats,
    ) -> Result<(T, HeaderMap), ProviderError> {
        self.send_with(call, credential, limits, stats, |bytes, headers| {
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { bytes };
            let value = serde_json::from_slice(bytes).map_err(|e| decode(call, e))?;
            Ok((value, headers.clone()))
        })
        .await
    }

    /// Sends `call` and returns the answer's bytes.
    pub async fn send(
        &self,
        call: &Call,
        credential: &dyn Credential,
        limits: &AccountLimits,
        stats: &CallStats,
    ) -> Result<Vec<u8>, ProviderError> {
        self.send_with(call, credential, limits, stats, |bytes, _| {
            Ok(bytes.to_vec())
        })
        .await
    }

    async fn send_with<T>(
        &self,
        call: &Call,
        credential: &dyn Credential,
        limits: &AccountLimits,
        stats: &CallStats,
        read: impl Fn(&[u8], &HeaderMap) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        retry::retry(
            self.policy,
            || async {
                let result = self.attempt_with_refresh(call, credential, limits).await;
                if let Err(e) = &result {
                    // The provider's wait applies to the whole account.
                    if let Some(wait) = e.retry_after() {
                        limits.pause_for(wait);
                    }
                }
                let (bytes, headers) = result?;
                read(&bytes, &headers)
            },
            |e, wait| {
                stats
                    .retries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(url = %call.url, error = %e, ?wait, "retrying");
            },
        )
        .await
    }

    async fn attempt_with_refresh(
        &self,
        call: &Call,
        credential: &dyn Credential,
        limits: &AccountLimits,
    ) -> Result<(Vec<u8>, HeaderMap), ProviderError> {
        match self.attempt(call, credential, limits).await {
            Err((ProviderError::Status { status: 401, .. }, generation))
                if credential.rejected(generation).await? =>
            {
                self.attempt(call, credential, limits)
                    .await
                    .map_err(|(e, _)| e)
            }
            other => other.map_err(|(e, _)| e),
        }
    }

    /// One attempt; a failure carries the credential generation it used.
    async fn attempt(
        &self,
        call: &Call,
        credential: &dyn Credential,
        limits: &AccountLimits,
    ) -> Result<(Vec<u8>, HeaderMap), (ProviderError, u64)> {
        let _permit = if call.exclusive {
            limits.acquire_all(call.cost).await
        } else {
            limits.acquire(call.cost).await
        };
        let mut request = self.client.request(call.method.clone(), &call.url);
        let content_type = call
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"));
        if let Some(timeout) = call.timeout {
            request = request.timeout(timeout);
        }
        if let Some(raw) = &call.raw {
            if let Some((_, ct)) = content_type {
                request = request.header(reqwest::header::CONTENT_TYPE, ct);
            }
            request = request.body(raw.as_ref().clone());
        } else if let Some(body) = &call.json {
            request = match content_type {
                // A JSON body of another JSON type (Azure DevOps' JSON Patch).
                Some((_, ct)) => request
                    .header(reqwest::header::CONTENT_TYPE, ct)
                    .body(serde_json::to_vec(body).unwrap_or_default()),
                None => request.json(body),
            };
        }
        for (name, value) in &call.headers {
            if !name.eq_ignore_ascii_case("content-type") {
                request = request.header(*name, value);
            }
        }
        let (request, generation) = credential.apply(request).await.map_err(|e| (e, 0))?;
        let with = |e| (e, generation);
        let response = request
            .send()
            .await
            .map_err(|e| with(transport(call, &e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = read_body(call, response).await.map_err(with)?;
        if status.is_success() && status != StatusCode::NON_AUTHORITATIVE_INFORMATION {
            return Ok((bytes, headers));
        }
        Err(with(status_error(call, status, &headers, &bytes)))
    }
}

async fn read_body(call: &Call, mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(call, &e))? {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(ProviderError::TooLarge {
                service: call.service,
                limit_mib: MAX_BODY / 1024 / 1024,
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn transport(call: &Call, e: &reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout(call.service)
    } else if e.is_body() || e.is_decode() {
        ProviderError::Decode {
            service: call.service,
            message: "the answer was cut off".into(),
        }
    } else {
        ProviderError::Connection {
            service: call.service,
            message: e.to_string(),
        }
    }
}

fn decode(call: &Call, e: serde_json::Error) -> ProviderError {
    if e.is_eof() {
        // The JSON stops mid-way: the answer was cut off; try again.
        ProviderError::Decode {
            service: call.service,
            message: format!("the answer was cut off ({e})"),
        }
    } else {
        ProviderError::Malformed {
            service: call.service,
            message: e.to_string(),
        }
    }
}

fn status_error(
    call: &Call,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> ProviderError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let error = &json["error"];
    // Gmail: {"error":{"message","errors":[{"reason"}]}}; Graph: {"error":{"code","message"}};
    // Azure DevOps: {"message","typeKey"}; an HTML sign-in page (203) has none.
    let message = error["message"]
        .as_str()
        .or_else(|| json["message"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if status == StatusCode::NON_AUTHORITATIVE_INFORMATION {
                "the service asked us to sign in again".into()
            } else {
                status.canonical_reason().unwrap_or("error").to_owned()
            }
        });
    let reason = error["errors"][0]["reason"]
        .as_str()
        .or_else(|| error["code"].as_str())
        .or_else(|| json["typeKey"].as_str())
        .map(str::to_owned);
    // Azure DevOps answers bad credentials with 203 and an HTML page.
    let status = if status == StatusCode::NON_AUTHORITATIVE_INFORMATION {
        401
    } else {
        status.as_u16()
    };
    ProviderError::Status {
        service: call.service,
        status,
        message: message.chars().take(300).collect(),
        reason,
        retry_after: parse_retry_after(headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// Finding 10: a client that cannot be built is an error the caller
    /// reports (it used to fall back to `Client::default()`, which panics
    /// on the same failure).
    #[test]
    fn a_client_that_cannot_be_built_is_an_error_not_a_panic() {
        let broken = reqwest::Client::builder().user_agent("broken\nagent");
        match Http::from_builder(broken, RetryPolicy::default(), REQUEST_TIMEOUT) {
            Err(e @ ProviderError::Client(_)) => {
                assert!(
                    e.to_string().starts_with("cannot start the HTTP client"),
                    "{e}"
                );
            }
            other => panic!("expected ProviderError::Client, got {other:?}"),
        }
        assert!(Http::new().is_ok(), "the standard client builds");
    }

    fn status(status: u16, reason: Option<&str>) -> ProviderError {
        ProviderError::Status {
            service: "Gmail",
            status,
            message: String::new(),
            reason: reason.map(str::to_owned),
            retry_after: None,
        }
    }

    #[test]
    fn only_what_can_heal_is_retried() {
        assert!(status(429, None).is_retryable());
        assert!(status(503, None).is_retryable());
        assert!(status(403, Some("userRateLimitExceeded")).is_retryable());
        assert!(!status(403, Some("forbidden")).is_retryable());
        for s in [400, 401, 404, 410] {
            assert!(!status(s, None).is_retryable(), "{s}");
        }
        assert!(ProviderError::Timeout("Gmail").is_retryable());
    }

    #[test]
    fn retry_after_reads_seconds_fractions_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("2.128"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(2128)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            parse_retry_after(&h),
            Some(Duration::ZERO),
            "a date in the past: no wait"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&h), None);
    }

    #[test]
    fn a_far_future_retry_after_date_is_capped_like_the_number() {
        let mut h = HeaderMap::new();
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Fri, 01 Jan 2100 00:00:00 GMT"),
        );
        assert_eq!(
            parse_retry_after(&h),
            Some(Duration::from_secs_f64(MAX_WAIT_SECS))
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("99999999"));
        assert_eq!(
            parse_retry_after(&h),
            Some(Duration::from_secs_f64(MAX_WAIT_SECS))
        );
    }

    #[test]
    fn codes_name_the_kind_of_failure() {
        assert_eq!(
            status(403, Some("rateLimitExceeded")).code(),
            SyncErrorCode::RateLimited
        );
        assert_eq!(status(401, None).code(), SyncErrorCode::NeedsReauth);
        assert_eq!(status(502, None).code(), SyncErrorCode::ServerError);
    }
}
