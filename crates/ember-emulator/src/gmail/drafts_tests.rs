//! Gmail drafts over loopback HTTP: created (JSON and upload), listed,
//! fetched in every format, updated, deleted, and sent exactly once, with
//! what history shows and where the mail arrives.
use serde_json::{json, Value};

use super::payload::{b64_decode_lenient, b64url};
use crate::testing::{api, mail_truth, send, start_unthrottled, token};
use crate::world::GRAPH_ADDRESS;

const API: &str = "/gmail/v1/users/me";

fn raw(headers: &str, body: &str) -> String {
    b64url(format!("{headers}\r\n\r\n{body}\r\n").as_bytes())
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect()
}

async fn history_since(emu: &crate::Emulator, bearer: &str, start: &str) -> Value {
    api(
        emu,
        "GET",
        &format!("{API}/history?startHistoryId={start}"),
        bearer,
        None,
    )
    .await
    .json
}

#[tokio::test]
async fn drafts_are_created_listed_fetched_updated_and_deleted() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    let start = api(&emu, "GET", &format!("{API}/profile"), &bearer, None)
        .await
        .json["historyId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let created = api(
        &emu,
        "POST",
        &format!("{API}/drafts"),
        &bearer,
        Some(&json!({"message": {"raw": raw("From: someone@example.com\r\nTo: bob@example.com\r\nSubject: Draft one", "Hello")}})),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let draft = created.json["id"].as_str().unwrap_or_default().to_owned();
    assert!(
        draft.starts_with('r') && draft[1..].trim_start_matches('-').parse::<i64>().is_ok(),
        "{draft}"
    );
    assert_eq!(created.json["message"]["labelIds"], json!(["DRAFT"]));
    let first = created.json["message"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(created.json["message"]["threadId"], first.as_str());

    let truth = mail_truth(&emu, "gmail").await;
    assert_eq!(
        truth["drafts"],
        json!([{"id": draft, "message_id": first, "subject": "Draft one", "to": ["bob@example.com"], "thread_id": first}])
    );
    assert_eq!(truth["sent"], json!([]));

    let got = api(
        &emu,
        "GET",
        &format!("{API}/drafts/{draft}?format=raw"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(got.json["id"], draft.as_str());
    let bytes = b64_decode_lenient(got.json["message"]["raw"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("Received: from "), "{text}");
    assert!(
        text.contains("From: Alex Rivera <alex.rivera@gmail.example>"),
        "Gmail sends as the account"
    );
    assert!(!text.contains("someone@example.com"));
    assert!(text.contains("\r\nDate: ") && text.contains("\r\nMessage-Id: <CA"));
    let full = api(&emu, "GET", &format!("{API}/drafts/{draft}"), &bearer, None).await;
    assert_eq!(full.json["message"]["snippet"], "Hello");
    assert!(full.json["message"]["payload"]["headers"]
        .as_array()
        .is_some_and(|h| h.contains(&json!({"name": "Subject", "value": "Draft one"}))));
    let minimal = api(
        &emu,
        "GET",
        &format!("{API}/drafts/{draft}?format=minimal"),
        &bearer,
        None,
    )
    .await;
    assert!(
        minimal.json["message"].get("raw").is_none()
            && minimal.json["message"]["payload"] == json!({"partId": ""})
    );

    let listed = api(
        &emu,
        "GET",
        &format!("{API}/messages?labelIds=DRAFT"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(
        ids(&listed.json, "messages"),
        [first.as_str()],
        "drafts are messages too"
    );

    // An update keeps the draft id and replaces its message.
    let updated = api(
        &emu,
        "PUT",
        &format!("{API}/drafts/{draft}"),
        &bearer,
        Some(&json!({"id": draft, "message": {"raw": raw("To: bob@example.com\r\nSubject: Draft two", "Hello again")}})),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.json["id"], draft.as_str());
    let second = updated.json["message"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_ne!(second, first);
    let old = api(
        &emu,
        "GET",
        &format!("{API}/messages/{first}"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(old.status, 404);
    let history = history_since(&emu, &bearer, &start).await;
    let records = history["history"].as_array().cloned().unwrap_or_default();
    assert_eq!(records.len(), 3, "{history}");
    assert_eq!(
        records[0]["messagesAdded"][0]["message"]["labelIds"],
        json!(["DRAFT"])
    );
    assert_eq!(
        records[1]["messagesDeleted"][0]["message"]["id"],
        first.as_str()
    );
    assert_eq!(
        records[2]["messagesAdded"][0]["message"]["id"],
        second.as_str()
    );

    // The upload form, then a list, newest first, paged.
    let uploaded = send(
        &emu,
        "POST",
        "/upload/gmail/v1/users/me/drafts?uploadType=media",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "message/rfc822"),
        ],
        Some("To: cy@example.com\r\nSubject: Uploaded\r\n\r\nUp.\r\n"),
    )
    .await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text);
    let third = uploaded.json["id"].as_str().unwrap_or_default().to_owned();
    let page = api(
        &emu,
        "GET",
        &format!("{API}/drafts?maxResults=1"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(ids(&page.json, "drafts"), [third.as_str()]);
    assert_eq!(page.json["resultSizeEstimate"], 2);
    assert!(page.json["drafts"][0]["message"].get("labelIds").is_none());
    let token_ = page.json["nextPageToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let rest = api(
        &emu,
        "GET",
        &format!("{API}/drafts?maxResults=1&pageToken={token_}"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(ids(&rest.json, "drafts"), [draft.as_str()]);
    assert!(rest.json.get("nextPageToken").is_none());
    let q = api(
        &emu,
        "GET",
        &format!("{API}/drafts?q=in:drafts"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(q.json["resultSizeEstimate"], 2);

    let deleted = api(
        &emu,
        "DELETE",
        &format!("{API}/drafts/{draft}"),
        &bearer,
        None,
    )
    .await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    for (method, path) in [
        ("GET", format!("{API}/drafts/{draft}")),
        ("DELETE", format!("{API}/drafts/{draft}")),
    ] {
        let gone = api(&emu, method, &path, &bearer, None).await;
        assert_eq!(
            (gone.status, gone.json["error"]["status"].as_str()),
            (404, Some("NOT_FOUND"))
        );
    }
    let missing = api(
        &emu,
        "PUT",
        &format!("{API}/drafts/{draft}"),
        &bearer,
        Some(&json!({"message": {"raw": raw("Subject: x", "y")}})),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        mail_truth(&emu, "gmail").await["drafts"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_draft_is_sent_once_and_reaches_the_microsoft_mailbox() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    let graph_before = mail_truth(&emu, "graph").await["messages"]
        .as_array()
        .map_or(0, Vec::len);
    let headers = format!(
        "To: {GRAPH_ADDRESS}, z@example.com\r\nBcc: secret@example.com\r\nSubject: Once only\r\nMessage-ID: <once@ember.example>"
    );
    let created = api(
        &emu,
        "POST",
        &format!("{API}/drafts"),
        &bearer,
        Some(&json!({"message": {"raw": raw(&headers, "Only once.")}})),
    )
    .await;
    let draft = created.json["id"].as_str().unwrap_or_default().to_owned();
    let thread = created.json["message"]["threadId"].clone();
    let draft_message = created.json["message"]["id"].clone();
    let start = api(&emu, "GET", &format!("{API}/profile"), &bearer, None)
        .await
        .json["historyId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let sent = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({"id": draft})),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(sent.json["labelIds"], json!(["SENT"]));
    assert_eq!(
        sent.json["threadId"], thread,
        "the sent message stays in the draft's thread"
    );
    let again = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({"id": draft})),
    )
    .await;
    assert_eq!(
        (again.status, again.json["error"]["message"].as_str()),
        (404, Some("Requested entity was not found."))
    );

    let history = history_since(&emu, &bearer, &start).await;
    assert_eq!(
        history["history"][0]["messagesDeleted"][0]["message"]["id"],
        draft_message
    );
    assert_eq!(
        history["history"][1]["messagesAdded"][0]["message"]["labelIds"],
        json!(["SENT"])
    );
    let truth = mail_truth(&emu, "gmail").await;
    assert_eq!(truth["drafts"], json!([]));
    let sent_list = truth["sent"].as_array().cloned().unwrap_or_default();
    assert_eq!(sent_list.len(), 1);
    assert_eq!(sent_list[0]["message_id_header"], "<once@ember.example>");
    assert_eq!(sent_list[0]["to"], json!([GRAPH_ADDRESS, "z@example.com"]));
    assert_eq!(sent_list[0]["bcc"], json!(["secret@example.com"]));
    assert_eq!(sent_list[0]["id"], sent.json["id"]);

    // The Microsoft 365 mailbox received it, unread, Bcc left out.
    let graph = mail_truth(&emu, "graph").await;
    assert_eq!(
        graph["messages"].as_array().map_or(0, Vec::len),
        graph_before + 1
    );
    let graph_bearer = token(&emu, "graph").await;
    let inbox = api(&emu, "GET", "/v1.0/me/mailFolders/inbox/messages?$top=1&$select=subject,isRead,internetMessageId,bccRecipients,internetMessageHeaders", &graph_bearer, None).await;
    let m = &inbox.json["value"][0];
    assert_eq!(
        (m["subject"].as_str(), m["isRead"].as_bool()),
        (Some("Once only"), Some(false))
    );
    assert_eq!(m["internetMessageId"], "<once@ember.example>");
    assert_eq!(m["bccRecipients"], json!([]));
    emu.stop().await;
}

#[tokio::test]
async fn a_draft_is_rewritten_by_upload_and_by_the_send_itself() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    let created = api(
        &emu,
        "POST",
        &format!("{API}/drafts"),
        &bearer,
        Some(&json!({"message": {"raw": raw("To: z@example.com\r\nSubject: v1", "one")}})),
    )
    .await;
    let draft = created.json["id"].as_str().unwrap_or_default().to_owned();
    let body = format!(
        "--up\r\nContent-Type: application/json\r\n\r\n{{\"id\": \"{draft}\"}}\r\n--up\r\n\
Content-Type: message/rfc822\r\n\r\nTo: z@example.com\r\nSubject: v2\r\n\r\ntwo\r\n--up--\r\n"
    );
    let put = send(
        &emu,
        "PUT",
        &format!("/upload/gmail/v1/users/me/drafts/{draft}?uploadType=multipart"),
        &[
            ("Authorization", &bearer),
            ("Content-Type", "multipart/related; boundary=up"),
        ],
        Some(&body),
    )
    .await;
    assert_eq!(
        (put.status, put.json["id"].as_str()),
        (200, Some(draft.as_str())),
        "{}",
        put.text
    );
    assert_eq!(
        mail_truth(&emu, "gmail").await["drafts"][0]["subject"],
        "v2"
    );

    // drafts.send with a message: the draft is rewritten, then sent.
    let sent = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({"id": draft, "message": {"raw": raw("To: z@example.com\r\nSubject: v3", "three")}})),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let truth = mail_truth(&emu, "gmail").await;
    assert_eq!(truth["drafts"], json!([]));
    assert_eq!(truth["sent"][0]["subject"], "v3");
    let missing = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({})),
    )
    .await;
    assert_eq!(missing.status, 400);
    let empty = api(
        &emu,
        "POST",
        &format!("{API}/drafts"),
        &bearer,
        Some(&json!({"message": {"raw": raw("Subject: nobody", ".")}})),
    )
    .await;
    let nobody = empty.json["id"].as_str().unwrap_or_default().to_owned();
    let refused = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({"id": nobody})),
    )
    .await;
    assert_eq!(
        (refused.status, refused.json["error"]["message"].as_str()),
        (400, Some("Recipient address required"))
    );
    assert_eq!(
        mail_truth(&emu, "gmail").await["drafts"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "a refused send keeps the draft"
    );
    emu.stop().await;
}
