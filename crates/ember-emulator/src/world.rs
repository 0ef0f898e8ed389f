//! The emulated world: a Gmail and a Microsoft 365 mailbox and an Azure
//! DevOps organisation, generated from a seed so that the same seed always
//! gives the same ids, labels, threads and work items.
//!
//! Dates are laid out backwards from the moment the world is built (the
//! newest message arrives "now"), so "the last 90 days" means the same thing
//! to a client whenever it runs; everything in `/_emulator/truth` is
//! independent of that moment.

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::graph::folders::tree;
use super::mailbox::{Label, LabelKind, Mailbox, Message, Source};
use super::material::material;
use super::work_items::Organization;

pub use super::truth::{
    Truth, TruthAccount, TruthDraft, TruthFolder, TruthMessage, TruthSent, TruthWorkItem,
};

/// What to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorldConfig {
    /// Everything random derives from this.
    pub seed: u64,
    /// Messages in each mailbox (10 to 1,000,000).
    pub messages: usize,
    /// Work items in the organisation.
    pub work_items: usize,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            messages: 1_000,
            work_items: 200,
        }
    }
}

/// The most messages one mailbox may hold.
pub const MAX_MESSAGES: usize = 1_000_000;

/// The Gmail demo account's address.
pub const GMAIL_ADDRESS: &str = "alex.rivera@gmail.example";
/// The Microsoft 365 demo account's address.
pub const GRAPH_ADDRESS: &str = "alex.rivera@contoso.example";
/// The demo user's name.
pub const OWNER_NAME: &str = "Alex Rivera";
/// The Azure DevOps organisation.
pub const ADO_ORG: &str = "fabrikam";

/// Gmail's system labels, in the order labels.list returns them.
pub const GMAIL_SYSTEM_LABELS: &[(&str, LabelKind)] = &[
    ("CHAT", LabelKind::SystemHidden),
    ("SENT", LabelKind::System),
    ("INBOX", LabelKind::System),
    ("IMPORTANT", LabelKind::SystemHidden),
    ("TRASH", LabelKind::SystemHidden),
    ("DRAFT", LabelKind::System),
    ("SPAM", LabelKind::SystemHidden),
    ("CATEGORY_FORUMS", LabelKind::SystemHidden),
    ("CATEGORY_UPDATES", LabelKind::SystemHidden),
    ("CATEGORY_PERSONAL", LabelKind::SystemHidden),
    ("CATEGORY_PROMOTIONS", LabelKind::SystemHidden),
    ("CATEGORY_SOCIAL", LabelKind::SystemHidden),
    ("STARRED", LabelKind::System),
    ("UNREAD", LabelKind::System),
];

/// Gmail user labels in the demo mailbox.
const GMAIL_USER_LABELS: &[&str] = &["Receipts", "Projects/Ember", "Travel"];

/// Graph's well-known folders: well-known name and display name.
pub const GRAPH_FOLDERS: &[(&str, &str)] = &[
    ("inbox", "Inbox"),
    ("archive", "Archive"),
    ("deleteditems", "Deleted Items"),
    ("drafts", "Drafts"),
    ("junkemail", "Junk Email"),
    ("sentitems", "Sent Items"),
];

/// Flags a Graph message carries besides its folder, kept as labels.
pub const GRAPH_FLAGS: &[&str] = &["UNREAD", "FLAGGED", "FOCUSED"];

/// The user folders of the demo Microsoft 365 mailbox, by path of display
/// names, parents first. Their labels follow the well-known folders and
/// [`GRAPH_FLAGS`] in the table, so the bits those had before user folders
/// existed are unchanged.
pub const GRAPH_USER_FOLDERS: &[&str] = &["Inbox/Projects", "Inbox/Projects/Ember", "Receipts"];

/// Mixed into the seed for the stream that files Graph mail into user
/// folders (ASCII "filing").
const FILING_STREAM: u64 = 0x6669_6c69_6e67;

/// The moment Gmail ids count the anchor as (2027-01-15).
const ID_EPOCH_MS: i64 = 1_800_000_000_000;

