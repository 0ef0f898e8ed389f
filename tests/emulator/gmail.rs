//! Gmail behaviour a sync client relies on: paging covers everything once,
//! history reports exactly what changed, batches answer in order.

use std::collections::HashSet;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::support::{client, control, control_get, get_json, start, token};

const API: &str = "gmail/v1/users/me";

async fn all_ids(base: &str, bearer: &str, query: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let url = match &page {
            Some(t) => format!("{base}/{API}/messages?maxResults=37&{query}&pageToken={t}"),
            None => format!("{base}/{API}/messages?maxResults=37&{query}"),
        };
        let (status, body) = get_json(&url, bearer).await?;
        anyhow::ensure!(status == 200, "list failed: {body}");
        for m in body["messages"].as_array().cloned().unwrap_or_default() {
            ids.push(m["id"].as_str().unwrap_or_default().to_owned());
        }
        match body["nextPageToken"].as_str() {
            Some(t) => page = Some(t.to_owned()),
            None => break,
        }
    }
    Ok(ids)
}

fn truth_ids(truth: &Value, label: &str) -> HashSet<String> {
    truth["accounts"][0]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| {
            m["folders"]
                .as_array()
                .is_some_and(|f| f.iter().any(|l| l == label))
        })
        .map(|m| m["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn paging_the_inbox_lists_every_message_once_even_as_mail_arrives() -> anyhow::Result<()> {
    let emu = start(300).await?;
    let base = emu.base_url();
    let bearer = token(&emu, "gmail").await?;
    let truth = control_get(&emu, "truth").await?;
    let expected = truth_ids(&truth, "INBOX");

    // Page once to the middle, then let new mail arrive, then finish.
    let (_, first) = get_json(
        &format!("{base}/{API}/messages?labelIds=INBOX&maxResults=100"),
        &bearer,
    )
    .await?;
    let raw = base64::engine::general_purpose::STANDARD
        .encode(b"From: x@example.com\r\nSubject: new\r\n\r\nhello\r\n");
    control(
        &emu,
        "mail",
        json!({"provider": "gmail", "folder": "INBOX", "raw_base64": raw}),
    )
    .await?;
    let token_mid = first["nextPageToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut ids: Vec<String> = first["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| m["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut page = Some(token_mid);
    while let Some(t) = page.take() {
        let (_, body) = get_json(
            &format!("{base}/{API}/messages?labelIds=INBOX&maxResults=100&pageToken={t}"),
            &bearer,
        )
        .await?;
        ids.extend(
            body["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|m| m["id"].as_str().unwrap_or_default().to_owned()),
        );
        page = body["nextPageToken"].as_str().map(str::to_owned);
    }
    let unique: HashSet<_> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "no id twice");
    assert_eq!(unique, expected, "the pages cover the inbox as it was");

    let fresh = all_ids(&base, &bearer, "labelIds=INBOX").await?;
    assert_eq!(
        fresh.len(),
        expected.len() + 1,
        "the new message is listed first next time"
    );
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn history_reports_exactly_what_changed_and_404s_once_expired() -> anyhow::Result<()> {
    let emu = start(100).await?;
    let base = emu.base_url();
    let bearer = token(&emu, "gmail").await?;
    let (_, profile) = get_json(&format!("{base}/{API}/profile"), &bearer).await?;
    let start_id = profile["historyId"].as_str().unwrap_or_default().to_owned();
    let ids = all_ids(&base, &bearer, "labelIds=INBOX").await?;

    control(&emu, "mutate", json!({"provider": "gmail", "delete": [ids[0]], "mark_read": [ids[1]], "mark_unread": [ids[1]], "move": [{"id": ids[2], "folder": "Label_1"}]})).await?;
    let raw = base64::engine::general_purpose::STANDARD
        .encode(b"From: y@example.com\r\nSubject: s\r\n\r\nb\r\n");
    let added = control(
        &emu,
        "mail",
        json!({"provider": "gmail", "folder": "INBOX", "raw_base64": raw}),
    )
    .await?;

    let (status, history) = get_json(
        &format!("{base}/{API}/history?startHistoryId={start_id}"),
        &bearer,
    )
    .await?;
    assert_eq!(status, 200, "{history}");
    let records = history["history"].as_array().cloned().unwrap_or_default();
    let has = |key: &str, id: &str| {
        records.iter().any(|r| {
            r[key]
                .as_array()
                .is_some_and(|a| a.iter().any(|e| e["message"]["id"] == id))
        })
    };
    assert!(has("messagesDeleted", &ids[0]));
    assert!(
        has("labelsRemoved", &ids[1]) || has("labelsAdded", &ids[1]),
        "read state changes are label changes"
    );
    assert!(
        has("labelsAdded", &ids[2]) && has("labelsRemoved", &ids[2]),
        "a move adds one label and removes INBOX"
    );
    assert!(has(
        "messagesAdded",
        added["id"].as_str().unwrap_or_default()
    ));
    let new_id: u64 = history["historyId"].as_str().unwrap_or_default().parse()?;
    assert!(new_id > start_id.parse::<u64>()?);

    // Only one kind.
    let (_, only_added) = get_json(
        &format!("{base}/{API}/history?startHistoryId={start_id}&historyTypes=messageAdded"),
        &bearer,
    )
    .await?;
    assert!(only_added["history"]
        .as_array()
        .is_some_and(|r| r.iter().all(|h| h.get("messagesDeleted").is_none())));

    control(&emu, "expire", json!({"provider": "gmail"})).await?;
    let (status, body) = get_json(
        &format!("{base}/{API}/history?startHistoryId={start_id}"),
        &bearer,
    )
    .await?;
    assert_eq!(
        status, 404,
        "an expired history id means: do a full sync ({body})"
    );
    assert_eq!(body["error"]["code"], 404);
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_batch_answers_each_part_in_order_and_counts_each_request() -> anyhow::Result<()> {
    let emu = start(60).await?;
    let base = emu.base_url();
    let bearer = token(&emu, "gmail").await?;
    let ids = all_ids(&base, &bearer, "").await?;
    let mut body = String::new();
    for (i, id) in ids.iter().take(3).enumerate() {
        body.push_str(&format!("--batch_x\r\nContent-Type: application/http\r\nContent-ID: <item{i}>\r\n\r\nGET /{API}/messages/{id}?format=minimal HTTP/1.1\r\n\r\n"));
    }
    body.push_str("--batch_x\r\nContent-Type: application/http\r\nContent-ID: <missing>\r\n\r\nGET /gmail/v1/users/me/messages/ffffffffffffffff HTTP/1.1\r\n\r\n--batch_x--\r\n");
    let r = client()
        .post(format!("{base}/batch/gmail/v1"))
        .bearer_auth(&bearer)
        .header("Content-Type", "multipart/mixed; boundary=batch_x")
        .body(body)
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ct.starts_with("multipart/mixed; boundary="), "{ct}");
    let text = r.text().await?;
    let positions: Vec<usize> = (0..3)
        .map(|i| {
            text.find(&format!("Content-ID: <response-item{i}>"))
                .unwrap_or(usize::MAX)
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]) && positions[2] != usize::MAX,
        "parts in order: {positions:?}"
    );
    for id in ids.iter().take(3) {
        assert!(text.contains(id.as_str()), "answer for {id}");
    }
    assert!(
        text.contains("HTTP/1.1 404 Not Found"),
        "each part has its own status"
    );
    let stats = control_get(&emu, "stats").await?;
    assert!(
        stats["requests"]["gmail.messages.get"].as_u64() >= Some(4),
        "{stats}"
    );
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn sent_mail_lands_in_sent_and_attachments_come_back_whole() -> anyhow::Result<()> {
    let emu = start(120).await?;
    let base = emu.base_url();
    let bearer = token(&emu, "gmail").await?;
    let raw = ember_emulator::gmail::payload::b64url(b"From: alex.rivera@gmail.example\r\nTo: z@example.com\r\nSubject: Sent from Ember\r\n\r\nHi\r\n");
    let r = client()
        .post(format!("{base}/{API}/messages/send"))
        .bearer_auth(&bearer)
        .json(&json!({"raw": raw}))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let sent: Value = r.json().await?;
    assert_eq!(sent["labelIds"], json!(["SENT"]));
    let ids = all_ids(&base, &bearer, "labelIds=SENT").await?;
    assert_eq!(ids.first(), sent["id"].as_str().map(str::to_owned).as_ref());

    let bad = client()
        .post(format!("{base}/{API}/messages/send"))
        .bearer_auth(&bearer)
        .json(&json!({"raw": "!!!"}))
        .send()
        .await?;
    assert_eq!(bad.status(), 400, "garbage is refused");

    // Find a message with an attachment and fetch it.
    let mut checked = false;
    for id in all_ids(&base, &bearer, "").await? {
        let (_, full) = get_json(&format!("{base}/{API}/messages/{id}"), &bearer).await?;
        let parts = full["payload"]["parts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(att) = parts.iter().find(|p| p["body"]["attachmentId"].is_string()) {
            let aid = att["body"]["attachmentId"].as_str().unwrap_or_default();
            let (status, body) = get_json(
                &format!("{base}/{API}/messages/{id}/attachments/{aid}"),
                &bearer,
            )
            .await?;
            assert_eq!(status, 200);
            let data = ember_emulator::gmail::payload::b64_decode_lenient(
                body["data"].as_str().unwrap_or_default(),
            )
            .unwrap_or_default();
            assert_eq!(Some(data.len() as u64), att["body"]["size"].as_u64());
            assert!(data.starts_with(b"%PDF"), "the attachment's bytes, decoded");
            checked = true;
            break;
        }
    }
    assert!(checked, "some message carries an attachment");
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn newer_than_limits_the_list_to_the_window() -> anyhow::Result<()> {
    let emu = start(400).await?;
    let base = emu.base_url();
    let bearer = token(&emu, "gmail").await?;
    let everything = all_ids(&base, &bearer, "q=in:anywhere").await?;
    let recent = all_ids(&base, &bearer, "q=newer_than:30d%20in:anywhere").await?;
    assert!(
        !recent.is_empty() && recent.len() < everything.len(),
        "{} of {}",
        recent.len(),
        everything.len()
    );
    assert_eq!(
        recent[..],
        everything[..recent.len()],
        "the window is the newest part of the list"
    );
    let (status, _) = get_json(&format!("{base}/{API}/messages?q=has:drive"), &bearer).await?;
    assert_eq!(status, 400, "an unsupported search is refused, not ignored");
    emu.stop().await;
    Ok(())
}
