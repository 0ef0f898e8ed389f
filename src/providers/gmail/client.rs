//! The Gmail API v1 calls the sync uses, typed, through the shared HTTP
//! discipline. Only the base URL differs between Google and the emulator.

use std::sync::Arc;

use serde::Deserialize;

use crate::providers::http::{Call, CallStats, Credential, Http};
use crate::providers::{AccountLimits, ProviderError};

/// Google's API host.
pub const GOOGLE_API_BASE: &str = "https://gmail.googleapis.com";

/// Quota units per call, as Google documents them.
pub mod cost {
    /// users.getProfile, labels.list.
    pub const SMALL: u32 = 1;
    /// history.list.
    pub const HISTORY: u32 = 2;
    /// messages.list, messages.get, messages.trash.
    pub const MESSAGE: u32 = 5;
    /// messages.batchModify.
    pub const BATCH_MODIFY: u32 = 50;
}

/// `users.getProfile`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The mailbox address.
    pub email_address: String,
    /// The mailbox's current history id.
    pub history_id: String,
}

/// A label.
#[derive(Debug, Clone, Deserialize)]
pub struct Label {
    /// Its id (`INBOX`, `Label_3`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// `system` or `user`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Labels {
    #[serde(default)]
    labels: Vec<Label>,
}

/// A message reference in a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    /// Message id.
    pub id: String,
    /// Thread id.
    #[serde(default)]
    pub thread_id: String,
}

/// A page of `messages.list`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage {
    /// The ids.
    #[serde(default)]
    pub messages: Vec<MessageRef>,
    /// The next page, if any.
    pub next_page_token: Option<String>,
}

/// A header.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// The part of a payload the sync reads (headers, for `format=metadata`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Payload {
    /// Headers in wire order.
    #[serde(default)]
    pub headers: Vec<Header>,
}

/// `messages.get` in `metadata` or `raw` format.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Message id.
    pub id: String,
    /// Thread id.
    #[serde(default)]
    pub thread_id: String,
    /// Labels.
    #[serde(default)]
    pub label_ids: Vec<String>,
    /// Snippet (HTML-escaped by Gmail).
    #[serde(default)]
    pub snippet: String,
    /// Received, Unix ms as a string.
    #[serde(default)]
    pub internal_date: String,
    /// Size in bytes.
    #[serde(default)]
    pub size_estimate: i64,
    /// Headers (`format=metadata`).
    pub payload: Option<Payload>,
    /// The whole message, base64url (`format=raw`).
    pub raw: Option<String>,
}

/// A message inside a history record.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryMessage {
    /// Message id.
    pub id: String,
    /// Labels after the change, when given.
    pub label_ids: Option<Vec<String>>,
}

/// `{"message": ...}` entries of a history record.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryEntry {
    /// The message.
    pub message: HistoryMessage,
}

/// One history record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRecord {
    /// Its id.
    #[serde(default)]
    pub id: String,
    /// Messages added.
    #[serde(default)]
    pub messages_added: Vec<HistoryEntry>,
    /// Messages deleted.
    #[serde(default)]
    pub messages_deleted: Vec<HistoryEntry>,
    /// Labels added.
    #[serde(default)]
    pub labels_added: Vec<HistoryEntry>,
    /// Labels removed.
    #[serde(default)]
    pub labels_removed: Vec<HistoryEntry>,
}

/// A page of `history.list`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// The records.
    #[serde(default)]
    pub history: Vec<HistoryRecord>,
    /// The mailbox's current history id.
    pub history_id: String,
    /// The next page, if any.
    pub next_page_token: Option<String>,
}

/// Message formats the sync fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Headers and labels.
    Metadata,
    /// The whole RFC 822 message.
    Raw,
}

/// A Gmail client for one account.
#[derive(Clone)]
pub struct GmailClient {
    http: Http,
    api: String,
    credential: Arc<dyn Credential>,
    limits: AccountLimits,
    stats: Arc<CallStats>,
}

