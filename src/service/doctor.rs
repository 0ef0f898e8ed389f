//! The health report (`ember doctor`, Settings → Diagnostics): what a
//! support request needs, gathered in one pass over the store, the secret
//! store, the model folder and the log folder, each line that is not
//! healthy with what to do about it.
//!
//! Gathering is read-only apart from opening the secret store (which
//! probes the keychain once, as the first sync would). The only slow parts
//! are `PRAGMA quick_check`, which reads every page, and the model's
//! checksum, which reads 90 MB on the categoriser's side of the runtime
//! (the Rayon pool), never on an async worker.

use std::path::Path;
use std::time::Instant;

use super::{Ember, ServiceError};
use crate::auth::SecretStorage;
use crate::model::{
    AccountDiagnostics, AccountState, Check, Diagnostics, Health, ProviderKind, SyncErrorCode,
};

/// A successful sync older than this, with sync on, is worth a look.
pub const STALE_SYNC_MS: i64 = 24 * 3600 * 1000;
/// Outbox entries beyond this are worth a look.
pub const OUTBOX_WARN: i64 = 100;

impl Ember {
    /// The health report. A database that fails part-way (damaged pages)
    /// gives the report of one that cannot be read, with what to do.
    pub async fn diagnostics(&self) -> Result<Diagnostics, ServiceError> {
        match self.gather().await {
            Ok(report) => Ok(report),
            Err(e @ ServiceError::Store(_)) => Ok(unopened(&self.config, &e).await),
            Err(e) => Err(e),
        }
    }

    async fn gather(&self) -> Result<Diagnostics, ServiceError> {
        let started = Instant::now();
        let now = crate::store::now_ms();
        let store = &self.store;
        let sizes = store.file_sizes();
        let quick_check = store.quick_check().await?.join("; ");
        let secrets = self.secrets().await;
        let secret_storage = match secrets.storage() {
            SecretStorage::Keychain => "keychain".to_owned(),
            SecretStorage::File(path) => format!("file ({})", path.display()),
            SecretStorage::Memory(reason) => format!("memory ({reason})"),
        };
        let mut accounts = Vec::new();
        for account in store.accounts().await? {
            let record = store.sync_record(account.id).await?;
            let key = match account.provider {
                ProviderKind::Ado => crate::auth::pat_key(account.id),
                _ => crate::auth::tokens_key(account.id),
            };
            let signed_in = secrets.get(&key).await.ok().map(|s| s.is_some());
            let (last_error_code, last_error) = match record.last_error {
                Some((code, message)) => (Some(code), Some(message)),
                None => (None, None),
            };
            accounts.push(AccountDiagnostics {
                id: account.id,
                provider: account.provider,
                address: account.address,
                state: account.state,
                sync_enabled: account.sync_enabled,
                signed_in,
                last_synced_at: record.last_synced_at,
                last_error_code,
                last_error,
                cursor_updated_at: store.cursor_updated_at(account.id).await?,
                outbox: store.outbox_len(account.id).await?,
            });
        }
        let model = model_facts(&self.config.model_dir).await;
        let classifier = self.categoriser.status().await?;
        let mut report = Diagnostics {
            generated_at: now,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            sqlite_version: store.sqlite_version().await?,
            platform: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            data_dir: self.config.data_dir.display().to_string(),
            log_dir: self.config.log_dir.display().to_string(),
            schema_version: store.schema_version().await?,
            database_bytes: sizes.database,
            wal_bytes: sizes.wal,
            quick_check,
            model_dir: self.config.model_dir.display().to_string(),
            model_present: model.present,
            model_sha256: model.sha256,
            model_checksum_ok: model.checksum_ok,
            secret_storage,
            outbox_depth: accounts.iter().map(|a| a.outbox).sum(),
            accounts,
            categoriser_backlog: classifier.pending,
            categoriser: classifier.message,
            checks: Vec::new(),
            report: String::new(),
            took_ms: 0,
        };
        report.checks = checks(&report, self.sync.is_enabled(), secrets.storage(), now);
        report.took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        report.report = render(&report, home().as_deref());
        Ok(report)
    }
}

