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
}

impl Progress {
    pub(crate) fn new(account: AccountId, states: LiveStates) -> Self {
        Self { account, states }
    }

    /// The run is in `phase`, with `done` of `total` items handled.
    pub fn report(&self, phase: SyncPhase, done: u64, total: Option<u64>) {
        self.states
            .set(self.account, SyncState::Syncing { phase, done, total });
    }

    /// Stored data changed: lists should refetch.
    pub fn data_changed(&self) {
        self.states.events.publish(Event::DataChanged {
            account_id: Some(self.account),
        });
    }
}
