//! The Azure DevOps REST 7.1 calls Ember makes, typed, through the shared
//! HTTP discipline. Only the host differs between Azure DevOps and the
//! emulator.
//!
//! Azure DevOps slows a client before it throttles it: answers carry
//! `X-RateLimit-Remaining` and, when it is delaying requests,
//! `X-RateLimit-Delay`. The client reads them and holds the whole account
//! for the delay, so a sync eases off before it meets a 429.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::providers::http::{Call, CallStats, Credential, Http};
use crate::providers::{AccountLimits, ProviderError};

/// Azure DevOps' REST host.
pub const ADO_API_BASE: &str = "https://dev.azure.com";

/// The service name in errors.
pub const SERVICE: &str = "Azure DevOps";

/// The REST version every call asks for.
pub const API_VERSION: &str = "7.1";

/// The version of the comments API (still a preview in 7.1).
pub const COMMENTS_VERSION: &str = "7.1-preview.4";

/// Work items per `workitemsbatch` request (the service's limit).
pub const BATCH_IDS: usize = 200;

/// The fields the pane shows, and no more.
pub const FIELDS: [&str; 14] = [
    "System.Id",
    "System.Rev",
    "System.WorkItemType",
    "System.Title",
    "System.State",
    "System.AssignedTo",
    "System.CreatedBy",
    "System.ChangedDate",
    "System.TeamProject",
    "System.IterationPath",
    "System.Description",
    "System.CommentCount",
    "Microsoft.VSTS.Common.Priority",
    "System.Tags",
];

/// A project of the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Project {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

#[derive(Debug, Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct WiqlAnswer {
    #[serde(rename = "workItems", default)]
    work_items: Vec<WiqlItem>,
}

#[derive(Debug, Deserialize)]
struct WiqlItem {
    id: i64,
}

/// A saved query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    /// Its id.
    pub id: String,
    /// Its path (`Shared Queries/Active bugs`).
    pub path: String,
    /// Its project.
    pub project: String,
}

/// A client of one organisation. Cheap to clone.
#[derive(Clone)]
pub struct AdoClient {
    http: Http,
    /// `https://dev.azure.com/{organisation}`.
    org: String,
    credential: Arc<dyn Credential>,
    limits: AccountLimits,
    stats: Arc<CallStats>,
}

impl std::fmt::Debug for AdoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdoClient")
            .field("org", &self.org)
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

impl AdoClient {
    /// A client of `organization` at `host` (Azure DevOps, or a stand-in).
    pub fn new(
        http: Http,
        host: &str,
        organization: &str,
        credential: Arc<dyn Credential>,
        limits: AccountLimits,
        stats: Arc<CallStats>,
    ) -> Self {
        Self {
            http,
            org: format!("{}/{}", host.trim_end_matches('/'), enc(organization)),
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

    /// Requests made with this client's statistics.
    pub fn stats(&self) -> &CallStats {
        &self.stats
    }

    fn url(&self, path: &str, version: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}/{path}{sep}api-version={version}", self.org)
    }

    async fn send<T: serde::de::DeserializeOwned>(&self, call: Call) -> Result<T, ProviderError> {
        let (value, headers) = self
            .http
            .send_json_with_headers::<T>(&call, self.credential.as_ref(), &self.limits, &self.stats)
            .await?;
        self.ease_off(&headers);
        Ok(value)
    }

    /// Holds the account for the delay Azure DevOps asks for as it nears
    /// its limit (`X-RateLimit-Delay`, seconds; capped like Retry-After).
    fn ease_off(&self, headers: &reqwest::header::HeaderMap) {
        let delay = headers
            .get("x-ratelimit-delay")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Duration::from_secs_f64(s.min(crate::providers::http::MAX_WAIT_SECS)));
        if let Some(delay) = delay {
            tracing::info!(org = %self.org, ?delay, "Azure DevOps asks us to slow down");
            self.limits.pause_for(delay);
        }
    }

    /// The organisation's projects (every page).
    pub async fn projects(&self) -> Result<Vec<Project>, ProviderError> {
        let mut all = Vec::new();
        let mut skip = 0usize;
        loop {
            let call = Call::get(
                SERVICE,
                self.url(
                    &format!("_apis/projects?$top=100&$skip={skip}"),
                    API_VERSION,
                ),
                1,
            );
            let page: List<Project> = self.send(call).await?;
            let n = page.value.len();
            all.extend(page.value);
            if n < 100 {
                return Ok(all);
            }
            skip += n;
        }
    }

    /// The ids a WIQL query selects, across the organisation's projects,
    /// with times compared to the millisecond.
    pub async fn wiql(&self, query: &str) -> Result<Vec<i64>, ProviderError> {
        let call = Call::get(
            SERVICE,
            self.url("_apis/wit/wiql?timePrecision=true", API_VERSION),
            1,
        )
        .with_json(Method::POST, json!({ "query": query }));
        let answer: WiqlAnswer = self.send(call).await?;
        Ok(answer.work_items.into_iter().map(|w| w.id).collect())
    }

    /// The ids a saved query selects.
    pub async fn saved_query(&self, query: &SavedQuery) -> Result<Vec<i64>, ProviderError> {
        let call = Call::get(
            SERVICE,
            self.url(
                &format!(
                    "{}/_apis/wit/wiql/{}?timePrecision=true",
                    enc(&query.project),
                    enc(&query.id)
                ),
                API_VERSION,
            ),
            1,
        );
        let answer: WiqlAnswer = self.send(call).await?;
        Ok(answer.work_items.into_iter().map(|w| w.id).collect())
    }

