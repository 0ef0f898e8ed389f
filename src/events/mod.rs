//! The one seam through which the core tells the outside world what changed.
//!
//! The core publishes typed [`Event`]s on an [`EventBus`]; the desktop shell
//! forwards them to the window as Tauri events, the CLI ignores them, and
//! tests read them with an [`EventCollector`]. The bus is a bounded broadcast
//! channel: a subscriber that falls behind loses the oldest events (and can
//! resynchronise from a status snapshot) instead of growing memory without
//! limit or slowing the sync that publishes.
//!
//! Progress is throttled at the source: per account, at most one `syncing`
//! event per [`PROGRESS_INTERVAL`], except that a change of phase and the last
//! item of a phase always go through.

mod collector;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::time::Instant;
use ts_rs::TS;

pub use collector::EventCollector;

use crate::model::{AccountId, SyncPhase, SyncState};

/// Events a slow subscriber may fall behind by before it loses the oldest.
pub const CAPACITY: usize = 1024;

/// The least time between two progress events of one account (10 a second).
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Something the UI should know about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Event {
    /// An account's sync state changed, or its progress moved.
    AccountSync {
        /// The account.
        #[ts(type = "number")]
        account_id: AccountId,
        /// Its new state.
        sync: SyncState,
    },
    /// The global sync switch was flipped (from the tray, the window or the CLI).
    SyncEnabledChanged {
        /// Its new position.
        enabled: bool,
    },
    /// Stored mail or work items changed; lists showing them should refetch.
    DataChanged {
        /// The account whose data changed, or `None` for several.
        #[ts(type = "number | null")]
        account_id: Option<AccountId>,
    },
    /// A sync run stored new messages (published after it committed them).
    NewMail {
        /// The account.
        #[ts(type = "number")]
        account_id: AccountId,
        /// How many new messages were stored.
        #[ts(type = "number")]
        count: u64,
        /// The new messages categorised Primary, newest first (for the OS
        /// notification).
        primary: Vec<crate::model::MessageSummary>,
    },
}

/// The named channels events travel on to the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventChannel {
    /// `sync://progress`: an account is syncing and its progress moved.
    SyncProgress,
    /// `sync://state`: an account's state or the global switch changed.
    SyncState,
    /// `mail://changed`: stored data changed.
    MailChanged,
}

impl EventChannel {
    /// Every channel.
    pub const ALL: [EventChannel; 3] = [Self::SyncProgress, Self::SyncState, Self::MailChanged];

    /// The event name the window listens for.
    pub fn name(self) -> &'static str {
        match self {
            Self::SyncProgress => "sync://progress",
            Self::SyncState => "sync://state",
            Self::MailChanged => "mail://changed",
        }
    }
}

impl Event {
    /// The channel this event travels on.
    pub fn channel(&self) -> EventChannel {
        match self {
            Self::AccountSync {
                sync: SyncState::Syncing { .. },
                ..
            } => EventChannel::SyncProgress,
            Self::AccountSync { .. } | Self::SyncEnabledChanged { .. } => EventChannel::SyncState,
            Self::DataChanged { .. } | Self::NewMail { .. } => EventChannel::MailChanged,
        }
    }
}

/// When each account last had a progress event through, and in which phase.
type ProgressMarks = HashMap<AccountId, (Instant, SyncPhase)>;

/// Publishes events to every subscriber. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    marks: Arc<Mutex<ProgressMarks>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus with no subscribers yet.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            sender,
            marks: Arc::default(),
        }
    }

    /// Publishes `event` unless it is a progress event inside its account's
    /// throttle window. Returns whether it was sent on.
    pub fn publish(&self, event: Event) -> bool {
        if let Event::AccountSync { account_id, sync } = &event {
            if !self.admit_progress(*account_id, sync) {
                return false;
            }
        }
        // No subscriber is not an error: the CLI runs without one.
        let _ = self.sender.send(event);
        true
    }

    /// A new subscription, receiving events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// A collector of everything published from now on, for tests.
    pub fn collector(&self) -> EventCollector {
        EventCollector::new(self.subscribe())
    }

    fn admit_progress(&self, account: AccountId, sync: &SyncState) -> bool {
        let mut marks = self
            .marks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let SyncState::Syncing {
            phase, done, total, ..
        } = sync
        else {
            // Any other state ends the run: the next progress starts afresh.
            marks.remove(&account);
            return true;
        };
        let now = Instant::now();
        let phase_end = total.is_some_and(|t| *done >= t);
        let admit = match marks.get(&account) {
            None => true,
            Some((at, last_phase)) => {
                last_phase != phase || phase_end || now.duration_since(*at) >= PROGRESS_INTERVAL
            }
        };
        if admit {
            marks.insert(account, (now, *phase));
        }
        admit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(done: u64) -> Event {
        Event::AccountSync {
            account_id: 1,
            sync: SyncState::Syncing {
                phase: SyncPhase::Headers,
                done,
                total: Some(1000),
                rate: None,
            },
        }
    }

    #[tokio::test(start_paused = true)]
    async fn progress_is_limited_to_ten_a_second_per_account() {
        let bus = EventBus::new();
        let mut collector = bus.collector();
        for done in 0..1000 {
            bus.publish(progress(done));
            tokio::time::advance(Duration::from_millis(1)).await;
        }
        let events = collector.drain();
        // 1,000 updates over one second: the first, then one per 100 ms.
        assert!(
            (10..=11).contains(&events.len()),
            "expected about 10 progress events in a second, got {}",
            events.len()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn phase_changes_and_state_changes_are_never_dropped() {
        let bus = EventBus::new();
        let mut collector = bus.collector();
        bus.publish(progress(1));
        assert!(bus.publish(Event::AccountSync {
            account_id: 1,
            sync: SyncState::Syncing {
                phase: SyncPhase::Bodies,
                done: 0,
                total: None,
                rate: None,
            },
        }));
        assert!(
            bus.publish(progress(1000)),
            "the last item of a phase goes through"
        );
        assert!(bus.publish(Event::AccountSync {
            account_id: 1,
            sync: SyncState::Idle {
                last_synced_at: Some(5)
            },
        }));
        assert_eq!(collector.drain().len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn accounts_are_throttled_independently() {
        let bus = EventBus::new();
        let mut collector = bus.collector();
        for account_id in 1..=3 {
            bus.publish(Event::AccountSync {
                account_id,
                sync: SyncState::Syncing {
                    phase: SyncPhase::Headers,
                    done: 1,
                    total: None,
                    rate: None,
                },
            });
        }
        assert_eq!(collector.drain().len(), 3);
    }

    #[test]
    fn events_serialise_tagged_for_the_window() {
        let json =
            serde_json::to_value(Event::SyncEnabledChanged { enabled: false }).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"type": "syncEnabledChanged", "data": {"enabled": false}})
        );
        assert_eq!(progress(3).channel().name(), "sync://progress");
    }
}
