//! Gmail as a sync source: one client (token source, limits) per account,
//! kept across runs, the run itself, and the outbox's actions as Gmail
//! calls.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::client::GmailClient;
use super::drafts::GmailDrafts;
use super::run::Run;
use crate::model::{AccountSettings, MailSettings};
use crate::providers::clients::{self, AccountClients};
use crate::providers::http::{CallStats, Http};
use crate::providers::outgoing;
use crate::providers::window::Window;
use crate::providers::AccountLimits;
use crate::store::outbox::{Action, MailAction, OutboxEntry};
use crate::sync::{ActionError, BoxFuture, SyncContext, SyncError, SyncReport, SyncSource};

/// One account's client and token source.
#[derive(Debug, Clone)]
struct AccountClient {
    client: GmailClient,
    tokens: Arc<crate::auth::TokenSource>,
}

/// Gmail as a sync source.
#[derive(Debug)]
pub struct GmailSource {
    http: Http,
    limits: fn() -> AccountLimits,
    accounts: AccountClients<AccountClient>,
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
            accounts: AccountClients::default(),
        }
    }

    async fn client_for(
        &self,
        ctx: &SyncContext,
        settings: &AccountSettings,
        stats: &Arc<CallStats>,
    ) -> Result<GmailClient, SyncError> {
        let mail = mail_settings(settings)?;
        let kept = self
            .accounts
            .get(ctx, settings, || async {
                let tokens = clients::token_source(ctx, mail).await?;
                let client = GmailClient::new(
                    self.http.clone(),
                    &mail.api_base,
                    tokens.clone(),
                    (self.limits)(),
                    stats.clone(),
                );
                Ok(AccountClient { client, tokens })
            })
            .await?;
        Ok(kept.client.with_stats(stats.clone()))
    }

    /// How many token refreshes the account's token source has made.
    pub fn refreshes(&self, account: i64) -> u64 {
        self.accounts
            .kept(account)
            .map_or(0, |a| a.tokens.refreshes())
    }
}

fn mail_settings(settings: &AccountSettings) -> Result<&MailSettings, SyncError> {
    settings.mail().ok_or_else(|| SyncError::Provider {
        code: crate::model::SyncErrorCode::Invalid,
        message: "this account's settings are not a mail account's".into(),
    })
}

impl SyncSource for GmailSource {
    fn apply<'a>(
        &'a self,
        ctx: &'a SyncContext,
        entry: &'a OutboxEntry,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            let stats = Arc::new(CallStats::default());
            let settings = ctx
                .store
                .account_settings(ctx.account.id)
                .await
                .map_err(|e| ActionError::later(e.to_string()))?;
            let client = self
                .client_for(ctx, &settings, &stats)
                .await
                .map_err(|e| match e {
                    SyncError::NeedsReauth(m) => ActionError::Reauth(m),
                    other => ActionError::later(other.to_string()),
                })?;
            let (action, ids) = match &entry.action {
                Action::Mail {
                    action,
                    provider_ids,
                } => (action, provider_ids),
                Action::Draft(draft) => {
                    let api = GmailDrafts::new(client);
                    return outgoing::apply(&api, &ctx.store, draft, entry.attempts).await;
                }
                Action::WorkItem(_) => {
                    return Err(ActionError::Refused(format!(
                        "{} is not a Gmail action",
                        entry.action.name()
                    )));
                }
            };
            let sent = match action {
                MailAction::SetUnread { unread } => {
                    let (add, remove) = toggle("UNREAD", *unread);
                    client.batch_modify(ids, add, remove).await
                }
                MailAction::SetStarred { starred } => {
                    let (add, remove) = toggle("STARRED", *starred);
                    client.batch_modify(ids, add, remove).await
                }
                MailAction::Archive => client.batch_modify(ids, &[], &["INBOX"]).await,
                MailAction::MoveTo { folder } => {
                    // Out of where it is shown, into the label; its other
                    // labels stay (Gmail's own "Move to").
                    let remove: Vec<&str> = ["INBOX", "SPAM", "TRASH"]
                        .into_iter()
                        .filter(|l| *l != folder)
                        .collect();
                    client.batch_modify(ids, &[folder.as_str()], &remove).await
                }
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
            };
            Ok(sent?)
        })
    }

    fn sync(&self, ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>> {
        Box::pin(async move {
            let started = Instant::now();
            let stats = Arc::new(CallStats::default());
            let settings = ctx.store.account_settings(ctx.account.id).await?;
            let client = self.client_for(&ctx, &settings, &stats).await?;
            let global = ctx.store.settings().await?;
            let window = Window::new(mail_settings(&settings)?, &global);
            let mut report = Run::new(&ctx, client, window)
                .sync()
                .await
                .map_err(|e| e.into_sync_error())?;
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

/// Label ids to add and remove to set `label` on or off.
fn toggle(label: &'static str, on: bool) -> (&'static [&'static str], &'static [&'static str]) {
    match (label, on) {
        ("UNREAD", true) => (&["UNREAD"], &[]),
        ("UNREAD", false) => (&[], &["UNREAD"]),
        ("STARRED", true) => (&["STARRED"], &[]),
        _ => (&[], &["STARRED"]),
    }
}