    /// The saved queries of `project` (folders walked two levels deep).
    pub async fn saved_queries(&self, project: &str) -> Result<Vec<SavedQuery>, ProviderError> {
        let call = Call::get(
            SERVICE,
            self.url(
                &format!("{}/_apis/wit/queries?$depth=2", enc(project)),
                API_VERSION,
            ),
            1,
        );
        let answer: List<Value> = self.send(call).await?;
        let mut out = Vec::new();
        let mut stack: Vec<&Value> = answer.value.iter().collect();
        while let Some(node) = stack.pop() {
            if node["isFolder"].as_bool() == Some(true) {
                if let Some(children) = node["children"].as_array() {
                    stack.extend(children.iter());
                }
            } else if let (Some(id), Some(path)) = (node["id"].as_str(), node["path"].as_str()) {
                out.push(SavedQuery {
                    id: id.to_owned(),
                    path: path.to_owned(),
                    project: project.to_owned(),
                });
            }
        }
        Ok(out)
    }

    /// Up to [`BATCH_IDS`] work items, with the pane's fields and their
    /// relations (`errorPolicy=omit`: an id deleted meanwhile is left out).
    pub async fn items(&self, ids: &[i64]) -> Result<Vec<Value>, ProviderError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        // Fields and $expand cannot be combined: relations need `all`.
        let call = Call::get(
            SERVICE,
            self.url(
                &format!(
                    "_apis/wit/workitems?ids={}&$expand=relations&errorPolicy=omit",
                    list.join(",")
                ),
                API_VERSION,
            ),
            1,
        );
        let answer: List<Value> = self.send(call).await?;
        Ok(answer.value.into_iter().filter(|v| !v.is_null()).collect())
    }

    /// The same items through `workitemsbatch`: only the pane's fields.
    pub async fn items_batch(&self, ids: &[i64]) -> Result<Vec<Value>, ProviderError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let call = Call::get(
            SERVICE,
            self.url("_apis/wit/workitemsbatch", API_VERSION),
            1,
        )
        .with_json(
            Method::POST,
            json!({ "ids": ids, "fields": FIELDS, "errorPolicy": "omit" }),
        );
        let answer: List<Value> = self.send(call).await?;
        Ok(answer.value.into_iter().filter(|v| !v.is_null()).collect())
    }

    /// The current revision of each of up to [`BATCH_IDS`] items: what a
    /// run compares with the stored one before reading an item whole.
    pub async fn revs(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>, ProviderError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let call = Call::get(
            SERVICE,
            self.url("_apis/wit/workitemsbatch", API_VERSION),
            1,
        )
        .with_json(
            Method::POST,
            json!({ "ids": ids, "fields": ["System.Id", "System.Rev"], "errorPolicy": "omit" }),
        );
        let answer: List<Value> = self.send(call).await?;
        Ok(answer
            .value
            .iter()
            .filter_map(|v| Some((v["id"].as_i64()?, v["rev"].as_i64()?)))
            .collect())
    }

    /// An item's updates (one per revision), for its state history.
    pub async fn updates(&self, project: &str, id: i64) -> Result<Vec<Value>, ProviderError> {
        let call = Call::get(
            SERVICE,
            self.url(
                &format!("{}/_apis/wit/workitems/{id}/updates?$top=200", enc(project)),
                API_VERSION,
            ),
            1,
        );
        let answer: List<Value> = self.send(call).await?;
        Ok(answer.value)
    }

    /// An item's comments, oldest first.
    pub async fn comments(&self, project: &str, id: i64) -> Result<Vec<Value>, ProviderError> {
        let call = Call::get(
            SERVICE,
            self.url(
                &format!(
                    "{}/_apis/wit/workitems/{id}/comments?$top=200&order=asc",
                    enc(project)
                ),
                COMMENTS_VERSION,
            ),
            1,
        );
        let answer: Value = self.send(call).await?;
        Ok(answer["comments"].as_array().cloned().unwrap_or_default())
    }

    /// The states `item_type` allows in `project`, in order, with their
    /// categories.
    pub async fn type_states(
        &self,
        project: &str,
        item_type: &str,
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let call = Call::get(
            SERVICE,
            self.url(
                &format!(
                    "{}/_apis/wit/workitemtypes/{}/states",
                    enc(project),
                    enc(item_type)
                ),
                API_VERSION,
            ),
            1,
        );
        let answer: List<Value> = self.send(call).await?;
        Ok(answer
            .value
            .iter()
            .filter_map(|s| {
                Some((
                    s["name"].as_str()?.to_owned(),
                    s["category"].as_str().unwrap_or_default().to_owned(),
                ))
            })
            .collect())
    }

    /// Applies a JSON Patch to item `id` (the first operation is a `test`
    /// of the revision the user saw); returns the item as it is now.
    pub async fn patch(
        &self,
        project: &str,
        id: i64,
        operations: Value,
    ) -> Result<Value, ProviderError> {
        let call = Call::get(
            SERVICE,
            self.url(
                &format!("{}/_apis/wit/workitems/{id}", enc(project)),
                API_VERSION,
            ),
            1,
        )
        .with_json(Method::PATCH, operations)
        .header("Content-Type", "application/json-patch+json");
        self.send(call).await
    }

    /// Adds a comment to item `id`.
    pub async fn add_comment(
        &self,
        project: &str,
        id: i64,
        text: &str,
    ) -> Result<Value, ProviderError> {
        let call = Call::get(
            SERVICE,
            self.url(
                &format!("{}/_apis/wit/workitems/{id}/comments", enc(project)),
                COMMENTS_VERSION,
            ),
            1,
        )
        .with_json(Method::POST, json!({ "text": text }));
        self.send(call).await
    }
}
