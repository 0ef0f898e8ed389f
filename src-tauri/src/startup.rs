//! Start-up problems, said in a window instead of only in the log.
//!
//! Before this, a failed migration, a database from a newer version, a
//! locked database or a full disk reached the log file and the app exited
//! without a word. Now each becomes a [`Problem`]: what happened and what
//! to do, in the user's terms, shown in a small window of its own (a static
//! page, no IPC, nothing of the app behind it). The core has already left
//! the database as it was: a newer schema is refused before anything
//! writes, and a failed migration rolls back.
//!
//! The same window tells a second launch why it is not starting when it
//! cannot hand over to the running instance (no D-Bus session, or the
//! profile is held by `ember sync` rather than the app).

use std::path::Path;

use ember::compose::escape;
use ember::profile::{Holder, LockError};
use ember::store::StoreError;
use ember::ServiceError;

/// The label of the problem window.
pub const WINDOW: &str = "startup-problem";

/// What the window says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The heading: what happened, in a few words.
    pub title: String,
    /// What happened, in a sentence or two.
    pub detail: String,
    /// What the user can do about it.
    pub action: String,
    /// Whether the app is ending because of a fault (exit code 1), rather
    /// than because another copy is running (exit code 0).
    pub failure: bool,
}

/// SQLite's primary result codes the user can act on.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_READONLY: i32 = 8;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;

/// What to say when the profile lock could not be taken.
pub fn for_lock(e: &LockError) -> Problem {
    match e {
        LockError::Held { holder, dir } => held(holder.as_ref(), dir),
        LockError::Io { path, source } => for_io(source, path, &e.to_string()),
    }
}

fn held(holder: Option<&Holder>, dir: &Path) -> Problem {
    match holder {
        Some(h) if h.program == "fireside-ember" => Problem {
            title: "Fireside Ember is already running".into(),
            detail: format!(
                "Another Fireside Ember (process {}) has this profile ({}) open.",
                h.pid,
                dir.display()
            ),
            action: "Look for its window, or for its icon in the system tray. Only one copy \
                     runs at a time, so that mail is never synced or sent twice."
                .into(),
            failure: false,
        },
        _ => {
            let who = holder.map_or_else(
                || "another Ember program".to_owned(),
                |h| format!("`{}` (process {})", h.program, h.pid),
            );
            Problem {
                title: "Your mail is being synced by another program".into(),
                detail: format!(
                    "{who} is syncing this profile ({}) right now.",
                    dir.display()
                ),
                action: "Wait for it to finish, or stop it, then start Fireside Ember again."
                    .into(),
                failure: false,
            }
        }
    }
}

/// What to say when the service could not open the data folder.
pub fn for_open(e: &ServiceError, data_dir: &Path) -> Problem {
    let logs = ember::logging::log_dir(data_dir);
    let text = e.to_string();
    match e {
        ServiceError::Store(StoreError::NewerSchema { found, known, .. }) => Problem {
            title: "This profile is from a newer Fireside Ember".into(),
            detail: format!(
                "The database in {} was last used by a newer version of Fireside Ember \
                 (schema {found}; this version knows up to {known}). It has not been changed.",
                data_dir.display()
            ),
            action: "Start the newer version of Fireside Ember, or restore a backup of the \
                     data folder made with this version."
                .into(),
            failure: true,
        },
        ServiceError::Store(StoreError::Migrate(_)) => Problem {
            title: "The database could not be updated".into(),
            detail: format!(
                "Updating the database in {} to this version failed, and the update was rolled \
                 back: your mail is as it was. ({text})",
                data_dir.display()
            ),
            action: format!(
                "Make sure the disk has free space and the folder can be written, then start \
                 again. If it keeps failing, report it with the logs in {}.",
                logs.display()
            ),
            failure: true,
        },
        ServiceError::Store(store) => match sqlite_code(store) {
            Some(code) => for_sqlite(code, data_dir, &text, &logs),
            None => generic(data_dir, &text, &logs),
        },
        ServiceError::DataDir { path, source } => for_io(source, path, &text),
        _ => generic(data_dir, &text, &logs),
    }
}