/// Which service a mailbox emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailProvider {
    /// Gmail API v1.
    Gmail,
    /// Microsoft Graph v1.0.
    Graph,
}

/// The whole emulated state.
#[derive(Debug, Clone)]
pub struct World {
    /// How it was built.
    pub config: WorldConfig,
    /// When it was built (the newest message's date), Unix milliseconds.
    pub anchor_ms: i64,
    /// Gmail mailboxes.
    pub gmail: Vec<Mailbox>,
    /// Microsoft 365 mailboxes.
    pub graph: Vec<Mailbox>,
    /// The Azure DevOps organisation.
    pub ado: Organization,
    ids: HashSet<String>,
    rng: ChaCha8Rng,
}

impl World {
    /// Builds the world for `config`, with the newest message at `anchor_ms`.
    pub fn build(config: WorldConfig, anchor_ms: i64) -> Self {
        let config = WorldConfig {
            messages: config.messages.clamp(10, MAX_MESSAGES),
            ..config
        };
        let ado = Organization::generate(ADO_ORG, config.seed, config.work_items, anchor_ms);
        let mut world = Self {
            config,
            anchor_ms,
            gmail: Vec::new(),
            graph: Vec::new(),
            ado,
            ids: HashSet::new(),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
        };
        let gmail = world.generate_mailbox(MailProvider::Gmail, GMAIL_ADDRESS);
        let graph = world.generate_mailbox(MailProvider::Graph, GRAPH_ADDRESS);
        world.gmail.push(gmail);
        world.graph.push(graph);
        world
    }

    /// The mailbox of `provider` with `address` (or the first when `None`).
    pub fn mailbox_mut(
        &mut self,
        provider: MailProvider,
        address: Option<&str>,
    ) -> Option<&mut Mailbox> {
        let list = match provider {
            MailProvider::Gmail => &mut self.gmail,
            MailProvider::Graph => &mut self.graph,
        };
        match address {
            Some(a) => list.iter_mut().find(|m| m.address.eq_ignore_ascii_case(a)),
            None => list.first_mut(),
        }
    }

    /// The mailbox of `provider` with `address` (or the first when `None`).
    pub fn mailbox(&self, provider: MailProvider, address: Option<&str>) -> Option<&Mailbox> {
        let list = match provider {
            MailProvider::Gmail => &self.gmail,
            MailProvider::Graph => &self.graph,
        };
        match address {
            Some(a) => list.iter().find(|m| m.address.eq_ignore_ascii_case(a)),
            None => list.first(),
        }
    }

    /// A fresh message id for `provider`, unique in this world.
    pub fn new_message_id(&mut self, provider: MailProvider, date_ms: i64) -> String {
        loop {
            let id = match provider {
                MailProvider::Gmail => {
                    // Gmail ids are hex and grow with time. Measured from a
                    // fixed epoch rather than the anchor, so ids do not
                    // depend on when the world was built.
                    let t = (ID_EPOCH_MS + (date_ms - self.anchor_ms)).max(0) as u64;
                    let low: u64 = self.rng.random_range(0..4096);
                    format!("{:016x}", (t << 12) | low)
                }
                MailProvider::Graph => {
                    let mut bytes = [0u8; 45];
                    self.rng.fill(&mut bytes[..]);
                    format!(
                        "AAMkAGI2{}",
                        base64::engine::general_purpose::URL_SAFE.encode(bytes)
                    )
                }
            };
            if self.ids.insert(id.clone()) {
                return id;
            }
        }
    }

