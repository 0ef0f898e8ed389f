//! Per-account request limits: a concurrency cap and a rate limiter sized
//! from what each provider documents, so a sync stays inside its quota
//! instead of discovering it through 429s.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Gmail: 15,000 quota units a minute per user, 250 a second. Ember spends
/// at most 96 % of that: its bucket never holds more than Gmail's and
/// refills slower, so however the two line up Gmail never has to say 429.
pub const GMAIL_UNITS_PER_SECOND: u32 = 240;
/// Gmail: requests in flight per account.
pub const GMAIL_CONCURRENCY: usize = 8;
/// Graph: four concurrent requests per mailbox.
pub const GRAPH_CONCURRENCY: usize = 4;
/// Graph: 10,000 requests per ten minutes per mailbox, about 16 a second.
pub const GRAPH_REQUESTS_PER_SECOND: u32 = 16;
/// Azure DevOps: requests in flight per organisation.
pub const ADO_CONCURRENCY: usize = 4;
/// Azure DevOps: a steady rate well inside its sliding-window budget.
pub const ADO_REQUESTS_PER_SECOND: u32 = 20;

/// One account's limits. Cheap to clone; clones share them.
#[derive(Debug, Clone)]
pub struct AccountLimits {
    concurrency: Arc<Semaphore>,
    slots: u32,
    rate: Option<Arc<DefaultDirectRateLimiter>>,
    burst: u32,
    /// No request starts before this (the provider asked us to wait).
    paused_until: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
}

impl AccountLimits {
    /// `concurrency` requests in flight, `per_second` cost units a second
    /// (with a second's worth of burst); `None` for no rate limit.
    pub fn new(concurrency: usize, per_second: Option<u32>) -> Self {
        let rate = per_second
            .and_then(NonZeroU32::new)
            .map(|n| Arc::new(RateLimiter::direct(Quota::per_second(n).allow_burst(n))));
        let slots = u32::try_from(concurrency.max(1)).unwrap_or(u32::MAX);
        Self {
            concurrency: Arc::new(Semaphore::new(concurrency.max(1))),
            slots,
            rate,
            burst: per_second.unwrap_or(u32::MAX).max(1),
            paused_until: Arc::default(),
        }
    }

    /// Gmail's documented limits.
    pub fn gmail() -> Self {
        Self::new(GMAIL_CONCURRENCY, Some(GMAIL_UNITS_PER_SECOND))
    }

    /// Gmail's concurrency without a rate limit (an emulator with its quota
    /// off, benchmarks).
    pub fn unmetered_gmail() -> Self {
        Self::new(GMAIL_CONCURRENCY, None)
    }

    /// Microsoft Graph's documented limits.
    pub fn graph() -> Self {
        Self::new(GRAPH_CONCURRENCY, Some(GRAPH_REQUESTS_PER_SECOND))
    }

    /// Azure DevOps' limits.
    pub fn ado() -> Self {
        Self::new(ADO_CONCURRENCY, Some(ADO_REQUESTS_PER_SECOND))
    }

    /// Holds every new request of this account for `wait` (a Retry-After).
    pub fn pause_for(&self, wait: std::time::Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    fn pause(&self) -> Option<tokio::time::Instant> {
        *self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits out any pause, until `cost` units may be spent, and for a
    /// free request slot.
    pub async fn acquire(&self, cost: u32) -> Option<OwnedSemaphorePermit> {
        self.wait_turn(cost).await;
        self.concurrency.clone().acquire_owned().await.ok()
    }

    /// As [`AccountLimits::acquire`], but holds every request slot: nothing
    /// else of the account runs until the permit is dropped.
    pub async fn acquire_all(&self, cost: u32) -> Option<OwnedSemaphorePermit> {
        self.wait_turn(cost).await;
        self.concurrency
            .clone()
            .acquire_many_owned(self.slots)
            .await
            .ok()
    }

    async fn wait_turn(&self, cost: u32) {
        while let Some(until) = self.pause().filter(|u| *u > tokio::time::Instant::now()) {
            tokio::time::sleep_until(until).await;
        }
        if let Some(rate) = &self.rate {
            // A cost above the burst is paid in bursts, so a batch of many
            // requests is charged every one of them.
            let mut left = cost.max(1);
            while left > 0 {
                let n = left.min(self.burst);
                left -= n;
                // Cannot fail: `n` is at most the burst size.
                let _ = rate
                    .until_n_ready(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
                    .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrency_is_capped() {
        let limits = AccountLimits::new(2, None);
        let a = limits.acquire(1).await;
        let b = limits.acquire(1).await;
        assert!(a.is_some() && b.is_some());
        let third =
            tokio::time::timeout(std::time::Duration::from_millis(50), limits.acquire(1)).await;
        assert!(third.is_err(), "a third request waits for a slot");
        drop(a);
        assert!(limits.acquire(1).await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_new_request() {
        let limits = AccountLimits::new(4, None);
        limits.pause_for(std::time::Duration::from_secs(3));
        let started = tokio::time::Instant::now();
        let _permit = limits.acquire(1).await;
        assert!(started.elapsed() >= std::time::Duration::from_secs(3));
    }
}
