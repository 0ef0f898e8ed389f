//! OAuth 2.0 as Google and Microsoft identity platforms answer it: the
//! authorization-code flow with PKCE (S256 checked) and a loopback redirect,
//! refresh tokens (Microsoft rotates them and rejects the old one), the
//! device-code flow with its pending / slow-down / expired answers, and
//! revocation. The consent screen approves at once, as a user would.
//!
//! Paths mirror the real endpoints under one base URL: Google's
//! `/o/oauth2/v2/auth`, `/token`, `/revoke`, `/device/code`; Microsoft's
//! `/{tenant}/oauth2/v2.0/{authorize,token,devicecode}`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::state::Shared;
use super::world::World;

/// How long an access token lives.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
/// How long an authorization code may wait to be redeemed.
const CODE_LIFETIME: Duration = Duration::from_secs(600);
/// How often a device may poll.
const DEVICE_INTERVAL: Duration = Duration::from_secs(5);

/// Which identity platform's behaviour to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// accounts.google.com / oauth2.googleapis.com.
    Google,
    /// login.microsoftonline.com.
    Microsoft,
}

/// Who a credential speaks for: `gmail:ADDRESS`, `graph:ADDRESS`, `ado:ORG`.
pub type AccountKey = String;

#[derive(Debug, Clone)]
struct CodeGrant {
    account: AccountKey,
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    scope: String,
    issued: Instant,
}

#[derive(Debug, Clone)]
struct AccessGrant {
    account: AccountKey,
    expires: Instant,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    account: AccountKey,
    client_id: String,
    scope: String,
    style: Style,
}

#[derive(Debug, Clone)]
struct DeviceGrant {
    account: AccountKey,
    client_id: String,
    user_code: String,
    scope: String,
    style: Style,
    approved: bool,
    expires: Instant,
    last_poll: Option<Instant>,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No Authorization header.
    Missing,
    /// Not a token we issued, or revoked.
    Invalid,
    /// Issued but expired.
    Expired,
}

/// Every credential the emulator has issued, and the clients it knows.
#[derive(Debug)]
pub struct Credentials {
    /// Google desktop client id and secret.
    pub google_client: (String, String),
    /// Microsoft public client id.
    pub microsoft_client: String,
    /// Azure DevOps organisation and its current personal access token.
    pub ado: (String, String),
    /// The current personal access token was revoked.
    ado_revoked: bool,
    gmail_default: String,
    graph_default: String,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    device: HashMap<String, DeviceGrant>,
    rng: ChaCha8Rng,
}

impl Credentials {
    /// Fresh credentials for `world`.
    pub fn new(seed: u64, world: &World) -> Self {
        Self {
            google_client: (
                "1057356891234-emulator.apps.googleusercontent.com".into(),
                "GOCSPX-emulator-desktop-secret".into(),
            ),
            microsoft_client: "4b0c8a7e-3f2d-4e6a-9b1c-emu1a70r0001".into(),
            ado: (world.ado.name.clone(), world.ado.pat.clone()),
            ado_revoked: false,
            gmail_default: world
                .gmail
                .first()
                .map(|m| m.address.clone())
                .unwrap_or_default(),
            graph_default: world
                .graph
                .first()
                .map(|m| m.address.clone())
                .unwrap_or_default(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            device: HashMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x0A07),
        }
    }

