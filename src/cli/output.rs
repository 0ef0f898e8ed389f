//! How CLI results and errors are written: JSON for scripts, aligned text
//! for people.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use crate::model::{Account, SearchHit, Span, Status, SyncState, WorkItem};
use crate::service::ApiError;

fn json_out<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Writes one line to stdout and flushes it (scripts wait for it).
pub(super) fn line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// Writes `text` as it is.
pub(super) fn text(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Writes `value` as one line of JSON.
pub(super) fn json_line<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Writes `error` to stderr and returns the failing exit code.
pub(super) fn fail(json: bool, error: &ApiError) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = if json {
        serde_json::to_writer(&mut err, error)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(err))
    } else {
        writeln!(err, "error: {}", error.message)
    };
    ExitCode::FAILURE
}

fn describe(state: &SyncState) -> String {
    match state {
        SyncState::Idle {
            last_synced_at: Some(at),
        } => format!("idle (last synced at {at})"),
        SyncState::Idle {
            last_synced_at: None,
        } => "idle (never synced)".into(),
        SyncState::Syncing {
            phase, done, total, ..
        } => match total {
            Some(t) => format!("syncing {phase:?}: {done}/{t}"),
            None => format!("syncing {phase:?}: {done}"),
        },
        SyncState::Error { code, message } => format!("error [{code}]: {message}"),
        SyncState::NeedsReauth { message } => format!("needs sign-in: {message}"),
        SyncState::Paused => "paused".into(),
    }
}

pub(super) fn status(json: bool, status: &Status) -> anyhow::Result<()> {
    if json {
        return json_out(status);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "sync: {}",
        if status.sync_enabled { "on" } else { "off" }
    )?;
    writeln!(out, "data: {}", status.data_dir)?;
    writeln!(
        out,
        "stored: {} messages, {} work items",
        status.message_count, status.work_item_count
    )?;
    if status.accounts.is_empty() {
        writeln!(out, "no accounts")?;
    }
    for a in &status.accounts {
        writeln!(
            out,
            "{:>4}  {:<6} {:<32} {}",
            a.account.id,
            a.account.provider.as_str(),
            a.account.address,
            describe(&a.sync)
        )?;
    }
    Ok(())
}

/// `text` with each span wrapped in `[` `]` (spans are UTF-16 offsets).
fn marked(text: &str, spans: &[Span]) -> String {
    let mut out = String::with_capacity(text.len() + spans.len() * 2);
    let mut at: u32 = 0;
    for c in text.chars() {
        if spans.iter().any(|s| s.start == at) {
            out.push('[');
        }
        at += c.len_utf16() as u32;
        out.push(c);
        if spans.iter().any(|s| s.end == at) {
            out.push(']');
        }
    }
    out
}

pub(super) fn search_hits(json: bool, hits: &[SearchHit]) -> anyhow::Result<()> {
    if json {
        return json_out(hits);
    }
    let mut out = std::io::stdout().lock();
    for hit in hits {
        let m = &hit.message;
        let from = m.from.name.as_deref().unwrap_or(&m.from.address);
        writeln!(
            out,
            "{:>8} {} {:<24.24} {}",
            m.id,
            if m.unread { '*' } else { ' ' },
            from,
            marked(&m.subject, &hit.subject_matches)
        )?;
    }
    Ok(())
}

pub(super) fn work_items(json: bool, items: &[WorkItem]) -> anyhow::Result<()> {
    if json {
        let list: Vec<super::work_items::WorkItemJson> = items.iter().map(Into::into).collect();
        return json_out(&list);
    }
    let mut out = std::io::stdout().lock();
    for w in items {
        writeln!(
            out,
            "{:>8} {:<10.10} {:<10.10} {}",
            w.item_id, w.item_type, w.state, w.title
        )?;
    }
    Ok(())
}

pub(super) fn accounts(json: bool, accounts: &[Account]) -> anyhow::Result<()> {
    if json {
        return json_out(accounts);
    }
    let mut out = std::io::stdout().lock();
    for a in accounts {
        writeln!(
            out,
            "{:>4}  {:<6} {:<32} {}",
            a.id,
            a.provider.as_str(),
            a.address,
            a.display_name
        )?;
    }
    Ok(())
}

pub(super) fn exported(json: bool, rows: &[crate::store::ExportedMessage]) -> anyhow::Result<()> {
    if json {
        return json_out(rows);
    }
    let mut out = std::io::stdout().lock();
    for m in rows {
        writeln!(
            out,
            "{:>8} {} {:<6} {:<24.24} {}",
            m.id,
            if m.unread { '*' } else { ' ' },
            m.provider,
            m.provider_id,
            m.subject
        )?;
    }
    Ok(())
}

/// One account's `sync --once` outcome.
#[derive(Debug, Serialize)]
pub(super) struct SyncResult {
    account: i64,
    provider: &'static str,
    address: String,
    ok: bool,
    fetched: u64,
    stored: u64,
    updated: u64,
    deleted: u64,
    skipped: Vec<String>,
    retries: u64,
    errors: Vec<String>,
    error_code: Option<crate::model::SyncErrorCode>,
    seconds: f64,
}

impl SyncResult {
    pub(super) fn new(
        account: &Account,
        outcome: Result<crate::sync::SyncReport, crate::sync::SyncError>,
        took: std::time::Duration,
    ) -> Self {
        let (report, errors, code) = match outcome {
            Ok(r) => (r, Vec::new(), None),
            Err(e) => (Default::default(), vec![e.to_string()], Some(e.code())),
        };
        Self {
            account: account.id,
            provider: account.provider.as_str(),
            address: account.address.clone(),
            ok: errors.is_empty(),
            fetched: report.fetched,
            stored: report.stored,
            updated: report.updated,
            deleted: report.deleted,
            skipped: report.skipped,
            retries: report.retries,
            errors,
            error_code: code,
            seconds: took.as_secs_f64(),
        }
    }
}

pub(super) fn sync_results(json: bool, results: &[SyncResult]) -> anyhow::Result<()> {
    if json {
        json_out(results)?;
    } else {
        let mut out = std::io::stdout().lock();
        for r in results {
            writeln!(
                out,
                "{:>4} {:<6} {:<32} fetched {} stored {} updated {} deleted {} skipped {} retries {} in {:.1}s{}",
                r.account,
                r.provider,
                r.address,
                r.fetched,
                r.stored,
                r.updated,
                r.deleted,
                r.skipped.len(),
                r.retries,
                r.seconds,
                r.errors.first().map(|e| format!(": {e}")).unwrap_or_default()
            )?;
            for s in &r.skipped {
                writeln!(out, "       skipped {s}")?;
            }
        }
    }
    anyhow::ensure!(results.iter().all(|r| r.ok), "some accounts failed to sync");
    Ok(())
}