/// The report when the database cannot be opened or read (`ember doctor`
/// on a damaged or unreadable data folder): what can be known without it.
pub async fn unopened(config: &crate::Config, error: &ServiceError) -> Diagnostics {
    let started = Instant::now();
    let model = model_facts(&config.model_dir).await;
    let database = config.database_path();
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = database.clone().into_os_string();
    wal.push("-wal");
    let mut report = Diagnostics {
        generated_at: crate::store::now_ms(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        sqlite_version: String::new(),
        platform: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        data_dir: config.data_dir.display().to_string(),
        log_dir: config.log_dir.display().to_string(),
        schema_version: 0,
        database_bytes: size(&database),
        wal_bytes: size(Path::new(&wal)),
        quick_check: format!("cannot read: {error}"),
        model_dir: config.model_dir.display().to_string(),
        model_present: model.present,
        model_sha256: model.sha256,
        model_checksum_ok: model.checksum_ok,
        secret_storage: "not checked".into(),
        accounts: Vec::new(),
        outbox_depth: 0,
        categoriser_backlog: 0,
        categoriser: "not checked".into(),
        checks: Vec::new(),
        report: String::new(),
        took_ms: 0,
    };
    report.checks = vec![
        check(
            "version",
            Health::Ok,
            format!("Ember {}, {}", report.version, report.platform),
            None,
        ),
        check(
            "database",
            Health::Problem,
            format!("{} cannot be read: {error}", database.display()),
            Some(DAMAGED_ADVICE),
        ),
        check("logs", Health::Ok, report.log_dir.clone(), None),
    ];
    report.took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report.report = render(&report, home().as_deref());
    report
}

/// What to do about a database that fails its check or cannot be opened.
const DAMAGED_ADVICE: &str = "The database is damaged. Quit Ember, keep a copy of the data folder for the bug report, then remove ember.sqlite3 (and its -wal and -shm files): the next start syncs everything again.";

struct ModelFacts {
    present: bool,
    sha256: Option<String>,
    checksum_ok: Option<bool>,
}

async fn model_facts(dir: &Path) -> ModelFacts {
    let present = crate::classify::embed::MODEL_FILES
        .iter()
        .all(|f| dir.join(f).is_file());
    if !present {
        return ModelFacts {
            present,
            sha256: None,
            checksum_ok: None,
        };
    }
    let weights = dir.join(crate::classify::embed::MODEL_FILES[0]);
    let sha256 = crate::cpu::run(move || sha256_file(&weights))
        .await
        .ok()
        .and_then(Result::ok);
    ModelFacts {
        present,
        checksum_ok: sha256
            .as_deref()
            .map(|s| s == crate::classify::embed::MODEL_SHA256),
        sha256,
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn check(name: &str, health: Health, summary: String, advice: Option<&str>) -> Check {
    Check {
        name: name.to_owned(),
        health,
        summary,
        advice: advice.map(str::to_owned),
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

fn ago(now: i64, then: i64) -> String {
    let seconds = (now - then).max(0) / 1000;
    match seconds {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

/// The report's lines: a pure function of what was gathered.
pub fn checks(
    d: &Diagnostics,
    sync_enabled: bool,
    storage: &SecretStorage,
    now: i64,
) -> Vec<Check> {
    let mut out = vec![check(
        "version",
        Health::Ok,
        format!(
            "Ember {}, SQLite {}, {}, schema {}",
            d.version, d.sqlite_version, d.platform, d.schema_version
        ),
        None,
    )];
    let sizes = format!(
        "{} ({}, WAL {})",
        d.data_dir,
        megabytes(d.database_bytes),
        megabytes(d.wal_bytes)
    );
    out.push(if d.quick_check == "ok" {
        check(
            "database",
            Health::Ok,
            format!("{sizes}; quick_check ok"),
            None,
        )
    } else {
        check(
            "database",
            Health::Problem,
            format!("{sizes}; quick_check: {}", d.quick_check),
            Some(DAMAGED_ADVICE),
        )
    });
    out.push(if d.wal_bytes > 64 * 1_048_576 {
        check(
            "write-ahead log",
            Health::Warning,
            format!(
                "{} not yet folded into the database",
                megabytes(d.wal_bytes)
            ),
            Some("Quit and restart Ember: closing folds the WAL back into the database."),
        )
    } else {
        check("write-ahead log", Health::Ok, megabytes(d.wal_bytes), None)
    });
    out.push(match (d.model_present, d.model_checksum_ok) {
        (false, _) => check(
            "model",
            Health::Warning,
            format!("not found in {}: categorisation is off", d.model_dir),
            Some("Run scripts/fetch-model (or `make model`), or set EMBER_MODEL_DIR to the folder holding model.safetensors, tokenizer.json and config.json."),
        ),
        (true, Some(true)) => check(
            "model",
            Health::Ok,
            format!("all-MiniLM-L6-v2 in {}, checksum matches", d.model_dir),
            None,
        ),
        (true, Some(false)) => check(
            "model",
            Health::Problem,
            format!(
                "model.safetensors in {} is not the shipped model (sha256 {})",
                d.model_dir,
                d.model_sha256.as_deref().unwrap_or("?")
            ),
            Some("Delete the model folder and run scripts/fetch-model again."),
        ),
        (true, None) => check(
            "model",
            Health::Problem,
            format!("model.safetensors in {} cannot be read", d.model_dir),
            Some("Check the folder's permissions, or delete it and run scripts/fetch-model again."),
        ),
    });
    out.push(match storage {
        SecretStorage::Keychain => check("secrets", Health::Ok, "kept in the OS keychain".into(), None),
        SecretStorage::File(_) => check(
            "secrets",
            Health::Warning,
            format!("kept in a file readable only by you: {}", d.secret_storage),
            Some("Fine for a machine without a keychain; on a desktop, unset EMBER_SECRET_STORE to use the keychain."),
        ),
        SecretStorage::Memory(reason) => check(
            "secrets",
            Health::Problem,
            format!("no keychain reachable ({reason}): sign-ins last until Ember quits"),
            Some("Start or unlock your keychain (on Linux a Secret Service such as GNOME Keyring, reached over D-Bus), or set EMBER_SECRET_STORE=file to keep sign-ins in a file only you can read."),
        ),
    });
    out.push(if sync_enabled {
        check("sync", Health::Ok, "on".into(), None)
    } else {
        check(
            "sync",
            Health::Warning,
            "switched off: nothing syncs".into(),
            Some("Switch sync on from the tray or the window's header."),
        )
    });
    for a in &d.accounts {
        out.push(account_check(a, sync_enabled, now));
    }
    out.push(if d.outbox_depth > OUTBOX_WARN {
        check(
            "outbox",
            Health::Warning,
            format!("{} actions waiting to be sent", d.outbox_depth),
            Some("They go on each account's next sync; if the number stays, look at the accounts' last errors above."),
        )
    } else {
        check("outbox", Health::Ok, format!("{} actions waiting", d.outbox_depth), None)
    });
    out.push(if d.categoriser.starts_with("categorisation unavailable") {
        check(
            "categoriser",
            Health::Warning,
            format!(
                "{}; {} messages waiting",
                d.categoriser, d.categoriser_backlog
            ),
            Some("Switch categories on in Settings, or install the model (see the model line)."),
        )
    } else {
        check(
            "categoriser",
            Health::Ok,
            format!(
                "{}; {} messages waiting",
                d.categoriser, d.categoriser_backlog
            ),
            None,
        )
    });
    out.push(check("logs", Health::Ok, d.log_dir.clone(), None));
    out
}

fn account_check(a: &AccountDiagnostics, sync_enabled: bool, now: i64) -> Check {
    let name = format!("account {}", a.id);
    let who = format!("{} {}", a.provider.as_str(), a.address);
    let synced = a.last_synced_at.map_or("never synced".to_owned(), |t| {
        format!("synced {}", ago(now, t))
    });
    let cursor = a
        .cursor_updated_at
        .map_or(String::new(), |t| format!(", cursor moved {}", ago(now, t)));
    let outbox = if a.outbox > 0 {
        format!(", {} actions queued", a.outbox)
    } else {
        String::new()
    };
    let summary = format!("{who}: {synced}{cursor}{outbox}");
    if a.state == AccountState::NeedsReauth || a.signed_in == Some(false) {
        return check(
            &name,
            Health::Problem,
            format!("{summary}; not signed in"),
            Some(match a.provider {
                ProviderKind::Ado => "Add the account again with a new personal access token (Settings → Accounts, or `ember account add ado`).",
                _ => "Sign in again: Settings → Accounts → Sign in again.",
            }),
        );
    }
    if a.state == AccountState::Disabled || !a.sync_enabled {
        return check(
            &name,
            Health::Warning,
            format!("{summary}; its sync is switched off"),
            Some("Switch its sync on in Settings → Accounts if it should stay up to date."),
        );
    }
    if let (Some(code), Some(message)) = (a.last_error_code, &a.last_error) {
        return check(
            &name,
            Health::Warning,
            format!("{summary}; last run failed: {message}"),
            Some(error_advice(code)),
        );
    }
    match a.last_synced_at {
        None if sync_enabled => check(
            &name,
            Health::Warning,
            summary,
            Some("Its first sync has not finished: leave Ember running, or run `ember sync --once`."),
        ),
        Some(t) if sync_enabled && now - t > STALE_SYNC_MS => check(
            &name,
            Health::Warning,
            summary,
            Some("It has not synced for a day: leave Ember running, or run `ember sync --once` and read what it says."),
        ),
        _ => check(&name, Health::Ok, summary, None),
    }
}

fn error_advice(code: SyncErrorCode) -> &'static str {
    match code {
        SyncErrorCode::RateLimited => "The service asked Ember to slow down; it retries by itself. Nothing to do unless this stays for hours.",
        SyncErrorCode::Unreachable | SyncErrorCode::TimedOut => "Check the network connection (and any proxy); Ember retries on its next tick.",
        SyncErrorCode::ServerError => "The service had trouble; Ember retries on its next tick.",
        SyncErrorCode::NeedsReauth | SyncErrorCode::Keychain => "Sign in again: Settings → Accounts → Sign in again.",
        SyncErrorCode::DiskFull => "The disk holding the data folder is full: free some space; Ember saved nothing partial and carries on by itself once there is room.",
        SyncErrorCode::Storage => "Check the disk holding the data folder (space, permissions); `ember doctor` runs an integrity check.",
        _ => "Ember retries on its next tick; if the error stays, attach this report and the log file to a bug report.",
    }
}

/// The user's home folder, shown as `~` in the shared report.
fn home() -> Option<String> {
    directories::BaseDirs::new().map(|d| d.home_dir().display().to_string())
}

/// `alex.rivera@example.org` as `a…@example.org`.
fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        None => address.to_owned(),
    }
}

/// The report as plain text for a bug report: every line, the home folder
/// as `~`, account addresses masked.
pub fn render(d: &Diagnostics, home: Option<&str>) -> String {
    let mut text = format!("Fireside Ember diagnostics ({} ms)\n", d.took_ms);
    for c in &d.checks {
        let mark = match c.health {
            Health::Ok => "ok  ",
            Health::Warning => "WARN",
            Health::Problem => "FAIL",
        };
        text.push_str(&format!("{mark} {}: {}\n", c.name, c.summary));
        if let Some(advice) = &c.advice {
            text.push_str(&format!("     → {advice}\n"));
        }
    }
    for a in &d.accounts {
        text = text.replace(&a.address, &mask_address(&a.address));
    }
    match home.filter(|h| h.len() > 1) {
        Some(home) => text.replace(home, "~"),
        None => text,
    }
}
