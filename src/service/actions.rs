//! What the user does to mail: mark read or unread, star, archive, trash.
//!
//! Each call changes the local rows and queues the provider's twin in one
//! transaction (see [`crate::store::outbox`]), tells the window at once, and
//! asks the accounts involved to sync now, which sends the queue first.

use super::{Ember, ServiceError};
use crate::events::Event;
use crate::model::MessageId;
use crate::store::outbox::{self, MailAction};

/// The most messages one action may name.
pub const MAX_ACTION_IDS: usize = 10_000;

impl Ember {
    /// Marks messages read (`unread = false`) or unread.
    pub async fn set_unread(&self, ids: &[MessageId], unread: bool) -> Result<(), ServiceError> {
        self.act(ids, MailAction::SetUnread { unread }).await
    }

    /// Stars or unstars messages.
    pub async fn set_starred(&self, ids: &[MessageId], starred: bool) -> Result<(), ServiceError> {
        self.act(ids, MailAction::SetStarred { starred }).await
    }

    /// Takes messages out of the inbox.
    pub async fn archive(&self, ids: &[MessageId]) -> Result<(), ServiceError> {
        self.act(ids, MailAction::Archive).await
    }

    /// Moves messages to the trash.
    pub async fn trash(&self, ids: &[MessageId]) -> Result<(), ServiceError> {
        self.act(ids, MailAction::Trash).await
    }

    async fn act(&self, ids: &[MessageId], action: MailAction) -> Result<(), ServiceError> {
        self.ensure_running()?;
        if ids.len() > MAX_ACTION_IDS {
            return Err(ServiceError::InvalidInput(format!(
                "one action can change at most {MAX_ACTION_IDS} messages; {} were selected",
                ids.len()
            )));
        }
        let mut tx = self.store.begin_write().await?;
        let accounts = outbox::apply_locally(&mut tx, ids, action).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        tracing::info!(
            action = action.name(),
            messages = ids.len(),
            "mail action queued"
        );
        for account in accounts {
            self.events.publish(Event::DataChanged {
                account_id: Some(account),
            });
            self.sync.sync_now(Some(account));
        }
        Ok(())
    }
}
