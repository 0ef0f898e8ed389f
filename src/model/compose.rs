//! Writing mail: a draft as the composer edits it, what it is being written
//! as (new, reply, reply all, forward), where it is on its way out, and the
//! addresses the To field suggests.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{AccountId, Address, MessageId};

/// Row id of a draft in the local store.
pub type DraftId = i64;

/// What a draft is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ComposeKind {
    /// A new message.
    New,
    /// An answer to the sender.
    Reply,
    /// An answer to the sender and every other recipient.
    ReplyAll,
    /// The message passed on, with its attachments.
    Forward,
}

impl ComposeKind {
    /// The name stored in `drafts.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Reply => "reply",
            Self::ReplyAll => "replyAll",
            Self::Forward => "forward",
        }
    }

    /// Reads a stored name; anything unknown is a new message.
    pub fn parse(stored: &str) -> Self {
        match stored {
            "reply" => Self::Reply,
            "replyAll" => Self::ReplyAll,
            "forward" => Self::Forward,
            _ => Self::New,
        }
    }
}

/// Where a draft is on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum DraftState {
    /// Being written.
    Editing,
    /// Send was pressed: it leaves when the undo window closes.
    Queued,
    /// Handed to the provider; it can no longer be taken back.
    Sending,
    /// The provider has it in Sent.
    Sent,
    /// The provider refused it for good (`error` says why); it is back in
    /// the composer.
    Failed,
}

impl DraftState {
    /// The name stored in `drafts.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Editing => "editing",
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse(stored: &str) -> Option<Self> {
        Some(match stored {
            "editing" => Self::Editing,
            "queued" => Self::Queued,
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A file attached to a draft (its bytes stay in the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DraftAttachment {
    /// Row id.
    #[ts(type = "number")]
    pub id: i64,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    #[ts(type = "number")]
    pub size: i64,
}

/// A message being written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    /// Row id.
    #[ts(type = "number")]
    pub id: DraftId,
    /// The account it is sent from.
    #[ts(type = "number")]
    pub account_id: AccountId,
    /// The sender's address (the account's).
    pub from: String,
    /// What it is written as.
    pub kind: ComposeKind,
    /// The message it answers or forwards, while that is still stored.
    #[ts(type = "number | null")]
    pub source_message_id: Option<MessageId>,
    /// To recipients.
    pub to: Vec<Address>,
    /// Cc recipients.
    pub cc: Vec<Address>,
    /// Bcc recipients.
    pub bcc: Vec<Address>,
    /// Subject.
    pub subject: String,
    /// The body as the editor produced it (sanitised on the way in).
    pub body_html: String,
    /// Files attached.
    pub attachments: Vec<DraftAttachment>,
    /// Where it is on its way out.
    pub state: DraftState,
    /// Why the provider refused it, when it did.
    pub error: Option<String>,
    /// When a queued draft leaves (Unix ms): the end of the undo window.
    #[ts(type = "number | null")]
    pub send_at: Option<i64>,
    /// The `Message-ID` it is sent with.
    pub message_id_header: String,
    /// Whether the provider's Drafts folder has this version.
    pub synced: bool,
    /// Last local change (Unix ms).
    #[ts(type = "number")]
    pub updated_at: i64,
}

/// What the composer saves: every field it edits, as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DraftEdit {
    /// To recipients.
    pub to: Vec<Address>,
    /// Cc recipients.
    pub cc: Vec<Address>,
    /// Bcc recipients.
    pub bcc: Vec<Address>,
    /// Subject.
    pub subject: String,
    /// The editor's HTML.
    pub body_html: String,
}

/// Opening the composer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ComposeRequest {
    /// What to write.
    pub kind: ComposeKind,
    /// The message answered or forwarded (required unless `kind` is new).
    #[ts(type = "number | null")]
    pub message_id: Option<MessageId>,
    /// The account to send from; by default the one the message arrived
    /// at, or the first mail account.
    #[ts(type = "number | null")]
    pub account_id: Option<AccountId>,
}

/// An address the To field suggests, with why it ranks where it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// Display name, when known.
    pub name: Option<String>,
    /// The address.
    pub address: String,
    /// Messages the user sent to it.
    #[ts(type = "number")]
    pub sent: i64,
    /// Messages received from it.
    #[ts(type = "number")]
    pub received: i64,
    /// The last time mail went either way (Unix ms).
    #[ts(type = "number")]
    pub last_seen: i64,
}
