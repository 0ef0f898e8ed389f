//! One Azure DevOps sync run.
//!
//! What is synced is the union of a few WIQL queries across the
//! organisation's projects: items assigned to the user, created by them,
//! that @mention them, that they follow, and the saved queries they chose.
//! Each query costs one request for its members; once a cursor exists, one
//! more request finds which of them changed since the cursor (less an
//! overlap: Azure DevOps' change dates are not strictly monotonic across
//! items), and for those a request of their current revisions tells which
//! really changed, so a run with nothing changed costs at most two requests
//! per query. Items that are new, changed, or whose reasons for being synced
//! changed are then read in batches of 200 with only the pane's fields;
//! items no query selects any more are removed. The cursor (the newest
//! change date seen) is committed with the last batch of items it covers.
//!
//! Comments and state history are read for items that changed after the
//! first run, and for any item when the user opens it; a first sync of
//! thousands of items therefore costs tens of requests, not thousands.

use std::collections::{BTreeMap, HashSet};

use super::client::{AdoClient, SavedQuery, BATCH_IDS, SERVICE};
use super::convert;
use crate::model::{AdoSettings, SyncPhase};
use crate::providers::clients::sync_error;
use crate::providers::ProviderError;
use crate::store::StoreError;
use crate::sync::{BatchWriter, Change, CursorUpdate, SyncContext, SyncError, SyncReport};

/// The cursor: the newest `System.ChangedDate` synced (Unix ms).
pub const CHANGED_CURSOR: &str = "ado.changed";

/// How far before the cursor a run looks again for changes.
pub const OVERLAP_MS: i64 = 5 * 60 * 1000;

/// Why a run stopped.
#[derive(Debug)]
pub(super) enum RunError {
    Provider(ProviderError),
    Sync(SyncError),
}

impl From<ProviderError> for RunError {
    fn from(e: ProviderError) -> Self {
        Self::Provider(e)
    }
}

impl From<SyncError> for RunError {
    fn from(e: SyncError) -> Self {
        Self::Sync(e)
    }
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        Self::Sync(e.into())
    }
}

impl RunError {
    pub(super) fn into_sync_error(self) -> SyncError {
        match self {
            Self::Sync(e) => e,
            Self::Provider(e) => sync_error(e, SERVICE),
        }
    }
}

/// One of the queries that decide what is synced.
#[derive(Debug, Clone)]
pub(super) enum Membership {
    /// A built-in query: its name and WHERE clause.
    Builtin(&'static str, &'static str),
    /// A saved query.
    Saved(SavedQuery),
}

/// The built-in queries: name, and the condition WIQL selects them by.
pub const BUILTIN: [(&str, &str); 4] = [
    ("assigned", "[System.AssignedTo] = @Me"),
    ("created", "[System.CreatedBy] = @Me"),
    ("mentioned", "[System.Id] IN (@RecentMentions)"),
    ("followed", "[System.Id] IN (@Follows)"),
];

impl Membership {
    pub(super) fn name(&self) -> String {
        match self {
            Self::Builtin(name, _) => (*name).to_owned(),
            Self::Saved(q) => format!("query:{}", q.id),
        }
    }
}

fn wiql(condition: &str, since: Option<i64>) -> String {
    let mut q = format!("SELECT [System.Id] FROM WorkItems WHERE {condition}");
    if let Some(since) = since {
        q.push_str(&format!(
            " AND [System.ChangedDate] >= '{}'",
            convert::wiql_date(since)
        ));
    }
    q.push_str(" ORDER BY [System.ChangedDate] DESC");
    q
}

pub(super) struct Run<'a> {
    ctx: &'a SyncContext,
    client: AdoClient,
    settings: AdoSettings,
    writer: BatchWriter,
    fetched: u64,
}

impl<'a> Run<'a> {
    pub(super) fn new(ctx: &'a SyncContext, client: AdoClient, settings: AdoSettings) -> Self {
        Self {
            ctx,
            client,
            settings,
            writer: BatchWriter::start(ctx, None),
            fetched: 0,
        }
    }

    fn account(&self) -> i64 {
        self.ctx.account.id
    }

