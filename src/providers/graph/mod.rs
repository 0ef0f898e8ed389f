//! Microsoft 365 mail through Microsoft Graph v1.0: the client, the
//! conversion of its resources, `$batch`, the delta run and the sync
//! source.
//!
//! Signing in uses Microsoft's identity platform (authorization code with
//! PKCE in the system browser, or the device-code flow), through the same
//! OAuth client and keychain as Gmail.

pub mod batch;
pub mod client;
pub mod convert;
pub mod drafts;
mod run;
mod source;

pub use run::{delta_resource, token_expired, DELTA_PREFIX, RETRY_CURSOR};
pub use source::GraphSource;

/// Microsoft's identity platform.
pub const MICROSOFT_LOGIN: &str = "https://login.microsoftonline.com";
/// Microsoft Graph v1.0.
pub const GRAPH_API_BASE: &str = "https://graph.microsoft.com/v1.0";
/// Stay signed in, know whose mailbox it is, read and change mail, send it.
pub const GRAPH_SCOPES: [&str; 4] = ["offline_access", "User.Read", "Mail.ReadWrite", "Mail.Send"];

/// The OAuth endpoints of `tenant` (`common` for any account) at `login`
/// (Microsoft's, or a stand-in): authorize, token, device code.
pub fn oauth_endpoints(login: &str, tenant: &str) -> (String, String, String) {
    let base = format!("{}/{}/oauth2/v2.0", login.trim_end_matches('/'), tenant);
    (
        format!("{base}/authorize"),
        format!("{base}/token"),
        format!("{base}/devicecode"),
    )
}
