//! Fireside Ember's desktop shell: a thin Tauri layer over the `ember` core.
//!
//! It builds the service before the app (so every command finds it managed),
//! registers the commands, bridges the core's events to the window and the
//! tray, hides the window to the tray on close, and shuts the service down on
//! Quit. It holds no business logic: every decision is a call into
//! [`ember::Ember`].
//!
//! Start-up order matters: the profile lock is taken first, so a second
//! launch learns that another instance runs before anything opens the
//! database (no migration, no categoriser); it hands over to the running
//! app when the single-instance plugin can reach it, and otherwise says so
//! in a window (see [`startup`]), as does a start that fails.

mod browser;
mod commands;
mod error;
mod events;
mod links;
mod notify;
pub mod startup;
mod tray;

use std::process::ExitCode;
use std::time::Duration;

use ember::{Config, Ember};
use tauri::{Manager, RunEvent, Runtime, WindowEvent};

/// How long Quit waits for background tasks before leaving anyway.
pub const QUIT_DEADLINE: Duration = Duration::from_secs(5);

/// What every command receives.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The service layer.
    pub ember: Ember,
}

/// Registers the state and commands on `builder`. Generic over the runtime so
/// tests can drive the commands on Tauri's mock runtime.
pub fn app_builder<R: Runtime>(builder: tauri::Builder<R>, ember: Ember) -> tauri::Builder<R> {
    builder
        .manage(AppState { ember })
        .invoke_handler(tauri::generate_handler![
            commands::accounts::list_accounts,
            commands::mail::list_messages,
            commands::mail::get_message,
            commands::mail::search_messages,
            commands::work_items::list_work_items,
            commands::work_items::get_work_item,
            commands::work_items::refresh_work_item,
            commands::work_items::edit_work_item,
            commands::work_items::resolve_work_item_conflict,
            commands::work_items::linked_work_items,
            commands::sync::get_status,
            commands::sync::set_sync_enabled,
            commands::sync::sync_now,
            commands::accounts::add_account,
            commands::accounts::reauthenticate,
            commands::accounts::remove_account,
            commands::accounts::set_account_sync,
            commands::settings::get_settings,
            commands::settings::update_settings,
            commands::diagnostics::get_diagnostics,
            commands::actions::set_unread,
            commands::actions::set_starred,
            commands::actions::archive_messages,
            commands::actions::trash_messages,
            commands::actions::move_messages,
            commands::compose::compose,
            commands::compose::open_draft,
            commands::compose::get_draft,
            commands::compose::list_drafts,
            commands::compose::save_draft,
            commands::compose::attach_file,
            commands::compose::detach_file,
            commands::compose::send_draft,
            commands::compose::undo_send,
            commands::compose::discard_draft,
            commands::compose::suggest_contacts,
            commands::categories::move_to_category,
            commands::categories::explain_category,
            commands::mail::list_folders,
            commands::mail::get_thread,
            commands::mail::render_message,
            commands::mail::allow_remote,
            commands::mail::open_link,
        ])
}

/// Runs the desktop app until Quit.
pub fn run() -> ExitCode {
    // Held until the app ends: dropping it flushes the log file.
    let _logs = init_logging();
    match run_app() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("Fireside Ember could not start: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "tauri::generate_context! expands to std::process::exit on a broken embedded config"
)]
fn run_app() -> anyhow::Result<()> {
    let data_dir = ember::config::resolve_data_dir(None)
        .ok_or_else(|| anyhow::anyhow!("no data directory: set EMBER_DATA_DIR or a home folder"))?;
    // The single-instance check, before the store opens: also without a
    // D-Bus session, where the plugin below cannot see another instance.
    let lock = match ember::profile::ProfileLock::acquire(&data_dir, "fireside-ember") {
        Ok(lock) => lock,
        Err(e) => {
            tracing::warn!("the profile is not available: {e}");
            return show_problem(&startup::for_lock(&e));
        }
    };
    let sources = ember::service::sources::standard()?;
    let opened = tauri::async_runtime::block_on(async {
        let ember = Ember::open(Config::new(data_dir.clone()), sources).await?;
        ember.adopt_profile(lock).await?;
        Ok::<_, ember::ServiceError>(ember)
    });
    let ember = match opened {
        Ok(ember) => ember,
        Err(e) => {
            tracing::error!("Fireside Ember could not start: {e}");
            return show_problem(&startup::for_open(&e, &data_dir));
        }
    };

    let builder = tauri::Builder::default()
        // First, so a second launch focuses this one before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main_window(app);
        }))
        // Sign-in pages and links open in the system browser.
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        // Remembers the main window's size and position across runs, but
        // not whether it was hidden: closing hides to the tray, and a window
        // restored hidden would be lost where no tray is hosted.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        );
    let app = app_builder(builder, ember.clone())
        .setup(|app| {
            create_main_window(app.handle())?;
            let state = app.state::<AppState>().inner().clone();
            let tray = match tray::create(app.handle(), &state.ember) {
                Ok(tray) => Some(tray),
                Err(e) => {
                    // Some desktops (and Xvfb) host no tray: the window still works.
                    tracing::warn!("no system tray: {e}");
                    None
                }
            };
            events::spawn_bridge(app.handle().clone(), state.ember.clone(), tray);
            notify::spawn(app.handle().clone(), state.ember.clone());
            // The window shows at once; demo accounts and sync follow.
            let ember = state.ember.clone();
            tauri::async_runtime::spawn(state.ember.track(async move {
                #[cfg(feature = "demo")]
                if let Err(e) = ember.start_demo().await {
                    tracing::warn!("demo mode could not start: {e}");
                }
                if let Err(e) = ember.start_sync().await {
                    tracing::warn!("sync could not start: {e}");
                }
            }));
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                // Closing hides to the tray; Quit (tray) ends the app.
                api.prevent_close();
                if let Err(e) = window.hide() {
                    tracing::warn!("cannot hide the window: {e}");
                }
            }
        })
        .build(tauri::generate_context!())?;

    app.run(move |_handle, event| {
        if let RunEvent::Exit = event {
            // Quit already shut down; any other exit path shuts down here.
            let report = tauri::async_runtime::block_on(ember.shutdown(QUIT_DEADLINE));
            tracing::info!(clean = report.clean, elapsed = ?report.elapsed, "exited");
        }
    });
    Ok(())
}

