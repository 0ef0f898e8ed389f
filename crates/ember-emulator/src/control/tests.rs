//! The control API's Azure DevOps part over loopback HTTP: colleagues'
//! changes, revoking and reissuing the personal access token, the slowdown
//! fault and the truth.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::testing::{
    ado_get, ado_post, ado_truth, basic, control, control_get, ids, pat, send, start,
};

fn truth_item(truth: &Value, id: u64) -> Option<Value> {
    truth["work_items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["id"].as_u64() == Some(id))
        .cloned()
}

/// Finding 15: a control request without this run's secret (or with
/// another run's) is refused with 401 and changes nothing; the provider
/// routes stay as reachable as the real services.
#[tokio::test]
async fn control_routes_refuse_requests_without_the_run_secret() {
    let emu = start(60).await;
    let other = start(60).await;
    assert_eq!(emu.control_token().len(), 32);
    assert_ne!(
        emu.control_token(),
        other.control_token(),
        "a secret per run"
    );
    let before = ado_truth(&emu).await;
    let change =
        json!({"provider": "ado", "work_items": [{"id": 3, "title": "Renamed by a stranger"}]});
    let body = change.to_string();
    for headers in [
        vec![("Content-Type", "application/json")],
        vec![
            ("Content-Type", "application/json"),
            (
                crate::control::TOKEN_HEADER,
                "0123456789abcdef0123456789abcdef",
            ),
        ],
        vec![
            ("Content-Type", "application/json"),
            (crate::control::TOKEN_HEADER, other.control_token()),
        ],
    ] {
        let r = send(&emu, "POST", "/_emulator/mutate", &headers, Some(&body)).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert!(r.text.contains(crate::control::TOKEN_HEADER), "{}", r.text);
    }
    for path in ["/_emulator/accounts", "/_emulator/truth", "/_emulator/log"] {
        let r = send(&emu, "GET", path, &[], None).await;
        assert_eq!(r.status, 401, "{path}: {}", r.text);
        assert!(
            !r.text.contains(&pat(&emu).await),
            "{path} leaked the token"
        );
    }
    let r = send(
        &emu,
        "POST",
        "/_emulator/reset",
        &[("Content-Type", "application/json")],
        Some(r#"{"seed": 1, "messages": 0, "work_items": 0}"#),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(ado_truth(&emu).await, before, "nothing changed");

    // With the secret the same request works, and the provider API needs
    // only its own credentials.
    let r = control(&emu, "mutate", &change).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        truth_item(&ado_truth(&emu).await, 3).map(|w| w["title"].clone()),
        Some(json!("Renamed by a stranger"))
    );
    let projects = ado_get(&emu, "/fabrikam/_apis/projects?api-version=7.1").await;
    assert_eq!(projects.status, 200, "{}", projects.text);
    other.stop().await;
    emu.stop().await;
}

#[tokio::test]
async fn mutate_edits_deletes_and_adds_work_items_as_a_colleague() {
    let emu = start(60).await;
    let before = ado_truth(&emu).await;
    let rev = |t: &Value, id| {
        truth_item(t, id)
            .and_then(|w| w["rev"].as_u64())
            .unwrap_or(0)
    };
    let r = control(
        &emu,
        "mutate",
        &json!({"provider": "ado",
            "work_items": [
                {"id": 3, "title": "Renamed behind your back", "assigned_to": "priya.natarajan@contoso.example", "priority": 1},
                {"id": 4, "assigned_to": null, "comment": "<div>Over to you.</div>", "mention": true},
                {"id": 5, "delete": true},
                {"id": 999, "state": "Active"},
            ],
            "add_work_items": [
                {"type": "Bug", "title": "Crash on launch", "assigned_to": "Alex Rivera"},
                {"type": "Task", "title": "Write the fix", "state": "Doing", "parent": 3},
            ]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"changed": 3, "missing": ["999"], "added": [61, 62]})
    );

    let after = ado_truth(&emu).await;
    let three = truth_item(&after, 3).unwrap();
    assert_eq!(three["title"], "Renamed behind your back");
    assert_eq!(three["assigned_to"], "priya.natarajan@contoso.example");
    assert_eq!(
        three["rev"].as_u64(),
        Some(rev(&before, 3) + 1),
        "one revision per change"
    );
    let four = truth_item(&after, 4).unwrap();
    assert!(four["assigned_to"].is_null());
    assert!(after["mentioned"]
        .as_array()
        .is_some_and(|m| m.contains(&json!(4))));
    assert!(
        truth_item(&after, 5).is_none(),
        "deleted items leave the truth"
    );
    let bug = truth_item(&after, 61).unwrap();
    assert_eq!(
        (
            bug["type"].as_str(),
            bug["state"].as_str(),
            bug["rev"].as_u64()
        ),
        (Some("Bug"), Some("New"), Some(1))
    );
    assert_eq!(bug["assigned_to"], "alex.rivera@contoso.example");

    let item = ado_get(&emu, "/fabrikam/_apis/wit/workitems/3?api-version=7.1").await;
    assert_eq!(item.json["fields"]["Microsoft.VSTS.Common.Priority"], 1);
    assert_ne!(
        item.json["fields"]["System.ChangedBy"]["displayName"],
        "Alex Rivera"
    );
    let gone = ado_get(&emu, "/fabrikam/_apis/wit/workitems/5?api-version=7.1").await;
    assert_eq!(gone.status, 404);
    let all = ado_post(
        &emu,
        "/fabrikam/_apis/wit/wiql?api-version=7.1",
        &json!({"query": "SELECT [System.Id] FROM WorkItems"}),
    )
    .await;
    let all: BTreeSet<u64> = ids(&all.json).into_iter().collect();
    assert!(!all.contains(&5) && all.contains(&61) && all.contains(&62));
    let task = ado_get(
        &emu,
        "/fabrikam/_apis/wit/workitems/62?$expand=relations&api-version=7.1",
    )
    .await;
    assert_eq!(
        task.json["fields"]["System.CreatedBy"]["displayName"],
        "Jamie Chen"
    );
    assert_eq!(task.json["relations"][0]["attributes"]["name"], "Parent");
    let comments = ado_get(
        &emu,
        "/fabrikam/Fabrikam%20Fiber/_apis/wit/workitems/4/comments?api-version=7.1-preview.4",
    )
    .await;
    let newest = &comments.json["comments"][0];
    assert!(newest["text"]
        .as_str()
        .is_some_and(|t| t.contains("data-vss-mention") && t.contains("Over to you.")));
    assert_eq!(newest["createdBy"]["displayName"], "Jamie Chen");

    // A bad body changes nothing.
    let now = ado_truth(&emu).await;
    for bad in [
        json!({"provider": "ado", "work_items": [{"id": 3, "title": "x"}], "add_work_items": [{"type": "Epic", "title": "x"}]}),
        json!({"provider": "ado", "work_items": [{"id": 3}]}),
        json!({"provider": "ado", "work_items": [{"id": 3, "colour": "red"}]}),
        json!({"provider": "ado", "add_work_items": [{"type": "Bug", "title": "x", "state": "Doing"}]}),
    ] {
        let r = control(&emu, "mutate", &bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    assert_eq!(ado_truth(&emu).await, now);
    // The old body still works: a state change.
    let r = control(
        &emu,
        "mutate",
        &json!({"provider": "ado", "work_items": [{"id": 3, "state": "Active"}]}),
    )
    .await;
    assert_eq!(r.json["changed"], 1);
    emu.stop().await;
}

#[tokio::test]
async fn a_revoked_pat_gets_the_sign_in_page_until_a_new_one_is_issued() {
    let emu = start(10).await;
    let old = pat(&emu).await;
    let projects = "/fabrikam/_apis/projects?api-version=7.1";
    let old_auth = basic(&old);
    assert_eq!(
        send(&emu, "GET", projects, &[("Authorization", &old_auth)], None)
            .await
            .status,
        200
    );
    let r = control(&emu, "revoke", &json!({"provider": "ado"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let refused = send(&emu, "GET", projects, &[("Authorization", &old_auth)], None).await;
    assert_eq!(refused.status, 203);
    assert!(refused
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    assert_eq!(send(&emu, "GET", projects, &[], None).await.status, 401);

    let issued = control(&emu, "pat", &json!({"provider": "ado"})).await;
    assert_eq!(issued.status, 200, "{}", issued.text);
    let new = issued.json["pat"].as_str().unwrap_or_default().to_owned();
    assert_eq!(new.len(), 52);
    assert_ne!(new, old);
    assert_eq!(pat(&emu).await, new, "accounts shows the current token");
    let new_auth = basic(&new);
    assert_eq!(
        send(&emu, "GET", projects, &[("Authorization", &new_auth)], None)
            .await
            .status,
        200
    );
    assert_eq!(
        send(&emu, "GET", projects, &[("Authorization", &old_auth)], None)
            .await
            .status,
        203
    );
    // Issuing again retires the previous one too.
    control(&emu, "pat", &json!({"provider": "ado"})).await;
    assert_eq!(
        send(&emu, "GET", projects, &[("Authorization", &new_auth)], None)
            .await
            .status,
        203
    );
    assert_eq!(
        control(&emu, "pat", &json!({"provider": "gmail"}))
            .await
            .status,
        400
    );
    emu.stop().await;
}

#[tokio::test]
async fn slowdown_adds_rate_limit_headers_and_leaves_the_answer_alone() {
    let emu = start(20).await;
    let query = json!({"query": "SELECT [System.Id] FROM WorkItems ORDER BY [System.Id]"});
    let plain = ado_post(&emu, "/fabrikam/_apis/wit/wiql?api-version=7.1", &query).await;
    let r = control(
        &emu,
        "faults",
        &json!({"spec": "ado.wiql:slowdown,remaining=5,delay=2"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let slowed = ado_post(&emu, "/fabrikam/_apis/wit/wiql?api-version=7.1", &query).await;
    assert_eq!(slowed.status, 200);
    assert_eq!(ids(&slowed.json), ids(&plain.json));
    assert_eq!(slowed.header("x-ratelimit-resource"), Some("Core"));
    assert_eq!(slowed.header("x-ratelimit-remaining"), Some("5"));
    assert_eq!(slowed.header("x-ratelimit-delay"), Some("2"));
    assert!(slowed
        .header("x-ratelimit-limit")
        .is_some_and(|l| l.parse::<u64>().is_ok()));
    assert!(slowed
        .header("x-ratelimit-reset")
        .is_some_and(|l| l.parse::<u64>().is_ok()));
    let other = ado_get(&emu, "/fabrikam/_apis/projects?api-version=7.1").await;
    assert!(
        other.header("x-ratelimit-delay").is_none(),
        "only the endpoint named"
    );
    emu.stop().await;
}

#[tokio::test]
async fn the_truth_lists_titles_types_assignees_follows_and_mentions() {
    let emu = start(60).await;
    let truth = control_get(&emu, "truth").await;
    for account in truth["accounts"].as_array().into_iter().flatten() {
        let ado = account["provider"] == "ado";
        assert_eq!(account.get("followed").is_some(), ado);
        assert_eq!(account.get("mentioned").is_some(), ado);
    }
    let ado = ado_truth(&emu).await;
    let items = ado["work_items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 60);
    for w in &items {
        let keys: BTreeSet<&str> = w
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            BTreeSet::from(["id", "rev", "state", "title", "type", "assigned_to"])
        );
        assert!(
            w["assigned_to"].is_null()
                || w["assigned_to"].as_str().is_some_and(|a| a.contains('@'))
        );
    }
    assert!(items.iter().any(|w| w["assigned_to"].is_string()));
    assert!(items.iter().any(|w| w["assigned_to"].is_null()));
    assert!(!ado["followed"].as_array().is_none_or(Vec::is_empty));
    assert!(!ado["mentioned"].as_array().is_none_or(Vec::is_empty));
    emu.stop().await;
}
