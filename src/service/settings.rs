//! The settings screen's two calls: read every preference, and replace them
//! all at once after validation, applying what changes behaviour at once.

use std::time::Duration;

use super::{Ember, ServiceError};
use crate::model::Settings;

impl Ember {
    /// Every preference, defaults filled in.
    pub async fn settings(&self) -> Result<Settings, ServiceError> {
        Ok(self.store.settings().await?)
    }

    /// Validates and stores `settings`, then applies them: a new sync
    /// interval reschedules the running loops, and switching categories on
    /// or off takes effect at once. Nothing is stored when any
    /// field is invalid.
    pub async fn update_settings(&self, settings: Settings) -> Result<Settings, ServiceError> {
        self.ensure_running()?;
        let settings = settings.validated().map_err(ServiceError::InvalidSetting)?;
        self.store.save_settings(&settings).await?;
        self.sync.set_interval(Duration::from_secs(
            u64::from(settings.sync_interval_minutes) * 60,
        ));
        self.categoriser.settings_changed();
        tracing::info!(?settings, "settings changed");
        Ok(settings)
    }
}
