//! Demo mode: three accounts (Gmail, Microsoft 365, Azure DevOps) served by
//! the emulator, signed in through the same OAuth code + PKCE path real
//! accounts use, so a newcomer's first run shows a working client.
//!
//! The emulator builds the same world for the same seed, so a later run
//! points the demo accounts at a fresh emulator and the local store still
//! matches what it serves.

use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, AuthError, DirectBrowser, OAuthClient, OAuthConfig};
use crate::model::{Account, NewAccount, ProviderKind};
use crate::providers::gmail::account as gmail_account;
use crate::service::{Ember, ServiceError};

/// How much history demo accounts sync at first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncWindow {
    /// The last this many days.
    Days(u32),
    /// Everything.
    All,
}

impl SyncWindow {
    /// Parses `90` or `all`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("all") {
            Some(Self::All)
        } else {
            text.parse().ok().filter(|d| *d > 0).map(Self::Days)
        }
    }

    /// As stored in account settings: a number of days or `"all"`.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Self::Days(d) => json!(d),
            Self::All => json!("all"),
        }
    }
}

/// Why demo set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The emulator could not be reached or answered nonsense.
    #[error("the emulator at {url} cannot be used: {reason}")]
    Emulator {
        /// Its address.
        url: String,
        /// Why.
        reason: String,
    },
    /// Signing in failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Storing the accounts failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

#[derive(Debug, Deserialize)]
struct EmulatorAccounts {
    gmail: OAuthSide,
    graph: OAuthSide,
    ado: AdoSide,
}

#[derive(Debug, Deserialize)]
struct OAuthSide {
    client_id: String,
    client_secret: Option<String>,
    auth_url: String,
    token_url: String,
    api_base: String,
    accounts: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct AdoSide {
    organization: String,
    pat: String,
    api_base: String,
    projects: Vec<String>,
}

/// Adds (or re-points) the three demo accounts at the emulator at
/// `emulator_url`, signing in to each. Returns them.
pub async fn setup(
    ember: &Ember,
    emulator_url: &str,
    window: SyncWindow,
) -> Result<Vec<Account>, DemoError> {
    let url = emulator_url.trim_end_matches('/');
    let emulator_err = |reason: String| DemoError::Emulator {
        url: url.to_owned(),
        reason,
    };
    let info: EmulatorAccounts = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| emulator_err(e.to_string()))?
        .get(format!("{url}/_emulator/accounts"))
        .send()
        .await
        .map_err(|e| emulator_err(e.to_string()))?
        .json()
        .await
        .map_err(|e| emulator_err(e.to_string()))?;
    let secrets = ember.secrets().await;
    // Gmail through the same sign-in as `ember account add gmail`.
    let gmail = gmail_account::sign_in(
        ember,
        gmail_account::GmailSignIn {
            client_id: info.gmail.client_id.clone(),
            client_secret: info.gmail.client_secret.clone(),
            base_url: Some(info.gmail.api_base.clone()),
            window,
            demo: true,
        },
        &DirectBrowser::new(),
    )
    .await
    .map_err(|e| match e {
        gmail_account::SignInError::Auth(a) => DemoError::Auth(a),
        gmail_account::SignInError::Service(s) => DemoError::Service(s),
        other => emulator_err(other.to_string()),
    })?;
    let mut accounts = vec![gmail];

    for (provider, side, name, scopes) in [(
        ProviderKind::Graph,
        &info.graph,
        "Microsoft 365 (demo)",
        vec![
            "https://graph.microsoft.com/Mail.ReadWrite".to_owned(),
            "offline_access".to_owned(),
        ],
    )] {
        let address = side
            .accounts
            .first()
            .ok_or_else(|| emulator_err(format!("no {} account", provider.as_str())))?;
        let config = OAuthConfig {
            auth_url: side.auth_url.clone(),
            token_url: side.token_url.clone(),
            client_id: side.client_id.clone(),
            client_secret: side.client_secret.clone(),
            scopes,
        };
        let tokens = OAuthClient::new(config.clone())?
            .authorize(&DirectBrowser::new())
            .await?;
        let account = ember
            .add_account(NewAccount {
                provider,
                address: address.clone(),
                display_name: name.into(),
                settings: json!({
                    "demo": true,
                    "api_base": side.api_base,
                    "oauth": {
                        "auth_url": config.auth_url,
                        "token_url": config.token_url,
                        "client_id": config.client_id,
                        "scopes": config.scopes,
                    },
                    "sync_window_days": window.to_json(),
                }),
                sync_enabled: false,
            })
            .await?;
        let serialized =
            serde_json::to_string(&tokens).map_err(|e| AuthError::Storage(e.to_string()))?;
        secrets
            .set(&auth::tokens_key(account.id), &serialized)
            .await?;
        if let Some(secret) = &side.client_secret {
            secrets
                .set(&auth::client_secret_key(account.id), secret)
                .await?;
        }
        accounts.push(ember.account_signed_in(account.id).await?);
    }

    let ado = ember
        .add_account(NewAccount {
            provider: ProviderKind::Ado,
            // The organisation, not the emulator's address: that changes
            // every run, and the account must stay the same one.
            address: info.ado.organization.clone(),
            display_name: "Azure DevOps (demo)".into(),
            settings: json!({
                "demo": true,
                "api_base": info.ado.api_base,
                "organization": info.ado.organization,
                "projects": info.ado.projects,
            }),
            sync_enabled: false,
        })
        .await?;
    secrets.set(&auth::pat_key(ado.id), &info.ado.pat).await?;
    let ado = ember.account_signed_in(ado.id).await?;
    accounts.push(ado);
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::SyncWindow;

    #[test]
    fn windows_parse() {
        assert_eq!(SyncWindow::parse("90"), Some(SyncWindow::Days(90)));
        assert_eq!(SyncWindow::parse("ALL"), Some(SyncWindow::All));
        assert_eq!(SyncWindow::parse("0"), None);
        assert_eq!(SyncWindow::parse("soon"), None);
    }
}
