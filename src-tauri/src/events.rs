//! Forwards the core's events to the window (as Tauri events named by the
//! core) and keeps the tray's check mark and tooltip in step with them.

use std::collections::HashMap;

use ember::events::Event;
use ember::model::{sync_headline, AccountId, SyncState};
use ember::Ember;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::broadcast::error::RecvError;

use crate::tray::Tray;

/// Spawns the bridge; it ends when the service shuts down.
pub fn spawn_bridge<R: Runtime>(app: AppHandle<R>, ember: Ember, tray: Option<Tray<R>>) {
    let mut events = ember.events().subscribe();
    let tracked = ember.clone();
    tauri::async_runtime::spawn(tracked.track(async move {
        let mut view = TrayView::default();
        if let Ok(status) = ember.status().await {
            view.enabled = status.sync_enabled;
            view.states = status
                .accounts
                .into_iter()
                .map(|a| (a.account.id, a.sync))
                .collect();
        }
        view.show(tray.as_ref());
        let stop = ember.shutting_down();
        tokio::pin!(stop);
        loop {
            let event = tokio::select! {
                () = &mut stop => break,
                received = events.recv() => match received {
                    Ok(event) => event,
                    // The window resynchronises from a status snapshot on
                    // its own; the tray just keeps going.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                },
            };
            if let Err(e) = app.emit(event.channel().name(), &event) {
                tracing::warn!("cannot send an event to the window: {e}");
            }
            if view.apply(&event) {
                view.show(tray.as_ref());
            }
        }
    }));
}

/// What the tray shows, derived from events.
#[derive(Default)]
struct TrayView {
    enabled: bool,
    states: HashMap<AccountId, SyncState>,
    shown: Option<(bool, String)>,
}

impl TrayView {
    /// Applies `event`; returns whether the tray may need updating.
    fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::AccountSync { account_id, sync } => {
                self.states.insert(*account_id, sync.clone());
                true
            }
            Event::SyncEnabledChanged { enabled } => {
                self.enabled = *enabled;
                true
            }
            Event::DataChanged { .. } | Event::NewMail { .. } => false,
        }
    }

    fn show<R: Runtime>(&mut self, tray: Option<&Tray<R>>) {
        let headline = sync_headline(self.enabled, self.states.values());
        let next = (self.enabled, headline);
        if self.shown.as_ref() == Some(&next) {
            return;
        }
        if let Some(tray) = tray {
            tray.set_sync_enabled(next.0);
            tray.set_tooltip(&next.1);
        }
        self.shown = Some(next);
    }
}
