//! Where credentials live: the OS keychain (Keychain, Credential Manager,
//! Secret Service) when it can be reached, otherwise memory for this run only,
//! and the app says so rather than writing tokens anywhere less safe.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::AuthError;

/// The keychain service name entries are filed under.
pub const SERVICE: &str = "dev.fireside.ember";

/// Where secrets are kept this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretStorage {
    /// The OS keychain.
    Keychain,
    /// Memory only, because the keychain could not be used (the reason).
    Memory(String),
}

/// Credential storage. Cheap to clone. Its `Debug` shows where secrets
/// are kept, never the secrets.
#[derive(Clone)]
pub struct Secrets {
    storage: SecretStorage,
    memory: Arc<Mutex<HashMap<String, String>>>,
}

#[allow(
    clippy::disallowed_methods,
    reason = "keychain calls are blocking IPC (D-Bus, XPC, RPC): they must leave the async workers"
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
            memory: Arc::default(),
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
                memory: Arc::default(),
            },
            Err(e) => {
                tracing::warn!("no secure storage, sign-ins last until quit: {e}");
                Self::memory(e.to_string())
            }
        }
    }

    /// Where secrets are kept.
    pub fn storage(&self) -> &SecretStorage {
        &self.storage
    }

    /// The secret stored under `key`.
    pub async fn get(&self, key: &str) -> Result<Option<String>, AuthError> {
        match self.storage {
            SecretStorage::Memory(_) => Ok(self.lock().get(key).cloned()),
            SecretStorage::Keychain => {
                let key = key.to_owned();
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
        }
    }

    /// Stores `value` under `key`.
    pub async fn set(&self, key: &str, value: &str) -> Result<(), AuthError> {
        match self.storage {
            SecretStorage::Memory(_) => {
                self.lock().insert(key.to_owned(), value.to_owned());
                Ok(())
            }
            SecretStorage::Keychain => {
                let (key, value) = (key.to_owned(), value.to_owned());
                blocking(move || {
                    keyring::Entry::new(SERVICE, &key)
                        .and_then(|e| e.set_password(&value))
                        .map_err(storage_err)
                })
                .await
            }
        }
    }

    /// Forgets `key` (no error when absent).
    pub async fn delete(&self, key: &str) -> Result<(), AuthError> {
        match self.storage {
            SecretStorage::Memory(_) => {
                self.lock().remove(key);
                Ok(())
            }
            SecretStorage::Keychain => {
                let key = key.to_owned();
                blocking(move || {
                    match keyring::Entry::new(SERVICE, &key).and_then(|e| e.delete_credential()) {
                        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                        Err(e) => Err(storage_err(e)),
                    }
                })
                .await
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn storage_err(e: keyring::Error) -> AuthError {
    AuthError::Storage(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_storage_keeps_secrets_for_the_run() -> Result<(), AuthError> {
        let s = Secrets::memory("no keychain in tests");
        assert_eq!(s.get("a").await?, None);
        s.set("a", "1").await?;
        assert_eq!(
            s.clone().get("a").await?.as_deref(),
            Some("1"),
            "clones share storage"
        );
        s.delete("a").await?;
        s.delete("a").await?;
        assert_eq!(s.get("a").await?, None);
        assert!(matches!(s.storage(), SecretStorage::Memory(r) if r.contains("tests")));
        Ok(())
    }
}
