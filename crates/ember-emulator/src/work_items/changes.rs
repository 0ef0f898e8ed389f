//! Changes colleagues make to the organisation behind a client's back, for
//! the control API: editing an item (state, title, assignee, priority, a
//! comment that may @mention the owner), deleting it, creating new ones.
//! Every edit is one new revision by a colleague, never the owner, dated
//! now or a millisecond after the item's last change.

use serde_json::{json, Map, Value};

use super::enrich::{mention_text, owner_mention};
use super::{
    changed_ms, identity, iso, process, Comment, Organization, Revision, WorkItem, PEOPLE,
};

/// Who makes the control API's changes.
pub const COLLEAGUE: (&str, &str) = PEOPLE[1];

/// One edit of an item; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edit {
    /// New `System.State` (not checked against the type: colleagues may
    /// have rules of their own).
    pub state: Option<String>,
    /// New `System.Title`.
    pub title: Option<String>,
    /// New assignee (address, display name or `Name <address>`);
    /// `Some(None)` unassigns.
    pub assigned_to: Option<Option<String>>,
    /// New `Microsoft.VSTS.Common.Priority`.
    pub priority: Option<i64>,
    /// A comment (HTML) to add.
    pub comment: Option<String>,
    /// Make the comment @mention the owner (a comment of its own when no
    /// text is given).
    pub mention: bool,
}

impl Edit {
    /// Why the edit cannot be made, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if *self == Self::default() {
            return Err("a work item change must name something to change".into());
        }
        if let Some(t) = &self.title {
            check_title(t)?;
        }
        if self.state.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err("state must not be empty".into());
        }
        Ok(())
    }
}

/// A new item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewItem {
    /// Its type's name.
    pub item_type: String,
    /// Its title.
    pub title: String,
    /// Its state (the type's first when `None`).
    pub state: Option<String>,
    /// Its assignee.
    pub assigned_to: Option<String>,
    /// Its project's name or id (the first project when `None`).
    pub project: Option<String>,
    /// Its parent's id.
    pub parent: Option<u32>,
}

fn check_title(title: &str) -> Result<(), String> {
    if title.trim().is_empty() {
        Err("title must not be empty".into())
    } else if title.chars().count() > 255 {
        Err("title is longer than 255 characters".into())
    } else {
        Ok(())
    }
}

/// A person's identity, known or not, from an address, a display name or
/// `Name <address>`.
pub fn person_identity(text: &str) -> Value {
    let text = text.trim();
    let (name, email) = match text.strip_suffix('>').and_then(|t| t.split_once('<')) {
        Some((n, e)) => (n.trim().to_owned(), Some(e.trim().to_owned())),
        None if text.contains('@') => (String::new(), Some(text.to_owned())),
        None => (text.to_owned(), None),
    };
    if let Some(&(n, e)) = PEOPLE.iter().find(|(n, e)| {
        email.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(e))
            || (email.is_none() && n.eq_ignore_ascii_case(&name))
    }) {
        return identity(n, e);
    }
    match email {
        Some(e) => {
            let name = if name.is_empty() {
                e.split('@')
                    .next()
                    .unwrap_or_default()
                    .split(['.', '_'])
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_uppercase().chain(c).collect::<String>())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                name
            };
            identity(&name, &e)
        }
        None => identity(
            &name,
            &format!("{}@contoso.example", name.to_lowercase().replace(' ', ".")),
        ),
    }
}

