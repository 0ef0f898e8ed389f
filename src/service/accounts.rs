//! Accounts from the window: switch an account's sync on or off. Adding
//! and signing in live in [`super::sign_in`].

use super::{Ember, ServiceError};
use crate::model::{Account, AccountId};

impl Ember {
    /// Switches one account's sync on or off (the global switch applies on
    /// top). Switching on starts a run at once.
    pub async fn set_account_sync(
        &self,
        id: AccountId,
        enabled: bool,
    ) -> Result<Account, ServiceError> {
        self.ensure_running()?;
        self.store.set_account_sync_enabled(id, enabled).await?;
        if enabled {
            self.sync.sync_now(Some(id));
        }
        let account = self.store.account(id).await?;
        let record = self.store.sync_record(id).await?;
        self.sync.publish_state(&account, &record);
        self.events
            .publish(crate::events::Event::DataChanged { account_id: None });
        Ok(account)
    }
}
