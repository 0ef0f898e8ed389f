//! The folder tree over loopback HTTP, as a client sees it: user folders
//! nested in the lists, their messages and delta rounds, moves into them by
//! the API and the control API, making folders, and deleting them into
//! Deleted Items and then for good.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::testing::{api, control, mail_truth, start_with_messages, token, Reply};
use crate::Emulator;

const ME: &str = "/v1.0/me";

/// A bearer token for the Graph mailbox and GET on a path under `/v1.0`.
struct Graph<'a> {
    emu: &'a Emulator,
    bearer: String,
}

impl<'a> Graph<'a> {
    async fn new(emu: &'a Emulator) -> Self {
        Self {
            emu,
            bearer: token(emu, "graph").await,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        api(self.emu, "GET", &self.path(path), &self.bearer, None).await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        api(self.emu, "POST", &self.path(path), &self.bearer, Some(body)).await
    }

    async fn patch(&self, path: &str, body: &Value) -> Reply {
        api(
            self.emu,
            "PATCH",
            &self.path(path),
            &self.bearer,
            Some(body),
        )
        .await
    }

    async fn delete(&self, path: &str) -> Reply {
        api(self.emu, "DELETE", &self.path(path), &self.bearer, None).await
    }

    /// A path under `/v1.0/me`, or a link the emulator gave (whose host is
    /// taken off).
    fn path(&self, path: &str) -> String {
        match path.find("/v1.0/") {
            Some(at) => path[at..].to_owned(),
            None => format!("{ME}{path}"),
        }
    }

    /// A folder's id by well-known name or id.
    async fn id(&self, folder: &str) -> String {
        str_of(&self.get(&format!("/mailFolders/{folder}")).await.json["id"])
    }

    /// Follows a delta round from `link` to its deltaLink: the ids it
    /// brought, the ids it removed, and the deltaLink.
    async fn delta(&self, link: &str) -> (BTreeSet<String>, BTreeSet<String>, String) {
        let (mut current, mut removed) = (BTreeSet::new(), BTreeSet::new());
        let mut url = link.to_owned();
        loop {
            let page = self.get(&url).await;
            assert_eq!(page.status, 200, "{}", page.text);
            for item in page.json["value"].as_array().into_iter().flatten() {
                let id = str_of(&item["id"]);
                if item.get("@removed").is_some() {
                    removed.insert(id);
                } else {
                    current.insert(id);
                }
            }
            match (
                page.json["@odata.nextLink"].as_str(),
                page.json["@odata.deltaLink"].as_str(),
            ) {
                (Some(next), None) => url = next.to_owned(),
                (None, Some(delta)) => return (current, removed, delta.to_owned()),
                _ => panic!("a page has a nextLink or a deltaLink: {}", page.text),
            }
        }
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn names(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| str_of(&f["displayName"]))
        .collect()
}

/// The ids of the truth's live messages in folder `id`.
async fn truth_in(emu: &Emulator, id: &str) -> BTreeSet<String> {
    mail_truth(emu, "graph").await["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["folders"] == json!([id]))
        .map(|m| str_of(&m["id"]))
        .collect()
}

/// The truth's folder with display name `name`.
async fn truth_folder(emu: &Emulator, name: &str) -> Value {
    mail_truth(emu, "graph").await["folders"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == name)
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn user_folders_are_listed_nested_under_their_parents_with_their_counts() {
    let emu = start_with_messages(300).await;
    let g = Graph::new(&emu).await;
    let top = g.get("/mailFolders").await;
    assert_eq!(top.status, 200, "{}", top.text);
    assert_eq!(
        names(&top.json),
        [
            "Archive",
            "Deleted Items",
            "Drafts",
            "Inbox",
            "Junk Email",
            "Receipts",
            "Sent Items"
        ],
        "the top level: well-known folders and the user's, by name"
    );
    let root = g.get("/mailFolders/msgfolderroot").await.json;
    assert_eq!(root["childFolderCount"], 7);
    let inbox = g.get("/mailFolders/inbox").await.json;
    assert_eq!(inbox["childFolderCount"], 1, "Inbox holds Projects");
    let receipts = &top.json["value"][5];
    assert_eq!(receipts["parentFolderId"], root["id"]);

    let in_inbox = g.get("/mailFolders/inbox/childFolders").await.json;
    assert_eq!(names(&in_inbox), ["Projects"]);
    let projects = in_inbox["value"][0].clone();
    assert_eq!(projects["parentFolderId"], inbox["id"]);
    assert_eq!(projects["childFolderCount"], 1);
    assert_eq!(
        g.get("/mailFolders('inbox')/childFolders").await.json["value"],
        in_inbox["value"],
        "the key form Graph's own links use"
    );
    let in_projects = g
        .get(&format!(
            "/mailFolders/{}/childFolders?$select=displayName,parentFolderId",
            str_of(&projects["id"])
        ))
        .await;
    assert_eq!(names(&in_projects.json), ["Ember"]);
    let ember = in_projects.json["value"][0].clone();
    let keys: BTreeSet<&str> = ember
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        BTreeSet::from(["displayName", "id", "parentFolderId"]),
        "$select is honoured"
    );
    assert!(str_of(&in_projects.json["@odata.context"])
        .ends_with("/childFolders(id,displayName,parentFolderId)"));
    let ember_id = str_of(&ember["id"]);
    let ember = g.get(&format!("/mailFolders/{ember_id}")).await.json;
    assert_eq!(ember["parentFolderId"], projects["id"]);
    assert_eq!(
        g.get(&format!("/mailFolders/{ember_id}/childFolders"))
            .await
            .json["value"],
        json!([])
    );

    // Counts agree with the truth, which names the tree too.
    let held = truth_in(&emu, &ember_id).await;
    assert!(!held.is_empty(), "the world files mail in Ember");
    assert_eq!(ember["totalItemCount"], json!(held.len()));
    let t = truth_folder(&emu, "Ember").await;
    assert_eq!(
        (t["id"].as_str(), &t["parent_id"], t.get("well_known")),
        (Some(ember_id.as_str()), &projects["id"], None)
    );
    assert_eq!(t["path"], "Inbox/Projects/Ember");
    assert_eq!(truth_folder(&emu, "Inbox").await["well_known"], "inbox");
    assert_eq!(
        truth_folder(&emu, "Receipts").await["parent_id"],
        root["id"]
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_user_folder_lists_its_messages_and_its_delta_follows_moves_in_and_out() {
    let emu = start_with_messages(300).await;
    let g = Graph::new(&emu).await;
    let projects = str_of(&g.get("/mailFolders/inbox/childFolders").await.json["value"][0]["id"]);
    let inner = g
        .get(&format!("/mailFolders/{projects}/childFolders"))
        .await;
    let ember = str_of(&inner.json["value"][0]["id"]);
    let held = truth_in(&emu, &ember).await;
    let listed = g
        .get(&format!(
            "/mailFolders/{ember}/messages?$top=100&$select=parentFolderId"
        ))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let value = listed.json["value"].as_array().cloned().unwrap_or_default();
    assert!(value.iter().all(|m| m["parentFolderId"] == ember.as_str()));
    let ids: BTreeSet<String> = value.iter().map(|m| str_of(&m["id"])).collect();
    assert_eq!(ids, held, "the folder's messages are the truth's");

    // A first delta round of each folder, then a move from the inbox into
    // the nested folder.
    let start = |f: &str| format!("/mailFolders/{f}/messages/delta?$select=subject");
    let (first, _, ember_link) = g.delta(&start(&ember)).await;
    assert_eq!(first, held);
    let (in_inbox, _, inbox_link) = g.delta(&start("inbox")).await;
    let moving = in_inbox.iter().next().cloned().unwrap_or_default();
    let moved = g
        .post(
            &format!("/messages/{moving}/move"),
            &json!({"destinationId": ember}),
        )
        .await;
    assert_eq!(moved.status, 201, "{}", moved.text);
    assert_eq!(moved.json["parentFolderId"], ember.as_str());
    let new_id = str_of(&moved.json["id"]);
    assert_ne!(
        new_id, moving,
        "a moved message gets a new id, as in Exchange"
    );
    assert!(truth_in(&emu, &ember).await.contains(&new_id));
    let (added, removed, ember_link) = g.delta(&ember_link).await;
    assert_eq!(
        (added, removed.len()),
        (BTreeSet::from([new_id.clone()]), 0)
    );
    let (_, removed, _) = g.delta(&inbox_link).await;
    assert_eq!(removed, BTreeSet::from([moving]), "it left the inbox");

    // The control API moves by path or unique name as by id.
    let other = in_inbox.iter().nth(1).cloned().unwrap_or_default();
    for folder in ["Inbox/Projects/Ember", "receipts", "Projects/Ember"] {
        let r = control(
            &emu,
            "mutate",
            &json!({"provider": "graph", "move": [{"id": other, "folder": folder}]}),
        )
        .await;
        let expected = if folder == "Projects/Ember" { 400 } else { 200 };
        assert_eq!(r.status, expected, "{folder}: {}", r.text);
    }
    let receipts = str_of(&truth_folder(&emu, "Receipts").await["id"]);
    assert!(truth_in(&emu, &receipts).await.contains(&other));
    let (added, removed, _) = g.delta(&ember_link).await;
    assert_eq!(
        (added.len(), removed),
        (0, BTreeSet::new()),
        "in and out again between two rounds is no change to the folder"
    );
    let injected = control(
        &emu,
        "mail",
        &json!({"provider": "graph", "folder": "Inbox/Projects", "raw_base64": "U3ViamVjdDogSGkNCg0KSGku"}),
    )
    .await;
    assert_eq!(injected.status, 200, "{}", injected.text);
    assert!(truth_in(&emu, &projects)
        .await
        .contains(&str_of(&injected.json["id"])));
    emu.stop().await;
}

#[tokio::test]
async fn folders_are_made_at_the_top_or_nested_with_unique_names_under_each_parent() {
    let emu = start_with_messages(30).await;
    let g = Graph::new(&emu).await;
    let root = g.id("msgfolderroot").await;
    let taxes = g
        .post("/mailFolders", &json!({"displayName": "Taxes"}))
        .await;
    assert_eq!(taxes.status, 201, "{}", taxes.text);
    assert!(str_of(&taxes.json["@odata.context"]).ends_with("/mailFolders/$entity"));
    assert_eq!(taxes.json["parentFolderId"], root.as_str());
    assert_eq!(
        (
            &taxes.json["childFolderCount"],
            &taxes.json["totalItemCount"],
            &taxes.json["isHidden"]
        ),
        (&json!(0), &json!(0), &json!(false))
    );
    let taxes = str_of(&taxes.json["id"]);
    let year = g
        .post(
            &format!("/mailFolders/{taxes}/childFolders"),
            &json!({"displayName": "2026"}),
        )
        .await;
    assert_eq!(year.status, 201, "{}", year.text);
    assert!(str_of(&year.json["@odata.context"])
        .ends_with(&format!("/mailFolders('{taxes}')/childFolders/$entity")));
    assert_eq!(year.json["parentFolderId"], taxes.as_str());
    assert_eq!(
        g.get(&format!("/mailFolders/{taxes}")).await.json["childFolderCount"],
        1
    );

    for (path, name) in [
        ("/mailFolders".to_owned(), "TAXES"),
        ("/mailFolders".to_owned(), "Inbox"),
        (format!("/mailFolders/{taxes}/childFolders"), "2026"),
    ] {
        let r = g.post(&path, &json!({"displayName": name})).await;
        assert_eq!(
            (r.status, r.json["error"]["code"].as_str()),
            (409, Some("ErrorFolderExists")),
            "{name} is already in {path}"
        );
    }
    let elsewhere = g
        .post(
            "/mailFolders('inbox')/childFolders",
            &json!({"displayName": "2026"}),
        )
        .await;
    assert_eq!(elsewhere.status, 201, "the same name in another parent");
    let unnamed = g.post("/mailFolders", &json!({"isHidden": true})).await;
    assert_eq!(unnamed.status, 400);
    let nowhere = g
        .post(
            &format!("/mailFolders/{}/childFolders", "A".repeat(40)),
            &json!({"displayName": "x"}),
        )
        .await;
    assert_eq!(nowhere.status, 404);

    // A hidden folder is listed only when asked for.
    let hidden = g
        .post(
            "/mailFolders",
            &json!({"displayName": "Clutter", "isHidden": true}),
        )
        .await;
    assert_eq!(hidden.json["isHidden"], true);
    assert!(!names(&g.get("/mailFolders").await.json).contains(&"Clutter".to_owned()));
    let all = g.get("/mailFolders?includeHiddenFolders=true").await.json;
    assert!(names(&all).contains(&"Clutter".to_owned()));

    // Mail moves into a new nested folder like into any other.
    let year = str_of(&year.json["id"]);
    let message = str_of(&g.get("/mailFolders/inbox/messages?$top=1").await.json["value"][0]["id"]);
    let moved = api(
        &emu,
        "POST",
        &format!("{ME}/messages/{message}/move"),
        &g.bearer,
        Some(&json!({"destinationId": year})),
    )
    .await;
    assert_eq!(moved.status, 201, "{}", moved.text);
    let year_folder = g.get(&format!("/mailFolders/{year}")).await.json;
    assert_eq!(year_folder["totalItemCount"], 1);
    assert_eq!(truth_in(&emu, &year).await.len(), 1);
    emu.stop().await;
}

#[tokio::test]
async fn deleting_a_folder_moves_it_to_deleted_items_and_from_there_deletes_it_for_good() {
    let emu = start_with_messages(300).await;
    let g = Graph::new(&emu).await;
    let refused = g.delete("/mailFolders/inbox").await;
    assert_eq!(
        (refused.status, refused.json["error"]["code"].as_str()),
        (400, Some("ErrorDeleteDistinguishedFolder"))
    );
    let projects = str_of(&truth_folder(&emu, "Projects").await["id"]);
    let ember = str_of(&truth_folder(&emu, "Ember").await["id"]);
    let held: BTreeSet<String> = truth_in(&emu, &projects)
        .await
        .union(&truth_in(&emu, &ember).await)
        .cloned()
        .collect();
    let (_, _, ember_link) = g
        .delta(&format!("/mailFolders/{ember}/messages/delta"))
        .await;

    let gone = g.delete(&format!("/mailFolders/{projects}")).await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    let bin = g.id("deleteditems").await;
    let moved = g.get(&format!("/mailFolders/{projects}")).await.json;
    assert_eq!(moved["parentFolderId"], bin.as_str());
    assert_eq!(
        g.get("/mailFolders/inbox").await.json["childFolderCount"],
        0
    );
    assert_eq!(
        names(&g.get("/mailFolders/deleteditems/childFolders").await.json),
        ["Projects"]
    );
    assert_eq!(
        truth_in(&emu, &ember).await.len() + truth_in(&emu, &projects).await.len(),
        held.len(),
        "the messages went along, in their folders"
    );

    let for_good = g.delete(&format!("/mailFolders/{projects}")).await;
    assert_eq!(for_good.status, 204, "{}", for_good.text);
    for id in [&projects, &ember] {
        let r = g.get(&format!("/mailFolders/{id}")).await;
        assert_eq!(
            (r.status, r.json["error"]["code"].as_str()),
            (404, Some("ErrorItemNotFound"))
        );
    }
    let live: BTreeSet<String> = mail_truth(&emu, "graph").await["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| str_of(&m["id"]))
        .collect();
    assert!(held.is_disjoint(&live), "their messages are deleted");
    assert!(truth_folder(&emu, "Ember").await.is_null());
    let old = g.get(&ember_link).await;
    assert_eq!(old.status, 404, "a delta token of a folder that is gone");

    let receipts = str_of(&truth_folder(&emu, "Receipts").await["id"]);
    let r = g
        .post(
            &format!("/mailFolders/{receipts}/permanentDelete"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(g.get(&format!("/mailFolders/{receipts}")).await.status, 404);
    let again = g
        .post("/mailFolders", &json!({"displayName": "Receipts"}))
        .await;
    assert_eq!(again.status, 201, "the name is free again");
    assert_ne!(str_of(&again.json["id"]), receipts, "ids are never reused");
    emu.stop().await;
}

#[tokio::test]
async fn folders_are_renamed_and_moved_with_their_mail_and_keep_their_ids() {
    let emu = start_with_messages(300).await;
    let g = Graph::new(&emu).await;
    let root = g.id("msgfolderroot").await;
    let inbox = g.id("inbox").await;
    let projects = str_of(&truth_folder(&emu, "Projects").await["id"]);
    let ember = str_of(&truth_folder(&emu, "Ember").await["id"]);
    let held = truth_in(&emu, &ember).await;

    let renamed = g
        .patch(
            &format!("/mailFolders/{ember}"),
            &json!({"displayName": "Ember desktop", "totalItemCount": 1}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(
        (&renamed.json["id"], &renamed.json["displayName"]),
        (&json!(ember), &json!("Ember desktop")),
        "a rename keeps the id; read-only properties are ignored"
    );
    assert_eq!(renamed.json["totalItemCount"], json!(held.len()));
    assert!(str_of(&renamed.json["@odata.context"]).ends_with("/mailFolders/$entity"));
    assert_eq!(
        truth_folder(&emu, "Ember desktop").await["path"],
        "Inbox/Projects/Ember desktop"
    );
    let sibling = g
        .patch(
            &format!("/mailFolders/{projects}"),
            &json!({"displayName": "Receipts"}),
        )
        .await;
    assert_eq!(sibling.status, 200, "Receipts is not Projects' sibling");
    let clash = g
        .patch(
            &format!("/mailFolders/{ember}"),
            &json!({"displayName": "EMBER DESKTOP"}),
        )
        .await;
    assert_eq!(clash.status, 200, "its own name in another case is fine");
    let clash = g
        .patch(
            &format!("/mailFolders/{ember}"),
            &json!({"displayName": "x", "colour": "red"}),
        )
        .await;
    assert_eq!(clash.status, 400, "{}", clash.text);
    // Exchange lets a client rename even the Inbox; it is still `inbox`.
    let inbox_renamed = g
        .patch("/mailFolders/inbox", &json!({"displayName": "Post"}))
        .await;
    assert_eq!(inbox_renamed.status, 200, "{}", inbox_renamed.text);
    assert_eq!(
        g.get("/mailFolders/inbox").await.json["displayName"],
        "Post"
    );

    // Projects (renamed Receipts above) moves to the top, Ember with it.
    let moved = g
        .post(
            &format!("/mailFolders/{projects}/move"),
            &json!({"destinationId": "msgfolderroot"}),
        )
        .await;
    assert_eq!(
        (moved.status, &moved.json["error"]["code"]),
        (409, &json!("ErrorFolderExists")),
        "a top-level Receipts is there already: {}",
        moved.text
    );
    let back = g
        .patch(
            &format!("/mailFolders/{projects}"),
            &json!({"displayName": "Projects"}),
        )
        .await;
    assert_eq!(back.status, 200);
    let moved = g
        .post(
            &format!("/mailFolders/{projects}/move"),
            &json!({"destinationId": root}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(
        (&moved.json["id"], &moved.json["parentFolderId"]),
        (&json!(projects), &json!(root))
    );
    assert_eq!(
        g.get(&format!("/mailFolders/{inbox}")).await.json["childFolderCount"],
        0
    );
    assert_eq!(
        truth_folder(&emu, "EMBER DESKTOP").await["path"],
        "Projects/EMBER DESKTOP"
    );
    assert_eq!(truth_in(&emu, &ember).await, held, "the mail went along");

    for (folder, dest, code) in [
        (&projects, &ember, "ErrorMoveCopyFailed"),
        (&projects, &projects, "ErrorMoveCopyFailed"),
        (&inbox, &projects, "ErrorMoveDistinguishedFolder"),
    ] {
        let r = g
            .post(
                &format!("/mailFolders/{folder}/move"),
                &json!({"destinationId": dest}),
            )
            .await;
        assert_eq!(
            (r.status, r.json["error"]["code"].as_str()),
            (400, Some(code)),
            "{}",
            r.text
        );
    }
    let nowhere = g
        .post(&format!("/mailFolders/{ember}/move"), &json!({}))
        .await;
    assert_eq!(nowhere.status, 400);
    emu.stop().await;
}
