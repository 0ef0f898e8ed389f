//! The Gmail sync source.
//!
//! A first run (or a run after Gmail forgot our history id) is a full sync:
//! the profile's history id is read first, then labels, then the ids inside
//! the window (newest first, at most the configured number), then metadata
//! for each so the list fills quickly, then each body. Later runs read
//! history since the stored id and apply it. Writes go in batches of at most
//! [`WRITE_BATCH`] rows per transaction, never with a request in flight
//! inside one; the history id is saved in the transaction that completes the
//! data it covers, so a crash never leaves the cursor ahead of the mail.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use serde_json::Value;

use super::client::{Format, GmailClient, Label, Message, GOOGLE_API_BASE};
use super::plan::{plan_full, plan_incremental, Op};
use crate::auth::{self, OAuthClient, OAuthConfig, TokenSource};
use crate::model::{Address, Category, SyncPhase};
use crate::providers::http::{CallStats, Http};
use crate::providers::limits::GMAIL_CONCURRENCY;
use crate::providers::mime::{self, ParsedMessage};
use crate::providers::{AccountLimits, ProviderError};
use crate::store::{self, cursors, NewMessage, NewMessageBody, StoreError};
use crate::sync::{BoxFuture, SyncContext, SyncError, SyncReport, SyncSource};

/// The cursor resource name for Gmail's history id.
pub const HISTORY_CURSOR: &str = "gmail.history";
/// Rows per write transaction.
pub const WRITE_BATCH: usize = 500;
/// Default initial window, in days.
pub const DEFAULT_WINDOW_DAYS: u32 = 90;
/// Default cap on messages in the initial window.
pub const DEFAULT_MAX_MESSAGES: usize = 10_000;
/// Ids per messages.list page.
const LIST_PAGE: u32 = 500;
/// New messages whose headers are fetched first, so the list fills at once.
const FIRST_SCREEN: usize = 200;

/// How much to sync at first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Only mail newer than this many days; `None` for all.
    pub days: Option<u32>,
    /// At most this many messages.
    pub max_messages: usize,
}

impl Window {
    /// Reads `sync_window_days` (a number or `"all"`) and `max_messages`.
    pub fn from_settings(settings: &Value) -> Self {
        let days = match &settings["sync_window_days"] {
            Value::String(s) if s.eq_ignore_ascii_case("all") => None,
            Value::Number(n) => n
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| *d > 0),
            _ => Some(DEFAULT_WINDOW_DAYS),
        };
        let max_messages = settings["max_messages"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(if days.is_none() {
                usize::MAX
            } else {
                DEFAULT_MAX_MESSAGES
            });
        Self { days, max_messages }
    }
}

/// One account's client, and the settings it was built from.
#[derive(Debug, Clone)]
struct AccountClient {
    settings: String,
    client: GmailClient,
    tokens: Arc<TokenSource>,
}

/// Gmail as a sync source. Keeps one client (token source, limits) per
/// account across runs.
#[derive(Debug)]
pub struct GmailSource {
    http: Http,
    limits: fn() -> AccountLimits,
    accounts: Mutex<HashMap<i64, AccountClient>>,
}

impl Default for GmailSource {
    fn default() -> Self {
        Self::new(Http::new())
    }
}

impl GmailSource {
    /// A source sending through `http`, within Gmail's documented limits.
    pub fn new(http: Http) -> Self {
        Self::with_limits(http, AccountLimits::gmail)
    }

    /// A source whose accounts get `limits()` (benchmarks and tests against
    /// an emulator with its quota off).
    pub fn with_limits(http: Http, limits: fn() -> AccountLimits) -> Self {
        Self {
            http,
            limits,
            accounts: Mutex::default(),
        }
    }

