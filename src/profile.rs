//! The profile lock: at most one process syncs and sends for a data folder.
//!
//! The app and `ember sync --once` (or `ember send`, or a second copy of
//! the app) could otherwise sync one account at the same time: each reads
//! the cursor, each fetches, the slower one writes its older cursor last,
//! and both send the same queued action. So any process that syncs or
//! sends first takes an OS advisory lock on [`LOCK_FILE`] in the data
//! folder, and writes who it is into it. The OS releases the lock when the
//! process ends, however it ends (a crash, `kill -9`), so a stale lock can
//! never strand a profile. A process that finds the lock held is told
//! which program and pid hold it; read-only commands (listing, search,
//! doctor) never take it and keep working alongside.
//!
//! The lock guards the common case; the store stays safe without it
//! (cursor generations and outbox claims, see `store::cursors` and
//! `store::outbox`), for a process that does not take it.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The lock file inside the data folder.
pub const LOCK_FILE: &str = "ember.lock";

/// Who holds a profile, as its lock file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The holding process.
    pub pid: u32,
    /// Its program (`fireside-ember` for the app, `ember` for the CLI).
    pub program: String,
    /// When it took the lock (Unix ms).
    pub since: i64,
}

/// Why the profile could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("{}", held_message(.dir, .holder.as_ref()))]
    Held {
        /// The data folder.
        dir: PathBuf,
        /// Who holds it, when its lock file says.
        holder: Option<Holder>,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock the profile {}: {source}", .path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn held_message(dir: &Path, holder: Option<&Holder>) -> String {
    let who = match holder {
        Some(h) => format!("{} (pid {})", h.program, h.pid),
        None => "another Ember process".to_owned(),
    };
    format!(
        "the profile {} is in use by {who}, which syncs and sends for it; only one process may. \
         Wait for it to finish or quit it, then try again (reading commands such as messages, \
         search and doctor work alongside it)",
        dir.display()
    )
}

/// A held profile lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct ProfileLock {
    /// Held open: the lock lives as long as this handle.
    _file: File,
    dir: PathBuf,
}

impl ProfileLock {
    /// Takes `data_dir`'s lock for `program` without waiting, or says who
    /// holds it. Blocking file I/O: call it off the async workers.
    pub fn acquire(data_dir: &Path, program: &str) -> Result<Self, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        // Never truncated on open: the holder's own line must survive a
        // second process looking at it.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // By its trait: newer std has an inherent `File::try_lock` too.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: data_dir.to_owned(),
                    holder: read_holder(&mut file),
                })
            }
            Err(fs4::TryLockError::Error(e)) => return Err(io(e)),
        }
        let holder = Holder {
            pid: std::process::id(),
            program: program.to_owned(),
            since: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        };
        let line = serde_json::to_string(&holder).map_err(|e| io(std::io::Error::other(e)))?;
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(line.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Self {
            _file: file,
            dir: data_dir.to_owned(),
        })
    }

    /// The data folder it locks.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Who the lock file names, when it is readable (on Windows a held lock
/// also keeps others from reading it).
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(4096).read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_told_who_holds_the_profile_until_it_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = ProfileLock::acquire(dir.path(), "fireside-ember").expect("first lock");
        // A second open file description conflicts even within one process.
        let err = ProfileLock::acquire(dir.path(), "ember").expect_err("second lock");
        match &err {
            LockError::Held {
                holder: Some(holder),
                ..
            } => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.program, "fireside-ember");
            }
            other => panic!("expected the holder to be named, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("fireside-ember (pid ") && message.contains("try again"),
            "{message}"
        );
        drop(first);
        let again = ProfileLock::acquire(dir.path(), "ember").expect("lock after release");
        assert_eq!(again.dir(), dir.path());
    }
}
