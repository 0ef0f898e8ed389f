//! The system browser for OAuth sign-in, through Tauri's opener plugin.
//!
//! The core's sign-in flow waits on its own loopback listener; all the shell
//! does is hand the authorization URL to the user's default browser.

use std::future::Future;
use std::pin::Pin;

use ember::auth::{AuthError, Browser};
use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;

/// Opens URLs in the user's default browser.
#[derive(Debug, Clone)]
pub struct SystemBrowser<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> SystemBrowser<R> {
    /// A browser opener for `app`.
    pub fn new(app: AppHandle<R>) -> Self {
        Self { app }
    }
}

impl<R: Runtime> Browser for SystemBrowser<R> {
    fn open<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), AuthError>> + Send + 'a>> {
        Box::pin(async move {
            // Only the provider's https consent page (or the emulator on
            // this machine) is ever opened from here. The host is compared
            // whole: `localhost.evil.example` is not this machine.
            if !ember::auth::is_sign_in_page(url) {
                return Err(AuthError::Config(format!(
                    "refusing to open a sign-in page that is not https: {url}"
                )));
            }
            self.app
                .opener()
                .open_url(url, None::<&str>)
                .map_err(|e| AuthError::Config(format!("cannot open the browser: {e}")))
        })
    }
}
