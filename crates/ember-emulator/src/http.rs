//! The layer every emulated endpoint passes through, in the order the real
//! services apply them: authentication, the per-account concurrency and rate
//! quotas, injected faults, then the endpoint itself; and the statistics and
//! request log that tests read back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Json;
use serde_json::json;

use super::faults::FaultKind;
use super::oauth::{AccountKey, AuthFailure};
use super::state::{
    Shared, ADO_WINDOW, ADO_WINDOW_REQUESTS, GRAPH_MAX_CONCURRENT, GRAPH_WINDOW,
    GRAPH_WINDOW_REQUESTS,
};

/// The largest body the emulator buffers to corrupt it.
const MAX_BUFFERED: usize = 64 * 1024 * 1024;

/// Which service an endpoint belongs to: decides how errors look and which
/// quotas apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Gmail API.
    Gmail,
    /// Microsoft Graph.
    Graph,
    /// Azure DevOps.
    Ado,
    /// The identity platforms (no authentication, no quota).
    OAuth,
}

/// One endpoint: its name (for faults and stats), service, and Gmail quota cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Name as fault specs and stats use it (`gmail.messages.get`).
    pub name: &'static str,
    /// Its service.
    pub service: Service,
    /// Gmail quota units one call costs (0 elsewhere).
    pub units: u32,
}

impl Endpoint {
    /// A Gmail endpoint costing `units`.
    pub const fn gmail(name: &'static str, units: u32) -> Self {
        Self {
            name,
            service: Service::Gmail,
            units,
        }
    }
    /// A Graph endpoint.
    pub const fn graph(name: &'static str) -> Self {
        Self {
            name,
            service: Service::Graph,
            units: 0,
        }
    }
    /// An Azure DevOps endpoint.
    pub const fn ado(name: &'static str) -> Self {
        Self {
            name,
            service: Service::Ado,
            units: 0,
        }
    }
    /// An identity-platform endpoint.
    pub const fn oauth(name: &'static str) -> Self {
        Self {
            name,
            service: Service::OAuth,
            units: 0,
        }
    }
}

/// The authenticated account, put in the request's extensions for handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub AccountKey);

impl Caller {
    /// The address (or organisation) part of the key.
    pub fn address(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, a)| a)
    }
}

#[derive(Clone)]
struct Tagged {
    shared: Arc<Shared>,
    endpoint: Endpoint,
}

/// Wraps `route` in the emulation layer for `endpoint`.
pub fn emulated(
    shared: &Arc<Shared>,
    endpoint: Endpoint,
    route: MethodRouter<Arc<Shared>>,
) -> MethodRouter<Arc<Shared>> {
    route.layer(middleware::from_fn_with_state(
        Tagged {
            shared: shared.clone(),
            endpoint,
        },
        emulate,
    ))
}

