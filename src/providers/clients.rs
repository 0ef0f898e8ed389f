//! Per-account API clients, kept across sync runs: a client holds the
//! account's rate limiter, concurrency cap and token source, which must
//! outlive one run (a Retry-After pause or a fresh access token applies to
//! the next run too). A client is rebuilt when the account's settings
//! change (a new sign-in, another base URL) or another account reuses the
//! id.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use super::ProviderError;
use crate::auth::{self, OAuthClient, OAuthConfig, TokenSource};
use crate::model::{AccountId, AccountSettings, MailSettings};
use crate::sync::{SyncContext, SyncError};

/// One kind of client per account, with what it was built from.
#[derive(Debug)]
pub struct AccountClients<C> {
    by_account: Mutex<HashMap<AccountId, (String, C)>>,
}

impl<C> Default for AccountClients<C> {
    fn default() -> Self {
        Self {
            by_account: Mutex::default(),
        }
    }
}

impl<C: Clone> AccountClients<C> {
    /// The client of the run's account: the kept one when its address and
    /// settings are unchanged, else a new one from `build`.
    pub async fn get<F, Fut>(
        &self,
        ctx: &SyncContext,
        settings: &AccountSettings,
        build: F,
    ) -> Result<C, SyncError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<C, SyncError>>,
    {
        let fingerprint = format!("{}\n{}", ctx.account.address, settings.to_json());
        if let Some((known, client)) = self.lock().get(&ctx.account.id) {
            if *known == fingerprint {
                return Ok(client.clone());
            }
        }
        let client = build().await?;
        self.lock()
            .insert(ctx.account.id, (fingerprint, client.clone()));
        Ok(client)
    }

    /// The kept client of `account`, if any.
    pub fn kept(&self, account: AccountId) -> Option<C> {
        self.lock().get(&account).map(|(_, c)| c.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, (String, C)>> {
        self.by_account
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The token source of a mail account: its tokens and client secret from
/// the keychain, refreshed through its token endpoint.
pub async fn token_source(
    ctx: &SyncContext,
    mail: &MailSettings,
) -> Result<Arc<TokenSource>, SyncError> {
    let client_secret = ctx
        .secrets
        .get(&auth::client_secret_key(ctx.account.id))
        .await
        .map_err(|e| sync_error(ProviderError::from(e), "the sign-in service"))?;
    let oauth = OAuthClient::new(OAuthConfig {
        endpoints: mail.oauth.clone(),
        client_secret,
    })
    .map_err(|e| sync_error(ProviderError::from(e), "the sign-in service"))?;
    Ok(Arc::new(TokenSource::new(
        ctx.account.id,
        oauth,
        ctx.secrets.clone(),
    )))
}

/// A provider's error as the sync loop reports it: a refused sign-in means
/// "sign in again", the rest keep their stable code.
pub fn sync_error(e: ProviderError, service: &str) -> SyncError {
    match e {
        ProviderError::Auth(message) => SyncError::NeedsReauth(format!(
            "{service} no longer accepts this sign-in ({message}). Sign in again."
        )),
        ProviderError::Status { status: 401, .. } => SyncError::NeedsReauth(format!(
            "{service} no longer accepts this sign-in ({e}). Sign in again."
        )),
        other => SyncError::Provider {
            code: other.code(),
            message: other.to_string(),
        },
    }
}
