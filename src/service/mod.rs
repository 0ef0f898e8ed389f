//! The service layer: the one value through which the desktop shell, the CLI
//! and the tests use Ember.
//!
//! [`Ember`] owns the store, the sync controller, the event bus, a
//! [`TaskTracker`] for every background task and the root
//! [`CancellationToken`] they all descend from. Every user action is a method
//! here, so the window, the tray and `ember` share one path.

mod accounts;
mod actions;
mod categories;
mod compose;
pub mod demo;
pub mod doctor;
mod error;
mod mail;
mod settings;
pub mod sign_in;
pub mod sources;
mod work_items;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

pub use error::{ApiError, ErrorCode, ServiceError};
pub use mail::RemoteDecision;

use crate::auth::Secrets;
use crate::config::Config;
use crate::events::{Event, EventBus};
use crate::model::{
    Account, AccountId, AccountStatus, MessageDetail, MessageId, MessagePage, MessageQuery,
    NewAccount, Status,
};
use crate::profile::ProfileLock;
use crate::store::Store;
use crate::sync::{SyncController, SyncSources};

/// Demo mode's world: seed, messages per mailbox, work items.
#[cfg(feature = "emulator")]
const DEMO_SEED: u64 = 1;
#[cfg(feature = "emulator")]
const DEMO_MESSAGES: usize = 2_000;
#[cfg(feature = "emulator")]
const DEMO_WORK_ITEMS: usize = 200;
/// The file in the data directory where demo mode writes its emulator's
/// address (for end-to-end tests that inject mail into the demo world).
#[cfg(feature = "emulator")]
pub const DEMO_URL_FILE: &str = "demo-emulator.url";

/// Where demo mode records its emulator's control secret (readable by the
/// user only), next to [`DEMO_URL_FILE`], for end-to-end tests.
pub const DEMO_TOKEN_FILE: &str = "demo-emulator.token";

/// How shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Every task ended and the database closed within the deadline.
    pub clean: bool,
    /// How long it took.
    pub elapsed: Duration,
}

/// The running service. Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct Ember {
    store: Store,
    events: EventBus,
    sync: SyncController,
    tracker: TaskTracker,
    root: CancellationToken,
    config: Config,
    /// Whether [`Ember::start_sync`] ran: only then do account changes
    /// start or stop loops.
    sync_started: Arc<AtomicBool>,
    /// Credential storage, found on first use.
    secrets: Arc<crate::auth::SecretsSlot>,
    /// The on-device categoriser.
    categoriser: Arc<crate::classify::Categoriser>,
    /// The reading pane's last rendered documents.
    renders: Arc<crate::render::cache::RenderCache>,
    /// The in-process emulator demo mode runs, if any.
    #[cfg(feature = "emulator")]
    demo: Arc<tokio::sync::Mutex<Option<ember_emulator::Emulator>>>,
    /// The profile lock, once this process syncs or sends (see
    /// [`crate::profile`]); released at shutdown.
    profile: Arc<tokio::sync::Mutex<Option<ProfileLock>>>,
}

