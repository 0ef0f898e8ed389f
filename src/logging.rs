//! Where Ember's logs go: one setup shared by the `ember` CLI and the
//! desktop app.
//!
//! Every process writes to a daily file in the log folder (`EMBER_LOG_DIR`,
//! else `<data dir>/logs`), of which the newest [`KEEP_FILES`] per program
//! are kept, and to stderr when the caller asks for it (the CLI always, the
//! app when started from a terminal). `EMBER_LOG` filters both, with
//! `tracing-subscriber`'s `EnvFilter` syntax (`info`, `ember::sync=debug`);
//! unset, the file records `info` and the terminal the caller's default.
//!
//! The file is written by `tracing-appender`'s non-blocking writer: a log
//! line never waits for the disk on an async worker, and the [`LogGuard`]
//! flushes what is buffered when the program ends, so it must live until
//! then. A full buffer drops lines rather than stalling the program.
//!
//! Secrets are kept out by type (see [`crate::secret`]), and the HTTP
//! stack's own logging, which prints whole URLs (a sign-in redirect carries
//! its authorization code) and, in reqwest's verbose mode, headers, is
//! capped at `info` whatever `EMBER_LOG` asks ([`CAPPED_TARGETS`]).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// The environment variable that filters what is logged.
pub const LOG_ENV: &str = "EMBER_LOG";
/// The environment variable that moves the log folder.
pub const LOG_DIR_ENV: &str = "EMBER_LOG_DIR";
/// The log folder's name inside the data folder.
pub const LOG_DIR_NAME: &str = "logs";
/// Daily files kept per program (two weeks); older ones are deleted when a
/// new one starts.
pub const KEEP_FILES: usize = 14;
/// What the file records when `EMBER_LOG` is unset.
pub const DEFAULT_FILE_LEVEL: &str = "info";
/// Log targets never recorded below `info`: the HTTP client and server
/// stack. reqwest logs each request's and redirect's whole URL at debug
/// level (a sign-in redirect carries the authorization code) and, with
/// verbose connections, the bytes of every header at trace.
pub const CAPPED_TARGETS: [&str; 4] = ["reqwest", "hyper", "hyper_util", "h2"];
/// Log targets recorded only at `error`: the HTML parser under the
/// sanitiser warns once per parse error ("foster parenting not
/// implemented"), and one large or hostile mail has tens of thousands of
/// them each time it is stored or shown (21,566 lines for one 30 MB
/// newsletter stored and opened 26 times).
pub const PARSER_TARGETS: [&str; 2] = ["html5ever", "markup5ever"];

/// The target of progress events ([`progress`]).
pub const PROGRESS_TARGET: &str = "ember::progress";

/// Reports that `task` has done `done` of `total` steps: a debug event on
/// [`PROGRESS_TARGET`], which the CLI draws as a progress bar and the log
/// file records at debug level. For long work outside the service (training,
/// benchmarks); the service's own runs report on the event bus.
pub fn progress(task: &str, done: u64, total: u64) {
    tracing::debug!(target: PROGRESS_TARGET, task, done, total, "progress");
}

/// What went wrong setting logging up (the program goes on without it).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The log folder cannot be created or written.
    #[error("cannot write logs to {path}: {reason}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Another subscriber was installed first (a test harness, an embedder).
    #[error("logging was already set up")]
    AlreadySet,
}

/// The log folder of a profile whose data is in `data_dir`:
/// `EMBER_LOG_DIR`, else `<data dir>/logs`.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    match std::env::var_os(LOG_DIR_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => data_dir.join(LOG_DIR_NAME),
    }
}

/// The filter for `spec` (what `EMBER_LOG` holds), or `default` when it is
/// unset or unreadable, with [`CAPPED_TARGETS`] held at `info` and
/// [`PARSER_TARGETS`] at `error`.
pub fn filter(spec: Option<&str>, default: &str) -> EnvFilter {
    let base = spec
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let capped = CAPPED_TARGETS.iter().map(|t| format!("{t}=info"));
    let quiet = PARSER_TARGETS.iter().map(|t| format!("{t}=error"));
    capped
        .chain(quiet)
        .fold(base, |filter, directive| match directive.parse() {
            Ok(directive) => filter.add_directive(directive),
            Err(_) => filter,
        })
}

