//! The emulated Azure DevOps organisation: projects, work items with their
//! revision history and comments, and the personal access token that opens
//! it. Field names and value shapes follow Work Item Tracking REST 7.1.
//!
//! The [`process`] says which types and states exist; [`enrich`] adds
//! descriptions, links, mentions and follows to generated items; [`changes`]
//! holds the changes other people make through the control API.

mod changes;
mod enrich;
pub mod process;

pub use self::changes::{Edit, NewItem};

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

/// A project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// GUID.
    pub id: String,
    /// Name (appears in URLs and `System.TeamProject`).
    pub name: String,
    /// Description.
    pub description: String,
}

/// One revision of a work item: its fields as they were.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The revision number.
    pub rev: u32,
    /// Every field at that revision.
    pub fields: Map<String, Value>,
}

/// A comment on a work item.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Its id.
    pub id: u32,
    /// HTML text.
    pub text: String,
    /// Who wrote it (display name).
    pub author: String,
    /// When, Unix milliseconds.
    pub created_ms: i64,
}

/// A work item.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    /// Its number.
    pub id: u32,
    /// Index into [`Organization::projects`].
    pub project: usize,
    /// Current revision.
    pub rev: u32,
    /// Current fields.
    pub fields: Map<String, Value>,
    /// Every revision, oldest first (the last equals the current state).
    pub revisions: Vec<Revision>,
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// Deleted (in the recycle bin).
    pub deleted: bool,
}

impl WorkItem {
    /// A string field, or "" when absent.
    pub fn field_str(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// Its name (`dev.azure.com/{name}`).
    pub name: String,
    /// The personal access token that opens it.
    pub pat: String,
    /// Projects.
    pub projects: Vec<Project>,
    /// Work items, by ascending id.
    pub items: Vec<WorkItem>,
    /// Changes so far (a watermark clients can compare).
    pub changes: u64,
    /// Ids of the items the token's owner follows (`@Follows`), ascending.
    pub followed: Vec<u32>,
    /// `System.LinkTypes.Related` links, each once as (lower id, higher id).
    /// Parent links are the children's `System.Parent` field.
    pub related: Vec<(u32, u32)>,
}

/// People who appear as creators and assignees.
pub const PEOPLE: &[(&str, &str)] = &[
    ("Alex Rivera", "alex.rivera@contoso.example"),
    ("Jamie Chen", "jamie.chen@contoso.example"),
    ("Priya Natarajan", "priya.natarajan@contoso.example"),
    ("Sam Okafor", "sam.okafor@contoso.example"),
];

const PROJECTS: &[(&str, &str)] = &[
    (
        "Fabrikam Fiber",
        "The customer portal and its backend services.",
    ),
    ("Ember Desktop", "The desktop client."),
    ("Platform", "Shared infrastructure and pipelines."),
];

const SUBJECTS: &[&str] = &[
    "Login fails after password reset",
    "Sync stalls on large mailboxes",
    "Add keyboard shortcut for archive",
    "Crash when opening an attachment",
    "Dark theme contrast too low",
    "Retry uploads after network loss",
    "Search misses accented words",
    "Slow start-up on first run",
    "Export work items to CSV",
    "Tray icon missing on some desktops",
    "Rate limit errors during initial sync",
    "Notification shows the wrong sender",
];

const AREAS: &[&str] = &["Client", "Sync", "Search", "Accounts", "Notifications"];

/// An ISO 8601 UTC timestamp the way Azure DevOps writes them.
pub fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// When fields say they last changed (`System.ChangedDate`), Unix ms; 0
/// when they do not say.
pub fn changed_ms(fields: &Map<String, Value>) -> i64 {
    fields
        .get("System.ChangedDate")
        .and_then(Value::as_str)
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .map_or(0, |d| d.timestamp_millis())
}

/// The id of the identity with `email`.
pub fn identity_id(email: &str) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        email.len() * 7919,
        email.bytes().map(u64::from).sum::<u64>()
    )
}

