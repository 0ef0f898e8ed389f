//! `ember work-item ...`: one work item shown, or changed through the
//! outbox (sent on the next sync run, or at once with `--now`).

use serde::Serialize;

use super::args::WorkItemCommand;
use super::output;
use crate::model::{WorkItem, WorkItemDetail, WorkItemEdit};
use crate::service::Ember;

/// A work item as the command line prints it.
#[derive(Debug, Serialize)]
pub(super) struct WorkItemJson {
    id: i64,
    rev: i64,
    state: String,
    title: String,
    #[serde(rename = "type")]
    item_type: String,
    assigned_to: Option<String>,
    changed_date: String,
    account: i64,
    organization: String,
    project: String,
    priority: Option<i64>,
    iteration: Option<String>,
    url: String,
    memberships: Vec<String>,
    conflict: bool,
    pending_edits: i64,
}

impl From<&WorkItem> for WorkItemJson {
    fn from(w: &WorkItem) -> Self {
        Self {
            id: w.item_id,
            rev: w.rev,
            state: w.state.clone(),
            title: w.title.clone(),
            item_type: w.item_type.clone(),
            assigned_to: w.assigned_to.clone(),
            changed_date: chrono::DateTime::from_timestamp_millis(w.changed_date)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            account: w.account_id,
            organization: w.organization.clone(),
            project: w.project.clone(),
            priority: w.priority,
            iteration: w.iteration.clone(),
            url: w.url.clone(),
            memberships: w.memberships.clone(),
            conflict: w.conflict,
            pending_edits: w.pending_edits,
        }
    }
}

/// What `work-item show --json` prints.
#[derive(Debug, Serialize)]
struct DetailJson<'a> {
    #[serde(flatten)]
    item: WorkItemJson,
    created_by: Option<&'a str>,
    allowed_states: &'a [String],
    comments: &'a [crate::model::WorkItemComment],
    history: &'a [crate::model::StateChange],
    related: Vec<(String, i64)>,
    mail: Vec<i64>,
    conflict_detail: Option<&'a crate::model::WorkItemConflict>,
}

fn print(json: bool, detail: &WorkItemDetail) -> anyhow::Result<()> {
    if json {
        return output::json_line(&DetailJson {
            item: WorkItemJson::from(&detail.item),
            created_by: detail.created_by.as_deref(),
            allowed_states: &detail.allowed_states,
            comments: &detail.comments,
            history: &detail.history,
            related: detail
                .related
                .iter()
                .map(|r| (r.rel.clone(), r.item_id))
                .collect(),
            mail: detail.mail.iter().map(|m| m.id).collect(),
            conflict_detail: detail.conflict.as_ref(),
        });
    }
    let w = &detail.item;
    let mut text = format!(
        "{} {} [{}] {}\n  assigned: {}  priority: {}  iteration: {}\n  {}\n",
        w.item_type,
        w.item_id,
        w.state,
        w.title,
        w.assigned_to.as_deref().unwrap_or("nobody"),
        w.priority.map_or("-".into(), |p| p.to_string()),
        w.iteration.as_deref().unwrap_or("-"),
        w.url
    );
    if let Some(c) = &detail.conflict {
        text.push_str(&format!("  CONFLICT: {}\n", c.message));
    }
    for h in &detail.history {
        text.push_str(&format!(
            "  rev {}: {} by {}\n",
            h.rev, h.state, h.changed_by
        ));
    }
    output::line(text.trim_end())
}

/// Runs one `work-item` command.
pub(super) async fn run(ember: &Ember, command: WorkItemCommand) -> anyhow::Result<()> {
    let (id, edit, now, json) = match command {
        WorkItemCommand::Show { id, refresh, json } => {
            let mut detail = ember.work_item_by_number(id).await?;
            if refresh {
                detail = ember.refresh_work_item(detail.item.id).await?;
            }
            return print(json, &detail);
        }
        WorkItemCommand::SetState {
            id,
            state,
            now,
            json,
        } => (id, WorkItemEdit::SetState { state }, now, json),
        WorkItemCommand::Comment {
            id,
            text,
            now,
            json,
        } => (id, WorkItemEdit::Comment { text }, now, json),
        WorkItemCommand::Assign { id, to, now, json } => {
            let to = (!matches!(to.trim(), "" | "none" | "nobody")).then_some(to);
            (id, WorkItemEdit::Assign { to }, now, json)
        }
        WorkItemCommand::Priority {
            id,
            priority,
            now,
            json,
        } => (id, WorkItemEdit::SetPriority { priority }, now, json),
    };
    let item = ember.work_item_by_number(id).await?.item;
    ember.edit_work_item(item.id, edit).await?;
    if now {
        let report = ember.sync_once(item.account_id).await?;
        tracing::info!(?report, "sent");
    }
    print(json, &ember.work_item(item.id).await?)
}
