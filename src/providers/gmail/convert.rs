//! Turning Gmail's answers into rows: pure functions, no I/O, run off the
//! async workers because MIME parsing and HTML sanitising are CPU work.

use serde_json::Value;

use super::client::{Label, Message};
use crate::model::{Address, Category};
use crate::providers::mime::{self, ParsedMessage};
use crate::providers::ProviderError;
use crate::store::{NewMessage, NewMessageBody};

/// How much to sync at first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Only mail newer than this many days; `None` for all.
    pub days: Option<u32>,
    /// At most this many messages.
    pub max_messages: usize,
}

impl Window {
    /// The account's own `sync_window_days` (a number or `"all"`) and
    /// `max_messages` where set, else the user's global settings.
    pub fn from_settings(account: &Value, global: &crate::model::Settings) -> Self {
        let days = match &account["sync_window_days"] {
            Value::String(s) if s.eq_ignore_ascii_case("all") => None,
            Value::Number(n) => n
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| *d > 0),
            _ => Some(global.initial_sync_days),
        };
        let global_max = usize::try_from(global.initial_sync_max_messages).unwrap_or(usize::MAX);
        let max_messages = account["max_messages"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(if days.is_none() {
                usize::MAX
            } else {
                global_max
            });
        Self { days, max_messages }
    }
}

/// Which format a message was fetched in.
pub use super::client::Format;

/// A fetched message, ready to write.
#[derive(Debug)]
pub enum Fetched {
    /// Its row, its body when fetched whole, and Gmail's category for it.
    Message {
        /// The row.
        row: Box<NewMessage>,
        /// The body, when fetched whole.
        body: Option<NewMessageBody>,
        /// Gmail's tab.
        category: Option<Category>,
    },
    /// Fetched whole but its MIME is unreadable: its labels are kept, the
    /// headers already stored are not overwritten, and a note stands in for
    /// the body so it is not fetched again every run.
    Unreadable {
        /// A placeholder row, written only when nothing better is stored.
        row: Box<NewMessage>,
        /// The note.
        body: NewMessageBody,
        /// Why.
        reason: String,
    },
    /// Gmail no longer has it.
    Gone(String),
    /// Unusable this time (a malformed answer); retried next run.
    Skipped {
        /// Its id.
        id: String,
        /// Why.
        reason: String,
    },
}