async fn emulate(State(tag): State<Tagged>, mut request: Request, next: Next) -> Response {
    let Tagged { shared, endpoint } = tag;
    let started_ms = shared.elapsed_ms();
    let finish =
        |shared: &Shared, endpoint: Endpoint, account: Option<&str>, response: Response| {
            shared.close_request(
                endpoint.name,
                account,
                response.status().as_u16(),
                started_ms,
            );
            response
        };
    let auth = match endpoint.service {
        Service::Gmail | Service::Graph => shared.credentials().check_bearer(request.headers()),
        Service::Ado => shared.credentials().check_pat(request.headers()),
        Service::OAuth => Ok(String::new()),
    };
    let account = match auth {
        Ok(key) if key.is_empty() => None,
        Ok(key) => {
            // A token for one service does not open another.
            let wanted = match endpoint.service {
                Service::Gmail => "gmail:",
                Service::Graph => "graph:",
                Service::Ado => "ado:",
                Service::OAuth => "",
            };
            if !key.starts_with(wanted) {
                return finish(
                    &shared,
                    endpoint,
                    None,
                    auth_error(endpoint.service, AuthFailure::Invalid),
                );
            }
            Some(key)
        }
        Err(failure) => {
            shared.open_request(endpoint.name, None);
            return finish(
                &shared,
                endpoint,
                None,
                auth_error(endpoint.service, failure),
            );
        }
    };
    let open = shared.open_request(endpoint.name, account.as_deref());
    let mut ado_remaining = None;
    if let Some(key) = &account {
        request.extensions_mut().insert(Caller(key.clone()));
        if shared.config.quota {
            match enforce_quota(&shared, endpoint, key, open) {
                Ok(remaining) => ado_remaining = remaining,
                Err(refused) => return finish(&shared, endpoint, account.as_deref(), refused),
            }
        }
        if endpoint.units > 0 {
            shared.add_units(key, endpoint.units);
        }
    }

    let plan = shared.plan_faults(endpoint.name);
    if !plan.delay.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(plan.delay) => {}
            () = shared.stop.cancelled() => {}
        }
    }
    if let Some(kind) = plan.replace {
        if kind == FaultKind::Hang {
            // Accepted and never answered: the client's timeout must fire.
            shared.stop.cancelled().await;
        }
        let response = fault_response(endpoint.service, kind);
        return finish(&shared, endpoint, account.as_deref(), response);
    }
    let mut response = next.run(request).await;
    if !plan.reply_delay.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(plan.reply_delay) => {}
            () = shared.stop.cancelled() => {}
        }
    }
    if let Some(kind) = plan.corrupt {
        response = corrupt(response, kind).await;
    }
    if let Some(remaining) = ado_remaining {
        let h = response.headers_mut();
        h.insert("X-RateLimit-Resource", HeaderValue::from_static("Core"));
        h.insert("X-RateLimit-Limit", HeaderValue::from(ADO_WINDOW_REQUESTS));
        h.insert("X-RateLimit-Remaining", HeaderValue::from(remaining));
    }
    if let Some((remaining, delay)) = plan.slowdown {
        // Azure DevOps' warning that the client nears its limit; the answer
        // itself is unchanged.
        let h = response.headers_mut();
        h.insert("X-RateLimit-Resource", HeaderValue::from_static("Core"));
        h.insert("X-RateLimit-Limit", HeaderValue::from(ADO_WINDOW_REQUESTS));
        h.insert("X-RateLimit-Remaining", HeaderValue::from(remaining));
        h.insert("X-RateLimit-Delay", HeaderValue::from(delay));
        let reset = chrono::Utc::now().timestamp() + ADO_WINDOW.as_secs() as i64;
        h.insert("X-RateLimit-Reset", HeaderValue::from(reset));
    }
    finish(&shared, endpoint, account.as_deref(), response)
}

/// Applies the service's quota to one request; `Ok(Some(n))` carries the
/// requests left in an Azure DevOps window, for its rate headers.
fn enforce_quota(
    shared: &Shared,
    endpoint: Endpoint,
    key: &str,
    open: usize,
) -> Result<Option<usize>, Response> {
    let now = Instant::now();
    match endpoint.service {
        Service::Gmail if endpoint.units > 0 => {
            if shared.quotas().take_gmail(key, endpoint.units, now) {
                Ok(None)
            } else {
                Err(gmail_rate_limited(
                    StatusCode::TOO_MANY_REQUESTS,
                    "usageLimits",
                    None,
                ))
            }
        }
        Service::Graph => {
            if open > GRAPH_MAX_CONCURRENT {
                return Err(graph_throttled(
                    Duration::from_secs(1),
                    "MailboxConcurrency",
                ));
            }
            match shared
                .quotas()
                .take_window(key, GRAPH_WINDOW_REQUESTS, GRAPH_WINDOW, now)
            {
                Ok(_) => Ok(None),
                Err(wait) => Err(graph_throttled(wait, "ApplicationThrottled")),
            }
        }
        Service::Ado => match shared
            .quotas()
            .take_window(key, ADO_WINDOW_REQUESTS, ADO_WINDOW, now)
        {
            Ok(remaining) => Ok(Some(remaining)),
            Err(wait) => {
                let secs = wait.as_secs().max(1);
                let mut r = ado_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Request was blocked due to exceeding usage of resource 'Core' in namespace 'User'.",
                    "RequestBlockedException",
                );
                let h = r.headers_mut();
                h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
                h.insert("X-RateLimit-Resource", HeaderValue::from_static("Core"));
                h.insert("X-RateLimit-Delay", HeaderValue::from(secs));
                Err(r)
            }
        },
        _ => Ok(None),
    }
}

