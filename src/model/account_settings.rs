//! What each kind of account keeps in its `settings` column, as types.
//!
//! The column is JSON so that a provider can grow fields without a
//! migration, but nothing reads it as loose JSON: the store hands out an
//! [`AccountSettings`] for the account's provider, and a row that does not
//! read as one is reported as corrupt instead of being half-understood.
//! Secrets never live here; they are in the keychain.

use serde::{Deserialize, Serialize};

/// How much history an account's first sync fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncWindow {
    /// The last this many days.
    Days(u32),
    /// Everything.
    All,
}

impl SyncWindow {
    /// Parses `90` or `all`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.trim().eq_ignore_ascii_case("all") {
            Some(Self::All)
        } else {
            text.trim().parse().ok().filter(|d| *d > 0).map(Self::Days)
        }
    }

    /// The number of days, `None` for everything.
    pub fn days(self) -> Option<u32> {
        match self {
            Self::Days(d) => Some(d),
            Self::All => None,
        }
    }
}

/// Stored as a number of days or `"all"`, as earlier versions wrote it.
impl Serialize for SyncWindow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Days(d) => s.serialize_u32(*d),
            Self::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for SyncWindow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Days(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Days(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .map(Self::Days)
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a number of days"))),
            Raw::Text(t) => Self::parse(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("{t:?} is not a sync window"))),
        }
    }
}

/// An OAuth provider's endpoints and this app's registration with it (the
/// client secret, where there is one, is in the keychain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthEndpoints {
    /// The authorization endpoint.
    pub auth_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The device authorization endpoint, for providers that offer the
    /// device-code flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code_url: Option<String>,
    /// The client id.
    pub client_id: String,
    /// The scopes signed in with.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// A mail account's settings (Gmail, Microsoft 365).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    /// Served by the built-in emulator (demo mode).
    #[serde(default)]
    pub demo: bool,
    /// The API's base URL (the real service, or a stand-in such as the emulator).
    pub api_base: String,
    /// How to refresh its tokens or sign in again.
    pub oauth: OAuthEndpoints,
    /// The account's own first-sync window; the global setting otherwise.
    #[serde(
        default,
        rename = "sync_window_days",
        skip_serializing_if = "Option::is_none"
    )]
    pub window: Option<SyncWindow>,
    /// The account's own cap on the first sync; the global setting otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<u32>,
    /// When it last signed in (Unix ms): a new sign-in changes the settings,
    /// so a sync source drops any client still holding the old tokens.
    #[serde(default)]
    pub signed_in_at: i64,
}

/// An Azure DevOps account's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoSettings {
    /// Served by the built-in emulator (demo mode).
    #[serde(default)]
    pub demo: bool,
    /// The REST host (`https://dev.azure.com`, or a stand-in).
    pub api_base: String,
    /// The organisation's name.
    pub organization: String,
    /// The projects found at sign-in.
    #[serde(default)]
    pub projects: Vec<String>,
    /// Saved queries (ids) whose items are synced besides the user's own.
    #[serde(default)]
    pub saved_queries: Vec<String>,
    /// When the token was last given (Unix ms).
    #[serde(default)]
    pub signed_in_at: i64,
}

/// One account's settings, by provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSettings {
    /// Gmail or Microsoft 365.
    Mail(MailSettings),
    /// Azure DevOps.
    Ado(AdoSettings),
}

impl AccountSettings {
    /// Reads the stored JSON of an account of `provider`.
    pub fn from_json(provider: super::ProviderKind, text: &str) -> Result<Self, serde_json::Error> {
        Ok(match provider {
            super::ProviderKind::Gmail | super::ProviderKind::Graph => {
                Self::Mail(serde_json::from_str(text)?)
            }
            super::ProviderKind::Ado => Self::Ado(serde_json::from_str(text)?),
        })
    }

