//! The running categoriser: drains the queue sync feeds, picks up whatever
//! is still uncategorised at start-up (so a crash loses nothing), and
//! retrains in the background after the user's corrections.
//!
//! The sentence model loads lazily on the categoriser's Rayon pool the first
//! time there is work; if it cannot load, the status says "categorisation
//! unavailable: <why>" and the queue is still drained (the ids stay
//! uncategorised in the store, to be picked up by a later start), so sync
//! never waits on a categoriser that cannot run.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, Notify, OnceCell};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn, Instrument as _};

use super::classifier::{Class, Classifier, Example, Prediction};
use super::embed::{Embedder, DEFAULT_MAX_TOKENS};
use super::records::{self, Record, Verdict};
use super::{pipeline, ClassifyError, ClassifyPool};
use crate::events::{Event, EventBus};
use crate::model::{CategorySource, ClassifierStatus, MessageId};
use crate::store::Store;

/// Messages categorised per batch (and per write transaction).
pub const BATCH: usize = 64;
/// How long after the last correction retraining starts.
pub const RETRAIN_DEBOUNCE: Duration = Duration::from_millis(1_500);
/// Adam epochs of a retrain (warm-started from the current weights).
pub const RETRAIN_EPOCHS: usize = 40;
/// How much a correction counts against one training example.
pub const CORRECTION_WEIGHT: f32 = 5.0;
/// How much a provider's label counts.
pub const PROVIDER_WEIGHT: f32 = 0.5;
/// The settings key (owned by the settings screen) that switches categories off.
pub use crate::store::settings::CATEGORIES_ENABLED as ENABLED_SETTING;
/// The retrained weights, inside `<data dir>/models/`.
pub const WEIGHTS_FILE: &str = "classifier.json";
/// After a batch met a full disk, the first try again (doubling up to
/// [`DISK_FULL_RETRY_MAX`]): nothing else would pick up the mail that
/// waits uncategorised once space returns.
pub const DISK_FULL_RETRY: Duration = Duration::from_secs(5);
/// The longest wait between tries on a full disk.
pub const DISK_FULL_RETRY_MAX: Duration = Duration::from_secs(300);
/// What the status says while the disk is full.
pub const DISK_FULL_MESSAGE: &str =
    "categorisation paused: the disk is full; it carries on by itself once there is room";

/// Whether `e` (or what caused it) is the store meeting a full disk.
fn is_disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<crate::store::StoreError>()
            .is_some_and(crate::store::StoreError::is_disk_full)
    })
}

#[derive(Debug, Default)]
struct State {
    available: Option<bool>,
    message: String,
}

/// The categoriser. Shared through an `Arc`.
#[derive(Debug)]
pub struct Categoriser {
    store: Store,
    events: EventBus,
    pool: ClassifyPool,
    model_dir: PathBuf,
    weights_path: PathBuf,
    embedder: OnceCell<Result<Arc<Embedder>, ClassifyError>>,
    classifier: RwLock<Arc<Classifier>>,
    state: Mutex<State>,
    retrain: Notify,
    /// Signalled when the categories setting may have changed.
    settings_changed: Notify,
    /// Signalled after each batch written and each retrain: tests wait on it.
    progress: Notify,
}

impl Categoriser {
    /// A categoriser over `store`; loads nothing yet.
    pub fn new(
        store: Store,
        events: EventBus,
        pool: ClassifyPool,
        model_dir: PathBuf,
        data_dir: &std::path::Path,
    ) -> Arc<Self> {
        let weights_path = data_dir.join("models").join(WEIGHTS_FILE);
        // Retrained weights this version cannot read (an older format, a
        // damaged file) are set aside, and the corrections they came from
        // are learned again from the store once the service runs.
        let mut relearn = false;
        let (classifier, message) = match std::fs::read_to_string(&weights_path)
            .map_err(|e| ClassifyError::Weights(e.to_string()))
            .and_then(|text| Classifier::from_json(&text))
        {
            Ok(c) => (Some(c), "retrained weights"),
            Err(_) if !weights_path.exists() => (None, ""),
            Err(e) => {
                warn!("ignoring {}: {e}; retraining", weights_path.display());
                relearn = true;
                (None, "")
            }
        };
        let classifier = match classifier {
            Some(c) => Arc::new(c),
            None => Arc::new(Classifier::builtin().cloned().unwrap_or_else(|e| {
                warn!("the built-in classifier is unusable: {e}");
                Classifier::train(&[], super::classifier::DEFAULT_WEIGHTS, Default::default())
            })),
        };
        debug!(message, "classifier ready");
        let categoriser = Arc::new(Self {
            store,
            events,
            pool,
            model_dir,
            weights_path,
            embedder: OnceCell::new(),
            classifier: RwLock::new(classifier),
            state: Mutex::default(),
            retrain: Notify::new(),
            settings_changed: Notify::new(),
            progress: Notify::new(),
        });
        if relearn {
            // A stored permit: the retraining task starts on it.
            categoriser.retrain.notify_one();
        }
        categoriser
    }

