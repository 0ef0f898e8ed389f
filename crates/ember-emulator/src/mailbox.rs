//! One emulated mailbox: its labels (Gmail) or folders (Graph), its
//! messages, and the change log that Gmail's history and Graph's delta
//! queries are answered from.
//!
//! Messages are kept oldest first, so "newest first" is a reverse walk and a
//! date bound is a binary search. A message's labels are a bit set over the
//! mailbox's label table. Every change gets the next sequence number; a
//! history id or delta token is a sequence number, and anything older than
//! the retained floor has expired.

use std::collections::HashMap;
use std::sync::Arc;

/// The most labels and folders one mailbox can have: a message's labels
/// are a bit set in a `u64`. Bits are handed out in table order and never
/// taken back (a Graph folder deleted for good keeps its bit, retired).
pub const MAX_LABELS: usize = u64::BITS as usize;

/// A label or folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The id clients see (`INBOX`, `Label_3`, a Graph folder id).
    pub id: String,
    /// Display name.
    pub name: String,
    /// What sort of label or folder it is.
    pub kind: LabelKind,
}

/// What sort of label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    /// A Gmail system label shown in lists.
    System,
    /// A Gmail system label hidden from label lists (CATEGORY_*, SPAM ...).
    SystemHidden,
    /// A user label.
    User,
    /// A Graph well-known mail folder (Inbox, Archive ...), directly under
    /// the root of the mailbox.
    Folder,
    /// A Graph folder the user made.
    UserFolder {
        /// The label index of the folder it is in; `None` for the root.
        parent: Option<u8>,
        /// Left out of folder lists unless they ask for hidden folders.
        hidden: bool,
    },
    /// A Graph user folder deleted for good. Its bit is never given to
    /// another folder, so that the change log and the delta tokens that
    /// name it never come to mean a different one.
    Retired,
}

impl LabelKind {
    /// Whether this is a Graph mail folder that exists.
    pub fn is_folder(self) -> bool {
        matches!(self, Self::Folder | Self::UserFolder { .. })
    }
}

/// Where a message's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Composed from a labelled sample; `reply` > 0 makes it a reply.
    Sample {
        /// Index into the material's samples.
        sample: usize,
        /// Position in its thread (0 for the first message).
        reply: u8,
    },
    /// A real MIME message from the material.
    Mime(usize),
    /// An Azure DevOps notification about a work item.
    WorkItemNotice {
        /// The work item's id.
        item: u32,
        /// Its title.
        title: Arc<str>,
        /// Its project.
        project: Arc<str>,
    },
    /// Raw bytes injected through the control API or sent by the client.
    Raw(Arc<[u8]>),
}

/// One message.
#[derive(Debug, Clone)]
pub struct Message {
    /// The id clients see.
    pub id: String,
    /// Its conversation's id.
    pub thread_id: String,
    /// Bit set over [`Mailbox::labels`].
    pub labels: u64,
    /// Received, Unix milliseconds.
    pub date_ms: i64,
    /// Where its bytes come from.
    pub source: Source,
    /// Gone (deleted or expunged).
    pub deleted: bool,
    /// The sequence number of its last change.
    pub changed: u64,
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The message arrived.
    Added,
    /// The message was deleted.
    Deleted,
    /// These labels were added.
    LabelsAdded(u64),
    /// These labels were removed.
    LabelsRemoved(u64),
    /// Its content changed (a Graph draft was edited); labels and
    /// existence are as they were.
    Updated,
}

/// One entry of the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Its sequence number (Gmail history id).
    pub seq: u64,
    /// Index of the message in [`Mailbox::messages`].
    pub message: usize,
    /// What happened.
    pub kind: ChangeKind,
}

/// Why a cursor cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorError {
    /// Older than the retained history (Gmail 404, Graph 410).
    Expired,
    /// Not a cursor this mailbox ever issued.
    Invalid,
}

/// A Gmail draft: its immutable id and the message that holds its current
/// content (a new message each time the draft is updated). Graph has no
/// such table: its drafts are the messages in Drafts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftRef {
    /// The draft id (`r-834494671212680745`).
    pub id: String,
    /// The id of its current message.
    pub message: String,
}