    fn token(&mut self, prefix: &str) -> String {
        let bytes: [u8; 32] = self.rng.random();
        format!(
            "{prefix}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    /// Issues an access token for `account` directly (control API, tests).
    pub fn mint_access(&mut self, account: &str) -> String {
        let token = if account.starts_with("graph:") {
            self.token("EwB4A8l6BAAU")
        } else {
            self.token("ya29.a0AfB_")
        };
        self.access.insert(
            token.clone(),
            AccessGrant {
                account: account.to_owned(),
                expires: Instant::now() + ACCESS_TOKEN_LIFETIME,
            },
        );
        token
    }

    /// The account a bearer token speaks for.
    pub fn check_bearer(&self, headers: &HeaderMap) -> Result<AccountKey, AuthFailure> {
        let value = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AuthFailure::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthFailure::Invalid)?;
        let grant = self.access.get(token.trim()).ok_or(AuthFailure::Invalid)?;
        if grant.expires <= Instant::now() {
            return Err(AuthFailure::Expired);
        }
        Ok(grant.account.clone())
    }

    /// The organisation a Basic PAT header opens.
    pub fn check_pat(&self, headers: &HeaderMap) -> Result<AccountKey, AuthFailure> {
        let value = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AuthFailure::Missing)?;
        let encoded = value.strip_prefix("Basic ").ok_or(AuthFailure::Invalid)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| AuthFailure::Invalid)?;
        let text = String::from_utf8(decoded).map_err(|_| AuthFailure::Invalid)?;
        // Azure DevOps ignores the user name: ":PAT" and "user:PAT" both work.
        let pat = text.split_once(':').map_or(text.as_str(), |(_, p)| p);
        if !self.ado_revoked && pat == self.ado.1 {
            Ok(format!("ado:{}", self.ado.0))
        } else {
            Err(AuthFailure::Invalid)
        }
    }

    /// Expires every access token of `account` (refresh tokens stay valid).
    pub fn expire_access(&mut self, account: &str) {
        let past = Instant::now();
        for grant in self.access.values_mut().filter(|g| g.account == account) {
            grant.expires = past;
        }
    }

    /// Revokes the Azure DevOps personal access token: it stops opening
    /// the organisation until a new one is issued.
    pub fn revoke_pat(&mut self) {
        self.ado_revoked = true;
    }

    /// Issues a new personal access token (52 characters, like the real
    /// ones), which replaces the current one.
    pub fn issue_pat(&mut self) -> String {
        let pat = format!(
            "emulatorpat{}",
            (0..41)
                .map(|_| {
                    char::from(b"abcdefghijklmnopqrstuvwxyz234567"[self.rng.random_range(0..32)])
                })
                .collect::<String>()
        );
        self.ado.1.clone_from(&pat);
        self.ado_revoked = false;
        pat
    }

    /// Revokes every token of `account`.
    pub fn revoke_account(&mut self, account: &str) {
        self.access.retain(|_, g| g.account != account);
        self.refresh.retain(|_, g| g.account != account);
    }

    fn account_for(&self, style: Style, hint: Option<&str>) -> AccountKey {
        match style {
            Style::Google => format!("gmail:{}", hint.unwrap_or(&self.gmail_default)),
            Style::Microsoft => format!("graph:{}", hint.unwrap_or(&self.graph_default)),
        }
    }

    fn known_client(&self, style: Style, client_id: &str) -> bool {
        match style {
            Style::Google => client_id == self.google_client.0,
            Style::Microsoft => client_id == self.microsoft_client,
        }
    }
}

/// Query of the authorize endpoints.
#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login_hint: Option<String>,
}

/// Form of the token endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    device_code: Option<String>,
    scope: Option<String>,
}

/// Form of the device-code endpoints.
#[derive(Debug, Deserialize)]
pub struct DeviceForm {
    client_id: Option<String>,
    scope: Option<String>,
}

fn is_loopback(uri: &str) -> bool {
    let rest = uri.strip_prefix("http://").unwrap_or_default();
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

fn token_error(style: Style, status: StatusCode, error: &str, description: &str) -> Response {
    let body = match style {
        Style::Google => json!({"error": error, "error_description": description}),
        Style::Microsoft => json!({
            "error": error,
            "error_description": format!("AADSTS70000: {description}"),
            "error_codes": [70000],
            "timestamp": "2026-01-01 00:00:00Z",
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        }),
    };
    (status, Json(body)).into_response()
}

fn consent_error(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Sign-in error</title><h1>Access blocked</h1><p>{message}</p>"
        )),
    )
        .into_response()
}

