//! Live sync states: the one place an account's state changes, so the status
//! snapshot and the events the UI receives always agree.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::events::{Event, EventBus};
use crate::model::{AccountId, SyncPhase, SyncState};

/// The current state of every running account loop.
#[derive(Debug, Clone)]
pub(crate) struct LiveStates {
    states: Arc<Mutex<HashMap<AccountId, SyncState>>>,
    events: EventBus,
}

impl LiveStates {
    pub(crate) fn new(events: EventBus) -> Self {
        Self {
            states: Arc::default(),
            events,
        }
    }

    /// Records `state` for `account` and tells subscribers (throttled for progress).
    pub(crate) fn set(&self, account: AccountId, state: SyncState) {
        self.lock().insert(account, state.clone());
        self.events.publish(Event::AccountSync {
            account_id: account,
            sync: state,
        });
    }

    /// The state of `account`'s loop, if it has one.
    pub(crate) fn get(&self, account: AccountId) -> Option<SyncState> {
        self.lock().get(&account).cloned()
    }

    /// Forgets `account` (its loop ended).
    pub(crate) fn remove(&self, account: AccountId) {
        self.lock().remove(&account);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, SyncState>> {
        self.states
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reports one account's progress during a run.
#[derive(Debug, Clone)]
pub struct Progress {
    account: AccountId,
    states: LiveStates,
    /// The current phase and when it began, for the rate.
    phase: Arc<Mutex<Option<(SyncPhase, std::time::Instant)>>>,
}

/// A rate is shown once a phase has run this long.
const RATE_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

impl Progress {
    pub(crate) fn new(account: AccountId, states: LiveStates) -> Self {
        Self {
            account,
            states,
            phase: Arc::default(),
        }
    }

    /// The run is in `phase`, with `done` of `total` items handled.
    pub fn report(&self, phase: SyncPhase, done: u64, total: Option<u64>) {
        let rate = {
            let mut current = self
                .phase
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let started = match *current {
                Some((p, at)) if p == phase => at,
                _ => {
                    tracing::debug!(account = self.account, ?phase, done, total, "sync phase");
                    let now = std::time::Instant::now();
                    *current = Some((phase, now));
                    now
                }
            };
            let elapsed = started.elapsed();
            tracing::trace!(?phase, done, total, "sync progress");
            (elapsed >= RATE_AFTER && done > 0).then(|| done as f64 / elapsed.as_secs_f64())
        };
        self.states.set(
            self.account,
            SyncState::Syncing {
                phase,
                done,
                total,
                rate,
            },
        );
    }

    /// Stored data changed: lists should refetch.
    pub fn data_changed(&self) {
        self.states.events.publish(Event::DataChanged {
            account_id: Some(self.account),
        });
    }
}
