//! Why a sync run failed, in terms the loop can act on and the user can read.

use crate::model::{ProviderKind, SyncErrorCode};
use crate::store::StoreError;

/// A failed sync run.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The run was cancelled (shutdown, sync switched off, account removed).
    #[error("sync was cancelled")]
    Cancelled,
    /// The run took longer than its overall limit.
    #[error("sync took longer than {0:?} and was stopped")]
    TimedOut(std::time::Duration),
    /// The provider no longer accepts our credentials.
    #[error("{0}")]
    NeedsReauth(String),
    /// No sync source is available for this kind of account.
    #[error("Syncing {} accounts is not available in this version yet.", provider_label(*.0))]
    Unsupported(ProviderKind),
    /// The provider failed or answered with something we cannot use.
    #[error("{message}")]
    Provider {
        /// What kind of failure.
        code: SyncErrorCode,
        /// A sentence for the user.
        message: String,
    },
    /// The local store failed.
    #[error("local storage failed: {0}")]
    Store(#[from] StoreError),
    /// The service is shutting down.
    #[error("Ember is shutting down")]
    ShuttingDown,
    /// Another run of the account (in another process) saved its cursors
    /// while this one ran: this run wrote nothing after that, and the next
    /// run starts from the newer position.
    #[error("another process synced this account meanwhile; this run stopped without writing")]
    Overtaken,
    /// Another process syncs and sends for this profile.
    #[error("cannot sync: {0}")]
    ProfileBusy(#[from] crate::profile::LockError),
}

fn provider_label(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Gmail => "Gmail",
        ProviderKind::Graph => "Microsoft 365",
        ProviderKind::Ado => "Azure DevOps",
    }
}

impl SyncError {
    /// A stable machine-readable code for the UI and logs.
    pub fn code(&self) -> SyncErrorCode {
        match self {
            Self::Cancelled | Self::Overtaken => SyncErrorCode::Cancelled,
            Self::TimedOut(_) => SyncErrorCode::TimedOut,
            Self::NeedsReauth(_) => SyncErrorCode::NeedsReauth,
            Self::Unsupported(_) => SyncErrorCode::Unsupported,
            Self::Provider { code, .. } => *code,
            Self::Store(e) if e.is_disk_full() => SyncErrorCode::DiskFull,
            Self::Store(_) | Self::ProfileBusy(_) => SyncErrorCode::Storage,
            Self::ShuttingDown => SyncErrorCode::ShuttingDown,
        }
    }
}