    fn generate_mailbox(&mut self, provider: MailProvider, address: &str) -> Mailbox {
        let labels = match provider {
            MailProvider::Gmail => gmail_labels(),
            MailProvider::Graph => graph_labels(self.config.seed),
        };
        // Sequence numbers start somewhere realistic, and differ per seed.
        let start_seq = 80_000 + (self.config.seed % 1_000) * 17;
        let mut mailbox = Mailbox::new(address, OWNER_NAME, labels, start_seq);
        let mut filing = match provider {
            MailProvider::Graph => Some(Filing::new(&mut mailbox, self.config.seed)),
            MailProvider::Gmail => None,
        };
        let samples = material().samples.len().max(1);
        let mime = material().mime.len().max(1);
        let n = self.config.messages;
        // Mean gap between messages: six hours, or less for big mailboxes so
        // that they span about two years.
        let mean_gap_ms = (2 * 365 * 24 * 3_600_000_i64 / n as i64).min(6 * 3_600_000);
        let mut date = self.anchor_ms;
        let mut i = 0;
        while i < n {
            let thread_len = if self.rng.random_bool(0.25) {
                self.rng.random_range(2..=4).min(n - i)
            } else {
                1
            };
            let kind = self.rng.random_range(0..100);
            let mut sample = self.rng.random_range(0..samples);
            // A third of the material is spam; a real mailbox sees less of it.
            if material().samples.get(sample).is_some_and(|s| s.is_spam)
                && self.rng.random_bool(0.75)
            {
                sample = self.rng.random_range(0..samples);
            }
            let mime_index = self.rng.random_range(0..mime);
            let notice_item = self.ado.random_item(&mut self.rng);
            let mut thread_id = None;
            // A thread's messages are generated newest first: the last reply first.
            for pos in (0..thread_len).rev() {
                let source = match (kind, &notice_item) {
                    (0..=2, _) => Source::Mime(mime_index),
                    (3..=6, Some((item, title, project))) => Source::WorkItemNotice {
                        item: *item,
                        title: title.clone(),
                        project: project.clone(),
                    },
                    _ => Source::Sample {
                        sample,
                        reply: u8::try_from(pos).unwrap_or(u8::MAX),
                    },
                };
                let id = self.new_message_id(provider, date);
                let thread = thread_id.get_or_insert_with(|| id.clone()).clone();
                let labels = self.initial_labels(&mailbox, provider, &source, i, filing.as_mut());
                mailbox.seed_message(Message {
                    id,
                    thread_id: thread,
                    labels,
                    date_ms: date,
                    source,
                    deleted: false,
                    changed: 0,
                });
                date -= self
                    .rng
                    .random_range(mean_gap_ms / 2..=mean_gap_ms * 3 / 2)
                    .max(1);
                i += 1;
            }
        }
        // Threads were generated newest message first, so the thread id is the
        // newest message's; real providers name a thread after its first.
        fix_thread_ids(&mut mailbox);
        mailbox.finish_seeding();
        mailbox
    }

    fn initial_labels(
        &mut self,
        mailbox: &Mailbox,
        provider: MailProvider,
        source: &Source,
        position: usize,
        filing: Option<&mut Filing>,
    ) -> u64 {
        let bit = |id: &str| mailbox.label_bit(id).unwrap_or(0);
        let (spam, category) = match source {
            Source::Sample { sample, .. } => material()
                .samples
                .get(*sample)
                .map_or((false, "CATEGORY_PERSONAL"), |s| {
                    (s.is_spam && s.label != "ham", s.gmail_category())
                }),
            Source::WorkItemNotice { .. } => (false, "CATEGORY_UPDATES"),
            Source::Mime(_) | Source::Raw(_) => (false, "CATEGORY_PERSONAL"),
        };
        // Newer mail is more often unread.
        let unread = self.rng.random_bool(if position < 50 { 0.6 } else { 0.15 });
        let starred = self.rng.random_bool(0.03);
        let archived = self.rng.random_bool(0.1);
        match provider {
            MailProvider::Gmail => {
                let mut labels = bit(category);
                labels |= if spam {
                    bit("SPAM")
                } else if archived {
                    0
                } else {
                    bit("INBOX")
                };
                if unread {
                    labels |= bit("UNREAD");
                }
                if starred {
                    labels |= bit("STARRED");
                }
                if category == "CATEGORY_PERSONAL" && self.rng.random_bool(0.3) {
                    labels |= bit("IMPORTANT");
                }
                if !spam && self.rng.random_bool(0.08) {
                    let user = GMAIL_USER_LABELS[self.rng.random_range(0..GMAIL_USER_LABELS.len())];
                    labels |= mailbox
                        .labels
                        .iter()
                        .position(|l| l.name == user)
                        .map_or(0, |i| 1 << i);
                }
                labels
            }
            MailProvider::Graph => {
                let mut labels = if spam {
                    graph_folder_bit("junkemail")
                } else if archived {
                    graph_folder_bit("archive")
                } else {
                    match filing.map_or(0, |f| f.folder(source, category)) {
                        0 => graph_folder_bit("inbox"),
                        user => user,
                    }
                };
                if unread {
                    labels |= bit("UNREAD");
                }
                if starred {
                    labels |= bit("FLAGGED");
                }
                if category == "CATEGORY_PERSONAL" {
                    labels |= bit("FOCUSED");
                }
                labels
            }
        }
    }
}

