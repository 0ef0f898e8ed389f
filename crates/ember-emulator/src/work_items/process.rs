//! The process the emulated organisation's projects follow: its work item
//! types and the states each moves through, with the colours and state
//! categories Azure DevOps gives them. One table serves the generator, the
//! rules a JSON Patch update must pass, and `GET …/_apis/wit/workitemtypes`.
//!
//! Bug and User Story are Agile's; Task and Feature keep the Basic-style
//! states the emulator has always generated (To Do / Doing / Done and New /
//! In Progress / Done), so existing worlds and clients see what they saw.

/// One state of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Its name (`System.State`).
    pub name: &'static str,
    /// Hex colour without `#`, as the service writes it.
    pub color: &'static str,
    /// `Proposed`, `InProgress`, `Resolved`, `Completed` or `Removed`.
    pub category: &'static str,
}

/// One work item type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemType {
    /// Its name (`System.WorkItemType`).
    pub name: &'static str,
    /// `Microsoft.VSTS.WorkItemTypes.*`.
    pub reference_name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Hex colour without `#`.
    pub color: &'static str,
    /// The icon's id (`icon_insect` ...).
    pub icon: &'static str,
    /// States, the initial one first.
    pub states: &'static [State],
}

const fn s(name: &'static str, color: &'static str, category: &'static str) -> State {
    State {
        name,
        color,
        category,
    }
}

const NEW: State = s("New", "b2b2b2", "Proposed");
const ACTIVE: State = s("Active", "007acc", "InProgress");
const RESOLVED: State = s("Resolved", "ff9d00", "Resolved");
const CLOSED: State = s("Closed", "339933", "Completed");
const REMOVED: State = s("Removed", "ffffff", "Removed");

/// The types, in the order the generator draws from.
pub const TYPES: &[ItemType] = &[
    ItemType {
        name: "Bug",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Bug",
        description: "Describes a divergence between required and actual behavior, and tracks the work done to correct the defect and verify the correction.",
        color: "CC293D",
        icon: "icon_insect",
        states: &[NEW, ACTIVE, RESOLVED, CLOSED],
    },
    ItemType {
        name: "Task",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Task",
        description: "Tracks work that needs to be done.",
        color: "F2CB1D",
        icon: "icon_clipboard",
        states: &[
            s("To Do", "b2b2b2", "Proposed"),
            s("Doing", "007acc", "InProgress"),
            s("Done", "339933", "Completed"),
        ],
    },
    ItemType {
        name: "User Story",
        reference_name: "Microsoft.VSTS.WorkItemTypes.UserStory",
        description: "Tracks an activity the user will be able to perform with the product.",
        color: "009CCC",
        icon: "icon_book",
        states: &[NEW, ACTIVE, RESOLVED, CLOSED, REMOVED],
    },
    ItemType {
        name: "Feature",
        reference_name: "Microsoft.VSTS.WorkItemTypes.Feature",
        description: "Tracks a feature that will be released with the product.",
        color: "773B93",
        icon: "icon_trophy",
        states: &[
            NEW,
            s("In Progress", "007acc", "InProgress"),
            s("Done", "339933", "Completed"),
        ],
    },
];

/// The type called `name` (any case), or with that reference name.
pub fn item_type(name: &str) -> Option<&'static ItemType> {
    let name = name.trim();
    TYPES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name) || t.reference_name.eq_ignore_ascii_case(name))
}

impl ItemType {
    /// The state called `name` (any case).
    pub fn state(&self, name: &str) -> Option<&'static State> {
        self.states
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_starts_proposed_and_can_be_completed() {
        for t in TYPES {
            assert_eq!(t.states[0].category, "Proposed", "{}", t.name);
            assert!(t.states.iter().any(|s| s.category == "Completed"));
            assert_eq!(item_type(&t.name.to_uppercase()), Some(t));
            assert_eq!(item_type(t.reference_name), Some(t));
        }
        let story = item_type("user story").map(|t| t.states.len());
        assert_eq!(story, Some(5), "User Story can be Removed");
        assert!(item_type("Epic").is_none());
    }
}
