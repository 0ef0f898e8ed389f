//! Mail as the list and the reading pane show it, and the queries that page
//! through it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AccountId;

/// Row id of a message in the local store.
pub type MessageId = i64;

/// The inbox tabs mail is sorted into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Person-to-person mail and anything not confidently elsewhere.
    Primary,
    /// Social networks.
    Social,
    /// Offers and marketing.
    Promotions,
    /// Receipts, notifications, statements.
    Updates,
    /// Mailing lists and discussion groups.
    Forums,
}

impl Category {
    /// Every category, in tab order.
    pub const ALL: [Category; 5] = [
        Self::Primary,
        Self::Social,
        Self::Promotions,
        Self::Updates,
        Self::Forums,
    ];

    /// The id stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Social => "social",
            Self::Promotions => "promotions",
            Self::Updates => "updates",
            Self::Forums => "forums",
        }
    }

    /// Parses a stored id; `None` for anything else.
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == id)
    }
}

/// A mailbox address with its display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Address {
    /// Display name, when the sender gave one.
    pub name: Option<String>,
    /// The address itself.
    pub address: String,
}

/// Which messages a list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum MailView {
    /// Every mail account together.
    Unified,
    /// One account.
    Account {
        /// The account.
        #[ts(type = "number")]
        account_id: AccountId,
    },
    /// One folder or label.
    Folder {
        /// The folder's row id.
        #[ts(type = "number")]
        folder_id: i64,
    },
    /// One category across all accounts.
    Category {
        /// The category.
        category: Category,
    },
}

/// Keyset position in a newest-first list: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PageCursor {
    /// The row's date, Unix milliseconds.
    #[ts(type = "number")]
    pub date: i64,
    /// The row's id, breaking ties between equal dates.
    #[ts(type = "number")]
    pub id: MessageId,
}

/// A page request for a message list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MessageQuery {
    /// Which messages.
    pub view: MailView,
    /// Start after this row; `None` for the first page.
    pub before: Option<PageCursor>,
    /// At most this many (capped by the service).
    pub limit: u32,
    /// One row per conversation (its newest message, with `threadSize`)
    /// instead of one per message.
    #[serde(default)]
    pub conversations: bool,
}

/// One row of a message list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MessageSummary {
    /// Local row id.
    #[ts(type = "number")]
    pub id: MessageId,
    /// The account it belongs to.
    #[ts(type = "number")]
    pub account_id: AccountId,
    /// Its conversation, when known.
    #[ts(type = "number | null")]
    pub thread_id: Option<i64>,
    /// Subject line (may be empty).
    pub subject: String,
    /// Sender.
    pub from: Address,
    /// Date, Unix milliseconds.
    #[ts(type = "number")]
    pub date: i64,
    /// The start of the body.
    pub snippet: String,
    /// Not yet read.
    pub unread: bool,
    /// Starred or flagged.
    pub starred: bool,
    /// Has at least one non-inline attachment.
    pub has_attachments: bool,
    /// Its category, once categorised.
    pub category: Option<Category>,
    /// The categoriser's confidence, 0 to 1.
    pub category_confidence: Option<f64>,
    /// Messages in its conversation (1 when alone).
    #[ts(type = "number")]
    pub thread_size: i64,
    /// Judged to be spam.
    pub spam: bool,
}

/// A page of a message list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MessagePage {
    /// The rows, newest first.
    pub messages: Vec<MessageSummary>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

/// An attachment's metadata (its bytes stay with the provider until asked for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// Local row id.
    #[ts(type = "number")]
    pub id: i64,
    /// File name as sent.
    pub filename: String,
    /// MIME type as sent.
    pub mime_type: String,
    /// Size in bytes.
    #[ts(type = "number")]
    pub size: i64,
}

// Its `Debug` prints the body as its length.
/// A message as the reading pane shows it.
#[derive(Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MessageDetail {
    /// What the list shows.
    pub summary: MessageSummary,
    /// To recipients.
    pub to: Vec<Address>,
    /// Cc recipients.
    pub cc: Vec<Address>,
    /// Names of the folders or labels it is in.
    pub folders: Vec<String>,
    /// Plain-text body, once fetched.
    pub body_text: Option<String>,
    /// Whether a sanitised HTML body exists (the pane then asks for
    /// `render_message`; otherwise it shows `bodyText`).
    pub html: bool,
    /// Attachments.
    pub attachments: Vec<Attachment>,
}

impl std::fmt::Debug for MessageDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageDetail")
            .field("summary", &self.summary)
            .field("to", &self.to)
            .field("cc", &self.cc)
            .field("folders", &self.folders)
            .field(
                "body_text",
                &crate::secret::BodyLen(self.body_text.as_deref()),
            )
            .field("html", &self.html)
            .field("attachments", &self.attachments)
            .finish()
    }
}

/// A full-text search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SearchQuery {
    /// What the user typed.
    pub text: String,
    /// At most this many results (capped by the service).
    pub limit: u32,
}
