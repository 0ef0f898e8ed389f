//! Where credentials live: the OS keychain (Keychain, Credential Manager,
//! Secret Service) when it can be reached; otherwise memory for this run
//! only, and the app says so rather than writing tokens anywhere less safe.
//! A machine without a keychain (a server, a container, CI) can opt in to a
//! file readable only by the user (`EMBER_SECRET_STORE=file`), as other
//! command-line clients do; it is never chosen silently, and the window and
//! `ember status` say where secrets are.
//!
//! Every key is scoped by the profile (a random id kept in the profile's
//! database), so two data folders never read, overwrite or delete each
//! other's credentials even though they share one keychain.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use super::AuthError;
use crate::secret::Secret;

/// The keychain service name entries are filed under.
pub const SERVICE: &str = "dev.fireside.ember";

/// The environment variable that chooses where secrets go: `keychain` (the
/// default), `file` (a file in the data folder readable only by the user),
/// or `memory` (this run only).
pub const STORE_ENV: &str = "EMBER_SECRET_STORE";

/// The file the opt-in file store keeps secrets in, in the data folder.
pub const SECRETS_FILE: &str = "secrets.json";

/// Where secrets should go, as chosen before the first one is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The OS keychain, or memory (with a warning) when it cannot be reached.
    Keychain,
    /// A file readable only by the user (opted into).
    File(PathBuf),
    /// Memory only, for this run.
    Memory,
}

impl StoreChoice {
    /// The choice `EMBER_SECRET_STORE` makes for a profile in `data_dir`.
    pub fn from_env(data_dir: &std::path::Path) -> Result<Self, AuthError> {
        match std::env::var(STORE_ENV).ok().as_deref().map(str::trim) {
            None | Some("") | Some("keychain") => Ok(Self::Keychain),
            Some("file") => Ok(Self::File(data_dir.join(SECRETS_FILE))),
            Some("memory") => Ok(Self::Memory),
            Some(other) => Err(AuthError::Config(format!(
                "{STORE_ENV}={other} is not a place for secrets: use keychain, file or memory"
            ))),
        }
    }
}

/// Where secrets are kept this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretStorage {
    /// The OS keychain.
    Keychain,
    /// A file readable only by the user (opted into): its path.
    File(PathBuf),
    /// Memory only, because the keychain could not be used (the reason).
    Memory(String),
}

/// Credential storage of one profile. Cheap to clone. Its `Debug` shows
/// where secrets are kept, never the secrets.
#[derive(Clone)]
pub struct Secrets {
    storage: SecretStorage,
    /// Prefixes every key: the profile's id.
    scope: Arc<str>,
    memory: Arc<Mutex<HashMap<String, String>>>,
}

