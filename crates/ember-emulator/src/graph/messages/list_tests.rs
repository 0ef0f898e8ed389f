//! Listing Graph messages over loopback HTTP by `$filter=internetMessageId
//! eq '<id@host>'`: mail sent by sendMail (JSON and MIME) and by a draft's
//! send is found in Sent Items by the Message-ID the client gave it, alone
//! or beside other clauses; a filter Graph would refuse is refused.
use serde_json::{json, Value};

use crate::testing::{api, send, start_unthrottled, token};
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

fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// An OData string literal: in single quotes, a quote inside doubled.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The messages of `list` (`messages` or `mailFolders/{f}/messages`) that
/// `filter` keeps, as `(id, internetMessageId)`.
async fn filtered(
    emu: &crate::Emulator,
    bearer: &str,
    list: &str,
    filter: &str,
) -> Vec<(String, String)> {
    let reply = api(
        emu,
        "GET",
        &format!(
            "{ME}/{list}?$filter={}&$select=internetMessageId",
            encoded(filter)
        ),
        bearer,
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{filter}: {}", reply.text);
    reply.json["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let field = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            (field("id"), field("internetMessageId"))
        })
        .collect()
}

#[tokio::test]
async fn mail_sent_with_an_internet_message_id_is_found_in_sent_items_by_it_once() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "graph").await;
    let id = "<ember.g1@fireside.example>";
    let sent = api(
        &emu,
        "POST",
        &format!("{ME}/sendMail"),
        &bearer,
        Some(&json!({"message": {
            "subject": "Outbox 1",
            "body": {"contentType": "text", "content": "Sent once."},
            "toRecipients": recipients(&[GMAIL_ADDRESS]),
            "internetMessageId": id,
        }})),
    )
    .await;
    assert_eq!(sent.status, 202, "{}", sent.text);
    let by_id = format!("internetMessageId eq {}", literal(id));

    let in_sent = filtered(&emu, &bearer, "mailFolders/sentitems/messages", &by_id).await;
    assert_eq!(in_sent.len(), 1, "exactly one sent copy: {in_sent:?}");
    assert_eq!(in_sent[0].1, id);
    for (list, filter) in [
        ("messages", by_id.clone()),
        (
            "mailFolders/SentItems/messages",
            by_id.replace("fireside", "FIRESIDE"),
        ),
        (
            "mailFolders/sentitems/messages",
            format!("receivedDateTime ge 2000-01-01T00:00:00Z and {by_id}"),
        ),
        (
            "mailFolders/sentitems/messages",
            format!("{by_id} AND isRead eq true"),
        ),
    ] {
        assert_eq!(
            filtered(&emu, &bearer, list, &filter).await,
            in_sent,
            "{list} with {filter}"
        );
    }
    for (list, filter) in [
        ("mailFolders/sentitems/messages", by_id.replace("g1", "g2")),
        (
            "mailFolders/sentitems/messages",
            by_id.replace("ember", "EMBER"),
        ),
        (
            "mailFolders/sentitems/messages",
            "internetMessageId eq 'ember.g1@fireside.example'".to_owned(),
        ),
        ("mailFolders/inbox/messages", by_id.clone()),
        (
            "mailFolders/sentitems/messages",
            format!("{by_id} and isRead eq false"),
        ),
    ] {
        assert!(
            filtered(&emu, &bearer, list, &filter).await.is_empty(),
            "{list} with {filter} finds nothing"
        );
    }

    // The Gmail recipient's copy keeps the id too.
    let gmail = token(&emu, "gmail").await;
    let q = encoded(&format!("in:inbox rfc822msgid:{id}"));
    let inbox = api(
        &emu,
        "GET",
        &format!("/gmail/v1/users/me/messages?q={q}"),
        &gmail,
        None,
    )
    .await;
    assert_eq!(inbox.json["resultSizeEstimate"], 1, "{}", inbox.text);
    emu.stop().await;
}

