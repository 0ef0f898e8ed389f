//! Turning Gmail's answers into rows: pure functions, no I/O, run off the
//! async workers because MIME parsing and HTML sanitising are CPU work.

use super::client::{Label, Message};
use crate::model::{Address, Category};
use crate::providers::mime::{self, ParsedMessage};
use crate::providers::ProviderError;
use crate::store::{FlagChange, NewFolder, NewMessage, NewMessageBody};
use crate::sync::Change;

/// Which format a message was fetched in.
pub use super::client::Format;

/// Turns one `messages.get` answer into the change to write: the message
/// (with its body when fetched whole), a note standing in for an unreadable
/// body (so it is not fetched again every run), a deletion (Gmail no longer
/// has it), or a skip (a malformed answer, retried next run). Only faults
/// that should stop the run come back as errors.
pub fn convert(
    account: i64,
    id: &str,
    result: Result<Message, ProviderError>,
    format: Format,
) -> Result<Change, ProviderError> {
    let message = match result {
        Ok(m) => m,
        Err(e) if e.status() == Some(404) => return Ok(Change::Delete(id.to_owned())),
        Err(
            e @ (ProviderError::Decode { .. }
            | ProviderError::Malformed { .. }
            | ProviderError::TooLarge { .. }),
        ) => {
            return Ok(Change::Skip {
                provider_id: id.to_owned(),
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
                    return Ok(Change::Skip {
                        provider_id: id.to_owned(),
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
                    return Ok(Change::Unreadable {
                        row: Box::new(row),
                        body: Box::new(NewMessageBody {
                            text: Some(format!("This message could not be read ({}).", e.0)),
                            html: None,
                            raw_size: raw.len() as i64,
                            attachments: Vec::new(),
                        }),
                        reason: e.to_string(),
                    });
                }
            }
        }
    };
    let row = row_of(account, &message, &parsed, &labels, date_ms, body.as_ref());
    Ok(Change::Message {
        row: Box::new(row),
        body: body.map(Box::new),
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

/// A message's new label list as flags and folders: `UNREAD` and
/// `STARRED` are flags (starred mail is also in the Starred label).
pub fn flags_of(provider_id: &str, labels: &[String]) -> FlagChange {
    FlagChange {
        provider_id: provider_id.to_owned(),
        folders: labels.iter().filter(|l| *l != "UNREAD").cloned().collect(),
        unread: labels.iter().any(|l| l == "UNREAD"),
        starred: labels.iter().any(|l| l == "STARRED"),
        category: category_of(labels),
    }
}

/// A label as a folder row.
pub fn folder_of(label: &Label) -> NewFolder {
    let (name, role) = label_name_and_role(label);
    NewFolder {
        provider_id: label.id.clone(),
        name,
        role,
        parent: None,
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
        "CHAT" => ("Chats", Some("other")),
        "UNREAD" => ("Unread", Some("other")),
        "CATEGORY_PERSONAL" => ("Primary", Some("category")),
        "CATEGORY_SOCIAL" => ("Social", Some("category")),
        "CATEGORY_PROMOTIONS" => ("Promotions", Some("category")),
        "CATEGORY_UPDATES" => ("Updates", Some("category")),
        "CATEGORY_FORUMS" => ("Forums", Some("category")),
        // Any other system label is Gmail's, not one the user files in.
        _ if label.kind.as_deref() == Some("system") => return (label.name.clone(), Some("other")),
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

    #[test]
    fn only_the_users_own_labels_are_labels_mail_can_be_filed_in() {
        let label = |id: &str, name: &str, kind: &str| Label {
            id: id.into(),
            name: name.into(),
            kind: Some(kind.into()),
        };
        let role = |l: &Label| label_name_and_role(l).1;
        assert_eq!(role(&label("Label_3", "Receipts", "user")), None);
        assert_eq!(role(&label("CHAT", "CHAT", "system")), Some("other"));
        assert_eq!(role(&label("UNREAD", "UNREAD", "system")), Some("other"));
        // A system label Gmail adds one day is not mistaken for the user's.
        assert_eq!(
            role(&label("YELLOW_STAR", "YELLOW_STAR", "system")),
            Some("other")
        );
        assert_eq!(role(&label("INBOX", "INBOX", "system")), Some("inbox"));
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
        let Change::Message {
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
        let Change::Unreadable { row, body, reason } = fetched else {
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
            Change::Delete(_)
        ));
        let bad = ProviderError::Malformed {
            service: "Gmail",
            message: "expected value".into(),
        };
        assert!(matches!(
            convert(1, "x", Err(bad), Format::Raw)?,
            Change::Skip { .. }
        ));
        let fatal = ProviderError::Auth("revoked".into());
        assert!(convert(1, "x", Err(fatal), Format::Raw).is_err());
        Ok(())
    }
}