/// Gmail's rate-limit answer (`reason` is the error's domain).
pub fn gmail_rate_limited(status: StatusCode, domain: &str, reason: Option<&str>) -> Response {
    let reason = reason.unwrap_or("rateLimitExceeded");
    let message = if reason == "userRateLimitExceeded" {
        "User Rate Limit Exceeded"
    } else {
        "Rate Limit Exceeded"
    };
    let status_name = if status == StatusCode::TOO_MANY_REQUESTS {
        "RESOURCE_EXHAUSTED"
    } else {
        "PERMISSION_DENIED"
    };
    (
        status,
        Json(json!({"error": {
            "code": status.as_u16(),
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": status_name,
        }})),
    )
        .into_response()
}

/// Answers a request body over a route's read limit as the provider would:
/// axum's own 413 is plain text, which no client of Gmail or Graph ever
/// sees. Gmail's is its `uploadTooLarge`, Graph's its
/// `ErrorMessageSizeExceeded`; other 413s (already the provider's JSON) pass.
pub async fn provider_too_large(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    if path.starts_with("/v1.0/") {
        graph_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "ErrorMessageSizeExceeded",
            "The message exceeds the maximum supported size., Requests are limited to 4 MB: \
             attach larger files with an upload session.",
        )
    } else if path.starts_with("/gmail/") || path.starts_with("/upload/gmail/") {
        super::gmail::send::too_large()
    } else {
        response
    }
}

/// A Google API error body.
pub fn gmail_error(status: StatusCode, message: &str, reason: &str) -> Response {
    let status_name = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    (
        status,
        Json(json!({"error": {
            "code": status.as_u16(),
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status_name,
        }})),
    )
        .into_response()
}

/// A Graph error body.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = (
        status,
        Json(json!({"error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2026-01-01T00:00:00",
                "request-id": "00000000-0000-0000-0000-000000000000",
                "client-request-id": "00000000-0000-0000-0000-000000000000",
            },
        }})),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"),
    );
    r
}

fn graph_throttled(wait: Duration, code: &str) -> Response {
    let secs = wait.as_secs().max(1);
    let message = if code == "MailboxConcurrency" {
        "Application is over its MailboxConcurrency limit."
    } else {
        "Application is over its request rate limit for this mailbox."
    };
    let mut r = graph_error(StatusCode::TOO_MANY_REQUESTS, code, message);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// An Azure DevOps error body.
pub fn ado_error(status: StatusCode, message: &str, type_key: &str) -> Response {
    (
        status,
        Json(json!({
            "$id": "1",
            "innerException": null,
            "message": message,
            "typeName": format!("Microsoft.TeamFoundation.WorkItemTracking.Server.{type_key}, Microsoft.TeamFoundation.WorkItemTracking.Server"),
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3200,
        })),
    )
        .into_response()
}

/// The HTML sign-in page Azure DevOps answers bad credentials with (203).
pub fn ado_sign_in_page() -> Response {
    (
        StatusCode::NON_AUTHORITATIVE_INFORMATION,
        Html(
            "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head>\
             <body><form method=\"post\" action=\"/_signin\"><p>Sign in to continue to Azure DevOps.</p>\
             </form></body></html>",
        ),
    )
        .into_response()
}

fn auth_error(service: Service, failure: AuthFailure) -> Response {
    match service {
        Service::Gmail => {
            let mut r = gmail_error(
                StatusCode::UNAUTHORIZED,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                "authError",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
                ),
            );
            r
        }
        Service::Graph => {
            let (code, message) = match failure {
                AuthFailure::Missing => ("InvalidAuthenticationToken", "Access token is empty."),
                AuthFailure::Expired => (
                    "InvalidAuthenticationToken",
                    "Lifetime validation failed, the token is expired.",
                ),
                AuthFailure::Invalid => (
                    "InvalidAuthenticationToken",
                    "IDX14100: JWT is not well formed.",
                ),
            };
            graph_error(StatusCode::UNAUTHORIZED, code, message)
        }
        Service::Ado => match failure {
            // No credentials: 401 with a challenge; wrong ones: the sign-in page.
            AuthFailure::Missing => (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    "Basic realm=\"https://dev.azure.com/\"",
                )],
            )
                .into_response(),
            _ => ado_sign_in_page(),
        },
        Service::OAuth => StatusCode::UNAUTHORIZED.into_response(),
    }
}

