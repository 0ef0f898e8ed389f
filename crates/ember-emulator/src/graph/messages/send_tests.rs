//! Sending through Microsoft Graph over loopback HTTP: the size limits of
//! sendMail and attachments, and a reset answer to a draft's send (the mail
//! is sent; the retry is not found).
use serde_json::{json, Value};

use crate::testing::{api, control, mail_truth, send, start_unthrottled, token};
use crate::world::GMAIL_ADDRESS;

const ME: &str = "/v1.0/me";

fn recipients(addresses: &[&str]) -> Value {
    Value::Array(
        addresses
            .iter()
            .map(|a| json!({"emailAddress": {"address": a}}))
            .collect(),
    )
}

#[tokio::test]
async fn sizes_are_limited_as_graph_limits_them() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "graph").await;
    let content = |n: usize| "x".repeat(n);
    // Over axum's 2 MB default, under Graph's 4 MB: accepted.
    let ok = api(
        &emu,
        "POST",
        &format!("{ME}/sendMail"),
        &bearer,
        Some(&json!({"message": {"subject": "Big", "body": {"contentType": "text", "content": content(3_000_000)}, "toRecipients": recipients(&["z@example.com"])}})),
    )
    .await;
    assert_eq!(ok.status, 202, "{}", ok.text);
    let over = api(
        &emu,
        "POST",
        &format!("{ME}/sendMail"),
        &bearer,
        Some(&json!({"message": {"subject": "Too big", "body": {"contentType": "text", "content": content(4_300_000)}, "toRecipients": recipients(&["z@example.com"])}})),
    )
    .await;
    assert_eq!(
        (over.status, over.json["error"]["code"].as_str()),
        (413, Some("ErrorMessageSizeExceeded"))
    );
    let draft = api(
        &emu,
        "POST",
        &format!("{ME}/messages"),
        &bearer,
        Some(&json!({"subject": "Attach", "toRecipients": recipients(&["z@example.com"])})),
    )
    .await;
    let id = draft.json["id"].as_str().unwrap_or_default().to_owned();
    let file = |n: usize| json!({"@odata.type": "#microsoft.graph.fileAttachment", "name": "f.bin", "contentBytes": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![7u8; n])});
    let fits = api(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/attachments"),
        &bearer,
        Some(&file(2_900_000)),
    )
    .await;
    assert_eq!(fits.status, 201);
    let too_big = api(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/attachments"),
        &bearer,
        Some(&file(3 * 1024 * 1024 + 1)),
    )
    .await;
    assert_eq!(
        (too_big.status, too_big.json["error"]["code"].as_str()),
        (400, Some("ErrorMessageSizeExceeded"))
    );
    let sent = send(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/send"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(sent.status, 202);
    let truth = mail_truth(&emu, "graph").await;
    assert_eq!(truth["sent"].as_array().map(Vec::len), Some(2));
    let unknown = api(
        &emu,
        "POST",
        &format!("{ME}/messages"),
        &bearer,
        Some(&json!({"subjekt": "x"})),
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.json["error"]["code"].as_str()),
        (400, Some("RequestBodyRead"))
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_reset_answer_still_sends_and_the_retry_is_not_found() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "graph").await;
    let draft = api(
        &emu,
        "POST",
        &format!("{ME}/messages"),
        &bearer,
        Some(&json!({"subject": "Exactly once", "toRecipients": recipients(&[GMAIL_ADDRESS])})),
    )
    .await;
    let id = draft.json["id"].as_str().unwrap_or_default().to_owned();
    control(&emu, "faults", &json!({"spec": "graph.send:reset"})).await;
    let broken = send(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/send"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    let promised: usize = broken
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(1);
    assert!(
        broken.status == 0 || broken.text.len() < promised,
        "the answer is broken: {broken:?}"
    );
    control(&emu, "faults", &json!({"spec": ""})).await;
    let retry = send(
        &emu,
        "POST",
        &format!("{ME}/messages/{id}/send"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(retry.status, 404);
    let sent = mail_truth(&emu, "graph").await["sent"].clone();
    assert_eq!(sent.as_array().map(Vec::len), Some(1));
    let gmail = mail_truth(&emu, "gmail").await;
    let delivered = gmail["messages"].as_array().map_or(0, Vec::len);
    assert_eq!(delivered, 31, "one copy reached the Gmail inbox");
    emu.stop().await;
}
