//! `ember send` and `ember drafts`: writing mail from the command line
//! through the same drafts, outbox and exactly-once sending as the
//! window's composer.

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use super::args::SendArgs;
use super::output;
use crate::compose::{parse_recipients, text_to_html};
use crate::model::{Address, ComposeKind, ComposeRequest, Draft, DraftEdit, DraftState};
use crate::service::Ember;

/// Largest body file read (the provider's limit is on the whole message;
/// this only keeps a wrong file from filling memory).
const MAX_BODY_FILE: u64 = 10 * 1024 * 1024;

/// What `ember send --json` prints.
#[derive(Debug, Serialize)]
struct Outcome {
    /// The draft's id (`ember drafts`).
    draft: i64,
    /// The account it is sent from.
    account: i64,
    /// The outbox entry carrying it, while it waits.
    outbox: Option<i64>,
    /// The provider's id of the sent message, once the provider has it.
    provider_id: Option<String>,
    /// Its `Message-ID`.
    message_id: String,
    /// queued, sending, sent or failed.
    state: DraftState,
    /// Why the provider refused it, when it did.
    error: Option<String>,
}

/// Runs `ember send`.
pub(super) async fn run(ember: &Ember, args: SendArgs) -> anyhow::Result<()> {
    let (kind, message_id) = match (args.reply_to, args.reply_all, args.forward) {
        (Some(id), _, _) => (ComposeKind::Reply, Some(id)),
        (_, Some(id), _) => (ComposeKind::ReplyAll, Some(id)),
        (_, _, Some(id)) => (ComposeKind::Forward, Some(id)),
        _ => (ComposeKind::New, None),
    };
    if args.now {
        // Before anything is queued: a send the app would also make is
        // refused here, not left half-done.
        ember.claim_profile().await?;
    }
    let body = match (&args.body, &args.body_file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => read_body(path).await?,
        (None, None) => String::new(),
    };
    let draft = ember
        .compose(ComposeRequest {
            kind,
            message_id,
            account_id: args.account,
        })
        .await?;
    let written = write(ember, &draft, &args, &body).await;
    let written = match written {
        Ok(d) => d,
        Err(e) => {
            // Nothing half-written is left behind in Drafts.
            let _ = ember.discard_draft(draft.id).await;
            return Err(e);
        }
    };
    let queued = match ember.send_without_undo(written.id).await {
        Ok(d) => d,
        Err(e) => {
            let _ = ember.discard_draft(draft.id).await;
            return Err(e.into());
        }
    };
    let delivery = ember.draft_delivery(queued.id).await?;
    let mut outcome = Outcome {
        draft: queued.id,
        account: queued.account_id,
        outbox: delivery.outbox,
        provider_id: delivery.provider_message_id,
        message_id: queued.message_id_header.clone(),
        state: queued.state,
        error: None,
    };
    if args.now {
        let report = ember.sync_once(queued.account_id).await?;
        tracing::info!(account = queued.account_id, ?report, "send run");
        let after = ember.draft(queued.id).await?;
        let delivery = ember.draft_delivery(queued.id).await?;
        outcome.state = after.state;
        outcome.error = after.error;
        outcome.outbox = delivery.outbox;
        outcome.provider_id = delivery.provider_message_id;
    }
    if args.json {
        output::json_line(&outcome)?;
    } else {
        output::line(&match outcome.state {
            DraftState::Sent => format!("sent <{}>", outcome.message_id),
            DraftState::Failed => format!(
                "refused: {} (draft {} kept)",
                outcome.error.as_deref().unwrap_or("no reason given"),
                outcome.draft
            ),
            _ => format!(
                "queued <{}>: it leaves on the account's next sync",
                outcome.message_id
            ),
        })?;
    }
    if outcome.state == DraftState::Failed {
        anyhow::bail!(
            "the provider refused the message: {}",
            outcome.error.unwrap_or_default()
        );
    }
    Ok(())
}

/// Fills the composed draft with what the command line gave and attaches
/// the files.
async fn write(ember: &Ember, draft: &Draft, args: &SendArgs, body: &str) -> anyhow::Result<Draft> {
    let to = if args.to.is_empty() {
        draft.to.clone()
    } else {
        recipients(&args.to)?
    };
    let mut cc = draft.cc.clone();
    cc.extend(recipients(&args.cc)?);
    let bcc = recipients(&args.bcc)?;
    let subject = args
        .subject
        .clone()
        .unwrap_or_else(|| draft.subject.clone());
    // What the user wrote goes above the signature and quote the composer
    // prepared, as in the window.
    let body_html = format!("{}{}", text_to_html(body), draft.body_html);
    let mut draft = ember
        .save_draft(
            draft.id,
            DraftEdit {
                to,
                cc,
                bcc,
                subject,
                body_html,
            },
        )
        .await?;
    for path in &args.attach {
        let data = read_limited(path, u64::MAX).await?;
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        let content_type = mime_guess::from_path(path)
            .first_or_octet_stream()
            .essence_str()
            .to_owned();
        draft = ember
            .attach(draft.id, &filename, &content_type, data)
            .await
            .with_context(|| format!("attaching {}", path.display()))?;
    }
    Ok(draft)
}

fn recipients(values: &[String]) -> anyhow::Result<Vec<Address>> {
    let mut out = Vec::new();
    for value in values {
        out.extend(parse_recipients(value)?);
    }
    Ok(out)
}

#[expect(
    clippy::disallowed_methods,
    reason = "standard input has no async reader without tokio's io-std; reading it blocks, so off the runtime"
)]
async fn read_body(path: &Path) -> anyhow::Result<String> {
    let bytes = if path == Path::new("-") {
        let buf = tokio::task::spawn_blocking(|| {
            use std::io::Read as _;
            let mut buf = Vec::new();
            std::io::stdin()
                .take(MAX_BODY_FILE + 1)
                .read_to_end(&mut buf)
                .map(|_| buf)
        })
        .await?
        .context("reading the body from standard input")?;
        anyhow::ensure!(
            buf.len() as u64 <= MAX_BODY_FILE,
            "the body is over {MAX_BODY_FILE} bytes"
        );
        buf
    } else {
        read_limited(path, MAX_BODY_FILE).await?
    };
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the body file is not UTF-8 text"))
}

/// Reads a file, refusing one past `max` bytes before reading it.
async fn read_limited(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let meta = tokio::fs::metadata(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(meta.is_file(), "{} is not a file", path.display());
    anyhow::ensure!(
        meta.len() <= max,
        "{} is {} bytes, over the {max} this reads",
        path.display(),
        meta.len()
    );
    tokio::fs::read(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Prints drafts not yet sent.
pub(super) fn drafts(json: bool, drafts: &[Draft]) -> anyhow::Result<()> {
    if json {
        return output::json_line(drafts);
    }
    let mut text = String::new();
    for d in drafts {
        let to: Vec<&str> = d.to.iter().map(|a| a.address.as_str()).collect();
        text.push_str(&format!(
            "{:>5}  account {:<3} {:<8} {:<30} {}{}\n",
            d.id,
            d.account_id,
            d.state.as_str(),
            to.join(", "),
            d.subject,
            d.error
                .as_deref()
                .map(|e| format!("  [{e}]"))
                .unwrap_or_default()
        ));
    }
    output::line(text.trim_end())
}