fn for_sqlite(code: i32, data_dir: &Path, text: &str, logs: &Path) -> Problem {
    match code {
        SQLITE_BUSY | SQLITE_LOCKED => Problem {
            title: "The database is locked by another program".into(),
            detail: format!(
                "Another program holds the database in {} and did not let go ({text}).",
                data_dir.display()
            ),
            action: "Close programs that may have it open (a backup or sync tool, a database \
                     browser, another copy of Ember), then start again."
                .into(),
            failure: true,
        },
        SQLITE_FULL => disk_full(data_dir, text),
        SQLITE_READONLY | SQLITE_CANTOPEN => Problem {
            title: "The database cannot be opened".into(),
            detail: format!(
                "The database in {} cannot be opened for writing ({text}).",
                data_dir.display()
            ),
            action: "Check that the folder and its files belong to you and can be written, \
                     then start again."
                .into(),
            failure: true,
        },
        _ => generic(data_dir, text, logs),
    }
}

fn for_io(source: &std::io::Error, path: &Path, text: &str) -> Problem {
    // ENOSPC (28) and EDQUOT (122) on Linux; ERROR_DISK_FULL (112) on Windows.
    let full = source.kind() == std::io::ErrorKind::StorageFull
        || matches!(source.raw_os_error(), Some(28 | 122 | 112));
    if full {
        return disk_full(path, text);
    }
    Problem {
        title: "The data folder cannot be used".into(),
        detail: format!("{} cannot be used ({text}).", path.display()),
        action: "Check that the folder belongs to you and can be written (or set \
                 EMBER_DATA_DIR to another folder), then start again."
            .into(),
        failure: true,
    }
}

fn disk_full(path: &Path, text: &str) -> Problem {
    Problem {
        title: "The disk is full".into(),
        detail: format!(
            "There is no room left on the disk that holds {} ({text}). Nothing was changed.",
            path.display()
        ),
        action: "Free some space on that disk, then start Fireside Ember again.".into(),
        failure: true,
    }
}

fn generic(data_dir: &Path, text: &str, logs: &Path) -> Problem {
    Problem {
        title: "Fireside Ember could not open your data".into(),
        detail: format!("Opening {} failed: {text}", data_dir.display()),
        action: format!(
            "Start again; if it keeps failing, report it with the logs in {}.",
            logs.display()
        ),
        failure: true,
    }
}

/// SQLite's primary result code behind `e`, if it came from SQLite.
fn sqlite_code(e: &StoreError) -> Option<i32> {
    let sqlx_error = match e {
        StoreError::Open { source, .. } | StoreError::Database(source) => source,
        _ => return None,
    };
    match sqlx_error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff),
        // The pool gave up waiting for a connection the lock kept busy.
        sqlx::Error::PoolTimedOut => Some(SQLITE_BUSY),
        _ => None,
    }
}

