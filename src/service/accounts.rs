//! Accounts from the window: add one by signing in, sign in again, switch
//! an account's sync on or off.
//!
//! Gmail and Microsoft 365 sign in with OAuth (authorization code, PKCE, a
//! loopback redirect) in the system browser the caller provides; Azure
//! DevOps with a personal access token, checked against the organisation
//! before it is kept. Secrets go to the keychain, never to the database.

use serde_json::json;

use super::{Ember, ServiceError};
use crate::auth::{self, AuthError, Browser, OAuthClient, OAuthConfig};
use crate::demo::SyncWindow;
use crate::model::{Account, AccountId, AddAccount, NewAccount, ProviderKind};
use crate::providers::gmail::account::{self as gmail_account, GmailSignIn};

/// Microsoft's authorization endpoint (any tenant).
pub const MICROSOFT_AUTH_URL: &str =
    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
/// Microsoft's token endpoint.
pub const MICROSOFT_TOKEN_URL: &str = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
/// Microsoft Graph v1.0.
pub const GRAPH_API_BASE: &str = "https://graph.microsoft.com/v1.0";
/// Read and change mail, and stay signed in.
pub const GRAPH_SCOPES: [&str; 2] = [
    "https://graph.microsoft.com/Mail.ReadWrite",
    "offline_access",
];
/// Azure DevOps' REST host.
pub const ADO_API_BASE: &str = "https://dev.azure.com";

impl Ember {
    /// Adds an account by signing in through `browser` (OAuth) or with the
    /// given personal access token, then starts syncing it.
    pub async fn sign_in(
        &self,
        add: AddAccount,
        browser: &dyn Browser,
    ) -> Result<Account, ServiceError> {
        self.ensure_running()?;
        let base = add
            .base_url
            .as_deref()
            .map(|b| b.trim().trim_end_matches('/').to_owned())
            .filter(|b| !b.is_empty());
        if let Some(b) = &base {
            check_base_url(b)?;
        }
        match add.provider {
            ProviderKind::Gmail => {
                let client_id = required(add.client_id, "a Google OAuth client id")?;
                gmail_account::sign_in(
                    self,
                    GmailSignIn {
                        client_id,
                        client_secret: add.client_secret.filter(|s| !s.is_empty()),
                        base_url: base,
                        window: SyncWindow::Days(self.settings().await?.initial_sync_days),
                        demo: false,
                    },
                    browser,
                )
                .await
                .map_err(|e| match e {
                    gmail_account::SignInError::Service(s) => s,
                    other => ServiceError::SignIn(other.to_string()),
                })
            }
            ProviderKind::Graph => {
                let client_id = required(add.client_id, "a Microsoft application (client) id")?;
                let (auth_url, token_url, api_base) = match &base {
                    Some(b) => (
                        format!("{b}/common/oauth2/v2.0/authorize"),
                        format!("{b}/common/oauth2/v2.0/token"),
                        format!("{b}/v1.0"),
                    ),
                    None => (
                        MICROSOFT_AUTH_URL.to_owned(),
                        MICROSOFT_TOKEN_URL.to_owned(),
                        GRAPH_API_BASE.to_owned(),
                    ),
                };
                let config = OAuthConfig {
                    auth_url,
                    token_url,
                    client_id,
                    client_secret: add.client_secret.filter(|s| !s.is_empty()),
                    scopes: GRAPH_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                };
                graph_sign_in(self, config, &api_base, false, browser).await
            }
            ProviderKind::Ado => {
                let organization = required(add.organization, "the Azure DevOps organisation")?;
                let pat = required(add.pat, "a personal access token")?;
                let api_base = base.unwrap_or_else(|| ADO_API_BASE.to_owned());
                ado_sign_in(self, &api_base, &organization, &pat, false).await
            }
        }
    }