fn gmail_labels() -> Vec<Label> {
    let mut labels: Vec<Label> = GMAIL_SYSTEM_LABELS
        .iter()
        .map(|(id, kind)| Label {
            id: (*id).into(),
            name: (*id).into(),
            kind: *kind,
        })
        .collect();
    for (i, name) in GMAIL_USER_LABELS.iter().enumerate() {
        labels.push(Label {
            id: format!("Label_{}", i + 1),
            name: (*name).into(),
            kind: LabelKind::User,
        });
    }
    labels
}

/// A Graph folder id: opaque, stable per seed.
pub fn graph_folder_id(seed: u64, well_known: &str) -> String {
    let raw = format!("{seed:08x}-folder-{well_known}-0000000000000000");
    format!(
        "AQMkADAw{}AAAA",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_bytes())
    )
}

/// A Graph user folder's id: as opaque as a well-known one's, stable for
/// the seed and the folder's place in the label table (a place no other
/// folder ever takes).
pub fn graph_user_folder_id(seed: u64, index: usize) -> String {
    graph_folder_id(seed, &format!("user-{index:02}"))
}

fn graph_labels(seed: u64) -> Vec<Label> {
    let mut labels: Vec<Label> = GRAPH_FOLDERS
        .iter()
        .map(|(wk, name)| Label {
            id: graph_folder_id(seed, wk),
            name: (*name).into(),
            kind: LabelKind::Folder,
        })
        .collect();
    for flag in GRAPH_FLAGS {
        labels.push(Label {
            id: (*flag).into(),
            name: (*flag).into(),
            kind: LabelKind::SystemHidden,
        });
    }
    labels
}

/// The bit of a Graph folder by its well-known name (the folder table starts
/// with [`GRAPH_FOLDERS`], in order).
pub fn graph_folder_bit(well_known: &str) -> u64 {
    GRAPH_FOLDERS
        .iter()
        .position(|(wk, _)| *wk == well_known)
        .map_or(0, |i| 1 << i)
}

/// How the demo Microsoft 365 owner's rules file mail into the user
/// folders of [`GRAPH_USER_FOLDERS`]. It draws from a stream of its own, so
/// filing leaves every other draw (ids, dates, flags, and so the Gmail
/// mailbox and the Azure DevOps organisation) as it would be without it.
struct Filing {
    rng: ChaCha8Rng,
    projects: u64,
    ember: u64,
    receipts: u64,
}

impl Filing {
    /// Makes the user folders in `mb` and the rules that fill them.
    fn new(mb: &mut Mailbox, seed: u64) -> Self {
        for path in GRAPH_USER_FOLDERS {
            // A new mailbox's table has room, and the paths are parents first.
            tree::create_path(mb, seed, path).ok();
        }
        let bit = |path: &str| tree::find(mb, path).map_or(0, |i| 1u64 << i);
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed ^ FILING_STREAM),
            projects: bit("Inbox/Projects"),
            ember: bit("Inbox/Projects/Ember"),
            receipts: bit("Receipts"),
        }
    }

    /// The bit of the user folder a message bound for the inbox is filed
    /// in, or 0 to leave it in the inbox: half the Azure DevOps notices go
    /// to Projects/Ember, one update (orders, shipping) in ten to Receipts,
    /// and one other message in twenty to Projects.
    fn folder(&mut self, source: &Source, category: &str) -> u64 {
        let roll: f64 = self.rng.random();
        match (source, category) {
            (Source::WorkItemNotice { .. }, _) if roll < 0.5 => self.ember,
            (Source::WorkItemNotice { .. }, _) => 0,
            (_, "CATEGORY_UPDATES") if roll < 0.1 => self.receipts,
            (_, "CATEGORY_PERSONAL" | "CATEGORY_FORUMS") if roll < 0.05 => self.projects,
            _ => 0,
        }
    }
}

