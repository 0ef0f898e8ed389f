//! What the emulator's handlers share: the world, the fault spec and its
//! random stream, the issued credentials, quota buckets, and statistics.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::faults::{FaultPlan, FaultSpec};
use super::oauth::Credentials;
use super::world::World;

/// Requests kept in the request log.
pub const LOG_CAPACITY: usize = 20_000;

/// Gmail's per-user quota: 15,000 units a minute, as a bucket refilled
/// continuously at 250 units a second that holds at most one second's worth.
pub const GMAIL_UNITS_PER_SECOND: f64 = 250.0;

/// Graph: concurrent requests one mailbox may have open.
pub const GRAPH_MAX_CONCURRENT: usize = 4;

/// Graph: requests one mailbox may make per window.
pub const GRAPH_WINDOW_REQUESTS: usize = 10_000;

/// Graph: the rate window.
pub const GRAPH_WINDOW: Duration = Duration::from_secs(600);

/// Azure DevOps: requests per window before 429 (its TSTU budget, simplified
/// to one unit a request).
pub const ADO_WINDOW_REQUESTS: usize = 200 * 60;

/// Azure DevOps: the sliding window.
pub const ADO_WINDOW: Duration = Duration::from_secs(300);

/// How the emulator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// Enforce the providers' documented quotas.
    pub quota: bool,
}

/// One logged request.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    /// When the request arrived, milliseconds since the emulator started.
    pub started_ms: u64,
    /// When it was answered, milliseconds since the emulator started.
    pub t_ms: u64,
    /// Endpoint name.
    pub endpoint: &'static str,
    /// The account it was made for, when known.
    pub account: Option<String>,
    /// The status sent.
    pub status: u16,
}

/// `GET /_emulator/stats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Requests per endpoint.
    pub requests: BTreeMap<String, u64>,
    /// Statuses sent per endpoint.
    pub statuses: BTreeMap<String, BTreeMap<u16, u64>>,
    /// The most requests one account had open at once.
    pub max_concurrency: BTreeMap<String, usize>,
    /// Gmail quota units used per account.
    pub quota_units: BTreeMap<String, u64>,
    #[serde(skip)]
    open: HashMap<String, usize>,
}

/// A token bucket.
#[derive(Debug, Clone)]
struct Bucket {
    level: f64,
    at: Instant,
}

/// Per-account rate state.
#[derive(Debug, Default)]
pub struct Quotas {
    gmail: HashMap<String, Bucket>,
    windows: HashMap<String, VecDeque<Instant>>,
}

