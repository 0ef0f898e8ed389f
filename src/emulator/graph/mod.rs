//! Microsoft Graph v1.0 mail, under its real paths (`/v1.0/me/...`).

use std::sync::Arc;

use axum::Router;

use super::state::Shared;

/// The Graph routes.
pub fn routes(_shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
}