    fn set_state(&self, available: bool, message: String) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.available = Some(available);
        s.message = message;
    }

    /// The current classifier.
    pub fn classifier(&self) -> Arc<Classifier> {
        self.classifier
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Resolves after the next batch is written or retrain finishes.
    pub fn progressed(&self) -> tokio::sync::futures::Notified<'_> {
        self.progress.notified()
    }

    /// Available or not, and how many wait.
    pub async fn status(&self) -> Result<ClassifierStatus, crate::store::StoreError> {
        let pending = records::pending(&self.store).await?;
        let s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(match s.available {
            Some(available) => ClassifierStatus {
                available,
                message: s.message.clone(),
                pending,
            },
            None => ClassifierStatus {
                available: true,
                message: "categoriser starting".into(),
                pending,
            },
        })
    }

    async fn enabled(&self) -> bool {
        !matches!(
            self.store.setting::<bool>(ENABLED_SETTING).await,
            Ok(Some(false))
        )
    }

    async fn embedder(&self) -> Result<Arc<Embedder>, ClassifyError> {
        self.embedder
            .get_or_init(|| pipeline::load(&self.pool, self.model_dir.clone(), DEFAULT_MAX_TOKENS))
            .await
            .clone()
    }

    /// Asks for a retrain soon (debounced).
    pub fn corrected(&self) {
        self.retrain.notify_one();
    }

    /// Says the categories setting may have changed: switching it on picks
    /// up everything left uncategorised while it was off.
    pub fn settings_changed(&self) {
        self.settings_changed.notify_one();
    }

    /// Whether categorisation runs now: switched on and the model loaded.
    /// Keeps the status message in step.
    async fn ready(&self) -> bool {
        if !self.enabled().await {
            self.set_state(
                false,
                "categorisation unavailable: switched off in settings".into(),
            );
            return false;
        }
        match self.embedder().await {
            Ok(_) => {
                self.set_state(true, "categorising on this device".into());
                true
            }
            Err(e) => {
                warn!("{e}");
                self.set_state(false, e.to_string());
                false
            }
        }
    }

    /// The categorising task: start-up sweep, then the queue, until `cancel`.
    /// While categories are switched off (or the model cannot load), queued
    /// ids are dropped from the queue but stay uncategorised in the store, so
    /// the sweep after switching back on (or the next start) finds them.
    pub async fn run(
        self: Arc<Self>,
        mut rx: mpsc::Receiver<MessageId>,
        queue: super::CategoriseQueue,
        cancel: CancellationToken,
    ) {
        // Set while the disk is full: when to look again.
        let mut retry: Option<Duration> = None;
        let mut ready = self.ready().await;
        if ready {
            self.sweep_logged(&cancel, &mut retry).await;
        }
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let wait = retry;
            let retry_due = async move {
                match wait {
                    Some(after) => tokio::time::sleep(after).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                () = self.settings_changed.notified() => {
                    let was = ready;
                    ready = self.ready().await;
                    if ready {
                        if !was {
                            info!("categories switched on: categorising what waited");
                        }
                        // Also when the switch went off and on again between
                        // two looks (the notifications merge): what arrived
                        // meanwhile waits uncategorised. A sweep with nothing
                        // to do is one query.
                        self.sweep_logged(&cancel, &mut retry).await;
                    }
                }
                n = rx.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        break;
                    }
                    let ids = std::mem::take(&mut batch);
                    if ready {
                        let result = self.categorise(&ids).await;
                        if let Err(e) = &result {
                            warn!("categorisation of {} messages failed: {e}", ids.len());
                        }
                        // Back from a full disk: what waited meanwhile too.
                        if self.disk_state(&result, &mut retry) {
                            self.sweep_logged(&cancel, &mut retry).await;
                        }
                    }
                    // Sync left ids out while the queue was full: once it
                    // is drained, what is still uncategorised is swept up.
                    if rx.is_empty() && queue.take_overflow() && ready {
                        debug!("the queue overflowed: sweeping the store");
                        self.sweep_logged(&cancel, &mut retry).await;
                    }
                }
                () = retry_due => {
                    if ready {
                        self.sweep_logged(&cancel, &mut retry).await;
                    } else {
                        retry = None;
                    }
                }
            }
        }
    }

    /// Keeps the full-disk state in step with a batch's `result`: a full
    /// disk says so in the status and schedules another try (`retry`,
    /// doubling); success after one clears both. Returns whether the disk
    /// was full and is no longer.
    fn disk_state(&self, result: &anyhow::Result<()>, retry: &mut Option<Duration>) -> bool {
        match result {
            Err(e) if is_disk_full(e) => {
                let next = retry.map_or(DISK_FULL_RETRY, |d| (d * 2).min(DISK_FULL_RETRY_MAX));
                if retry.is_none() {
                    warn!("the disk is full: categorisation waits for room");
                }
                *retry = Some(next);
                self.set_state(false, DISK_FULL_MESSAGE.into());
                false
            }
            Ok(()) if retry.is_some() => {
                info!("there is room on the disk again: categorising what waited");
                *retry = None;
                self.set_state(true, "categorising on this device".into());
                true
            }
            _ => false,
        }
    }

    /// The sweep, then a retrain when corrections wait to be learned
    /// (made while categories were off or before the model had read them).
    /// A full disk is noted in `retry` (see [`Self::disk_state`]).
    async fn sweep_logged(&self, cancel: &CancellationToken, retry: &mut Option<Duration>) {
        let result = self.sweep(cancel).await;
        if let Err(e) = &result {
            warn!("categorisation of stored mail stopped: {e}");
        }
        self.disk_state(&result, retry);
        match records::corrected_without_embedding(&self.store, 0, 1).await {
            Ok(ids) if !ids.is_empty() => self.corrected(),
            Ok(_) => {}
            Err(e) => warn!("cannot look for corrections to learn: {e}"),
        }
    }

    /// Embeds corrected messages that have no embedding yet, so that the
    /// retrain learns from every correction. Skipped while categorisation
    /// is off or the model unavailable: the next sweep asks again.
    async fn embed_corrections(&self, cancel: &CancellationToken) -> anyhow::Result<()> {
        if !self.enabled().await || self.embedder().await.is_err() {
            return Ok(());
        }
        let mut after = 0;
        while !cancel.is_cancelled() {
            let ids =
                records::corrected_without_embedding(&self.store, after, BATCH as i64).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = last;
            // One message that cannot be read or embedded must not keep
            // every other correction from being learned.
            if let Err(e) = self.categorise(&ids).await {
                warn!("cannot embed {} corrected messages: {e}", ids.len());
            }
        }
        Ok(())
    }

    /// Categorises everything still uncategorised, a batch at a time,
    /// checking for cancellation (and the setting) between batches.
    async fn sweep(&self, cancel: &CancellationToken) -> anyhow::Result<()> {
        let mut after = 0;
        while !cancel.is_cancelled() && self.enabled().await {
            let ids = records::uncategorised(&self.store, after, BATCH as i64).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = last;
            self.categorise(&ids).await?;
        }
        Ok(())
    }

    /// Reads, embeds, scores and writes one batch, in a span whose close
    /// line in the log file says how many were asked for, read and written.
    pub async fn categorise(&self, ids: &[MessageId]) -> anyhow::Result<()> {
        let span = tracing::info_span!(
            "categorise_batch",
            messages = ids.len(),
            first = ids.first().copied(),
            read = tracing::field::Empty,
            written = tracing::field::Empty,
        );
        let result = self.categorise_batch(ids).instrument(span.clone()).await;
        if let Err(e) = &result {
            span.in_scope(|| debug!("batch failed: {e}"));
        }
        result
    }

    async fn categorise_batch(&self, ids: &[MessageId]) -> anyhow::Result<()> {
        let records = records::read(&self.store, ids).await?;
        tracing::Span::current().record("read", records.len());
        if records.is_empty() {
            return Ok(());
        }
        let embedder = self.embedder().await?;
        let texts = records.iter().map(|r| r.email.embedding_text()).collect();
        let (vectors, _) =
            pipeline::embed_all(&self.pool, embedder, texts, pipeline::BATCH_SIZE, None).await?;
        let classifier = self.classifier();
        let verdicts = self
            .pool
            .run(move || {
                records
                    .iter()
                    .zip(vectors)
                    .map(|(r, v)| {
                        let p = classifier.predict(&r.email, &v);
                        let p = if r.not_primary { p.not_primary() } else { p };
                        verdict(r.id, &p, Some(v))
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        records::write(&self.store, &verdicts).await?;
        tracing::Span::current().record("written", verdicts.len());
        self.events.publish(Event::DataChanged { account_id: None });
        self.progress.notify_waiters();
        Ok(())
    }

    /// The retraining task: waits for corrections, lets them settle, then
    /// retrains on the pool and re-scores the model's own verdicts.
    pub async fn retrain_loop(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                () = self.retrain.notified() => {}
            }
            // More corrections within the debounce restart the wait.
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = self.retrain.notified() => continue,
                    () = tokio::time::sleep(RETRAIN_DEBOUNCE) => break,
                }
            }
            match self.retrain_now(&cancel).await {
                Ok(n) => info!(corrections = n, "classifier retrained"),
                Err(e) => warn!("retraining failed: {e}"),
            }
            self.progress.notify_waiters();
        }
    }

    async fn labelled(&self, source: CategorySource) -> anyhow::Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let rows = records::with_source(&self.store, source, after, 500).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            out.extend(rows);
            if out.len() >= 20_000 {
                break;
            }
        }
        Ok(out)
    }

    /// Retrains with every correction and provider label now; returns how
    /// many corrections it learned from.
    pub async fn retrain_now(&self, cancel: &CancellationToken) -> anyhow::Result<usize> {
        self.embed_corrections(cancel).await?;
        let mut extra = Vec::new();
        let user = self.labelled(CategorySource::User).await?;
        let corrections = user.len();
        for (records, weight) in [
            (user, CORRECTION_WEIGHT),
            (
                self.labelled(CategorySource::Provider).await?,
                PROVIDER_WEIGHT,
            ),
        ] {
            extra.extend(records.into_iter().filter_map(|r| {
                Some(Example {
                    id: r.id.to_string(),
                    class: Class::of(r.category?),
                    embedding: r.embedding?,
                    email: r.email,
                    weight,
                })
            }));
        }
        let current = self.classifier();
        let next = Arc::new(
            self.pool
                .run(move || current.retrain(&extra, RETRAIN_EPOCHS))
                .await?,
        );
        *self
            .classifier
            .write()
            .unwrap_or_else(PoisonError::into_inner) = next.clone();
        self.save(&next).await;
        self.rescore(cancel).await?;
        Ok(corrections)
    }

    /// Keeps the retrained weights: atomically and durably (a crash
    /// leaves the old or the new file), off the async workers, and through
    /// a temporary file of its own, so the app and the CLI never write the
    /// same partial file.
    async fn save(&self, classifier: &Classifier) {
        let json = match classifier.to_json() {
            Ok(json) => json,
            Err(e) => {
                warn!("cannot keep the retrained weights: {e}");
                return;
            }
        };
        if let Err(e) =
            crate::durable::write_off_runtime(self.weights_path.clone(), json.into_bytes()).await
        {
            warn!("cannot keep the retrained weights: {e}");
        }
    }

    /// Re-scores the model's own verdicts with the current weights, from
    /// their stored embeddings (no sentence model needed).
    async fn rescore(&self, cancel: &CancellationToken) -> anyhow::Result<()> {
        let mut after = 0;
        let mut changed = false;
        while !cancel.is_cancelled() {
            let rows = records::with_source(&self.store, CategorySource::Model, after, 256).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let classifier = self.classifier();
            let verdicts = self
                .pool
                .run(move || {
                    rows.iter()
                        .filter_map(|r| {
                            let v = r.embedding.as_deref()?;
                            Some(verdict(r.id, &classifier.predict(&r.email, v), None))
                        })
                        .collect::<Vec<_>>()
                })
                .await?;
            records::write(&self.store, &verdicts).await?;
            changed = true;
        }
        if changed {
            self.events.publish(Event::DataChanged { account_id: None });
        }
        Ok(())
    }
}

fn verdict(id: MessageId, p: &Prediction, embedding: Option<Vec<f32>>) -> Verdict {
    Verdict {
        id,
        category: p.category,
        confidence: p.confidence,
        spam: p.spam,
        embedding,
    }
}
