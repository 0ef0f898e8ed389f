//! Signing in, for every provider: the one home of adding an account,
//! signing one in again, and filing its credentials.
//!
//! Gmail and Microsoft 365 sign in with OAuth: the authorization code with
//! PKCE through a browser the caller provides (the window's system browser,
//! the CLI's printed address), or the device-code flow for machines without
//! a browser. Azure DevOps signs in with a personal access token, checked
//! against the organisation before it is kept. Then the provider says whose
//! account it is, through the same HTTP client, timeouts, retries and limits
//! as sync, and the account is filed: typed settings in the database,
//! secrets in the keychain, and only then is it allowed to sync.

use std::sync::Arc;
use std::time::Duration;

use super::{Ember, ServiceError};
use crate::auth::{self, AuthError, Browser, OAuthClient, OAuthConfig, Tokens};
use crate::model::{
    Account, AccountId, AccountSettings, AddAccount, AdoSettings, MailSettings, NewAccount,
    OAuthEndpoints, ProviderKind, SyncWindow,
};
use crate::providers::ado::{AdoClient, ADO_API_BASE};
use crate::providers::gmail::client::{GmailClient, GOOGLE_API_BASE};
use crate::providers::graph::client::GraphClient;
use crate::providers::graph::{self, GRAPH_API_BASE, GRAPH_SCOPES, MICROSOFT_LOGIN};
use crate::providers::http::{CallStats, Http};
use crate::providers::retry::RetryPolicy;
use crate::providers::{AccountLimits, BearerToken, PatCredential, ProviderError};
use crate::secret::Secret;

/// Google's authorization endpoint.
pub const GOOGLE_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's token endpoint.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's device authorization endpoint.
pub const GOOGLE_DEVICE_URL: &str = "https://oauth2.googleapis.com/device/code";
/// Read, label and move mail, and send it; no permanent deletion, no settings.
pub const GMAIL_SCOPE: &str = "https://www.googleapis.com/auth/gmail.modify";

/// How long a sign-in's identity check keeps retrying a failing provider:
/// someone is waiting.
const PROBE_RETRY: Duration = Duration::from_secs(20);

/// An OAuth sign-in to carry out.
#[derive(Debug, Clone)]
pub(crate) struct OAuthSignIn {
    /// Gmail or Microsoft 365.
    pub provider: ProviderKind,
    /// The endpoints and client registration.
    pub config: OAuthConfig,
    /// The API the account syncs from.
    pub api_base: String,
    /// Its own first-sync window (`None`: the global setting).
    pub window: Option<SyncWindow>,
    /// Demo data.
    pub demo: bool,
    /// The device-code flow instead of the browser.
    pub device_code: bool,
}

impl Ember {
    /// Adds an account by signing in through `browser` (OAuth) or with the
    /// given personal access token, then starts syncing it.
    pub async fn sign_in(
        &self,
        add: AddAccount,
        browser: &dyn Browser,
    ) -> Result<Account, ServiceError> {
        self.sign_in_with_window(add, None, browser).await
    }