/// A daily rolling file `<prefix>.<YYYY-MM-DD>.log` in `dir`, keeping the
/// newest [`KEEP_FILES`] of this prefix. Creates `dir` (readable only by the
/// user: logs name senders and subjects).
pub fn file_appender(dir: &Path, prefix: &str) -> Result<RollingFileAppender, LogError> {
    let folder_err = |reason: String| LogError::Folder {
        path: dir.to_owned(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| folder_err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(prefix)
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(|e| folder_err(e.to_string()))
}

/// How a program wants its logs.
pub struct LogOptions {
    /// The log files' name (`ember` for the CLI, `fireside-ember` for the app).
    pub program: &'static str,
    /// The log folder; `None` writes no file.
    pub dir: Option<PathBuf>,
    /// Where terminal lines go, if anywhere (see [`stderr`]).
    pub terminal: Option<BoxMakeWriter>,
    /// Whether terminal lines carry colours.
    pub ansi: bool,
    /// What the terminal shows when `EMBER_LOG` is unset.
    pub terminal_default: &'static str,
    /// One more layer (the CLI's progress bars).
    pub extra: Option<Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>>,
}

impl std::fmt::Debug for LogOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogOptions")
            .field("program", &self.program)
            .field("dir", &self.dir)
            .field("terminal", &self.terminal.is_some())
            .field("terminal_default", &self.terminal_default)
            .field("extra", &self.extra.is_some())
            .finish()
    }
}

/// Stderr as a log destination.
pub fn stderr() -> BoxMakeWriter {
    BoxMakeWriter::new(std::io::stderr)
}

/// Whether stderr is a terminal (the app logs there only then).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Keeps the log file's writer running; dropping it flushes what is
/// buffered. Hold it until the program ends.
#[derive(Debug)]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
    /// The folder the file goes to, when there is one.
    pub dir: Option<PathBuf>,
    /// Why there is no file, when one was asked for.
    pub problem: Option<LogError>,
}

/// The terminal layer's field formatter: the default one under a type of
/// its own. Layers whose formatters share a type share each span's buffer
/// of formatted fields, and each appends what the span records later, so
/// with the file and the terminal both on, a run's outcome and counts
/// printed twice in every line of the run.
#[derive(Debug, Default)]
struct TerminalFields(tracing_subscriber::fmt::format::DefaultFields);

impl<'writer> tracing_subscriber::fmt::FormatFields<'writer> for TerminalFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: tracing_subscriber::fmt::format::Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        self.0.format_fields(writer, fields)
    }
}

