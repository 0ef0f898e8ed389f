//! Sending the outbox: the first step of every sync run.
//!
//! Queued user actions go to the provider before the run reads anything, so
//! what it reads already includes them and cannot undo the user's change
//! locally. A failure that may heal (rate limits, outages) leaves the entry
//! for a later run with a growing delay; one the provider refuses for good,
//! or one that failed too often, is dropped and named in the run's report.
//! An edit that met someone else's change waits for the user's decision.
//! Credentials refused end the run as "needs re-auth", the entry kept.

use decide::Outcome;

use super::{ActionError, SyncContext, SyncError, SyncReport, SyncSource};
use crate::store::outbox::{claimant, Action, DraftAction, MAX_ATTEMPTS};

/// Entries sent per run at most; the rest wait for the next run.
const PER_RUN: u32 = 200;

/// One whole run: the outbox first, then the source's sync.
pub(super) async fn run(
    source: std::sync::Arc<dyn SyncSource>,
    mut ctx: SyncContext,
) -> Result<SyncReport, SyncError> {
    // Before anything reads a cursor (see `store::cursors`).
    ctx.generation = Some(super::RunGeneration::new(
        ctx.store.sync_generation(ctx.account.id).await?,
    ));
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
    let owner = claimant();
    for _ in 0..PER_RUN {
        if ctx.cancel.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        // One at a time, claimed before it is sent: another process (or
        // run) sending this account's outbox never gets the same entry.
        let Some(entry) = ctx.store.claim_outbox(ctx.account.id, owner).await? else {
            break;
        };
        let outcome = tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => None,
            result = source.apply(ctx, &entry) => {
                Some(decide::classify(result, entry.attempts, patient(&entry.action)))
            }
        };
        let Some(outcome) = outcome else {
            // Cancelled mid-send: the next run sends it again (a retried
            // send is safe, see `providers::outgoing`).
            ctx.store.outbox_release(entry.id, owner).await?;
            return Err(SyncError::Cancelled);
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
                ctx.store.outbox_dropped(&entry, &e.to_string()).await?;
                report.skipped.push(format!(
                    "{} of {} item(s) not sent: {e}",
                    entry.action.name(),
                    entry.action.count()
                ));
            }
            Outcome::Reauth(e) => {
                ctx.store.outbox_release(entry.id, owner).await?;
                return Err(SyncError::NeedsReauth(format!(
                    "The provider no longer accepts this sign-in ({e}). Sign in again."
                )));
            }
            Outcome::Conflict(e) => {
                tracing::info!(account = ctx.account.id, entry = entry.id, error = %e, "edit met another change; waiting for the user");
                ctx.store.outbox_conflict(entry.id, &e.to_string()).await?;
                report.skipped.push(format!("{}: {e}", entry.action.name()));
            }
            Outcome::Gone(e) => {
                tracing::info!(account = ctx.account.id, entry = entry.id, error = %e, "action's target is gone");
                ctx.store.outbox_dropped(&entry, &e.to_string()).await?;
            }
        }
    }
    Ok(())
}

/// Whether an entry keeps waiting through passing faults however long
/// they last: a message the user sent is never given up because the
/// network was down for an hour, and neither is what the user did to mail
/// (read, starred, archived, moved). Such a change is already shown
/// locally, and nothing at the provider would ever undo it there: given
/// up after eight tries (about eight minutes offline), it left the store
/// differing from the provider for good (found by the simulated week,
/// tests/emulator/week.rs). A refusal still drops it at once.
fn patient(action: &Action) -> bool {
    matches!(
        action,
        Action::Draft(DraftAction::Send { .. }) | Action::Mail { .. }
    )
}

/// What to do with an entry after one send: pure, so it is tested alone.
mod decide {
    use super::{ActionError, MAX_ATTEMPTS};

    #[derive(Debug)]
    pub(super) enum Outcome {
        Sent,
        Later(ActionError),
        Drop(ActionError),
        Gone(ActionError),
        Conflict(ActionError),
        Reauth(ActionError),
    }

    pub(super) fn classify(
        result: Result<(), ActionError>,
        attempts: i64,
        patient: bool,
    ) -> Outcome {
        match result {
            Ok(()) => Outcome::Sent,
            // Nothing left to change at the provider.
            Err(e @ ActionError::Gone(_)) => Outcome::Gone(e),
            // Someone else changed it first: the user decides.
            Err(e @ ActionError::Conflict(_)) => Outcome::Conflict(e),
            Err(e @ ActionError::Reauth(_)) => Outcome::Reauth(e),
            Err(e @ ActionError::Later { .. }) if patient || attempts + 1 < MAX_ATTEMPTS => {
                Outcome::Later(e)
            }
            Err(e) => Outcome::Drop(e),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn outages_wait_refusals_drop_and_rejections_need_sign_in() {
            assert!(matches!(classify(Ok(()), 0, false), Outcome::Sent));
            assert!(matches!(
                classify(Err(ActionError::later("503")), 0, false),
                Outcome::Later(_)
            ));
            assert!(matches!(
                classify(Err(ActionError::Gone("404".into())), 0, false),
                Outcome::Gone(_)
            ));
            assert!(matches!(
                classify(Err(ActionError::Refused("400".into())), 0, false),
                Outcome::Drop(_)
            ));
            assert!(matches!(
                classify(Err(ActionError::Reauth("no".into())), 0, false),
                Outcome::Reauth(_)
            ));
        }

        #[test]
        fn what_the_user_did_to_mail_waits_out_any_outage() {
            use crate::store::outbox::MailAction;
            let read = crate::store::outbox::Action::Mail {
                action: MailAction::SetUnread { unread: false },
                provider_ids: vec!["m1".into()],
            };
            assert!(super::super::patient(&read));
            assert!(matches!(
                classify(
                    Err(ActionError::later("offline")),
                    100,
                    super::super::patient(&read)
                ),
                Outcome::Later(_)
            ));
        }

        #[test]
        fn an_entry_that_keeps_failing_is_eventually_dropped() {
            assert!(matches!(
                classify(Err(ActionError::later("503")), MAX_ATTEMPTS - 1, false),
                Outcome::Drop(_)
            ));
            // A message being sent waits out any outage.
            assert!(matches!(
                classify(Err(ActionError::later("offline")), 100, true),
                Outcome::Later(_)
            ));
            assert!(matches!(
                classify(Err(ActionError::Refused("too large".into())), 0, true),
                Outcome::Drop(_)
            ));
        }
    }
}
