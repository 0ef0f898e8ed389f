//! Tests of the emulator's Azure DevOps part, over loopback HTTP: contract
//! tests against the real payloads in ../shared/data (read at test time,
//! never copied), personal access tokens, WIQL, batch reads, JSON Patch with
//! `test /rev`, updates, revisions and comments.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine as _;
use ember_emulator::Emulator;
use serde_json::{json, Value};

use crate::support::{client, control, control_get, recorded, shape_diff, shared_data, start};

/// An emulator and what a client needs to talk to its organisation.
struct Ado {
    emu: Emulator,
    auth: String,
    /// `http://127.0.0.1:PORT/fabrikam`.
    org: String,
    /// The first project, URL-encoded.
    project: String,
}

/// A response: status, content type and JSON (Null when not JSON).
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

impl Ado {
    async fn start() -> anyhow::Result<Self> {
        let emu = start(10).await?;
        let accounts = control_get(&emu, "accounts").await?;
        let pat = accounts["ado"]["pat"].as_str().unwrap_or_default();
        anyhow::ensure!(pat.len() == 52, "a 52-character PAT: {accounts}");
        let org = accounts["ado"]["organization"].as_str().unwrap_or_default();
        let project = accounts["ado"]["projects"][0]
            .as_str()
            .unwrap_or_default()
            .replace(' ', "%20");
        Ok(Self {
            auth: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!(":{pat}"))
            ),
            org: format!("{}/{org}", emu.base_url()),
            project,
            emu,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Answer> {
        let r = request.send().await?;
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = r.text().await?;
        Ok(Answer {
            status,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        })
    }

    /// GET `{org}/{path}`.
    async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.send(
            client()
                .get(format!("{}/{path}", self.org))
                .header("Authorization", &self.auth),
        )
        .await
    }

    /// POST JSON to `{org}/{path}`.
    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        self.send(
            client()
                .post(format!("{}/{path}", self.org))
                .header("Authorization", &self.auth)
                .json(body),
        )
        .await
    }

    /// PATCH a JSON Patch document to `{org}/{path}`.
    async fn patch(&self, path: &str, body: &Value, content_type: &str) -> anyhow::Result<Answer> {
        self.send(
            client()
                .patch(format!("{}/{path}", self.org))
                .header("Authorization", &self.auth)
                .header("Content-Type", content_type)
                .body(body.to_string()),
        )
        .await
    }

    /// The ids of a WIQL query run in the first project.
    async fn wiql_ids(&self, query: &str, extra: &str) -> anyhow::Result<Vec<u64>> {
        let a = self
            .post(
                &format!(
                    "{}/_apis/wit/wiql?api-version=7.1&timePrecision=true{extra}",
                    self.project
                ),
                &json!({ "query": query }),
            )
            .await?;
        anyhow::ensure!(a.status == 200, "wiql {query}: {} {}", a.status, a.body);
        Ok(ids(&a.body["workItems"]))
    }

    /// Every live work item with all its fields, by batch reads of 200.
    async fn all_items(&self) -> anyhow::Result<Vec<Value>> {
        let truth = control_get(&self.emu, "truth").await?;
        let ids: Vec<u64> = truth["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["provider"] == "ado")
            .flat_map(|a| a["work_items"].as_array().cloned().unwrap_or_default())
            .filter_map(|w| w["id"].as_u64())
            .collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(200) {
            let a = self
                .post(
                    "_apis/wit/workitemsbatch?api-version=7.1",
                    &json!({"ids": chunk, "$expand": "fields"}),
                )
                .await?;
            anyhow::ensure!(a.status == 200, "batch: {} {}", a.status, a.body);
            out.extend(a.body["value"].as_array().cloned().unwrap_or_default());
        }
        Ok(out)
    }

    /// The truth's rev and state of work item `id`.
    async fn truth_of(&self, id: u64) -> anyhow::Result<(u64, String)> {
        let truth = control_get(&self.emu, "truth").await?;
        let item = truth["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["provider"] == "ado")
            .flat_map(|a| a["work_items"].as_array().cloned().unwrap_or_default())
            .find(|w| w["id"].as_u64() == Some(id))
            .ok_or_else(|| anyhow::anyhow!("{id} is not in the truth"))?;
        Ok((
            item["rev"].as_u64().unwrap_or_default(),
            item["state"].as_str().unwrap_or_default().to_owned(),
        ))
    }
}

fn ids(work_items: &Value) -> Vec<u64> {
    work_items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["id"].as_u64())
        .collect()
}

