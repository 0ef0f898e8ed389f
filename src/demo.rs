//! Demo mode: three accounts (Gmail, Microsoft 365, Azure DevOps) served by
//! the emulator, signed in through the same OAuth code + PKCE path real
//! accounts use, so a newcomer's first run shows a working client.
//!
//! The emulator builds the same world for the same seed, so a later run
//! points the demo accounts at a fresh emulator and the local store still
//! matches what it serves.

use serde::Deserialize;
use serde_json::json;

use crate::auth::{AuthError, DirectBrowser, OAuthConfig};
use crate::model::Account;
use crate::providers::gmail::account as gmail_account;
use crate::service::{ado_sign_in, graph_sign_in, Ember, ServiceError, GRAPH_SCOPES};

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
}

#[derive(Debug, Deserialize)]
struct AdoSide {
    organization: String,
    pat: String,
    api_base: String,
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

    let graph = &info.graph;
    let config = OAuthConfig {
        auth_url: graph.auth_url.clone(),
        token_url: graph.token_url.clone(),
        client_id: graph.client_id.clone(),
        client_secret: graph.client_secret.clone(),
        scopes: GRAPH_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
    };
    accounts
        .push(graph_sign_in(ember, config, &graph.api_base, true, &DirectBrowser::new()).await?);
    accounts.push(
        ado_sign_in(
            ember,
            &info.ado.api_base,
            &info.ado.organization,
            &info.ado.pat,
            true,
        )
        .await?,
    );
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
