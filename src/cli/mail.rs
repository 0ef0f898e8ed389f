//! `ember mail VERB ID...` and `ember folders`: what the window's mail
//! actions do, from the command line, through the same outbox.

use serde::Serialize;

use super::args::{MailCommand, MailVerb};
use super::output;
use crate::model::{AccountId, Folder};
use crate::service::Ember;

/// What `ember mail --json` prints.
#[derive(Debug, Serialize)]
struct Outcome {
    action: &'static str,
    messages: usize,
    /// Per account touched: the actions still waiting for the provider
    /// (0 after `--now` when the provider took them).
    accounts: Vec<AccountOutcome>,
    /// With `--now` while another process holds the profile (the app, or
    /// `ember sync`): that process, which sends what waits on its next run.
    #[serde(skip_serializing_if = "Option::is_none")]
    sent_by: Option<String>,
}

#[derive(Debug, Serialize)]
struct AccountOutcome {
    account: AccountId,
    pending: i64,
}

/// Runs one `mail` command.
pub(super) async fn run(ember: &Ember, command: MailCommand) -> anyhow::Result<()> {
    let ids = &command.ids;
    let accounts = ember.accounts_of_messages(ids).await?;
    if accounts.is_empty() {
        anyhow::bail!("no stored message has any of the ids {ids:?}");
    }
    let action = match command.verb {
        MailVerb::Read => ember.set_unread(ids, false).await.map(|()| "read"),
        MailVerb::Unread => ember.set_unread(ids, true).await.map(|()| "unread"),
        MailVerb::Star => ember.set_starred(ids, true).await.map(|()| "star"),
        MailVerb::Unstar => ember.set_starred(ids, false).await.map(|()| "unstar"),
        MailVerb::Archive => ember.archive(ids).await.map(|()| "archive"),
        MailVerb::Trash => ember.trash(ids).await.map(|()| "trash"),
        MailVerb::Move => {
            let folder = command
                .to
                .ok_or_else(|| anyhow::anyhow!("`mail move` needs --to FOLDER"))?;
            ember.move_to_folder(ids, folder).await.map(|()| "move")
        }
    }?;
    let mut outcome = Outcome {
        action,
        messages: ids.len(),
        accounts: Vec::with_capacity(accounts.len()),
        sent_by: None,
    };
    for account in accounts {
        if command.now && outcome.sent_by.is_none() {
            match ember.sync_once(account).await {
                Ok(report) => tracing::info!(account, ?report, "sent"),
                // The change is recorded and queued: the process holding
                // the profile sends it, as it would have without --now.
                Err(crate::sync::SyncError::ProfileBusy(crate::profile::LockError::Held {
                    holder,
                    ..
                })) => {
                    let who = holder.map_or_else(
                        || "another Ember process".to_owned(),
                        |h| format!("{} (pid {})", h.program, h.pid),
                    );
                    tracing::info!(account, %who, "the profile is held: queued for its holder");
                    outcome.sent_by = Some(who);
                }
                Err(e) => return Err(e.into()),
            }
        }
        outcome.accounts.push(AccountOutcome {
            account,
            pending: ember.pending_actions(account).await?,
        });
    }
    if command.json {
        return output::json_line(&outcome);
    }
    let pending: i64 = outcome.accounts.iter().map(|a| a.pending).sum();
    output::line(&format!(
        "{action}: {} message(s); {}",
        outcome.messages,
        match (&outcome.sent_by, pending) {
            (_, 0) => "the provider has it".to_owned(),
            (Some(who), _) => format!(
                "{pending} action(s) queued; {who} has this profile open and sends them on its next sync"
            ),
            (None, _) => format!("{pending} action(s) wait for the next sync"),
        }
    ))
}

/// Prints folders with their ids.
pub(super) fn folders(json: bool, folders: &[Folder]) -> anyhow::Result<()> {
    if json {
        return output::json_line(folders);
    }
    let mut text = String::new();
    for f in folders {
        text.push_str(&format!(
            "{:>6}  account {:<3} {:<10} {} ({} unread / {})\n",
            f.id,
            f.account_id,
            format!("{:?}", f.role).to_lowercase(),
            f.name,
            f.unread,
            f.total
        ));
    }
    output::line(text.trim_end())
}