/// One emulated mailbox.
#[derive(Debug, Clone)]
pub struct Mailbox {
    /// Its address.
    pub address: String,
    /// Its owner's name.
    pub display_name: String,
    /// Label or folder table; a message's bit `i` means `labels[i]`.
    pub labels: Vec<Label>,
    /// Messages, oldest first.
    pub messages: Vec<Message>,
    by_id: HashMap<String, usize>,
    changes: Vec<Change>,
    /// The sequence number of the latest change.
    pub seq: u64,
    /// Cursors before this have expired.
    pub floor: u64,
    /// Gmail drafts, least recently written first.
    pub drafts: Vec<DraftRef>,
}

impl Mailbox {
    /// An empty mailbox whose sequence starts at `seq`.
    pub fn new(address: &str, display_name: &str, labels: Vec<Label>, seq: u64) -> Self {
        Self {
            address: address.to_owned(),
            display_name: display_name.to_owned(),
            labels,
            messages: Vec::new(),
            by_id: HashMap::new(),
            changes: Vec::new(),
            seq,
            floor: seq,
            drafts: Vec::new(),
        }
    }

    /// The bit of the label with `id`.
    pub fn label_bit(&self, id: &str) -> Option<u64> {
        self.labels
            .iter()
            .position(|l| l.id == id)
            .map(|i| 1u64 << i)
    }

