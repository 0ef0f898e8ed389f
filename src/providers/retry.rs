//! Retrying provider requests: exponential backoff with full jitter that
//! honours a server's Retry-After, and gives up at once on errors that no
//! retry can fix (400, 401, 404 ...).
//!
//! This is the only module that touches the `backoff` crate, which upstream
//! no longer maintains (RUSTSEC-2025-0012, recorded in `deny.toml`): if it
//! must go, only this file changes.

use std::future::Future;
use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::ExponentialBackoff;

/// First wait between attempts.
pub const INITIAL_INTERVAL: Duration = Duration::from_millis(500);
/// Longest wait between attempts (a Retry-After may ask for longer).
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);
/// Give up after retrying for this long.
pub const MAX_ELAPSED: Duration = Duration::from_secs(5 * 60);

/// What the retry loop needs to know about an error.
pub trait Retryable {
    /// Whether the same request may succeed later (429, 5xx, timeouts, resets).
    fn is_retryable(&self) -> bool;
    /// How long the server asked us to wait, if it did.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// A retry policy: how long to wait between attempts and when to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First wait.
    pub initial: Duration,
    /// Longest computed wait.
    pub max_interval: Duration,
    /// Stop retrying after this long.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: INITIAL_INTERVAL,
            max_interval: MAX_INTERVAL,
            max_elapsed: MAX_ELAPSED,
        }
    }
}

impl RetryPolicy {
    fn backoff(&self) -> ExponentialBackoff {
        ExponentialBackoff {
            current_interval: self.initial,
            initial_interval: self.initial,
            // Full jitter: each wait is drawn from [0, 2 × interval].
            randomization_factor: 1.0,
            multiplier: 2.0,
            max_interval: self.max_interval,
            max_elapsed_time: Some(self.max_elapsed),
            ..ExponentialBackoff::default()
        }
    }
}

/// Runs `op` until it succeeds, fails with an error that is not retryable, or
/// the policy runs out. `on_retry` hears of each error that will be retried
/// and the wait before the next attempt.
pub async fn retry<T, E, Op, Fut>(
    policy: RetryPolicy,
    mut op: Op,
    mut on_retry: impl FnMut(&E, Duration),
) -> Result<T, E>
where
    E: Retryable,
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut backoff = policy.backoff();
    backoff.reset();
    loop {
        let error = match op().await {
            Ok(value) => return Ok(value),
            Err(e) if !e.is_retryable() => return Err(e),
            Err(e) => e,
        };
        let Some(computed) = backoff.next_backoff() else {
            return Err(error);
        };
        // A server's Retry-After is a floor that jitter never shortens.
        let wait = error.retry_after().map_or(computed, |ra| ra.max(computed));
        on_retry(&error, wait);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[derive(Debug, PartialEq)]
    enum Fault {
        Busy(Option<Duration>),
        Fatal,
    }

    impl Retryable for Fault {
        fn is_retryable(&self) -> bool {
            matches!(self, Fault::Busy(_))
        }
        fn retry_after(&self) -> Option<Duration> {
            match self {
                Fault::Busy(ra) => *ra,
                Fault::Fatal => None,
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let result = retry(
            RetryPolicy::default(),
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                    Err(Fault::Busy(None))
                } else {
                    Ok("done")
                }
            },
            |_, _| {},
        )
        .await;
        assert_eq!(result, Ok("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn errors_that_cannot_heal_are_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry(
            RetryPolicy::default(),
            || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Fault::Fatal)
            },
            |_, _| {},
        )
        .await;
        assert_eq!(result, Err(Fault::Fatal));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_never_undercut() {
        let calls = AtomicU32::new(0);
        let mut waits = Vec::new();
        let _ = retry(
            RetryPolicy::default(),
            || async {
                if calls.fetch_add(1, Ordering::SeqCst) < 5 {
                    Err(Fault::Busy(Some(Duration::from_secs(7))))
                } else {
                    Ok(())
                }
            },
            |_, wait| waits.push(wait),
        )
        .await;
        assert_eq!(waits.len(), 5);
        assert!(
            waits.iter().all(|w| *w >= Duration::from_secs(7)),
            "every wait honours Retry-After: {waits:?}"
        );
    }
}