    /// Signs an OAuth account in again (after "needs re-auth"), keeping its
    /// mail; its next run starts at once.
    pub async fn reauthenticate(
        &self,
        id: AccountId,
        browser: &dyn Browser,
    ) -> Result<Account, ServiceError> {
        self.ensure_running()?;
        let account = self.store.account(id).await?;
        if account.provider == ProviderKind::Ado {
            return Err(ServiceError::SignIn(
                "Azure DevOps signs in with a personal access token: add the account again with a new token.".into(),
            ));
        }
        let mut settings = self.store.account_settings(id).await?;
        let oauth = &settings["oauth"];
        let text = |key: &str| oauth[key].as_str().map(str::to_owned);
        let (Some(auth_url), Some(token_url), Some(client_id)) =
            (text("auth_url"), text("token_url"), text("client_id"))
        else {
            return Err(ServiceError::SignIn(
                "this account has no sign-in settings; remove it and add it again".into(),
            ));
        };
        let scopes = oauth["scopes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let secrets = self.secrets().await;
        let client_secret = secrets
            .get(&auth::client_secret_key(id))
            .await
            .map_err(sign_in_error)?;
        let config = OAuthConfig {
            auth_url,
            token_url,
            client_id,
            client_secret: client_secret.clone(),
            scopes,
        };
        let tokens = OAuthClient::new(config)
            .map_err(sign_in_error)?
            .authorize(browser)
            .await
            .map_err(sign_in_error)?;
        // The client secret is unchanged; filing it again keeps it as it was.
        auth::file_sign_in(secrets, id, &tokens, client_secret.as_deref())
            .await
            .map_err(sign_in_error)?;
        // New settings make the sync source drop its old token source.
        settings["signed_in_at"] = json!(crate::store::now_ms());
        self.store.set_account_settings(id, &settings).await?;
        tracing::info!(account = id, "signed in again");
        self.account_signed_in(id).await
    }

    /// Switches one account's sync on or off (the global switch applies on
    /// top). Switching on starts a run at once.
    pub async fn set_account_sync(
        &self,
        id: AccountId,
        enabled: bool,
    ) -> Result<Account, ServiceError> {
        self.ensure_running()?;
        self.store.set_account_sync_enabled(id, enabled).await?;
        if enabled {
            self.sync.sync_now(Some(id));
        }
        let account = self.store.account(id).await?;
        let record = self.store.sync_record(id).await?;
        self.sync.publish_state(&account, &record);
        self.events
            .publish(crate::events::Event::DataChanged { account_id: None });
        Ok(account)
    }
}

/// Signs a Microsoft 365 mailbox in with `config`, learning its address
/// from Graph's `/me`.
pub(crate) async fn graph_sign_in(
    ember: &Ember,
    config: OAuthConfig,
    api_base: &str,
    demo: bool,
    browser: &dyn Browser,
) -> Result<Account, ServiceError> {
    let tokens = OAuthClient::new(config.clone())
        .map_err(sign_in_error)?
        .authorize(browser)
        .await
        .map_err(sign_in_error)?;
    let me: serde_json::Value = http_client()?
        .get(format!("{api_base}/me"))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| {
            ServiceError::SignIn(format!(
                "Microsoft Graph did not say whose mailbox this is: {e}"
            ))
        })?
        .json()
        .await
        .map_err(|e| {
            ServiceError::SignIn(format!("Microsoft Graph answered /me unreadably: {e}"))
        })?;
    let address = me["mail"]
        .as_str()
        .or_else(|| me["userPrincipalName"].as_str())
        .filter(|a| a.contains('@'))
        .ok_or_else(|| ServiceError::SignIn("Microsoft Graph returned no mailbox address".into()))?
        .to_owned();
    let account = ember
        .add_account(NewAccount {
            provider: ProviderKind::Graph,
            address: address.clone(),
            display_name: if demo {
                "Microsoft 365 (demo)".into()
            } else {
                address
            },
            settings: json!({
                "demo": demo,
                "api_base": api_base,
                "oauth": {
                    "auth_url": config.auth_url,
                    "token_url": config.token_url,
                    "client_id": config.client_id,
                    "scopes": config.scopes,
                },
                "signed_in_at": crate::store::now_ms(),
            }),
            sync_enabled: false,
        })
        .await?;
    auth::file_sign_in(
        ember.secrets().await,
        account.id,
        &tokens,
        config.client_secret.as_deref(),
    )
    .await
    .map_err(sign_in_error)?;
    ember.account_signed_in(account.id).await
}

/// Checks `pat` against `organization` (listing its projects) and keeps
/// the account with the projects found.
pub(crate) async fn ado_sign_in(
    ember: &Ember,
    api_base: &str,
    organization: &str,
    pat: &str,
    demo: bool,
) -> Result<Account, ServiceError> {
    let organization = organization.trim().trim_matches('/');
    if organization.is_empty() || organization.contains(['/', '?', '#', ' ']) {
        return Err(ServiceError::InvalidInput(format!(
            "\"{organization}\" is not an Azure DevOps organisation name"
        )));
    }
    let answer: serde_json::Value = http_client()?
        .get(format!(
            "{api_base}/{organization}/_apis/projects?api-version=7.1"
        ))
        .basic_auth("", Some(pat))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| {
            ServiceError::SignIn(format!(
                "Azure DevOps refused the token for {organization}: {e}"
            ))
        })?
        .json()
        .await
        .map_err(|e| ServiceError::SignIn(format!("Azure DevOps answered unreadably: {e}")))?;
    let projects: Vec<String> = answer["value"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let account = ember
        .add_account(NewAccount {
            provider: ProviderKind::Ado,
            // The organisation, not the host: the account stays the same one
            // when the host changes (the emulator's port, in demo mode).
            address: organization.to_owned(),
            display_name: if demo {
                "Azure DevOps (demo)".into()
            } else {
                format!("Azure DevOps: {organization}")
            },
            settings: json!({
                "demo": demo,
                "api_base": api_base,
                "organization": organization,
                "projects": projects,
            }),
            sync_enabled: false,
        })
        .await?;
    ember
        .secrets()
        .await
        .set(&auth::pat_key(account.id), pat)
        .await
        .map_err(sign_in_error)?;
    ember.account_signed_in(account.id).await
}

fn http_client() -> Result<reqwest::Client, ServiceError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| ServiceError::SignIn(e.to_string()))
}

fn sign_in_error(e: AuthError) -> ServiceError {
    ServiceError::SignIn(e.to_string())
}

fn required(value: Option<String>, what: &str) -> Result<String, ServiceError> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ServiceError::InvalidInput(format!("Signing in needs {what}.")))
}

/// Only http(s) base URLs; plain http only to this machine (the emulator).
fn check_base_url(base: &str) -> Result<(), ServiceError> {
    let url = reqwest::Url::parse(base)
        .map_err(|e| ServiceError::InvalidInput(format!("\"{base}\" is not a URL: {e}")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(ServiceError::InvalidInput(format!(
            "\"{base}\" must be an https address (plain http only on this machine)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_https_or_loopback() {
        assert!(check_base_url("https://example.com").is_ok());
        assert!(check_base_url("http://127.0.0.1:4000").is_ok());
        assert!(check_base_url("http://example.com").is_err());
        assert!(check_base_url("file:///etc/passwd").is_err());
        assert!(check_base_url("not a url").is_err());
    }

    #[test]
    fn blank_required_fields_are_refused() {
        assert!(required(Some("  ".into()), "x").is_err());
        assert!(required(None, "x").is_err());
        assert_eq!(required(Some(" id ".into()), "x").ok(), Some("id".into()));
    }
}
