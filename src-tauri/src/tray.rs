//! The system tray: a checkable "Sync enabled", "Sync now", "Show Ember" and
//! "Quit", with a tooltip that sums up sync. Its actions are the same service
//! calls the window's commands make.

use ember::Ember;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Runtime};

const SYNC_ENABLED: &str = "sync-enabled";
const SYNC_NOW: &str = "sync-now";
const SHOW: &str = "show";
const QUIT: &str = "quit";

/// The tray's parts that change while the app runs.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    sync_enabled: CheckMenuItem<R>,
}

impl<R: Runtime> Tray<R> {
    /// Moves the check mark to `enabled` (the switch changed elsewhere).
    pub fn set_sync_enabled(&self, enabled: bool) {
        if self.sync_enabled.is_checked().ok() != Some(enabled) {
            let _ = self.sync_enabled.set_checked(enabled);
        }
    }

    /// Shows `text` as the tooltip.
    pub fn set_tooltip(&self, text: &str) {
        let _ = self.icon.set_tooltip(Some(text));
    }
}

/// Builds the tray for `app`.
pub fn create<R: Runtime>(app: &AppHandle<R>, ember: &Ember) -> tauri::Result<Tray<R>> {
    let status_enabled = tauri::async_runtime::block_on(ember.status())
        .map(|s| s.sync_enabled)
        .unwrap_or(true);
    let sync_enabled = CheckMenuItem::with_id(
        app,
        SYNC_ENABLED,
        "Sync enabled",
        true,
        status_enabled,
        None::<&str>,
    )?;
    let menu = Menu::with_items(
        app,
        &[
            &sync_enabled,
            &MenuItem::with_id(app, SYNC_NOW, "Sync now", true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, SHOW, "Show Ember", true, None::<&str>)?,
            &MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .tooltip("Fireside Ember")
        .on_menu_event({
            let ember = ember.clone();
            let check = sync_enabled.clone();
            move |app, event| match event.id().as_ref() {
                SYNC_ENABLED => {
                    // The menu has already flipped the check mark; make the
                    // service agree, and the window follows from its event.
                    let on = check.is_checked().unwrap_or(true);
                    let ember = ember.clone();
                    tauri::async_runtime::spawn(async move {
                        if let Err(e) = ember.set_sync_enabled(on).await {
                            tracing::warn!("cannot switch sync: {e}");
                        }
                    });
                }
                SYNC_NOW => {
                    let _ = ember.sync_now(None);
                }
                SHOW => crate::show_main_window(app),
                QUIT => crate::quit(app),
                _ => {}
            }
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::show_main_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    Ok(Tray { icon, sync_enabled })
}
