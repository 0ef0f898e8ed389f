//! Signing in: the OAuth 2.0 installed-app flow (authorization code with
//! PKCE, a loopback redirect on 127.0.0.1, the system browser) that Gmail and
//! Microsoft 365 use, token refresh, and where credentials are kept: the OS
//! keychain, or memory for this run when no keychain can be reached.
//!
//! Tokens and personal access tokens never go to SQLite, logs or the window:
//! they travel as [`crate::secret::Secret`]s, which print as a placeholder.

mod browser;
mod loopback;
mod oauth;
mod secrets;
mod token_source;

pub use browser::{is_sign_in_page, Browser, DirectBrowser, PrintBrowser};
pub use oauth::{DeviceCode, OAuthClient, OAuthConfig, Tokens};
pub use secrets::{SecretStorage, Secrets, SecretsSlot, StoreChoice, SECRETS_FILE, STORE_ENV};
pub use token_source::TokenSource;

use crate::secret::Secret;

/// What can go wrong while signing in or handling credentials.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The provider configuration is unusable (a bad URL, a missing id).
    #[error("sign-in is misconfigured: {0}")]
    Config(String),
    /// The user (or provider) refused consent.
    #[error("sign-in was refused: {0}")]
    Denied(String),
    /// The redirect carried a state we did not send: possibly forged.
    #[error("sign-in was abandoned: the answer did not match the request")]
    StateMismatch,
    /// Nobody came back to the loopback redirect in time.
    #[error("sign-in timed out waiting for the browser")]
    Timeout,
    /// The browser could not be opened or the redirect could not be read.
    #[error("sign-in failed: {0}")]
    Io(#[from] std::io::Error),
    /// The token endpoint refused the code or refresh token.
    #[error("the provider refused the credentials: {0}")]
    Rejected(String),
    /// The token endpoint could not be reached or answered nonsense.
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    /// The keychain failed.
    #[error("cannot use the keychain: {0}")]
    Storage(String),
}

impl AuthError {
    /// Whether the user must sign in again (as opposed to a passing fault).
    pub fn needs_reauth(&self) -> bool {
        matches!(self, Self::Rejected(_) | Self::Denied(_))
    }
}

/// Keychain key of an account's OAuth tokens.
pub fn tokens_key(account: i64) -> String {
    format!("account:{account}:tokens")
}

/// Keychain key of an account's OAuth client secret.
pub fn client_secret_key(account: i64) -> String {
    format!("account:{account}:client-secret")
}

/// Keychain key of an Azure DevOps account's personal access token.
pub fn pat_key(account: i64) -> String {
    format!("account:{account}:pat")
}

/// Files a fresh sign-in of `account` in the keychain: its tokens, and its
/// OAuth client secret (or the removal of a stale one).
pub async fn file_sign_in(
    secrets: &Secrets,
    account: i64,
    tokens: &Tokens,
    client_secret: Option<&Secret>,
) -> Result<(), AuthError> {
    let serialized =
        Secret::new(serde_json::to_string(tokens).map_err(|e| AuthError::Storage(e.to_string()))?);
    secrets.set(&tokens_key(account), &serialized).await?;
    match client_secret {
        Some(secret) => secrets.set(&client_secret_key(account), secret).await,
        None => secrets.delete(&client_secret_key(account)).await,
    }
}