    /// [`Ember::sign_in`], with the account's own first-sync window
    /// (`None`: the global setting). Azure DevOps has none.
    pub async fn sign_in_with_window(
        &self,
        add: AddAccount,
        window: Option<SyncWindow>,
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
        let client_secret = add.client_secret.clone().filter(|s| !s.is_blank());
        match add.provider {
            ProviderKind::Gmail => {
                let client_id = required(add.client_id, "a Google OAuth client id")?;
                let mut plan = gmail_plan(base.as_deref(), client_id, client_secret);
                plan.window = window;
                oauth_sign_in(self, plan, add.device_code, browser).await
            }
            ProviderKind::Graph => {
                let client_id = required(add.client_id, "a Microsoft application (client) id")?;
                let tenant = add
                    .tenant
                    .as_deref()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .unwrap_or("common");
                if !tenant
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                {
                    return Err(ServiceError::InvalidInput(format!(
                        "\"{tenant}\" is not a Microsoft tenant (a name, domain or id)"
                    )));
                }
                let mut plan = graph_plan(base.as_deref(), tenant, client_id, client_secret);
                plan.window = window;
                oauth_sign_in(self, plan, add.device_code, browser).await
            }
            ProviderKind::Ado => {
                let organization = required(add.organization, "the Azure DevOps organisation")?;
                let pat = add
                    .pat
                    .map(|p| Secret::new(p.expose().trim()))
                    .filter(|p| !p.is_blank())
                    .ok_or_else(|| {
                        ServiceError::InvalidInput(
                            "Signing in needs a personal access token.".into(),
                        )
                    })?;
                let host = base.unwrap_or_else(|| ADO_API_BASE.to_owned());
                ado_sign_in(self, &host, &organization, &pat, false).await
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
        let AccountSettings::Mail(mut settings) = self.store.account_settings(id).await? else {
            return Err(ServiceError::SignIn(
                "Azure DevOps signs in with a personal access token: add the account again with a new token.".into(),
            ));
        };
        let secrets = self.secrets().await;
        let client_secret = secrets
            .get(&auth::client_secret_key(id))
            .await
            .map_err(sign_in_error)?;
        let config = OAuthConfig {
            endpoints: settings.oauth.clone(),
            client_secret: client_secret.clone(),
        };
        let tokens = OAuthClient::new(config)
            .map_err(sign_in_error)?
            .authorize(browser)
            .await
            .map_err(sign_in_error)?;
        // The client secret is unchanged; filing it again keeps it as it was.
        auth::file_sign_in(secrets, id, &tokens, client_secret.as_ref())
            .await
            .map_err(sign_in_error)?;
        // New settings make the sync source drop its old token source.
        settings.signed_in_at = crate::store::now_ms();
        self.store
            .set_account_settings(id, &AccountSettings::Mail(settings))
            .await?;
        tracing::info!(account = id, "signed in again");
        self.account_signed_in(id).await
    }
}

/// Gmail at Google, or at a stand-in's `base`.
pub(crate) fn gmail_plan(
    base: Option<&str>,
    client_id: String,
    client_secret: Option<Secret>,
) -> OAuthSignIn {
    let (auth_url, token_url, device_code_url, api_base) = match base {
        Some(b) => (
            format!("{b}/o/oauth2/v2/auth"),
            format!("{b}/token"),
            format!("{b}/device/code"),
            b.to_owned(),
        ),
        None => (
            GOOGLE_AUTH_URL.to_owned(),
            GOOGLE_TOKEN_URL.to_owned(),
            GOOGLE_DEVICE_URL.to_owned(),
            GOOGLE_API_BASE.to_owned(),
        ),
    };
    OAuthSignIn {
        provider: ProviderKind::Gmail,
        config: OAuthConfig {
            endpoints: OAuthEndpoints {
                auth_url,
                token_url,
                device_code_url: Some(device_code_url),
                client_id,
                scopes: vec![GMAIL_SCOPE.to_owned()],
            },
            client_secret,
        },
        api_base,
        window: None,
        demo: false,
        device_code: false,
    }
}

/// Microsoft 365 through Microsoft's identity platform and Graph, or a
/// stand-in's `base`.
pub(crate) fn graph_plan(
    base: Option<&str>,
    tenant: &str,
    client_id: String,
    client_secret: Option<Secret>,
) -> OAuthSignIn {
    let (login, api_base) = match base {
        Some(b) => (b.to_owned(), format!("{b}/v1.0")),
        None => (MICROSOFT_LOGIN.to_owned(), GRAPH_API_BASE.to_owned()),
    };
    let (auth_url, token_url, device_code_url) = graph::oauth_endpoints(&login, tenant);
    OAuthSignIn {
        provider: ProviderKind::Graph,
        config: OAuthConfig {
            endpoints: OAuthEndpoints {
                auth_url,
                token_url,
                device_code_url: Some(device_code_url),
                client_id,
                scopes: GRAPH_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            },
            client_secret,
        },
        api_base,
        window: None,
        demo: false,
        device_code: false,
    }
}

/// Runs an OAuth sign-in, learns whose mailbox it is, and files it.
pub(crate) async fn oauth_sign_in(
    ember: &Ember,
    mut plan: OAuthSignIn,
    device_code: bool,
    browser: &dyn Browser,
) -> Result<Account, ServiceError> {
    plan.device_code |= device_code;
    let client = OAuthClient::new(plan.config.clone()).map_err(sign_in_error)?;
    let tokens = if plan.device_code {
        client.authorize_device(browser).await
    } else {
        client.authorize(browser).await
    }
    .map_err(sign_in_error)?;
    let address = mailbox_address(plan.provider, &plan.api_base, &tokens).await?;
    let label = match plan.provider {
        ProviderKind::Graph => "Microsoft 365",
        _ => "Gmail",
    };
    let account = ember
        .add_account(NewAccount {
            provider: plan.provider,
            address: address.clone(),
            display_name: if plan.demo {
                format!("{label} (demo)")
            } else {
                address
            },
            settings: AccountSettings::Mail(MailSettings {
                demo: plan.demo,
                api_base: plan.api_base.clone(),
                oauth: plan.config.endpoints.clone(),
                window: plan.window,
                max_messages: None,
                signed_in_at: crate::store::now_ms(),
            }),
            sync_enabled: false,
        })
        .await?;
    auth::file_sign_in(
        ember.secrets().await,
        account.id,
        &tokens,
        plan.config.client_secret.as_ref(),
    )
    .await
    .map_err(sign_in_error)?;
    // Only now may it sync: its credentials are where the first run looks.
    ember.account_signed_in(account.id).await
}

/// The HTTP client sign-in probes go through: the sync's, with retries cut
/// short because someone is waiting.
fn probe_http() -> Result<Http, ServiceError> {
    Http::with_policy(RetryPolicy {
        max_elapsed: PROBE_RETRY,
        ..RetryPolicy::default()
    })
    .map_err(|e| ServiceError::SignIn(e.to_string()))
}

/// Asks the provider whose mailbox `tokens` open.
async fn mailbox_address(
    provider: ProviderKind,
    api_base: &str,
    tokens: &Tokens,
) -> Result<String, ServiceError> {
    let credential = Arc::new(BearerToken::new(tokens.access_token.clone()));
    let stats = Arc::new(CallStats::default());
    let found = match provider {
        ProviderKind::Gmail => GmailClient::new(
            probe_http()?,
            api_base,
            credential,
            AccountLimits::gmail(),
            stats,
        )
        .profile()
        .await
        .map(|p| Some(p.email_address)),
        ProviderKind::Graph => GraphClient::new(
            probe_http()?,
            api_base,
            credential,
            AccountLimits::graph(),
            stats,
        )
        .me()
        .await
        .map(|me| me.address().map(str::to_owned)),
        ProviderKind::Ado => Ok(None),
    };
    found
        .map_err(|e| probe_error(provider, &e))?
        .filter(|a| a.contains('@'))
        .ok_or_else(|| {
            ServiceError::SignIn(format!(
                "{} did not say whose mailbox this is",
                name(provider)
            ))
        })
}

/// Checks `pat` against `organization` at `host` (listing its projects)
/// and keeps the account with the projects found.
pub(crate) async fn ado_sign_in(
    ember: &Ember,
    host: &str,
    organization: &str,
    pat: &Secret,
    demo: bool,
) -> Result<Account, ServiceError> {
    let organization = organization.trim().trim_matches('/');
    if organization.is_empty()
        || !organization
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ServiceError::InvalidInput(format!(
            "\"{organization}\" is not an Azure DevOps organisation name"
        )));
    }
    let client = AdoClient::new(
        probe_http()?,
        host,
        organization,
        Arc::new(PatCredential::new(pat.clone())),
        AccountLimits::ado(),
        Arc::new(CallStats::default()),
    );
    let projects = client
        .projects()
        .await
        .map_err(|e| probe_error(ProviderKind::Ado, &e))?;
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
            settings: AccountSettings::Ado(AdoSettings {
                demo,
                api_base: host.to_owned(),
                organization: organization.to_owned(),
                projects: projects.into_iter().map(|p| p.name).collect(),
                saved_queries: Vec::new(),
                signed_in_at: crate::store::now_ms(),
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
    // Mail already stored may link to this organisation's items: read it
    // again for links.
    ember
        .store
        .set_setting(crate::store::settings::LINKS_SCANNED, &0)
        .await?;
    tokio::spawn(ember.track(super::work_items::scan_stored_mail(
        ember.store.clone(),
        ember.root.child_token(),
    )));
    ember.account_signed_in(account.id).await
}

fn name(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::Gmail => "Gmail",
        ProviderKind::Graph => "Microsoft Graph",
        ProviderKind::Ado => "Azure DevOps",
    }
}

fn probe_error(provider: ProviderKind, e: &ProviderError) -> ServiceError {
    match e.status() {
        Some(401 | 403) => {
            ServiceError::SignIn(format!("{} refused the credentials: {e}", name(provider)))
        }
        _ => ServiceError::SignIn(format!(
            "{} could not confirm the account: {e}",
            name(provider)
        )),
    }
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
/// The host is compared whole: `localhost.evil.example` is not this machine.
pub(crate) fn check_base_url(base: &str) -> Result<(), ServiceError> {
    reqwest::Url::parse(base)
        .map_err(|e| ServiceError::InvalidInput(format!("\"{base}\" is not a URL: {e}")))?;
    if auth::is_sign_in_page(base) {
        Ok(())
    } else {
        Err(ServiceError::InvalidInput(format!(
            "\"{base}\" must be an https address (plain http only on this machine)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_https_or_loopback() {
        assert!(check_base_url("https://example.com").is_ok());
        assert!(check_base_url("http://127.0.0.1:4000").is_ok());
        assert!(check_base_url("http://[::1]:4000").is_ok());
        assert!(check_base_url("http://localhost:4000").is_ok());
        assert!(check_base_url("http://example.com").is_err());
        assert!(check_base_url("http://localhost.evil.example").is_err());
        assert!(check_base_url("http://127.0.0.1.evil.example").is_err());
        assert!(check_base_url("file:///etc/passwd").is_err());
        assert!(check_base_url("not a url").is_err());
    }

    #[test]
    fn blank_required_fields_are_refused() {
        assert!(required(Some("  ".into()), "x").is_err());
        assert!(required(None, "x").is_err());
        assert_eq!(required(Some(" id ".into()), "x").ok(), Some("id".into()));
    }

    #[test]
    fn plans_point_at_the_real_services_or_the_stand_in() {
        let real = graph_plan(None, "common", "id".into(), None);
        assert_eq!(real.api_base, GRAPH_API_BASE);
        assert!(real.config.endpoints.auth_url.starts_with(MICROSOFT_LOGIN));
        assert_eq!(
            real.config.endpoints.scopes,
            ["offline_access", "User.Read", "Mail.ReadWrite", "Mail.Send"]
        );
        let emulated = graph_plan(Some("http://127.0.0.1:9"), "contoso", "id".into(), None);
        assert_eq!(emulated.api_base, "http://127.0.0.1:9/v1.0");
        assert_eq!(
            emulated.config.endpoints.device_code_url.as_deref(),
            Some("http://127.0.0.1:9/contoso/oauth2/v2.0/devicecode")
        );
        let gmail = gmail_plan(None, "id".into(), Some("s".into()));
        assert_eq!(gmail.api_base, GOOGLE_API_BASE);
    }

    /// Finding 8: every type a credential passes through on its way in
    /// (the add-account form, the sign-in plan, the token answer, the PAT credential) prints without it, however a log
    /// line or error formats it.
    #[test]
    fn no_sign_in_type_prints_its_secret_in_debug() -> anyhow::Result<()> {
        const CANARY: &str = "canary-7f3e";
        let add: AddAccount = serde_json::from_value(serde_json::json!({
            "provider": "gmail",
            "clientId": "client-id",
            "clientSecret": format!("secret-{CANARY}"),
            "organization": null,
            "pat": format!("pat-{CANARY}"),
            "baseUrl": null,
        }))?;
        let plan = gmail_plan(None, "client-id".into(), add.client_secret.clone());
        let graph = graph_plan(None, "common", "id".into(), add.client_secret.clone());
        let tokens = crate::auth::Tokens {
            access_token: Secret::new(format!("ya29.{CANARY}")),
            refresh_token: Some(Secret::new(format!("1//{CANARY}"))),
            expires_at: Some(1),
        };
        let pat = crate::providers::credential::PatCredential::new(Secret::new(CANARY));
        let printed = [
            format!("{add:?}"),
            format!("{add:#?}"),
            format!("{plan:?}"),
            format!("{graph:#?}"),
            format!("{tokens:?}"),
            format!("{pat:?}"),
        ];
        for line in &printed {
            anyhow::ensure!(!line.contains(CANARY), "a secret was printed: {line}");
        }
        // They print something useful, only not the secret.
        anyhow::ensure!(printed[0].contains("client-id"), "{}", printed[0]);
        anyhow::ensure!(printed[4].contains("expires_at"), "{}", printed[4]);
        Ok(())
    }
}
