//! The categoriser's own Rayon pool and the one way the async world reaches
//! it: [`ClassifyPool::run`] hands a closure to the pool and awaits its
//! result through a oneshot, so inference never occupies a Tokio worker and
//! never competes with the global pool that sanitises HTML. Its threads
//! run at a lower OS priority (nice 9 on Linux, the matching level
//! elsewhere): categorising is background work, so on a busy machine the
//! window, sync and sending get the cores first and the categoriser takes
//! what they leave, catching up behind a first sync instead of halving it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::cpu::CpuError;

/// The environment variable that sets the pool's threads.
pub const THREADS_ENV: &str = "EMBER_CLASSIFY_THREADS";

/// Threads by default: one core left for the window and sync, at least one.
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    cores.saturating_sub(1).max(1)
}

/// Threads from `EMBER_CLASSIFY_THREADS`, else the default.
pub fn threads_from_env() -> usize {
    std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(default_threads)
}

/// The categoriser's threads' priority: [0, 99] from lowest to highest,
/// which `thread-priority` maps to nice 9 on Linux.
const BACKGROUND_PRIORITY: u8 = 25;

/// Lowers the calling thread's scheduling priority; a system that refuses
/// leaves it as it was (the categoriser still works, only less politely).
fn lower_priority() {
    use thread_priority::{set_current_thread_priority, ThreadPriority};
    let Ok(value) = BACKGROUND_PRIORITY.try_into() else {
        return;
    };
    if let Err(e) = set_current_thread_priority(ThreadPriority::Crossplatform(value)) {
        tracing::debug!(error = ?e, "the categoriser's threads keep their priority");
    }
}

/// A fixed-size pool for categorisation. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ClassifyPool {
    pool: Arc<rayon::ThreadPool>,
}

impl ClassifyPool {
    /// A pool of `threads` threads named `ember-classify-N`.
    pub fn new(threads: usize) -> Result<Self, CpuError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("ember-classify-{i}"))
            .start_handler(|_| lower_priority())
            .build()
            .map_err(|e| CpuError(format!("cannot start the categoriser's threads: {e}")))?;
        Ok(Self {
            pool: Arc::new(pool),
        })
    }

    /// Its threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Runs `f` on the pool and awaits its result; a panic becomes an error.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CpuError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
                CpuError(
                    panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into()),
                )
            });
            let _ = tx.send(result);
        });
        rx.await
            .map_err(|_| CpuError("the categoriser's worker went away".into()))?
    }

    /// Runs `f` on every thread's share of `items` at once (one call per
    /// item, in parallel) and awaits all results, in order.
    pub async fn map<I, T>(
        &self,
        items: Vec<I>,
        f: impl Fn(I) -> T + Send + Sync + 'static,
    ) -> Result<Vec<T>, CpuError>
    where
        I: Send + 'static,
        T: Send + 'static,
    {
        use rayon::prelude::*;
        let pool = self.pool.clone();
        self.run(move || pool.install(|| items.into_par_iter().map(f).collect()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nice value of the calling thread (field 19 of its stat line).
    #[cfg(target_os = "linux")]
    fn own_nice() -> Option<i64> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        // The command name is parenthesised and may hold spaces.
        let after = &stat[stat.rfind(')')? + 2..];
        after.split_whitespace().nth(16)?.parse().ok()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_categoriser_yields_the_cores_to_sync_and_the_window() {
        let caller = own_nice().unwrap();
        let pool = ClassifyPool::new(1).unwrap();
        let worker = pool.run(own_nice).await.unwrap().unwrap();
        assert!(
            worker > caller,
            "the categoriser's thread runs at nice {worker}, the caller at {caller}"
        );
    }

    #[tokio::test]
    async fn work_runs_on_the_named_pool_and_comes_back() {
        let pool = ClassifyPool::new(2).unwrap();
        assert_eq!(pool.threads(), 2);
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert_eq!(
            name.as_deref().map(|n| n.starts_with("ember-classify-")),
            Some(true)
        );
        let squares = pool.map((1..=4).collect(), |x: i32| x * x).await.unwrap();
        assert_eq!(squares, [1, 4, 9, 16]);
    }

    #[test]
    fn the_default_leaves_a_core_free_but_never_goes_below_one() {
        assert!(default_threads() >= 1);
    }
}
