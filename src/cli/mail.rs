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
    };
    for account in accounts {
        if command.now {
            let report = ember.sync_once(account).await?;
            tracing::info!(account, ?report, "sent");
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
        if pending == 0 {
            "the provider has it".to_owned()
        } else {
            format!("{pending} action(s) wait for the next sync")
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
