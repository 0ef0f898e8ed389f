//! Turning Azure DevOps' answers into what the store keeps: pure functions,
//! no I/O. Work item HTML (descriptions, comments) is as untrusted as mail
//! and goes through the same sanitiser before it is stored.

use serde_json::Value;

use crate::model::{StateChange, WorkItemComment};
use crate::providers::mime;
use crate::store::NewWorkItem;

/// Azure DevOps' dates (`2027-01-15T08:00:00.5Z`, or with an offset) as
/// Unix milliseconds.
pub fn parse_date(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Unix milliseconds as WIQL compares dates (to the millisecond).
pub fn wiql_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// An identity field (`{displayName, uniqueName}`, or a bare string) as a
/// display name and an address.
pub fn identity(value: &Value) -> (Option<String>, Option<String>) {
    match value {
        Value::String(s) if !s.trim().is_empty() => {
            // "Name <address>" or either alone.
            match s.rsplit_once('<') {
                Some((name, rest)) => (
                    Some(name.trim().to_owned()).filter(|n| !n.is_empty()),
                    Some(rest.trim_end_matches('>').trim().to_owned()),
                ),
                None if s.contains('@') => (None, Some(s.trim().to_owned())),
                None => (Some(s.trim().to_owned()), None),
            }
        }
        Value::Object(o) => (
            o.get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            o.get("uniqueName")
                .and_then(Value::as_str)
                .filter(|u| u.contains('@'))
                .map(str::to_owned),
        ),
        _ => (None, None),
    }
}

/// The item number at the end of a work item URL.
fn item_of_url(url: &str) -> Option<i64> {
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
}

/// One work item resource as a row, or `None` when it has no id or rev.
/// `host` and `organization` make its web address.
pub fn work_item(
    host: &str,
    organization: &str,
    value: &Value,
    memberships: Vec<String>,
) -> Option<NewWorkItem> {
    let item_id = value["id"].as_i64()?;
    let rev = value["rev"].as_i64()?;
    let fields = &value["fields"];
    let text = |name: &str| fields[name].as_str().map(str::to_owned);
    let project = text("System.TeamProject").unwrap_or_default();
    let (assigned_to, assigned_to_address) = identity(&fields["System.AssignedTo"]);
    let (created_name, created_address) = identity(&fields["System.CreatedBy"]);
    let description = text("System.Description").filter(|d| !d.trim().is_empty());
    let url = value["_links"]["html"]["href"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "{}/{}/{}/_workitems/edit/{item_id}",
                host.trim_end_matches('/'),
                organization,
                project.replace(' ', "%20")
            )
        });
    let relations = value["relations"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|r| {
                    let rel = match r["rel"].as_str()? {
                        "System.LinkTypes.Hierarchy-Reverse" => "parent",
                        "System.LinkTypes.Hierarchy-Forward" => "child",
                        "System.LinkTypes.Related" => "related",
                        _ => return None,
                    };
                    Some((rel.to_owned(), item_of_url(r["url"].as_str()?)?))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(NewWorkItem {
        organization: organization.to_owned(),
        project,
        item_id,
        rev,
        item_type: text("System.WorkItemType").unwrap_or_else(|| "Work item".into()),
        title: text("System.Title").unwrap_or_default(),
        state: text("System.State").unwrap_or_default(),
        assigned_to: assigned_to.or(assigned_to_address.clone()),
        assigned_to_address,
        priority: fields["Microsoft.VSTS.Common.Priority"].as_i64(),
        iteration: text("System.IterationPath"),
        created_by: created_name.or(created_address),
        changed_date: fields["System.ChangedDate"]
            .as_str()
            .and_then(parse_date)
            .unwrap_or(0),
        url,
        description_text: description
            .as_deref()
            .map(|d| mime::clip(&mail_parser::decoders::html::html_to_text(d))),
        description: description.as_deref().map(mime::sanitise_html),
        relations,
        memberships,
        fields: fields.clone(),
    })
}

/// The state changes among an item's updates, oldest first.
pub fn history(updates: &[Value]) -> Vec<StateChange> {
    updates
        .iter()
        .filter_map(|u| {
            let state = u["fields"]["System.State"]["newValue"].as_str()?;
            let (name, address) = identity(&u["revisedBy"]);
            let changed_at = u["fields"]["System.ChangedDate"]["newValue"]
                .as_str()
                .and_then(parse_date)
                .or_else(|| u["revisedDate"].as_str().and_then(parse_date))
                .unwrap_or(0);
            Some(StateChange {
                rev: u["rev"].as_i64()?,
                state: state.to_owned(),
                changed_by: name.or(address).unwrap_or_default(),
                changed_at,
            })
        })
        .collect()
}

/// Comments, oldest first, their HTML sanitised.
pub fn comments(list: &[Value]) -> Vec<(i64, WorkItemComment)> {
    let mut out: Vec<(i64, WorkItemComment)> = list
        .iter()
        .filter(|c| c["isDeleted"].as_bool() != Some(true))
        .filter_map(|c| {
            let (name, address) = identity(&c["createdBy"]);
            Some((
                c["commentId"].as_i64().or(c["id"].as_i64())?,
                WorkItemComment {
                    author: name.or(address).unwrap_or_default(),
                    created_at: c["createdDate"].as_str().and_then(parse_date).unwrap_or(0),
                    html: mime::sanitise_html(c["text"].as_str().unwrap_or_default()),
                },
            ))
        })
        .collect();
    out.sort_by_key(|(id, c)| (c.created_at, *id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_work_item_resource_becomes_a_row_with_a_sanitised_description() {
        let value = json!({
            "id": 17, "rev": 4,
            "fields": {
                "System.TeamProject": "Ember Desktop",
                "System.WorkItemType": "Bug",
                "System.Title": "Sync stalls",
                "System.State": "Active",
                "System.AssignedTo": {"displayName": "Alex Rivera", "uniqueName": "alex.rivera@contoso.example"},
                "System.CreatedBy": "Jamie Chen <jamie.chen@contoso.example>",
                "System.ChangedDate": "2027-01-15T08:00:00.5Z",
                "System.IterationPath": "Ember Desktop\\Sprint 3",
                "Microsoft.VSTS.Common.Priority": 2,
                "System.Description": "<p onclick=x()>Steps <script>alert(1)</script><img src=\"http://track.example/p.gif\"></p>"
            },
            "relations": [
                {"rel": "System.LinkTypes.Hierarchy-Reverse", "url": "https://dev.azure.com/fabrikam/_apis/wit/workItems/3"},
                {"rel": "AttachedFile", "url": "https://x/y"}
            ]
        });
        let item = work_item(
            "http://127.0.0.1:9",
            "fabrikam",
            &value,
            vec!["assigned".into()],
        );
        let item = item.unwrap_or_default();
        assert_eq!((item.item_id, item.rev), (17, 4));
        assert_eq!(item.assigned_to.as_deref(), Some("Alex Rivera"));
        assert_eq!(
            item.assigned_to_address.as_deref(),
            Some("alex.rivera@contoso.example")
        );
        assert_eq!(item.created_by.as_deref(), Some("Jamie Chen"));
        assert_eq!(item.priority, Some(2));
        assert_eq!(item.changed_date % 1000, 500, "milliseconds are kept");
        assert_eq!(wiql_date(item.changed_date), "2027-01-15T08:00:00.500Z");
        assert_eq!(
            item.url,
            "http://127.0.0.1:9/fabrikam/Ember%20Desktop/_workitems/edit/17"
        );
        let html = item.description.unwrap_or_default();
        assert!(
            !html.contains("script") && !html.contains("onclick"),
            "{html}"
        );
        assert!(item.description_text.unwrap_or_default().contains("Steps"));
        assert_eq!(item.relations, vec![("parent".to_owned(), 3)]);
        assert!(work_item("h", "o", &json!({"id": 1}), Vec::new()).is_none());
    }

    #[test]
    fn history_and_comments_read_their_shapes() {
        let updates = vec![
            json!({"rev": 1, "revisedBy": {"displayName": "Jamie"}, "fields": {"System.State": {"newValue": "New"}, "System.ChangedDate": {"newValue": "2027-01-01T00:00:00Z"}}}),
            json!({"rev": 2, "revisedBy": {"displayName": "Jamie"}, "fields": {"System.Title": {"newValue": "x"}}}),
            json!({"rev": 3, "revisedBy": {"displayName": "Alex"}, "fields": {"System.State": {"oldValue": "New", "newValue": "Active"}}, "revisedDate": "2027-01-02T00:00:00Z"}),
        ];
        let h = history(&updates);
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[1].rev, h[1].state.as_str(), h[1].changed_by.as_str()),
            (3, "Active", "Alex")
        );
        let c = comments(&[
            json!({"commentId": 2, "text": "<b>later</b>", "createdBy": {"displayName": "B"}, "createdDate": "2027-01-03T00:00:00Z"}),
            json!({"commentId": 1, "text": "<script>x</script>first", "createdBy": {"displayName": "A"}, "createdDate": "2027-01-02T00:00:00Z"}),
            json!({"commentId": 3, "isDeleted": true, "text": "gone"}),
        ]);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].1.author, "A");
        assert!(!c[0].1.html.contains("script"));
    }
}
