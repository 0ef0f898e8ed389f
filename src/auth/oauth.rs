//! The OAuth 2.0 client, through the `oauth2` crate: authorization code with
//! PKCE (S256) and a checked state, the code exchange, the device-code flow
//! (RFC 8628) for machines without a browser, and refresh.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::loopback::Loopback;
use super::{AuthError, Browser};
use crate::model::OAuthEndpoints;
use crate::secret::Secret;

/// How long the user has to finish signing in in the browser.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Timeout for each request to the token endpoint.
pub const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A provider's OAuth endpoints and this app's client registration, with
/// its client secret where it has one (a [`Secret`]: never printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    /// The endpoints, client id and scopes (as the account's settings keep them).
    pub endpoints: OAuthEndpoints,
    /// The client secret (Google desktop clients have one; it is not
    /// confidential, but is still kept out of logs and the database).
    pub client_secret: Option<Secret>,
}

/// Tokens as stored in the keychain (as JSON: a [`Secret`] serialises as
/// its plain string, so entries filed before it existed still read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// The bearer token.
    pub access_token: Secret,
    /// The refresh token, if the provider gave one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires, Unix seconds.
    pub expires_at: Option<u64>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Tokens {
    /// Whether the access token expires within `margin`.
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at
            .is_some_and(|at| at <= now_secs() + margin.as_secs())
    }
}

/// An OAuth client for one provider.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    config: OAuthConfig,
    http: reqwest::Client,
}

impl OAuthClient {
    /// A client for `config`. Redirects are not followed by the token
    /// requests, as the `oauth2` crate requires.
    pub fn new(config: OAuthConfig) -> Result<Self, AuthError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TOKEN_REQUEST_TIMEOUT)
            .build()
            .map_err(|e| AuthError::Config(e.to_string()))?;
        Ok(Self { config, http })
    }

    fn token_tokens<T: TokenResponse>(response: &T, old_refresh: Option<&Secret>) -> Tokens {
        Tokens {
            access_token: Secret::new(response.access_token().secret().clone()),
            refresh_token: response
                .refresh_token()
                .map(|r| Secret::new(r.secret().clone()))
                .or_else(|| old_refresh.cloned()),
            expires_at: response.expires_in().map(|d| now_secs() + d.as_secs()),
        }
    }

    /// Runs the installed-app flow: binds a loopback redirect, shows the
    /// authorization URL through `browser`, waits for the redirect, checks
    /// the state and redeems the code with the PKCE verifier.
    pub async fn authorize(&self, browser: &dyn Browser) -> Result<Tokens, AuthError> {
        let loopback = Loopback::bind().await?;
        let redirect = RedirectUrl::new(loopback.redirect_uri.clone())
            .map_err(|e| AuthError::Config(e.to_string()))?;
        let client = self.basic_client()?.set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        for scope in &self.config.endpoints.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state) = request.url();
        let waiting = tokio::spawn(loopback.wait(state.secret().clone(), SIGN_IN_TIMEOUT));
        if let Err(e) = browser.open(url.as_str()).await {
            waiting.abort();
            return Err(e);
        }
        let redirect = waiting
            .await
            .map_err(|e| AuthError::Io(std::io::Error::other(e)))??;
        if redirect.state != *state.secret() {
            return Err(AuthError::StateMismatch);
        }
        let response = client
            .exchange_code(AuthorizationCode::new(redirect.code.expose().to_owned()))
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(Self::token_tokens(&response, None))
    }

    /// Runs the device-code flow: asks the provider for a code, shows it
    /// through `browser` (the address to open and the code to type), and
    /// polls the token endpoint at the interval the provider asks for
    /// (slower when told to slow down) until the user approves, refuses,
    /// or the code expires.
    pub async fn authorize_device(&self, browser: &dyn Browser) -> Result<Tokens, AuthError> {
        let url = self
            .config
            .endpoints
            .device_code_url
            .clone()
            .ok_or_else(|| AuthError::Config("this provider has no device-code sign-in".into()))?;
        let client = self.basic_client()?.set_device_authorization_url(
            DeviceAuthorizationUrl::new(url).map_err(|e| AuthError::Config(e.to_string()))?,
        );
        let mut request = client.exchange_device_code();
        for scope in &self.config.endpoints.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let details: StandardDeviceAuthorizationResponse = request
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        let code = DeviceCode {
            verification_uri: details.verification_uri().to_string(),
            user_code: details.user_code().secret().clone(),
            expires_in: details.expires_in(),
        };
        browser.show_device_code(&code).await?;
        let response = client
            .exchange_device_access_token(&details)
            .request_async(&self.http, tokio::time::sleep, None)
            .await
            .map_err(device_error)?;
        Ok(Self::token_tokens(&response, None))
    }

    /// Exchanges a refresh token for a new access token (and, where the
    /// provider rotates them, a new refresh token).
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<Tokens, AuthError> {
        let response = self
            .basic_client()?
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(Self::token_tokens(&response, Some(refresh_token)))
    }

    fn basic_client(
        &self,
    ) -> Result<
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        AuthError,
    > {
        let config_err = |e: oauth2::url::ParseError| AuthError::Config(e.to_string());
        let mut client = BasicClient::new(ClientId::new(self.config.endpoints.client_id.clone()))
            .set_auth_uri(AuthUrl::new(self.config.endpoints.auth_url.clone()).map_err(config_err)?)
            .set_token_uri(
                TokenUrl::new(self.config.endpoints.token_url.clone()).map_err(config_err)?,
            )
            // Installed-app clients send their id (and secret) in the body.
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = &self.config.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
        }
        Ok(client)
    }
}

/// What the user needs to approve a device sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    /// The address to open, on any device.
    pub verification_uri: String,
    /// The code to type there.
    pub user_code: String,
    /// How long the code is good for.
    pub expires_in: Duration,
}

fn device_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, oauth2::DeviceCodeErrorResponse>,
) -> AuthError {
    use oauth2::DeviceCodeErrorResponseType as Kind;
    match e {
        RequestTokenError::ServerResponse(r) => match r.error() {
            Kind::ExpiredToken => AuthError::Timeout,
            Kind::AccessDenied => AuthError::Denied(
                r.error_description()
                    .cloned()
                    .unwrap_or_else(|| "the sign-in was declined".into()),
            ),
            other => AuthError::Rejected(format!(
                "{other}{}",
                r.error_description()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            )),
        },
        RequestTokenError::Request(e) => AuthError::Unreachable(e.to_string()),
        RequestTokenError::Parse(e, _) => AuthError::Unreachable(format!("unreadable answer: {e}")),
        RequestTokenError::Other(e) => AuthError::Unreachable(e),
    }
}

fn token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> AuthError {
    match e {
        RequestTokenError::ServerResponse(r) => AuthError::Rejected(format!(
            "{}{}",
            r.error(),
            r.error_description()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )),
        RequestTokenError::Request(e) => AuthError::Unreachable(e.to_string()),
        RequestTokenError::Parse(e, _) => AuthError::Unreachable(format!("unreadable answer: {e}")),
        RequestTokenError::Other(e) => AuthError::Unreachable(e),
    }
}
