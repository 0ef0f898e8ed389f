//! The window's commands, grouped by area. Each takes the shared
//! [`AppState`](crate::AppState) and its arguments and makes one call into the
//! core: no SQL and no decisions here.

pub mod accounts;
pub mod actions;
pub mod categories;
pub mod compose;
pub mod diagnostics;
pub mod mail;
pub mod settings;
pub mod sync;
pub mod work_items;