    fn check_cancel(&self) -> Result<(), RunError> {
        if self.ctx.cancel.is_cancelled() {
            Err(SyncError::Cancelled.into())
        } else {
            Ok(())
        }
    }

    /// The queries to run: the built-in ones, and the saved ones the user
    /// chose (found in the organisation's projects).
    async fn memberships(&self) -> Result<Vec<Membership>, RunError> {
        let mut out: Vec<Membership> = BUILTIN
            .iter()
            .map(|(n, c)| Membership::Builtin(n, c))
            .collect();
        if self.settings.saved_queries.is_empty() {
            return Ok(out);
        }
        for project in &self.settings.projects {
            for query in self.client.saved_queries(project).await? {
                if self
                    .settings
                    .saved_queries
                    .iter()
                    .any(|wanted| wanted.eq_ignore_ascii_case(&query.id))
                {
                    out.push(Membership::Saved(query));
                }
            }
        }
        Ok(out)
    }

    async fn members(
        &mut self,
        query: &Membership,
        since: Option<i64>,
    ) -> Result<Option<Vec<i64>>, RunError> {
        let answer = match query {
            Membership::Builtin(_, condition) => self.client.wiql(&wiql(condition, since)).await,
            Membership::Saved(saved) if since.is_none() => self.client.saved_query(saved).await,
            // A saved query's own WIQL has no date condition to add: its
            // members are read whole, and changes among them found below.
            Membership::Saved(_) => return Ok(None),
        };
        match answer {
            Ok(ids) => Ok(Some(ids)),
            // A query this organisation cannot run (a macro it lacks):
            // its items are left out, the rest syncs.
            Err(e @ ProviderError::Status { status: 400, .. }) => {
                tracing::warn!(
                    account = self.account(),
                    query = %query.name(),
                    error = %e,
                    "Azure DevOps refused a query; its items are not synced"
                );
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn sync(mut self) -> Result<SyncReport, RunError> {
        self.ctx.progress.report(SyncPhase::Connecting, 0, None);
        let queries = self.memberships().await?;
        let cursor: Option<i64> = self
            .ctx
            .store
            .cursor(self.account(), CHANGED_CURSOR)
            .await?
            .and_then(|c| c.parse().ok());
        let first_run = cursor.is_none();
        let since = cursor.map(|c| c - OVERLAP_MS);

        let mut members: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut saved_members: HashSet<i64> = HashSet::new();
        for query in &queries {
            self.check_cancel()?;
            let Some(ids) = self.members(query, None).await? else {
                continue;
            };
            if matches!(query, Membership::Saved(_)) {
                saved_members.extend(ids.iter().copied());
            }
            for id in &ids {
                members.entry(*id).or_default().push(query.name());
            }
        }
        let stored = self.ctx.store.work_item_memberships(self.account()).await?;
        // What may have changed: every member on a first run; otherwise the
        // built-in queries' members changed since the cursor (one combined
        // query), and the saved queries' members (no date to add to them).
        let mut candidates: HashSet<i64> = match since {
            None => members.keys().copied().collect(),
            Some(since) => self.changed_since(&queries, since).await?,
        };
        candidates.extend(saved_members);
        candidates.retain(|id| members.contains_key(id));
        // Of the stored candidates, only those whose revision moved on.
        let known: Vec<i64> = candidates
            .iter()
            .copied()
            .filter(|id| stored.contains_key(id))
            .collect();
        if since.is_some() {
            for chunk in known.chunks(BATCH_IDS) {
                for (id, rev) in self.client.revs(chunk).await? {
                    if stored.get(&id).is_some_and(|(had, _)| *had >= rev) {
                        candidates.remove(&id);
                    }
                }
            }
        }
        let mut fetch: Vec<i64> = members
            .iter()
            .filter(|(id, names)| {
                candidates.contains(id) || stored.get(id).is_none_or(|(_, had)| had != *names)
            })
            .map(|(id, _)| *id)
            .collect();
        fetch.sort_unstable();
        let gone: Vec<i64> = stored
            .keys()
            .filter(|id| !members.contains_key(id))
            .copied()
            .collect();
        self.ctx
            .progress
            .report(SyncPhase::Headers, 0, Some(fetch.len() as u64));

        let mut newest = cursor.unwrap_or(0);
        let mut types: HashSet<(String, String)> = HashSet::new();
        let host = self.settings.api_base.clone();
        let org = self.settings.organization.clone();
        for (done, chunk) in fetch.chunks(BATCH_IDS).enumerate() {
            self.check_cancel()?;
            let values = self.client.items(chunk).await?;
            self.fetched += values.len() as u64;
            for value in &values {
                let Some(id) = value["id"].as_i64() else {
                    continue;
                };
                let names = members.get(&id).cloned().unwrap_or_default();
                let Some(item) = convert::work_item(&host, &org, value, names) else {
                    continue;
                };
                newest = newest.max(item.changed_date);
                types.insert((item.project.clone(), item.item_type.clone()));
                // Details for what changed since the last run (not for the
                // whole first sync: they load when the item is opened).
                let (comments, history) = if first_run {
                    (None, None)
                } else {
                    self.details(&item.project, id).await?
                };
                self.writer
                    .push(Change::WorkItem {
                        item: Box::new(item),
                        comments,
                        history,
                    })
                    .await?;
            }
            self.ctx.progress.report(
                SyncPhase::Headers,
                ((done + 1) * BATCH_IDS).min(fetch.len()) as u64,
                Some(fetch.len() as u64),
            );
        }
        self.type_states(types).await?;
        for id in gone {
            self.writer.push(Change::DeleteWorkItem(id)).await?;
        }
        let cursor_update =
            (newest > 0).then(|| CursorUpdate::set(CHANGED_CURSOR, newest.to_string()));
        self.writer
            .flush(cursor_update.into_iter().collect())
            .await?;
        self.ctx.progress.data_changed();
        let mut report = self.writer.finish(Vec::new()).await?;
        report.fetched = self.fetched;
        Ok(report)
    }

    /// The built-in queries' members changed since `since`: one query for
    /// them all, or one each when the organisation refuses the combination.
    async fn changed_since(
        &mut self,
        queries: &[Membership],
        since: i64,
    ) -> Result<HashSet<i64>, RunError> {
        let conditions: Vec<&str> = queries
            .iter()
            .filter_map(|q| match q {
                Membership::Builtin(_, c) => Some(*c),
                Membership::Saved(_) => None,
            })
            .collect();
        let combined = format!("({})", conditions.join(" OR "));
        match self.client.wiql(&wiql(&combined, Some(since))).await {
            Ok(ids) => return Ok(ids.into_iter().collect()),
            Err(ProviderError::Status { status: 400, .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let mut changed = HashSet::new();
        for query in queries {
            if let Some(ids) = self.members(query, Some(since)).await? {
                changed.extend(ids);
            }
        }
        Ok(changed)
    }

    /// An item's comments and state history.
    pub(super) async fn details(
        &self,
        project: &str,
        id: i64,
    ) -> Result<
        (
            Option<Vec<(i64, crate::model::WorkItemComment)>>,
            Option<Vec<crate::model::StateChange>>,
        ),
        RunError,
    > {
        let comments = self.client.comments(project, id).await?;
        let updates = self.client.updates(project, id).await?;
        Ok((
            Some(convert::comments(&comments)),
            Some(convert::history(&updates)),
        ))
    }

    /// The states of each (project, type) not known yet.
    async fn type_states(&mut self, types: HashSet<(String, String)>) -> Result<(), RunError> {
        for (project, item_type) in types {
            if project.is_empty()
                || self
                    .ctx
                    .store
                    .type_states_known(self.account(), &project, &item_type)
                    .await?
            {
                continue;
            }
            match self.client.type_states(&project, &item_type).await {
                Ok(states) if !states.is_empty() => {
                    self.writer
                        .push(Change::TypeStates {
                            project,
                            item_type,
                            states,
                        })
                        .await?;
                }
                Ok(_) => {}
                // Without them the pane offers no state change: not fatal.
                Err(e)
                    if e.status()
                        .is_some_and(|s| (400..500).contains(&s) && s != 401) =>
                {
                    tracing::warn!(account = self.account(), %project, %item_type, error = %e, "no states for this type");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
