//! Azure DevOps as a sync source: one client (PAT, limits) per
//! organisation, kept across runs; the run; the outbox's work item edits
//! as JSON Patch with a `test` of the revision the user saw; and the
//! details (comments, state history) of one item when the user opens it.
//!
//! An edit that meets someone else's change (the `test` fails) is not
//! retried and not dropped: the item is refreshed and the edit waits for
//! the user to re-apply it on the new revision or drop it. An edit that
//! already took effect (a broken answer after the change landed, then a
//! retry) is recognised by the refreshed item already showing it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use super::client::{AdoClient, SERVICE};
use super::convert;
use super::run::Run;
use crate::auth;
use crate::model::{AccountSettings, AdoSettings, WorkItemEdit};
use crate::providers::clients::{sync_error, AccountClients};
use crate::providers::http::{CallStats, Http};
use crate::providers::{AccountLimits, PatCredential, ProviderError};
use crate::store::outbox::{Action, OutboxEntry, WorkItemChange};
use crate::sync::{
    ActionError, BatchWriter, BoxFuture, Change, SyncContext, SyncError, SyncReport, SyncSource,
};

/// Azure DevOps as a sync source.
#[derive(Debug)]
pub struct AdoSource {
    http: Http,
    limits: fn() -> AccountLimits,
    accounts: AccountClients<AdoClient>,
}

impl AdoSource {
    /// A source sending through `http`, within Azure DevOps' limits.
    pub fn new(http: Http) -> Self {
        Self::with_limits(http, AccountLimits::ado)
    }

    /// A source whose organisations get `limits()` (benchmarks and tests
    /// against an emulator with its quota off).
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
    ) -> Result<(AdoClient, AdoSettings), SyncError> {
        let ado = settings.ado().cloned().ok_or_else(|| SyncError::Provider {
            code: crate::model::SyncErrorCode::Invalid,
            message: "this account's settings are not an Azure DevOps account's".into(),
        })?;
        let client = self
            .accounts
            .get(ctx, settings, || async {
                let pat = ctx
                    .secrets
                    .get(&auth::pat_key(ctx.account.id))
                    .await
                    .map_err(|e| sync_error(ProviderError::from(e), SERVICE))?
                    .ok_or_else(|| {
                        SyncError::NeedsReauth(
                            "The personal access token is missing: add the account again.".into(),
                        )
                    })?;
                Ok(AdoClient::new(
                    self.http.clone(),
                    &ado.api_base,
                    &ado.organization,
                    Arc::new(PatCredential::new(pat)),
                    (self.limits)(),
                    stats.clone(),
                ))
            })
            .await?;
        Ok((client.with_stats(stats.clone()), ado))
    }

    /// Reads one item's comments and state history now (the user opened
    /// it) and writes them with the item.
    pub async fn refresh_item(&self, ctx: &SyncContext, item: i64) -> Result<(), SyncError> {
        let stats = Arc::new(CallStats::default());
        let settings = ctx.store.account_settings(ctx.account.id).await?;
        let (client, ado) = self.client_for(ctx, &settings, &stats).await?;
        write_current(ctx, &client, &ado, item, true)
            .await
            .map_err(|e| sync_error(e, SERVICE))?;
        Ok(())
    }
}

/// Reads item `item` as it is now (with its details when `details`) and
/// writes it; returns its resource, or `None` when it is gone.
async fn write_current(
    ctx: &SyncContext,
    client: &AdoClient,
    ado: &AdoSettings,
    item: i64,
    details: bool,
) -> Result<Option<Value>, ProviderError> {
    let Some(value) = client.items(&[item]).await?.into_iter().next() else {
        return Ok(None);
    };
    let memberships = ctx
        .store
        .work_item_memberships(ctx.account.id)
        .await
        .ok()
        .and_then(|m| m.get(&item).map(|(_, names)| names.clone()))
        .unwrap_or_default();
    let Some(row) = convert::work_item(&ado.api_base, &ado.organization, &value, memberships)
    else {
        return Ok(Some(value));
    };
    let (comments, history) = if details {
        (
            Some(convert::comments(
                &client.comments(&row.project, item).await?,
            )),
            Some(convert::history(&client.updates(&row.project, item).await?)),
        )
    } else {
        (None, None)
    };
    let mut writer = BatchWriter::start(ctx, None);
    let written = async {
        writer
            .push(Change::WorkItem {
                item: Box::new(row),
                comments,
                history,
            })
            .await?;
        writer.finish(Vec::new()).await
    }
    .await;
    written.map_err(|e| ProviderError::Credentials(e.to_string()))?;
    Ok(Some(value))
}