impl Ember {
    /// Opens the data directory (creating it) and its database. Sync loops do
    /// not start until [`Ember::start_sync`], so a one-shot CLI command never
    /// touches the network.
    pub async fn open(config: Config, sources: SyncSources) -> Result<Self, ServiceError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServiceError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let store = Store::open(&config.database_path()).await?;
        let events = EventBus::new();
        let tracker = TaskTracker::new();
        let root = CancellationToken::new();
        let profile = store.profile_id().await?;
        let secrets = Arc::new(match &config.secrets {
            Some(s) => crate::auth::SecretsSlot::given(s.clone(), &profile),
            None => crate::auth::SecretsSlot::new(
                crate::auth::StoreChoice::from_env(&config.data_dir)
                    .map_err(|e| ServiceError::InvalidSetting(e.to_string()))?,
                profile,
            ),
        });
        let (categorise, queued) =
            crate::classify::CategoriseQueue::new(crate::classify::QUEUE_CAPACITY);
        let pool = crate::classify::ClassifyPool::new(config.classify_threads)
            .map_err(|e| ServiceError::InvalidInput(e.to_string()))?;
        let categoriser = crate::classify::Categoriser::new(
            store.clone(),
            events.clone(),
            pool,
            config.model_dir.clone(),
            &config.data_dir,
        );
        tracker.spawn(
            categoriser
                .clone()
                .run(queued, categorise.clone(), root.child_token()),
        );
        tracker.spawn(categoriser.clone().retrain_loop(root.child_token()));
        tracker.spawn(work_items::scan_stored_mail(
            store.clone(),
            root.child_token(),
        ));
        let sync = SyncController::new(
            store.clone(),
            events.clone(),
            sources,
            config.sync,
            tracker.clone(),
            root.clone(),
            secrets.clone(),
            categorise,
        )
        .await?;
        info!(data_dir = %config.data_dir.display(), "Ember opened");
        Ok(Self {
            store,
            events,
            sync,
            tracker,
            root,
            config,
            sync_started: Arc::default(),
            secrets,
            categoriser,
            renders: Arc::default(),
            #[cfg(feature = "emulator")]
            demo: Arc::default(),
            profile: Arc::default(),
        })
    }

    /// Takes the profile lock for this process unless it holds it already:
    /// every path that syncs or sends comes through here first, so two
    /// processes never sync one profile. Another holder is named in the
    /// error.
    pub async fn claim_profile(&self) -> Result<(), ServiceError> {
        let mut slot = self.profile.lock().await;
        if slot.is_some() {
            return Ok(());
        }
        let dir = self.config.data_dir.clone();
        let program = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "ember".to_owned());
        // Blocking I/O: opening and locking one small file.
        #[allow(clippy::disallowed_methods, reason = "one small file's open and lock")]
        let taken = tokio::task::spawn_blocking(move || ProfileLock::acquire(&dir, &program))
            .await
            .map_err(|e| ServiceError::InvalidInput(format!("cannot lock the profile: {e}")))?;
        *slot = Some(taken?);
        self.release_foreign_claims().await
    }

    /// Hands this service a profile lock its caller took before opening it
    /// (the app, which checks for a running instance first).
    pub async fn adopt_profile(&self, lock: ProfileLock) -> Result<(), ServiceError> {
        *self.profile.lock().await = Some(lock);
        self.release_foreign_claims().await
    }

    /// With the profile lock held, no other process sends: outbox claims
    /// of another are a dead process's, and are let go.
    async fn release_foreign_claims(&self) -> Result<(), ServiceError> {
        let released = self
            .store
            .release_foreign_claims(crate::store::outbox::claimant())
            .await?;
        if released > 0 {
            warn!(
                released,
                "outbox entries claimed by a process that ended are sent again"
            );
        }
        Ok(())
    }

    /// Starts one sync loop per account.
    pub async fn start_sync(&self) -> Result<(), ServiceError> {
        self.ensure_running()?;
        self.claim_profile().await?;
        self.sync_started.store(true, Ordering::SeqCst);
        self.reconcile_loops().await
    }

    async fn reconcile_loops(&self) -> Result<(), ServiceError> {
        if self.sync_started.load(Ordering::SeqCst) {
            self.sync.reconcile(&self.store.accounts().await?);
        }
        Ok(())
    }

    /// The event bus: subscribe to hear what changes.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Credential storage: the OS keychain, or memory when none is reachable.
    pub async fn secrets(&self) -> &Secrets {
        self.secrets.get().await
    }

    /// Starts demo mode when no real account is configured: an in-process
    /// emulator and three demo accounts signed in against it. Returns the
    /// emulator's address, or `None` when real accounts exist.
    #[cfg(feature = "emulator")]
    pub async fn start_demo(&self) -> Result<Option<String>, demo::DemoError> {
        use ember_emulator::{world::WorldConfig, Emulator, EmulatorConfig};
        self.ensure_running()?;
        let accounts = self.store.accounts().await.map_err(ServiceError::from)?;
        if accounts.iter().any(|a| !a.demo) {
            return Ok(None);
        }
        self.claim_profile().await?;
        let mut slot = self.demo.lock().await;
        if let Some(running) = slot.as_ref() {
            return Ok(Some(running.base_url()));
        }
        let emulator = Emulator::start(EmulatorConfig {
            world: WorldConfig {
                seed: DEMO_SEED,
                messages: DEMO_MESSAGES,
                work_items: DEMO_WORK_ITEMS,
            },
            ..EmulatorConfig::default()
        })
        .await
        .map_err(|e| demo::DemoError::Emulator {
            url: "127.0.0.1".into(),
            reason: e.to_string(),
        })?;
        let url = emulator.base_url();
        let token = emulator.control_token().to_owned();
        tokio::select! {
            () = self.root.cancelled() => {
                emulator.stop().await;
                return Err(ServiceError::ShuttingDown.into());
            }
            done = demo::setup(self, &url, &token, crate::model::SyncWindow::Days(90)) => { done?; }
        }
        info!(%url, "demo mode: accounts served by the built-in emulator");
        // End-to-end tests reach the demo world's control API through this.
        let url_file = self.config.data_dir.join(DEMO_URL_FILE);
        if let Err(e) = std::fs::write(&url_file, &url) {
            warn!(file = %url_file.display(), "cannot record the demo emulator's address: {e}");
        }
        let token_file = self.config.data_dir.join(DEMO_TOKEN_FILE);
        if let Err(e) = write_private(&token_file, emulator.control_token()) {
            warn!(file = %token_file.display(), "cannot record the demo emulator's secret: {e}");
        }
        *slot = Some(emulator);
        Ok(Some(url))
    }

    /// The categoriser, for tools and tests that wait on its progress.
    pub fn categoriser(&self) -> &crate::classify::Categoriser {
        &self.categoriser
    }

    /// The store, for the sync sources and tools built on the core.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Every account.
    pub async fn accounts(&self) -> Result<Vec<Account>, ServiceError> {
        Ok(self.store.accounts().await?)
    }

    /// Adds an account (or updates the one with the same provider and
    /// address) and, if sync is running, starts its loop.
    pub async fn add_account(&self, new: NewAccount) -> Result<Account, ServiceError> {
        self.ensure_running()?;
        if new.address.trim().is_empty() {
            return Err(ServiceError::InvalidInput(
                "an account needs an address".into(),
            ));
        }
        let account = self.store.upsert_account(&new).await?;
        self.reconcile_loops().await?;
        self.events.publish(Event::DataChanged { account_id: None });
        Ok(account)
    }

    /// Marks a freshly signed-in account ready: active, syncing, and asked
    /// to sync now. Called once its credentials are filed, so its first run
    /// finds them (and a re-sign-in clears "needs sign-in").
    pub async fn account_signed_in(&self, id: AccountId) -> Result<Account, ServiceError> {
        self.ensure_running()?;
        self.store
            .set_account_state(id, crate::model::AccountState::Active)
            .await?;
        self.store.set_account_sync_enabled(id, true).await?;
        self.reconcile_loops().await?;
        self.sync.sync_now(Some(id));
        self.events.publish(Event::DataChanged { account_id: None });
        Ok(self.store.account(id).await?)
    }

    /// Removes an account, stopping its loop, deleting its local data and
    /// its credentials from the keychain.
    pub async fn remove_account(&self, id: AccountId) -> Result<(), ServiceError> {
        self.ensure_running()?;
        self.store.remove_account(id).await?;
        let secrets = self.secrets().await;
        for key in [
            crate::auth::tokens_key(id),
            crate::auth::client_secret_key(id),
            crate::auth::pat_key(id),
        ] {
            if let Err(e) = secrets.delete(&key).await {
                warn!(account = id, "cannot delete a keychain entry: {e}");
            }
        }
        self.reconcile_loops().await?;
        self.events.publish(Event::DataChanged { account_id: None });
        Ok(())
    }

    /// A page of a message list, newest first (Azure DevOps' notifications
    /// about a synced work item folded under it, unless switched off).
    pub async fn messages(&self, query: &MessageQuery) -> Result<MessagePage, ServiceError> {
        let fold = self
            .store
            .setting::<bool>(crate::store::settings::FOLD_WORK_ITEM_MAIL)
            .await?
            .unwrap_or(true);
        Ok(self.store.messages_folding(query, fold).await?)
    }

    /// Stored messages with their provider ids, newest first (the CLI export).
    pub async fn export_messages(
        &self,
        account: Option<AccountId>,
        limit: Option<u32>,
    ) -> Result<Vec<crate::store::ExportedMessage>, ServiceError> {
        Ok(self.store.export_messages(account, limit).await?)
    }

    /// One message for the reading pane.
    pub async fn message(&self, id: MessageId) -> Result<MessageDetail, ServiceError> {
        Ok(self.store.message(id).await?)
    }

    /// Flips the global sync switch; returns the new status.
    pub async fn set_sync_enabled(&self, enabled: bool) -> Result<Status, ServiceError> {
        self.ensure_running()?;
        self.sync.set_enabled(enabled).await?;
        self.status().await
    }

    /// Asks one account (or all) to sync now; returns how many loops were asked.
    pub fn sync_now(&self, account: Option<AccountId>) -> Result<usize, ServiceError> {
        self.ensure_running()?;
        Ok(self.sync.sync_now(account))
    }

    /// Syncs one account now and waits for the result (the CLI's `sync --once`).
    pub async fn sync_once(
        &self,
        account: AccountId,
    ) -> Result<crate::sync::SyncReport, crate::sync::SyncError> {
        if self.root.is_cancelled() {
            return Err(crate::sync::SyncError::ShuttingDown);
        }
        match self.claim_profile().await {
            Ok(()) => {}
            Err(ServiceError::ProfileBusy(e)) => return Err(e.into()),
            Err(ServiceError::Store(e)) => return Err(e.into()),
            Err(e) => {
                return Err(crate::sync::SyncError::Provider {
                    code: crate::model::SyncErrorCode::Internal,
                    message: e.to_string(),
                })
            }
        }
        self.sync.sync_once(account).await
    }

    /// A snapshot of the switch, every account's state and the store's size.
    pub async fn status(&self) -> Result<Status, ServiceError> {
        let accounts = self.store.accounts().await?;
        let mut statuses = Vec::with_capacity(accounts.len());
        for account in accounts {
            let record = self.store.sync_record(account.id).await?;
            let sync = self.sync.state_of(&account, &record);
            statuses.push(AccountStatus { account, sync });
        }
        // Only what is already known: a status read never probes the keychain.
        let insecure_storage = match self.secrets.opened().map(Secrets::storage) {
            Some(crate::auth::SecretStorage::Memory(reason)) => Some(reason.clone()),
            Some(crate::auth::SecretStorage::File(path)) => Some(format!(
                "sign-ins are kept in {}, readable only by you (EMBER_SECRET_STORE=file), not in a keychain",
                path.display()
            )),
            _ => None,
        };
        Ok(Status {
            insecure_storage,
            demo: statuses.iter().any(|s| s.account.demo),
            sync_enabled: self.sync.is_enabled(),
            accounts: statuses,
            message_count: self.store.message_count().await?,
            work_item_count: self.store.work_item_count().await?,
            data_dir: self.config.data_dir.display().to_string(),
            classifier: self.categoriser.status().await?,
        })
    }

    /// Stops everything: cancels every loop, waits up to `deadline` for the
    /// tasks to end, then closes the database (checkpointing the WAL). Tasks
    /// still running at the deadline are abandoned, and the report says so.
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let started = Instant::now();
        self.root.cancel();
        self.tracker.close();
        let tasks_done = tokio::time::timeout(deadline, self.tracker.wait())
            .await
            .is_ok();
        let left = deadline.saturating_sub(started.elapsed());
        // Closing waits for borrowed connections: an abandoned task may hold one.
        let closed = tokio::time::timeout(left, self.store.close()).await.is_ok();
        #[cfg(feature = "emulator")]
        {
            // Demo set-up may hold the slot while it signs in: wait only
            // within the deadline.
            let left = deadline.saturating_sub(started.elapsed());
            if let Ok(mut slot) = tokio::time::timeout(left, self.demo.lock()).await {
                if let Some(emulator) = slot.take() {
                    let left = deadline.saturating_sub(started.elapsed());
                    let _ = tokio::time::timeout(left, emulator.stop()).await;
                }
            }
        }
        // Last: another process may sync once this one no longer can.
        if let Ok(mut lock) = self.profile.try_lock() {
            lock.take();
        }
        let report = ShutdownReport {
            clean: tasks_done && closed,
            elapsed: started.elapsed(),
        };
        if report.clean {
            info!(elapsed = ?report.elapsed, "Ember shut down");
        } else {
            warn!(elapsed = ?report.elapsed, tasks_done, closed, "shutdown hit its deadline");
        }
        report
    }

    /// Tracks `task` so that shutdown waits for it (within its deadline):
    /// the shell spawns its background tasks through this.
    pub fn track<F: std::future::Future>(
        &self,
        task: F,
    ) -> tokio_util::task::task_tracker::TrackedFuture<F> {
        self.tracker.track_future(task)
    }

    /// Resolves when shutdown begins; tasks outside the core (the shell's
    /// event bridge) end on it.
    pub fn shutting_down(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.root.clone().cancelled_owned()
    }

    fn ensure_running(&self) -> Result<(), ServiceError> {
        if self.root.is_cancelled() {
            Err(ServiceError::ShuttingDown)
        } else {
            Ok(())
        }
    }
}

/// Writes `text` to a file only its owner can read (on Unix).
#[cfg(feature = "emulator")]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}
