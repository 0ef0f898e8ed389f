//! Tests of the emulator's graph part: Microsoft Graph v1.0 mail over
//! loopback HTTP, as a client sees it.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use ember_emulator::Emulator;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::support::{
    client, control, control_get, get_json, recorded, shape_diff, shared_data, start, start_with,
    token,
};

const ODATA_JSON: &str = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8";

/// A Graph session: the API base and a bearer token.
struct Graph {
    base: String,
    token: String,
}

impl Graph {
    async fn new(emu: &Emulator) -> anyhow::Result<Self> {
        Ok(Self {
            base: format!("{}/v1.0", emu.base_url()),
            token: token(emu, "graph").await?,
        })
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn get(&self, path: &str) -> anyhow::Result<(u16, Value)> {
        get_json(&self.url(path), &self.token).await
    }

    /// Any request; returns status, headers and JSON (Null when not JSON).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> anyhow::Result<(u16, HeaderMap, Value)> {
        let mut req = client()
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await?;
        Ok((
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        ))
    }

    /// Follows a delta round to its deltaLink; returns the items, the
    /// deltaLink and the page count.
    async fn delta_round(
        &self,
        start: &str,
        page_size: usize,
    ) -> anyhow::Result<(Vec<Value>, String, usize)> {
        let prefer = format!("odata.maxpagesize={page_size}");
        let mut url = start.to_owned();
        let mut items = Vec::new();
        let mut pages = 0;
        loop {
            let (status, headers, body) = self
                .send(reqwest::Method::GET, &url, &[("Prefer", &prefer)], None)
                .await?;
            anyhow::ensure!(status == 200, "delta page {url}: {status} {body}");
            anyhow::ensure!(
                headers
                    .get("preference-applied")
                    .and_then(|v| v.to_str().ok())
                    == Some(prefer.as_str()),
                "Preference-Applied is echoed"
            );
            let value = body["value"].as_array().cloned().unwrap_or_default();
            anyhow::ensure!(value.len() <= page_size, "page larger than asked");
            items.extend(value);
            pages += 1;
            let next = body["@odata.nextLink"].as_str();
            let delta = body["@odata.deltaLink"].as_str();
            anyhow::ensure!(
                next.is_some() != delta.is_some(),
                "a page has a nextLink or a deltaLink"
            );
            if let Some(d) = delta {
                anyhow::ensure!(d.contains("$deltatoken="));
                return Ok((items, d.to_owned(), pages));
            }
            let n = next.unwrap_or_default();
            anyhow::ensure!(n.contains("$skiptoken="));
            url = n.to_owned();
        }
    }
}

