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
