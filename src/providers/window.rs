//! How much mail a first sync fetches, for every mail provider alike: the
//! account's own window and cap where it has them, else the user's global
//! settings (90 days and 10,000 messages by default).

use crate::model::{MailSettings, Settings, SyncWindow};

/// How much to sync at first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Only mail newer than this many days; `None` for all.
    pub days: Option<u32>,
    /// At most this many messages.
    pub max_messages: usize,
}

impl Window {
    /// The window of an account with `mail` settings under `global` ones.
    /// "Everything" has no cap unless the account sets one.
    pub fn new(mail: &MailSettings, global: &Settings) -> Self {
        let days = match mail.window {
            Some(SyncWindow::All) => None,
            Some(SyncWindow::Days(d)) => Some(d),
            None => Some(global.initial_sync_days),
        };
        let cap = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        let max_messages = match (mail.max_messages.filter(|n| *n > 0), days) {
            (Some(n), _) => cap(n),
            (None, None) => usize::MAX,
            (None, Some(_)) => cap(global.initial_sync_max_messages),
        };
        Self { days, max_messages }
    }

    /// The oldest date (Unix ms) inside the window, measured from `now_ms`.
    pub fn start_ms(&self, now_ms: i64) -> Option<i64> {
        self.days.map(|d| now_ms - i64::from(d) * 86_400_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OAuthEndpoints;

    fn mail(window: Option<SyncWindow>, max_messages: Option<u32>) -> MailSettings {
        MailSettings {
            demo: false,
            api_base: String::new(),
            oauth: OAuthEndpoints {
                auth_url: String::new(),
                token_url: String::new(),
                device_code_url: None,
                client_id: String::new(),
                scopes: Vec::new(),
            },
            window,
            max_messages,
            signed_in_at: 0,
        }
    }

    #[test]
    fn windows_read_from_settings() {
        let global = Settings::default();
        assert_eq!(
            Window::new(&mail(None, None), &global),
            Window {
                days: Some(90),
                max_messages: 10_000
            }
        );
        assert_eq!(
            Window::new(&mail(Some(SyncWindow::All), None), &global),
            Window {
                days: None,
                max_messages: usize::MAX
            }
        );
        assert_eq!(
            Window::new(&mail(Some(SyncWindow::Days(7)), Some(50)), &global),
            Window {
                days: Some(7),
                max_messages: 50
            }
        );
    }
}