#[tokio::test]
async fn a_sent_draft_and_sent_mime_keep_the_message_id_they_were_given() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "graph").await;
    // A quote is legal in a Message-ID, and doubled in the literal.
    let id = "<o'brien.2@fireside.example>";
    let by_id = format!("internetMessageId eq {}", literal(id));
    let draft = api(
        &emu,
        "POST",
        &format!("{ME}/messages"),
        &bearer,
        Some(&json!({
            "subject": "Drafted",
            "toRecipients": recipients(&[GMAIL_ADDRESS]),
            "internetMessageId": id,
        })),
    )
    .await;
    assert_eq!(draft.status, 201, "{}", draft.text);
    let draft_id = draft.json["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        filtered(&emu, &bearer, "mailFolders/drafts/messages", &by_id).await,
        [(draft_id.clone(), id.to_owned())]
    );
    assert!(
        filtered(&emu, &bearer, "mailFolders/sentitems/messages", &by_id)
            .await
            .is_empty()
    );

    let sent = send(
        &emu,
        "POST",
        &format!("{ME}/messages/{draft_id}/send"),
        &[("Authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(sent.status, 202, "{}", sent.text);
    assert!(
        filtered(&emu, &bearer, "mailFolders/drafts/messages", &by_id)
            .await
            .is_empty(),
        "the draft left Drafts"
    );
    let in_sent = filtered(&emu, &bearer, "mailFolders/sentitems/messages", &by_id).await;
    assert_eq!(in_sent.len(), 1, "{in_sent:?}");
    assert_eq!(in_sent[0].1, id);
    assert_eq!(
        filtered(&emu, &bearer, "messages", &by_id).await,
        in_sent,
        "one copy in the whole mailbox"
    );

    // sendMail's MIME form keeps the Message-ID header the client wrote.
    let mime = format!(
        "To: {GMAIL_ADDRESS}\r\nSubject: As MIME\r\nMessage-ID: <mime.3@fireside.example>\r\n\r\nHi\r\n"
    );
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, mime);
    let posted = send(
        &emu,
        "POST",
        &format!("{ME}/sendMail"),
        &[("Authorization", &bearer), ("Content-Type", "text/plain")],
        Some(&b64),
    )
    .await;
    assert_eq!(posted.status, 202, "{}", posted.text);
    let mime_sent = filtered(
        &emu,
        &bearer,
        "mailFolders/sentitems/messages",
        "internetMessageId eq '<mime.3@fireside.example>'",
    )
    .await;
    assert_eq!(mime_sent.len(), 1, "{mime_sent:?}");
    emu.stop().await;
}

#[tokio::test]
async fn a_malformed_internet_message_id_filter_is_refused() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "graph").await;
    for filter in [
        "internetMessageId eq '<x@fireside.example>",
        "internetMessageId eq <x@fireside.example>",
        "internetMessageId ne '<x@fireside.example>'",
        "internetMessageId eq '<x@fireside.example>' and",
        "startswith(internetMessageId,'<x')",
    ] {
        for list in ["messages", "mailFolders/sentitems/messages"] {
            let reply = api(
                &emu,
                "GET",
                &format!("{ME}/{list}?$filter={}", encoded(filter)),
                &bearer,
                None,
            )
            .await;
            assert_eq!(
                (reply.status, reply.json["error"]["code"].as_str()),
                (400, Some("ErrorInvalidUrlQueryFilter")),
                "{list} refuses {filter}: {}",
                reply.text
            );
        }
    }
    let delta = api(
        &emu,
        "GET",
        &format!(
            "{ME}/mailFolders/sentitems/messages/delta?$filter={}",
            encoded("internetMessageId eq '<x@fireside.example>'")
        ),
        &bearer,
        None,
    )
    .await;
    assert_eq!(
        (delta.status, delta.json["error"]["code"].as_str()),
        (400, Some("ErrorInvalidUrlQueryFilter")),
        "delta filters on receivedDateTime only: {}",
        delta.text
    );
    emu.stop().await;
}
