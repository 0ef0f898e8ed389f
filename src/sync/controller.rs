//! The sync controller: starts, triggers, pauses and stops one loop per
//! account.
//!
//! Each loop waits for the first of: its interval tick, a sync-now trigger,
//! the global switch changing, or its cancellation token. A run is raced
//! against the token, the switch going off and an overall timeout, so none of
//! them waits for a slow provider; a run that is abandoned drops its open
//! transaction, which rolls back. One account failing never touches another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn, Instrument as _};

use super::{LiveStates, Progress, SyncContext, SyncError, SyncReport, SyncSources};
use crate::events::{Event, EventBus};
use crate::model::{Account, AccountId, AccountState, SyncState};
use crate::store::settings::{SyncRecord, SYNC_ENABLED, SYNC_INTERVAL_MINUTES};
use crate::store::{Store, StoreError};

/// How often and how long accounts sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncConfig {
    /// Time between the end of one run and the start of the next.
    pub interval: Duration,
    /// The longest one run may take before it is stopped.
    pub run_timeout: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5 * 60),
            run_timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// The shortest time between runs, whatever is stored: a stored interval of
/// zero (a hand-edited database, an older version's bug) must not spin a
/// loop, or reach `tokio::time::interval`, which refuses zero.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// `interval` (at least [`MIN_INTERVAL`]) for `account`, spread by up to a
/// tenth so that accounts added together do not all wake the radio at the
/// same moment.
fn spread_interval(interval: Duration, account: AccountId) -> Duration {
    let interval = interval.max(MIN_INTERVAL);
    // A fixed spread per account (Knuth's multiplicative hash) keeps runs
    // reproducible in tests while still de-synchronising accounts.
    let spread = (account.unsigned_abs().wrapping_mul(2_654_435_761) % 1000) as u32;
    interval + interval / 10 * spread / 1000
}

/// New Primary messages a new-mail event names at most.
const NEW_MAIL_SHOWN: u32 = 5;

/// What the controller knows about a running loop.
#[derive(Debug)]
struct LoopHandle {
    cancel: CancellationToken,
    trigger: Arc<Notify>,
}

#[derive(Debug)]
struct Inner {
    secrets: Arc<crate::auth::SecretsSlot>,
    categorise: crate::classify::CategoriseQueue,
    store: Store,
    events: EventBus,
    sources: SyncSources,
    config: SyncConfig,
    enabled: watch::Sender<bool>,
    /// The time between runs: the user's setting, changeable while loops run.
    interval: watch::Sender<Duration>,
    loops: Mutex<HashMap<AccountId, LoopHandle>>,
    states: LiveStates,
    tracker: TaskTracker,
    root: CancellationToken,
}

/// Owns the per-account sync loops. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SyncController {
    inner: Arc<Inner>,
}

