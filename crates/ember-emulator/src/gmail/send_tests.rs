//! Gmail's messages.send over loopback HTTP: its threading rule, the
//! upload forms, delivery to the Microsoft 365 mailbox, the size limits, and
//! faults on the sending endpoints (reset and truncate still send).
use serde_json::json;

use super::payload::b64url;
use crate::testing::{api, control, mail_truth, send, start_unthrottled, token};
use crate::world::{GMAIL_ADDRESS, GRAPH_ADDRESS};

const API: &str = "/gmail/v1/users/me";

fn raw(headers: &str, body: &str) -> String {
    b64url(format!("{headers}\r\n\r\n{body}\r\n").as_bytes())
}

#[tokio::test]
async fn messages_send_threads_only_real_replies() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    let post = |headers: String, thread: Option<String>| {
        let mut body = json!({"raw": raw(&headers, "Text.")});
        if let Some(t) = thread {
            body["threadId"] = json!(t);
        }
        let emu = &emu;
        let bearer = bearer.clone();
        async move {
            api(
                emu,
                "POST",
                &format!("{API}/messages/send"),
                &bearer,
                Some(&body),
            )
            .await
        }
    };
    let first = post(
        format!("To: {GRAPH_ADDRESS}\r\nSubject: Lunch\r\nMessage-ID: <l1@ember.example>"),
        None,
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let thread = first.json["threadId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        first.json["id"].as_str(),
        Some(thread.as_str()),
        "a new thread"
    );

    let reply = post(
        format!("To: {GRAPH_ADDRESS}\r\nSubject: Re: Lunch\r\nIn-Reply-To: <l1@ember.example>\r\nReferences: <l1@ember.example>\r\nMessage-ID: <l2@ember.example>"),
        Some(thread.clone()),
    )
    .await;
    assert_eq!(
        reply.json["threadId"].as_str(),
        Some(thread.as_str()),
        "a reply joins it"
    );
    let unrelated = post(
        format!("To: {GRAPH_ADDRESS}\r\nSubject: Taxes"),
        Some(thread.clone()),
    )
    .await;
    assert_ne!(
        unrelated.json["threadId"].as_str(),
        Some(thread.as_str()),
        "unrelated mail is not threaded"
    );
    let wrong_subject = post(
        format!("To: {GRAPH_ADDRESS}\r\nSubject: Dinner\r\nIn-Reply-To: <l1@ember.example>"),
        Some(thread.clone()),
    )
    .await;
    assert_ne!(
        wrong_subject.json["threadId"].as_str(),
        Some(thread.as_str())
    );

    // The Microsoft 365 copies are one conversation too.
    let graph_bearer = token(&emu, "graph").await;
    let inbox = api(
        &emu,
        "GET",
        "/v1.0/me/mailFolders/inbox/messages?$top=4&$select=subject,conversationId",
        &graph_bearer,
        None,
    )
    .await;
    let by_subject = |s: &str| {
        inbox.json["value"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["subject"] == s)
            .map(|m| m["conversationId"].clone())
    };
    assert_eq!(by_subject("Lunch"), by_subject("Re: Lunch"));
    assert_ne!(by_subject("Lunch"), by_subject("Dinner"));

    // The multipart upload form, with the thread in its metadata.
    let body = format!(
        "--b1\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{\"threadId\": \"{thread}\"}}\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\n\
To: z@example.com\r\nSubject: RE: Lunch\r\nIn-Reply-To: <l2@ember.example>\r\n\r\nUploaded.\r\n--b1--\r\n"
    );
    let uploaded = send(
        &emu,
        "POST",
        "/upload/gmail/v1/users/me/messages/send?uploadType=multipart",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "multipart/related; boundary=b1"),
        ],
        Some(&body),
    )
    .await;
    assert_eq!(
        (uploaded.status, uploaded.json["threadId"].as_str()),
        (200, Some(thread.as_str())),
        "{}",
        uploaded.text
    );

    // To oneself: one message, in SENT and INBOX, unread.
    let own = post(
        format!("To: {GMAIL_ADDRESS}\r\nSubject: Note to self"),
        None,
    )
    .await;
    assert_eq!(own.json["labelIds"], json!(["SENT", "INBOX", "UNREAD"]));
    let nobody = post("Subject: Nobody".into(), None).await;
    assert_eq!(
        (nobody.status, nobody.json["error"]["message"].as_str()),
        (400, Some("Recipient address required"))
    );
    assert_eq!(
        mail_truth(&emu, "gmail").await["sent"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    emu.stop().await;
}

#[tokio::test]
async fn sizes_are_limited_as_gmail_limits_them() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    // Over axum's default 2 MB body: accepted.
    let big = "x".repeat(3 * 1024 * 1024);
    let ok = api(
        &emu,
        "POST",
        &format!("{API}/messages/send"),
        &bearer,
        Some(&json!({"raw": raw("To: z@example.com\r\nSubject: Big", &big)})),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", &ok.text[..ok.text.len().min(300)]);
    let attachment = |size: usize| {
        format!(
            "To: z@example.com\r\nSubject: Attached\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n\
--zz\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--zz\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"big.bin\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n--zz--\r\n",
            "a".repeat(size)
        )
    };
    let upload = |body: String| {
        let emu = &emu;
        let bearer = bearer.clone();
        async move {
            send(
                emu,
                "POST",
                "/upload/gmail/v1/users/me/messages/send?uploadType=media",
                &[
                    ("Authorization", &bearer),
                    ("Content-Type", "message/rfc822"),
                ],
                Some(&body),
            )
            .await
        }
    };
    let fine = upload(attachment(24 * 1024 * 1024)).await;
    assert_eq!(fine.status, 200, "{}", fine.text);
    let over = upload(attachment(25 * 1024 * 1024 + 1)).await;
    assert_eq!(
        (
            over.status,
            over.json["error"]["errors"][0]["reason"].as_str()
        ),
        (400, Some("failedPrecondition"))
    );
    let huge = upload(attachment(36 * 1024 * 1024)).await;
    assert_eq!(
        (huge.status, huge.json["error"]["code"].as_u64()),
        (413, Some(413))
    );
    assert_eq!(
        mail_truth(&emu, "gmail").await["sent"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // The control API injects mail up to 40 MB.
    let forty = attachment(40 * 1024 * 1024 - attachment(0).len());
    assert_eq!(forty.len(), 40 * 1024 * 1024);
    let injected = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, forty);
    let r = control(
        &emu,
        "mail",
        &json!({"provider": "gmail", "folder": "INBOX", "raw_base64": injected}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    emu.stop().await;
}

#[tokio::test]
async fn faults_hit_the_new_endpoints_and_reset_still_sends() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    let create = |subject: &str| json!({"message": {"raw": raw(&format!("To: z@example.com\r\nSubject: {subject}"), ".")}});
    let draft = api(
        &emu,
        "POST",
        &format!("{API}/drafts"),
        &bearer,
        Some(&create("Faulty")),
    )
    .await
    .json["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    control(
        &emu,
        "faults",
        &json!({"spec": "gmail.send:500;gmail.drafts:503"}),
    )
    .await;
    let refused = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({"id": draft})),
    )
    .await;
    assert_eq!(refused.status, 500);
    let direct = api(
        &emu,
        "POST",
        &format!("{API}/messages/send"),
        &bearer,
        Some(&create("Direct")["message"]),
    )
    .await;
    assert_eq!(direct.status, 500);
    let listed = api(&emu, "GET", &format!("{API}/drafts"), &bearer, None).await;
    assert_eq!(listed.status, 503);
    assert_eq!(
        mail_truth(&emu, "gmail").await["sent"],
        json!([]),
        "a replaced answer sends nothing"
    );

    // A truncated answer: the draft WAS sent; sending it again is not found.
    control(
        &emu,
        "faults",
        &json!({"spec": "gmail.drafts.send:truncate"}),
    )
    .await;
    let cut = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({"id": draft})),
    )
    .await;
    assert_eq!(cut.status, 200);
    assert!(cut.json.is_null(), "half a JSON body: {}", cut.text);
    control(&emu, "faults", &json!({"spec": ""})).await;
    let again = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({"id": draft})),
    )
    .await;
    assert_eq!(again.status, 404);

    control(
        &emu,
        "faults",
        &json!({"spec": "gmail.messages.send:reset"}),
    )
    .await;
    let reset = api(
        &emu,
        "POST",
        &format!("{API}/messages/send"),
        &bearer,
        Some(&create("Reset")["message"]),
    )
    .await;
    assert!(reset.json.is_null(), "the connection dropped: {reset:?}");
    let sent = mail_truth(&emu, "gmail").await["sent"].clone();
    let subjects: Vec<&str> = sent
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["subject"].as_str())
        .collect();
    assert_eq!(subjects, ["Faulty", "Reset"], "{reset:?}");
    emu.stop().await;
}

