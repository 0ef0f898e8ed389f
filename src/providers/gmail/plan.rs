//! Deciding what a Gmail sync must change, as pure functions of what the
//! store holds and what Gmail reported: no I/O, so every case is a unit test.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::client::HistoryRecord;

/// One change to make locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Fetch the message (new, or its state is unknown) and store it.
    Fetch(String),
    /// Set the message's labels to exactly these.
    SetLabels(String, Vec<String>),
    /// Delete the message locally.
    Delete(String),
}

/// A full (re)sync: `remote` lists the ids Gmail holds inside the window,
/// newest first; `local` maps every stored id to its date; `window_start_ms`
/// is the oldest date the listing covers (`None`: everything was listed).
///
/// Every remote id is fetched (its labels may have changed while history was
/// unavailable); a stored message inside the window that Gmail no longer
/// lists is deleted; older stored mail is left alone.
pub fn plan_full(
    remote: &[String],
    local: &HashMap<String, i64>,
    window_start_ms: Option<i64>,
) -> Vec<Op> {
    let remote_set: HashSet<&str> = remote.iter().map(String::as_str).collect();
    let mut ops: Vec<Op> = remote.iter().map(|id| Op::Fetch(id.clone())).collect();
    let mut gone: Vec<&String> = local
        .iter()
        .filter(|(id, date)| {
            !remote_set.contains(id.as_str()) && window_start_ms.is_none_or(|start| **date >= start)
        })
        .map(|(id, _)| id)
        .collect();
    gone.sort();
    ops.extend(gone.into_iter().map(|id| Op::Delete(id.clone())));
    ops
}

#[derive(Debug, Default)]
struct Fold {
    added: bool,
    deleted: bool,
    labels: Option<Vec<String>>,
}

/// An incremental sync: folds history records (oldest first) into one op
/// per message. A deletion wins; a new message is fetched whole (which
/// brings its current labels); otherwise the last label state wins. A label
/// change without the resulting label list means the state must be fetched.
pub fn plan_incremental(records: &[HistoryRecord]) -> Vec<Op> {
    let mut state: BTreeMap<String, Fold> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut touch = |id: &str, state: &mut BTreeMap<String, Fold>| {
        if !state.contains_key(id) {
            order.push(id.to_owned());
        }
        state.entry(id.to_owned()).or_default();
    };
    for record in records {
        for e in &record.messages_added {
            touch(&e.message.id, &mut state);
            if let Some(f) = state.get_mut(&e.message.id) {
                f.added = true;
            }
        }
        for e in record.labels_added.iter().chain(&record.labels_removed) {
            touch(&e.message.id, &mut state);
            if let Some(f) = state.get_mut(&e.message.id) {
                match &e.message.label_ids {
                    Some(labels) => f.labels = Some(labels.clone()),
                    None => f.added = true,
                }
            }
        }
        for e in &record.messages_deleted {
            touch(&e.message.id, &mut state);
            if let Some(f) = state.get_mut(&e.message.id) {
                f.deleted = true;
            }
        }
    }
    order
        .into_iter()
        .filter_map(|id| {
            let f = state.remove(&id)?;
            Some(if f.deleted {
                Op::Delete(id)
            } else if f.added {
                Op::Fetch(id)
            } else {
                Op::SetLabels(id, f.labels.unwrap_or_default())
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::client::{HistoryEntry, HistoryMessage};
    use super::*;

    fn entry(id: &str, labels: Option<&[&str]>) -> HistoryEntry {
        HistoryEntry {
            message: HistoryMessage {
                id: id.into(),
                label_ids: labels.map(|l| l.iter().map(|s| (*s).to_owned()).collect()),
            },
        }
    }

    #[test]
    fn a_first_full_sync_fetches_everything_listed() {
        let remote = vec!["b".to_owned(), "a".to_owned()];
        assert_eq!(
            plan_full(&remote, &HashMap::new(), Some(0)),
            vec![Op::Fetch("b".into()), Op::Fetch("a".into())]
        );
    }

    #[test]
    fn a_resync_deletes_what_vanished_inside_the_window_only() {
        let remote = vec!["keep".to_owned()];
        let local = HashMap::from([
            ("keep".to_owned(), 500),
            ("gone".to_owned(), 400),
            ("old".to_owned(), 10),
        ]);
        let ops = plan_full(&remote, &local, Some(100));
        assert_eq!(
            ops,
            vec![Op::Fetch("keep".into()), Op::Delete("gone".into())]
        );
        let everything = plan_full(&remote, &local, None);
        assert!(
            everything.contains(&Op::Delete("old".into())),
            "no window: all vanished mail goes"
        );
    }

    #[test]
    fn history_folds_to_one_op_per_message_with_deletion_winning() {
        let records = vec![
            HistoryRecord {
                messages_added: vec![entry("new", Some(&["INBOX"]))],
                labels_added: vec![entry("moved", Some(&["INBOX", "Label_1"]))],
                ..HistoryRecord::default()
            },
            HistoryRecord {
                labels_removed: vec![entry("moved", Some(&["Label_1"]))],
                messages_deleted: vec![entry("new", None)],
                ..HistoryRecord::default()
            },
            HistoryRecord {
                messages_added: vec![entry("later", None)],
                labels_added: vec![entry("later", Some(&["STARRED"]))],
                ..HistoryRecord::default()
            },
        ];
        assert_eq!(
            plan_incremental(&records),
            vec![
                Op::Delete("new".into()),
                Op::SetLabels("moved".into(), vec!["Label_1".into()]),
                Op::Fetch("later".into()),
            ]
        );
    }

    #[test]
    fn a_label_change_without_the_label_list_refetches() {
        let records = vec![HistoryRecord {
            labels_added: vec![entry("x", None)],
            ..HistoryRecord::default()
        }];
        assert_eq!(plan_incremental(&records), vec![Op::Fetch("x".into())]);
    }
}
