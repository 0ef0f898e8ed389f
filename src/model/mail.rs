//! The reading pane's and the search box's types: folders with their
//! counts, a rendered message body and the remote-content choice, and
//! search hits with their highlight spans.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{AccountId, MessageId, MessageSummary};

/// What a folder or label is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum FolderRole {
    /// The inbox.
    Inbox,
    /// Sent mail.
    Sent,
    /// Drafts.
    Drafts,
    /// Deleted mail.
    Trash,
    /// Junk.
    Spam,
    /// Archived mail (Graph's Archive folder).
    Archive,
    /// Starred (a Gmail system label).
    Starred,
    /// Important (a Gmail system label).
    Important,
    /// A label or folder the user made.
    Label,
    /// Anything else the provider has (Gmail's category labels, chats).
    Other,
}

impl FolderRole {
    /// Reads the role stored in `folders.role` (`NULL` is a user label).
    pub fn from_stored(role: Option<&str>) -> Self {
        match role {
            None => Self::Label,
            Some("inbox") => Self::Inbox,
            Some("sent") => Self::Sent,
            Some("drafts") => Self::Drafts,
            Some("trash") => Self::Trash,
            Some("spam") => Self::Spam,
            Some("archive") => Self::Archive,
            Some("starred") => Self::Starred,
            Some("important") => Self::Important,
            Some(_) => Self::Other,
        }
    }
}

/// A folder or label with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    /// Local row id (what `MailView::Folder` takes).
    #[ts(type = "number")]
    pub id: i64,
    /// Its account.
    #[ts(type = "number")]
    pub account_id: AccountId,
    /// Display name.
    pub name: String,
    /// The folder it sits in (Microsoft 365 folders nest; Gmail labels
    /// do not), listed before it.
    #[ts(type = "number | null")]
    pub parent_id: Option<i64>,
    /// What it is for.
    pub role: FolderRole,
    /// Unread messages in it.
    #[ts(type = "number")]
    pub unread: i64,
    /// Messages in it.
    #[ts(type = "number")]
    pub total: i64,
}

// Its `Debug` prints the document as its length.
/// A message body ready for `<iframe sandbox srcdoc>`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RenderedBody {
    /// A whole sanitised HTML document with its own Content-Security-Policy.
    pub html: String,
    /// How many remote references were replaced by placeholders.
    pub remote_blocked: u32,
    /// Whether remote content was allowed for this render.
    pub remote_allowed: bool,
    /// The sender is on the always-load list, but the provider did not
    /// authenticate this message's From address (anyone can write it), so
    /// remote content stayed blocked.
    #[serde(default)]
    pub sender_unverified: bool,
}

impl std::fmt::Debug for RenderedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedBody")
            .field("html", &crate::secret::BodyLen(Some(&self.html)))
            .field("remote_blocked", &self.remote_blocked)
            .field("remote_allowed", &self.remote_allowed)
            .field("sender_unverified", &self.sender_unverified)
            .finish()
    }
}

/// Where remote content is allowed: one message, or everything from a sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RemoteScope {
    /// One message.
    Message {
        /// The message.
        #[ts(type = "number")]
        message_id: MessageId,
    },
    /// Every message from an address.
    Sender {
        /// The sender's address (compared lower-cased).
        address: String,
    },
}

/// A highlighted range: UTF-16 code-unit offsets (what JavaScript strings
/// index by), end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Span {
    /// First code unit.
    pub start: u32,
    /// One past the last code unit.
    pub end: u32,
}

/// One search result with what to highlight in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// The message as the list shows it.
    pub message: MessageSummary,
    /// Matches in `message.subject`.
    pub subject_matches: Vec<Span>,
    /// Matches in `message.snippet`.
    pub snippet_matches: Vec<Span>,
}