/// An httpExamples file's response body for `status`.
fn example(path: &Path, status: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)?;
    let v: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))?;
    Ok(v["responses"][status]["body"].clone())
}

/// Compares shapes; differences naming one of `allowed` are known
/// deviations (printed, not failed).
#[allow(
    clippy::print_stderr,
    reason = "shows whoever runs the tests which known deviations were met"
)]
fn assert_shape(what: &str, real: &Value, ours: &Value, allowed: &[&str]) {
    let mut diffs = Vec::new();
    shape_diff(real, ours, "", &mut diffs);
    let (known, unknown): (Vec<_>, Vec<_>) = diffs
        .into_iter()
        .partition(|d| allowed.iter().any(|a| d.contains(a)));
    if !known.is_empty() {
        eprintln!("{what}: known deviations: {known:?}");
    }
    assert!(
        unknown.is_empty(),
        "{what}: shape differs from the real payload: {unknown:?}\nours: {ours}"
    );
}

/// Fields real items carry that the generated organisation never sets, and
/// parts of the model the emulator leaves out (links between items, the 2017
/// `workItemHistory` link).
const ITEM_SPECIFIC: &[&str] = &[
    "relations",
    "workItemHistory",
    "Microsoft.VSTS.Scheduling",
    "Microsoft.VSTS.Common.ActivatedDate",
    "Microsoft.VSTS.Common.ActivatedBy",
    "Microsoft.VSTS.Common.ValueArea",
    "Microsoft.VSTS.Common.Severity",
    "Microsoft.VSTS.Common.Activity",
    "Microsoft.VSTS.TCM",
    "System.Description",
    "System.History",
    "System.Tags",
    "System.IsDeleted",
    "WEF_",
];