#[allow(
    clippy::disallowed_methods,
    reason = "keychain calls are blocking IPC (D-Bus, XPC, RPC) and file I/O: they must leave the async workers"
)]
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AuthError::Storage(e.to_string()))?
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// Memory-only storage, with the reason shown to the user.
    pub fn memory(reason: impl Into<String>) -> Self {
        Self {
            storage: SecretStorage::Memory(reason.into()),
            scope: Arc::from(""),
            memory: Arc::default(),
        }
    }

    /// The same storage, its keys scoped to `profile`.
    pub fn scoped(mut self, profile: &str) -> Self {
        self.scope = Arc::from(profile);
        self
    }

    /// The storage `choice` asks for: the keychain if a probe entry can be
    /// written, read and deleted (memory otherwise), the file, or memory.
    pub async fn open(choice: &StoreChoice) -> Self {
        match choice {
            StoreChoice::Memory => {
                Self::memory("EMBER_SECRET_STORE=memory: sign-ins last until quit")
            }
            StoreChoice::File(path) => Self {
                storage: SecretStorage::File(path.clone()),
                scope: Arc::from(""),
                memory: Arc::default(),
            },
            StoreChoice::Keychain => Self::detect().await,
        }
    }

    /// The keychain if a probe entry can be written, read and deleted;
    /// memory otherwise.
    pub async fn detect() -> Self {
        let probe = blocking(|| {
            let entry = keyring::Entry::new(SERVICE, "probe").map_err(storage_err)?;
            entry.set_password("probe").map_err(storage_err)?;
            let read = entry.get_password().map_err(storage_err)?;
            let _ = entry.delete_credential();
            if read == "probe" {
                Ok(())
            } else {
                Err(AuthError::Storage(
                    "the keychain returned something else".into(),
                ))
            }
        })
        .await;
        match probe {
            Ok(()) => Self {
                storage: SecretStorage::Keychain,
                scope: Arc::from(""),
                memory: Arc::default(),
            },
            Err(e) => {
                tracing::warn!(
                    "no secure storage, sign-ins last until quit (set {STORE_ENV}=file to keep them in a file): {e}"
                );
                Self::memory(e.to_string())
            }
        }
    }

    /// Where secrets are kept.
    pub fn storage(&self) -> &SecretStorage {
        &self.storage
    }

    /// The full key of `key` in this profile.
    fn full(&self, key: &str) -> String {
        if self.scope.is_empty() {
            key.to_owned()
        } else {
            format!("profile:{}:{key}", self.scope)
        }
    }

    /// The secret stored under `key`. A keychain entry filed by a version
    /// that did not scope keys is taken over by the first profile that
    /// asks for it.
    pub async fn get(&self, key: &str) -> Result<Option<Secret>, AuthError> {
        Ok(self.get_plain(key).await?.map(Secret::from))
    }

    async fn get_plain(&self, key: &str) -> Result<Option<String>, AuthError> {
        let full = self.full(key);
        match &self.storage {
            SecretStorage::Memory(_) => Ok(self.lock().get(&full).cloned()),
            SecretStorage::File(path) => {
                let path = path.clone();
                blocking(move || Ok(read_file(&path)?.remove(&full))).await
            }
            SecretStorage::Keychain => {
                if let Some(found) = keychain_get(full.clone()).await? {
                    return Ok(Some(found));
                }
                if self.scope.is_empty() {
                    return Ok(None);
                }
                let Some(legacy) = keychain_get(key.to_owned()).await? else {
                    return Ok(None);
                };
                keychain_set(full, legacy.clone()).await?;
                keychain_delete(key.to_owned()).await?;
                tracing::info!(
                    "a keychain entry of an earlier version now belongs to this profile"
                );
                Ok(Some(legacy))
            }
        }
    }

    /// Stores `value` under `key`.
    pub async fn set(&self, key: &str, value: &Secret) -> Result<(), AuthError> {
        let full = self.full(key);
        let value = value.expose();
        match &self.storage {
            SecretStorage::Memory(_) => {
                self.lock().insert(full, value.to_owned());
                Ok(())
            }
            SecretStorage::File(path) => {
                let (path, value) = (path.clone(), value.to_owned());
                blocking(move || {
                    let mut all = read_file(&path)?;
                    all.insert(full, value);
                    write_file(&path, &all)
                })
                .await
            }
            SecretStorage::Keychain => keychain_set(full, value.to_owned()).await,
        }
    }

    /// Forgets `key` (no error when absent).
    pub async fn delete(&self, key: &str) -> Result<(), AuthError> {
        let full = self.full(key);
        match &self.storage {
            SecretStorage::Memory(_) => {
                self.lock().remove(&full);
                Ok(())
            }
            SecretStorage::File(path) => {
                let path = path.clone();
                blocking(move || {
                    let mut all = read_file(&path)?;
                    if all.remove(&full).is_some() {
                        write_file(&path, &all)?;
                    }
                    Ok(())
                })
                .await
            }
            SecretStorage::Keychain => keychain_delete(full).await,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn keychain_get(key: String) -> Result<Option<String>, AuthError> {
    blocking(move || {
        let entry = keyring::Entry::new(SERVICE, &key).map_err(storage_err)?;
        match entry.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(storage_err(e)),
        }
    })
    .await
}

async fn keychain_set(key: String, value: String) -> Result<(), AuthError> {
    blocking(move || {
        keyring::Entry::new(SERVICE, &key)
            .and_then(|e| e.set_password(&value))
            .map_err(storage_err)
    })
    .await
}

async fn keychain_delete(key: String) -> Result<(), AuthError> {
    blocking(
        move || match keyring::Entry::new(SERVICE, &key).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(storage_err(e)),
        },
    )
    .await
}