/// The JSON Patch of an edit, after a test of the revision the user saw.
pub fn patch_of(change: &WorkItemChange) -> Option<Value> {
    let test = json!({ "op": "test", "path": "/rev", "value": change.rev });
    let op = match &change.edit {
        WorkItemEdit::SetState { state } => {
            json!({ "op": "add", "path": "/fields/System.State", "value": state })
        }
        WorkItemEdit::Assign { to: Some(to) } => {
            json!({ "op": "add", "path": "/fields/System.AssignedTo", "value": to })
        }
        WorkItemEdit::Assign { to: None } => {
            json!({ "op": "add", "path": "/fields/System.AssignedTo", "value": "" })
        }
        WorkItemEdit::SetPriority { priority } => json!({
            "op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": priority
        }),
        WorkItemEdit::Comment { .. } => return None,
    };
    Some(json!([test, op]))
}

/// Whether `item` (a work item resource) already shows `edit`.
fn shows(item: &Value, edit: &WorkItemEdit) -> bool {
    let fields = &item["fields"];
    match edit {
        WorkItemEdit::SetState { state } => fields["System.State"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(state)),
        WorkItemEdit::Assign { to } => {
            let (name, address) = convert::identity(&fields["System.AssignedTo"]);
            match to {
                None => name.is_none() && address.is_none(),
                Some(to) => [name, address]
                    .iter()
                    .flatten()
                    .any(|v| v.eq_ignore_ascii_case(to)),
            }
        }
        WorkItemEdit::SetPriority { priority } => {
            fields["Microsoft.VSTS.Common.Priority"].as_i64() == Some(*priority)
        }
        WorkItemEdit::Comment { .. } => false,
    }
}

/// Whether Azure DevOps refused a patch because the revision tested is not
/// the item's any more.
fn is_conflict(e: &ProviderError) -> bool {
    match e {
        ProviderError::Status { status: 412, .. } => true,
        ProviderError::Status {
            status: 400,
            reason: Some(r),
            ..
        } => r.eq_ignore_ascii_case("TestPatchOperationFailedException"),
        _ => false,
    }
}

impl AdoSource {
    async fn send_edit(
        &self,
        ctx: &SyncContext,
        change: &WorkItemChange,
    ) -> Result<(), ActionError> {
        let stats = Arc::new(CallStats::default());
        let settings = ctx
            .store
            .account_settings(ctx.account.id)
            .await
            .map_err(|e| ActionError::later(e.to_string()))?;
        let (client, ado) = self
            .client_for(ctx, &settings, &stats)
            .await
            .map_err(|e| match e {
                SyncError::NeedsReauth(m) => ActionError::Reauth(m),
                other => ActionError::later(other.to_string()),
            })?;
        let project = ctx
            .store
            .work_item_by_number(Some(ctx.account.id), change.item)
            .await
            .map_err(|_| ActionError::Gone(format!("work item {} is not synced", change.item)))?
            .project;
        let sent = match (&change.edit, patch_of(change)) {
            (WorkItemEdit::Comment { text }, _) => client
                .add_comment(&project, change.item, text)
                .await
                .map(drop),
            (_, Some(patch)) => client.patch(&project, change.item, patch).await.map(drop),
            (_, None) => Ok(()),
        };
        match sent {
            Ok(()) => {
                // The item as it is now, with the new revision the user's
                // next edit will be tested against.
                let details = matches!(change.edit, WorkItemEdit::Comment { .. });
                write_current(ctx, &client, &ado, change.item, details)
                    .await
                    .map_err(ActionError::from)?;
                Ok(())
            }
            Err(e) if is_conflict(&e) => {
                let current = write_current(ctx, &client, &ado, change.item, true)
                    .await
                    .map_err(ActionError::from)?;
                match current {
                    None => Err(ActionError::Gone(format!(
                        "work item {} was deleted",
                        change.item
                    ))),
                    // Our own change landed on an earlier try.
                    Some(item) if shows(&item, &change.edit) => Ok(()),
                    Some(item) => Err(ActionError::Conflict(format!(
                        "Work item {} was changed by someone else (revision {} → {}) after you saw it; \
                         re-apply your change or drop it.",
                        change.item,
                        change.rev,
                        item["rev"].as_i64().unwrap_or_default()
                    ))),
                }
            }
            Err(e) => Err(ActionError::from(e)),
        }
    }
}