#[tokio::test]
async fn ado_pat_opens_the_organisation_and_nothing_else_does() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    let ok = ado.get("_apis/projects?api-version=7.1").await?;
    assert_eq!(ok.status, 200);
    assert!(
        ok.content_type.starts_with("application/json"),
        "{}",
        ok.content_type
    );
    assert_eq!(ok.body["count"], 3);

    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(":notthepat")
    );
    let r = client()
        .get(format!("{}/_apis/projects?api-version=7.1", ado.org))
        .header("Authorization", wrong)
        .send()
        .await?;
    assert_eq!(
        r.status().as_u16(),
        203,
        "a wrong PAT gets the sign-in page"
    );
    let html = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(html.starts_with("text/html"), "{html}");

    let none = client()
        .get(format!("{}/_apis/projects?api-version=7.1", ado.org))
        .send()
        .await?;
    assert_eq!(none.status().as_u16(), 401);

    // The token opens its own organisation only.
    let other = ado
        .send(
            client()
                .get(format!(
                    "{}/contoso/_apis/projects?api-version=7.1",
                    ado.emu.base_url()
                ))
                .header("Authorization", &ado.auth),
        )
        .await?;
    assert_eq!(other.status, 401);
    ado.emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn ado_projects_match_the_real_payloads() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    let list = ado.get("_apis/projects?api-version=7.2-preview.1").await?;
    assert_eq!(list.status, 200);
    let id = list.body["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(list.body["value"][0]["url"]
        .as_str()
        .is_some_and(|u| u.starts_with(&ado.org)));
    let by_id = ado
        .get(&format!("_apis/projects/{id}?api-version=7.1"))
        .await?;
    let by_name = ado
        .get(&format!("_apis/projects/{}?api-version=7.1", ado.project))
        .await?;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.body, by_name.body);
    assert_eq!(by_id.body["state"], "wellFormed");
    assert_eq!(by_id.body["visibility"], "private");
    let missing = ado.get("_apis/projects/Nope?api-version=7.1").await?;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["typeKey"],
        "ProjectDoesNotExistWithNameException"
    );
    if let Some(data) = shared_data() {
        let dir = data.join("azure-devops/recorded-nango");
        assert_shape(
            "projects list",
            &recorded(&dir.join("GET___apis_projects__3049bfbebd.json"))?,
            &list.body,
            &[],
        );
        assert_shape(
            "project",
            &recorded(&dir.join("GET___apis_projects_nangodev__51322d7851.json"))?,
            &by_id.body,
            &[],
        );
    }
    ado.emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn ado_wiql_matches_the_real_payloads() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    let sorted = ado
        .post(
            &format!("{}/_apis/wit/wiql?$top=20000&api-version=7.2-preview.2", ado.project),
            &json!({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project ORDER BY [System.ChangedDate] ASC, [System.Id] ASC"}),
        )
        .await?;
    assert_eq!(sorted.status, 200, "{}", sorted.body);
    assert!(sorted.content_type.contains("api-version=7.2-preview.2"));
    assert!(!ids(&sorted.body["workItems"]).is_empty());
    let unsorted = ado
        .post(
            &format!("{}/_apis/wit/wiql?api-version=7.2-preview.2", ado.project),
            &json!({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.WorkItemType] = 'Task'"}),
        )
        .await?;
    assert_eq!(unsorted.status, 200, "{}", unsorted.body);
    assert!(
        unsorted.body.get("sortColumns").is_none(),
        "sortColumns only with ORDER BY"
    );
    let docs = ado
        .post(
            "_apis/wit/wiql?api-version=7.1",
            &json!({"query": "Select [System.Id], [System.Title], [System.State] From WorkItems Where [System.WorkItemType] = 'Task' AND [State] <> 'Closed' AND [State] <> 'Removed' order by [Microsoft.VSTS.Common.Priority] asc, [System.CreatedDate] desc"}),
        )
        .await?;
    assert_eq!(docs.status, 200, "{}", docs.body);
    let names: Vec<&str> = docs.body["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["ID", "Title", "State"]);
    if let Some(data) = shared_data() {
        let dir = data.join("azure-devops");
        assert_shape(
            "wiql sorted",
            &recorded(&dir.join("recorded-nango/POST__nangodev_apis_wit_wiql__0ff1d23d9e.json"))?,
            &sorted.body,
            &[],
        );
        assert_shape(
            "wiql unsorted",
            &recorded(&dir.join("recorded-nango/POST__nangodev_apis_wit_wiql__151c16c82a.json"))?,
            &unsorted.body,
            &[],
        );
        assert_shape(
            "wiql docs example",
            &example(
                &dir.join("httpExamples-7.1/wiql/GET__wit_get_id_workitems.json"),
                "200",
            )?,
            &docs.body,
            &[],
        );
    }
    ado.emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn ado_work_item_reads_match_the_real_payloads() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    let batch = ado
        .post(
            "_apis/wit/workitemsbatch?api-version=7.1",
            &json!({"ids": [1, 2, 3], "fields": ["System.Id", "System.Title", "System.WorkItemType", "Microsoft.VSTS.Scheduling.RemainingWork"]}),
        )
        .await?;
    assert_eq!(batch.status, 200, "{}", batch.body);
    assert_eq!(batch.body["count"], 3);
    let first = &batch.body["value"][0];
    assert!(first.get("_links").is_none(), "no links with fields");
    let keys: BTreeSet<&str> = first["fields"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        BTreeSet::from(["System.Id", "System.Title", "System.WorkItemType"]),
        "only the fields asked for, and only with values"
    );
    let list = ado
        .get(&format!(
            "{}/_apis/wit/workitems?ids=1,2,3&$expand=all&api-version=7.2-preview.3",
            ado.project
        ))
        .await?;
    assert_eq!(list.status, 200, "{}", list.body);
    let single = ado
        .get(&format!(
            "{}/_apis/wit/workitems/1?$expand=all&api-version=7.2-preview.3",
            ado.project
        ))
        .await?;
    assert_eq!(single.status, 200, "{}", single.body);
    assert_eq!(
        single.body["fields"]["System.RevisedDate"],
        "9999-01-01T00:00:00Z"
    );
    assert_eq!(single.body["fields"]["System.Rev"], single.body["rev"]);
    // The URLs the service hands out work.
    let url = single.body["url"].as_str().unwrap_or_default().to_owned();
    assert!(url.contains("/_apis/wit/workItems/1"), "{url}");
    let again = ado
        .send(
            client()
                .get(format!("{url}?api-version=7.1"))
                .header("Authorization", &ado.auth),
        )
        .await?;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["id"], 1);
    let assigned = ado
        .all_items()
        .await?
        .into_iter()
        .find(|w| w["fields"]["System.AssignedTo"].is_object())
        .and_then(|w| w["id"].as_u64())
        .ok_or_else(|| anyhow::anyhow!("no assigned item"))?;
    let plain = ado
        .get(&format!(
            "{}/_apis/wit/workitems/{assigned}?api-version=7.1",
            ado.project
        ))
        .await?;
    assert_eq!(plain.status, 200);
    assert!(plain.body["_links"]["self"]["href"].is_string());
    assert!(
        plain.body["fields"].get("System.Watermark").is_none(),
        "computed fields only on $expand"
    );
    let plain_list = ado
        .get("_apis/wit/workitems?ids=1,2,3&api-version=7.1")
        .await?;
    assert!(plain_list.body["value"][0].get("_links").is_none());
    if let Some(data) = shared_data() {
        let dir = data.join("azure-devops");
        assert_shape(
            "workitemsbatch",
            &example(
                &dir.join("httpExamples-7.1/workItemsBatch/POST__wit_WorkItemsBatch_ids-_ids__fields-_columns_.json"),
                "200",
            )?,
            &batch.body,
            &[],
        );
        assert_shape(
            "workitems list $expand=all",
            &recorded(
                &dir.join("recorded-nango/GET__nangodev_apis_wit_workitems__7170168aa7.json"),
            )?,
            &list.body,
            &[],
        );
        assert_shape(
            "workitems list",
            &example(
                &dir.join("httpExamples-7.1/workItems/GET__wit_WorkItems_ids-_ids_.json"),
                "200",
            )?,
            &plain_list.body,
            ITEM_SPECIFIC,
        );
        assert_shape(
            "workitem $expand=all",
            &recorded(
                &dir.join("recorded-nango/GET__nangodev_apis_wit_workitems_1__52f749f215.json"),
            )?,
            &single.body,
            &[],
        );
        assert_shape(
            "workitem",
            &example(
                &dir.join("httpExamples-7.1/workItems/GET__wit_WorkItems_id.json"),
                "200",
            )?,
            &plain.body,
            ITEM_SPECIFIC,
        );
    }
    ado.emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn ado_patch_updates_revisions_and_comments_match_the_real_payloads() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    let p = &ado.project;
    let before = ado
        .get(&format!("{p}/_apis/wit/workitems/2?api-version=7.1"))
        .await?;
    let rev = before.body["rev"].as_u64().unwrap_or_default();
    let project_name = before.body["fields"]["System.TeamProject"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let patched = ado
        .patch(
            &format!("{p}/_apis/wit/workitems/2?api-version=7.1"),
            &json!([
                {"op": "test", "path": "/rev", "value": rev},
                {"op": "add", "path": "/fields/System.AreaPath", "value": format!("{project_name}\\Website")},
                {"op": "add", "path": "/fields/System.History", "value": "Moving to the right area path"},
            ]),
            "application/json-patch+json",
        )
        .await?;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["rev"].as_u64(), Some(rev + 1));
    assert_eq!(
        patched.body["fields"]["System.AreaPath"],
        format!("{project_name}\\Website")
    );
    assert_eq!(
        patched.body["fields"]["System.History"],
        "Moving to the right area path"
    );
    let titled = ado
        .patch(
            "_apis/wit/workitems/2?api-version=7.2-preview.3",
            &json!([{"op": "replace", "path": "/fields/System.Title", "value": "Updated title"}]),
            "application/json-patch+json",
        )
        .await?;
    assert_eq!(titled.status, 200, "{}", titled.body);
    assert_eq!(titled.body["rev"].as_u64(), Some(rev + 2));
    assert!(
        titled.body["fields"].get("System.History").is_none(),
        "history belongs to its revision"
    );
    // A history entry alone is a change: a revision and a comment.
    let count_before = titled.body["fields"]["System.CommentCount"]
        .as_u64()
        .unwrap_or_default();
    let discussed = ado
        .patch(
            &format!("{p}/_apis/wit/workitems/2?api-version=7.1"),
            &json!([{"op": "add", "path": "/fields/System.History", "value": "Looked again"}]),
            "application/json-patch+json",
        )
        .await?;
    assert_eq!(discussed.status, 200, "{}", discussed.body);
    assert_eq!(discussed.body["rev"].as_u64(), Some(rev + 3));
    assert_eq!(
        discussed.body["fields"]["System.CommentCount"].as_u64(),
        Some(count_before + 1)
    );

    // Comments: two more, so that a page of two has a next page.
    for text in ["First look", "Johnnie is going to take this work over."] {
        let c = ado
            .post(
                &format!("{p}/_apis/wit/workitems/2/comments?api-version=7.1-preview.4"),
                &json!({ "text": text }),
            )
            .await?;
        assert_eq!(c.status, 200, "{}", c.body);
        assert_eq!(c.body["text"], text);
        assert_eq!(c.body["createdBy"]["displayName"], "Alex Rivera");
    }
    let page = ado
        .get(&format!(
            "{p}/_apis/wit/workitems/2/comments?$top=2&api-version=7.1-preview.4"
        ))
        .await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["count"], 2);
    assert_eq!(
        page.body["comments"][0]["text"], "Johnnie is going to take this work over.",
        "newest first"
    );
    let total = page.body["totalCount"].as_u64().unwrap_or_default();
    assert!(total >= 3);
    let token = page.body["continuationToken"].as_str().unwrap_or_default();
    let rest = ado
        .get(&format!(
            "{p}/_apis/wit/workitems/2/comments?$top=200&continuationToken={token}&api-version=7.1-preview.4"
        ))
        .await?;
    assert_eq!(rest.body["count"].as_u64(), Some(total - 2));
    assert!(rest.body.get("continuationToken").is_none());

    let updates = ado
        .get(&format!(
            "{p}/_apis/wit/workItems/2/updates?api-version=7.1"
        ))
        .await?;
    assert_eq!(updates.status, 200, "{}", updates.body);
    let count = updates.body["count"].as_u64().unwrap_or_default();
    let current = ado
        .get(&format!("{p}/_apis/wit/workitems/2?api-version=7.1"))
        .await?;
    assert_eq!(
        Some(count),
        current.body["rev"].as_u64(),
        "one update per revision"
    );
    let paged = ado
        .get(&format!(
            "{p}/_apis/wit/workItems/2/updates?$top=2&$skip=1&api-version=7.1"
        ))
        .await?;
    assert_eq!(ids(&paged.body["value"]), [2, 3]);
    let one_update = ado
        .get(&format!(
            "{p}/_apis/wit/workItems/2/updates/1?api-version=7.1"
        ))
        .await?;
    assert_eq!(one_update.status, 200);
    let last = &updates.body["value"][count as usize - 1];
    assert_eq!(
        last["fields"]["System.Rev"]["newValue"].as_u64(),
        Some(count)
    );
    assert_eq!(last["revisedDate"], "9999-01-01T00:00:00Z");
    let revisions = ado
        .get(&format!(
            "{p}/_apis/wit/workItems/2/revisions?api-version=7.1"
        ))
        .await?;
    assert_eq!(revisions.body["count"].as_u64(), Some(count));
    let one_revision = ado
        .get(&format!(
            "{p}/_apis/wit/workItems/2/revisions/2?api-version=7.1"
        ))
        .await?;
    assert_eq!(one_revision.body["rev"], 2);
    let no_revision = ado
        .get(&format!(
            "{p}/_apis/wit/workItems/2/revisions/{}?api-version=7.1",
            count + 1
        ))
        .await?;
    assert_eq!(no_revision.status, 404);

    if let Some(data) = shared_data() {
        let dir = data.join("azure-devops");
        let ex = dir.join("httpExamples-7.1");
        assert_shape(
            "patch",
            &example(
                &ex.join("workItems/PATCH__wit_workitems__taskId_.json"),
                "200",
            )?,
            &patched.body,
            ITEM_SPECIFIC,
        );
        assert_shape(
            "patch (real)",
            &recorded(
                &dir.join("recorded-nango/PATCH__nangodev_apis_wit_workitems_1__cb459e86fe.json"),
            )?,
            &titled.body,
            &[],
        );
        // The example's first update lists a never-set assignee as `{}`.
        let first_update: Vec<&str> = ITEM_SPECIFIC
            .iter()
            .copied()
            .chain(["System.AssignedTo"])
            .collect();
        assert_shape(
            "updates",
            &example(
                &ex.join("updates/GET__list_of_workitem_updates.json"),
                "200",
            )?,
            &updates.body,
            &first_update,
        );
        assert_shape(
            "update",
            &example(&ex.join("updates/GET__work_item_update.json"), "200")?,
            &one_update.body,
            &first_update,
        );
        assert_shape(
            "revisions",
            &example(
                &ex.join("revisions/GET__list_workitem_revisions.json"),
                "200",
            )?,
            &revisions.body,
            ITEM_SPECIFIC,
        );
        assert_shape(
            "revision",
            &example(&ex.join("revisions/GET__workitem_revision.json"), "200")?,
            &one_revision.body,
            ITEM_SPECIFIC,
        );
        assert_shape(
            "comments",
            &example(
                &ex.join("comments/GET__wit_workitems__issueId__comments_1.json"),
                "200",
            )?,
            &page.body,
            &[],
        );
        let created = ado
            .post(
                &format!("{p}/_apis/wit/workitems/2/comments?api-version=7.1-preview.4"),
                &json!({"text": "Moving to the right area path"}),
            )
            .await?;
        assert_shape(
            "comment created",
            &example(
                &ex.join("comments/POST__wit_workitems__taskId__comments_create.json"),
                "200",
            )?,
            &created.body,
            &[],
        );
    }
    ado.emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn ado_errors_look_like_the_service() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    let p = &ado.project;
    let missing = ado
        .get(&format!("{p}/_apis/wit/workitems/999?api-version=7.1"))
        .await?;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body["message"],
        "TF401232: Work item 999 does not exist, or you do not have permissions to read it."
    );
    for key in [
        "$id",
        "innerException",
        "message",
        "typeName",
        "typeKey",
        "errorCode",
        "eventId",
    ] {
        assert!(missing.body.get(key).is_some(), "error body has {key}");
    }
    let bad = ado
        .post(
            &format!("{p}/_apis/wit/wiql?api-version=7.1"),
            &json!({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.Sprint] = 'x'"}),
        )
        .await?;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["typeKey"], "SyntaxException");
    assert!(bad.body["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("TF51005")));
    let timed = ado
        .post(
            &format!("{p}/_apis/wit/wiql?api-version=7.1"),
            &json!({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= '2026-07-27T15:02:58Z'"}),
        )
        .await?;
    assert_eq!(timed.status, 400, "a time needs timePrecision=true");
    assert!(timed.body["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("You cannot supply a time with the date")));
    let unsupported = ado
        .post(
            &format!("{p}/_apis/wit/wiql?api-version=7.1"),
            &json!({"query": "SELECT [System.Id] FROM WorkItems ASOF '2026-01-01'"}),
        )
        .await?;
    assert_eq!(
        unsupported.status, 400,
        "unsupported WIQL is refused, not ignored"
    );
    let too_many: Vec<u32> = (1..=201).collect();
    let batch = ado
        .post(
            "_apis/wit/workitemsbatch?api-version=7.1",
            &json!({ "ids": too_many }),
        )
        .await?;
    assert_eq!(batch.status, 400);
    assert!(batch.body["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("VS403474")));
    let list = ado
        .get(&format!(
            "_apis/wit/workitems?ids={}&api-version=7.1",
            too_many
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ))
        .await?;
    assert_eq!(list.status, 400);
    let fail = ado
        .post(
            "_apis/wit/workitemsbatch?api-version=7.1",
            &json!({"ids": [1, 999]}),
        )
        .await?;
    assert_eq!(fail.status, 404, "errorPolicy defaults to fail");
    let omit = ado
        .post(
            "_apis/wit/workitemsbatch?api-version=7.1",
            &json!({"ids": [1, 999, 2], "errorPolicy": "omit"}),
        )
        .await?;
    assert_eq!(omit.status, 200);
    assert_eq!(omit.body["count"], 3);
    assert!(
        omit.body["value"][1].is_null(),
        "omit leaves null for a missing item"
    );
    let no_project = ado
        .get("Nope/_apis/wit/workitems/1?api-version=7.1")
        .await?;
    assert_eq!(no_project.status, 404);
    let json_not_patch = ado
        .patch(
            &format!("{p}/_apis/wit/workitems/1?api-version=7.1"),
            &json!([{"op": "add", "path": "/fields/System.Title", "value": "x"}]),
            "application/json",
        )
        .await?;
    assert_eq!(json_not_patch.status, 400);
    assert_eq!(
        json_not_patch.body["typeKey"],
        "VssRequestContentTypeNotSupportedException"
    );
    let no_version = ado
        .patch(
            &format!("{p}/_apis/wit/workitems/1"),
            &json!([{"op": "add", "path": "/fields/System.Title", "value": "x"}]),
            "application/json-patch+json",
        )
        .await?;
    assert_eq!(no_version.status, 400);
    assert_eq!(
        no_version.body["typeKey"],
        "VssVersionNotSpecifiedException"
    );
    let too_new = ado.get("_apis/projects?api-version=8.0").await?;
    assert_eq!(too_new.status, 400);
    assert_eq!(too_new.body["typeKey"], "VssVersionOutOfRangeException");
    let not_preview = ado
        .get(&format!(
            "{p}/_apis/wit/workitems/1/comments?api-version=7.1"
        ))
        .await?;
    assert_eq!(not_preview.status, 400, "comments are a preview in 7.1");
    assert_eq!(
        not_preview.body["typeKey"],
        "VssInvalidPreviewVersionException"
    );
    let bad_field = ado
        .patch(
            &format!("{p}/_apis/wit/workitems/1?api-version=7.1"),
            &json!([{"op": "add", "path": "/fields/System.State", "value": "Nonsense"}]),
            "application/json-patch+json",
        )
        .await?;
    assert_eq!(bad_field.status, 400);
    ado.emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn ado_wiql_finds_exactly_what_changed_after_a_watermark() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    // A watermark after the world was built.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let watermark = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let query = format!(
        "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] > '{watermark}' ORDER BY [System.ChangedDate] DESC"
    );
    // Generated history may run slightly past the build moment.
    let before: BTreeSet<u64> = ado.wiql_ids(&query, "").await?.into_iter().collect();
    let changed = [3_u64, 7, 11];
    let r = control(
        &ado.emu,
        "mutate",
        json!({"provider": "ado", "work_items": changed.iter().map(|id| json!({"id": id, "state": "Active"})).collect::<Vec<_>>()}),
    )
    .await?;
    assert_eq!(r["changed"], 3);
    let after = ado.wiql_ids(&query, "").await?;
    let expected: BTreeSet<u64> = before.iter().copied().chain(changed).collect();
    assert_eq!(after.iter().copied().collect::<BTreeSet<_>>(), expected);
    // Checked against every item's own ChangedDate, client side.
    let cut = chrono::DateTime::parse_from_rfc3339(&watermark)?;
    let newer: BTreeSet<u64> = ado
        .all_items()
        .await?
        .iter()
        .filter(|w| {
            w["fields"]["System.ChangedDate"]
                .as_str()
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                .is_some_and(|d| d > cut)
        })
        .filter_map(|w| w["id"].as_u64())
        .collect();
    assert_eq!(newer, expected);
    // DESC: the newest first.
    let items = ado.all_items().await?;
    let date = |id: u64| {
        items
            .iter()
            .find(|w| w["id"].as_u64() == Some(id))
            .and_then(|w| w["fields"]["System.ChangedDate"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(after.windows(2).all(|w| date(w[0]) >= date(w[1])));
    let top = ado.wiql_ids(&query, "&$top=2").await?;
    assert_eq!(top, after[..2]);
    ado.emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn ado_wiql_filters_like_the_client_would() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    let items = ado.all_items().await?;
    let project = ado.project.replace("%20", " ");
    let field = |w: &Value, f: &str| w["fields"][f].as_str().unwrap_or_default().to_owned();
    let mine: BTreeSet<u64> = items
        .iter()
        .filter(|w| w["fields"]["System.AssignedTo"]["uniqueName"] == "alex.rivera@contoso.example")
        .filter(|w| field(w, "System.State") != "Closed")
        .filter(|w| field(w, "System.WorkItemType") == "Bug")
        .filter_map(|w| w["id"].as_u64())
        .collect();
    let got: BTreeSet<u64> = ado
        .wiql_ids(
            "SELECT [System.Id] FROM WorkItems WHERE [System.AssignedTo] = @me AND [System.State] <> 'Closed' AND [System.WorkItemType] = 'Bug'",
            "",
        )
        .await?
        .into_iter()
        .collect();
    assert_eq!(got, mine);
    let in_project: BTreeSet<u64> = items
        .iter()
        .filter(|w| field(w, "System.TeamProject") == project)
        .filter_map(|w| w["id"].as_u64())
        .collect();
    let got: BTreeSet<u64> = ado
        .wiql_ids(
            "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project",
            "",
        )
        .await?
        .into_iter()
        .collect();
    assert_eq!(got, in_project);
    assert!(
        got.len() < items.len(),
        "the other projects' items are left out"
    );
    // Without the clause a project URL still queries every project.
    let all = ado
        .wiql_ids("SELECT [System.Id] FROM WorkItems", "")
        .await?;
    assert_eq!(all.len(), items.len());
    // Day precision compares whole days.
    let day = ado
        .post(
            &format!("{}/_apis/wit/wiql?api-version=7.1", ado.project),
            &json!({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= @today - 1000"}),
        )
        .await?;
    assert_eq!(ids(&day.body["workItems"]).len(), items.len());
    ado.emu.stop().await;
    Ok(())
}

/// How many updates and revisions work item `id` has.
async fn history_counts(ado: &Ado, project: &str, id: u64) -> anyhow::Result<(u64, u64)> {
    let u = ado
        .get(&format!(
            "{project}/_apis/wit/workItems/{id}/updates?api-version=7.1"
        ))
        .await?;
    let r = ado
        .get(&format!(
            "{project}/_apis/wit/workItems/{id}/revisions?api-version=7.1"
        ))
        .await?;
    Ok((
        u.body["count"].as_u64().unwrap_or_default(),
        r.body["count"].as_u64().unwrap_or_default(),
    ))
}

#[tokio::test]
async fn ado_patch_with_a_stale_rev_changes_nothing_and_history_grows_by_one_per_change(
) -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    let p = &ado.project;
    let id = 5_u64;
    let url = format!("{p}/_apis/wit/workitems/{id}?api-version=7.1");
    let counts = |ado| history_counts(ado, p, id);
    let start = ado.get(&url).await?;
    let rev = start.body["rev"].as_u64().unwrap_or_default();
    let changes = ado.emu.shared().world().ado.changes;
    assert_eq!(counts(&ado).await?, (rev, rev));

    // Changed behind the client's back: one more revision.
    control(
        &ado.emu,
        "mutate",
        json!({"provider": "ado", "work_items": [{"id": id, "state": "Active"}]}),
    )
    .await?;
    assert_eq!(counts(&ado).await?, (rev + 1, rev + 1));

    // The client's rev is now stale: 412, and nothing changes.
    let stale = ado
        .patch(
            &url,
            &json!([
                {"op": "test", "path": "/rev", "value": rev},
                {"op": "add", "path": "/fields/System.Title", "value": "Lost update"},
            ]),
            "application/json-patch+json",
        )
        .await?;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.body["typeKey"], "TestPatchOperationFailedException");
    assert_eq!(
        stale.body["message"],
        format!("VS403351: Test Operation for path /rev failed, value {} was not equal to test value {rev}.", rev + 1)
    );
    let now = ado.get(&url).await?;
    assert_eq!(now.body["rev"].as_u64(), Some(rev + 1));
    assert_ne!(now.body["fields"]["System.Title"], "Lost update");
    assert_eq!(counts(&ado).await?, (rev + 1, rev + 1));

    // With the current rev it applies: one more revision, by the token's owner.
    let state = match now.body["fields"]["System.WorkItemType"].as_str() {
        Some("Task") => "Done",
        Some("Feature") => "Done",
        _ => "Closed",
    };
    let ok = ado
        .patch(
            &url,
            &json!([
                {"op": "test", "path": "/rev", "value": rev + 1},
                {"op": "replace", "path": "/fields/System.State", "value": state},
            ]),
            "application/json-patch+json",
        )
        .await?;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["rev"].as_u64(), Some(rev + 2));
    assert_eq!(
        ok.body["fields"]["System.ChangedBy"]["displayName"],
        "Alex Rivera"
    );
    assert_eq!(
        ok.body["fields"]["System.ChangedDate"],
        ok.body["fields"]["Microsoft.VSTS.Common.StateChangeDate"]
    );
    assert_eq!(counts(&ado).await?, (rev + 2, rev + 2));
    assert_eq!(ado.truth_of(id).await?, (rev + 2, state.to_owned()));
    assert_eq!(ado.emu.shared().world().ado.changes, changes + 2);

    // validateOnly saves nothing.
    let dry = ado
        .patch(
            &format!("{url}&validateOnly=true"),
            &json!([{"op": "add", "path": "/fields/System.Title", "value": "Not saved"}]),
            "application/json-patch+json",
        )
        .await?;
    assert_eq!(dry.status, 200);
    assert_eq!(dry.body["fields"]["System.Title"], "Not saved");
    assert_eq!(ado.truth_of(id).await?.0, rev + 2);
    assert_eq!(counts(&ado).await?, (rev + 2, rev + 2));

    // The latest update says what changed.
    let updates = ado
        .get(&format!(
            "{p}/_apis/wit/workItems/{id}/updates?api-version=7.1"
        ))
        .await?;
    let last = &updates.body["value"][(rev + 1) as usize];
    assert_eq!(last["fields"]["System.State"]["oldValue"], "Active");
    assert_eq!(last["fields"]["System.State"]["newValue"], state);
    assert!(last["fields"].get("System.Title").is_none());
    ado.emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn ado_wiql_refuses_more_than_20000_results() -> anyhow::Result<()> {
    let ado = Ado::start().await?;
    control(
        &ado.emu,
        "reset",
        json!({"work_items": 20_001, "messages": 10}),
    )
    .await?;
    let query = json!({"query": "SELECT [System.Id] FROM WorkItems"});
    let all = ado.post("_apis/wit/wiql?api-version=7.1", &query).await?;
    assert_eq!(all.status, 400, "{}", all.body);
    assert_eq!(
        all.body["typeKey"],
        "WorkItemTrackingQueryResultSizeLimitExceededException"
    );
    assert!(all.body["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("VS402337")));
    let top = ado
        .post("_apis/wit/wiql?$top=50&api-version=7.1", &query)
        .await?;
    assert_eq!(top.status, 200);
    assert_eq!(ids(&top.body["workItems"]).len(), 50);
    ado.emu.stop().await;
    Ok(())
}
