//! Gmail as a sync source: one client (token source, limits) per account,
//! kept across runs, and the mapping of a run's outcome to a sync result.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::account::{GOOGLE_AUTH_URL, GOOGLE_TOKEN_URL};
use super::client::{GmailClient, GOOGLE_API_BASE};
use super::convert::Window;
use super::run::{Run, RunError};
use crate::auth::{self, OAuthClient, OAuthConfig, TokenSource};
use crate::providers::http::{CallStats, Http};
use crate::providers::{AccountLimits, ProviderError};
use crate::store::outbox::{MailAction, OutboxEntry};
use crate::sync::{BoxFuture, SyncContext, SyncError, SyncReport, SyncSource};

/// One account's client, and what it was built from.
#[derive(Debug, Clone)]
struct AccountClient {
    /// The account's address and settings: a new account reusing the id,
    /// or changed settings, get a new client and token source.
    fingerprint: String,
    client: GmailClient,
    tokens: Arc<TokenSource>,
}

/// Gmail as a sync source.
#[derive(Debug)]
pub struct GmailSource {
    http: Http,
    limits: fn() -> AccountLimits,
    accounts: Mutex<HashMap<i64, AccountClient>>,
}

impl Default for GmailSource {
    fn default() -> Self {
        Self::new(Http::new())
    }
}

impl GmailSource {
    /// A source sending through `http`, within Gmail's documented limits.
    pub fn new(http: Http) -> Self {
        Self::with_limits(http, AccountLimits::gmail)
    }

    /// A source whose accounts get `limits()` (benchmarks and tests against
    /// an emulator with its quota off).
    pub fn with_limits(http: Http, limits: fn() -> AccountLimits) -> Self {
        Self {
            http,
            limits,
            accounts: Mutex::default(),
        }
    }

    async fn client_for(
        &self,
        ctx: &SyncContext,
        stats: &Arc<CallStats>,
    ) -> Result<GmailClient, SyncError> {
        let settings = ctx.store.account_settings(ctx.account.id).await?;
        let fingerprint = format!("{}\n{settings}", ctx.account.address);
        if let Some(known) = self.lock().get(&ctx.account.id) {
            if known.fingerprint == fingerprint {
                return Ok(known.client.with_stats(stats.clone()));
            }
        }
        let api = settings["api_base"]
            .as_str()
            .unwrap_or(GOOGLE_API_BASE)
            .to_owned();
        let oauth = &settings["oauth"];
        let client_secret = ctx
            .secrets
            .get(&auth::client_secret_key(ctx.account.id))
            .await
            .map_err(|e| provider_error(ProviderError::from(e)))?;
        let config = OAuthConfig {
            auth_url: oauth["auth_url"]
                .as_str()
                .unwrap_or(GOOGLE_AUTH_URL)
                .to_owned(),
            token_url: oauth["token_url"]
                .as_str()
                .unwrap_or(GOOGLE_TOKEN_URL)
                .to_owned(),
            client_id: oauth["client_id"].as_str().unwrap_or_default().to_owned(),
            client_secret,
            scopes: Vec::new(),
        };
        let oauth_client =
            OAuthClient::new(config).map_err(|e| provider_error(ProviderError::from(e)))?;
        let tokens = Arc::new(TokenSource::new(
            ctx.account.id,
            oauth_client,
            ctx.secrets.clone(),
        ));
        let client = GmailClient::new(
            self.http.clone(),
            &api,
            tokens.clone(),
            (self.limits)(),
            stats.clone(),
        );
        self.lock().insert(
            ctx.account.id,
            AccountClient {
                fingerprint,
                client: client.clone(),
                tokens,
            },
        );
        Ok(client)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, AccountClient>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many token refreshes the account's token source has made.
    pub fn refreshes(&self, account: i64) -> u64 {
        self.lock()
            .get(&account)
            .map_or(0, |a| a.tokens.refreshes())
    }
}

impl SyncSource for GmailSource {
    fn apply<'a>(
        &'a self,
        ctx: &'a SyncContext,
        entry: &'a OutboxEntry,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let stats = Arc::new(CallStats::default());
            let client = self.client_for(ctx, &stats).await.map_err(|e| match e {
                SyncError::NeedsReauth(m) => ProviderError::Auth(m),
                other => ProviderError::Credentials(other.to_string()),
            })?;
            let ids = &entry.provider_ids;
            match entry.action {
                MailAction::SetUnread { unread } => {
                    let (add, remove) = toggle("UNREAD", unread);
                    client.batch_modify(ids, add, remove).await
                }
                MailAction::SetStarred { starred } => {
                    let (add, remove) = toggle("STARRED", starred);
                    client.batch_modify(ids, add, remove).await
                }
                MailAction::Archive => client.batch_modify(ids, &[], &["INBOX"]).await,
                MailAction::Trash => {
                    for id in ids {
                        match client.trash(id).await {
                            // Already gone: nothing left to trash.
                            Err(e) if e.status() == Some(404) => {}
                            other => other?,
                        }
                    }
                    Ok(())
                }
            }
        })
    }

    fn sync(&self, ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>> {
        Box::pin(async move {
            let started = Instant::now();
            let stats = Arc::new(CallStats::default());
            let client = self.client_for(&ctx, &stats).await?;
            let settings = ctx.store.account_settings(ctx.account.id).await?;
            let global = ctx.store.settings().await?;
            let run = Run::new(&ctx, client, Window::from_settings(&settings, &global));
            let mut report = run.sync().await.map_err(into_sync_error)?;
            report.retries = stats.retries.load(Ordering::Relaxed);
            tracing::info!(
                account = ctx.account.id,
                ?report,
                seconds = started.elapsed().as_secs_f64(),
                "gmail sync done"
            );
            Ok(report)
        })
    }
}

fn provider_error(e: ProviderError) -> SyncError {
    match e {
        ProviderError::Auth(message) => SyncError::NeedsReauth(format!(
            "Gmail no longer accepts this sign-in ({message}). Sign in again."
        )),
        other => SyncError::Provider {
            code: other.code(),
            message: other.to_string(),
        },
    }
}

fn into_sync_error(e: RunError) -> SyncError {
    match e {
        RunError::Cancelled => SyncError::Cancelled,
        RunError::Store(e) => SyncError::Store(e),
        RunError::Provider(e) if e.status() == Some(401) => {
            provider_error(ProviderError::Auth(e.to_string()))
        }
        RunError::Provider(e) => provider_error(e),
    }
}

/// Label ids to add and remove to set `label` on or off.
fn toggle(label: &'static str, on: bool) -> (&'static [&'static str], &'static [&'static str]) {
    match (label, on) {
        ("UNREAD", true) => (&["UNREAD"], &[]),
        ("UNREAD", false) => (&[], &["UNREAD"]),
        ("STARRED", true) => (&["STARRED"], &[]),
        _ => (&[], &["STARRED"]),
    }
}