impl SyncSource for AdoSource {
    fn apply<'a>(
        &'a self,
        ctx: &'a SyncContext,
        entry: &'a OutboxEntry,
    ) -> BoxFuture<'a, Result<(), ActionError>> {
        Box::pin(async move {
            match &entry.action {
                Action::WorkItem(change) => self.send_edit(ctx, change).await,
                Action::Mail { .. } | Action::Draft(_) => Err(ActionError::Refused(format!(
                    "{} is not an Azure DevOps action",
                    entry.action.name()
                ))),
            }
        })
    }

    fn refresh<'a>(
        &'a self,
        ctx: &'a SyncContext,
        item: i64,
    ) -> BoxFuture<'a, Result<(), SyncError>> {
        Box::pin(self.refresh_item(ctx, item))
    }

    fn sync(&self, ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>> {
        Box::pin(async move {
            let started = Instant::now();
            let stats = Arc::new(CallStats::default());
            let settings = ctx.store.account_settings(ctx.account.id).await?;
            let (client, ado) = self.client_for(&ctx, &settings, &stats).await?;
            let mut report = Run::new(&ctx, client, ado)
                .sync()
                .await
                .map_err(|e| e.into_sync_error())?;
            report.retries = stats.retries.load(Ordering::Relaxed);
            tracing::info!(
                account = ctx.account.id,
                ?report,
                seconds = started.elapsed().as_secs_f64(),
                "Azure DevOps sync done"
            );
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_become_a_patch_that_tests_the_revision_seen() {
        let change = WorkItemChange {
            item: 7,
            rev: 3,
            edit: WorkItemEdit::SetState {
                state: "Active".into(),
            },
        };
        let patch = patch_of(&change).unwrap_or_default();
        assert_eq!(patch[0], json!({"op": "test", "path": "/rev", "value": 3}));
        assert_eq!(patch[1]["path"], "/fields/System.State");
        let comment = WorkItemChange {
            edit: WorkItemEdit::Comment { text: "hi".into() },
            ..change
        };
        assert!(patch_of(&comment).is_none(), "a comment is no patch");
    }

    #[test]
    fn a_refreshed_item_tells_whether_an_edit_already_landed() {
        let item = json!({"rev": 5, "fields": {
            "System.State": "Active",
            "System.AssignedTo": {"displayName": "Jamie Chen", "uniqueName": "jamie@contoso.example"},
            "Microsoft.VSTS.Common.Priority": 2
        }});
        assert!(shows(
            &item,
            &WorkItemEdit::SetState {
                state: "active".into()
            }
        ));
        assert!(!shows(
            &item,
            &WorkItemEdit::SetState {
                state: "Closed".into()
            }
        ));
        assert!(shows(
            &item,
            &WorkItemEdit::Assign {
                to: Some("jamie@contoso.example".into())
            }
        ));
        assert!(!shows(&item, &WorkItemEdit::Assign { to: None }));
        assert!(shows(&item, &WorkItemEdit::SetPriority { priority: 2 }));
        let conflict = ProviderError::Status {
            service: SERVICE,
            status: 412,
            message: String::new(),
            reason: Some("TestPatchOperationFailedException".into()),
            retry_after: None,
        };
        assert!(is_conflict(&conflict));
    }
}
