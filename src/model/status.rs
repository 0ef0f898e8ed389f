//! Sync state as the tray, the UI and `ember status` show it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Account;

/// What a sync run is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SyncPhase {
    /// Reaching the service, refreshing credentials.
    Connecting,
    /// Labels and folders.
    Folders,
    /// Message metadata: the list fills.
    Headers,
    /// Message bodies.
    Bodies,
    /// Azure DevOps work items.
    WorkItems,
    /// On-device categorisation.
    Categorising,
}

/// Why a sync run failed, as the window and scripts branch on it. Stored
/// by name (`rate_limited` ...); a name this version does not know reads
/// as [`SyncErrorCode::Internal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncErrorCode {
    /// The run was cancelled.
    Cancelled,
    /// The run took longer than its limit.
    TimedOut,
    /// The provider refused the credentials.
    NeedsReauth,
    /// No sync source for this kind of account.
    Unsupported,
    /// The provider asked us to slow down, and kept asking.
    RateLimited,
    /// The provider failed (5xx).
    ServerError,
    /// The provider's answer could not be used.
    BadResponse,
    /// The provider refused a request as malformed.
    BadRequest,
    /// The provider no longer has what was asked for.
    NotFound,
    /// The provider could not be reached.
    Unreachable,
    /// The stored credentials could not be read.
    Keychain,
    /// Local storage failed.
    Storage,
    /// The disk holding the data folder is full: nothing was saved from the
    /// write that met it, and sync carries on once there is room.
    DiskFull,
    /// Ember is shutting down.
    ShuttingDown,
    /// The account's settings are unusable.
    Invalid,
    /// A fault in Ember itself.
    Internal,
}

impl SyncErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 16] = [
        Self::Cancelled,
        Self::TimedOut,
        Self::NeedsReauth,
        Self::Unsupported,
        Self::RateLimited,
        Self::ServerError,
        Self::BadResponse,
        Self::BadRequest,
        Self::NotFound,
        Self::Unreachable,
        Self::Keychain,
        Self::Storage,
        Self::DiskFull,
        Self::ShuttingDown,
        Self::Invalid,
        Self::Internal,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed_out",
            Self::NeedsReauth => "needs_reauth",
            Self::Unsupported => "unsupported",
            Self::RateLimited => "rate_limited",
            Self::ServerError => "server_error",
            Self::BadResponse => "bad_response",
            Self::BadRequest => "bad_request",
            Self::NotFound => "not_found",
            Self::Unreachable => "unreachable",
            Self::Keychain => "keychain",
            Self::Storage => "storage",
            Self::DiskFull => "disk_full",
            Self::ShuttingDown => "shutting_down",
            Self::Invalid => "invalid",
            Self::Internal => "internal",
        }
    }

    /// Reads a stored name; unknown ones are [`SyncErrorCode::Internal`].
    pub fn parse(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .unwrap_or(Self::Internal)
    }
}

impl std::fmt::Display for SyncErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One account's sync state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SyncState {
    /// Not syncing; waiting for the next tick.
    Idle {
        /// When the last successful run finished, Unix milliseconds.
        #[ts(type = "number | null")]
        last_synced_at: Option<i64>,
    },
    /// A run is under way.
    Syncing {
        /// What it is doing.
        phase: SyncPhase,
        /// Items done in this phase.
        #[ts(type = "number")]
        done: u64,
        /// Items in this phase, when known.
        #[ts(type = "number | null")]
        total: Option<u64>,
        /// Items a second in this phase so far, once measurable.
        rate: Option<f64>,
    },
    /// The last run failed; the loop will try again.
    Error {
        /// What kind of failure.
        code: SyncErrorCode,
        /// A sentence for the user.
        message: String,
    },
    /// The provider rejected our credentials; the user must sign in again.
    NeedsReauth {
        /// A sentence for the user.
        message: String,
    },
    /// Sync is switched off, globally or for this account.
    Paused,
}

/// One account and its sync state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatus {
    /// The account.
    pub account: Account,
    /// Its sync state.
    pub sync: SyncState,
}

/// A snapshot of the whole app's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The global switch (tray and in-app toggle).
    pub sync_enabled: bool,
    /// Every account with its state.
    pub accounts: Vec<AccountStatus>,
    /// Messages stored locally.
    #[ts(type = "number")]
    pub message_count: i64,
    /// Work items stored locally.
    #[ts(type = "number")]
    pub work_item_count: i64,
    /// Where the database lives.
    pub data_dir: String,
    /// Demo mode: the accounts are served by the built-in emulator.
    pub demo: bool,
    /// Set when no keychain could be reached: why, and so sign-ins last only
    /// until Ember quits.
    pub insecure_storage: Option<String>,
    /// The on-device categoriser.
    pub classifier: super::ClassifierStatus,
}

/// One line summing up sync for the tray tooltip: the most urgent thing first.
pub fn sync_headline<'a>(enabled: bool, states: impl IntoIterator<Item = &'a SyncState>) -> String {
    fn accounts(n: usize) -> String {
        if n == 1 {
            "1 account".into()
        } else {
            format!("{n} accounts")
        }
    }
    if !enabled {
        return "Fireside Ember: sync paused".into();
    }
    let (mut reauth, mut syncing, mut failing) = (0, 0, 0);
    for state in states {
        match state {
            SyncState::NeedsReauth { .. } => reauth += 1,
            SyncState::Syncing { .. } => syncing += 1,
            SyncState::Error { .. } => failing += 1,
            SyncState::Idle { .. } | SyncState::Paused => {}
        }
    }
    if reauth > 0 {
        format!("Fireside Ember: {} must sign in again", accounts(reauth))
    } else if syncing > 0 {
        format!("Fireside Ember: syncing {}", accounts(syncing))
    } else if failing > 0 {
        format!("Fireside Ember: sync failed for {}", accounts(failing))
    } else {
        "Fireside Ember: up to date".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_names_the_most_urgent_state() {
        let syncing = SyncState::Syncing {
            phase: SyncPhase::Headers,
            done: 1,
            total: None,
            rate: None,
        };
        let reauth = SyncState::NeedsReauth {
            message: String::new(),
        };
        let idle = SyncState::Idle {
            last_synced_at: None,
        };
        assert_eq!(
            sync_headline(false, [&syncing]),
            "Fireside Ember: sync paused"
        );
        assert_eq!(
            sync_headline(true, [&syncing, &reauth]),
            "Fireside Ember: 1 account must sign in again"
        );
        assert_eq!(
            sync_headline(true, [&syncing, &syncing, &idle]),
            "Fireside Ember: syncing 2 accounts"
        );
        assert_eq!(sync_headline(true, [&idle]), "Fireside Ember: up to date");
        assert_eq!(sync_headline(true, []), "Fireside Ember: up to date");
    }
}

#[cfg(test)]
mod code_tests {
    use super::SyncErrorCode;

    #[test]
    fn codes_round_trip_by_name_and_unknown_names_are_internal() {
        for code in SyncErrorCode::ALL {
            assert_eq!(SyncErrorCode::parse(code.as_str()), code);
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert_eq!(SyncErrorCode::parse("gremlins"), SyncErrorCode::Internal);
    }
}