/// An identity reference as fields carry it.
pub fn identity(name: &str, email: &str) -> Value {
    let id = identity_id(email);
    json!({
        "displayName": name,
        "url": format!("https://spsprodeus27.vssps.visualstudio.com/_apis/Identities/{id}"),
        "_links": {"avatar": {"href": format!("https://dev.azure.com/_apis/GraphProfile/MemberAvatars/aad.{id}")}},
        "id": id,
        "uniqueName": email,
        "imageUrl": format!("https://dev.azure.com/_apis/GraphProfile/MemberAvatars/aad.{id}"),
        "descriptor": format!("aad.{id}"),
    })
}

fn guid(rng: &mut ChaCha8Rng) -> String {
    let b: [u8; 16] = rng.random();
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-8{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6] & 0xf, b[7], b[8] & 0xf, b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

impl Organization {
    /// Generates `count` work items across the projects, with revisions and
    /// comments, the newest changed at `anchor_ms`.
    pub fn generate(name: &str, seed: u64, count: usize, anchor_ms: i64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xAD0_0000);
        let projects: Vec<Project> = PROJECTS
            .iter()
            .map(|(n, d)| Project {
                id: guid(&mut rng),
                name: (*n).into(),
                description: (*d).into(),
            })
            .collect();
        let pat = format!(
            "emulatorpat{}",
            (0..41)
                .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz234567"[rng.random_range(0..32)]))
                .collect::<String>()
        );
        let mut items = Vec::with_capacity(count);
        let span_ms = 180 * 24 * 3_600_000_i64;
        for i in 0..count {
            let id = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let project = rng.random_range(0..projects.len());
            let kind = &process::TYPES[rng.random_range(0..process::TYPES.len())];
            let (item_type, states) = (kind.name, kind.states);
            let title = format!(
                "{} ({})",
                SUBJECTS[rng.random_range(0..SUBJECTS.len())],
                AREAS[rng.random_range(0..AREAS.len())]
            );
            let created = anchor_ms - rng.random_range(span_ms / 4..span_ms);
            let creator = PEOPLE[rng.random_range(0..PEOPLE.len())];
            let p = &projects[project];
            let mut fields = Map::new();
            let area = format!("{}\\{}", p.name, AREAS[rng.random_range(0..AREAS.len())]);
            fields.insert("System.AreaPath".into(), json!(area));
            fields.insert("System.TeamProject".into(), json!(p.name));
            fields.insert(
                "System.IterationPath".into(),
                json!(format!("{}\\Sprint {}", p.name, rng.random_range(1..=12))),
            );
            fields.insert("System.WorkItemType".into(), json!(item_type));
            fields.insert("System.State".into(), json!(states[0].name));
            fields.insert(
                "System.Reason".into(),
                json!(format!("New {}", item_type.to_lowercase())),
            );
            fields.insert("System.CreatedDate".into(), json!(iso(created)));
            fields.insert("System.CreatedBy".into(), identity(creator.0, creator.1));
            fields.insert("System.ChangedDate".into(), json!(iso(created)));
            fields.insert("System.ChangedBy".into(), identity(creator.0, creator.1));
            fields.insert("System.CommentCount".into(), json!(0));
            fields.insert("System.Title".into(), json!(title));
            fields.insert(
                "Microsoft.VSTS.Common.Priority".into(),
                json!(rng.random_range(1..=4)),
            );
            fields.insert(
                "Microsoft.VSTS.Common.StateChangeDate".into(),
                json!(iso(created)),
            );
            let mut item = WorkItem {
                id,
                project,
                rev: 1,
                fields: fields.clone(),
                revisions: vec![Revision { rev: 1, fields }],
                comments: Vec::new(),
                deleted: false,
            };
            // Later revisions: assignment, state moves, comments.
            let mut at = created;
            let steps = rng.random_range(0..4);
            for step in 0..steps {
                // Never after the world's build time: a revision from the future
                // would break any watermark a client keeps.
                at = (at + rng.random_range(3_600_000..(anchor_ms - at).max(3_600_001)))
                    .min(anchor_ms);
                let who = PEOPLE[rng.random_range(0..PEOPLE.len())];
                let mut change = Map::new();
                if step == 0 {
                    change.insert("System.AssignedTo".into(), identity(who.0, who.1));
                } else {
                    // Never as far as Removed: generated items move forward.
                    let state = states[(step as usize).min(3).min(states.len() - 1)].name;
                    change.insert("System.State".into(), json!(state));
                    change.insert(
                        "Microsoft.VSTS.Common.StateChangeDate".into(),
                        json!(iso(at)),
                    );
                }
                if rng.random_bool(0.4) {
                    item.comments.push(Comment {
                        id: u32::try_from(item.comments.len() + 1).unwrap_or(1),
                        text: format!("<div>Looked into this: step {} done.</div>", step + 1),
                        author: who.0.into(),
                        created_ms: at,
                    });
                    change.insert("System.CommentCount".into(), json!(item.comments.len()));
                }
                item.apply(change, who, at);
            }
            items.push(item);
        }
        let mut org = Self {
            name: name.into(),
            pat,
            projects,
            items,
            changes: 0,
            followed: Vec::new(),
            related: Vec::new(),
        };
        enrich::enrich(&mut org, seed, anchor_ms);
        org
    }

    /// A random live work item, for notification mails: id, title, project name.
    pub fn random_item(&self, rng: &mut ChaCha8Rng) -> Option<(u32, Arc<str>, Arc<str>)> {
        if self.items.is_empty() {
            return None;
        }
        let item = &self.items[rng.random_range(0..self.items.len())];
        Some((
            item.id,
            item.field_str("System.Title").into(),
            self.projects[item.project].name.as_str().into(),
        ))
    }

    /// The live item with `id`.
    pub fn item(&self, id: u32) -> Option<&WorkItem> {
        self.items.iter().find(|w| w.id == id && !w.deleted)
    }

    /// The live item with `id`, to change.
    pub fn item_mut(&mut self, id: u32) -> Option<&mut WorkItem> {
        self.items.iter_mut().find(|w| w.id == id && !w.deleted)
    }

    /// The project called `name` (case-insensitive) or with that id.
    pub fn project(&self, name_or_id: &str) -> Option<usize> {
        self.projects
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name_or_id) || p.id == name_or_id)
    }
}