fn fault_response(service: Service, kind: FaultKind) -> Response {
    match kind {
        FaultKind::TooManyRequests { retry_after } => {
            let mut r = match service {
                Service::Gmail => {
                    gmail_rate_limited(StatusCode::TOO_MANY_REQUESTS, "usageLimits", None)
                }
                Service::Graph => graph_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    "Too many requests.",
                ),
                Service::Ado => ado_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Request was blocked due to exceeding usage of resource 'Core'.",
                    "RequestBlockedException",
                ),
                Service::OAuth => (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"error": "rate_limit_exceeded"})),
                )
                    .into_response(),
            };
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            r
        }
        FaultKind::RateLimit403 => gmail_rate_limited(
            StatusCode::FORBIDDEN,
            "usageLimits",
            Some("userRateLimitExceeded"),
        ),
        FaultKind::BadRequest => match service {
            Service::Graph => graph_error(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidRecipients",
                "At least one recipient isn't valid., Recipient is not a valid SMTP address.",
            ),
            Service::Ado => ado_error(
                StatusCode::BAD_REQUEST,
                "The request is invalid.",
                "InvalidArgumentValueException",
            ),
            _ => gmail_error(
                StatusCode::BAD_REQUEST,
                "Invalid To header",
                "invalidArgument",
            ),
        },
        FaultKind::ServerError => match service {
            Service::Graph => graph_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "An internal server error occurred.",
            ),
            Service::Ado => ado_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An unexpected error occurred.",
                "UnexpectedException",
            ),
            _ => gmail_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error encountered.",
                "backendError",
            ),
        },
        FaultKind::Unavailable => match service {
            Service::Graph => graph_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceNotAvailable",
                "The service is temporarily unavailable.",
            ),
            Service::Ado => ado_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable.",
                "ServiceUnavailableException",
            ),
            _ => gmail_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is currently unavailable.",
                "backendError",
            ),
        },
        FaultKind::Html203 => ado_sign_in_page(),
        // Hang ends here only when the server stops.
        _ => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn corrupt(response: Response, kind: FaultKind) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BUFFERED).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    match kind {
        FaultKind::Truncate => {
            let cut = bytes.slice(..bytes.len() / 2);
            Response::from_parts(parts, Body::from(cut))
        }
        FaultKind::BadJson => Response::from_parts(
            parts,
            Body::from(Bytes::from_static(b"{\"error\": <html>Bad Gateway</html>")),
        ),
        FaultKind::BadMime => {
            // The raw message inside the JSON is replaced by broken MIME.
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let broken = super::gmail::break_raw_field(&text);
            Response::from_parts(parts, Body::from(broken))
        }
        FaultKind::Reset => {
            // Promise the full length, send half, then drop the connection.
            // An empty answer (Graph's 202 to a send) promises one byte, so
            // that the drop shows: the endpoint ran, the client cannot tell.
            let promised = if bytes.is_empty() && parts.status != StatusCode::NO_CONTENT {
                1
            } else {
                bytes.len()
            };
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(promised));
            let half = bytes.slice(..bytes.len() / 2);
            let stream = futures_util::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "emulated reset",
                )),
            ]);
            Response::from_parts(parts, Body::from_stream(stream))
        }
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}
