//! The one error every command returns: `{code, message}`, the same shape the
//! core's `ApiError` has and the UI's `ApiError` binding describes.

use ember::{ApiError, ServiceError};
use serde::Serialize;

/// A failed command, as the window receives it.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct CommandError(ApiError);

impl From<ServiceError> for CommandError {
    fn from(e: ServiceError) -> Self {
        tracing::warn!(error = %e, "command failed");
        Self(e.into())
    }
}

/// What every command returns.
pub type CommandResult<T> = Result<T, CommandError>;

impl From<ApiError> for CommandError {
    fn from(e: ApiError) -> Self {
        tracing::warn!(error = %e, "command failed");
        Self(e)
    }
}
