//! The user's preferences, as the settings screen edits them.
//!
//! One struct, validated in one place, so the window, the CLI and the sync
//! loops agree on what a setting means and which values are allowed.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every preference the settings screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Minutes between the end of one sync run and the start of the next.
    pub sync_interval_minutes: u32,
    /// How many days of mail the first sync of an account fetches.
    pub initial_sync_days: u32,
    /// The most messages the first sync of an account fetches.
    pub initial_sync_max_messages: u32,
    /// Whether mail is sorted into categories on this device.
    pub categories_enabled: bool,
    /// Whether new mail in Primary raises an OS notification.
    pub notifications_enabled: bool,
    /// Senders (lower-cased addresses) whose mail may load remote content.
    pub remote_content_senders: Vec<String>,
    /// Azure DevOps' notifications about a synced work item show under the
    /// item instead of in the inbox.
    #[serde(default = "yes")]
    pub fold_work_item_mail: bool,
    /// Seconds a sent message can still be taken back (0: sent at once).
    #[serde(default = "undo_seconds")]
    pub undo_send_seconds: u32,
    /// Each mail account's signature (plain text), by account id.
    #[serde(default)]
    #[ts(type = "Record<string, string>")]
    pub signatures: std::collections::BTreeMap<String, String>,
}

fn undo_seconds() -> u32 {
    5
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sync_interval_minutes: 5,
            initial_sync_days: 90,
            initial_sync_max_messages: 10_000,
            categories_enabled: true,
            notifications_enabled: true,
            remote_content_senders: Vec::new(),
            fold_work_item_mail: true,
            undo_send_seconds: undo_seconds(),
            signatures: std::collections::BTreeMap::new(),
        }
    }
}

/// The allowed range of each numeric setting.
pub const SYNC_INTERVAL_MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;
/// Allowed initial window, in days (up to ten years).
pub const INITIAL_SYNC_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;
/// Allowed undo window, in seconds.
pub const UNDO_SEND_SECONDS: std::ops::RangeInclusive<u32> = 0..=60;
/// The longest signature, in characters.
pub const MAX_SIGNATURE_CHARS: usize = 10_000;
/// Allowed cap on the initial sync.
pub const INITIAL_SYNC_MAX_MESSAGES: std::ops::RangeInclusive<u32> = 100..=1_000_000;

impl Settings {
    /// Checks every field, returning a sentence naming the first bad one.
    /// Sender addresses are trimmed, lower-cased and deduplicated.
    pub fn validated(mut self) -> Result<Self, String> {
        in_range(
            "The sync interval",
            "minutes",
            self.sync_interval_minutes,
            &SYNC_INTERVAL_MINUTES,
        )?;
        in_range(
            "The initial sync window",
            "days",
            self.initial_sync_days,
            &INITIAL_SYNC_DAYS,
        )?;
        in_range(
            "The initial sync limit",
            "messages",
            self.initial_sync_max_messages,
            &INITIAL_SYNC_MAX_MESSAGES,
        )?;
        in_range(
            "The undo window",
            "seconds",
            self.undo_send_seconds,
            &UNDO_SEND_SECONDS,
        )?;
        for (account, signature) in &self.signatures {
            if account.parse::<i64>().is_err() {
                return Err(format!("{account:?} is not an account id."));
            }
            if signature.chars().count() > MAX_SIGNATURE_CHARS {
                return Err(format!(
                    "A signature may be at most {MAX_SIGNATURE_CHARS} characters long."
                ));
            }
        }
        let mut senders = Vec::with_capacity(self.remote_content_senders.len());
        for sender in &self.remote_content_senders {
            let sender = sender.trim().to_lowercase();
            if !is_plausible_address(&sender) {
                return Err(format!(
                    "\"{sender}\" is not an e-mail address; remote content can only be allowed per sender address."
                ));
            }
            if !senders.contains(&sender) {
                senders.push(sender);
            }
        }
        self.remote_content_senders = senders;
        Ok(self)
    }
}

fn in_range(
    what: &str,
    unit: &str,
    value: u32,
    range: &std::ops::RangeInclusive<u32>,
) -> Result<(), String> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{what} must be between {} and {} {unit}; {value} is not.",
            range.start(),
            range.end()
        ))
    }
}

/// One `@` with something on each side, no spaces or angle brackets, and not
/// absurdly long: enough to refuse typing mistakes without pretending to
/// validate RFC 5322.
fn is_plausible_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && address.len() <= 320
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Settings::default().validated(), Ok(Settings::default()));
    }

    #[test]
    fn out_of_range_numbers_are_refused_with_a_sentence() {
        let bad = Settings {
            sync_interval_minutes: 0,
            ..Settings::default()
        };
        let message = bad.validated().err().unwrap_or_default();
        assert!(message.contains("sync interval"), "{message}");
        assert!(message.contains("between 1 and 1440"), "{message}");
        let bad = Settings {
            initial_sync_max_messages: 5,
            ..Settings::default()
        };
        assert!(bad.validated().is_err());
    }

    #[test]
    fn senders_are_normalised_and_checked() {
        let settings = Settings {
            remote_content_senders: vec![
                " News@Example.COM ".into(),
                "news@example.com".into(),
                "b@c.d".into(),
            ],
            ..Settings::default()
        };
        assert_eq!(
            settings.validated().map(|s| s.remote_content_senders),
            Ok(vec!["news@example.com".to_owned(), "b@c.d".to_owned()])
        );
        for bad in ["", "no-at-sign", "a@b@c", "a b@c.d", "<a@b.c>"] {
            let settings = Settings {
                remote_content_senders: vec![bad.into()],
                ..Settings::default()
            };
            assert!(settings.validated().is_err(), "{bad:?} should be refused");
        }
    }
}
