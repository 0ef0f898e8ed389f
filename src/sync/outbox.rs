//! Sending the outbox: the first step of every sync run.
//!
//! Queued user actions go to the provider before the run reads anything, so
//! what it reads already includes them and cannot undo the user's change
//! locally. A failure that may heal (rate limits, outages) leaves the entry
//! for a later run with a growing delay; one the provider refuses for good,
//! or one that failed too often, is dropped and named in the run's report.
//! Credentials refused end the run as "needs re-auth", the entry kept.

use decide::Outcome;

use super::{SyncContext, SyncError, SyncReport, SyncSource};
use crate::providers::ProviderError;
use crate::store::outbox::MAX_ATTEMPTS;

/// Entries sent per run at most; the rest wait for the next run.
const PER_RUN: u32 = 200;

/// One whole run: the outbox first, then the source's sync.
pub(super) async fn run(
    source: std::sync::Arc<dyn SyncSource>,
    ctx: SyncContext,
) -> Result<SyncReport, SyncError> {
    let mut sent = SyncReport::default();
    send_due(source.as_ref(), &ctx, &mut sent).await?;
    let mut report = source.sync(ctx).await?;
    report.actions_sent += sent.actions_sent;
    report.skipped.extend(sent.skipped);
    Ok(report)
}

/// Sends what is due for the run's account, recording the outcome in
/// `report`.
pub(super) async fn send_due(
    source: &dyn SyncSource,
    ctx: &SyncContext,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let entries = ctx.store.due_outbox(ctx.account.id, PER_RUN).await?;
    for entry in entries {
        if ctx.cancel.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        let outcome = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => return Err(SyncError::Cancelled),
            result = source.apply(ctx, &entry) => decide::classify(result, entry.attempts),
        };
        match outcome {
            Outcome::Sent => {
                ctx.store.outbox_done(entry.id).await?;
                report.actions_sent += 1;
            }
            Outcome::Later(e) => {
                tracing::info!(account = ctx.account.id, entry = entry.id, error = %e, "action not sent yet");
                ctx.store.outbox_failed(entry.id, &e.to_string()).await?;
            }
            Outcome::Drop(e) => {
                tracing::warn!(account = ctx.account.id, entry = entry.id, error = %e, "action dropped");
                ctx.store.outbox_done(entry.id).await?;
                report.skipped.push(format!(
                    "{} of {} message(s) not sent: {e}",
                    entry.action.name(),
                    entry.provider_ids.len()
                ));
            }
            Outcome::Reauth(e) => {
                return Err(SyncError::NeedsReauth(format!(
                    "The provider no longer accepts this sign-in ({e}). Sign in again."
                )));
            }
        }
    }
    Ok(())
}

/// What to do with an entry after one send: pure, so it is tested alone.
mod decide {
    use super::{ProviderError, MAX_ATTEMPTS};
    use crate::sync::retry::Retryable;

    #[derive(Debug)]
    pub(super) enum Outcome {
        Sent,
        Later(ProviderError),
        Drop(ProviderError),
        Reauth(ProviderError),
    }

    pub(super) fn classify(result: Result<(), ProviderError>, attempts: i64) -> Outcome {
        match result {
            Ok(()) => Outcome::Sent,
            // The message is gone at the provider: nothing left to change.
            Err(e) if e.status() == Some(404) => Outcome::Drop(e),
            Err(e @ ProviderError::Auth(_)) => Outcome::Reauth(e),
            Err(e) if e.is_retryable() && attempts + 1 < MAX_ATTEMPTS => Outcome::Later(e),
            Err(e) => Outcome::Drop(e),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn status(status: u16) -> ProviderError {
            ProviderError::Status {
                service: "Gmail",
                status,
                message: String::new(),
                reason: None,
                retry_after: None,
            }
        }

        #[test]
        fn outages_wait_refusals_drop_and_rejections_need_sign_in() {
            assert!(matches!(classify(Ok(()), 0), Outcome::Sent));
            assert!(matches!(classify(Err(status(503)), 0), Outcome::Later(_)));
            assert!(matches!(classify(Err(status(429)), 3), Outcome::Later(_)));
            assert!(matches!(classify(Err(status(404)), 0), Outcome::Drop(_)));
            assert!(matches!(classify(Err(status(400)), 0), Outcome::Drop(_)));
            assert!(matches!(
                classify(Err(ProviderError::Auth("no".into())), 0),
                Outcome::Reauth(_)
            ));
        }

        #[test]
        fn an_entry_that_keeps_failing_is_eventually_dropped() {
            assert!(matches!(
                classify(Err(status(503)), MAX_ATTEMPTS - 1),
                Outcome::Drop(_)
            ));
        }
    }
}