    async fn client_for(
        &self,
        ctx: &SyncContext,
        stats: &Arc<CallStats>,
    ) -> Result<GmailClient, SyncError> {
        let settings = ctx.store.account_settings(ctx.account.id).await?;
        let api = settings["api_base"]
            .as_str()
            .unwrap_or(GOOGLE_API_BASE)
            .to_owned();
        let fingerprint = settings.to_string();
        if let Some(known) = self.lock().get(&ctx.account.id) {
            if known.settings == fingerprint {
                return Ok(known.client.with_stats(stats.clone()));
            }
        }
        let oauth = &settings["oauth"];
        let client_secret = ctx
            .secrets
            .get(&auth::client_secret_key(ctx.account.id))
            .await
            .map_err(|e| SyncError::NeedsReauth(e.to_string()))?;
        let config = OAuthConfig {
            auth_url: oauth["auth_url"]
                .as_str()
                .unwrap_or("https://accounts.google.com/o/oauth2/v2/auth")
                .to_owned(),
            token_url: oauth["token_url"]
                .as_str()
                .unwrap_or("https://oauth2.googleapis.com/token")
                .to_owned(),
            client_id: oauth["client_id"].as_str().unwrap_or_default().to_owned(),
            client_secret,
            scopes: Vec::new(),
        };
        let oauth_client =
            OAuthClient::new(config).map_err(|e| SyncError::NeedsReauth(e.to_string()))?;
        let tokens = Arc::new(TokenSource::new(
            ctx.account.id,
            oauth_client,
            ctx.secrets.clone(),
        ));
        let client = GmailClient::new(
            self.http.clone(),
            &api,
            tokens.clone(),
            (self.limits)(),
            stats.clone(),
        );
        self.lock().insert(
            ctx.account.id,
            AccountClient {
                settings: fingerprint,
                client: client.clone(),
                tokens,
            },
        );
        Ok(client)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, AccountClient>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many token refreshes the account's token source has made.
    pub fn refreshes(&self, account: i64) -> u64 {
        self.lock()
            .get(&account)
            .map_or(0, |a| a.tokens.refreshes())
    }
}

impl SyncSource for GmailSource {
    fn sync(&self, ctx: SyncContext) -> BoxFuture<'_, Result<SyncReport, SyncError>> {
        Box::pin(async move {
            let started = Instant::now();
            let stats = Arc::new(CallStats::default());
            let client = self.client_for(&ctx, &stats).await?;
            let settings = ctx.store.account_settings(ctx.account.id).await?;
            let run = Run {
                ctx: &ctx,
                client,
                window: Window::from_settings(&settings),
                report: SyncReport::default(),
                counted: HashSet::new(),
            };
            let mut report = run.sync().await.map_err(into_sync_error)?;
            report.retries = stats.retries.load(Ordering::Relaxed);
            tracing::info!(
                account = ctx.account.id,
                ?report,
                seconds = started.elapsed().as_secs_f64(),
                "gmail sync done"
            );
            Ok(report)
        })
    }
}

impl GmailClient {
    /// The same client, counting into `stats`.
    fn with_stats(&self, stats: Arc<CallStats>) -> Self {
        let mut c = self.clone();
        c.set_stats(stats);
        c
    }
}

/// Why a run stopped, before it becomes a [`SyncError`].
#[derive(Debug)]
enum RunError {
    Provider(ProviderError),
    Store(StoreError),
    Cancelled,
}

impl From<ProviderError> for RunError {
    fn from(e: ProviderError) -> Self {
        Self::Provider(e)
    }
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<sqlx::Error> for RunError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

fn into_sync_error(e: RunError) -> SyncError {
    match e {
        RunError::Cancelled => SyncError::Cancelled,
        RunError::Store(e) => SyncError::Store(e),
        RunError::Provider(e) => match e.code() {
            "needs_reauth" => SyncError::NeedsReauth(format!(
                "Gmail no longer accepts this sign-in ({e}). Sign in again."
            )),
            code => SyncError::Provider {
                code,
                message: e.to_string(),
            },
        },
    }
}

struct Run<'a> {
    ctx: &'a SyncContext,
    client: GmailClient,
    window: Window,
    report: SyncReport,
    /// Ids already counted as stored or updated in this run (a message may
    /// be written twice: headers, then whole).
    counted: HashSet<String>,
}

/// A fetched message turned into rows, or why it was skipped.
enum Fetched {
    Message(Box<NewMessage>, Option<NewMessageBody>, Option<Category>),
    Gone(String),
    Skipped,
}