impl Organization {
    /// Applies `edit` to live item `id` as a colleague; `false` when there
    /// is no such item. Check the edit first ([`Edit::check`]).
    pub fn edit_as_colleague(&mut self, id: u32, edit: &Edit, now_ms: i64) -> bool {
        let Some(item) = self.item_mut(id) else {
            return false;
        };
        let at = now_ms.max(changed_ms(&item.fields) + 1);
        let mut change = Map::new();
        // The last revision's discussion entry is not this one's.
        change.insert("System.History".into(), Value::Null);
        if let Some(state) = &edit.state {
            change.insert("System.State".into(), json!(state));
            change.insert(
                "Microsoft.VSTS.Common.StateChangeDate".into(),
                json!(iso(at)),
            );
        }
        if let Some(title) = &edit.title {
            change.insert("System.Title".into(), json!(title));
        }
        if let Some(assignee) = &edit.assigned_to {
            let value = assignee.as_deref().map_or(Value::Null, person_identity);
            change.insert("System.AssignedTo".into(), value);
        }
        if let Some(p) = edit.priority {
            change.insert("Microsoft.VSTS.Common.Priority".into(), json!(p));
        }
        let text = match (&edit.comment, edit.mention) {
            (Some(c), true) => Some(format!("<div>{} {c}</div>", owner_mention())),
            (Some(c), false) => Some(c.clone()),
            (None, true) => Some(mention_text(item.id as usize)),
            (None, false) => None,
        };
        if let Some(text) = text {
            item.comments.push(Comment {
                id: item.comments.iter().map(|c| c.id).max().unwrap_or(0) + 1,
                text: text.clone(),
                author: COLLEAGUE.0.into(),
                created_ms: at,
            });
            change.insert("System.CommentCount".into(), json!(item.comments.len()));
            change.insert("System.History".into(), json!(text));
        }
        item.apply(change, COLLEAGUE, at);
        self.changes += 1;
        true
    }

    /// Deletes live item `id` (to the recycle bin); `false` when there is
    /// no such item.
    pub fn delete(&mut self, id: u32) -> bool {
        match self.item_mut(id) {
            Some(item) => {
                item.deleted = true;
                self.changes += 1;
                true
            }
            None => false,
        }
    }

    /// Why `new` cannot be created, if it cannot: its type, state, title,
    /// project and parent; otherwise the type, state and project index.
    pub fn check_new(
        &self,
        new: &NewItem,
    ) -> Result<(&'static process::ItemType, &'static process::State, usize), String> {
        let kind = process::item_type(&new.item_type)
            .ok_or_else(|| format!("{:?} is not a work item type", new.item_type))?;
        let state = match &new.state {
            Some(s) => kind
                .state(s)
                .ok_or_else(|| format!("{:?} is not a state of {}", s, kind.name))?,
            None => &kind.states[0],
        };
        check_title(&new.title)?;
        let project = match &new.project {
            Some(p) => self.project(p).ok_or_else(|| format!("no project {p:?}"))?,
            None => 0,
        };
        if self.projects.get(project).is_none() {
            return Err("the organisation has no project".into());
        }
        if let Some(parent) = new.parent {
            self.item(parent)
                .ok_or_else(|| format!("no work item {parent} to be the parent"))?;
        }
        Ok((kind, state, project))
    }