/// The problem window's page: static HTML, its text escaped.
pub fn page(problem: &Problem) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Fireside Ember</title><style>\
         body{{font:15px/1.5 system-ui,sans-serif;margin:0;padding:28px 32px;color:#222;background:#fbfaf8}}\
         h1{{font-size:19px;margin:0 0 12px}}p{{margin:0 0 12px}}\
         .action{{font-weight:600}}@media (prefers-color-scheme:dark){{body{{color:#eee;background:#222}}}}\
         </style></head><body><main role=\"alert\">\
         <h1 id=\"problem-title\">{}</h1><p id=\"problem-detail\">{}</p>\
         <p id=\"problem-action\" class=\"action\">{}</p>\
         <p>Close this window to quit.</p></main></body></html>",
        escape(&problem.title),
        escape(&problem.detail),
        escape(&problem.action)
    )
}

/// The URI scheme the window's page is served under. A `data:` URL would
/// need tauri's `webview-data-url` feature (which pulls in a second HTML
/// parser to rewrite the page); without it tauri refuses the window in its
/// setup hook and the app panics instead of showing anything, which is what
/// the first end-to-end run of this window found (ui/e2e/startup.mjs).
pub const SCHEME: &str = "ember-problem";

/// The address of the page: the scheme as each platform's webview names it.
pub fn page_url() -> Result<tauri::Url, <tauri::Url as std::str::FromStr>::Err> {
    if cfg!(windows) {
        format!("http://{SCHEME}.localhost/").parse()
    } else {
        format!("{SCHEME}://localhost/").parse()
    }
}

/// The response for every request under [`SCHEME`]: the page, with a
/// policy that lets nothing but its own inline style run or load.
pub fn response(page: &str) -> tauri::http::Response<Vec<u8>> {
    tauri::http::Response::builder()
        .header("Content-Type", "text/html; charset=utf-8")
        .header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        )
        .body(page.as_bytes().to_vec())
        .unwrap_or_else(|_| tauri::http::Response::new(page.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_newer_schema_is_said_as_such_and_the_data_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(ember::store::DATABASE_FILE);
        {
            let store = ember::store::Store::open(&path).await.expect("store");
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (9999, 'future', 1, x'00', 0)",
            )
            .execute(store.pool())
            .await
            .expect("future migration");
            store.close().await;
        }
        let e = ember::Ember::open(
            ember::Config::new(dir.path()),
            ember::sync::SyncSources::new(),
        )
        .await
        .expect_err("a newer schema opens");
        let problem = for_open(&e, dir.path());
        assert_eq!(problem.title, "This profile is from a newer Fireside Ember");
        assert!(problem.detail.contains("schema 9999"), "{}", problem.detail);
        assert!(problem.detail.contains("has not been changed"));
        assert!(problem.action.contains("newer version"));
        assert!(problem.failure);
        let html = page(&problem);
        assert!(html.contains("This profile is from a newer Fireside Ember"));
        let served = response(&html);
        assert_eq!(served.body(), html.as_bytes());
        assert!(served.headers()["content-security-policy"]
            .to_str()
            .is_ok_and(|csp| csp.starts_with("default-src 'none'")));
        assert_eq!(
            page_url().map(|u| u.scheme().to_owned()),
            Ok(SCHEME.to_owned())
        );
    }

    #[test]
    fn a_full_disk_a_locked_database_and_a_failed_migration_each_say_what_to_do() {
        let dir = Path::new("/data/ember");
        let full = ServiceError::DataDir {
            path: dir.to_owned(),
            source: std::io::Error::from_raw_os_error(28),
        };
        assert_eq!(for_open(&full, dir).title, "The disk is full");
        let migrate = ServiceError::Store(StoreError::Migrate(
            sqlx::migrate::MigrateError::VersionMissing(4),
        ));
        let problem = for_open(&migrate, dir);
        assert_eq!(problem.title, "The database could not be updated");
        assert!(problem.detail.contains("rolled back"));
        assert!(
            problem.action.contains("/data/ember/logs"),
            "{}",
            problem.action
        );
        let timed_out = ServiceError::Store(StoreError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(
            for_open(&timed_out, dir).title,
            "The database is locked by another program"
        );
    }

    #[test]
    fn a_second_launch_names_what_holds_the_profile() {
        let dir = Path::new("/data/ember");
        let app = for_lock(&LockError::Held {
            dir: dir.to_owned(),
            holder: Some(Holder {
                pid: 42,
                program: "fireside-ember".into(),
                since: 0,
            }),
        });
        assert_eq!(app.title, "Fireside Ember is already running");
        assert!(app.detail.contains("process 42"));
        assert!(!app.failure);
        let cli = for_lock(&LockError::Held {
            dir: dir.to_owned(),
            holder: Some(Holder {
                pid: 7,
                program: "ember".into(),
                since: 0,
            }),
        });
        assert!(cli.detail.contains("`ember` (process 7)"), "{}", cli.detail);
        assert!(cli.action.contains("Wait for it to finish"));
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        let html = page(&Problem {
            title: "<script>x</script>".into(),
            detail: "a & b".into(),
            action: "\"quoted\"".into(),
            failure: true,
        });
        assert!(!html.contains("<script>x"));
        assert!(html.contains("&lt;script&gt;") && html.contains("a &amp; b"));
    }
}
