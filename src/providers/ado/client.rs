//! The Azure DevOps REST 7.1 calls Ember makes, typed, through the shared
//! HTTP discipline. Only the host differs between Azure DevOps and the
//! emulator.

use std::sync::Arc;

use serde::Deserialize;

use crate::providers::http::{Call, CallStats, Credential, Http};
use crate::providers::{AccountLimits, ProviderError};

/// Azure DevOps' REST host.
pub const ADO_API_BASE: &str = "https://dev.azure.com";

/// The service name in errors.
pub const SERVICE: &str = "Azure DevOps";

/// The REST version every call asks for.
pub const API_VERSION: &str = "7.1";

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

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
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

    /// The organisation's projects (every page).
    pub async fn projects(&self) -> Result<Vec<Project>, ProviderError> {
        let mut all = Vec::new();
        let mut skip = 0usize;
        loop {
            let call = Call::get(
                SERVICE,
                format!(
                    "{}/_apis/projects?$top=100&$skip={skip}&api-version={API_VERSION}",
                    self.org
                ),
                1,
            );
            let page: List<Project> = self
                .http
                .send_json(&call, self.credential.as_ref(), &self.limits, &self.stats)
                .await?;
            let n = page.value.len();
            all.extend(page.value);
            if n < 100 {
                return Ok(all);
            }
            skip += n;
        }
    }
}
