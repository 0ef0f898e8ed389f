//! The reading pane and the search box on the service layer: folders,
//! conversations, search with highlights, safe rendering with the
//! remote-content choice, and link checks.

use std::sync::Arc;

use super::{Ember, ServiceError};
use crate::events::Event;
use crate::model::{
    AccountId, Folder, MessageDetail, MessageId, RemoteScope, RenderedBody, SearchHit, SearchQuery,
};
use crate::render::cache::RenderKey;
use crate::search::{self, highlight, Field};

impl Ember {
    /// Searches mail with the search box's language (see [`crate::search`]);
    /// an unparseable query fails with [`ServiceError::InvalidQuery`].
    pub async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, ServiceError> {
        let parsed =
            search::parse(&query.text).map_err(|e| ServiceError::InvalidQuery(e.to_string()))?;
        let messages = self.store.search(&parsed, query.limit).await?;
        let subject_terms = parsed.highlight_terms(Field::Subject);
        let snippet_terms = parsed.highlight_terms(Field::Any);
        Ok(messages
            .into_iter()
            .map(|message| SearchHit {
                subject_matches: highlight::spans(&message.subject, &subject_terms),
                snippet_matches: highlight::spans(&message.snippet, &snippet_terms),
                message,
            })
            .collect())
    }

    /// Folders and labels with unread and total counts, for one account or all.
    pub async fn folders(&self, account: Option<AccountId>) -> Result<Vec<Folder>, ServiceError> {
        Ok(self.store.folders(account).await?)
    }

    /// Every message of a conversation, oldest first.
    pub async fn thread(&self, thread: i64) -> Result<Vec<MessageDetail>, ServiceError> {
        let ids = self.store.thread_message_ids(thread).await?;
        let mut messages = Vec::with_capacity(ids.len());
        for id in ids {
            messages.push(self.store.message(id).await?);
        }
        Ok(messages)
    }

    /// Whether remote content loads for a message: allowed for it, or for
    /// its sender when the provider authenticated the From address (see
    /// [`crate::render::sender`]); a From anyone could have written does
    /// not get its sender's allowance.
    pub async fn remote_allowed(
        &self,
        id: MessageId,
        sender: &str,
        authentication_results: Option<&str>,
    ) -> Result<RemoteDecision, ServiceError> {
        if self.store.remote_allowed_for_message(id).await? {
            return Ok(RemoteDecision::Allowed);
        }
        let sender = sender.trim().to_lowercase();
        if sender.is_empty() || !self.store.remote_content_senders().await?.contains(&sender) {
            return Ok(RemoteDecision::Blocked);
        }
        let authenticated = authentication_results
            .is_some_and(|r| crate::render::sender::from_authenticated(r, &sender));
        Ok(if authenticated {
            RemoteDecision::Allowed
        } else {
            RemoteDecision::SenderUnverified
        })
    }

    /// The document the reading pane loads into its sandboxed frame: the
    /// sanitised HTML body, or the text body when there is none. A message
    /// opened again with the same body and remote choice comes from the
    /// render cache instead of the sanitiser.
    pub async fn render_message(&self, id: MessageId) -> Result<RenderedBody, ServiceError> {
        let stored = self.store.message_body(id).await?;
        match stored.html.filter(|h| !h.is_empty()) {
            Some(html) => {
                let decision = self
                    .remote_allowed(id, &stored.sender, stored.authentication_results.as_deref())
                    .await?;
                let allow = decision == RemoteDecision::Allowed;
                let renders = self.renders.clone();
                // Hashing and sanitising a large body are CPU work: off
                // the async workers.
                let mut body = crate::cpu::run(move || {
                    let key = RenderKey::new(id, allow, &html);
                    if let Some(kept) = renders.get(&key) {
                        return RenderedBody::clone(&kept);
                    }
                    let rendered = crate::render::render(&html, allow);
                    renders.put(key, Arc::new(rendered.clone()));
                    rendered
                })
                .await
                .map_err(|e| {
                    ServiceError::InvalidInput(format!("cannot render message {id}: {e}"))
                })?;
                body.sender_unverified =
                    decision == RemoteDecision::SenderUnverified && body.remote_blocked > 0;
                Ok(body)
            }
            None => Ok(crate::render::render_text(
                stored.text.as_deref().unwrap_or_default(),
            )),
        }
    }

    /// Allows remote content for one message (returning it rendered again)
    /// or for every message from a sender (returning `None`).
    pub async fn allow_remote(
        &self,
        scope: &RemoteScope,
    ) -> Result<Option<RenderedBody>, ServiceError> {
        self.ensure_running()?;
        match scope {
            RemoteScope::Message { message_id } => {
                self.store.allow_remote_for_message(*message_id).await?;
                Ok(Some(self.render_message(*message_id).await?))
            }
            RemoteScope::Sender { address } => {
                if !address.contains('@') {
                    return Err(ServiceError::InvalidInput(format!(
                        "{address:?} is not an e-mail address"
                    )));
                }
                self.store.allow_remote_for_sender(address).await?;
                self.events.publish(Event::DataChanged { account_id: None });
                Ok(None)
            }
        }
    }

    /// Whether OS notifications for new mail are on (the settings key
    /// [`crate::notify::NOTIFICATIONS_ENABLED`]; on unless it says false).
    pub async fn notifications_enabled(&self) -> Result<bool, ServiceError> {
        let value: Option<serde_json::Value> = self
            .store
            .setting(crate::notify::NOTIFICATIONS_ENABLED)
            .await?;
        Ok(!matches!(value, Some(serde_json::Value::Bool(false)))
            && !matches!(value, Some(serde_json::Value::String(ref s)) if s == "false"))
    }

    /// Checks a clicked link: returns what may be opened in the system
    /// browser, or refuses it (see [`crate::render::safe_link`]).
    pub fn checked_link(&self, url: &str) -> Result<String, ServiceError> {
        crate::render::safe_link(url).map_err(|e| ServiceError::RefusedLink(e.to_string()))
    }
}

/// Whether a message's remote content loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteDecision {
    /// Allowed for the message, or for its authenticated sender.
    Allowed,
    /// Not allowed.
    Blocked,
    /// Its sender is allowed, but the provider did not authenticate the
    /// From address: blocked, and the reading pane says why.
    SenderUnverified,
}
