//! The TypeScript types the window is written against, generated from the
//! Rust types with ts-rs into `ui/src/bindings/`.
//!
//! The files are committed; a test fails when they differ from what the Rust
//! types generate, and `make bindings` rewrites them.

use std::path::{Path, PathBuf};

use ts_rs::TS;

use crate::events::Event;
use crate::model::{
    Account, AccountDiagnostics, AccountState, AccountStatus, AddAccount, Address, Attachment,
    Category, CategoryExplanation, CategorySource, Check, ClassifierStatus, ComposeKind,
    ComposeRequest, ConflictChoice, Contact, Diagnostics, Draft, DraftAttachment, DraftEdit,
    DraftState, Folder, FolderRole, Health, LinkedWorkItem, MailView, MessageDetail, MessagePage,
    MessageQuery, MessageSummary, Neighbour, PageCursor, ProviderKind, RelatedItem, RemoteScope,
    RenderedBody, SearchHit, SearchQuery, Settings, Span, StateChange, Status, SyncErrorCode,
    SyncPhase, SyncState, WorkItem, WorkItemComment, WorkItemConflict, WorkItemDetail,
    WorkItemEdit, WorkItemQuery,
};
use crate::service::{ApiError, ErrorCode};

/// Where the bindings live, relative to the workspace root.
pub const BINDINGS_DIR: &str = "ui/src/bindings";

/// Every generated file: its name and its contents.
pub fn generate() -> Result<Vec<(String, String)>, ts_rs::ExportError> {
    fn one<T: TS + 'static>() -> Result<(String, String), ts_rs::ExportError> {
        Ok((format!("{}.ts", T::name()), T::export_to_string()?))
    }
    Ok(vec![
        one::<Account>()?,
        one::<AccountDiagnostics>()?,
        one::<AccountState>()?,
        one::<AccountStatus>()?,
        one::<AddAccount>()?,
        one::<Address>()?,
        one::<ApiError>()?,
        one::<Attachment>()?,
        one::<Category>()?,
        one::<Check>()?,
        one::<Diagnostics>()?,
        one::<CategoryExplanation>()?,
        one::<CategorySource>()?,
        one::<ClassifierStatus>()?,
        one::<ErrorCode>()?,
        one::<Event>()?,
        one::<Folder>()?,
        one::<FolderRole>()?,
        one::<Health>()?,
        one::<MailView>()?,
        one::<MessageDetail>()?,
        one::<MessagePage>()?,
        one::<MessageQuery>()?,
        one::<MessageSummary>()?,
        one::<Neighbour>()?,
        one::<PageCursor>()?,
        one::<ProviderKind>()?,
        one::<RemoteScope>()?,
        one::<RenderedBody>()?,
        one::<SearchHit>()?,
        one::<SearchQuery>()?,
        one::<Settings>()?,
        one::<Span>()?,
        one::<Status>()?,
        one::<SyncErrorCode>()?,
        one::<SyncPhase>()?,
        one::<SyncState>()?,
        one::<WorkItem>()?,
        one::<WorkItemQuery>()?,
        one::<ConflictChoice>()?,
        one::<LinkedWorkItem>()?,
        one::<RelatedItem>()?,
        one::<StateChange>()?,
        one::<WorkItemComment>()?,
        one::<WorkItemConflict>()?,
        one::<WorkItemDetail>()?,
        one::<WorkItemEdit>()?,
        one::<ComposeKind>()?,
        one::<ComposeRequest>()?,
        one::<Contact>()?,
        one::<Draft>()?,
        one::<DraftAttachment>()?,
        one::<DraftEdit>()?,
        one::<DraftState>()?,
    ])
}

/// The bindings directory under `workspace_root`.
pub fn bindings_dir(workspace_root: &Path) -> PathBuf {
    workspace_root.join(BINDINGS_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compares the committed bindings with the generated ones; with
    /// `EMBER_WRITE_BINDINGS=1` rewrites them instead.
    #[test]
    fn typescript_bindings_are_current() -> anyhow::Result<()> {
        let dir = bindings_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
        let write = std::env::var_os("EMBER_WRITE_BINDINGS").is_some();
        let generated = generate()?;
        if write {
            std::fs::create_dir_all(&dir)?;
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "ts") {
                    std::fs::remove_file(path)?;
                }
            }
        }
        let mut stale = Vec::new();
        for (name, contents) in &generated {
            let path = dir.join(name);
            if write {
                std::fs::write(&path, contents)?;
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
                stale.push(name.clone());
            }
        }
        let mut extra = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".ts") && !generated.iter().any(|(n, _)| *n == name) {
                extra.push(name);
            }
        }
        assert!(
            stale.is_empty() && extra.is_empty(),
            "ui/src/bindings is out of date with the Rust types (stale: {stale:?}, \
             not generated: {extra:?}); run `make bindings`"
        );
        Ok(())
    }
}
