//! How the authorization URL reaches a browser.

use std::future::Future;
use std::pin::Pin;

use super::{AuthError, DeviceCode};

/// Whether `url` may be opened as a sign-in page: https anywhere, plain
/// http only on this machine (the emulator), hosts compared whole.
pub fn is_sign_in_page(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" => parsed.host().is_some(),
        "http" => loopback,
        _ => false,
    }
}

/// Opens an authorization URL for the user.
pub trait Browser: Send + Sync {
    /// Shows `url` to the user (or a stand-in), returning once it is on its way.
    fn open<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), AuthError>> + Send + 'a>>;

    /// Shows a device-code sign-in: the address to open and the code to
    /// type there. By default opens the address.
    fn show_device_code<'a>(
        &'a self,
        code: &'a DeviceCode,
    ) -> Pin<Box<dyn Future<Output = Result<(), AuthError>> + Send + 'a>> {
        self.open(&code.verification_uri)
    }
}

/// Prints the URL for a person to open (headless use).
#[derive(Debug, Default, Clone, Copy)]
pub struct PrintBrowser;

impl Browser for PrintBrowser {
    fn open<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), AuthError>> + Send + 'a>> {
        Box::pin(async move {
            use std::io::Write as _;
            let mut err = std::io::stderr().lock();
            writeln!(
                err,
                "Open this address in a browser to sign in:\n\n  {url}\n"
            )?;
            Ok(())
        })
    }

    fn show_device_code<'a>(
        &'a self,
        code: &'a DeviceCode,
    ) -> Pin<Box<dyn Future<Output = Result<(), AuthError>> + Send + 'a>> {
        Box::pin(async move {
            use std::io::Write as _;
            let mut err = std::io::stderr().lock();
            writeln!(
                err,
                "To sign in, open this address on any device:\n\n  {}\n\nand enter the code {} \
                 (it expires in {} minutes). Waiting ...",
                code.verification_uri,
                code.user_code,
                code.expires_in.as_secs().div_ceil(60)
            )?;
            Ok(())
        })
    }
}

/// Follows the URL over HTTP the way a browser would after the user clicks
/// "Allow": for providers that approve without a person (the emulator in
/// demo mode and tests). The redirect lands on our own loopback listener.
///
/// Redirects are followed here, not by reqwest: reqwest logs each redirect
/// target whole at debug level, and the last one carries the authorization
/// code.
#[derive(Debug, Clone)]
pub struct DirectBrowser {
    client: reqwest::Client,
}

/// Redirects a sign-in page may take before the browser stand-in gives up.
const MAX_REDIRECTS: usize = 10;

impl DirectBrowser {
    /// A browser stand-in with its own HTTP client.
    pub fn new() -> Result<Self, AuthError> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| AuthError::Config(format!("cannot start an HTTP client: {e}")))?,
        })
    }
}

impl Browser for DirectBrowser {
    /// Approves the code at once, as a user typing it in would.
    fn show_device_code<'a>(
        &'a self,
        code: &'a DeviceCode,
    ) -> Pin<Box<dyn Future<Output = Result<(), AuthError>> + Send + 'a>> {
        Box::pin(async move {
            let mut url = reqwest::Url::parse(&code.verification_uri)
                .map_err(|e| AuthError::Config(e.to_string()))?;
            url.query_pairs_mut()
                .append_pair("user_code", &code.user_code);
            self.open(url.as_str()).await
        })
    }

    fn open<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), AuthError>> + Send + 'a>> {
        Box::pin(async move {
            let mut url = reqwest::Url::parse(url).map_err(|e| AuthError::Config(e.to_string()))?;
            let mut hops = 0;
            let response = loop {
                let response = self
                    .client
                    .get(url.clone())
                    .send()
                    .await
                    // Without the URL: it may be the redirect with the code.
                    .map_err(|e| AuthError::Unreachable(e.without_url().to_string()))?;
                let next = response
                    .status()
                    .is_redirection()
                    .then(|| response.headers().get(reqwest::header::LOCATION))
                    .flatten()
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok());
                match next {
                    Some(next) if hops < MAX_REDIRECTS => {
                        hops += 1;
                        url = next;
                    }
                    _ => break response,
                }
            };
            if response.status().is_success() {
                Ok(())
            } else {
                Err(AuthError::Denied(format!(
                    "the consent page answered {}",
                    response.status()
                )))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_sign_in_page;

    #[test]
    fn only_https_or_this_machine_opens_and_hosts_are_compared_whole() {
        assert!(is_sign_in_page(
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?x=1"
        ));
        assert!(is_sign_in_page("http://127.0.0.1:4000/o/oauth2/v2/auth"));
        assert!(is_sign_in_page("http://localhost:4000/x"));
        assert!(!is_sign_in_page("http://localhost.evil.example/x"));
        assert!(!is_sign_in_page("http://127.0.0.1.evil.example/x"));
        assert!(!is_sign_in_page("http://example.com/x"));
        assert!(!is_sign_in_page("javascript:alert(1)"));
        assert!(!is_sign_in_page("file:///etc/passwd"));
    }
}
