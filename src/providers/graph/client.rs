//! The Microsoft Graph v1.0 mail calls the sync uses, typed, through the
//! shared HTTP discipline. Only the base URL differs between Microsoft and
//! the emulator.
//!
//! Every request asks for immutable ids (`Prefer: IdType="ImmutableId"`),
//! so a message keeps its id when it moves between folders: a move is then
//! one message changing folder, never a deletion and a stranger arriving.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::batch::{self, BatchRequest, BatchResponse};
use crate::providers::http::{Call, CallStats, Credential, Http};
use crate::providers::{AccountLimits, ProviderError};

/// Messages per delta page asked for (`Prefer: odata.maxpagesize`).
pub const DELTA_PAGE: u32 = 100;

/// What the list and the reading pane need of a message: one delta page
/// brings whole messages, bodies included.
pub const MESSAGE_SELECT: &str = "id,conversationId,internetMessageId,subject,from,sender,\
toRecipients,ccRecipients,receivedDateTime,sentDateTime,bodyPreview,isRead,isDraft,flag,\
hasAttachments,body,categories,inferenceClassification,parentFolderId,internetMessageHeaders,\
replyTo";

/// The service name in errors.
pub const SERVICE: &str = "Microsoft Graph";

/// `GET /me`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    /// The primary SMTP address (absent for some accounts).
    #[serde(default)]
    pub mail: Option<String>,
    /// The sign-in name, an address for mailboxes without `mail`.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// The user's name.
    #[serde(default)]
    pub display_name: Option<String>,
}

impl Me {
    /// The mailbox address.
    pub fn address(&self) -> Option<&str> {
        self.mail
            .as_deref()
            .or(self.user_principal_name.as_deref())
            .filter(|a| a.contains('@'))
    }
}

/// A mail folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailFolder {
    /// Its id.
    pub id: String,
    /// What Outlook shows.
    #[serde(default)]
    pub display_name: String,
    /// The folder it sits in.
    #[serde(default)]
    pub parent_folder_id: Option<String>,
    /// Folders inside it.
    #[serde(default)]
    pub child_folder_count: u32,
    /// Hidden folders are not synced.
    #[serde(default)]
    pub is_hidden: bool,
}

#[derive(Debug, Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// One page of a folder's message delta.
#[derive(Debug, Clone, Deserialize)]
pub struct DeltaPage {
    /// Messages (whole) and `@removed` entries.
    #[serde(default)]
    pub value: Vec<Value>,
    /// The next page of this round.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
    /// The end of the round: where the next round starts.
    #[serde(rename = "@odata.deltaLink", default)]
    pub delta_link: Option<String>,
}

/// A Graph client for one mailbox. Cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    http: Http,
    /// `https://graph.microsoft.com/v1.0`.
    root: String,
    credential: Arc<dyn Credential>,
    limits: AccountLimits,
    stats: Arc<CallStats>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// Percent-encodes one path segment or query value (a space as `%20`: in