/// Installs the global subscriber as `options` ask. Never fails the
/// program: a folder that cannot be written leaves the terminal only, and
/// the guard says why (the caller logs it once the subscriber is up).
pub fn init(options: LogOptions) -> LogGuard {
    let spec = std::env::var(LOG_ENV).ok();
    let mut problem = None;
    let mut guard = None;
    let mut dir = None;
    let file_layer = match &options.dir {
        Some(folder) => match file_appender(folder, options.program) {
            Ok(appender) => {
                let (writer, worker) =
                    tracing_appender::non_blocking::NonBlockingBuilder::default()
                        .lossy(true)
                        .thread_name("ember-log-writer")
                        .finish(appender);
                guard = Some(worker);
                dir = Some(folder.clone());
                Some(
                    tracing_subscriber::fmt::layer()
                        .with_writer(writer)
                        .with_ansi(false)
                        .with_span_events(FmtSpan::CLOSE)
                        .with_filter(filter(spec.as_deref(), DEFAULT_FILE_LEVEL)),
                )
            }
            Err(e) => {
                problem = Some(e);
                None
            }
        },
        None => None,
    };
    let terminal_layer = options.terminal.map(|writer| {
        tracing_subscriber::fmt::layer()
            .fmt_fields(TerminalFields::default())
            .with_writer(writer)
            .with_ansi(options.ansi)
            .with_filter(filter(spec.as_deref(), options.terminal_default))
    });
    let registry = tracing_subscriber::registry()
        .with(options.extra)
        .with(file_layer)
        .with(terminal_layer);
    #[cfg(feature = "console")]
    let registry = registry.with(console_subscriber::spawn());
    if registry.try_init().is_err() {
        problem = Some(LogError::AlreadySet);
    }
    LogGuard {
        _file: guard,
        dir,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Lines `emit` logs through `filter`, as text.
    fn captured(filter: EnvFilter, emit: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let make = move || Sink(sink.clone());
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(make)
                .with_ansi(false)
                .with_filter(filter),
        );
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut b) = self.0.lock() {
                b.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_html_parsers_per_error_warnings_stay_out_of_the_log() {
        for spec in [None, Some("warn"), Some("debug")] {
            let out = captured(filter(spec, DEFAULT_FILE_LEVEL), || {
                tracing::warn!(
                    target: "html5ever::tree_builder",
                    "foster parenting not implemented"
                );
                tracing::warn!(target: "ember::render", "our own warning");
            });
            assert!(!out.contains("foster parenting"), "{spec:?}: {out}");
            assert!(out.contains("our own warning"), "{spec:?}: {out}");
        }
    }

    #[test]
    fn the_http_stack_never_logs_below_info_whatever_ember_log_asks() {
        for spec in ["trace", "reqwest=trace", "trace,reqwest=trace,hyper=trace"] {
            let out = captured(filter(Some(spec), "warn"), || {
                tracing::debug!(
                    target: "reqwest::async_impl::client",
                    "redirecting 'x' to 'http://127.0.0.1:1/?code=4/0canary'"
                );
                tracing::trace!(target: "reqwest::connect::verbose", "authorization: Bearer canary");
                tracing::trace!(target: "hyper::proto::h1::role", "headers canary");
                tracing::trace!(target: "ember::sync", "our own trace line");
            });
            assert!(!out.contains("canary"), "{spec}: {out}");
            assert_eq!(
                out.contains("our own trace line"),
                spec.starts_with("trace"),
                "{spec} still reaches Ember's own code: {out}"
            );
        }
    }

    #[test]
    fn fields_recorded_later_print_once_with_the_file_and_the_terminal_on() {
        let file = Arc::new(Mutex::new(Vec::new()));
        let terminal = Arc::new(Mutex::new(Vec::new()));
        let (f, t) = (file.clone(), terminal.clone());
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(move || Sink(f.clone()))
                    .with_ansi(false),
            )
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(TerminalFields::default())
                    .with_writer(move || Sink(t.clone()))
                    .with_ansi(false),
            );
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("sync_run", outcome = tracing::field::Empty);
            span.record("outcome", "ok");
            span.in_scope(|| tracing::info!("done"));
        });
        for buffer in [file, terminal] {
            let text =
                String::from_utf8_lossy(&buffer.lock().map(|b| b.clone()).unwrap_or_default())
                    .into_owned();
            assert_eq!(text.matches("outcome").count(), 1, "{text}");
        }
    }

    #[test]
    fn an_unset_or_unreadable_ember_log_falls_back_to_the_default() {
        for spec in [None, Some(""), Some("=====")] {
            let out = captured(filter(spec, "warn"), || {
                tracing::info!(target: "ember::sync", "info line");
                tracing::warn!(target: "ember::sync", "warn line");
            });
            assert!(
                out.contains("warn line") && !out.contains("info line"),
                "{out}"
            );
        }
    }

    #[test]
    fn old_log_files_beyond_the_kept_number_are_deleted() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        for day in 1..=20 {
            std::fs::write(
                dir.path().join(format!("ember.2020-01-{day:02}.log")),
                "old\n",
            )?;
        }
        // Another program's files are not this one's to prune.
        std::fs::write(dir.path().join("fireside-ember.2020-01-01.log"), "app\n")?;
        let mut appender = file_appender(dir.path(), "ember")?;
        std::io::Write::write_all(&mut appender, b"today\n")?;
        drop(appender);
        let names: Vec<String> = std::fs::read_dir(dir.path())?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let ours = names.iter().filter(|n| n.starts_with("ember.")).count();
        assert_eq!(ours, KEEP_FILES, "kept: {names:?}");
        assert!(names.iter().any(|n| n == "fireside-ember.2020-01-01.log"));
        Ok(())
    }
}
