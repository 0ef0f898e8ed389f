//! The window never navigates away from the app: every navigation and
//! new-window request (the app's own links, or a click in a message's
//! sandboxed frame) is refused, and http, https and mailto targets are
//! handed to the system browser instead, after the core's link check.
//!
//! Navigations can only come from clicks here: a message frame runs no
//! script and keeps no `<meta refresh>`, form or `<base>` (see
//! `ember::render`).

use ember::{ApiError, ErrorCode};
use tauri::webview::NewWindowResponse;
use tauri::{AppHandle, Runtime, Url};
use tauri_plugin_opener::OpenerExt;

use crate::error::CommandError;

/// Whether `url` is the app's own content (or a message frame's srcdoc).
pub fn is_app_url(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        // Windows and Android serve the app from http(s)://tauri.localhost.
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        "about" => matches!(url.path(), "blank" | "srcdoc"),
        _ => false,
    }
}

/// Opens `url` (already checked by the core) outside the app.
pub fn open_external<R: Runtime>(app: &AppHandle<R>, url: &str) -> Result<(), CommandError> {
    app.opener().open_url(url, None::<&str>).map_err(|e| {
        CommandError::from(ApiError {
            code: ErrorCode::Unavailable,
            message: format!("cannot open the link: {e}"),
        })
    })
}

/// The main window's navigation rule: the app's own pages load; a web or
/// mail link goes to the system browser; anything else is refused.
pub fn on_navigation<R: Runtime>(app: &AppHandle<R>, url: &Url) -> bool {
    if is_app_url(url) {
        return true;
    }
    send_out(app, url);
    false
}

/// The main window's new-window rule: never a new window; web and mail
/// links go to the system browser.
pub fn on_new_window<R: Runtime>(app: &AppHandle<R>, url: &Url) -> NewWindowResponse<R> {
    send_out(app, url);
    NewWindowResponse::Deny
}

fn send_out<R: Runtime>(app: &AppHandle<R>, url: &Url) {
    match ember::render::safe_link(url.as_str()) {
        Ok(checked) => {
            if let Err(e) = open_external(app, &checked) {
                tracing::warn!("{e:?}");
            }
        }
        Err(refused) => tracing::warn!("navigation refused: {refused}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apps_own_pages_and_srcdoc_frames_load() -> anyhow::Result<()> {
        for ok in [
            "tauri://localhost/index.html",
            "http://tauri.localhost/",
            "about:srcdoc",
            "about:blank",
        ] {
            assert!(is_app_url(&Url::parse(ok)?), "{ok}");
        }
        for refused in [
            "https://evil.example/",
            "tauri://evil/",
            "file:///etc/passwd",
            "http://localhost:1420/",
        ] {
            assert!(!is_app_url(&Url::parse(refused)?), "{refused}");
        }
        Ok(())
    }
}
