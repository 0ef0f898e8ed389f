//! Turning Graph's answers into changes to write: pure functions, no I/O,
//! run off the async workers because HTML sanitising is CPU work.
//!
//! A message is one row whatever folder it is in: its folder is
//! `parentFolderId`, its Outlook categories are labels (folder rows whose
//! provider ids are `category:<name>`), its flag is the star.
//! `inferenceClassification` is a weak signal for the categoriser: Focused
//! mail is what Outlook thinks the user reads, Ember's Primary; "Other" is
//! noted in the header bag (`X-Ember-Inference: other`) and keeps Primary
//! out of the categoriser's choice (see [`crate::classify`]).

use serde_json::Value;

use super::client::MailFolder;
use crate::model::{Address, Category};
use crate::providers::mime;
use crate::store::{NewFolder, NewMessage, NewMessageBody};
use crate::sync::Change;

/// The header the "Other" inbox signal is recorded under.
pub use crate::classify::records::INFERENCE_HEADER;

/// Provider ids of Outlook categories start with this.
pub const CATEGORY_PREFIX: &str = "category:";

/// Graph's well-known folder names and the roles Ember gives them.
pub const WELL_KNOWN: [(&str, &str); 6] = [
    ("inbox", "inbox"),
    ("sentitems", "sent"),
    ("drafts", "drafts"),
    ("deleteditems", "trash"),
    ("archive", "archive"),
    ("junkemail", "spam"),
];

/// A folder as a folder row; `role` from the well-known ids, and no parent
/// when it sits at the mailbox's top.
pub fn folder_of(folder: &MailFolder, roles: &[(&str, String)], known: &[String]) -> NewFolder {
    let role = roles
        .iter()
        .find(|(_, id)| *id == folder.id)
        .and_then(|(name, _)| WELL_KNOWN.iter().find(|(n, _)| n == name))
        .map(|(_, role)| *role);
    NewFolder {
        provider_id: folder.id.clone(),
        name: folder.display_name.clone(),
        role,
        parent: folder
            .parent_folder_id
            .clone()
            .filter(|p| known.contains(p)),
    }
}

/// The folder row of an Outlook category.
pub fn category_folder(name: &str) -> NewFolder {
    NewFolder {
        provider_id: format!("{CATEGORY_PREFIX}{name}"),
        name: name.to_owned(),
        role: None,
        parent: None,
    }
}

/// Whether a delta entry is a removal (`@removed`).
pub fn is_removed(entry: &Value) -> bool {
    entry.get("@removed").is_some()
}

/// Outlook categories of a message.
pub fn categories_of(message: &Value) -> Vec<String> {
    message["categories"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn address(value: &Value) -> Option<Address> {
    let e = &value["emailAddress"];
    let address = e["address"].as_str()?.trim().to_owned();
    if address.is_empty() {
        return None;
    }
    Some(Address {
        name: e["name"]
            .as_str()
            .map(str::trim)
            .filter(|n| !n.is_empty() && *n != address)
            .map(str::to_owned),
        address,
    })
}

fn addresses(value: &Value) -> Vec<Address> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(address).collect())
        .unwrap_or_default()
}