impl SyncController {
    /// A controller with no loops yet; the global switch starts as stored
    /// (on when never set).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn new(
        store: Store,
        events: EventBus,
        sources: SyncSources,
        config: SyncConfig,
        tracker: TaskTracker,
        root: CancellationToken,
        secrets: Arc<crate::auth::SecretsSlot>,
        categorise: crate::classify::CategoriseQueue,
    ) -> Result<Self, StoreError> {
        let enabled = store.setting::<bool>(SYNC_ENABLED).await?.unwrap_or(true);
        // A stored user setting wins over the built-in default.
        let interval = store
            .setting::<u32>(SYNC_INTERVAL_MINUTES)
            .await?
            .map_or(config.interval, |m| Duration::from_secs(u64::from(m) * 60));
        let states = LiveStates::new(events.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                secrets,
                categorise,
                store,
                events,
                sources,
                config,
                enabled: watch::Sender::new(enabled),
                interval: watch::Sender::new(interval),
                loops: Mutex::default(),
                states,
                tracker,
                root,
            }),
        })
    }

    /// Whether the global switch is on.
    pub fn is_enabled(&self) -> bool {
        *self.inner.enabled.borrow()
    }

    /// Flips the global switch, persists it and tells subscribers. Switching
    /// off stops runs in progress; switching on starts a run at once.
    pub async fn set_enabled(&self, on: bool) -> Result<(), StoreError> {
        // Flip first: switching off cancels runs in progress, whose open
        // batches hold the write lock that persisting the switch needs.
        if self.inner.enabled.send_replace(on) != on {
            info!(enabled = on, "sync switch changed");
            self.inner
                .events
                .publish(Event::SyncEnabledChanged { enabled: on });
        }
        self.inner.store.set_setting(SYNC_ENABLED, &on).await
    }

    /// The time between the end of one run and the start of the next.
    pub fn interval(&self) -> Duration {
        *self.inner.interval.borrow()
    }

    /// Changes the time between runs. Running loops reschedule their next
    /// run from the end of their last one; none runs early because of it.
    pub fn set_interval(&self, interval: Duration) {
        if self.inner.interval.send_replace(interval) != interval {
            info!(seconds = interval.as_secs(), "sync interval changed");
        }
    }

    /// Asks `account`'s loop (or every loop) to run now. A request made while
    /// a run is under way starts one more run after it. Returns how many
    /// loops were asked.
    pub fn sync_now(&self, account: Option<AccountId>) -> usize {
        let loops = self.loops();
        let mut asked = 0;
        for (id, handle) in loops.iter() {
            if account.is_none_or(|a| a == *id) {
                handle.trigger.notify_one();
                asked += 1;
            }
        }
        asked
    }

    /// Runs one sync of `account` now, outside its loop (the CLI's
    /// `sync --once`), with the same timeout, cancellation and outcome
    /// recording as a loop run.
    pub async fn sync_once(&self, account: AccountId) -> Result<SyncReport, SyncError> {
        self.sync_once_inner(account)
            .instrument(run_span(account, "once"))
            .await
    }

    async fn sync_once_inner(&self, account: AccountId) -> Result<SyncReport, SyncError> {
        let inner = &self.inner;
        let found = inner.store.account(account).await?;
        tracing::Span::current().record("provider", found.provider.as_str());
        let Some(source) = inner.sources.get(found.provider) else {
            let outcome = Err(SyncError::Unsupported(found.provider));
            inner.finish(account, &outcome).await;
            return outcome;
        };
        let cancel = inner.root.child_token();
        let ctx = inner.context(found, cancel.clone()).await;
        let timeout = inner.config.run_timeout;
        let outcome = tokio::select! {
            biased;
            () = inner.root.cancelled() => Err(SyncError::Cancelled),
            result = tokio::time::timeout(timeout, super::outbox::run(source, ctx)) => {
                result.unwrap_or(Err(SyncError::TimedOut(timeout)))
            }
        };
        cancel.cancel();
        inner.finish(account, &outcome).await;
        inner.states.remove(account);
        outcome
    }

    /// Reads one item of `account` whole now (a work item the user opened),
    /// within `limit`, outside the account's loop: nothing is announced as
    /// a sync, and a failure is the caller's to show, not the account's.
    pub async fn refresh(
        &self,
        account: AccountId,
        item: i64,
        limit: Duration,
    ) -> Result<(), SyncError> {
        let inner = &self.inner;
        let found = inner.store.account(account).await?;
        let source = inner
            .sources
            .get(found.provider)
            .ok_or(SyncError::Unsupported(found.provider))?;
        let cancel = inner.root.child_token();
        let ctx = inner.quiet_context(found, cancel.clone()).await;
        let outcome = tokio::select! {
            biased;
            () = inner.root.cancelled() => Err(SyncError::Cancelled),
            result = tokio::time::timeout(limit, source.refresh(&ctx, item)) => {
                result.unwrap_or(Err(SyncError::TimedOut(limit)))
            }
        };
        cancel.cancel();
        outcome
    }

    /// Makes the running loops match `accounts`: starts a loop for each
    /// account without one, stops the loops of accounts no longer listed.
    pub fn reconcile(&self, accounts: &[Account]) {
        let mut loops = self.loops();
        loops.retain(|id, handle| {
            let keep = accounts.iter().any(|a| a.id == *id);
            if !keep {
                handle.cancel.cancel();
            }
            keep
        });
        for account in accounts {
            if loops.contains_key(&account.id) || self.inner.root.is_cancelled() {
                continue;
            }
            let handle = LoopHandle {
                cancel: self.inner.root.child_token(),
                trigger: Arc::new(Notify::new()),
            };
            let task = AccountLoop {
                inner: self.inner.clone(),
                account: account.id,
                cancel: handle.cancel.clone(),
                trigger: handle.trigger.clone(),
            };
            self.inner.tracker.spawn(task.run());
            loops.insert(account.id, handle);
        }
    }

    /// Publishes `account`'s resting state now (after its switch changed),
    /// unless a run is under way and will publish its own.
    pub fn publish_state(&self, account: &Account, record: &SyncRecord) {
        let running = matches!(
            self.inner.states.get(account.id),
            Some(SyncState::Syncing { .. })
        );
        if !running {
            self.inner.states.set(
                account.id,
                resting_state(account, record, self.is_enabled()),
            );
        }
    }

    /// The live state of `account`'s loop, or the state derived from its last
    /// recorded run when no loop runs (as in the CLI).
    pub fn state_of(&self, account: &Account, record: &SyncRecord) -> SyncState {
        self.inner
            .states
            .get(account.id)
            .unwrap_or_else(|| resting_state(account, record, self.is_enabled()))
    }

    fn loops(&self) -> MutexGuard<'_, HashMap<AccountId, LoopHandle>> {
        self.inner
            .loops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The span of one run of `account`: every line the run logs (the outbox,
/// the provider's phases, each committed batch) carries the account id, and
/// the span's close line in the log file gives its counts, outcome and time.
fn run_span(account: AccountId, trigger: &'static str) -> tracing::Span {
    tracing::info_span!(
        "sync_run",
        account,
        trigger,
        provider = tracing::field::Empty,
        outcome = tracing::field::Empty,
        fetched = tracing::field::Empty,
        stored = tracing::field::Empty,
        updated = tracing::field::Empty,
        deleted = tracing::field::Empty,
        skipped = tracing::field::Empty,
        retries = tracing::field::Empty,
        actions_sent = tracing::field::Empty,
    )
}

/// Records how a run ended on the current run span.
fn record_outcome(outcome: &Result<SyncReport, SyncError>) {
    let span = tracing::Span::current();
    match outcome {
        Ok(report) => {
            span.record("outcome", "ok");
            span.record("fetched", report.fetched);
            span.record("stored", report.stored);
            span.record("updated", report.updated);
            span.record("deleted", report.deleted);
            span.record("skipped", report.skipped.len());
            span.record("retries", report.retries);
            span.record("actions_sent", report.actions_sent);
        }
        Err(e) => {
            span.record("outcome", e.code().to_string());
        }
    }
}

/// The state of an account with no run under way: a pure function of what is
/// stored, so every process shows the same.
pub(crate) fn resting_state(account: &Account, record: &SyncRecord, enabled: bool) -> SyncState {
    match (account.state, &record.last_error) {
        (AccountState::NeedsReauth, _) => SyncState::NeedsReauth {
            message: "Sign in again to keep this account in sync.".into(),
        },
        _ if !enabled || !account.sync_enabled || account.state == AccountState::Disabled => {
            SyncState::Paused
        }
        (_, Some((code, message))) => SyncState::Error {
            code: *code,
            message: message.clone(),
        },
        (_, None) => SyncState::Idle {
            last_synced_at: record.last_synced_at,
        },
    }
}

impl Inner {
    /// What one run of `account` gets, with its progress already at
    /// "connecting".
    async fn context(&self, account: Account, cancel: CancellationToken) -> SyncContext {
        let ctx = self.quiet_context(account, cancel).await;
        ctx.progress
            .report(crate::model::SyncPhase::Connecting, 0, None);
        ctx
    }

    /// What a run gets, announcing nothing.
    async fn quiet_context(&self, account: Account, cancel: CancellationToken) -> SyncContext {
        let secrets = self.secrets.get().await.clone();
        SyncContext {
            secrets,
            categorise: self.categorise.clone(),
            progress: Progress::new(account.id, self.states.clone()),
            account,
            store: self.store.clone(),
            cancel,
            generation: None,
        }
    }

    /// Records how a run of `account` ended and publishes its new state.
    async fn finish(&self, account: AccountId, outcome: &Result<SyncReport, SyncError>) {
        record_outcome(outcome);
        let store = &self.store;
        let states = &self.states;
        match outcome {
            Ok(report) => {
                info!(account = account, ?report, "sync run finished");
                let first_run = store
                    .sync_record(account)
                    .await
                    .map_or(true, |r| r.last_synced_at.is_none());
                let at = store.record_sync_success(account).await.ok();
                // An account's first run brings its whole window: that is
                // not news.
                if report.stored > 0 && !first_run {
                    let primary = store
                        .new_primary_mail(&report.new_messages, NEW_MAIL_SHOWN)
                        .await
                        .unwrap_or_default();
                    self.events.publish(Event::NewMail {
                        account_id: account,
                        count: report.stored,
                        primary,
                    });
                }
                states.set(account, SyncState::Idle { last_synced_at: at });
            }
            Err(e @ (SyncError::Cancelled | SyncError::Overtaken)) => {
                info!(account = account, "sync run ended early: {e}");
                if let Ok(found) = store.account(account).await {
                    let record = store.sync_record(found.id).await.unwrap_or_default();
                    let enabled = *self.enabled.borrow();
                    states.set(account, resting_state(&found, &record, enabled));
                }
            }
            Err(SyncError::NeedsReauth(message)) => {
                let message = message.clone();
                warn!(account = account, %message, "account needs to sign in again");
                if let Err(e) = store
                    .set_account_state(account, AccountState::NeedsReauth)
                    .await
                {
                    warn!(account = account, error = %e, "cannot record sign-in state");
                }
                states.set(account, SyncState::NeedsReauth { message });
            }
            Err(error) => {
                let code = error.code();
                let message = error.to_string();
                warn!(account = account, %code, %message, "sync run failed");
                if let Err(e) = store.record_sync_error(account, code, &message).await {
                    warn!(account = account, error = %e, "cannot record sync error");
                }
                states.set(account, SyncState::Error { code, message });
            }
        }
    }
}

/// One account's loop.
struct AccountLoop {
    inner: Arc<Inner>,
    account: AccountId,
    cancel: CancellationToken,
    trigger: Arc<Notify>,
}

impl AccountLoop {
    async fn run(self) {
        let mut enabled = self.inner.enabled.subscribe();
        let mut interval = self.inner.interval.subscribe();
        let every = *interval.borrow_and_update();
        let mut ticker = self.ticker(every).await;
        let mut run_now = true;
        loop {
            if self.cancel.is_cancelled() {
                break;
            }
            if !*enabled.borrow_and_update() {
                self.inner.states.set(self.account, SyncState::Paused);
                tokio::select! {
                    biased;
                    () = self.cancel.cancelled() => break,
                    changed = enabled.changed() => {
                        if changed.is_err() { break; }
                        run_now = true;
                        continue;
                    }
                }
            }
            if !run_now {
                tokio::select! {
                    biased;
                    () = self.cancel.cancelled() => break,
                    changed = enabled.changed() => {
                        if changed.is_err() { break; }
                        continue;
                    }
                    changed = interval.changed() => {
                        if changed.is_err() { break; }
                        let every = *interval.borrow_and_update();
                        ticker = self.ticker(every).await;
                        continue;
                    }
                    _ = ticker.tick() => {}
                    () = self.trigger.notified() => {}
                }
            }
            run_now = false;
            self.run_once(&mut enabled)
                .instrument(run_span(self.account, "loop"))
                .await;
            // The next scheduled run is a full interval after this one ended.
            ticker.reset();
        }
        self.inner.states.remove(self.account);
    }

    /// A ticker whose next tick is one (spread) `every` from now; missed
    /// ticks are delayed, never bursted.
    async fn ticker(&self, every: Duration) -> tokio::time::Interval {
        let mut ticker = tokio::time::interval(spread_interval(every, self.account));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker.tick().await; // The first tick is immediate.
        ticker
    }

    async fn run_once(&self, enabled: &mut watch::Receiver<bool>) {
        let store = &self.inner.store;
        let account = match store.account(self.account).await {
            Ok(account) => account,
            Err(StoreError::NotFound(_)) => return,
            Err(e) => {
                self.finish(Err(SyncError::Store(e))).await;
                return;
            }
        };
        if account.state == AccountState::NeedsReauth
            || account.state == AccountState::Disabled
            || !account.sync_enabled
        {
            let record = store.sync_record(account.id).await.unwrap_or_default();
            self.inner.states.set(
                account.id,
                resting_state(&account, &record, *enabled.borrow()),
            );
            return;
        }
        tracing::Span::current().record("provider", account.provider.as_str());
        let Some(source) = self.inner.sources.get(account.provider) else {
            self.finish(Err(SyncError::Unsupported(account.provider)))
                .await;
            return;
        };
        let run_cancel = self.cancel.child_token();
        let ctx = self.inner.context(account, run_cancel.clone()).await;
        let timeout = self.inner.config.run_timeout;
        let outcome = tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(SyncError::Cancelled),
            _ = enabled.wait_for(|on| !on) => Err(SyncError::Cancelled),
            result = tokio::time::timeout(timeout, super::outbox::run(source, ctx)) => {
                result.unwrap_or(Err(SyncError::TimedOut(timeout)))
            }
        };
        // Whatever ended the race, nothing of this run may keep going.
        run_cancel.cancel();
        self.finish(outcome).await;
    }

    async fn finish(&self, outcome: Result<SyncReport, SyncError>) {
        self.inner.finish(self.account, &outcome).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProviderKind, SyncErrorCode};

    fn account(state: AccountState, sync_enabled: bool) -> Account {
        Account {
            id: 7,
            provider: ProviderKind::Gmail,
            address: "a@example.org".into(),
            display_name: "A".into(),
            sync_enabled,
            demo: false,
            state,
        }
    }

    #[test]
    fn a_rejected_sign_in_outranks_everything_else() {
        let record = SyncRecord {
            last_synced_at: Some(1),
            last_error: Some((SyncErrorCode::Internal, "y".into())),
        };
        let state = resting_state(&account(AccountState::NeedsReauth, true), &record, false);
        assert!(matches!(state, SyncState::NeedsReauth { .. }));
    }

    #[test]
    fn the_global_switch_or_the_account_switch_pauses() {
        let record = SyncRecord::default();
        let active = account(AccountState::Active, true);
        assert_eq!(resting_state(&active, &record, false), SyncState::Paused);
        let off = account(AccountState::Active, false);
        assert_eq!(resting_state(&off, &record, true), SyncState::Paused);
    }

    #[test]
    fn the_last_error_shows_until_a_run_succeeds() {
        let active = account(AccountState::Active, true);
        let failed = SyncRecord {
            last_synced_at: Some(10),
            last_error: Some((
                SyncErrorCode::RateLimited,
                "Gmail asked us to slow down.".into(),
            )),
        };
        assert_eq!(
            resting_state(&active, &failed, true),
            SyncState::Error {
                code: SyncErrorCode::RateLimited,
                message: "Gmail asked us to slow down.".into()
            }
        );
        let fine = SyncRecord {
            last_synced_at: Some(10),
            last_error: None,
        };
        assert_eq!(
            resting_state(&active, &fine, true),
            SyncState::Idle {
                last_synced_at: Some(10)
            }
        );
    }

    #[test]
    fn a_stored_interval_of_zero_neither_spins_nor_panics() {
        for account in 1..20 {
            let every = spread_interval(Duration::ZERO, account);
            assert!(every >= MIN_INTERVAL && every <= MIN_INTERVAL + MIN_INTERVAL / 10);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build();
        let Ok(runtime) = runtime else {
            return;
        };
        // tokio::time::interval panics on a zero period.
        runtime.block_on(async {
            let _ticker = tokio::time::interval(spread_interval(Duration::ZERO, 3));
        });
    }

    #[test]
    fn intervals_are_spread_by_at_most_a_tenth() {
        let every = SyncConfig::default().interval;
        let mut seen = std::collections::HashSet::new();
        for id in 1..50 {
            let i = spread_interval(every, id);
            assert!(i >= every && i <= every + every / 10);
            seen.insert(i);
        }
        assert!(seen.len() > 40, "accounts should not share one interval");
    }
}
