//! OS notifications for new Primary mail, driven by the core's
//! `Event::NewMail`: rate-limited and summarised by
//! `ember::notify::NotificationGate`, and silent when the user turned
//! notifications off in settings.

use ember::events::Event;
use ember::notify::{Notice, NotificationGate, NOTIFY_INTERVAL};
use ember::Ember;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// Spawns the notifier; it ends when the service shuts down.
pub fn spawn<R: Runtime>(app: AppHandle<R>, ember: Ember) {
    let mut events = ember.events().subscribe();
    let tracked = ember.clone();
    tauri::async_runtime::spawn(tracked.track(async move {
        let mut gate = NotificationGate::new(NOTIFY_INTERVAL);
        let stop = ember.shutting_down();
        tokio::pin!(stop);
        loop {
            let wake = gate.next_due();
            let notice = tokio::select! {
                () = &mut stop => break,
                () = sleep_until(wake) => gate.due(Instant::now()),
                received = events.recv() => match received {
                    Ok(Event::NewMail { primary, .. }) => gate.offer(Instant::now(), &primary),
                    Ok(_) | Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => break,
                },
            };
            let Some(notice) = notice else { continue };
            // Checked when showing, so switching off silences what waits too.
            if ember.notifications_enabled().await.unwrap_or(true) {
                show(&app, &notice);
            }
        }
    }));
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn show<R: Runtime>(app: &AppHandle<R>, notice: &Notice) {
    if let Err(e) = app
        .notification()
        .builder()
        .title(&notice.title)
        .body(&notice.body)
        .show()
    {
        tracing::warn!("cannot show a notification: {e}");
    }
}
