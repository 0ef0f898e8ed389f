//! Accounts: one signed-in Gmail, Microsoft 365 or Azure DevOps identity.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Row id of an account in the local store.
pub type AccountId = i64;

/// Which service an account talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Gmail API v1.
    Gmail,
    /// Microsoft Graph v1.0 mail (Microsoft 365, Outlook.com).
    Graph,
    /// Azure DevOps work items (REST 7.1).
    Ado,
}

impl ProviderKind {
    /// The name stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gmail => "gmail",
            Self::Graph => "graph",
            Self::Ado => "ado",
        }
    }

    /// Parses the stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "gmail" => Some(Self::Gmail),
            "graph" => Some(Self::Graph),
            "ado" => Some(Self::Ado),
            _ => None,
        }
    }

    /// Whether the provider carries mail (as opposed to work items).
    pub fn is_mail(self) -> bool {
        matches!(self, Self::Gmail | Self::Graph)
    }
}

/// Whether an account can sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum AccountState {
    /// Signed in and usable.
    Active,
    /// The provider rejected our credentials; the user must sign in again.
    NeedsReauth,
    /// Switched off by the user.
    Disabled,
}

impl AccountState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReauth => "needsReauth",
            Self::Disabled => "disabled",
        }
    }

    /// Parses the stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "active" => Some(Self::Active),
            "needsReauth" => Some(Self::NeedsReauth),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// An account as the UI lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Local row id.
    #[ts(type = "number")]
    pub id: AccountId,
    /// The service behind it.
    pub provider: ProviderKind,
    /// E-mail address, or the organisation URL for Azure DevOps.
    pub address: String,
    /// What the sidebar shows.
    pub display_name: String,
    /// Whether this account's loop syncs (the global switch applies on top).
    pub sync_enabled: bool,
    /// Sign-in state.
    pub state: AccountState,
    /// Served by the built-in emulator (demo mode), not a real service.
    pub demo: bool,
}

/// What is needed to add an account.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    /// The service behind it.
    pub provider: ProviderKind,
    /// E-mail address, or the organisation URL for Azure DevOps.
    pub address: String,
    /// What the sidebar shows.
    pub display_name: String,
    /// Provider settings (base URL, client id, sync window ...); never secrets.
    pub settings: super::AccountSettings,
    /// Whether it may sync at once. Sign-in adds accounts switched off until
    /// their credentials are filed, then calls `Ember::account_signed_in`.
    pub sync_enabled: bool,
}

// The secrets are `Secret`s: plain strings on the wire, never printed.
/// What the "add account" form sends. Its `Debug` leaves the secrets out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AddAccount {
    /// Which service.
    pub provider: ProviderKind,
    /// The OAuth client id (Gmail, Microsoft 365).
    pub client_id: Option<String>,
    /// The OAuth client secret, when the client has one.
    #[ts(type = "string | null")]
    pub client_secret: Option<Secret>,
    /// The Azure DevOps organisation.
    pub organization: Option<String>,
    /// The Azure DevOps personal access token.
    #[ts(type = "string | null")]
    pub pat: Option<Secret>,
    /// A stand-in for the provider's hosts (the emulator); `None` for the
    /// real service.
    pub base_url: Option<String>,
    /// The Microsoft Entra tenant (`common` when absent).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Sign in with the device-code flow (an address and a code to type on
    /// any device) instead of the system browser.
    #[serde(default)]
    pub device_code: bool,
}