/// a path, `+` is a plus).
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl GraphClient {
    /// A client for the API at `root` (`https://graph.microsoft.com/v1.0`,
    /// or the emulator's).
    pub fn new(
        http: Http,
        root: &str,
        credential: Arc<dyn Credential>,
        limits: AccountLimits,
        stats: Arc<CallStats>,
    ) -> Self {
        Self {
            http,
            root: root.trim_end_matches('/').to_owned(),
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

    /// The API root this client talks to.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// A call of `url` with the headers every Graph request carries.
    fn call(&self, method: Method, url: String) -> Call {
        let mut call = Call::get(SERVICE, url, 1).header("Prefer", "IdType=\"ImmutableId\"");
        call.method = method;
        call
    }

    /// An absolute URL from a path under `/me`, or a link Graph gave us.
    fn url(&self, path_or_link: &str) -> String {
        if path_or_link.starts_with("http://") || path_or_link.starts_with("https://") {
            path_or_link.to_owned()
        } else {
            format!("{}/me/{}", self.root, path_or_link.trim_start_matches('/'))
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: String) -> Result<T, ProviderError> {
        self.send(self.call(Method::GET, url)).await
    }

    async fn send<T: serde::de::DeserializeOwned>(&self, call: Call) -> Result<T, ProviderError> {
        self.http
            .send_json(&call, self.credential.as_ref(), &self.limits, &self.stats)
            .await
    }

    /// `method` on `path` under `/me` with an optional JSON body; the
    /// answer parsed (an empty one as JSON `null`).
    pub(super) async fn request<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, ProviderError> {
        let mut call = self.call(method.clone(), self.url(path));
        if let Some(body) = body {
            call = call.with_json(method, body);
        }
        self.send(call).await
    }

    /// Whose mailbox this is.
    pub async fn me(&self) -> Result<Me, ProviderError> {
        self.get(format!("{}/me", self.root)).await
    }

    /// Every mail folder (hidden ones left out), parents before children.
    pub async fn folders(&self) -> Result<Vec<MailFolder>, ProviderError> {
        let mut all = Vec::new();
        let mut next = Some(self.url("mailFolders?$top=100"));
        while let Some(url) = next.take() {
            let page: Page<MailFolder> = self.get(url).await?;
            all.extend(page.value.into_iter().filter(|f| !f.is_hidden));
            next = page.next_link;
        }
        // Children, breadth first: parents are always listed before them.
        let mut i = 0;
        while i < all.len() {
            if all[i].child_folder_count > 0 {
                let mut next = Some(self.url(&format!(
                    "mailFolders/{}/childFolders?$top=100",
                    enc(&all[i].id)
                )));
                while let Some(url) = next.take() {
                    let page: Page<MailFolder> = self.get(url).await?;
                    for child in page.value.into_iter().filter(|f| !f.is_hidden) {
                        if !all.iter().any(|f| f.id == child.id) {
                            all.push(child);
                        }
                    }
                    next = page.next_link;
                }
            }
            i += 1;
        }
        Ok(all)
    }

    /// The ids of the well-known folders (`inbox`, `sentitems` ...) this
    /// mailbox has, in one `$batch`.
    pub async fn well_known(
        &self,
        names: &[&'static str],
    ) -> Result<Vec<(&'static str, String)>, ProviderError> {
        let requests: Vec<BatchRequest> = names
            .iter()
            .map(|name| BatchRequest::get(format!("/me/mailFolders/{name}?$select=id")))
            .collect();
        let answers = self.batch(requests).await?;
        let mut found = Vec::new();
        for (name, answer) in names.iter().zip(answers) {
            match answer {
                Ok(BatchResponse { body, .. }) => {
                    if let Some(id) = body["id"].as_str() {
                        found.push((*name, id.to_owned()));
                    }
                }
                // A mailbox without that folder (no Archive yet).
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    /// The `receivedDateTime` of the `n`th newest message of the mailbox
    /// (1-based), or `None` when it holds fewer: where a first sync capped
    /// at `n` messages starts.
    pub async fn nth_newest_date(&self, n: usize) -> Result<Option<String>, ProviderError> {
        let skip = n.saturating_sub(1);
        let page: Page<Value> = self
            .get(self.url(&format!(
                "messages?$select=receivedDateTime&$orderby=receivedDateTime%20desc&$top=1&$skip={skip}"
            )))
            .await?;
        Ok(page
            .value
            .first()
            .and_then(|m| m["receivedDateTime"].as_str())
            .map(str::to_owned))
    }

    /// The first page of a new delta round of `folder`: messages received
    /// at or after `since` (RFC 3339), newest first.
    pub async fn delta_start(
        &self,
        folder: &str,
        since: Option<&str>,
    ) -> Result<DeltaPage, ProviderError> {
        let mut url = self.url(&format!(
            "mailFolders/{}/messages/delta?$select={MESSAGE_SELECT}",
            enc(folder)
        ));
        if let Some(since) = since {
            url.push_str(&format!("&$filter=receivedDateTime%20ge%20{}", enc(since)));
        }
        url.push_str("&$orderby=receivedDateTime%20desc");
        self.delta_page(&url).await
    }

    /// The page a `nextLink` or `deltaLink` points at.
    pub async fn delta_page(&self, link: &str) -> Result<DeltaPage, ProviderError> {
        let call = self
            .call(Method::GET, self.url(link))
            .header("Prefer", format!("odata.maxpagesize={DELTA_PAGE}"));
        self.send(call).await
    }

    /// One message, whole.
    pub async fn message(&self, id: &str) -> Result<Value, ProviderError> {
        self.get(self.url(&format!("messages/{}?$select={MESSAGE_SELECT}", enc(id))))
            .await
    }

    /// Sends up to [`batch::MAX_REQUESTS`] requests as one `$batch`; each
    /// answer is the inner request's outcome. Inner throttling is retried
    /// on its own (see [`batch`]).
    pub async fn batch(
        &self,
        requests: Vec<BatchRequest>,
    ) -> Result<Vec<Result<BatchResponse, ProviderError>>, ProviderError> {
        batch::send(self, requests).await
    }

    /// Posts one `$batch` envelope as it is, holding every request slot of
    /// the mailbox: the inner requests count against its concurrency.
    pub(super) async fn post_batch(&self, body: Value, inner: u32) -> Result<Value, ProviderError> {
        let mut call = self
            .call(Method::POST, format!("{}/$batch", self.root))
            .with_json(Method::POST, body);
        call.cost = inner.max(1);
        call.exclusive = true;
        self.send(call).await
    }

    /// Counts `n` inner requests as retried and holds the account for
    /// `wait` before the next round.
    pub(super) fn retried(&self, n: usize, wait: std::time::Duration) {
        self.stats
            .retries
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        self.limits.pause_for(wait);
    }

    /// A change to one message, as a batch request: read state, flag.
    pub fn patch_request(id: &str, body: Value) -> BatchRequest {
        BatchRequest {
            method: "PATCH",
            url: format!("/me/messages/{}", enc(id)),
            body: Some(body),
        }
    }

    /// A move of one message to `folder` (an id or a well-known name), as a
    /// batch request.
    pub fn move_request(id: &str, folder: &str) -> BatchRequest {
        BatchRequest {
            method: "POST",
            url: format!("/me/messages/{}/move", enc(id)),
            body: Some(json!({ "destinationId": folder })),
        }
    }

    /// A read of one message, as a batch request.
    pub fn get_request(id: &str) -> BatchRequest {
        BatchRequest::get(format!("/me/messages/{}?$select={MESSAGE_SELECT}", enc(id)))
    }
}