fn authorize(shared: &Shared, style: Style, q: AuthorizeQuery) -> Response {
    let creds_ok = q
        .client_id
        .as_deref()
        .is_some_and(|c| shared.credentials().known_client(style, c));
    if !creds_ok {
        return consent_error("Error 401: invalid_client. The OAuth client was not found.");
    }
    let Some(redirect) = q.redirect_uri.filter(|r| is_loopback(r)) else {
        return consent_error("Error 400: redirect_uri_mismatch. Desktop clients must redirect to a loopback address.");
    };
    if q.response_type.as_deref() != Some("code") {
        return consent_error("Error 400: unsupported_response_type.");
    }
    if q.code_challenge.is_some() && q.code_challenge_method.as_deref() != Some("S256") {
        return consent_error("Error 400: invalid_request. code_challenge_method must be S256.");
    }
    let mut creds = shared.credentials();
    let account = creds.account_for(style, q.login_hint.as_deref());
    let code = creds.token("4/0AVG7fiQ");
    creds.codes.insert(
        code.clone(),
        CodeGrant {
            account,
            client_id: q.client_id.unwrap_or_default(),
            redirect_uri: redirect.clone(),
            challenge: q.code_challenge,
            scope: q.scope.clone().unwrap_or_default(),
            issued: Instant::now(),
        },
    );
    drop(creds);
    let mut location = redirect;
    location.push(if location.contains('?') { '&' } else { '?' });
    let mut params = vec![("code", code.as_str())];
    let scope = q.scope.unwrap_or_default();
    if style == Style::Google {
        params.push(("scope", scope.as_str()));
    }
    if let Some(state) = &q.state {
        params.push(("state", state.as_str()));
    }
    location.push_str(&serde_urlencoded_pairs(&params));
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn issue(
    creds: &mut Credentials,
    style: Style,
    account: &str,
    client: &str,
    scope: &str,
    rotate: bool,
) -> serde_json::Value {
    let access = creds.mint_access(account);
    let mut body = json!({
        "access_token": access,
        "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
        "scope": scope,
        "token_type": "Bearer",
    });
    if rotate {
        let refresh = match style {
            Style::Google => creds.token("1//0gEmu"),
            Style::Microsoft => creds.token("M.C5emu"),
        };
        creds.refresh.insert(
            refresh.clone(),
            RefreshGrant {
                account: account.to_owned(),
                client_id: client.to_owned(),
                scope: scope.to_owned(),
                style,
            },
        );
        body["refresh_token"] = json!(refresh);
    }
    if style == Style::Microsoft {
        body["ext_expires_in"] = json!(ACCESS_TOKEN_LIFETIME.as_secs());
    }
    body
}

fn token(shared: &Shared, style: Style, form: TokenForm) -> Response {
    let invalid_grant = |d: &str| token_error(style, StatusCode::BAD_REQUEST, "invalid_grant", d);
    let client = form.client_id.clone().unwrap_or_default();
    let mut creds = shared.credentials();
    if !creds.known_client(style, &client) {
        return token_error(
            style,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    }
    if style == Style::Google
        && form
            .client_secret
            .as_deref()
            .is_some_and(|s| s != creds.google_client.1)
    {
        return token_error(
            style,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unauthorized",
        );
    }
    match form.grant_type.as_deref() {
        Some("authorization_code") => {
            let Some(grant) = form.code.as_deref().and_then(|c| creds.codes.remove(c)) else {
                return invalid_grant("Malformed auth code.");
            };
            if grant.issued.elapsed() > CODE_LIFETIME {
                return invalid_grant("The authorization code has expired.");
            }
            if grant.client_id != client
                || form.redirect_uri.as_deref() != Some(&grant.redirect_uri)
            {
                return invalid_grant(
                    "redirect_uri or client_id does not match the authorization request.",
                );
            }
            if let Some(challenge) = &grant.challenge {
                let Some(verifier) = form.code_verifier.as_deref() else {
                    return invalid_grant("Missing code verifier.");
                };
                let digest = Sha256::digest(verifier.as_bytes());
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
                if &computed != challenge {
                    return invalid_grant("Invalid code verifier.");
                }
            }
            let body = issue(
                &mut creds,
                style,
                &grant.account,
                &client,
                &grant.scope,
                true,
            );
            Json(body).into_response()
        }
        Some("refresh_token") => {
            let Some(token) = form.refresh_token.as_deref() else {
                return invalid_grant("Missing refresh token.");
            };
            let Some(grant) = creds.refresh.get(token).cloned() else {
                return invalid_grant("Token has been expired or revoked.");
            };
            if grant.client_id != client {
                return token_error(
                    style,
                    StatusCode::UNAUTHORIZED,
                    "unauthorized_client",
                    "Unauthorized",
                );
            }
            let rotate = grant.style == Style::Microsoft;
            if rotate {
                // Microsoft rotates: the old refresh token stops working.
                creds.refresh.remove(token);
            }
            let scope = form.scope.unwrap_or(grant.scope);
            let body = issue(&mut creds, style, &grant.account, &client, &scope, rotate);
            Json(body).into_response()
        }
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            let Some(code) = form.device_code else {
                return token_error(
                    style,
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing device_code.",
                );
            };
            let now = Instant::now();
            let Some(grant) = creds.device.get_mut(&code) else {
                return invalid_grant("Malformed device code.");
            };
            if now >= grant.expires {
                creds.device.remove(&code);
                return token_error(
                    style,
                    StatusCode::BAD_REQUEST,
                    "expired_token",
                    "The device code has expired.",
                );
            }
            let too_fast = grant
                .last_poll
                .is_some_and(|t| now.saturating_duration_since(t) < DEVICE_INTERVAL);
            grant.last_poll = Some(now);
            if !grant.approved {
                return if too_fast {
                    let status = if style == Style::Google {
                        StatusCode::FORBIDDEN
                    } else {
                        StatusCode::BAD_REQUEST
                    };
                    token_error(style, status, "slow_down", "Polling too frequently.")
                } else {
                    let status = if style == Style::Google {
                        StatusCode::PRECONDITION_REQUIRED
                    } else {
                        StatusCode::BAD_REQUEST
                    };
                    token_error(
                        style,
                        status,
                        "authorization_pending",
                        "Precondition Required",
                    )
                };
            }
            let grant = creds.device.remove(&code);
            let Some(grant) = grant else {
                return invalid_grant("Malformed device code.");
            };
            let body = issue(
                &mut creds,
                grant.style,
                &grant.account,
                &grant.client_id,
                &grant.scope,
                true,
            );
            Json(body).into_response()
        }
        _ => token_error(
            style,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type.",
        ),
    }
}

fn device_code(shared: &Shared, style: Style, form: DeviceForm) -> Response {
    let client = form.client_id.unwrap_or_default();
    let mut creds = shared.credentials();
    if !creds.known_client(style, &client) {
        return token_error(
            style,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    }
    let device_code = creds.token("AH-1Ng");
    let user_code: String = (0..8)
        .map(|i| {
            if i == 4 {
                '-'
            } else {
                char::from(b"BCDFGHJKLMNPQRSTVWXZ"[creds.rng.random_range(0..20)])
            }
        })
        .collect();
    let account = creds.account_for(style, None);
    let lifetime = match style {
        Style::Google => Duration::from_secs(1800),
        Style::Microsoft => Duration::from_secs(900),
    };
    creds.device.insert(
        device_code.clone(),
        DeviceGrant {
            account,
            client_id: client,
            user_code: user_code.clone(),
            scope: form.scope.unwrap_or_default(),
            style,
            approved: false,
            expires: Instant::now() + lifetime,
            last_poll: None,
        },
    );
    let verify = format!("{}/device", shared.base_url);
    let body = match style {
        Style::Google => json!({
            "device_code": device_code,
            "user_code": user_code,
            "expires_in": lifetime.as_secs(),
            "interval": DEVICE_INTERVAL.as_secs(),
            "verification_url": verify,
        }),
        Style::Microsoft => json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verify,
            "expires_in": lifetime.as_secs(),
            "interval": DEVICE_INTERVAL.as_secs(),
            "message": format!("To sign in, use a web browser to open the page {verify} and enter the code {user_code} to authenticate."),
        }),
    };
    Json(body).into_response()
}

