//! Progress bars for long commands, on stderr, only for a person watching.
//!
//! Bars are drawn when neither `--json` was given nor stdout or stderr is
//! redirected; otherwise nothing is drawn and the output stays exactly what
//! scripts read. Two sources feed them: the service's event bus (a sync
//! run's phase and counts, the same events the window shows), and, for work
//! outside the service (training, benchmarks), the core's progress events
//! on the log seam ([`crate::logging::progress`]). Log lines written to the
//! terminal while bars are drawn go through [`log_writer`], which lifts the
//! bars out of the way first.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::events::Event;
use crate::model::{Account, SyncState};
use crate::service::Ember;

/// The bars of this process, once [`enable`] decided to draw.
static BARS: OnceLock<MultiProgress> = OnceLock::new();
/// Bars of tasks reported on the log seam, by task name.
static TASKS: Mutex<Option<HashMap<String, ProgressBar>>> = Mutex::new(None);

/// Whether a command should draw bars: not with `--json`, and only when
/// both stdout and stderr are terminals.
pub(super) fn wanted(json: bool, stdout_terminal: bool, stderr_terminal: bool) -> bool {
    !json && stdout_terminal && stderr_terminal
}

/// Starts drawing on stderr when [`wanted`]; returns whether it does.
pub(super) fn enable(json: bool) -> bool {
    if !wanted(
        json,
        std::io::stdout().is_terminal(),
        std::io::stderr().is_terminal(),
    ) {
        return false;
    }
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    true
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn counted() -> ProgressStyle {
    style(
        "{spinner} {prefix:<28!} {msg:<12!} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
    )
    .progress_chars("=> ")
}

fn uncounted() -> ProgressStyle {
    style("{spinner} {prefix:<28!} {msg:<12!} {human_pos} {elapsed}")
}

/// A new bar under the others, or `None` when nothing is drawn.
fn bar(prefix: String) -> Option<ProgressBar> {
    let multi = BARS.get()?;
    let bar = multi.add(ProgressBar::no_length().with_style(uncounted()));
    bar.set_prefix(prefix);
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// A spinner saying what is under way until it is dropped.
pub(super) struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// Shows `what` with a spinner (nothing when bars are off).
    pub(super) fn new(what: &str) -> Self {
        let bar = bar(what.to_owned());
        if let Some(b) = &bar {
            b.set_style(style("{spinner} {prefix} {elapsed}"));
        }
        Self(bar)
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

/// One bar per account, fed by the service's sync events until dropped.
pub(super) struct SyncBars {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SyncBars {
    /// Bars for `accounts`' runs (nothing when bars are off).
    pub(super) fn follow(ember: &Ember, accounts: &[Account]) -> Self {
        if BARS.get().is_none() {
            return Self { task: None };
        }
        let names: HashMap<i64, String> = accounts
            .iter()
            .map(|a| (a.id, format!("{} {}", a.provider.as_str(), a.address)))
            .collect();
        let mut events = ember.events().subscribe();
        let task = tokio::spawn(async move {
            let mut bars: HashMap<i64, ProgressBar> = HashMap::new();
            loop {
                let event = match events.recv().await {
                    Ok(event) => event,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let Event::AccountSync { account_id, sync } = event else {
                    continue;
                };
                let Some(name) = names.get(&account_id) else {
                    continue;
                };
                match sync {
                    SyncState::Syncing {
                        phase, done, total, ..
                    } => {
                        let bar = bars
                            .entry(account_id)
                            .or_insert_with(|| {
                                bar(name.clone()).unwrap_or_else(ProgressBar::hidden)
                            })
                            .clone();
                        show(&bar, &format!("{phase:?}").to_lowercase(), done, total);
                    }
                    _ => {
                        if let Some(bar) = bars.remove(&account_id) {
                            bar.finish_and_clear();
                        }
                    }
                }
            }
            for bar in bars.into_values() {
                bar.finish_and_clear();
            }
        });
        Self { task: Some(task) }
    }
}

impl Drop for SyncBars {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(multi) = BARS.get() {
            let _ = multi.clear();
        }
    }
}

/// Moves `bar` to `done` of `total` in `phase`.
fn show(bar: &ProgressBar, phase: &str, done: u64, total: Option<u64>) {
    if bar.message() != phase {
        bar.set_message(phase.to_owned());
        bar.reset();
    }
    match total {
        Some(total) => {
            if bar.length() != Some(total) {
                bar.set_style(counted());
                bar.set_length(total);
            }
        }
        None => {
            if bar.length().is_some() {
                bar.set_style(uncounted());
                bar.unset_length();
            }
        }
    }
    bar.set_position(done);
}

/// Shows a progress event of the log seam: `task` at `done` of `total`.
pub(super) fn task_progress(task: &str, done: u64, total: u64) {
    if BARS.get().is_none() {
        return;
    }
    let mut tasks = TASKS.lock().unwrap_or_else(PoisonError::into_inner);
    let tasks = tasks.get_or_insert_with(HashMap::new);
    if done >= total {
        if let Some(bar) = tasks.remove(task) {
            bar.finish_and_clear();
        }
        return;
    }
    let bar = tasks
        .entry(task.to_owned())
        .or_insert_with(|| bar(task.to_owned()).unwrap_or_else(ProgressBar::hidden))
        .clone();
    show(&bar, "", done, Some(total));
}

/// The layer that turns the core's progress events into bars.
pub(super) fn layer(
) -> Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync> {
    use tracing_subscriber::Layer as _;
    Box::new(
        ProgressLayer.with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target(crate::logging::PROGRESS_TARGET, tracing::Level::DEBUG),
        ),
    )
}

struct ProgressLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ProgressLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = ProgressFields::default();
        event.record(&mut fields);
        if let (Some(task), Some(done), Some(total)) = (fields.task, fields.done, fields.total) {
            task_progress(&task, done, total);
        }
    }
}

#[derive(Default)]
struct ProgressFields {
    task: Option<String>,
    done: Option<u64>,
    total: Option<u64>,
}

impl tracing::field::Visit for ProgressFields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        match field.name() {
            "done" => self.done = Some(value),
            "total" => self.total = Some(value),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "task" {
            self.task = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "task" {
            self.task = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

/// Where terminal log lines go: stderr, with the bars lifted out of the way
/// while a line is written.
pub(super) fn log_writer() -> BoxMakeWriter {
    BoxMakeWriter::new(|| TerminalLog)
}

struct TerminalLog;

impl std::io::Write for TerminalLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match BARS.get() {
            Some(multi) => multi.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::wanted;

    #[test]
    fn bars_are_drawn_only_for_a_person_at_a_terminal() {
        assert!(wanted(false, true, true));
        assert!(!wanted(true, true, true), "--json stays machine-readable");
        assert!(!wanted(false, false, true), "stdout piped to a script");
        assert!(!wanted(false, true, false), "stderr captured");
    }
}