    /// The ids of the labels in `mask`, in table order.
    pub fn label_ids(&self, mask: u64) -> Vec<&str> {
        self.labels
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1u64 << i) != 0)
            .map(|(_, l)| l.id.as_str())
            .collect()
    }

    /// The bits of every Graph mail folder that exists (a message is in
    /// exactly one of them).
    pub fn folder_mask(&self) -> u64 {
        self.labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.kind.is_folder())
            .fold(0, |mask, (i, _)| mask | 1u64 << i)
    }

    /// Adds a label or folder; returns its bit, or `None` when the table is full.
    pub fn add_label(&mut self, label: Label) -> Option<u64> {
        if let Some(bit) = self.label_bit(&label.id) {
            return Some(bit);
        }
        if self.labels.len() >= MAX_LABELS {
            return None;
        }
        self.labels.push(label);
        Some(1u64 << (self.labels.len() - 1))
    }

    /// Appends a message that existed before any client looked (no change
    /// entry; it is part of the initial state).
    pub fn seed_message(&mut self, mut message: Message) {
        message.changed = self.seq;
        self.by_id.insert(message.id.clone(), self.messages.len());
        self.messages.push(message);
    }

    /// Sorts seeded messages oldest first and rebuilds the index.
    pub fn finish_seeding(&mut self) {
        self.messages
            .sort_by(|a, b| a.date_ms.cmp(&b.date_ms).then(a.id.cmp(&b.id)));
        self.by_id = self
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), i))
            .collect();
    }

    /// A new message arriving now; returns its index.
    pub fn deliver(&mut self, mut message: Message) -> usize {
        let seq = self.next_seq();
        message.changed = seq;
        let index = self.messages.len();
        self.by_id.insert(message.id.clone(), index);
        self.messages.push(message);
        self.changes.push(Change {
            seq,
            message: index,
            kind: ChangeKind::Added,
        });
        index
    }

    /// The index of the live message with `id`.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.by_id
            .get(id)
            .copied()
            .filter(|i| !self.messages[*i].deleted)
    }

    /// Adds and removes labels on a message, logging what actually changed.
    /// Returns whether anything did.
    pub fn relabel(&mut self, index: usize, add: u64, remove: u64) -> bool {
        let before = self.messages[index].labels;
        let after = (before | add) & !remove;
        let added = after & !before;
        let removed = before & !after;
        if added == 0 && removed == 0 {
            return false;
        }
        let mut seq = 0;
        if added != 0 {
            seq = self.next_seq();
            self.changes.push(Change {
                seq,
                message: index,
                kind: ChangeKind::LabelsAdded(added),
            });
        }
        if removed != 0 {
            seq = self.next_seq();
            self.changes.push(Change {
                seq,
                message: index,
                kind: ChangeKind::LabelsRemoved(removed),
            });
        }
        let m = &mut self.messages[index];
        m.labels = after;
        m.changed = seq;
        true
    }

    /// Replaces a message's content (its labels stay), logging the change.
    pub fn replace_source(&mut self, index: usize, source: Source) {
        let seq = self.next_seq();
        self.changes.push(Change {
            seq,
            message: index,
            kind: ChangeKind::Updated,
        });
        let m = &mut self.messages[index];
        m.source = source;
        m.changed = seq;
    }

    /// Deletes a message for good; returns whether it existed.
    pub fn delete(&mut self, index: usize) -> bool {
        if self.messages[index].deleted {
            return false;
        }
        let seq = self.next_seq();
        self.changes.push(Change {
            seq,
            message: index,
            kind: ChangeKind::Deleted,
        });
        let m = &mut self.messages[index];
        m.deleted = true;
        m.changed = seq;
        true
    }

    /// Changes after `since`, oldest first.
    pub fn changes_since(&self, since: u64) -> Result<&[Change], CursorError> {
        if since > self.seq {
            return Err(CursorError::Invalid);
        }
        if since < self.floor {
            return Err(CursorError::Expired);
        }
        let start = self.changes.partition_point(|c| c.seq <= since);
        Ok(&self.changes[start..])
    }

    /// Expires every cursor issued so far.
    pub fn expire(&mut self) {
        self.floor = self.seq + 1;
        // The next change must be at or above the floor.
        self.seq += 1;
    }

    /// Live messages, newest first, starting at position `from` of that walk.
    pub fn newest_first(&self, from: usize) -> impl Iterator<Item = (usize, &Message)> {
        self.messages
            .iter()
            .enumerate()
            .rev()
            .skip(from)
            .filter(|(_, m)| !m.deleted)
    }

    /// How many live messages carry every label in `mask`.
    pub fn count_with(&self, mask: u64) -> usize {
        self.messages
            .iter()
            .filter(|m| !m.deleted && m.labels & mask == mask)
            .count()
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox() -> Mailbox {
        let labels = ["INBOX", "UNREAD", "TRASH"]
            .iter()
            .map(|id| Label {
                id: (*id).into(),
                name: (*id).into(),
                kind: LabelKind::System,
            })
            .collect();
        let mut mb = Mailbox::new("a@example.com", "A", labels, 100);
        for i in 0..3 {
            mb.seed_message(Message {
                id: format!("m{i}"),
                thread_id: format!("m{i}"),
                labels: 0b011,
                date_ms: 1000 - i,
                source: Source::Mime(0),
                deleted: false,
                changed: 0,
            });
        }
        mb.finish_seeding();
        mb
    }

    #[test]
    fn seeded_messages_are_kept_oldest_first() {
        let mb = mailbox();
        let ids: Vec<_> = mb.newest_first(0).map(|(_, m)| m.id.as_str()).collect();
        assert_eq!(ids, ["m0", "m1", "m2"]);
    }

    #[test]
    fn changes_are_logged_in_order_and_only_when_real() {
        let mut mb = mailbox();
        let i = mb.find("m1").unwrap_or_default();
        assert!(!mb.relabel(i, 0b001, 0), "already in INBOX");
        assert!(mb.relabel(i, 0b100, 0b011));
        assert!(mb.delete(i));
        assert!(!mb.delete(i));
        assert_eq!(mb.find("m1"), None);
        let kinds: Vec<_> = mb
            .changes_since(100)
            .unwrap_or_default()
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::LabelsAdded(0b100),
                ChangeKind::LabelsRemoved(0b011),
                ChangeKind::Deleted
            ]
        );
        assert_eq!(mb.changes_since(102).map(<[Change]>::len), Ok(1));
    }

    #[test]
    fn expired_and_unknown_cursors_are_told_apart() {
        let mut mb = mailbox();
        assert_eq!(mb.changes_since(500), Err(CursorError::Invalid));
        mb.expire();
        assert_eq!(mb.changes_since(100), Err(CursorError::Expired));
        assert_eq!(mb.changes_since(mb.seq).map(<[Change]>::len), Ok(0));
    }
}
