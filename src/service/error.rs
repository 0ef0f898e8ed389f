//! The service's errors, and the one serialisable shape they take at the
//! edges (the window's `{code, message}`, the CLI's JSON errors).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::store::StoreError;

/// What can go wrong in a service call.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller asked for something malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// Signing in failed; the sentence says why.
    #[error("Sign-in failed: {0}")]
    SignIn(String),
    /// A setting is out of range or malformed; the sentence says which.
    #[error("{0}")]
    InvalidSetting(String),
    /// The data directory cannot be used.
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A search the parser cannot understand.
    #[error("{0}")]
    InvalidQuery(String),
    /// A link that may not be opened (not http, https or mailto).
    #[error("{0}")]
    RefusedLink(String),
    /// A provider could not be asked now (offline, throttled, refused);
    /// what is stored stays as it was.
    #[error("{0}")]
    Unavailable(String),
    /// The service is shutting down and takes no more work.
    #[error("Ember is shutting down")]
    ShuttingDown,
    /// Past a provider's or Ember's size limit; the sentence gives both.
    #[error("{0}")]
    TooLarge(String),
    /// Another process syncs and sends for this profile; the sentence
    /// names it.
    #[error(transparent)]
    ProfileBusy(#[from] crate::profile::LockError),
}

impl ServiceError {
    /// The stable code the UI and scripts branch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Store(StoreError::NotFound(_)) => ErrorCode::NotFound,
            Self::Store(StoreError::WrongState(_)) => ErrorCode::Conflict,
            Self::Store(e) if e.is_disk_full() => ErrorCode::DiskFull,
            Self::Store(e) if e.is_retryable() => ErrorCode::Unavailable,
            Self::Store(_) | Self::DataDir { .. } => ErrorCode::Storage,
            Self::InvalidInput(_) => ErrorCode::InvalidInput,
            Self::InvalidSetting(_) => ErrorCode::InvalidSetting,
            Self::SignIn(_) => ErrorCode::SignInFailed,
            Self::InvalidQuery(_) => ErrorCode::InvalidQuery,
            Self::RefusedLink(_) => ErrorCode::RefusedLink,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::ShuttingDown => ErrorCode::ShuttingDown,
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::ProfileBusy(crate::profile::LockError::Held { .. }) => ErrorCode::Unavailable,
            Self::ProfileBusy(_) => ErrorCode::Storage,
        }
    }
}

/// Stable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// The thing asked for does not exist (any more).
    NotFound,
    /// The request was malformed.
    InvalidInput,
    /// Signing in to a provider failed.
    SignInFailed,
    /// A setting was refused; nothing was changed.
    InvalidSetting,
    /// Local storage failed.
    Storage,
    /// The disk is full: nothing of this change was saved; it can be done
    /// again once there is room.
    DiskFull,
    /// The search text cannot be parsed; the message says what is wrong.
    InvalidQuery,
    /// The link was not opened: only http, https and mailto links are.
    RefusedLink,
    /// Busy for now; trying again may work.
    Unavailable,
    /// Ember is shutting down.
    ShuttingDown,
    /// It changed meanwhile (a message already sent cannot be edited).
    Conflict,
    /// Past a size limit (an attachment, a message).
    TooLarge,
    /// A fault in Ember itself.
    Internal,
}

/// An error as the window and scripts receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ApiError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// A sentence for the user.
    pub message: String,
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}
