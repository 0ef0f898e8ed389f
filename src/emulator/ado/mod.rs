//! Azure DevOps Work Item Tracking REST 7.1, under its real paths
//! (`/{organization}/{project}/_apis/...`).

use std::sync::Arc;

use axum::Router;

use super::state::Shared;

/// The Azure DevOps routes.
pub fn routes(_shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
}