/// Turns one `messages.get` answer into rows. Only faults that should stop
/// the run come back as errors.
pub fn convert(
    account: i64,
    id: &str,
    result: Result<Message, ProviderError>,
    format: Format,
) -> Result<Fetched, ProviderError> {
    let message = match result {
        Ok(m) => m,
        Err(e) if e.status() == Some(404) => return Ok(Fetched::Gone(id.to_owned())),
        Err(
            e @ (ProviderError::Decode { .. }
            | ProviderError::Malformed { .. }
            | ProviderError::TooLarge { .. }),
        ) => {
            return Ok(Fetched::Skipped {
                id: id.to_owned(),
                reason: e.to_string(),
            })
        }
        Err(e) => return Err(e),
    };
    let date_ms = message.internal_date.parse::<i64>().unwrap_or(0);
    let labels = message.label_ids.clone();
    let category = category_of(&labels);
    let (parsed, body) = match format {
        Format::Metadata => {
            let headers: Vec<(String, String)> = message
                .payload
                .as_ref()
                .map(|p| {
                    p.headers
                        .iter()
                        .map(|h| (h.name.clone(), h.value.clone()))
                        .collect()
                })
                .unwrap_or_default();
            match mime::parse_headers(&headers) {
                Ok(p) => (p, None),
                Err(e) => {
                    return Ok(Fetched::Skipped {
                        id: id.to_owned(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        Format::Raw => {
            let raw = message
                .raw
                .as_deref()
                .and_then(super::decode_base64url)
                .unwrap_or_default();
            match mime::parse(&raw) {
                Ok(p) => {
                    let body = NewMessageBody {
                        text: p.text.clone(),
                        html: p.html.clone(),
                        raw_size: raw.len() as i64,
                        attachments: p.attachments.clone(),
                    };
                    (p, Some(body))
                }
                Err(e) => {
                    let placeholder = ParsedMessage {
                        subject: "(This message could not be read)".into(),
                        ..ParsedMessage::default()
                    };
                    let row = row_of(account, &message, &placeholder, &labels, date_ms, None);
                    return Ok(Fetched::Unreadable {
                        row: Box::new(row),
                        body: NewMessageBody {
                            text: Some(format!("This message could not be read ({}).", e.0)),
                            html: None,
                            raw_size: raw.len() as i64,
                            attachments: Vec::new(),
                        },
                        reason: e.to_string(),
                    });
                }
            }
        }
    };
    let row = row_of(account, &message, &parsed, &labels, date_ms, body.as_ref());
    Ok(Fetched::Message {
        row: Box::new(row),
        body,
        category,
    })
}

fn row_of(
    account: i64,
    message: &Message,
    parsed: &ParsedMessage,
    labels: &[String],
    date_ms: i64,
    body: Option<&NewMessageBody>,
) -> NewMessage {
    let snippet = if message.snippet.is_empty() {
        parsed.snippet()
    } else {
        unescape_snippet(&message.snippet)
    };
    NewMessage {
        account_id: account,
        provider_id: message.id.clone(),
        provider_thread_id: Some(message.thread_id.clone()).filter(|t| !t.is_empty()),
        rfc822_message_id: parsed.message_id.clone(),
        in_reply_to: parsed.in_reply_to.clone(),
        subject: parsed.subject.clone(),
        from: parsed.from.clone().or(Some(Address {
            name: None,
            address: String::new(),
        })),
        to: parsed.to.clone(),
        cc: parsed.cc.clone(),
        headers: parsed.headers.clone(),
        date: if date_ms > 0 {
            date_ms
        } else {
            parsed.date_ms.unwrap_or(0)
        },
        snippet,
        unread: labels.iter().any(|l| l == "UNREAD"),
        starred: labels.iter().any(|l| l == "STARRED"),
        has_attachments: body.is_some_and(|b| b.attachments.iter().any(|a| !a.is_inline)),
        size: message.size_estimate,
        folders: labels.iter().filter(|l| *l != "UNREAD").cloned().collect(),
    }
}

/// The category Gmail's own tab labels put a message in.
pub fn category_of(labels: &[String]) -> Option<Category> {
    labels.iter().find_map(|l| match l.as_str() {
        "CATEGORY_PERSONAL" => Some(Category::Primary),
        "CATEGORY_SOCIAL" => Some(Category::Social),
        "CATEGORY_PROMOTIONS" => Some(Category::Promotions),
        "CATEGORY_UPDATES" => Some(Category::Updates),
        "CATEGORY_FORUMS" => Some(Category::Forums),
        _ => None,
    })
}

/// A label's display name and folder role.
pub fn label_name_and_role(label: &Label) -> (String, Option<&'static str>) {
    let (name, role) = match label.id.as_str() {
        "INBOX" => ("Inbox", Some("inbox")),
        "SENT" => ("Sent", Some("sent")),
        "DRAFT" => ("Drafts", Some("drafts")),
        "TRASH" => ("Trash", Some("trash")),
        "SPAM" => ("Spam", Some("spam")),
        "STARRED" => ("Starred", Some("starred")),
        "IMPORTANT" => ("Important", Some("important")),
        "CHAT" => ("Chats", None),
        "UNREAD" => ("Unread", None),
        "CATEGORY_PERSONAL" => ("Primary", Some("category")),
        "CATEGORY_SOCIAL" => ("Social", Some("category")),
        "CATEGORY_PROMOTIONS" => ("Promotions", Some("category")),
        "CATEGORY_UPDATES" => ("Updates", Some("category")),
        "CATEGORY_FORUMS" => ("Forums", Some("category")),
        _ => return (label.name.clone(), None),
    };
    (name.to_owned(), role)
}

/// Gmail's snippets come HTML-escaped; the store keeps text.
pub fn unescape_snippet(s: &str) -> String {
    s.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Settings;

    #[test]
    fn windows_read_from_settings() {
        assert_eq!(
            Window::from_settings(&serde_json::json!({}), &Settings::default()),
            Window {
                days: Some(90),
                max_messages: 10_000
            }
        );
        assert_eq!(
            Window::from_settings(
                &serde_json::json!({"sync_window_days": "all"}),
                &Settings::default()
            ),
            Window {
                days: None,
                max_messages: usize::MAX
            }
        );
        assert_eq!(
            Window::from_settings(
                &serde_json::json!({"sync_window_days": 7, "max_messages": 50}),
                &Settings::default()
            ),
            Window {
                days: Some(7),
                max_messages: 50
            }
        );
    }

    #[test]
    fn tab_labels_map_to_categories() {
        assert_eq!(
            category_of(&["INBOX".into(), "CATEGORY_UPDATES".into()]),
            Some(Category::Updates)
        );
        assert_eq!(category_of(&["INBOX".into()]), None);
    }

    #[test]
    fn snippets_are_unescaped_once() {
        assert_eq!(unescape_snippet("It wasn&#39;t &amp;lt;"), "It wasn't &lt;");
    }

    fn message(raw: &[u8]) -> Message {
        Message {
            id: "m1".into(),
            thread_id: "t1".into(),
            label_ids: vec![
                "INBOX".into(),
                "UNREAD".into(),
                "CATEGORY_PROMOTIONS".into(),
            ],
            snippet: "Hi &amp; bye".into(),
            internal_date: "1700000000000".into(),
            size_estimate: raw.len() as i64,
            payload: None,
            raw: Some(base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE,
                raw,
            )),
        }
    }

    #[test]
    fn a_whole_message_becomes_a_row_with_its_body_and_category() -> Result<(), ProviderError> {
        let raw = b"From: a@example.com\r\nSubject: Sale\r\n\r\nCheap things\r\n";
        let Fetched::Message {
            row,
            body,
            category,
        } = convert(1, "m1", Ok(message(raw)), Format::Raw)?
        else {
            panic!("expected a message");
        };
        assert_eq!(row.subject, "Sale");
        assert!(row.unread);
        assert_eq!(row.folders, ["INBOX", "CATEGORY_PROMOTIONS"]);
        assert_eq!(row.snippet, "Hi & bye");
        assert_eq!(row.date, 1_700_000_000_000);
        assert!(body.is_some_and(|b| b.text.is_some_and(|t| t.contains("Cheap"))));
        assert_eq!(category, Some(Category::Promotions));
        Ok(())
    }

    #[test]
    fn unreadable_mime_keeps_labels_and_explains_itself() -> Result<(), ProviderError> {
        let fetched = convert(1, "m1", Ok(message(b"\xff\xfe garbage")), Format::Raw)?;
        let Fetched::Unreadable { row, body, reason } = fetched else {
            panic!("expected unreadable");
        };
        assert!(row.unread, "labels survive");
        assert!(body.text.is_some_and(|t| t.contains("could not be read")));
        assert!(reason.contains("unreadable"));
        Ok(())
    }

    #[test]
    fn a_vanished_or_malformed_message_is_not_fatal() -> Result<(), ProviderError> {
        let gone = ProviderError::Status {
            service: "Gmail",
            status: 404,
            message: String::new(),
            reason: None,
            retry_after: None,
        };
        assert!(matches!(
            convert(1, "x", Err(gone), Format::Raw)?,
            Fetched::Gone(_)
        ));
        let bad = ProviderError::Malformed {
            service: "Gmail",
            message: "expected value".into(),
        };
        assert!(matches!(
            convert(1, "x", Err(bad), Format::Raw)?,
            Fetched::Skipped { .. }
        ));
        let fatal = ProviderError::Auth("revoked".into());
        assert!(convert(1, "x", Err(fatal), Format::Raw).is_err());
        Ok(())
    }
}
