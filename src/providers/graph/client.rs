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

/// The most folders a run lists and syncs. Each costs a delta request
/// every run, so 500 folders at the default five-minute interval spend a
/// tenth of Graph's 10,000 requests per ten minutes.
pub const MAX_FOLDERS: usize = 500;

/// The deepest level of the folder tree a run lists (1 is the top level).
/// Exchange allows far deeper trees; a sidebar past 16 levels is no use.
pub const MAX_FOLDER_DEPTH: usize = 16;

/// What a run needs of a folder.
const FOLDER_SELECT: &str = "id,displayName,parentFolderId,childFolderCount,isHidden";

/// The folder tree as it is listed: each folder with its depth, and what
/// the bounds left out.
#[derive(Debug, Default)]
struct Tree {
    folders: Vec<(MailFolder, usize)>,
    /// Folders past [`MAX_FOLDERS`].
    left_out: usize,
    /// Folders at [`MAX_FOLDER_DEPTH`] whose children were not listed.
    too_deep: usize,
}

impl Tree {
    /// Adds one page of folders at `level`: hidden ones and ones already
    /// listed skipped, none past [`MAX_FOLDERS`].
    fn add(&mut self, page: Vec<MailFolder>, level: usize) {
        for folder in page.into_iter().filter(|f| !f.is_hidden) {
            if self.folders.iter().any(|(f, _)| f.id == folder.id) {
                continue;
            }
            if self.folders.len() >= MAX_FOLDERS {
                self.left_out += 1;
                continue;
            }
            self.folders.push((folder, level));
        }
    }
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

    /// The mail folder tree (hidden folders left out), parents before
    /// children: the top level, then each folder's `childFolders`, breadth
    /// first, at most [`MAX_FOLDER_DEPTH`] levels deep and [`MAX_FOLDERS`]
    /// in all. What lies beyond the bounds is left out, with a warning.
    pub async fn folders(&self) -> Result<Vec<MailFolder>, ProviderError> {
        let mut tree = Tree::default();
        let mut next = Some(self.url(&format!("mailFolders?$top=100&$select={FOLDER_SELECT}")));
        while let Some(url) = next.take() {
            let page: Page<MailFolder> = self.get(url).await?;
            tree.add(page.value, 1);
            next = page.next_link;
        }
        let mut i = 0;
        while i < tree.folders.len() {
            let (folder, level) = &tree.folders[i];
            if folder.child_folder_count > 0 && *level >= MAX_FOLDER_DEPTH {
                tree.too_deep += 1;
            } else if folder.child_folder_count > 0 {
                let level = *level;
                let mut next = Some(self.url(&format!(
                    "mailFolders/{}/childFolders?$top=100&$select={FOLDER_SELECT}",
                    enc(&folder.id)
                )));
                while let Some(url) = next.take() {
                    let page: Page<MailFolder> = self.get(url).await?;
                    tree.add(page.value, level + 1);
                    next = page.next_link;
                }
            }
            i += 1;
        }
        if tree.left_out > 0 || tree.too_deep > 0 {
            tracing::warn!(
                left_out = tree.left_out,
                too_deep = tree.too_deep,
                "{SERVICE}: the folder tree is larger than Ember syncs \
                 ({MAX_FOLDERS} folders, {MAX_FOLDER_DEPTH} levels); the rest is left out"
            );
        }
        Ok(tree.folders.into_iter().map(|(f, _)| f).collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(id: &str, hidden: bool) -> MailFolder {
        MailFolder {
            id: id.into(),
            display_name: id.into(),
            parent_folder_id: None,
            child_folder_count: 0,
            is_hidden: hidden,
        }
    }

    #[test]
    fn the_tree_skips_hidden_and_repeated_folders_and_stops_at_its_bound() {
        let mut tree = Tree::default();
        tree.add(vec![folder("a", false), folder("h", true)], 1);
        tree.add(vec![folder("a", false), folder("b", false)], 2);
        let listed: Vec<(&str, usize)> = tree
            .folders
            .iter()
            .map(|(f, level)| (f.id.as_str(), *level))
            .collect();
        assert_eq!(listed, [("a", 1), ("b", 2)]);
        let many = (0..MAX_FOLDERS + 7)
            .map(|i| folder(&format!("f{i}"), false))
            .collect();
        tree.add(many, 3);
        assert_eq!(tree.folders.len(), MAX_FOLDERS);
        assert_eq!(
            tree.left_out, 9,
            "the two listed first count against the bound"
        );
    }
}
