//! Demo mode: three accounts (Gmail, Microsoft 365, Azure DevOps) served by
//! the emulator, signed in through the same OAuth code + PKCE path real
//! accounts use, so a newcomer's first run shows a working client.
//!
//! The emulator builds the same world for the same seed, so a later run
//! points the demo accounts at a fresh emulator and the local store still
//! matches what it serves.

use serde::Deserialize;

use super::sign_in::{ado_sign_in, gmail_plan, graph_plan, oauth_sign_in};
use super::{Ember, ServiceError};
use crate::auth::DirectBrowser;
use crate::model::{Account, SyncWindow};
use crate::secret::Secret;

/// Why demo set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The emulator could not be reached or answered nonsense.
    #[error("the emulator at {url} cannot be used: {reason}")]
    Emulator {
        /// Its address.
        url: String,
        /// Why.
        reason: String,
    },
    /// Storing the accounts failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

#[derive(Deserialize)]
struct EmulatorAccounts {
    gmail: OAuthSide,
    graph: OAuthSide,
    ado: AdoSide,
}

#[derive(Deserialize)]
struct OAuthSide {
    client_id: String,
    client_secret: Option<Secret>,
    #[serde(default)]
    tenant: Option<String>,
}

#[derive(Deserialize)]
struct AdoSide {
    organization: String,
    pat: Secret,
    api_base: String,
}

/// The header the emulator's control routes want the run's secret in (the
/// emulator's `control::TOKEN_HEADER`).
pub const EMULATOR_TOKEN_HEADER: &str = "x-emulator-token";

/// The environment variable `ember demo setup` reads that secret from.
pub const EMULATOR_TOKEN_ENV: &str = "EMBER_EMULATOR_TOKEN";

/// [`setup`] against an emulator running in this process (demo mode, tests,
/// benchmarks), which hands over its control token directly.
#[cfg(feature = "emulator")]
pub async fn setup_in_process(
    ember: &Ember,
    emulator: &ember_emulator::Emulator,
    window: SyncWindow,
) -> Result<Vec<Account>, DemoError> {
    setup(
        ember,
        &emulator.base_url(),
        emulator.control_token(),
        window,
    )
    .await
}

/// Adds (or re-points) the three demo accounts at the emulator at
/// `emulator_url`, whose control routes answer to `control_token`, signing
/// in to each through the paths real accounts take. Returns them.
pub async fn setup(
    ember: &Ember,
    emulator_url: &str,
    control_token: &str,
    window: SyncWindow,
) -> Result<Vec<Account>, DemoError> {
    let url = emulator_url.trim_end_matches('/');
    let emulator_err = |reason: String| DemoError::Emulator {
        url: url.to_owned(),
        reason,
    };
    super::sign_in::check_base_url(url).map_err(|e| emulator_err(e.to_string()))?;
    let info: EmulatorAccounts = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| emulator_err(e.to_string()))?
        .get(format!("{url}/_emulator/accounts"))
        .header(EMULATOR_TOKEN_HEADER, control_token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| emulator_err(e.to_string()))?
        .json()
        .await
        .map_err(|e| emulator_err(e.to_string()))?;
    let browser = DirectBrowser::new().map_err(|e| emulator_err(e.to_string()))?;
    let mut gmail = gmail_plan(Some(url), info.gmail.client_id, info.gmail.client_secret);
    gmail.window = Some(window);
    gmail.demo = true;
    let mut graph = graph_plan(
        Some(url),
        info.graph.tenant.as_deref().unwrap_or("common"),
        info.graph.client_id,
        info.graph.client_secret,
    );
    graph.window = Some(window);
    graph.demo = true;
    let accounts = vec![
        oauth_sign_in(ember, gmail, false, &browser).await?,
        oauth_sign_in(ember, graph, false, &browser).await?,
        ado_sign_in(
            ember,
            &info.ado.api_base,
            &info.ado.organization,
            &info.ado.pat,
            true,
        )
        .await?,
    ];
    Ok(accounts)
}