#[tokio::test]
async fn bodies_past_every_read_limit_get_the_providers_413() {
    let emu = start_unthrottled().await;
    let gmail = token(&emu, "gmail").await;
    let graph = token(&emu, "graph").await;
    // batchModify reads axum's default 2 MB; the upload route Gmail's own
    // 35 MB with room for its framing; Graph's writing routes past 4 MB.
    let ids = json!({"ids": vec!["x".repeat(1000); 3 * 1024], "addLabelIds": ["STARRED"]});
    let modify = api(
        &emu,
        "POST",
        &format!("{API}/messages/batchModify"),
        &gmail,
        Some(&ids),
    )
    .await;
    let upload = send(
        &emu,
        "POST",
        &format!("/upload{API}/messages/send?uploadType=media"),
        &[
            ("Authorization", &gmail),
            ("Content-Type", "message/rfc822"),
        ],
        Some(&"x".repeat(65 * 1024 * 1024)),
    )
    .await;
    for reply in [&modify, &upload] {
        assert_eq!(
            (
                reply.status,
                reply.json["error"]["errors"][0]["reason"].as_str()
            ),
            (413, Some("uploadTooLarge")),
            "{}",
            &reply.text[..reply.text.len().min(300)]
        );
    }
    let send_mail = send(
        &emu,
        "POST",
        "/v1.0/me/sendMail",
        &[
            ("Authorization", &graph),
            ("Content-Type", "application/json"),
        ],
        Some(&"x".repeat(41 * 1024 * 1024)),
    )
    .await;
    assert_eq!(
        (send_mail.status, send_mail.json["error"]["code"].as_str()),
        (413, Some("ErrorMessageSizeExceeded")),
        "{}",
        &send_mail.text[..send_mail.text.len().min(300)]
    );
    emu.stop().await;
}
