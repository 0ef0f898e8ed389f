//! The work item fields the emulated organisation defines: reference name,
//! friendly name (both usable in WIQL), value type, and whether a client may
//! write it. Friendly names are the ones Azure DevOps shows in query columns.

/// A field's value type, as far as queries and updates care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A whole number.
    Integer,
    /// A decimal number.
    Double,
    /// A short string.
    String,
    /// An ISO 8601 date and time.
    DateTime,
    /// A person, stored as an identity reference object.
    Identity,
    /// An area or iteration path (`Project\Area`).
    TreePath,
    /// Long HTML text.
    Html,
    /// The discussion entry of one revision.
    History,
}

/// One field definition.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Field {
    /// Reference name (`System.State`).
    pub reference: &'static str,
    /// Friendly name (`State`).
    pub name: &'static str,
    /// Value type.
    pub kind: Kind,
    /// Computed or maintained by the service: a patch may not set it.
    pub read_only: bool,
}

const fn f(reference: &'static str, name: &'static str, kind: Kind, read_only: bool) -> Field {
    Field {
        reference,
        name,
        kind,
        read_only,
    }
}

/// Every field the organisation knows.
pub(crate) const FIELDS: &[Field] = &[
    f("System.Id", "ID", Kind::Integer, true),
    f("System.Title", "Title", Kind::String, false),
    f("System.State", "State", Kind::String, false),
    f("System.Reason", "Reason", Kind::String, false),
    f("System.WorkItemType", "Work Item Type", Kind::String, false),
    f("System.AssignedTo", "Assigned To", Kind::Identity, false),
    f("System.TeamProject", "Team Project", Kind::String, true),
    f("System.AreaPath", "Area Path", Kind::TreePath, false),
    f(
        "System.IterationPath",
        "Iteration Path",
        Kind::TreePath,
        false,
    ),
    f("System.AreaId", "Area ID", Kind::Integer, true),
    f("System.IterationId", "Iteration ID", Kind::Integer, true),
    f("System.NodeName", "Node Name", Kind::String, true),
    f("System.AreaLevel1", "Area Level 1", Kind::String, true),
    f("System.AreaLevel2", "Area Level 2", Kind::String, true),
    f("System.AreaLevel3", "Area Level 3", Kind::String, true),
    f(
        "System.IterationLevel1",
        "Iteration Level 1",
        Kind::String,
        true,
    ),
    f(
        "System.IterationLevel2",
        "Iteration Level 2",
        Kind::String,
        true,
    ),
    f(
        "System.IterationLevel3",
        "Iteration Level 3",
        Kind::String,
        true,
    ),
    f("System.Rev", "Rev", Kind::Integer, true),
    f(
        "System.AuthorizedDate",
        "Authorized Date",
        Kind::DateTime,
        true,
    ),
    f("System.RevisedDate", "Revised Date", Kind::DateTime, true),
    f("System.CreatedDate", "Created Date", Kind::DateTime, true),
    f("System.CreatedBy", "Created By", Kind::Identity, true),
    f("System.ChangedDate", "Changed Date", Kind::DateTime, true),
    f("System.ChangedBy", "Changed By", Kind::Identity, true),
    f("System.AuthorizedAs", "Authorized As", Kind::Identity, true),
    f("System.PersonId", "Person ID", Kind::Integer, true),
    f("System.Watermark", "Watermark", Kind::Integer, true),
    f("System.CommentCount", "Comment Count", Kind::Integer, true),
    f("System.Tags", "Tags", Kind::String, false),
    f("System.Description", "Description", Kind::Html, false),
    f("System.History", "History", Kind::History, false),
    f("System.BoardColumn", "Board Column", Kind::String, true),
    f("System.Parent", "Parent", Kind::Integer, false),
    f(
        "Microsoft.VSTS.Common.Priority",
        "Priority",
        Kind::Integer,
        false,
    ),
    f(
        "Microsoft.VSTS.Common.Severity",
        "Severity",
        Kind::String,
        false,
    ),
    f(
        "Microsoft.VSTS.Common.ValueArea",
        "Value Area",
        Kind::String,
        false,
    ),
    f(
        "Microsoft.VSTS.Common.StateChangeDate",
        "State Change Date",
        Kind::DateTime,
        true,
    ),
    f(
        "Microsoft.VSTS.Common.ActivatedDate",
        "Activated Date",
        Kind::DateTime,
        true,
    ),
    f(
        "Microsoft.VSTS.Common.ActivatedBy",
        "Activated By",
        Kind::Identity,
        true,
    ),
    f(
        "Microsoft.VSTS.Common.ResolvedDate",
        "Resolved Date",
        Kind::DateTime,
        true,
    ),
    f(
        "Microsoft.VSTS.Common.ResolvedBy",
        "Resolved By",
        Kind::Identity,
        true,
    ),
    f(
        "Microsoft.VSTS.Common.ClosedDate",
        "Closed Date",
        Kind::DateTime,
        true,
    ),
    f(
        "Microsoft.VSTS.Common.ClosedBy",
        "Closed By",
        Kind::Identity,
        true,
    ),
    f(
        "Microsoft.VSTS.Common.AcceptanceCriteria",
        "Acceptance Criteria",
        Kind::Html,
        false,
    ),
    f(
        "Microsoft.VSTS.Scheduling.RemainingWork",
        "Remaining Work",
        Kind::Double,
        false,
    ),
    f(
        "Microsoft.VSTS.Scheduling.OriginalEstimate",
        "Original Estimate",
        Kind::Double,
        false,
    ),
    f(
        "Microsoft.VSTS.Scheduling.CompletedWork",
        "Completed Work",
        Kind::Double,
        false,
    ),
    f(
        "Microsoft.VSTS.Scheduling.StoryPoints",
        "Story Points",
        Kind::Double,
        false,
    ),
    f(
        "Microsoft.VSTS.Scheduling.Effort",
        "Effort",
        Kind::Double,
        false,
    ),
    f(
        "Microsoft.VSTS.TCM.ReproSteps",
        "Repro Steps",
        Kind::Html,
        false,
    ),
    f(
        "Microsoft.VSTS.TCM.SystemInfo",
        "System Info",
        Kind::Html,
        false,
    ),
];

/// The field called `name`: reference or friendly name, any case.
pub(crate) fn find(name: &str) -> Option<&'static Field> {
    let name = name.trim();
    FIELDS
        .iter()
        .find(|f| f.reference.eq_ignore_ascii_case(name) || f.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_resolve_by_either_name_in_any_case() {
        assert_eq!(find("[x]"), None);
        assert_eq!(find("system.state").map(|f| f.name), Some("State"));
        assert_eq!(find("State").map(|f| f.reference), Some("System.State"));
        assert_eq!(find("ID").map(|f| f.reference), Some("System.Id"));
        assert_eq!(find("Assigned To").map(|f| f.kind), Some(Kind::Identity));
    }

    #[test]
    fn names_are_unique() {
        for (i, a) in FIELDS.iter().enumerate() {
            for b in &FIELDS[i + 1..] {
                assert!(!a.reference.eq_ignore_ascii_case(b.reference));
                assert!(!a.name.eq_ignore_ascii_case(b.name), "{}", a.name);
            }
        }
    }
}
