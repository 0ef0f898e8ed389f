//! Fireside Ember's desktop entry point; everything lives in [`ember_app::run`].

// Without a console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    ember_app::run()
}