fn fix_thread_ids(mailbox: &mut Mailbox) {
    use std::collections::HashMap;
    // The oldest message of each thread names it.
    let mut oldest: HashMap<String, (i64, String)> = HashMap::new();
    for m in &mailbox.messages {
        let e = oldest
            .entry(m.thread_id.clone())
            .or_insert((m.date_ms, m.id.clone()));
        if m.date_ms < e.0 {
            *e = (m.date_ms, m.id.clone());
        }
    }
    for m in &mut mailbox.messages {
        if let Some((_, id)) = oldest.get(&m.thread_id) {
            m.thread_id = id.clone();
        }
    }
}

/// An id's thread-safe shared form.
pub type SharedStr = Arc<str>;

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> WorldConfig {
        WorldConfig {
            seed,
            messages: 300,
            work_items: 40,
        }
    }

    #[test]
    fn the_same_seed_builds_the_same_truth_whenever_it_runs() {
        let a = World::build(config(7), 1_800_000_000_000).truth();
        let b = World::build(config(7), 1_900_000_000_000).truth();
        let c = World::build(config(8), 1_800_000_000_000).truth();
        assert_eq!(a.accounts.len(), 3);
        assert_eq!(a, b, "ids, labels and work items do not depend on when");
        assert_ne!(a, c, "another seed, another world");
    }

    #[test]
    fn mailboxes_have_the_size_asked_for_with_threads_and_categories() {
        let w = World::build(config(3), 1_800_000_000_000);
        let gmail = &w.gmail[0];
        assert_eq!(gmail.messages.len(), 300);
        let threads: HashSet<_> = gmail.messages.iter().map(|m| &m.thread_id).collect();
        assert!(threads.len() < 300, "some messages share a thread");
        for category in [
            "CATEGORY_PROMOTIONS",
            "CATEGORY_UPDATES",
            "CATEGORY_PERSONAL",
        ] {
            let bit = gmail.label_bit(category).unwrap_or(0);
            assert!(gmail.count_with(bit) > 0, "{category} is used");
        }
        let graph = &w.graph[0];
        assert_eq!(graph.messages.len(), 300);
        let inbox = graph_folder_bit("inbox");
        assert!(graph.count_with(inbox) > 180, "most mail is in the inbox");
        let folders = graph.folder_mask();
        assert!(
            graph
                .messages
                .iter()
                .all(|m| (m.labels & folders).count_ones() == 1),
            "a Graph message is in exactly one folder"
        );
        for path in GRAPH_USER_FOLDERS {
            let bit = tree::find(graph, path).map_or(0, |i| 1u64 << i);
            assert!(
                bit != 0 && graph.count_with(bit) > 0,
                "{path} exists and holds mail"
            );
        }
    }

    #[test]
    fn ids_are_unique_and_shaped_like_the_real_ones() {
        let w = World::build(config(5), 1_800_000_000_000);
        let ids: HashSet<_> = w.gmail[0].messages.iter().map(|m| &m.id).collect();
        assert_eq!(ids.len(), 300);
        assert!(w.gmail[0]
            .messages
            .iter()
            .all(|m| m.id.len() == 16 && m.id.chars().all(|c| c.is_ascii_hexdigit())));
        assert!(w.graph[0]
            .messages
            .iter()
            .all(|m| m.id.starts_with("AAMkAGI2")));
    }
}
