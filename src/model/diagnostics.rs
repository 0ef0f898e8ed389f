//! The health report `ember doctor` prints and Settings → Diagnostics
//! shows: what a support request needs, each unhealthy line with what to do.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{AccountState, ProviderKind, SyncErrorCode};

/// How one line of the report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Health {
    /// Nothing to do.
    Ok,
    /// Works, but something is worth doing.
    Warning,
    /// Something does not work until it is fixed.
    Problem,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// What was checked (`database`, `model`, `account 3` ...).
    pub name: String,
    /// How it stands.
    pub health: Health,
    /// What was found.
    pub summary: String,
    /// What to do; always present when the line is not healthy.
    pub advice: Option<String>,
}

/// One account as the report sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountDiagnostics {
    /// The account's id.
    #[ts(type = "number")]
    pub id: i64,
    /// Its service.
    pub provider: ProviderKind,
    /// Its address or organisation.
    pub address: String,
    /// Signed in, needing a new sign-in, or disabled.
    pub state: AccountState,
    /// Whether its own switch lets it sync.
    pub sync_enabled: bool,
    /// Whether its credentials are where its runs look for them; `None`
    /// when the secret store could not be read.
    pub signed_in: Option<bool>,
    /// When it last synced successfully, Unix milliseconds.
    #[ts(type = "number | null")]
    pub last_synced_at: Option<i64>,
    /// The code of the last run's failure, if the last run failed.
    pub last_error_code: Option<SyncErrorCode>,
    /// The last run's failure, if it failed.
    pub last_error: Option<String>,
    /// When its sync cursors last moved, Unix milliseconds.
    #[ts(type = "number | null")]
    pub cursor_updated_at: Option<i64>,
    /// Actions of its waiting in the outbox.
    #[ts(type = "number")]
    pub outbox: i64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostics {
    /// When it was made, Unix milliseconds.
    #[ts(type = "number")]
    pub generated_at: i64,
    /// Ember's version.
    pub version: String,
    /// SQLite's version.
    pub sqlite_version: String,
    /// Operating system and processor (`linux x86_64`).
    pub platform: String,
    /// The data folder.
    pub data_dir: String,
    /// The log folder.
    pub log_dir: String,
    /// The newest database migration applied.
    #[ts(type = "number")]
    pub schema_version: i64,
    /// The database file's size in bytes.
    #[ts(type = "number")]
    pub database_bytes: u64,
    /// The write-ahead log's size in bytes.
    #[ts(type = "number")]
    pub wal_bytes: u64,
    /// What `PRAGMA quick_check` said (`ok` when healthy).
    pub quick_check: String,
    /// The sentence model's folder.
    pub model_dir: String,
    /// Whether every model file is there.
    pub model_present: bool,
    /// The sha256 of `model.safetensors`, when present.
    pub model_sha256: Option<String>,
    /// Whether that is the model Ember ships with.
    pub model_checksum_ok: Option<bool>,
    /// Where sign-ins are kept (`keychain`, `file`, `memory`) and, when not
    /// in a keychain, why.
    pub secret_storage: String,
    /// Each account.
    pub accounts: Vec<AccountDiagnostics>,
    /// Actions waiting in the outbox, all accounts.
    #[ts(type = "number")]
    pub outbox_depth: i64,
    /// Messages waiting to be categorised.
    #[ts(type = "number")]
    pub categoriser_backlog: i64,
    /// Whether the categoriser can run, and why not.
    pub categoriser: String,
    /// The report line by line, in the order it prints.
    pub checks: Vec<Check>,
    /// The report as plain text for a bug report: the home folder shown as
    /// `~` and addresses masked.
    pub report: String,
    /// How long making it took, in milliseconds.
    #[ts(type = "number")]
    pub took_ms: u64,
}