/// The Graph account's live messages in `folder_id`, from the truth.
async fn truth_in(emu: &Emulator, folder_id: &str) -> anyhow::Result<HashMap<String, Value>> {
    let truth = control_get(emu, "truth").await?;
    let account = truth["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["provider"] == "graph"))
        .cloned()
        .unwrap_or_default();
    Ok(account["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["folders"] == json!([folder_id]))
        .map(|m| (m["id"].as_str().unwrap_or_default().to_owned(), m))
        .collect())
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn assert_shape(real: &Value, ours: &Value, what: &str) {
    let mut diff = Vec::new();
    shape_diff(real, ours, "", &mut diff);
    assert!(
        diff.is_empty(),
        "{what} differs from the real payload: {diff:?}\nours: {ours}"
    );
}

fn raw_mail(subject: &str) -> String {
    let raw = format!(
        "From: Dana Swope <danas@contoso.example>\r\nTo: Alex Rivera <alex.rivera@contoso.example>\r\n\
         Subject: {subject}\r\nDate: Mon, 4 May 2026 09:23:10 +0000\r\nMessage-ID: <{}@contoso.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHoliday hours are posted.\r\n",
        subject.replace(' ', "-")
    );
    base64::engine::general_purpose::STANDARD.encode(raw)
}

#[tokio::test]
async fn me_and_folders_have_the_real_shapes() -> anyhow::Result<()> {
    let emu = start(200).await?;
    let g = Graph::new(&emu).await?;
    let (status, me) = g.get("/me").await?;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["mail"], "alex.rivera@contoso.example");
    assert_eq!(me["userPrincipalName"], me["mail"]);
    assert_eq!(me["businessPhones"], json!([]));
    assert_eq!(me["id"].as_str().map(str::len), Some(36));
    assert!(me["@odata.context"]
        .as_str()
        .is_some_and(|c| c.ends_with("/v1.0/$metadata#users/$entity")));

    // /users/{address} is the same mailbox; another user's is not open.
    let (status, _) = g
        .get("/users/alex.rivera@contoso.example/mailFolders")
        .await?;
    assert_eq!(status, 200);
    let (status, body) = g
        .get("/users/someone.else@contoso.example/messages")
        .await?;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("ErrorAccessDenied"))
    );

    let (status, headers, folders) = g
        .send(reqwest::Method::GET, "/me/mailFolders", &[], None)
        .await?;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some(ODATA_JSON)
    );
    assert!(headers.contains_key("request-id"));
    let names: Vec<&str> = folders["value"]
        .as_array()
        .map(|v| v.iter().filter_map(|f| f["displayName"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "Archive",
            "Deleted Items",
            "Drafts",
            "Inbox",
            "Junk Email",
            "Receipts",
            "Sent Items"
        ],
        "the well-known folders and the user's top-level ones, by name"
    );
    // Well-known names are case-insensitive and give the folder's id.
    let (_, inbox) = g.get("/me/mailFolders/Inbox").await?;
    let (_, inbox2) = g.get("/me/mailFolders/INBOX").await?;
    assert_eq!(inbox["id"], inbox2["id"]);
    let (_, by_id) = g
        .get(&format!(
            "/me/mailFolders/{}",
            inbox["id"].as_str().unwrap_or_default()
        ))
        .await?;
    assert_eq!(by_id["displayName"], "Inbox");
    let truth = truth_in(&emu, inbox["id"].as_str().unwrap_or_default()).await?;
    assert_eq!(inbox["totalItemCount"], json!(truth.len()));
    let unread = truth.values().filter(|m| m["unread"] == true).count();
    assert_eq!(inbox["unreadItemCount"], json!(unread));
    let (status, body) = g.get("/me/mailFolders/nonsense").await?;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("ErrorInvalidIdMalformed"))
    );
    // Paging with $top/$skip.
    let (_, page) = g.get("/me/mailFolders?$top=4").await?;
    assert_eq!(page["value"].as_array().map(Vec::len), Some(4));
    let next = page["@odata.nextLink"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(next.contains("%24skip=4"), "{next}");
    let (_, rest) = g.get(&next).await?;
    assert_eq!(rest["value"].as_array().map(Vec::len), Some(3));
    assert!(rest.get("@odata.nextLink").is_none());
    // User folders nest: Inbox/Projects/Ember.
    let (_, children) = g.get("/me/mailFolders/inbox/childFolders").await?;
    let projects = &children["value"][0];
    assert_eq!(
        (&projects["displayName"], &projects["parentFolderId"]),
        (&json!("Projects"), &inbox["id"])
    );
    assert_eq!(children["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(projects["childFolderCount"], 1);

    let Some(data) = shared_data() else {
        return Ok(());
    };
    let docs = recorded(&data.join("graph/docs-samples/GET__me_mailFolders__afc6c4f5.json"))?;
    assert_shape(&docs["response"]["body"], &folders, "mailFolders list");
    let docs = recorded(&data.join("graph/docs-samples/GET__me_mailFolders__6a876fe4.json"))?;
    assert_shape(&docs["response"]["body"], &inbox, "mailFolder");
    let real = recorded(&data.join(
        "graph/recorded-nango/GET__v1_0_me_mailFolders_Inbox_childFolders__33ccdb6450.json",
    ))?;
    let (_, ours) = g
        .get("/me/mailFolders/msgfolderroot/childFolders?$top=2")
        .await?;
    assert_shape(&real, &ours, "childFolders page");
    // A folder made as Nango's recording made one, in the Inbox by name.
    let real = recorded(&data.join(
        "graph/recorded-nango/POST__v1_0_me_mailFolders_Inbox_childFolders__5a69a89864.json",
    ))?;
    let (status, _, ours) = g
        .send(
            reqwest::Method::POST,
            "/me/mailFolders/Inbox/childFolders",
            &[],
            Some(json!({"displayName": "TestFolder4283"})),
        )
        .await?;
    assert_eq!(status, 201, "{ours}");
    assert_shape(&real, &ours, "a new folder");
    assert!(ours["@odata.context"]
        .as_str()
        .is_some_and(|c| c.ends_with("/mailFolders('Inbox')/childFolders/$entity")));
    assert_eq!(ours["parentFolderId"], inbox["id"]);
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn messages_have_the_real_resource_shape() -> anyhow::Result<()> {
    let emu = start(120).await?;
    let g = Graph::new(&emu).await?;
    let (status, list) = g.get("/me/mailFolders/inbox/messages?$top=5").await?;
    assert_eq!(status, 200, "{list}");
    let first = list["value"][0].clone();
    let id = first["id"].as_str().unwrap_or_default().to_owned();
    let (status, message) = g.get(&format!("/me/messages/{id}")).await?;
    assert_eq!(status, 200, "{message}");
    assert!(message["@odata.context"]
        .as_str()
        .is_some_and(|c| c.ends_with("/messages/$entity")));
    let etag = message["@odata.etag"].as_str().unwrap_or_default();
    assert_eq!(
        etag,
        format!(
            "W/\"{}\"",
            message["changeKey"].as_str().unwrap_or_default()
        )
    );
    assert!(message["receivedDateTime"]
        .as_str()
        .is_some_and(|d| d.len() == 20 && d.ends_with('Z')));
    assert!(["html", "text"].contains(&message["body"]["contentType"].as_str().unwrap_or_default()));
    assert!(message["from"]["emailAddress"]["address"].is_string());
    assert!(message["bodyPreview"]
        .as_str()
        .is_some_and(|p| p.chars().count() <= 255));
    assert_eq!(message["subject"], first["subject"]);

    // $select limits the properties; id and the etag always come.
    let (_, selected) = g
        .get(&format!("/me/messages/{id}?$select=subject,isRead"))
        .await?;
    let mut keys: Vec<&str> = selected
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["@odata.context", "@odata.etag", "id", "isRead", "subject"]
    );
    // Prefer a text body.
    let (_, headers, text) = g
        .send(
            reqwest::Method::GET,
            &format!("/me/messages/{id}"),
            &[("Prefer", "outlook.body-content-type=\"text\"")],
            None,
        )
        .await?;
    assert_eq!(text["body"]["contentType"], "text");
    assert!(headers.contains_key("preference-applied"));

    // $value is the MIME message, as text/plain.
    let r = client()
        .get(g.url(&format!("/me/messages/{id}/$value")))
        .bearer_auth(&g.token)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/plain")
    );
    let mime = r.text().await?;
    assert!(
        mime.contains("Subject:") && mime.contains("MIME-Version"),
        "{mime}"
    );

    // Errors as Graph writes them.
    let unknown = format!("AAMkAGI2{}", "A".repeat(60));
    let (status, body) = g.get(&format!("/me/messages/{unknown}")).await?;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("ErrorItemNotFound"))
    );
    assert!(body["error"]["innerError"]["request-id"].is_string());
    let (status, body) = g.get("/me/messages/bad").await?;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("ErrorInvalidIdMalformed"))
    );

    // Lists are newest first and page with $skip.
    let (_, page) = g
        .get("/me/mailFolders/inbox/messages?$top=5&$select=receivedDateTime")
        .await?;
    let next = page["@odata.nextLink"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(next.contains("%24skip=5"), "{next}");
    let (_, page2) = g.get(&next).await?;
    let dates: Vec<String> = [&page, &page2]
        .iter()
        .flat_map(|p| p["value"].as_array().cloned().unwrap_or_default())
        .map(|m| {
            m["receivedDateTime"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(dates.len(), 10);
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    let both: HashSet<String> = ids(page["value"].as_array().map_or(&[][..], |v| v))
        .into_iter()
        .chain(ids(page2["value"].as_array().map_or(&[][..], |v| v)))
        .collect();
    assert_eq!(both.len(), 10, "pages do not overlap");

    let Some(data) = shared_data() else {
        return Ok(());
    };
    let real = recorded(&data.join("graph/recorded-nango/GET__v1_0_me_messages_AQMkADAwATNiZmYAZS1hZGNjAC0zNzY5LTAwAi0wMAoARgAAA4r_TlY6z_REqceKH8A61PsHA__0237d135a8.json"))?;
    assert_shape(&real, &message, "message resource");
    let real = recorded(&data.join("graph/recorded-nango/PATCH__v1_0_me_messages_AQMkADAwATNiZmYAZS1hZGNjAC0zNzY5LTAwAi0wMAoARgAAA4r_TlY6z_REqceKH8A61PsHA__482ac9403f.json"))?;
    let (status, _, patched) = g
        .send(
            reqwest::Method::PATCH,
            &format!("/me/messages/{id}"),
            &[],
            Some(json!({"categories": ["TestCategory"], "isRead": true})),
        )
        .await?;
    assert_eq!(status, 200);
    assert_shape(&real, &patched, "PATCH answer");
    assert_eq!(patched["categories"], json!(["TestCategory"]));
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn delta_pages_have_the_real_shape() -> anyhow::Result<()> {
    let emu = start(60).await?;
    let g = Graph::new(&emu).await?;
    let (status, first) = g.get("/me/mailFolders/inbox/messages/delta").await?;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first["value"].as_array().map(Vec::len),
        Some(10),
        "default page is 10"
    );
    assert!(first["@odata.context"]
        .as_str()
        .is_some_and(|c| c.ends_with("$metadata#Collection(message)")));
    let next = first["@odata.nextLink"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        next.contains("/me/mailFolders('inbox')/messages/delta?$skiptoken="),
        "{next}"
    );
    assert_eq!(first["value"][0]["@odata.type"], "#microsoft.graph.message");
    let mut last = first.clone();
    while let Some(n) = last["@odata.nextLink"].as_str().map(str::to_owned) {
        last = g.get(&n).await?.1;
    }
    assert!(last["@odata.deltaLink"].is_string());

    // $select keeps only those properties (plus @odata.type, the etag and id).
    let (_, selected) = g
        .get("/me/mailFolders/inbox/messages/delta?$select=subject,sender,isRead")
        .await?;
    let mut keys: Vec<&str> = selected["value"][0]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "@odata.etag",
            "@odata.type",
            "id",
            "isRead",
            "sender",
            "subject"
        ]
    );
    // The selection travels in the tokens.
    let n = selected["@odata.nextLink"].as_str().unwrap_or_default();
    let (_, page2) = g.get(n).await?;
    assert!(page2["value"][0].get("body").is_none());

    // $filter=receivedDateTime ge ... bounds the round.
    let (all, _, _) = g
        .delta_round(
            "/me/mailFolders/inbox/messages/delta?$select=receivedDateTime",
            1000,
        )
        .await?;
    let mut dates: Vec<&str> = all
        .iter()
        .filter_map(|m| m["receivedDateTime"].as_str())
        .collect();
    dates.sort_unstable_by(|a, b| b.cmp(a));
    let bound = dates[4];
    let (recent, _, _) = g
        .delta_round(
            &format!("/me/mailFolders/inbox/messages/delta?$select=receivedDateTime&$filter=receivedDateTime ge {bound}"),
            1000,
        )
        .await?;
    assert_eq!(recent.len(), dates.iter().filter(|d| **d >= bound).count());
    assert!(recent.len() < all.len());

    let Some(data) = shared_data() else {
        return Ok(());
    };
    let real = recorded(&data.join(
        "graph/recorded-nango/GET__v1_0_me_mailFolders_inbox_messages_delta__e272c341fb.json",
    ))?;
    assert_shape(&real, &first, "delta page with nextLink");
    let real = recorded(&data.join(
        "graph/recorded-nango/GET__v1_0_me_mailFolders_inbox_messages_delta__eeaa2c05a5.json",
    ))?;
    assert_shape(&real, &last, "last delta page");
    // The docs' round trip, with `@removed`, in its own shape.
    let docs: Value = serde_json::from_str(&std::fs::read_to_string(
        data.join("graph/delta-sequence-example1.json"),
    )?)?;
    let (_, _, small) = g
        .send(
            reqwest::Method::GET,
            "/me/mailFolders/inbox/messages/delta?$select=subject,sender,isRead",
            &[("Prefer", "odata.maxpagesize=2")],
            None,
        )
        .await?;
    let mut docs_first = docs["rounds"][0]["response"]["body"].clone();
    // The docs page has a boolean isRead; the removed-item round has a typo ("true").
    docs_first["value"][0]["isRead"] = json!(false);
    assert_shape(&docs_first, &small, "docs delta page");
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_delta_round_sees_every_message_once_then_exactly_the_changes() -> anyhow::Result<()> {
    let emu = start(300).await?;
    let g = Graph::new(&emu).await?;
    let (_, inbox) = g.get("/me/mailFolders/inbox").await?;
    let inbox_id = inbox["id"].as_str().unwrap_or_default().to_owned();
    let (_, archive) = g.get("/me/mailFolders/archive").await?;
    let archive_id = archive["id"].as_str().unwrap_or_default().to_owned();

    let (items, delta_link, pages) = g
        .delta_round("/me/mailFolders/inbox/messages/delta", 25)
        .await?;
    let seen = ids(&items);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no message twice");
    let truth = truth_in(&emu, &inbox_id).await?;
    let expected: HashSet<&String> = truth.keys().collect();
    assert_eq!(unique, expected, "every inbox message, and only those");
    assert_eq!(pages, truth.len().div_ceil(25).max(1));
    assert!(items
        .iter()
        .all(|i| i["parentFolderId"] == inbox_id.as_str()));

    // A round that only wants deletions starts empty.
    let (deletions, deleted_link, _) = g
        .delta_round(
            "/me/mailFolders/inbox/messages/delta?changeType=deleted",
            50,
        )
        .await?;
    assert!(deletions.is_empty(), "{deletions:?}");

    // Change the mailbox behind the client's back.
    let unread = items
        .iter()
        .find(|i| i["isRead"] == false)
        .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let others: Vec<String> = seen
        .iter()
        .filter(|i| **i != unread)
        .take(2)
        .cloned()
        .collect();
    let (moved, deleted) = (others[0].clone(), others[1].clone());
    let r = control(
        &emu,
        "mutate",
        json!({"provider": "graph", "mark_read": [unread], "delete": [deleted],
               "move": [{"id": moved, "folder": "archive"}]}),
    )
    .await?;
    assert_eq!(r["changed"], 3, "{r}");
    let injected = control(
        &emu,
        "mail",
        json!({"provider": "graph", "folder": "inbox", "raw_base64": raw_mail("Holiday hours update")}),
    )
    .await?;
    let new_id = injected["id"].as_str().unwrap_or_default().to_owned();

    let (changes, next_link, _) = g.delta_round(&delta_link, 2).await?;
    let by_id: HashMap<String, Value> = changes
        .iter()
        .map(|c| (c["id"].as_str().unwrap_or_default().to_owned(), c.clone()))
        .collect();
    assert_eq!(changes.len(), 4, "exactly the four changes: {changes:?}");
    assert_eq!(by_id[&unread]["isRead"], true);
    assert!(by_id[&unread].get("@removed").is_none());
    for gone in [&moved, &deleted] {
        assert_eq!(
            by_id[gone],
            json!({"@odata.type": "#microsoft.graph.message", "id": gone, "@removed": {"reason": "deleted"}})
        );
    }
    assert_eq!(by_id[&new_id]["subject"], "Holiday hours update");
    assert_eq!(by_id[&new_id]["from"]["emailAddress"]["name"], "Dana Swope");
    assert_eq!(by_id[&new_id]["isRead"], false);

    let (deletions, _, _) = g.delta_round(&deleted_link, 50).await?;
    let mut removed = ids(&deletions);
    removed.sort_unstable();
    let mut expected_removed = vec![moved.clone(), deleted.clone()];
    expected_removed.sort_unstable();
    assert_eq!(
        removed, expected_removed,
        "changeType=deleted: only removals"
    );

    // The archive sees the moved message arrive.
    let (_, _, _) = g
        .send(
            reqwest::Method::GET,
            "/me/mailFolders/archive/messages/delta",
            &[],
            None,
        )
        .await?;
    let archive_truth = truth_in(&emu, &archive_id).await?;
    assert!(archive_truth.contains_key(&moved));

    // Nothing changed since: an empty page and a deltaLink.
    let (none, _, _) = g.delta_round(&next_link, 10).await?;
    assert!(none.is_empty(), "{none:?}");

    // Expired sync state: 410; a mangled token: 400.
    control(&emu, "expire", json!({"provider": "graph"})).await?;
    let (status, body) = g.get(&next_link).await?;
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["error"]["code"], "SyncStateNotFound");
    assert!(body["error"]["innerError"].is_object());
    let mangled = format!("{}x", &next_link[..next_link.len() - 3]);
    let (status, body) = g.get(&mangled).await?;
    assert_eq!(status, 400, "{body}");
    let (status, _) = g
        .get("/me/mailFolders/inbox/messages/delta?$deltatoken=not-a-token")
        .await?;
    assert_eq!(status, 400);
    // A fresh round works again.
    let (again, _, _) = g
        .delta_round("/me/mailFolders/inbox/messages/delta", 1000)
        .await?;
    assert_eq!(again.len(), truth_in(&emu, &inbox_id).await?.len());
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn patch_shows_in_the_next_delta_and_in_the_truth() -> anyhow::Result<()> {
    let emu = start(150).await?;
    let g = Graph::new(&emu).await?;
    let (_, inbox) = g.get("/me/mailFolders/inbox").await?;
    let inbox_id = inbox["id"].as_str().unwrap_or_default().to_owned();
    let (items, delta_link, _) = g
        .delta_round(
            "/me/mailFolders('inbox')/messages/delta?$select=isRead,categories,flag",
            1000,
        )
        .await?;
    let target = items
        .iter()
        .find(|i| i["isRead"] == false)
        .and_then(|i| i["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(!target.is_empty(), "some inbox message is unread");

    let (status, _, patched) = g
        .send(
            reqwest::Method::PATCH,
            &format!("/me/messages/{target}"),
            &[],
            Some(json!({"isRead": true, "categories": ["Blue", "Travel"], "flag": {"flagStatus": "flagged"}})),
        )
        .await?;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["isRead"], true);
    assert_eq!(patched["flag"], json!({"flagStatus": "flagged"}));
    assert_eq!(patched["categories"], json!(["Blue", "Travel"]));
    let first_etag = patched["@odata.etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let (changes, delta_link, _) = g.delta_round(&delta_link, 10).await?;
    assert_eq!(ids(&changes), [target.as_str()]);
    assert_eq!(changes[0]["isRead"], true);
    assert_eq!(changes[0]["categories"], json!(["Blue", "Travel"]));
    assert!(
        changes[0].get("subject").is_none(),
        "the round's $select still applies"
    );
    let truth = truth_in(&emu, &inbox_id).await?;
    assert_eq!(
        truth[&target]["unread"], false,
        "categories do not count as folders"
    );

    // Completing the flag and dropping a category.
    let (status, _, patched) = g
        .send(
            reqwest::Method::PATCH,
            &format!("/me/messages/{target}"),
            &[],
            Some(json!({"categories": ["Travel"], "flag": {"flagStatus": "complete"}, "isRead": false})),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(patched["flag"]["flagStatus"], "complete");
    assert_eq!(patched["categories"], json!(["Travel"]));
    let (changes, _, _) = g.delta_round(&delta_link, 10).await?;
    assert_eq!(changes[0]["isRead"], false);
    assert_eq!(truth_in(&emu, &inbox_id).await?[&target]["unread"], true);

    // A stale etag in If-Match is refused; the current one is accepted.
    let (status, _, err) = g
        .send(
            reqwest::Method::PATCH,
            &format!("/me/messages/{target}"),
            &[("If-Match", first_etag.as_str())],
            Some(json!({"isRead": true})),
        )
        .await?;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (412, Some("ErrorIrresolvableConflict"))
    );
    let current = patched["@odata.etag"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_ne!(current, first_etag, "the etag changes with the message");
    let (status, _, _) = g
        .send(
            reqwest::Method::PATCH,
            &format!("/me/messages/{target}"),
            &[("If-Match", current.as_str())],
            Some(json!({"isRead": true})),
        )
        .await?;
    assert_eq!(status, 200);

    for (body, code) in [
        (json!({"isRead": "yes"}), "RequestBodyRead"),
        (json!({"nope": 1}), "RequestBodyRead"),
        (
            json!({"subject": "x"}),
            "ErrorInvalidPropertyUpdateSentMessage",
        ),
    ] {
        let (status, _, err) = g
            .send(
                reqwest::Method::PATCH,
                &format!("/me/messages/{target}"),
                &[],
                Some(body),
            )
            .await?;
        assert_eq!((status, err["error"]["code"].as_str()), (400, Some(code)));
    }
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn move_gives_a_new_id_that_both_folders_see() -> anyhow::Result<()> {
    let emu = start(120).await?;
    let g = Graph::new(&emu).await?;
    let (_, archive) = g.get("/me/mailFolders/archive").await?;
    let archive_id = archive["id"].as_str().unwrap_or_default().to_owned();
    let (inbox_items, inbox_link, _) = g
        .delta_round("/me/mailFolders/inbox/messages/delta?$select=subject", 1000)
        .await?;
    let (_, archive_link, _) = g
        .delta_round(
            "/me/mailFolders/archive/messages/delta?$select=subject",
            1000,
        )
        .await?;
    let old = inbox_items[0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, _, moved) = g
        .send(
            reqwest::Method::POST,
            &format!("/me/messages/{old}/move"),
            &[],
            Some(json!({"destinationId": "archive"})),
        )
        .await?;
    assert_eq!(status, 201, "{moved}");
    let new = moved["id"].as_str().unwrap_or_default().to_owned();
    assert_ne!(new, old, "a moved message gets a new id");
    assert_eq!(moved["parentFolderId"], archive_id.as_str());
    assert_eq!(moved["subject"], inbox_items[0]["subject"]);
    let (status, _) = g.get(&format!("/me/messages/{old}")).await?;
    assert_eq!(status, 404);

    let (inbox_changes, _, _) = g.delta_round(&inbox_link, 10).await?;
    assert_eq!(
        inbox_changes,
        [
            json!({"@odata.type": "#microsoft.graph.message", "id": old, "@removed": {"reason": "deleted"}})
        ]
    );
    let (archive_changes, _, _) = g.delta_round(&archive_link, 10).await?;
    assert_eq!(ids(&archive_changes), [new.as_str()]);
    assert!(truth_in(&emu, &archive_id).await?.contains_key(&new));

    // Immutable ids keep the id across a move.
    let (status, _, back) = g
        .send(
            reqwest::Method::POST,
            &format!("/me/messages/{new}/move"),
            &[("Prefer", "IdType=\"ImmutableId\"")],
            Some(json!({"destinationId": "Inbox"})),
        )
        .await?;
    assert_eq!((status, back["id"].as_str()), (201, Some(new.as_str())));
    let (status, _, err) = g
        .send(
            reqwest::Method::POST,
            &format!("/me/messages/{new}/move"),
            &[],
            Some(json!({"destinationId": "AQMkADAwNotAFolderAtAllAAAA"})),
        )
        .await?;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("ErrorItemNotFound"))
    );
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn send_mail_lands_in_sent_items() -> anyhow::Result<()> {
    let emu = start(50).await?;
    let g = Graph::new(&emu).await?;
    let (_, sent) = g.get("/me/mailFolders/sentitems").await?;
    let sent_id = sent["id"].as_str().unwrap_or_default().to_owned();
    let before = truth_in(&emu, &sent_id).await?.len();
    let message = json!({"message": {
        "subject": "Quarterly numbers",
        "body": {"contentType": "HTML", "content": "<p>See the <b>numbers</b>.</p>"},
        "toRecipients": [{"emailAddress": {"address": "fannyd@contoso.example", "name": "Fanny Downs"}}],
        "ccRecipients": [{"emailAddress": {"address": "alex.rivera@contoso.example"}}],
    }, "saveToSentItems": true});
    let (status, _, body) = g
        .send(reqwest::Method::POST, "/me/sendMail", &[], Some(message))
        .await?;
    assert_eq!((status, body), (202, Value::Null));
    assert_eq!(truth_in(&emu, &sent_id).await?.len(), before + 1);
    let (_, list) = g.get("/me/mailFolders/sentitems/messages?$top=1").await?;
    let m = &list["value"][0];
    assert_eq!(m["subject"], "Quarterly numbers");
    assert_eq!(m["body"]["contentType"], "html");
    assert_eq!(m["toRecipients"][0]["emailAddress"]["name"], "Fanny Downs");
    assert_eq!(
        m["from"]["emailAddress"]["address"],
        "alex.rivera@contoso.example"
    );
    assert_eq!(m["isRead"], true);
    // The owner was on Cc: a copy arrives in the inbox, unread.
    let (_, inbox) = g.get("/me/mailFolders/inbox/messages?$top=1").await?;
    assert_eq!(inbox["value"][0]["subject"], "Quarterly numbers");
    assert_eq!(inbox["value"][0]["isRead"], false);

    // MIME, base64 in a text/plain body.
    let mime = "From: Alex Rivera <alex.rivera@contoso.example>\r\nTo: bob@contoso.example\r\nSubject: Sent as MIME\r\n\r\nHello.\r\n";
    let r = client()
        .post(g.url("/me/sendMail"))
        .bearer_auth(&g.token)
        .header("Content-Type", "text/plain")
        .body(base64::engine::general_purpose::STANDARD.encode(mime))
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 202);
    let (_, list) = g.get("/me/mailFolders/sentitems/messages?$top=1").await?;
    assert_eq!(list["value"][0]["subject"], "Sent as MIME");

    let (status, _, err) = g
        .send(
            reqwest::Method::POST,
            "/me/sendMail",
            &[],
            Some(json!({"message": {"subject": "nobody"}})),
        )
        .await?;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("ErrorInvalidRecipients"))
    );
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn batch_dispatches_each_request_and_refuses_more_than_20() -> anyhow::Result<()> {
    let emu = start(60).await?;
    let g = Graph::new(&emu).await?;
    let (_, list) = g
        .get("/me/mailFolders/inbox/messages?$top=1&$select=id")
        .await?;
    let id = list["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let before = control_get(&emu, "stats").await?["requests"]["graph.message"]
        .as_u64()
        .unwrap_or_default();
    let unknown = format!("AAMkAGI2{}", "B".repeat(60));
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/me/mailFolders?$top=1"},
        {"id": "2", "method": "GET", "url": format!("me/messages/{id}?$select=subject")},
        {"id": "3", "method": "PATCH", "url": format!("/me/messages/{id}"),
         "headers": {"Content-Type": "application/json"}, "body": {"isRead": true}},
        {"id": "4", "method": "GET", "url": format!("/me/messages/{unknown}")},
        {"id": "5", "method": "GET", "url": format!("/me/messages/{id}/$value")},
    ]});
    let (status, headers, body) = g
        .send(reqwest::Method::POST, "/$batch", &[], Some(batch))
        .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some(ODATA_JSON)
    );
    let responses = body["responses"].as_array().cloned().unwrap_or_default();
    let by_id: HashMap<&str, &Value> = responses
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or_default(), r))
        .collect();
    assert_eq!(by_id["1"]["status"], 200);
    assert!(by_id["1"]["body"]["@odata.nextLink"].is_string());
    assert_eq!(by_id["2"]["body"]["id"], id.as_str());
    assert_eq!(by_id["3"]["body"]["isRead"], true);
    assert_eq!(by_id["4"]["status"], 404);
    assert_eq!(by_id["4"]["body"]["error"]["code"], "ErrorItemNotFound");
    // Bodies that are not JSON come base64-encoded.
    let mime = base64::engine::general_purpose::STANDARD
        .decode(by_id["5"]["body"].as_str().unwrap_or_default())
        .unwrap_or_default();
    assert!(String::from_utf8_lossy(&mime).contains("Subject:"));
    let after = control_get(&emu, "stats").await?["requests"]["graph.message"]
        .as_u64()
        .unwrap_or_default();
    assert_eq!(after - before, 4, "inner requests count one by one");

    // A failed dependency answers 424.
    let chained = json!({"requests": [
        {"id": "a", "method": "GET", "url": format!("/me/messages/{unknown}")},
        {"id": "b", "method": "GET", "url": "/me", "dependsOn": ["a"]},
    ]});
    let (_, _, body) = g
        .send(reqwest::Method::POST, "/$batch", &[], Some(chained))
        .await?;
    assert_eq!(body["responses"][1]["status"], 424);

    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
        .collect();
    let (status, _, err) = g
        .send(
            reqwest::Method::POST,
            "/$batch",
            &[],
            Some(json!({"requests": many})),
        )
        .await?;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("BadRequest"))
    );

    let Some(data) = shared_data() else {
        return Ok(());
    };
    let real: Value = serde_json::from_str(&std::fs::read_to_string(
        data.join("graph/batch-response.json"),
    )?)?;
    // The real sample's first request is a directory query: compare the
    // envelope and the collection page around its items.
    let mut real_ok = real["responses"][0].clone();
    real_ok["body"]["value"] = json!([]);
    if let Some(h) = real_ok["headers"].as_object_mut() {
        h.remove("x-ms-resource-unit");
    }
    assert_shape(&real_ok, by_id["1"], "batch response");
    let real_err = real["responses"][2].clone();
    let mut ours_err = (*by_id["4"]).clone();
    ours_err["headers"] = json!({"Cache-Control": "no-cache", "Content-Type": "application/json"});
    let mut real_err = real_err;
    if let Some(h) = real_err["headers"].as_object_mut() {
        h.remove("x-ms-resource-unit");
    }
    assert_shape(&real_err, &ours_err, "batch error response");
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn more_than_four_concurrent_requests_are_throttled() -> anyhow::Result<()> {
    let emu = start_with(40, "graph.message:latency,ms=300", false).await?;
    let g = Graph::new(&emu).await?;
    let url = g.url("/me/messages?$top=1&$select=id");
    let calls = (0..8).map(|_| {
        let url = url.clone();
        let token = g.token.clone();
        async move {
            let r = client().get(url).bearer_auth(token).send().await?;
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: Value = r.json().await?;
            anyhow::Ok((status, retry, body))
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let mut ok = 0;
    let mut throttled = 0;
    for r in results {
        let (status, retry, body) = r?;
        match status {
            200 => ok += 1,
            429 => {
                throttled += 1;
                assert!(retry.is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)));
                assert_eq!(body["error"]["code"], "MailboxConcurrency");
            }
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert!(ok >= 4, "{ok} succeeded");
    assert!(throttled >= 1, "{throttled} throttled");
    assert_eq!(ok + throttled, 8);
    let stats = control_get(&emu, "stats").await?;
    assert!(
        stats["statuses"]["graph.message"]["429"]
            .as_u64()
            .unwrap_or_default()
            >= 1
    );
    emu.stop().await;
    Ok(())
}
