//! What a message becomes before it leaves: the reply or forward a draft
//! starts as (recipients, subject, quoted original, threading headers),
//! the plain-text alternative of the editor's HTML, the MIME the providers
//! are handed, and the size limits checked before anything is sent.
//!
//! Pure functions over model types: no store, no network. The service
//! uses them to open the composer; the providers use them to build what
//! they upload.

mod input;
mod limits;
mod mime;
mod quote;
mod text;

pub use input::{parse_recipients, text_to_html};
pub use limits::{check_size, SizeLimits};
pub use mime::{build_mime, valid_address, Outgoing, OutgoingAttachment};
pub use quote::{
    attribution, escape, forward_subject, new_message_id, quote_html, references_of,
    reply_recipients, reply_subject, signature_html, Original,
};
pub use text::plain_text;

/// Why a message cannot be built or sent as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// Nobody to send it to.
    #[error("add at least one recipient")]
    NoRecipients,
    /// An address that is not one.
    #[error("{0:?} is not an email address")]
    BadAddress(String),
    /// Over the provider's limit.
    #[error("{0}")]
    TooLarge(String),
    /// The MIME writer failed (it writes to memory, so this is a bug).
    #[error("the message could not be built: {0}")]
    Build(String),
}
