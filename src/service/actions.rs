//! What the user does to mail: mark read or unread, star, archive, trash,
//! move to a folder.
//!
//! Each call changes the local rows and queues the provider's twin in one
//! transaction (see [`crate::store::outbox`]), tells the window at once, and
//! asks the accounts involved to sync now, which sends the queue first.

use super::{Ember, ServiceError};
use crate::events::Event;
use crate::model::{AccountId, FolderRole, MessageId};
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

    /// Moves messages to `folder` (a local folder id) of their account:
    /// out of where they are shown and into it (see
    /// [`MailAction::MoveTo`]). Every message must belong to the folder's
    /// account, and the folder must be one mail can be filed in (not Sent,
    /// Drafts, Starred, Important, or a Microsoft 365 category).
    pub async fn move_to_folder(&self, ids: &[MessageId], folder: i64) -> Result<(), ServiceError> {
        self.ensure_running()?;
        let target = self.store.folder(folder).await?;
        let refuse = |why: &str| Err(ServiceError::InvalidInput(why.to_owned()));
        match target.role {
            FolderRole::Sent | FolderRole::Drafts | FolderRole::Starred | FolderRole::Important => {
                return refuse(&format!("mail cannot be moved to {}", target.name));
            }
            FolderRole::Trash => return self.trash(ids).await,
            _ if target.provider_id.starts_with("category:") => {
                return refuse("a category is a label: set it instead of moving there");
            }
            _ => {}
        }
        let accounts = self.store.accounts_of_messages(ids).await?;
        if accounts.iter().any(|a| *a != target.account_id) {
            return refuse("mail can only be moved to a folder of its own account");
        }
        self.act(
            ids,
            MailAction::MoveTo {
                folder: target.provider_id,
            },
        )
        .await
    }

    /// Actions of `account` the provider has not been told yet.
    pub async fn pending_actions(&self, account: AccountId) -> Result<i64, ServiceError> {
        Ok(self.store.outbox_len(account).await?)
    }

    /// The accounts the messages `ids` belong to.
    pub async fn accounts_of_messages(
        &self,
        ids: &[MessageId],
    ) -> Result<Vec<AccountId>, ServiceError> {
        Ok(self.store.accounts_of_messages(ids).await?)
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
        let name = action.name();
        let accounts = outbox::apply_locally(&mut tx, ids, action).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        tracing::info!(action = name, messages = ids.len(), "mail action queued");
        for account in accounts {
            self.events.publish(Event::DataChanged {
                account_id: Some(account),
            });
            self.sync.sync_now(Some(account));
        }
        Ok(())
    }
}
