//! The domain types that cross the service boundary: what the shell returns to
//! the UI, what the CLI prints as JSON, and what the TypeScript bindings in
//! `ui/src/bindings/` are generated from. They carry data only; the store
//! builds them and the service hands them out.

mod account;
mod account_settings;
mod category;
mod compose;
mod diagnostics;
mod mail;
mod message;
mod settings;
mod status;
mod work_item;

pub use account::{Account, AccountId, AccountState, AddAccount, NewAccount, ProviderKind};
pub use account_settings::{
    AccountSettings, AdoSettings, MailSettings, OAuthEndpoints, SyncWindow,
};
pub use category::{CategoryExplanation, CategorySource, ClassifierStatus, Neighbour};
pub use compose::{
    ComposeKind, ComposeRequest, Contact, Draft, DraftAttachment, DraftEdit, DraftId, DraftState,
};
pub use diagnostics::{AccountDiagnostics, Check, Diagnostics, Health};
pub use mail::{Folder, FolderRole, RemoteScope, RenderedBody, SearchHit, Span};
pub use message::{
    Address, Attachment, Category, MailView, MessageDetail, MessageId, MessagePage, MessageQuery,
    MessageSummary, PageCursor, SearchQuery,
};
pub use settings::Settings;
pub use status::{sync_headline, AccountStatus, Status, SyncErrorCode, SyncPhase, SyncState};
pub use work_item::{
    ConflictChoice, LinkedWorkItem, RelatedItem, StateChange, WorkItem, WorkItemComment,
    WorkItemConflict, WorkItemDetail, WorkItemEdit, WorkItemQuery,
};