    /// Settings that point at no service: for synthetic stores
    /// (benchmarks, tests) whose accounts never sync.
    pub fn offline(provider: super::ProviderKind) -> Self {
        match provider {
            super::ProviderKind::Ado => Self::Ado(AdoSettings {
                demo: false,
                api_base: String::new(),
                organization: String::new(),
                projects: Vec::new(),
                saved_queries: Vec::new(),
                signed_in_at: 0,
            }),
            _ => Self::Mail(MailSettings {
                demo: false,
                api_base: String::new(),
                oauth: OAuthEndpoints {
                    auth_url: String::new(),
                    token_url: String::new(),
                    device_code_url: None,
                    client_id: String::new(),
                    scopes: Vec::new(),
                },
                window: None,
                max_messages: None,
                signed_in_at: 0,
            }),
        }
    }

    /// The JSON stored in the column.
    pub fn to_json(&self) -> String {
        let value = match self {
            Self::Mail(m) => serde_json::to_string(m),
            Self::Ado(a) => serde_json::to_string(a),
        };
        // Plain structs of strings and numbers always serialise.
        value.unwrap_or_else(|_| "{}".into())
    }

    /// Whether the account is demo data.
    pub fn demo(&self) -> bool {
        match self {
            Self::Mail(m) => m.demo,
            Self::Ado(a) => a.demo,
        }
    }

    /// The mail settings, if this is a mail account.
    pub fn mail(&self) -> Option<&MailSettings> {
        match self {
            Self::Mail(m) => Some(m),
            Self::Ado(_) => None,
        }
    }

    /// The Azure DevOps settings, if this is an Azure DevOps account.
    pub fn ado(&self) -> Option<&AdoSettings> {
        match self {
            Self::Ado(a) => Some(a),
            Self::Mail(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;

    #[test]
    fn windows_parse() {
        assert_eq!(SyncWindow::parse("90"), Some(SyncWindow::Days(90)));
        assert_eq!(SyncWindow::parse("ALL"), Some(SyncWindow::All));
        assert_eq!(SyncWindow::parse("0"), None);
        assert_eq!(SyncWindow::parse("soon"), None);
    }

    #[test]
    fn settings_written_by_earlier_versions_still_read() -> anyhow::Result<()> {
        let stored = r#"{"demo":true,"api_base":"http://127.0.0.1:1","oauth":{"auth_url":"a",
            "token_url":"t","client_id":"c","scopes":["s"]},"sync_window_days":"all",
            "signed_in_at":5}"#;
        let AccountSettings::Mail(mail) = AccountSettings::from_json(ProviderKind::Gmail, stored)?
        else {
            anyhow::bail!("a Gmail account has mail settings");
        };
        assert!(mail.demo);
        assert_eq!(mail.window, Some(SyncWindow::All));
        assert_eq!(mail.oauth.device_code_url, None);
        let ado = r#"{"demo":false,"api_base":"https://dev.azure.com","organization":"o","projects":["p"]}"#;
        let settings = AccountSettings::from_json(ProviderKind::Ado, ado)?;
        assert_eq!(
            settings.ado().map(|a| a.projects.clone()),
            Some(vec!["p".into()])
        );
        Ok(())
    }

    #[test]
    fn settings_round_trip_and_missing_fields_are_refused() -> anyhow::Result<()> {
        let settings = AccountSettings::Mail(MailSettings {
            demo: false,
            api_base: "https://graph.microsoft.com/v1.0".into(),
            oauth: OAuthEndpoints {
                auth_url: "a".into(),
                token_url: "t".into(),
                device_code_url: Some("d".into()),
                client_id: "c".into(),
                scopes: vec!["offline_access".into()],
            },
            window: Some(SyncWindow::Days(30)),
            max_messages: None,
            signed_in_at: 1,
        });
        let back = AccountSettings::from_json(ProviderKind::Graph, &settings.to_json())?;
        assert_eq!(back, settings);
        assert!(AccountSettings::from_json(ProviderKind::Gmail, "{}").is_err());
        assert!(AccountSettings::from_json(ProviderKind::Ado, r#"{"api_base":"x"}"#).is_err());
        Ok(())
    }
}
