//! Microsoft Graph as a sync source: one client (token source, limits) per
//! mailbox, kept across runs, the delta run, and the outbox's actions as
//! batched PATCH and move requests.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use super::client::{GraphClient, SERVICE};
use super::drafts::GraphDrafts;
use super::run::Run;
use crate::model::{AccountSettings, MailSettings};
use crate::providers::clients::{self, AccountClients};
use crate::providers::http::{CallStats, Http};
use crate::providers::outgoing;
use crate::providers::window::Window;
use crate::providers::{AccountLimits, ProviderError};
use crate::store::outbox::{Action, MailAction, OutboxEntry};
use crate::sync::{ActionError, BoxFuture, SyncContext, SyncError, SyncReport, SyncSource};

#[derive(Debug, Clone)]
struct AccountClient {
    client: GraphClient,
    tokens: Arc<crate::auth::TokenSource>,
}

/// Microsoft Graph as a sync source.
#[derive(Debug)]
pub struct GraphSource {
    http: Http,
    limits: fn() -> AccountLimits,
    accounts: AccountClients<AccountClient>,
}

impl GraphSource {
    /// A source sending through `http`, within Graph's documented limits.
    pub fn new(http: Http) -> Self {
        Self::with_limits(http, AccountLimits::graph)
    }

    /// A source whose mailboxes get `limits()` (benchmarks against an
    /// emulator with its quota off).
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
    ) -> Result<GraphClient, SyncError> {
        let mail = mail_settings(settings)?;
        let kept = self
            .accounts
            .get(ctx, settings, || async {
                let tokens = clients::token_source(ctx, mail).await?;
                let client = GraphClient::new(
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

    /// How many token refreshes the mailbox's token source has made.
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

/// The batch request that applies `action` to message `id`.
fn request(action: &MailAction, id: &str) -> super::batch::BatchRequest {
    match action {
        MailAction::SetUnread { unread } => {
            GraphClient::patch_request(id, json!({ "isRead": !unread }))
        }
        MailAction::SetStarred { starred } => GraphClient::patch_request(
            id,
            json!({ "flag": { "flagStatus": if *starred { "flagged" } else { "notFlagged" } } }),
        ),
        MailAction::Archive => GraphClient::move_request(id, "archive"),
        MailAction::Trash => GraphClient::move_request(id, "deleteditems"),
        MailAction::MoveTo { folder } => GraphClient::move_request(id, folder),
    }
}

/// One entry's outcome from its messages' outcomes: a refused sign-in
/// first, then what may heal (the entry is sent again; every request is
/// idempotent), then a refusal; messages already gone are done.
fn settle(results: Vec<Result<(), ProviderError>>) -> Result<(), ActionError> {
    let mut worst: Option<ActionError> = None;
    let rank = |e: &ActionError| match e {
        ActionError::Reauth(_) => 4,
        ActionError::Later { .. } => 3,
        ActionError::Conflict(_) => 2,
        ActionError::Refused(_) => 1,
        ActionError::Gone(_) => 0,
    };
    for result in results {
        if let Err(e) = result {
            let e = ActionError::from(e);
            if matches!(e, ActionError::Gone(_)) {
                continue;
            }
            if worst.as_ref().is_none_or(|w| rank(&e) > rank(w)) {
                worst = Some(e);
            }
        }
    }
    worst.map_or(Ok(()), Err)
}

impl SyncSource for GraphSource {
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
            let (action, provider_ids) = match &entry.action {
                Action::Mail {
                    action,
                    provider_ids,
                } => (action, provider_ids),
                Action::Draft(draft) => {
                    let api = GraphDrafts::new(client);
                    return outgoing::apply(&api, &ctx.store, draft, entry.attempts).await;
                }
                Action::WorkItem(_) => {
                    return Err(ActionError::Refused(format!(
                        "{} is not a Microsoft 365 action",
                        entry.action.name()
                    )));
                }
            };
            let requests = provider_ids.iter().map(|id| request(action, id)).collect();
            let answers = client.batch(requests).await.map_err(ActionError::from)?;
            settle(answers.into_iter().map(|a| a.map(drop)).collect())
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
                "{SERVICE} sync done"
            );
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> ProviderError {
        ProviderError::Status {
            service: SERVICE,
            status,
            message: String::new(),
            reason: None,
            retry_after: None,
        }
    }

    #[test]
    fn an_entry_settles_on_its_worst_message() {
        assert_eq!(settle(vec![Ok(()), Err(status(404))]), Ok(()));
        assert!(matches!(
            settle(vec![Err(status(400)), Err(status(429))]),
            Err(ActionError::Later { .. })
        ));
        assert!(matches!(
            settle(vec![Err(status(400)), Ok(())]),
            Err(ActionError::Refused(_))
        ));
        assert!(matches!(
            settle(vec![Err(status(503)), Err(status(401))]),
            Err(ActionError::Reauth(_))
        ));
    }
}
