//! Graph drafts over loopback HTTP: created, edited, given attachments and
//! sent exactly once, with delivery to the Gmail mailbox; replies and
//! forwards drafted from the original.
use serde_json::{json, Value};

use crate::testing::{api, mail_truth, send, start_unthrottled, token};
use crate::world::{GMAIL_ADDRESS, GRAPH_ADDRESS};

const ME: &str = "/v1.0/me";

fn recipients(addresses: &[&str]) -> Value {
    Value::Array(
        addresses
            .iter()
            .map(|a| json!({"emailAddress": {"address": a}}))
            .collect(),
    )
}

async fn folder_id(emu: &crate::Emulator, bearer: &str, name: &str) -> String {
    api(
        emu,
        "GET",
        &format!("{ME}/mailFolders/{name}"),
        bearer,
        None,
    )
    .await
    .json["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_draft_is_written_edited_attached_and_sent_once() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "graph").await;
    let drafts = folder_id(&emu, &bearer, "drafts").await;
    let created = api(
        &emu,
        "POST",
        &format!("{ME}/messages"),
        &bearer,
        Some(&json!({
            "@odata.type": "#microsoft.graph.message",
            "subject": "Quarterly plan",
            "body": {"contentType": "HTML", "content": "<p>Draft <b>one</b></p>"},
            "toRecipients": recipients(&[GMAIL_ADDRESS]),
            "ccRecipients": recipients(&["cy@example.com"]),
            "bccRecipients": recipients(&["eve@example.com"]),
            "importance": "high",
            "internetMessageHeaders": [{"name": "x-ember-outbox", "value": "42"}],
        })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let d = &created.json;
    assert_eq!(
        (d["isDraft"].as_bool(), d["isRead"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(d["parentFolderId"], drafts.as_str());
    assert_eq!(
        (d["subject"].as_str(), d["importance"].as_str()),
        (Some("Quarterly plan"), Some("high"))
    );
    assert_eq!(d["body"]["contentType"], "html");
    assert!(
        d.get("from").is_none() && d.get("sender").is_none(),
        "a new draft has no sender"
    );
    assert!(d["@odata.context"]
        .as_str()
        .is_some_and(|c| c.ends_with("/messages/$entity")));
    let id = d["id"].as_str().unwrap_or_default().to_owned();
    let message_id = d["internetMessageId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let patched = api(
        &emu,
        "PATCH",
        &format!("{ME}/messages/{id}"),
        &bearer,
        Some(&json!({"subject": "Quarterly plan v2", "isRead": true})),
    )
    .await;
    assert_eq!(
        (patched.status, patched.json["subject"].as_str()),
        (200, Some("Quarterly plan v2")),
        "{}",
        patched.text
    );
    assert_eq!(patched.json["id"], id.as_str(), "a PATCH keeps the id");
    assert_eq!(
        patched.json["ccRecipients"][0]["emailAddress"]["address"],
        "cy@example.com"
    );
    let inbox = api(
        &emu,
        "GET",
        &format!("{ME}/mailFolders/inbox/messages?$top=1&$select=id"),
        &bearer,
        None,
    )
    .await;
    let received = inbox.json["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refused = api(
        &emu,
        "PATCH",
        &format!("{ME}/messages/{received}"),
        &bearer,
        Some(&json!({"subject": "x"})),
    )
    .await;
    assert_eq!(
        (refused.status, refused.json["error"]["code"].as_str()),
        (400, Some("ErrorInvalidPropertyUpdateSentMessage"))
    );

    let attached = api(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/attachments"),
        &bearer,
        Some(&json!({"@odata.type": "#microsoft.graph.fileAttachment", "name": "plan.txt", "contentType": "text/plain", "contentBytes": "SGVsbG8gV29ybGQh"})),
    )
    .await;
    assert_eq!(attached.status, 201, "{}", attached.text);
    assert_eq!(
        (
            attached.json["name"].as_str(),
            attached.json["size"].as_u64()
        ),
        (Some("plan.txt"), Some(12))
    );
    assert_eq!(attached.json["contentBytes"], "SGVsbG8gV29ybGQh");
    let listed = api(
        &emu,
        "GET",
        &format!("{ME}/messages/{id}/attachments"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(listed.json["value"][0]["id"], attached.json["id"]);
    let draft = api(&emu, "GET", &format!("{ME}/messages/{id}"), &bearer, None).await;
    assert_eq!(draft.json["hasAttachments"], true);
    assert_eq!(
        draft.json["internetMessageId"],
        message_id.as_str(),
        "edits keep the Message-ID"
    );
    let on_received = api(
        &emu,
        "POST",
        &format!("{ME}/messages/{received}/attachments"),
        &bearer,
        Some(&json!({"@odata.type": "#microsoft.graph.fileAttachment", "name": "a", "contentBytes": "AA=="})),
    )
    .await;
    assert_eq!(on_received.status, 400);

    let truth = mail_truth(&emu, "graph").await;
    assert_eq!(truth["drafts"][0]["id"], id.as_str());
    assert_eq!(truth["drafts"][0]["subject"], "Quarterly plan v2");
    assert_eq!(truth["drafts"][0]["to"], json!([GMAIL_ADDRESS]));

    let sent = send(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/send"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!((sent.status, sent.text.as_str()), (202, ""));
    let again = send(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/send"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(
        (again.status, again.json["error"]["code"].as_str()),
        (404, Some("ErrorItemNotFound"))
    );
    let not_draft = send(
        &emu,
        "POST",
        &format!("{ME}/messages/{received}/send"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(
        (not_draft.status, not_draft.json["error"]["code"].as_str()),
        (400, Some("ErrorInvalidOperation"))
    );

    let truth = mail_truth(&emu, "graph").await;
    assert_eq!(truth["drafts"], json!([]));
    let sent_list = truth["sent"].as_array().cloned().unwrap_or_default();
    assert_eq!(sent_list.len(), 1);
    assert_eq!(sent_list[0]["message_id_header"], message_id.as_str());
    assert_eq!(sent_list[0]["bcc"], json!(["eve@example.com"]));
    let item = api(
        &emu,
        "GET",
        &format!("{ME}/mailFolders/sentitems/messages?$top=1"),
        &bearer,
        None,
    )
    .await;
    let m = &item.json["value"][0];
    assert_eq!(
        (
            m["subject"].as_str(),
            m["isDraft"].as_bool(),
            m["hasAttachments"].as_bool()
        ),
        (Some("Quarterly plan v2"), Some(false), Some(true))
    );
    assert_eq!(m["from"]["emailAddress"]["address"], GRAPH_ADDRESS);
    assert_eq!(m["conversationId"], d["conversationId"]);

    // The Gmail mailbox received it, with the headers and the attachment.
    let gmail = token(&emu, "gmail").await;
    let list = api(
        &emu,
        "GET",
        "/gmail/v1/users/me/messages?maxResults=1",
        &gmail,
        None,
    )
    .await;
    let gid = list.json["messages"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let got = api(
        &emu,
        "GET",
        &format!("/gmail/v1/users/me/messages/{gid}?format=metadata"),
        &gmail,
        None,
    )
    .await;
    assert_eq!(
        got.json["labelIds"],
        json!(["INBOX", "CATEGORY_PERSONAL", "UNREAD"])
    );
    let headers = got.json["payload"]["headers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let header = |n: &str| {
        headers
            .iter()
            .find(|h| h["name"] == n)
            .map(|h| h["value"].clone())
    };
    assert_eq!(header("Message-ID"), Some(json!(message_id)));
    assert_eq!(
        header("X-ember-outbox").or_else(|| header("x-ember-outbox")),
        Some(json!("42"))
    );
    assert_eq!(header("Bcc"), None);
    let full = api(
        &emu,
        "GET",
        &format!("/gmail/v1/users/me/messages/{gid}"),
        &gmail,
        None,
    )
    .await;
    assert!(full.json["payload"]["parts"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p["filename"] == "plan.txt")));
    emu.stop().await;
}

#[tokio::test]
async fn replies_and_forwards_are_drafted_from_the_original() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "graph").await;
    let inbox = api(
        &emu,
        "GET",
        &format!("{ME}/mailFolders/inbox/messages?$top=1"),
        &bearer,
        None,
    )
    .await;
    let original = inbox.json["value"][0].clone();
    let id = original["id"].as_str().unwrap_or_default().to_owned();

    let reply = api(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/createReply"),
        &bearer,
        Some(&json!({"comment": "Thanks & see you"})),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let r = &reply.json;
    assert_eq!(r["isDraft"], true);
    assert_eq!(r["conversationId"], original["conversationId"]);
    let subject = original["subject"].as_str().unwrap_or_default();
    let expected = if subject.to_ascii_lowercase().starts_with("re:") {
        subject.to_owned()
    } else {
        format!("RE: {subject}")
    };
    assert_eq!(r["subject"], expected.as_str());
    assert_eq!(
        r["toRecipients"][0]["emailAddress"]["address"],
        original["from"]["emailAddress"]["address"]
    );
    assert_eq!(r["from"]["emailAddress"]["address"], GRAPH_ADDRESS);
    let body = r["body"]["content"].as_str().unwrap_or_default();
    assert!(
        body.contains("Thanks &amp; see you") && body.contains("divRplyFwdMsg"),
        "{body}"
    );
    assert_eq!(r["body"]["contentType"], "html");

    let all = api(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/createReplyAll"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(all.status, 201, "{}", all.text);
    let everyone: Vec<&str> = all.json["toRecipients"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(all.json["ccRecipients"].as_array().into_iter().flatten())
        .filter_map(|r| r["emailAddress"]["address"].as_str())
        .collect();
    assert!(
        !everyone.contains(&GRAPH_ADDRESS),
        "reply all leaves the owner out: {everyone:?}"
    );

    let forward = api(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/createForward"),
        &bearer,
        Some(&json!({"comment": "FYI", "toRecipients": recipients(&[GMAIL_ADDRESS])})),
    )
    .await;
    assert_eq!(forward.status, 201, "{}", forward.text);
    assert!(forward.json["subject"]
        .as_str()
        .is_some_and(|s| s.starts_with("FW: ")));
    assert_eq!(
        forward.json["toRecipients"],
        json!([{"emailAddress": {"name": GMAIL_ADDRESS, "address": GMAIL_ADDRESS}}])
    );

    let reply_id = r["id"].as_str().unwrap_or_default().to_owned();
    let sent = send(
        &emu,
        "POST",
        &format!("{ME}/messages/{reply_id}/send"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(sent.status, 202);
    let truth = mail_truth(&emu, "graph").await;
    let sent_list = truth["sent"].as_array().cloned().unwrap_or_default();
    assert_eq!(sent_list.len(), 1);
    assert_eq!(sent_list[0]["in_reply_to"], original["internetMessageId"]);
    assert_eq!(
        sent_list[0]["thread_id"], original["conversationId"],
        "the reply stays in the conversation"
    );
    assert_eq!(truth["drafts"].as_array().map(Vec::len), Some(2));
    let missing = api(
        &emu,
        "POST",
        &format!("{ME}/messages/AAMkAGI2{}/createReply", "Q".repeat(40)),
        &bearer,
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
    emu.stop().await;
}