/// Graph's `2026-05-04T09:23:10Z` as Unix milliseconds.
pub fn parse_date(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Unix milliseconds as Graph writes dates.
pub fn format_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The changes one delta page of `folder` asks for, in page order: an
/// `@removed` entry takes the message out of the folder, a message resource
/// becomes its row; entries without an id are passed over.
pub fn page_changes(account: i64, folder: &str, entries: &[Value]) -> Vec<Change> {
    entries
        .iter()
        .filter_map(|entry| {
            if is_removed(entry) {
                entry["id"].as_str().map(|id| Change::LeaveFolder {
                    provider_id: id.to_owned(),
                    folder: folder.to_owned(),
                })
            } else {
                message_change(account, entry)
            }
        })
        .collect()
}

/// One message resource as the change to write. `None` when it has no id
/// (nothing can be done with it).
pub fn message_change(account: i64, message: &Value) -> Option<Change> {
    let id = message["id"].as_str().filter(|id| !id.is_empty())?;
    let mut headers = serde_json::Map::new();
    let mut in_reply_to = None;
    if let Some(list) = message["internetMessageHeaders"].as_array() {
        for header in list {
            let (Some(name), Some(value)) = (header["name"].as_str(), header["value"].as_str())
            else {
                continue;
            };
            // The first of a repeated header is kept, as from raw MIME: the
            // topmost Authentication-Results is the provider's own.
            if let Some(kept) = mime::KEPT_HEADERS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(name))
            {
                headers
                    .entry((*kept).to_owned())
                    .or_insert_with(|| Value::String(value.trim().to_owned()));
            }
            if name.eq_ignore_ascii_case("In-Reply-To") {
                in_reply_to = Some(value.trim().to_owned());
            }
        }
    }
    if !headers.contains_key("Reply-To") {
        let reply_to: Vec<String> = message["replyTo"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let address = r["emailAddress"]["address"].as_str()?;
                Some(match r["emailAddress"]["name"].as_str() {
                    Some(name) if !name.is_empty() => {
                        format!("\"{}\" <{address}>", name.replace('"', "'"))
                    }
                    _ => address.to_owned(),
                })
            })
            .collect();
        if !reply_to.is_empty() {
            headers.insert("Reply-To".into(), Value::String(reply_to.join(", ")));
        }
    }
    let focused = message["inferenceClassification"].as_str();
    if focused.is_some_and(|f| f.eq_ignore_ascii_case("other")) {
        headers.insert(INFERENCE_HEADER.to_owned(), Value::String("other".into()));
    }
    let body = body_of(message);
    let categories = categories_of(message);
    let mut folders: Vec<String> = message["parentFolderId"]
        .as_str()
        .map(|f| vec![f.to_owned()])
        .unwrap_or_default();
    folders.extend(categories.iter().map(|c| format!("{CATEGORY_PREFIX}{c}")));
    let snippet = message["bodyPreview"]
        .as_str()
        .map(mime::snippet_of)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| mime::snippet_of(body.text.as_deref().unwrap_or_default()));
    let date = message["receivedDateTime"]
        .as_str()
        .and_then(parse_date)
        .or_else(|| message["sentDateTime"].as_str().and_then(parse_date))
        .unwrap_or(0);
    let row = NewMessage {
        account_id: account,
        provider_id: id.to_owned(),
        provider_thread_id: message["conversationId"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        rfc822_message_id: message["internetMessageId"].as_str().map(str::to_owned),
        in_reply_to,
        subject: message["subject"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        from: address(&message["from"])
            .or_else(|| address(&message["sender"]))
            .or(Some(Address {
                name: None,
                address: String::new(),
            })),
        to: addresses(&message["toRecipients"]),
        cc: addresses(&message["ccRecipients"]),
        headers,
        date,
        snippet,
        unread: !message["isRead"].as_bool().unwrap_or(true),
        starred: message["flag"]["flagStatus"].as_str() == Some("flagged"),
        has_attachments: message["hasAttachments"].as_bool().unwrap_or(false),
        size: body.raw_size,
        folders,
    };
    let category = focused
        .filter(|f| f.eq_ignore_ascii_case("focused"))
        .map(|_| Category::Primary);
    Some(Change::Message {
        row: Box::new(row),
        body: Some(Box::new(body)),
        category,
    })
}

/// The body: HTML sanitised (and its text for search and the categoriser),
/// or text as it is.
fn body_of(message: &Value) -> NewMessageBody {
    let content = message["body"]["content"].as_str().unwrap_or_default();
    let html = message["body"]["contentType"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("html"));
    let raw_size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    if content.is_empty() {
        return NewMessageBody {
            raw_size,
            ..NewMessageBody::default()
        };
    }
    if html {
        NewMessageBody {
            text: Some(mime::clip(&mail_parser::decoders::html::html_to_text(
                content,
            ))),
            html: Some(mime::sanitise_html(content)),
            raw_size,
            attachments: Vec::new(),
        }
    } else {
        NewMessageBody {
            text: Some(mime::clip(content)),
            html: None,
            raw_size,
            attachments: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "id": "AAMkAGI2-1",
            "conversationId": "AAQkAGI2-c",
            "internetMessageId": "<m1@example.org>",
            "subject": " Quarterly report ",
            "from": {"emailAddress": {"name": "Ada", "address": "ada@example.org"}},
            "toRecipients": [{"emailAddress": {"name": "me@example.com", "address": "me@example.com"}}],
            "ccRecipients": [],
            "receivedDateTime": "2026-05-04T09:23:10Z",
            "bodyPreview": "Numbers\r\nattached",
            "isRead": false,
            "flag": {"flagStatus": "flagged"},
            "hasAttachments": true,
            "body": {"contentType": "html", "content": "<p onclick=\"x()\">Numbers <script>alert(1)</script>attached</p>"},
            "categories": ["Blue", " "],
            "inferenceClassification": "other",
            "parentFolderId": "inbox-id",
            "internetMessageHeaders": [
                {"name": "List-Id", "value": "<reports.example.org>"},
                {"name": "In-Reply-To", "value": "<m0@example.org>"}
            ]
        })
    }

    #[test]
    fn a_message_resource_becomes_a_row_with_a_sanitised_body() {
        let Some(Change::Message {
            row,
            body,
            category,
        }) = message_change(3, &sample())
        else {
            panic!("expected a message");
        };
        assert_eq!(row.subject, "Quarterly report");
        assert_eq!(row.provider_thread_id.as_deref(), Some("AAQkAGI2-c"));
        assert!(row.unread && row.starred && row.has_attachments);
        assert_eq!(row.date, 1_777_886_590_000);
        assert_eq!(row.folders, ["inbox-id", "category:Blue"]);
        assert_eq!(
            row.to[0].name, None,
            "a name that is the address is dropped"
        );
        assert_eq!(row.in_reply_to.as_deref(), Some("<m0@example.org>"));
        assert_eq!(row.headers["List-Id"], "<reports.example.org>");
        assert_eq!(row.headers[INFERENCE_HEADER], "other");
        assert_eq!(row.snippet, "Numbers attached");
        assert_eq!(category, None, "Other is no category of its own");
        let body = body.unwrap_or_default();
        let html = body.html.unwrap_or_default();
        assert!(
            !html.contains("script") && !html.contains("onclick"),
            "{html}"
        );
        assert!(body.text.unwrap_or_default().contains("Numbers"));
    }

    #[test]
    fn focused_mail_is_primary_and_odd_shapes_do_not_panic() {
        let mut m = sample();
        m["inferenceClassification"] = json!("focused");
        assert!(matches!(
            message_change(1, &m),
            Some(Change::Message {
                category: Some(Category::Primary),
                ..
            })
        ));
        assert!(message_change(1, &json!({})).is_none());
        assert!(message_change(1, &json!({"id": 5})).is_none());
        let bare = message_change(1, &json!({"id": "x", "body": null, "from": "nobody"}));
        assert!(matches!(bare, Some(Change::Message { .. })));
    }

    #[test]
    fn dates_round_trip() {
        let ms = parse_date("2026-05-04T09:23:10Z").unwrap_or_default();
        assert_eq!(format_date(ms), "2026-05-04T09:23:10Z");
        assert_eq!(parse_date("yesterday"), None);
    }
}