impl WorkItem {
    /// Applies `change` as a new revision by `who` at `at_ms`.
    pub fn apply(&mut self, change: Map<String, Value>, who: (&str, &str), at_ms: i64) {
        for (k, v) in change {
            if v.is_null() {
                self.fields.remove(&k);
            } else {
                self.fields.insert(k, v);
            }
        }
        self.rev += 1;
        self.fields
            .insert("System.ChangedDate".into(), json!(iso(at_ms)));
        self.fields
            .insert("System.ChangedBy".into(), identity(who.0, who.1));
        self.revisions.push(Revision {
            rev: self.rev,
            fields: self.fields.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_end_at_the_current_state() {
        let org = Organization::generate("fabrikam", 3, 50, 1_800_000_000_000);
        assert_eq!(org.items.len(), 50);
        for item in &org.items {
            assert_eq!(item.revisions.len() as u32, item.rev);
            assert_eq!(item.revisions.last().map(|r| &r.fields), Some(&item.fields));
            assert!(!item.field_str("System.Title").is_empty());
        }
        assert!(org.items.iter().any(|w| w.rev > 1));
        assert!(org.items.iter().any(|w| !w.comments.is_empty()));
    }

    #[test]
    fn the_same_seed_gives_the_same_organisation() {
        let a = Organization::generate("fabrikam", 9, 20, 1_800_000_000_000);
        let b = Organization::generate("fabrikam", 9, 20, 1_800_000_000_000);
        assert_eq!(a, b);
        assert_eq!(a.pat.len(), 52, "PATs are 52 characters");
    }
}
