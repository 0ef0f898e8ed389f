//! Access tokens for one account: loaded from the keychain, refreshed before
//! they expire, and refreshed exactly once when the provider rejects one,
//! however many requests saw the rejection at the same moment.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;

use super::{tokens_key, AuthError, OAuthClient, Secrets, Tokens};
use crate::secret::Secret;

/// Refresh when the token has less than this left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Current {
    tokens: Option<Tokens>,
    generation: u64,
}

/// One account's tokens.
#[derive(Debug)]
pub struct TokenSource {
    account: i64,
    client: OAuthClient,
    secrets: Secrets,
    current: Mutex<Current>,
    refreshes: AtomicU64,
}

impl TokenSource {
    /// Tokens for `account`, refreshed through `client`, kept in `secrets`.
    pub fn new(account: i64, client: OAuthClient, secrets: Secrets) -> Self {
        Self {
            account,
            client,
            secrets,
            current: Mutex::new(Current {
                tokens: None,
                generation: 1,
            }),
            refreshes: AtomicU64::new(0),
        }
    }

    /// How many refreshes this source has made.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// A valid access token and its generation.
    pub async fn access_token(&self) -> Result<(Secret, u64), AuthError> {
        let mut current = self.current.lock().await;
        if current.tokens.is_none() {
            let stored = self
                .secrets
                .get(&tokens_key(self.account))
                .await?
                .ok_or_else(|| AuthError::Rejected("not signed in".into()))?;
            current.tokens = Some(
                serde_json::from_str(stored.expose())
                    .map_err(|_| AuthError::Rejected("the stored sign-in is unreadable".into()))?,
            );
        }
        if current
            .tokens
            .as_ref()
            .is_some_and(|t| t.expires_within(REFRESH_MARGIN))
        {
            self.refresh_locked(&mut current).await?;
        }
        let token = current
            .tokens
            .as_ref()
            .map(|t| t.access_token.clone())
            .unwrap_or_default();
        Ok((token, current.generation))
    }

    /// After a 401 for a request sent with `generation`: refreshes unless
    /// another request already did.
    pub async fn rejected(&self, generation: u64) -> Result<(), AuthError> {
        let mut current = self.current.lock().await;
        if current.generation != generation {
            return Ok(());
        }
        self.refresh_locked(&mut current).await
    }

    async fn refresh_locked(&self, current: &mut Current) -> Result<(), AuthError> {
        let refresh = current
            .tokens
            .as_ref()
            .and_then(|t| t.refresh_token.clone())
            .ok_or_else(|| AuthError::Rejected("no refresh token".into()))?;
        let fresh = self.client.refresh(&refresh).await?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let serialized = Secret::new(
            serde_json::to_string(&fresh).map_err(|e| AuthError::Storage(e.to_string()))?,
        );
        self.secrets
            .set(&tokens_key(self.account), &serialized)
            .await?;
        current.tokens = Some(fresh);
        current.generation += 1;
        Ok(())
    }
}
