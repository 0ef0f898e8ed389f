//! Signing a Gmail account in: the installed-app OAuth flow with the user's
//! own Google Cloud desktop client, the profile read to learn the address,
//! and the account filed with its tokens in the keychain.

use serde_json::json;

use super::client::GOOGLE_API_BASE;
use crate::auth::{self, AuthError, Browser, OAuthClient, OAuthConfig, Tokens};
use crate::demo::SyncWindow;
use crate::model::{Account, NewAccount, ProviderKind};
use crate::service::{Ember, ServiceError};

/// Google's authorization endpoint.
pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's token endpoint.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Read, label and move mail; no permanent deletion, no settings.
pub const GMAIL_SCOPE: &str = "https://www.googleapis.com/auth/gmail.modify";

/// What signing in needs.
#[derive(Debug, Clone)]
pub struct GmailSignIn {
    /// The OAuth client id (a Google Cloud "Desktop app" client).
    pub client_id: String,
    /// Its client secret.
    pub client_secret: Option<String>,
    /// A stand-in for Google's hosts (the emulator); `None` for Google.
    pub base_url: Option<String>,
    /// How much mail the first sync fetches.
    pub window: SyncWindow,
    /// Mark the account as demo data.
    pub demo: bool,
}

/// Why signing in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The OAuth flow failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Gmail did not say whose mailbox this is.
    #[error("Gmail did not return the mailbox address: {0}")]
    Profile(String),
    /// Storing the account failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Runs the sign-in through `browser` and adds (or updates) the account.
pub async fn sign_in(
    ember: &Ember,
    options: GmailSignIn,
    browser: &dyn Browser,
) -> Result<Account, SignInError> {
    let base = options
        .base_url
        .as_deref()
        .map(|b| b.trim_end_matches('/').to_owned());
    let (auth_url, token_url, api_base) = match &base {
        Some(b) => (
            format!("{b}/o/oauth2/v2/auth"),
            format!("{b}/token"),
            b.clone(),
        ),
        None => (
            GOOGLE_AUTH_URL.to_owned(),
            GOOGLE_TOKEN_URL.to_owned(),
            GOOGLE_API_BASE.to_owned(),
        ),
    };
    let config = OAuthConfig {
        auth_url,
        token_url,
        client_id: options.client_id.clone(),
        client_secret: options.client_secret.clone(),
        scopes: vec![GMAIL_SCOPE.to_owned()],
    };
    let tokens = OAuthClient::new(config.clone())?.authorize(browser).await?;
    let address = mailbox_address(&api_base, &tokens).await?;
    let account = ember
        .add_account(NewAccount {
            provider: ProviderKind::Gmail,
            address: address.clone(),
            display_name: if options.demo {
                "Gmail (demo)".into()
            } else {
                address
            },
            settings: json!({
                "demo": options.demo,
                "api_base": api_base,
                "oauth": {
                    "auth_url": config.auth_url,
                    "token_url": config.token_url,
                    "client_id": config.client_id,
                    "scopes": config.scopes,
                },
                "sync_window_days": options.window.to_json(),
                // A new sign-in changes the settings, so the sync source
                // drops any token source still holding the old tokens.
                "signed_in_at": crate::store::now_ms(),
            }),
            sync_enabled: false,
        })
        .await?;
    auth::file_sign_in(
        ember.secrets().await,
        account.id,
        &tokens,
        options.client_secret.as_deref(),
    )
    .await?;
    // Only now may it sync: its credentials are where the first run looks.
    Ok(ember.account_signed_in(account.id).await?)
}

async fn mailbox_address(api_base: &str, tokens: &Tokens) -> Result<String, SignInError> {
    let profile: serde_json::Value = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| SignInError::Profile(e.to_string()))?
        .get(format!("{api_base}/gmail/v1/users/me/profile"))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .map_err(|e| SignInError::Profile(e.to_string()))?
        .error_for_status()
        .map_err(|e| SignInError::Profile(e.to_string()))?
        .json()
        .await
        .map_err(|e| SignInError::Profile(e.to_string()))?;
    profile["emailAddress"]
        .as_str()
        .filter(|a| a.contains('@'))
        .map(str::to_owned)
        .ok_or_else(|| SignInError::Profile("no emailAddress in the profile".into()))
}