impl std::fmt::Debug for GmailClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GmailClient")
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl GmailClient {
    /// A client for the API at `base` (Google's, or the emulator's).
    pub fn new(
        http: Http,
        base: &str,
        credential: Arc<dyn Credential>,
        limits: AccountLimits,
        stats: Arc<CallStats>,
    ) -> Self {
        Self {
            http,
            api: format!("{}/gmail/v1/users/me", base.trim_end_matches('/')),
            credential,
            limits,
            stats,
        }
    }

    /// The same client, counting its requests into `stats`.
    pub fn with_stats(&self, stats: Arc<CallStats>) -> Self {
        Self {
            stats,
            ..self.clone()
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        cost: u32,
    ) -> Result<T, ProviderError> {
        let call = Call::get("Gmail", format!("{}/{path}", self.api), cost);
        self.http
            .send_json(&call, self.credential.as_ref(), &self.limits, &self.stats)
            .await
    }

    async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
        cost: u32,
    ) -> Result<(), ProviderError> {
        let call = Call {
            method: reqwest::Method::POST,
            json: Some(body),
            ..Call::get("Gmail", format!("{}/{path}", self.api), cost)
        };
        self.http
            .send(&call, self.credential.as_ref(), &self.limits, &self.stats)
            .await
            .map(drop)
    }

    /// Sends a call built by [`GmailClient::call`] and parses its answer.
    pub(super) async fn send_call<T: serde::de::DeserializeOwned>(
        &self,
        call: &Call,
    ) -> Result<T, ProviderError> {
        self.http
            .send_json(call, self.credential.as_ref(), &self.limits, &self.stats)
            .await
    }

    /// A call of `path` under `users/me` (`upload` puts it under the media
    /// upload root Google uses for large bodies).
    pub(super) fn call(&self, path: &str, upload: bool, cost: u32) -> Call {
        let base = if upload {
            self.api.replacen("/gmail/v1/", "/upload/gmail/v1/", 1)
        } else {
            self.api.clone()
        };
        Call::get("Gmail", format!("{base}/{path}"), cost)
    }

    /// Adds and removes labels on up to 1,000 messages at once.
    pub async fn batch_modify(
        &self,
        ids: &[String],
        add: &[&str],
        remove: &[&str],
    ) -> Result<(), ProviderError> {
        let body = serde_json::json!({
            "ids": ids,
            "addLabelIds": add,
            "removeLabelIds": remove,
        });
        self.post("messages/batchModify", body, cost::BATCH_MODIFY)
            .await
    }

    /// Moves one message to the trash.
    pub async fn trash(&self, id: &str) -> Result<(), ProviderError> {
        self.post(
            &format!("messages/{}/trash", enc(id)),
            serde_json::json!({}),
            cost::MESSAGE,
        )
        .await
    }

    /// The mailbox's address and current history id.
    pub async fn profile(&self) -> Result<Profile, ProviderError> {
        self.get("profile", cost::SMALL).await
    }

    /// Every label.
    pub async fn labels(&self) -> Result<Vec<Label>, ProviderError> {
        Ok(self.get::<Labels>("labels", cost::SMALL).await?.labels)
    }

    /// One page of message ids, newest first.
    pub async fn list(
        &self,
        q: Option<&str>,
        page_token: Option<&str>,
        max: u32,
    ) -> Result<ListPage, ProviderError> {
        let mut path = format!("messages?maxResults={max}&includeSpamTrash=true");
        if let Some(q) = q {
            path.push_str(&format!("&q={}", enc(q)));
        }
        if let Some(t) = page_token {
            path.push_str(&format!("&pageToken={}", enc(t)));
        }
        self.get(&path, cost::MESSAGE).await
    }

    /// One message.
    pub async fn message(&self, id: &str, format: Format) -> Result<Message, ProviderError> {
        let path = match format {
            Format::Metadata => format!("messages/{}?format=metadata", enc(id)),
            Format::Raw => format!("messages/{}?format=raw", enc(id)),
        };
        self.get(&path, cost::MESSAGE).await
    }

    /// One page of history after `start`.
    pub async fn history(
        &self,
        start: &str,
        page_token: Option<&str>,
    ) -> Result<HistoryPage, ProviderError> {
        let mut path = format!("history?startHistoryId={}&maxResults=500", enc(start));
        if let Some(t) = page_token {
            path.push_str(&format!("&pageToken={}", enc(t)));
        }
        self.get(&path, cost::HISTORY).await
    }
}
