//! Gmail: the API client, the planning of changes, and the sync source.

pub mod client;
pub mod convert;
pub mod drafts;
pub mod plan;
mod run;
mod source;

use base64::Engine as _;

pub use run::{HISTORY_CURSOR, RETRY_CURSOR};
pub use source::GmailSource;

/// Decodes Gmail's base64url (padded or not).
pub fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim().trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(trimmed)
        .ok()
}