impl Quotas {
    /// Takes `units` from `account`'s Gmail bucket; `false` when it is empty.
    pub fn take_gmail(&mut self, account: &str, units: u32, now: Instant) -> bool {
        let bucket = self.gmail.entry(account.to_owned()).or_insert(Bucket {
            level: GMAIL_UNITS_PER_SECOND,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.level =
            (bucket.level + elapsed * GMAIL_UNITS_PER_SECOND).min(GMAIL_UNITS_PER_SECOND);
        bucket.at = now;
        if bucket.level >= f64::from(units) {
            bucket.level -= f64::from(units);
            true
        } else {
            false
        }
    }

    /// Counts a request in `key`'s sliding window of `window` holding at
    /// most `limit`; returns `Err(wait)` when full, with how long until a
    /// slot frees, and `Ok(remaining)` otherwise.
    pub fn take_window(
        &mut self,
        key: &str,
        limit: usize,
        window: Duration,
        now: Instant,
    ) -> Result<usize, Duration> {
        let q = self.windows.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            q.pop_front();
        }
        if q.len() >= limit {
            let oldest = q.front().copied().unwrap_or(now);
            return Err(window.saturating_sub(now.saturating_duration_since(oldest)));
        }
        q.push_back(now);
        Ok(limit - q.len())
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct Shared {
    /// How the server runs.
    pub config: ServerConfig,
    /// The base URL clients reach the emulator at.
    pub base_url: String,
    /// The per-run secret the `/_emulator/` control routes require (see
    /// [`crate::control::TOKEN_HEADER`]).
    pub control_token: String,
    /// Cancelled when the server stops (ends hung requests).
    pub stop: CancellationToken,
    started: Instant,
    world: Mutex<World>,
    faults: Mutex<(FaultSpec, ChaCha8Rng)>,
    credentials: Mutex<Credentials>,
    quotas: Mutex<Quotas>,
    stats: Mutex<Stats>,
    log: Mutex<VecDeque<LoggedRequest>>,
    /// The finished router, for batch endpoints; cleared on stop to break
    /// the cycle between the router and this state.
    dispatch: Mutex<Option<axum::Router>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// State for a server at `base_url` holding `world`, whose control
    /// routes answer only requests carrying `control_token`.
    pub fn new(
        config: ServerConfig,
        base_url: String,
        control_token: String,
        world: World,
        faults: FaultSpec,
    ) -> Self {
        let seed = world.config.seed;
        Self {
            config,
            base_url,
            control_token,
            stop: CancellationToken::new(),
            started: Instant::now(),
            credentials: Mutex::new(Credentials::new(seed, &world)),
            world: Mutex::new(world),
            faults: Mutex::new((faults, ChaCha8Rng::seed_from_u64(seed ^ 0xFA17))),
            quotas: Mutex::default(),
            stats: Mutex::default(),
            log: Mutex::default(),
            dispatch: Mutex::new(None),
        }
    }

    /// Sets the router batch endpoints dispatch inner requests to.
    pub fn set_dispatch(&self, router: Option<axum::Router>) {
        *lock(&self.dispatch) = router;
    }

    /// The router batch endpoints dispatch inner requests to.
    pub fn dispatch(&self) -> Option<axum::Router> {
        lock(&self.dispatch).clone()
    }

    /// The world, locked. Keep the guard for as short a time as possible.
    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// Issued credentials, locked.
    pub fn credentials(&self) -> MutexGuard<'_, Credentials> {
        lock(&self.credentials)
    }

    /// Quota state, locked.
    pub fn quotas(&self) -> MutexGuard<'_, Quotas> {
        lock(&self.quotas)
    }

    /// Replaces the world (reset), forgetting issued credentials' accounts
    /// that no longer exist, and the fault stream restarts from the new seed.
    pub fn replace_world(&self, world: World) {
        let seed = world.config.seed;
        *lock(&self.credentials) = Credentials::new(seed, &world);
        *lock(&self.world) = world;
        let mut faults = lock(&self.faults);
        faults.1 = ChaCha8Rng::seed_from_u64(seed ^ 0xFA17);
        *lock(&self.quotas) = Quotas::default();
        *lock(&self.stats) = Stats::default();
        lock(&self.log).clear();
    }

    /// Replaces the fault spec.
    pub fn set_faults(&self, spec: FaultSpec) {
        lock(&self.faults).0 = spec;
    }

    /// Draws the faults for one request to `endpoint`.
    pub fn plan_faults(&self, endpoint: &str) -> FaultPlan {
        let mut guard = lock(&self.faults);
        let (spec, rng) = &mut *guard;
        spec.plan(endpoint, rng)
    }

    /// Marks a request for `account` open; returns how many it now has open.
    pub fn open_request(&self, endpoint: &'static str, account: Option<&str>) -> usize {
        let mut stats = lock(&self.stats);
        *stats.requests.entry(endpoint.to_owned()).or_default() += 1;
        let Some(account) = account else { return 0 };
        let open = {
            let n = stats.open.entry(account.to_owned()).or_default();
            *n += 1;
            *n
        };
        let max = stats.max_concurrency.entry(account.to_owned()).or_default();
        *max = (*max).max(open);
        open
    }

    /// Milliseconds since the emulator started.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Marks a request that arrived at `started_ms` closed and logs its status.
    pub fn close_request(
        &self,
        endpoint: &'static str,
        account: Option<&str>,
        status: u16,
        started_ms: u64,
    ) {
        {
            let mut stats = lock(&self.stats);
            *stats
                .statuses
                .entry(endpoint.to_owned())
                .or_default()
                .entry(status)
                .or_default() += 1;
            if let Some(n) = account.and_then(|a| stats.open.get_mut(a)) {
                *n = n.saturating_sub(1);
            }
        }
        let mut log = lock(&self.log);
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(LoggedRequest {
            started_ms,
            t_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            endpoint,
            account: account.map(str::to_owned),
            status,
        });
    }

    /// Records Gmail quota units used by `account`.
    pub fn add_units(&self, account: &str, units: u32) {
        *lock(&self.stats)
            .quota_units
            .entry(account.to_owned())
            .or_default() += u64::from(units);
    }

    /// A copy of the statistics.
    pub fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    /// A copy of the request log, oldest first.
    pub fn log(&self) -> Vec<LoggedRequest> {
        lock(&self.log).iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gmail_bucket_allows_a_seconds_worth_then_refills() {
        let mut q = Quotas::default();
        let t0 = Instant::now();
        let mut granted = 0;
        while q.take_gmail("a", 5, t0) {
            granted += 1;
        }
        assert_eq!(granted, 50, "250 units a second at 5 units a get");
        assert!(!q.take_gmail("a", 5, t0 + Duration::from_millis(10)));
        assert!(q.take_gmail("a", 5, t0 + Duration::from_millis(40)));
        assert!(q.take_gmail("b", 5, t0), "accounts have their own buckets");
    }

    #[test]
    fn a_full_window_says_how_long_to_wait() {
        let mut q = Quotas::default();
        let t0 = Instant::now();
        let w = Duration::from_secs(10);
        assert_eq!(q.take_window("k", 2, w, t0), Ok(1));
        assert_eq!(q.take_window("k", 2, w, t0 + Duration::from_secs(4)), Ok(0));
        assert_eq!(
            q.take_window("k", 2, w, t0 + Duration::from_secs(5)),
            Err(Duration::from_secs(5))
        );
        assert_eq!(
            q.take_window("k", 2, w, t0 + Duration::from_secs(10)),
            Ok(0)
        );
    }
}
