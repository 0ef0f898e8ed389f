//! How provider requests authenticate: OAuth bearer tokens from an
//! account's [`TokenSource`] (refreshed once when rejected), a personal
//! access token (Azure DevOps), or a fixed token (the identity probe right
//! after signing in).

use crate::auth::TokenSource;
use crate::secret::Secret;

use super::http::{Credential, CredentialFuture};
use super::ProviderError;

impl Credential for TokenSource {
    fn apply(
        &self,
        request: reqwest::RequestBuilder,
    ) -> CredentialFuture<'_, (reqwest::RequestBuilder, u64)> {
        Box::pin(async move {
            let (token, generation) = self.access_token().await.map_err(ProviderError::from)?;
            Ok((request.bearer_auth(token.expose()), generation))
        })
    }

    fn rejected(&self, generation: u64) -> CredentialFuture<'_, bool> {
        Box::pin(async move {
            TokenSource::rejected(self, generation)
                .await
                .map_err(ProviderError::from)?;
            Ok(true)
        })
    }
}

/// Basic authentication with a personal access token (Azure DevOps).
#[derive(Debug, Clone)]
pub struct PatCredential {
    pat: Secret,
}

impl PatCredential {
    /// A credential for `pat`.
    pub fn new(pat: Secret) -> Self {
        Self { pat }
    }
}

impl Credential for PatCredential {
    fn apply(
        &self,
        request: reqwest::RequestBuilder,
    ) -> CredentialFuture<'_, (reqwest::RequestBuilder, u64)> {
        Box::pin(async move { Ok((request.basic_auth("", Some(self.pat.expose())), 1)) })
    }

    fn rejected(&self, _generation: u64) -> CredentialFuture<'_, bool> {
        // A PAT cannot be refreshed: the user must give a new one.
        Box::pin(async { Ok(false) })
    }
}

/// A bearer token used as it is, never refreshed: the identity probe right
/// after a sign-in, whose tokens are not filed yet.
#[derive(Debug, Clone)]
pub struct BearerToken(Secret);

impl BearerToken {
    /// A credential for `token`.
    pub fn new(token: Secret) -> Self {
        Self(token)
    }
}

impl Credential for BearerToken {
    fn apply(
        &self,
        request: reqwest::RequestBuilder,
    ) -> CredentialFuture<'_, (reqwest::RequestBuilder, u64)> {
        Box::pin(async move { Ok((request.bearer_auth(self.0.expose()), 1)) })
    }

    fn rejected(&self, _generation: u64) -> CredentialFuture<'_, bool> {
        Box::pin(async { Ok(false) })
    }
}