    /// Creates an item as a colleague; its id is the next one.
    pub fn create_as_colleague(&mut self, new: &NewItem, now_ms: i64) -> Result<u32, String> {
        let (kind, state, project) = self.check_new(new)?;
        let project_name = self.projects[project].name.clone();
        let id = self.items.iter().map(|w| w.id).max().unwrap_or(0) + 1;
        let who = identity(COLLEAGUE.0, COLLEAGUE.1);
        let mut fields = Map::new();
        fields.insert("System.AreaPath".into(), json!(project_name));
        fields.insert("System.TeamProject".into(), json!(project_name));
        fields.insert("System.IterationPath".into(), json!(project_name));
        fields.insert("System.WorkItemType".into(), json!(kind.name));
        fields.insert("System.State".into(), json!(state.name));
        fields.insert(
            "System.Reason".into(),
            json!(format!("New {}", kind.name.to_lowercase())),
        );
        fields.insert("System.CreatedDate".into(), json!(iso(now_ms)));
        fields.insert("System.CreatedBy".into(), who.clone());
        fields.insert("System.ChangedDate".into(), json!(iso(now_ms)));
        fields.insert("System.ChangedBy".into(), who);
        fields.insert("System.CommentCount".into(), json!(0));
        fields.insert("System.Title".into(), json!(new.title));
        fields.insert("Microsoft.VSTS.Common.Priority".into(), json!(2));
        fields.insert(
            "Microsoft.VSTS.Common.StateChangeDate".into(),
            json!(iso(now_ms)),
        );
        if let Some(a) = &new.assigned_to {
            fields.insert("System.AssignedTo".into(), person_identity(a));
        }
        if let Some(p) = new.parent {
            fields.insert("System.Parent".into(), json!(p));
        }
        self.items.push(WorkItem {
            id,
            project,
            rev: 1,
            fields: fields.clone(),
            revisions: vec![Revision { rev: 1, fields }],
            comments: Vec::new(),
            deleted: false,
        });
        self.changes += 1;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::super::enrich::mentions_owner;
    use super::*;

    fn org() -> Organization {
        Organization::generate("fabrikam", 6, 30, 1_800_000_000_000)
    }

    #[test]
    fn an_edit_is_one_revision_by_a_colleague_after_the_last() {
        let mut org = org();
        let before = org.items[2].clone();
        let last = changed_ms(&before.fields);
        let edit = Edit {
            title: Some("Renamed".into()),
            assigned_to: Some(Some("sam.okafor@contoso.example".into())),
            priority: Some(1),
            comment: Some("Taking this.".into()),
            mention: true,
            ..Edit::default()
        };
        assert!(edit.check().is_ok());
        assert!(org.edit_as_colleague(before.id, &edit, last - 5_000));
        let after = &org.items[2];
        assert_eq!(after.rev, before.rev + 1);
        assert_eq!(changed_ms(&after.fields), last + 1, "never before the last");
        assert_eq!(after.field_str("System.Title"), "Renamed");
        assert_eq!(
            after.fields["System.AssignedTo"]["displayName"],
            "Sam Okafor"
        );
        assert_eq!(
            after.fields["System.ChangedBy"]["displayName"],
            "Jamie Chen"
        );
        assert!(mentions_owner(&after.comments.last().unwrap().text));
        assert!(org.mentioned(None).contains(&before.id));

        let unassign = Edit {
            assigned_to: Some(None),
            ..Edit::default()
        };
        assert!(org.edit_as_colleague(before.id, &unassign, 0));
        assert!(!org.items[2].fields.contains_key("System.AssignedTo"));
        assert!(
            !org.items[2].fields.contains_key("System.History"),
            "history is the revision's own"
        );
        assert!(Edit::default().check().is_err());
        assert!(!org.edit_as_colleague(999, &unassign, 0));
    }

    #[test]
    fn deleted_items_are_gone_and_new_ones_take_the_next_id() {
        let mut org = org();
        let id = org.followed[0];
        assert!(org.delete(id));
        assert!(org.item(id).is_none());
        assert!(!org.live_followed().contains(&id));
        assert!(!org.delete(id));
        let new = NewItem {
            item_type: "bug".into(),
            title: "Crash on launch".into(),
            assigned_to: Some("Alex Rivera".into()),
            ..NewItem::default()
        };
        let created = org.create_as_colleague(&new, 1_800_000_000_000).unwrap();
        assert_eq!(created, 31);
        let item = org.item(created).unwrap();
        assert_eq!(item.field_str("System.State"), "New");
        assert_eq!(item.field_str("System.WorkItemType"), "Bug");
        assert_eq!(
            item.fields["System.AssignedTo"]["uniqueName"],
            "alex.rivera@contoso.example"
        );
        for bad in [
            NewItem {
                item_type: "Epic".into(),
                ..new.clone()
            },
            NewItem {
                state: Some("Doing".into()),
                ..new.clone()
            },
            NewItem {
                title: " ".into(),
                ..new.clone()
            },
        ] {
            assert!(org.create_as_colleague(&bad, 0).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn people_are_found_by_address_or_name_or_made_up() {
        assert_eq!(
            person_identity("Priya Natarajan")["uniqueName"],
            "priya.natarajan@contoso.example"
        );
        assert_eq!(
            person_identity("JAMIE.CHEN@contoso.example")["displayName"],
            "Jamie Chen"
        );
        assert_eq!(
            person_identity("kim.lee@example.com")["displayName"],
            "Kim Lee"
        );
        assert_eq!(
            person_identity("Kim Lee <kim@example.com>")["uniqueName"],
            "kim@example.com"
        );
    }
}