/// Shows `problem` in a window of its own and returns when it is closed.
/// With the single-instance plugin first, so that a second launch whose
/// running instance is reachable (over D-Bus on Linux) focuses it and ends
/// here without showing anything.
#[allow(
    clippy::disallowed_methods,
    reason = "tauri::generate_context! expands to std::process::exit on a broken embedded config"
)]
fn show_problem(problem: &startup::Problem) -> anyhow::Result<()> {
    let page = startup::page(problem);
    let title = problem.title.clone();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window(startup::WINDOW) {
                let _ = window.set_focus();
            }
        }))
        .register_uri_scheme_protocol(startup::SCHEME, move |_, _| startup::response(&page))
        .setup(move |app| {
            tauri::WebviewWindowBuilder::new(
                app,
                startup::WINDOW,
                tauri::WebviewUrl::CustomProtocol(startup::page_url()?),
            )
            .title(format!("Fireside Ember: {title}"))
            .inner_size(560.0, 300.0)
            .resizable(true)
            .build()?;
            Ok(())
        })
        .build(tauri::generate_context!())?;
    // Returns once the window is closed (`run` would exit the process).
    let _exit_code = app.run_return(|_, _| {});
    if problem.failure {
        anyhow::bail!("{} {}", problem.title, problem.detail)
    }
    Ok(())
}

/// Creates the main window from its configuration (which has `create:
/// false`), with the navigation rules of [`links`]: it never leaves the app,
/// and links go to the system browser.
fn create_main_window<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    let Some(config) = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
    else {
        return Ok(());
    };
    let nav_app = app.clone();
    let popup_app = app.clone();
    tauri::WebviewWindowBuilder::from_config(app, &config)?
        .on_navigation(move |url| links::on_navigation(&nav_app, url))
        .on_new_window(move |url, _features| links::on_new_window(&popup_app, &url))
        .build()?;
    Ok(())
}

/// Shows, unminimises and focuses the main window.
pub(crate) fn show_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Shuts the service down (waiting at most [`QUIT_DEADLINE`]) and exits.
pub(crate) fn quit<R: Runtime>(app: &tauri::AppHandle<R>) {
    let app = app.clone();
    let ember = app.state::<AppState>().ember.clone();
    tauri::async_runtime::spawn(async move {
        let report = ember.shutdown(QUIT_DEADLINE).await;
        tracing::info!(clean = report.clean, elapsed = ?report.elapsed, "quit");
        app.exit(0);
    });
}

/// Logs to the profile's log folder, and to the terminal when the app was
/// started from one.
fn init_logging() -> ember::logging::LogGuard {
    let terminal = ember::logging::stderr_is_terminal();
    let guard = ember::logging::init(ember::logging::LogOptions {
        program: "fireside-ember",
        dir: ember::config::resolve_data_dir(None).map(|d| ember::logging::log_dir(&d)),
        terminal: terminal.then(ember::logging::stderr),
        ansi: terminal,
        terminal_default: "info",
        extra: None,
    });
    match &guard.problem {
        Some(problem) => tracing::warn!("{problem}"),
        None => tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            logs = ?guard.dir,
            "Fireside Ember starting"
        ),
    }
    guard
}
