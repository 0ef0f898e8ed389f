//! A local stand-in for Gmail, Microsoft Graph and Azure DevOps, serving on
//! 127.0.0.1 the parts of their HTTP APIs Ember uses, under their real paths
//! and with their real status codes, headers and bodies, so the production
//! clients reach it by changing only their base URL.
//!
//! It is stateful (a deterministic [`world::World`] per seed, changed by the
//! clients and by the `/_emulator/` control API), paginated, throttled by the
//! providers' documented quotas, and breakable on purpose by a
//! [`faults::FaultSpec`]. Demo mode and the integration tests both run it
//! in-process; `ember emulator` runs it on its own.
//!
//! The provider routes answer as the real services do (their OAuth and
//! personal access tokens apply); the control routes answer only requests
//! that carry the secret made for this run ([`Emulator::control_token`]), so
//! nothing else on the machine, and no web page, can read the demo
//! accounts' credentials or change the world.

#![allow(
    clippy::result_large_err,
    reason = "handlers return an early `Response` as their error, the axum idiom; nothing here is hot enough for its size to matter"
)]

pub mod ado;
pub mod compose;
pub mod control;
pub mod delivery;
pub mod faults;
pub mod gmail;
pub mod graph;
pub mod http;
pub mod mailbox;
pub mod material;
pub mod oauth;
pub mod state;
#[cfg(test)]
mod testing;
pub mod truth;
pub mod work_items;
pub mod world;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::task::JoinHandle;

use self::faults::FaultSpec;
use self::http::{emulated, Endpoint};
use self::state::{ServerConfig, Shared};
use self::world::{World, WorldConfig};

/// How to run an emulator.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    /// The world to build.
    pub world: WorldConfig,
    /// Faults to inject from the start.
    pub faults: FaultSpec,
    /// Turn the providers' quotas off (engine benchmarks).
    pub no_quota: bool,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Emulator {
    /// Builds the world and starts serving on 127.0.0.1.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))
                .await?;
        let addr = listener.local_addr()?;
        let world_config = config.world;
        // Building a million-message world is seconds of CPU.
        #[allow(
            clippy::disallowed_methods,
            reason = "CPU-bound world generation in the emulator only"
        )]
        let world = tokio::task::spawn_blocking(move || {
            World::build(world_config, chrono::Utc::now().timestamp_millis())
        })
        .await
        .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared::new(
            ServerConfig {
                quota: !config.no_quota,
            },
            format!("http://{addr}"),
            control::new_token()?,
            world,
            config.faults,
        ));
        let app = router(&shared);
        gmail::dispatch_router(&shared, app.clone());
        let stop = shared.stop.clone();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned());
            if let Err(e) = serve.await {
                tracing::warn!("emulator stopped: {e}");
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The secret its control routes require, in the
    /// [`control::TOKEN_HEADER`] header. Made afresh for each run.
    pub fn control_token(&self) -> &str {
        &self.shared.control_token
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its state, for in-process inspection.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops serving, ends hung requests, and waits for the server task.
    pub async fn stop(self) {
        self.shared.stop.cancel();
        self.shared.set_dispatch(None);
        let _ = self.task.await;
    }
}

fn router(shared: &Arc<Shared>) -> Router {
    let o = |name, route| emulated(shared, Endpoint::oauth(name), route);
    Router::new()
        .merge(gmail::routes(shared))
        .merge(graph::routes(shared))
        .merge(ado::routes(shared))
        .merge(control::routes(shared))
        .route(
            "/o/oauth2/v2/auth",
            o("oauth.authorize", get(oauth::google_authorize)),
        )
        .route("/token", o("oauth.token", post(oauth::google_token)))
        .route("/revoke", o("oauth.revoke", post(oauth::google_revoke)))
        .route(
            "/device/code",
            o("oauth.device", post(oauth::google_device)),
        )
        .route("/device", get(oauth::verify_device))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            o("oauth.authorize", get(oauth::microsoft_authorize)),
        )
        .route(
            "/{tenant}/oauth2/v2.0/token",
            o("oauth.token", post(oauth::microsoft_token)),
        )
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            o("oauth.device", post(oauth::microsoft_device)),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({"error": "no such endpoint in the emulator"})),
            )
                .into_response()
        })
        .layer(axum::middleware::from_fn(http::provider_too_large))
        .with_state(shared.clone())
}
