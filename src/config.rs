//! Where Ember keeps its data, and the knobs a run starts with.
//!
//! The data directory is, in order: the `--data-dir` flag, the
//! `EMBER_DATA_DIR` environment variable, or the platform's per-user data
//! folder (`~/.local/share/ember` on Linux, `~/Library/Application
//! Support/dev.Fireside.Ember` on macOS, `%APPDATA%\Fireside\Ember\data` on
//! Windows).

use std::path::{Path, PathBuf};

use crate::auth::Secrets;
use crate::sync::SyncConfig;

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "EMBER_DATA_DIR";

/// How the service is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the database (and later the model and caches) live.
    pub data_dir: PathBuf,
    /// Sync timing.
    pub sync: SyncConfig,
    /// Where credentials go; `None` finds the OS keychain on first use.
    pub secrets: Option<Secrets>,
    /// The sentence model's folder (`EMBER_MODEL_DIR`, else
    /// `<data dir>/models/all-MiniLM-L6-v2`).
    pub model_dir: PathBuf,
    /// Threads of the categoriser's pool (`EMBER_CLASSIFY_THREADS`, else
    /// cores − 1, at least 1).
    pub classify_threads: usize,
    /// Where the log files go (`EMBER_LOG_DIR`, else `<data dir>/logs`);
    /// the program that sets logging up decides, the service reports it.
    pub log_dir: PathBuf,
}

impl Config {
    /// Defaults for `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            model_dir: crate::classify::embed::model_dir(&data_dir),
            classify_threads: crate::classify::threads_from_env(),
            log_dir: crate::logging::log_dir(&data_dir),
            data_dir,
            sync: SyncConfig::default(),
            secrets: None,
        }
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(crate::store::DATABASE_FILE)
    }
}

/// Resolves the data directory from an explicit choice, the environment, or
/// the platform default. `None` only when the platform has no home folder.
pub fn resolve_data_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_owned());
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "Fireside", "Ember").map(|d| d.data_dir().to_owned())
}