impl Run<'_> {
    fn check_cancel(&self) -> Result<(), RunError> {
        if self.ctx.cancel.is_cancelled() {
            Err(RunError::Cancelled)
        } else {
            Ok(())
        }
    }

    async fn sync(mut self) -> Result<SyncReport, RunError> {
        let store = &self.ctx.store;
        let account = self.ctx.account.id;
        match store.cursor(account, HISTORY_CURSOR).await? {
            Some(start) => match self.incremental(&start).await {
                Err(RunError::Provider(e)) if e.status() == Some(404) => {
                    tracing::warn!(
                        account,
                        "Gmail no longer has history since {start}: full resync"
                    );
                    self.full().await?;
                }
                other => other?,
            },
            None => self.full().await?,
        }
        Ok(self.report)
    }

    async fn labels(&mut self) -> Result<(), RunError> {
        self.ctx.progress.report(SyncPhase::Folders, 0, None);
        let labels = self.client.labels().await?;
        let mut tx = self.ctx.store.begin_write().await?;
        for label in &labels {
            let (name, role) = label_name_and_role(label);
            store::upsert_folder(&mut tx, self.ctx.account.id, &label.id, &name, role).await?;
        }
        tx.commit().await?;
        self.ctx.progress.report(
            SyncPhase::Folders,
            labels.len() as u64,
            Some(labels.len() as u64),
        );
        Ok(())
    }

    async fn full(&mut self) -> Result<(), RunError> {
        let account = self.ctx.account.id;
        let profile = self.client.profile().await?;
        self.labels().await?;
        self.check_cancel()?;

        // The ids inside the window, newest first.
        let now_ms = crate::store::now_ms();
        let window_start = self.window.days.map(|d| now_ms - i64::from(d) * 86_400_000);
        let q = self.window.days.map(|d| format!("newer_than:{d}d"));
        let mut remote: Vec<String> = Vec::new();
        let mut page_token: Option<String> = None;
        let mut truncated = false;
        loop {
            self.check_cancel()?;
            let page = self
                .client
                .list(q.as_deref(), page_token.as_deref(), LIST_PAGE)
                .await?;
            remote.extend(page.messages.into_iter().map(|m| m.id));
            self.ctx.progress.report(SyncPhase::Headers, 0, None);
            if remote.len() >= self.window.max_messages {
                remote.truncate(self.window.max_messages);
                truncated = true;
                break;
            }
            match page.next_page_token {
                Some(t) => page_token = Some(t),
                None => break,
            }
        }
        self.report.fetched += remote.len() as u64;
        let local = self.ctx.store.message_dates(account).await?;
        // When the cap cut the listing short, what was not listed may still
        // exist: delete nothing. Otherwise delete what vanished inside the
        // window (everywhere, when the window is everything).
        let delete_from = if truncated {
            Some(i64::MAX)
        } else {
            window_start
        };
        let ops = plan_full(&remote, &local, delete_from);
        let deletes: Vec<String> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Delete(id) => Some(id.clone()),
                _ => None,
            })
            .collect();

        // Headers first for the newest messages so the list fills at once,
        // and for mail already stored (a resync) whose labels may have
        // changed; then each new message whole, in `raw` format, which
        // carries its labels too: about one request a message.
        let known: HashSet<String> = local.keys().cloned().collect();
        let fresh: Vec<String> = remote
            .iter()
            .filter(|id| !known.contains(*id))
            .cloned()
            .collect();
        let mut headers_first: Vec<String> = fresh.iter().take(FIRST_SCREEN).cloned().collect();
        headers_first.extend(remote.iter().filter(|id| known.contains(*id)).cloned());
        self.fetch_phase(
            headers_first,
            Format::Metadata,
            SyncPhase::Headers,
            &known,
            &deletes,
            None,
        )
        .await?;
        self.ctx.progress.data_changed();

        // Bodies, for every listed message that has none yet; the history id
        // is saved with the last batch.
        let needing: Vec<String> = self.ctx.store.ids_without_body(account, &remote).await?;
        let needing: Vec<String> = {
            let stored: HashSet<&String> = needing.iter().collect();
            // New messages not yet written at all come after those that
            // already show in the list.
            let mut all = needing.clone();
            all.extend(fresh.iter().filter(|id| !stored.contains(id)).cloned());
            let mut seen = HashSet::new();
            all.retain(|id| seen.insert(id.clone()));
            all
        };
        self.fetch_phase(
            needing,
            Format::Raw,
            SyncPhase::Bodies,
            &known,
            &[],
            Some(&profile.history_id),
        )
        .await?;
        self.ctx.progress.data_changed();
        Ok(())
    }

    /// Fetches `ids` in `format` with bounded concurrency and writes them in
    /// batches; the last batch carries `deletes` and `cursor`.
    async fn fetch_phase(
        &mut self,
        ids: Vec<String>,
        format: Format,
        phase: SyncPhase,
        known: &HashSet<String>,
        deletes: &[String],
        cursor: Option<&str>,
    ) -> Result<(), RunError> {
        let total = ids.len() as u64;
        let mut done = 0u64;
        self.ctx.progress.report(phase, 0, Some(total));
        let mut fetches = stream::iter(ids)
            .map({
                let client = self.client.clone();
                move |id| {
                    let client = client.clone();
                    async move {
                        let r = client.message(&id, format).await;
                        (id, r)
                    }
                }
            })
            .buffer_unordered(GMAIL_CONCURRENCY);
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while let Some((id, result)) = fetches.next().await {
            batch.push(self.convert(&id, result, format)?);
            if batch.len() == WRITE_BATCH {
                self.check_cancel()?;
                done += batch.len() as u64;
                self.write(std::mem::take(&mut batch), known, &[], None)
                    .await?;
                self.ctx.progress.report(phase, done, Some(total));
            }
        }
        drop(fetches);
        self.check_cancel()?;
        done += batch.len() as u64;
        self.write(batch, known, deletes, cursor).await?;
        self.ctx.progress.report(phase, done, Some(total));
        Ok(())
    }

    async fn incremental(&mut self, start: &str) -> Result<(), RunError> {
        let mut records = Vec::new();
        let mut page_token: Option<String> = None;
        let latest = loop {
            self.check_cancel()?;
            let page = self.client.history(start, page_token.as_deref()).await?;
            records.extend(page.history);
            match page.next_page_token {
                Some(t) => page_token = Some(t),
                None => break page.history_id,
            }
        };
        let ops = plan_incremental(&records);
        if ops.is_empty() {
            if latest != start {
                let mut tx = self.ctx.store.begin_write().await?;
                cursors::save(&mut tx, self.ctx.account.id, HISTORY_CURSOR, &latest).await?;
                tx.commit().await?;
            }
            return Ok(());
        }
        self.labels().await?;
        let account = self.ctx.account.id;
        let known: HashSet<String> = self
            .ctx
            .store
            .message_dates(account)
            .await?
            .into_keys()
            .collect();
        let mut deletes = Vec::new();
        let mut relabels = Vec::new();
        let mut fetch_ids = Vec::new();
        for op in ops {
            match op {
                Op::Fetch(id) => fetch_ids.push(id),
                Op::Delete(id) => deletes.push(id),
                Op::SetLabels(id, labels) => relabels.push((id, labels)),
            }
        }
        self.report.fetched += fetch_ids.len() as u64;
        let total = fetch_ids.len() as u64;
        let mut fetched: Vec<Fetched> = stream::iter(fetch_ids)
            .map({
                let client = self.client.clone();
                move |id| {
                    let client = client.clone();
                    async move {
                        let r = client.message(&id, Format::Raw).await;
                        (id, r)
                    }
                }
            })
            .buffer_unordered(GMAIL_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(|(id, r)| self.convert(&id, r, Format::Raw))
            .collect::<Result<_, _>>()?;
        self.ctx
            .progress
            .report(SyncPhase::Bodies, total, Some(total));
        self.check_cancel()?;
        // Everything but the last chunk, then the last chunk with the
        // label changes, deletions and the cursor.
        while fetched.len() > WRITE_BATCH {
            let rest = fetched.split_off(WRITE_BATCH);
            self.write(std::mem::replace(&mut fetched, rest), &known, &[], None)
                .await?;
        }
        self.write_with_labels(fetched, &known, &deletes, &relabels, &latest)
            .await?;
        self.ctx.progress.data_changed();
        Ok(())
    }

    fn convert(
        &mut self,
        id: &str,
        result: Result<Message, ProviderError>,
        format: Format,
    ) -> Result<Fetched, RunError> {
        let message = match result {
            Ok(m) => m,
            Err(e) if e.status() == Some(404) => return Ok(Fetched::Gone(id.to_owned())),
            Err(e @ (ProviderError::Decode { .. } | ProviderError::Malformed { .. })) => {
                self.report.skipped.push(format!("{id}: {e}"));
                return Ok(Fetched::Skipped);
            }
            Err(e) => return Err(e.into()),
        };
        let account = self.ctx.account.id;
        let date_ms = message.internal_date.parse::<i64>().unwrap_or(0);
        let (parsed, body) = match format {
            Format::Metadata => {
                let headers: Vec<(String, String)> = message
                    .payload
                    .as_ref()
                    .map(|p| {
                        p.headers
                            .iter()
                            .map(|h| (h.name.clone(), h.value.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                match mime::parse_headers(&headers) {
                    Ok(p) => (p, None),
                    Err(e) => {
                        self.report.skipped.push(format!("{id}: {e}"));
                        return Ok(Fetched::Skipped);
                    }
                }
            }
            Format::Raw => {
                let raw = message
                    .raw
                    .as_deref()
                    .and_then(crate::providers::gmail::decode_base64url)
                    .unwrap_or_default();
                match mime::parse(&raw) {
                    Ok(p) => {
                        let body = NewMessageBody {
                            text: p.text.clone(),
                            html: p.html.clone(),
                            raw_size: raw.len() as i64,
                            attachments: p.attachments.clone(),
                        };
                        (p, Some(body))
                    }
                    Err(e) => {
                        self.report.skipped.push(format!("{id}: {e}"));
                        // Keep what the labels say; mark the body unreadable
                        // so it is not fetched again every run.
                        let body = NewMessageBody {
                            text: Some(format!("This message could not be read ({}).", e.0)),
                            html: None,
                            raw_size: raw.len() as i64,
                            attachments: Vec::new(),
                        };
                        (ParsedMessage::default(), Some(body))
                    }
                }
            }
        };
        let labels: Vec<String> = message.label_ids.clone();
        let category = category_of(&labels);
        let snippet = if message.snippet.is_empty() {
            parsed.snippet()
        } else {
            unescape_snippet(&message.snippet)
        };
        let row = NewMessage {
            account_id: account,
            provider_id: message.id.clone(),
            provider_thread_id: Some(message.thread_id.clone()).filter(|t| !t.is_empty()),
            rfc822_message_id: parsed.message_id.clone(),
            in_reply_to: parsed.in_reply_to.clone(),
            subject: parsed.subject.clone(),
            from: parsed.from.clone().or(Some(Address {
                name: None,
                address: String::new(),
            })),
            to: parsed.to.clone(),
            cc: parsed.cc.clone(),
            headers: parsed.headers.clone(),
            date: if date_ms > 0 {
                date_ms
            } else {
                parsed.date_ms.unwrap_or(0)
            },
            snippet,
            unread: labels.iter().any(|l| l == "UNREAD"),
            starred: labels.iter().any(|l| l == "STARRED"),
            has_attachments: body
                .as_ref()
                .is_some_and(|b| b.attachments.iter().any(|a| !a.is_inline)),
            size: message.size_estimate,
            folders: labels.into_iter().filter(|l| l != "UNREAD").collect(),
        };
        Ok(Fetched::Message(Box::new(row), body, category))
    }

    async fn write(
        &mut self,
        batch: Vec<Fetched>,
        known: &HashSet<String>,
        deletes: &[String],
        cursor: Option<&str>,
    ) -> Result<(), RunError> {
        self.write_all(batch, known, deletes, &[], cursor).await
    }

    async fn write_with_labels(
        &mut self,
        batch: Vec<Fetched>,
        known: &HashSet<String>,
        deletes: &[String],
        relabels: &[(String, Vec<String>)],
        cursor: &str,
    ) -> Result<(), RunError> {
        self.write_all(batch, known, deletes, relabels, Some(cursor))
            .await
    }

    /// One transaction: rows, bodies, label changes, deletions, and the cursor.
    async fn write_all(
        &mut self,
        batch: Vec<Fetched>,
        known: &HashSet<String>,
        deletes: &[String],
        relabels: &[(String, Vec<String>)],
        cursor: Option<&str>,
    ) -> Result<(), RunError> {
        if batch.is_empty() && deletes.is_empty() && relabels.is_empty() && cursor.is_none() {
            return Ok(());
        }
        let account = self.ctx.account.id;
        let rows = batch.len();
        let last = batch.iter().rev().find_map(|f| match f {
            Fetched::Message(row, ..) => Some(row.provider_id.clone()),
            _ => None,
        });
        let mut tx = self.ctx.store.begin_write().await?;
        for item in batch {
            match item {
                Fetched::Message(row, body, category) => {
                    let id = store::upsert_message(&mut tx, &row).await?;
                    if let Some(category) = category {
                        store::set_provider_category(&mut tx, id, category).await?;
                    }
                    if let Some(body) = body {
                        store::put_body(&mut tx, id, &body).await?;
                    }
                    if !self.counted.insert(row.provider_id.clone()) {
                    } else if known.contains(&row.provider_id) {
                        self.report.updated += 1;
                    } else {
                        self.report.stored += 1;
                    }
                }
                Fetched::Gone(id) => {
                    if store::delete_message(&mut tx, account, &id).await? {
                        self.report.deleted += 1;
                    }
                }
                Fetched::Skipped => {}
            }
        }
        for (id, labels) in relabels {
            let category = category_of(labels);
            if store::set_labels(&mut tx, account, id, labels, category).await? {
                self.report.updated += 1;
            }
        }
        for id in deletes {
            if store::delete_message(&mut tx, account, id).await? {
                self.report.deleted += 1;
            }
        }
        if let Some(cursor) = cursor {
            cursors::save(&mut tx, account, HISTORY_CURSOR, cursor).await?;
        }
        tx.commit().await?;
        // Crash tests read this line: what it names is durable.
        tracing::info!(
            account,
            rows,
            last = last.as_deref().unwrap_or("-"),
            cursor = cursor.unwrap_or("-"),
            "batch committed"
        );
        Ok(())
    }
}

/// The category Gmail's own tab labels put a message in.
pub fn category_of(labels: &[String]) -> Option<Category> {
    labels.iter().find_map(|l| match l.as_str() {
        "CATEGORY_PERSONAL" => Some(Category::Primary),
        "CATEGORY_SOCIAL" => Some(Category::Social),
        "CATEGORY_PROMOTIONS" => Some(Category::Promotions),
        "CATEGORY_UPDATES" => Some(Category::Updates),
        "CATEGORY_FORUMS" => Some(Category::Forums),
        _ => None,
    })
}

fn label_name_and_role(label: &Label) -> (String, Option<&'static str>) {
    let role = match label.id.as_str() {
        "INBOX" => Some("inbox"),
        "SENT" => Some("sent"),
        "DRAFT" => Some("drafts"),
        "TRASH" => Some("trash"),
        "SPAM" => Some("spam"),
        "STARRED" => Some("starred"),
        "IMPORTANT" => Some("important"),
        id if id.starts_with("CATEGORY_") => Some("category"),
        _ => None,
    };
    let name = match label.id.as_str() {
        "INBOX" => "Inbox".into(),
        "SENT" => "Sent".into(),
        "DRAFT" => "Drafts".into(),
        "TRASH" => "Trash".into(),
        "SPAM" => "Spam".into(),
        "STARRED" => "Starred".into(),
        "IMPORTANT" => "Important".into(),
        "CHAT" => "Chats".into(),
        "UNREAD" => "Unread".into(),
        "CATEGORY_PERSONAL" => "Primary".into(),
        "CATEGORY_SOCIAL" => "Social".into(),
        "CATEGORY_PROMOTIONS" => "Promotions".into(),
        "CATEGORY_UPDATES" => "Updates".into(),
        "CATEGORY_FORUMS" => "Forums".into(),
        _ => label.name.clone(),
    };
    (name, role)
}

/// Gmail's snippets come HTML-escaped; the store keeps text.
pub fn unescape_snippet(s: &str) -> String {
    s.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_read_from_settings() {
        assert_eq!(
            Window::from_settings(&serde_json::json!({})),
            Window {
                days: Some(90),
                max_messages: 10_000
            }
        );
        assert_eq!(
            Window::from_settings(&serde_json::json!({"sync_window_days": "all"})),
            Window {
                days: None,
                max_messages: usize::MAX
            }
        );
        assert_eq!(
            Window::from_settings(&serde_json::json!({"sync_window_days": 7, "max_messages": 50})),
            Window {
                days: Some(7),
                max_messages: 50
            }
        );
    }

    #[test]
    fn tab_labels_map_to_categories() {
        assert_eq!(
            category_of(&["INBOX".into(), "CATEGORY_UPDATES".into()]),
            Some(Category::Updates)
        );
        assert_eq!(category_of(&["INBOX".into()]), None);
    }

    #[test]
    fn snippets_are_unescaped_once() {
        assert_eq!(unescape_snippet("It wasn&#39;t &amp;lt;"), "It wasn't &lt;");
    }
}
