//! Writing a file so that a crash or power cut leaves either the old file
//! or the new one whole, never half of it: the bytes go to a fresh
//! temporary file beside the target (unique, so two processes never share
//! it), are flushed to disk, and the file is renamed over the target, then
//! the directory is flushed so the rename itself survives.
//!
//! It is blocking file I/O: async callers run it with
//! [`write_off_runtime`], never on a runtime worker.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes`, atomically and durably.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".ember-")
        .suffix(".partial")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    // The rename is durable once the directory is.
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// [`write`], the file readable and writable by its owner only (secrets).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".ember-")
        .suffix(".partial")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// [`write`] on Tokio's blocking pool.
#[allow(
    clippy::disallowed_methods,
    reason = "file I/O with fsync is blocking: it must leave the async workers"
)]
pub async fn write_off_runtime(path: PathBuf, bytes: Vec<u8>) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || write(&path, &bytes))
        .await
        .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_partial() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("models").join("classifier.json");
        write(&target, b"first")?;
        write(&target, b"second")?;
        assert_eq!(std::fs::read(&target)?, b"second");
        let left: Vec<_> = std::fs::read_dir(target.parent().unwrap_or(dir.path()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "no partial file is left: {left:?}");
        Ok(())
    }

    #[tokio::test]
    async fn two_writers_never_share_a_partial_file() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("w.json");
        let a = write_off_runtime(target.clone(), vec![b'a'; 100_000]);
        let b = write_off_runtime(target.clone(), vec![b'b'; 100_000]);
        let (a, b) = tokio::join!(a, b);
        a?;
        b?;
        let got = std::fs::read(&target)?;
        assert!(
            got.iter().all(|c| *c == got[0]),
            "one writer's bytes, whole"
        );
        Ok(())
    }
}
