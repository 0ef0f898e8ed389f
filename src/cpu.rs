//! CPU-bound work kept off the async workers: it runs on Rayon's pool and the
//! caller awaits the result through a oneshot, so a large MIME message or a
//! batch of HTML to sanitise never stalls the runtime that serves the window.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why CPU work produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a background computation failed: {0}")]
pub struct CpuError(pub String);

/// Runs `f` on Rayon's pool and waits for its result. A panic in `f` (a
/// parser meeting input it did not expect) becomes an error, not an abort.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, CpuError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            CpuError(message)
        });
        let _ = tx.send(result);
    });
    rx.await
        .map_err(|_| CpuError("the worker went away".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_come_back_and_panics_become_errors() {
        assert_eq!(run(|| 6 * 7).await, Ok(42));
        #[allow(clippy::panic, reason = "the test is about a panicking job")]
        let failed = run(|| -> u8 { panic!("bad input") }).await;
        assert_eq!(failed, Err(CpuError("bad input".into())));
    }
}