/// Query of the device verification page.
#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    user_code: Option<String>,
}

/// `GET /device?user_code=...`: the user approves the device.
pub async fn verify_device(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<VerifyQuery>,
) -> Response {
    let code = q.user_code.unwrap_or_default();
    let mut creds = shared.credentials();
    let found = creds
        .device
        .values_mut()
        .find(|g| g.user_code.eq_ignore_ascii_case(&code));
    match found {
        Some(grant) => {
            grant.approved = true;
            Html("<!doctype html><title>Device approved</title><p>You may close this window.</p>")
                .into_response()
        }
        None => consent_error("That code was not recognised."),
    }
}

/// Google: `GET /o/oauth2/v2/auth`.
pub async fn google_authorize(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    authorize(&shared, Style::Google, q)
}

/// Google: `POST /token`.
pub async fn google_token(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<TokenForm>,
) -> Response {
    token(&shared, Style::Google, form)
}

/// Google: `POST /device/code`.
pub async fn google_device(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<DeviceForm>,
) -> Response {
    device_code(&shared, Style::Google, form)
}

/// Query or form of Google's revocation endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct RevokeParams {
    token: Option<String>,
}

/// Google: `POST /revoke?token=...` (or token in the form).
pub async fn google_revoke(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<RevokeParams>,
    body: String,
) -> Response {
    let from_form = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .map(str::to_owned);
    let Some(token) = q.token.or(from_form) else {
        return token_error(
            Style::Google,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: token",
        );
    };
    let mut creds = shared.credentials();
    let account = creds
        .refresh
        .get(&token)
        .map(|g| g.account.clone())
        .or_else(|| creds.access.get(&token).map(|g| g.account.clone()));
    match account {
        Some(account) => {
            // Revoking either token revokes the grant: both stop working.
            creds.revoke_account(&account);
            (StatusCode::OK, Json(json!({}))).into_response()
        }
        None => token_error(
            Style::Google,
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        ),
    }
}

/// Microsoft: `GET /{tenant}/oauth2/v2.0/authorize`.
pub async fn microsoft_authorize(
    State(shared): State<Arc<Shared>>,
    Path(_tenant): Path<String>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    authorize(&shared, Style::Microsoft, q)
}

/// Microsoft: `POST /{tenant}/oauth2/v2.0/token`.
pub async fn microsoft_token(
    State(shared): State<Arc<Shared>>,
    Path(_tenant): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    token(&shared, Style::Microsoft, form)
}

/// Microsoft: `POST /{tenant}/oauth2/v2.0/devicecode`.
pub async fn microsoft_device(
    State(shared): State<Arc<Shared>>,
    Path(_tenant): Path<String>,
    Form(form): Form<DeviceForm>,
) -> Response {
    device_code(&shared, Style::Microsoft, form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_redirects_are_accepted() {
        assert!(is_loopback("http://127.0.0.1:4311/callback"));
        assert!(is_loopback("http://localhost:80"));
        assert!(is_loopback("http://[::1]:9/x"));
        assert!(!is_loopback("https://127.0.0.1:4311/"));
        assert!(!is_loopback("http://evil.example/127.0.0.1"));
        assert!(!is_loopback("http://127.0.0.1.evil.example/"));
    }
}