fn read_file(path: &std::path::Path) -> Result<BTreeMap<String, String>, AuthError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| AuthError::Storage(format!("{} does not read: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(AuthError::Storage(format!("{}: {e}", path.display()))),
    }
}

fn write_file(path: &std::path::Path, all: &BTreeMap<String, String>) -> Result<(), AuthError> {
    let bytes = serde_json::to_vec_pretty(all).map_err(|e| AuthError::Storage(e.to_string()))?;
    crate::durable::write_private(path, &bytes)
        .map_err(|e| AuthError::Storage(format!("{}: {e}", path.display())))
}

fn storage_err(e: keyring::Error) -> AuthError {
    AuthError::Storage(e.to_string())
}

/// A profile's secrets, found on first use: the service and the sync
/// engine share one, so the keychain is probed once per run.
#[derive(Debug)]
pub struct SecretsSlot {
    cell: OnceCell<Secrets>,
    choice: StoreChoice,
    profile: String,
}

impl SecretsSlot {
    /// Secrets of `profile`, in the storage `choice` asks for.
    pub fn new(choice: StoreChoice, profile: impl Into<String>) -> Self {
        Self {
            cell: OnceCell::new(),
            choice,
            profile: profile.into(),
        }
    }

    /// Secrets given outright (tests, benchmarks), scoped to `profile`.
    pub fn given(secrets: Secrets, profile: &str) -> Self {
        Self {
            cell: OnceCell::new_with(Some(secrets.scoped(profile))),
            choice: StoreChoice::Memory,
            profile: profile.to_owned(),
        }
    }

    /// The secrets, opening their storage on first use.
    pub async fn get(&self) -> &Secrets {
        self.cell
            .get_or_init(|| async { Secrets::open(&self.choice).await.scoped(&self.profile) })
            .await
    }

    /// The secrets, if their storage is open already (a status read never
    /// probes the keychain).
    pub fn opened(&self) -> Option<&Secrets> {
        self.cell.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_storage_keeps_secrets_for_the_run() -> Result<(), AuthError> {
        let s = Secrets::memory("no keychain in tests");
        assert_eq!(s.get("a").await?, None);
        s.set("a", &Secret::new("1")).await?;
        assert_eq!(
            s.clone().get("a").await?.as_ref().map(Secret::expose),
            Some("1"),
            "clones share storage"
        );
        s.delete("a").await?;
        s.delete("a").await?;
        assert_eq!(s.get("a").await?, None);
        assert!(matches!(s.storage(), SecretStorage::Memory(r) if r.contains("tests")));
        Ok(())
    }

    #[tokio::test]
    async fn two_profiles_never_see_each_others_secrets() -> Result<(), AuthError> {
        let shared = Secrets::memory("one keychain for both");
        let first = shared.clone().scoped("p1");
        let second = shared.scoped("p2");
        first.set("account:1:tokens", &"mine".into()).await?;
        assert_eq!(second.get("account:1:tokens").await?, None);
        second.set("account:1:tokens", &"theirs".into()).await?;
        second.delete("account:1:tokens").await?;
        assert_eq!(
            first
                .get("account:1:tokens")
                .await?
                .as_ref()
                .map(Secret::expose),
            Some("mine")
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_file_store_survives_the_process_and_only_the_user_reads_it(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(SECRETS_FILE);
        let s = Secrets::open(&StoreChoice::File(path.clone()))
            .await
            .scoped("p");
        s.set("k", &"v".into()).await?;
        let again = Secrets::open(&StoreChoice::File(path.clone()))
            .await
            .scoped("p");
        assert_eq!(
            again.get("k").await?.as_ref().map(Secret::expose),
            Some("v")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "readable by the user only");
        }
        again.delete("k").await?;
        assert_eq!(s.get("k").await?, None);
        Ok(())
    }
}
