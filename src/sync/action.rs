//! What became of one queued action the provider was asked to apply, in
//! the terms the outbox acts on, whatever the provider.
//!
//! Sources translate their own errors into these classes; the outbox then
//! decides alike for every provider: what may heal waits and is tried
//! again, what the provider refused for good is dropped and reported, a
//! refused sign-in stops the run.

use std::time::Duration;

/// Why a queued action was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// A passing fault (throttling, an outage, a timeout): try again later,
    /// not before `retry_after` when the provider said so.
    #[error("{message}")]
    Later {
        /// What happened.
        message: String,
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The provider refused it for good (a malformed or forbidden change).
    #[error("{0}")]
    Refused(String),
    /// What it acts on no longer exists at the provider: nothing to do.
    #[error("{0}")]
    Gone(String),
    /// Someone else changed it since the user saw it; the edit waits for
    /// the user to re-apply or drop it.
    #[error("{0}")]
    Conflict(String),
    /// The provider no longer accepts the account's credentials.
    #[error("{0}")]
    Reauth(String),
}

impl ActionError {
    /// A passing fault without a requested wait.
    pub fn later(message: impl Into<String>) -> Self {
        Self::Later {
            message: message.into(),
            retry_after: None,
        }
    }
}
