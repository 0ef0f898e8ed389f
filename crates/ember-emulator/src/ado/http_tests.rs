//! Azure DevOps over loopback HTTP, through the whole router: work item
//! types and states, relations, descriptions and mentions, the `@Follows`
//! and `@RecentMentions` macros, and saved queries.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::testing::{ado_get, ado_post, ado_truth, basic, ids, pat, send, start};

const P: &str = "/fabrikam/Fabrikam%20Fiber";

fn id_set(v: &Value) -> BTreeSet<u64> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect()
}

/// Every live item, by batch reads with `$expand`.
async fn all_items(emu: &crate::Emulator, expand: &str) -> Vec<Value> {
    let truth = ado_truth(emu).await;
    let ids: Vec<u64> = truth["work_items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["id"].as_u64())
        .collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(200) {
        let r = ado_post(
            emu,
            "/fabrikam/_apis/wit/workitemsbatch?api-version=7.1",
            &json!({"ids": chunk, "$expand": expand}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        out.extend(r.json["value"].as_array().cloned().unwrap_or_default());
    }
    out
}

#[tokio::test]
async fn work_item_types_list_their_states_and_patch_keeps_to_them() {
    let emu = start(40).await;
    let list = ado_get(
        &emu,
        &format!("{P}/_apis/wit/workitemtypes?api-version=7.1"),
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json["count"], 4);
    let bug = &list.json["value"][0];
    assert_eq!(bug["name"], "Bug");
    assert_eq!(bug["referenceName"], "Microsoft.VSTS.WorkItemTypes.Bug");
    assert_eq!(
        bug["states"][3],
        json!({"name": "Closed", "color": "339933", "category": "Completed"})
    );
    assert!(bug["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/_apis/wit/workItemTypes/Bug")));
    assert!(bug["transitions"][""].is_array());
    let one = ado_get(
        &emu,
        &format!("{P}/_apis/wit/workItemTypes/user%20story?api-version=7.1"),
    )
    .await;
    assert_eq!(one.json["name"], "User Story");

    let states = ado_get(
        &emu,
        &format!("{P}/_apis/wit/workitemtypes/User%20Story/states?api-version=7.1"),
    )
    .await;
    assert_eq!(states.status, 200, "{}", states.text);
    assert_eq!(states.json["count"], 5);
    let pairs: Vec<(String, String)> = states.json["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_owned(),
                s["category"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want = [
        ("New", "Proposed"),
        ("Active", "InProgress"),
        ("Resolved", "Resolved"),
        ("Closed", "Completed"),
        ("Removed", "Removed"),
    ];
    assert_eq!(pairs, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
    let task = ado_get(&emu, &format!("{P}/_apis/wit/workitemtypes/Task/states")).await;
    let names: Vec<&str> = task.json["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["To Do", "Doing", "Done"]);
    let missing = ado_get(
        &emu,
        &format!("{P}/_apis/wit/workitemtypes/Epic/states?api-version=7.1"),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert!(missing.json["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("VS402323")));
    let no_project = ado_get(
        &emu,
        "/fabrikam/Nope/_apis/wit/workitemtypes?api-version=7.1",
    )
    .await;
    assert_eq!(no_project.status, 404);

    // The states listed are the states a PATCH may set.
    let task_id = ado_truth(&emu).await["work_items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["type"] == "Task")
        .and_then(|w| w["id"].as_u64())
        .unwrap();
    let auth = basic(&pat(&emu).await);
    for (state, status) in [("Active", 400), ("Removed", 400), ("Doing", 200)] {
        let r = send(
            &emu,
            "PATCH",
            &format!("{P}/_apis/wit/workitems/{task_id}?api-version=7.1"),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json-patch+json"),
            ],
            Some(
                &json!([{"op": "add", "path": "/fields/System.State", "value": state}]).to_string(),
            ),
        )
        .await;
        assert_eq!(r.status, status, "{state}: {}", r.text);
    }
    emu.stop().await;
}

#[tokio::test]
async fn relations_come_with_expand_relations_or_all_and_agree_both_ways() {
    let emu = start(60).await;
    let items = all_items(&emu, "relations").await;
    let base = format!("{}/fabrikam/_apis/wit/workItems/", emu.base_url());
    let rels = |id: u64| -> Vec<(String, u64, String)> {
        items
            .iter()
            .find(|w| w["id"].as_u64() == Some(id))
            .and_then(|w| w["relations"].as_array())
            .into_iter()
            .flatten()
            .map(|r| {
                let url = r["url"].as_str().unwrap_or_default();
                assert!(url.starts_with(&base), "{url}");
                assert_eq!(r["attributes"]["isLocked"], false);
                (
                    r["rel"].as_str().unwrap_or_default().to_owned(),
                    url[base.len()..].parse().unwrap_or_default(),
                    r["attributes"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    };
    let (mut parents, mut related) = (0, 0);
    for w in &items {
        let id = w["id"].as_u64().unwrap_or_default();
        for (rel, other, name) in rels(id) {
            let back = rels(other);
            match rel.as_str() {
                "System.LinkTypes.Hierarchy-Reverse" => {
                    parents += 1;
                    assert_eq!(name, "Parent");
                    assert_eq!(w["fields"]["System.Parent"].as_u64(), Some(other));
                    assert!(back.contains(&(
                        "System.LinkTypes.Hierarchy-Forward".into(),
                        id,
                        "Child".into()
                    )));
                }
                "System.LinkTypes.Hierarchy-Forward" => {
                    assert_eq!(name, "Child");
                    assert!(back.contains(&(
                        "System.LinkTypes.Hierarchy-Reverse".into(),
                        id,
                        "Parent".into()
                    )));
                }
                "System.LinkTypes.Related" => {
                    related += 1;
                    assert_eq!(name, "Related");
                    assert!(back.contains(&(rel.clone(), id, "Related".into())));
                }
                other => panic!("unexpected relation {other}"),
            }
        }
    }
    assert!(
        parents > 0 && related > 0,
        "parents {parents}, related {related}"
    );
    assert!(
        items.iter().any(|w| w.get("relations").is_none()),
        "left out when there are none"
    );

    let linked = items
        .iter()
        .find(|w| w.get("relations").is_some())
        .and_then(|w| w["id"].as_u64())
        .unwrap();
    let plain = ado_get(
        &emu,
        &format!("/fabrikam/_apis/wit/workitems/{linked}?api-version=7.1"),
    )
    .await;
    assert!(plain.json.get("relations").is_none(), "only with $expand");
    for expand in ["relations", "all", "Relations"] {
        let one = ado_get(
            &emu,
            &format!("/fabrikam/_apis/wit/workitems/{linked}?$expand={expand}&api-version=7.1"),
        )
        .await;
        assert!(one.json["relations"].is_array(), "{expand}");
        let list = ado_get(
            &emu,
            &format!("{P}/_apis/wit/workitems?ids={linked}&$expand={expand}&api-version=7.1"),
        )
        .await;
        assert_eq!(list.json["value"][0]["relations"], one.json["relations"]);
    }
    emu.stop().await;
}

#[tokio::test]
async fn descriptions_are_html_some_hostile_and_comments_mention_the_owner() {
    let emu = start(60).await;
    let items = all_items(&emu, "none").await;
    let descriptions: Vec<&str> = items
        .iter()
        .filter_map(|w| w["fields"]["System.Description"].as_str())
        .collect();
    assert_eq!(descriptions.len(), items.len());
    for hostile in ["<script", "onerror=", "<img src=\"http://"] {
        assert!(
            descriptions.iter().any(|d| d.contains(hostile)),
            "{hostile}"
        );
    }
    let truth = ado_truth(&emu).await;
    let mentioned = id_set(&truth["mentioned"]);
    assert!(!mentioned.is_empty());
    let id = mentioned.iter().next().copied().unwrap_or_default();
    let comments = ado_get(
        &emu,
        &format!("{P}/_apis/wit/workitems/{id}/comments?api-version=7.1-preview.4"),
    )
    .await;
    assert_eq!(comments.status, 200, "{}", comments.text);
    let mention = comments.json["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c["text"]
                .as_str()
                .is_some_and(|t| t.contains("data-vss-mention"))
        })
        .cloned()
        .unwrap();
    let owner_id = crate::work_items::identity_id("alex.rivera@contoso.example");
    let markup =
        format!("<a href=\"#\" data-vss-mention=\"version:2.0,{owner_id}\">@Alex Rivera</a>");
    assert!(
        mention["text"]
            .as_str()
            .is_some_and(|t| t.contains(&markup)),
        "{mention}"
    );
    assert_ne!(mention["createdBy"]["displayName"], "Alex Rivera");
    emu.stop().await;
}

#[tokio::test]
async fn wiql_knows_follows_recent_mentions_and_changed_date_order() {
    let emu = start(60).await;
    let truth = ado_truth(&emu).await;
    let wiql = |q: &str| json!({ "query": q });
    let run = |q: Value| {
        let emu = &emu;
        async move {
            let r = ado_post(
                emu,
                "/fabrikam/_apis/wit/wiql?api-version=7.1&timePrecision=true",
                &q,
            )
            .await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
            r.json
        }
    };
    let follows = run(wiql(
        "SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN (@Follows)",
    ))
    .await;
    assert_eq!(
        ids(&follows).into_iter().collect::<BTreeSet<_>>(),
        id_set(&truth["followed"])
    );
    assert!(!ids(&follows).is_empty());
    let mentions = run(wiql(
        "SELECT [System.Id] FROM WorkItems WHERE [System.Id] IN (@RecentMentions)",
    ))
    .await;
    assert_eq!(
        ids(&mentions).into_iter().collect::<BTreeSet<_>>(),
        id_set(&truth["mentioned"])
    );
    let others = run(wiql(
        "SELECT [System.Id] FROM WorkItems WHERE [System.Id] NOT IN (@Follows)",
    ))
    .await;
    assert_eq!(ids(&others).len() + ids(&follows).len(), 60);
    let misused = ado_post(
        &emu,
        "/fabrikam/_apis/wit/wiql?api-version=7.1",
        &wiql("SELECT [System.Id] FROM WorkItems WHERE [System.Title] = @Follows"),
    )
    .await;
    assert_eq!(misused.status, 400);

    // ChangedDate with a time of day, newest changes in order.
    let since = "2000-01-01T00:00:00.000Z";
    let sorted = run(wiql(&format!("SELECT [System.Id], [System.ChangedDate] FROM WorkItems WHERE [System.ChangedDate] >= '{since}' ORDER BY [System.ChangedDate]"))).await;
    let order = ids(&sorted);
    assert_eq!(order.len(), 60);
    let items = all_items(&emu, "none").await;
    let changed = |id: u64| -> String {
        items
            .iter()
            .find(|w| w["id"].as_u64() == Some(id))
            .and_then(|w| w["fields"]["System.ChangedDate"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        order.windows(2).all(|w| changed(w[0]) <= changed(w[1])),
        "ascending by ChangedDate"
    );
    assert_eq!(
        sorted["sortColumns"][0]["field"]["referenceName"],
        "System.ChangedDate"
    );
    emu.stop().await;
}

#[tokio::test]
async fn saved_queries_are_listed_in_their_folders_and_run_by_id() {
    let emu = start(60).await;
    let tree = ado_get(
        &emu,
        &format!("{P}/_apis/wit/queries?$depth=2&api-version=7.1"),
    )
    .await;
    assert_eq!(tree.status, 200, "{}", tree.text);
    assert_eq!(tree.json["count"], 2);
    let folders: Vec<&str> = tree.json["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(folders, ["My Queries", "Shared Queries"]);
    let shared = &tree.json["value"][1];
    assert_eq!(shared["isFolder"], true);
    assert_eq!(shared["hasChildren"], true);
    let active = shared["children"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|q| q["name"] == "Active bugs")
        .cloned()
        .unwrap();
    assert_eq!(active["path"], "Shared Queries/Active bugs");
    assert!(
        active.get("isFolder").is_none(),
        "false is left out, as the service does"
    );
    assert!(active.get("wiql").is_none(), "the text only with $expand");
    let id = active["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(id.len(), 36);
    assert!(active["_links"]["wiql"]["href"]
        .as_str()
        .is_some_and(|h| h.ends_with(&format!("/_apis/wit/wiql/{id}"))));

    let flat = ado_get(&emu, &format!("{P}/_apis/wit/queries?api-version=7.1")).await;
    assert!(
        flat.json["value"][1].get("children").is_none(),
        "$depth defaults to 0"
    );
    let deep = ado_get(
        &emu,
        &format!("{P}/_apis/wit/queries?$depth=3&api-version=7.1"),
    )
    .await;
    assert_eq!(deep.status, 400);
    let expanded = ado_get(
        &emu,
        &format!("{P}/_apis/wit/queries?$depth=1&$expand=wiql&api-version=7.1"),
    )
    .await;
    let text = expanded.json["value"][1]["children"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|q| q["id"] == id.as_str())
        .map(|q| q["wiql"].as_str().unwrap_or_default().to_owned())
        .unwrap();
    assert!(
        text.contains("[System.WorkItemType] = 'Bug' AND [System.State] = 'Active'"),
        "{text}"
    );
    let by_path = ado_get(
        &emu,
        &format!("{P}/_apis/wit/queries/Shared%20Queries/Active%20bugs?api-version=7.1"),
    )
    .await;
    assert_eq!(by_path.json["id"], id.as_str());

    let saved = ado_get(&emu, &format!("{P}/_apis/wit/wiql/{id}?api-version=7.1")).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    let adhoc = ado_post(
        &emu,
        &format!("{P}/_apis/wit/wiql?api-version=7.1"),
        &json!({ "query": text }),
    )
    .await;
    assert_eq!(ids(&saved.json), ids(&adhoc.json));
    for key in [
        "queryType",
        "queryResultType",
        "asOf",
        "columns",
        "workItems",
    ] {
        assert!(saved.json.get(key).is_some(), "{key}");
    }
    let missing = ado_get(
        &emu,
        &format!("{P}/_apis/wit/wiql/00000000-0000-4000-8000-000000000000?api-version=7.1"),
    )
    .await;
    assert_eq!(missing.status, 404);
    emu.stop().await;
}
