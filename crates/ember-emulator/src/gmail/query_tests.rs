//! Gmail's `q` over loopback HTTP: `rfc822msgid:` finds mail by its
//! Message-ID in messages.list and drafts.list, as a sender does after a
//! crash to learn whether its mail went out, for mail sent by messages.send
//! and drafts.send alike; spam and trash stay out unless asked for.
use serde_json::{json, Value};

use super::payload::b64url;
use crate::testing::{api, start_unthrottled, token};
use crate::world::GRAPH_ADDRESS;

const API: &str = "/gmail/v1/users/me";

fn raw(headers: &str, body: &str) -> String {
    b64url(format!("{headers}\r\n\r\n{body}\r\n").as_bytes())
}

fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect()
}

/// The ids of the messages `q` finds, after checking the estimate agrees.
async fn search(emu: &crate::Emulator, bearer: &str, q: &str, extra: &str) -> Vec<String> {
    let list = api(
        emu,
        "GET",
        &format!("{API}/messages?q={}{extra}", encoded(q)),
        bearer,
        None,
    )
    .await;
    assert_eq!(list.status, 200, "{q}: {}", list.text);
    let found = ids(&list.json, "messages");
    assert_eq!(
        list.json["resultSizeEstimate"].as_u64(),
        Some(found.len() as u64),
        "{q}: the estimate counts what was found"
    );
    found
}

#[tokio::test]
async fn mail_sent_with_a_message_id_is_found_in_sent_by_it_exactly_once() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    let sent = api(
        &emu,
        "POST",
        &format!("{API}/messages/send"),
        &bearer,
        Some(&json!({"raw": raw(&format!("To: {GRAPH_ADDRESS}\r\nSubject: Outbox 7\r\nMessage-ID: <ember.7f3a.1@fireside.example>"), "Sent once.")})),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let id = sent.json["id"].as_str().unwrap_or_default().to_owned();

    for q in [
        "in:sent rfc822msgid:<ember.7f3a.1@fireside.example>",
        "in:sent rfc822msgid:ember.7f3a.1@fireside.example",
        "rfc822msgid:<ember.7f3a.1@fireside.example>",
        "in:anywhere rfc822msgid:ember.7f3a.1@FIRESIDE.example",
    ] {
        assert_eq!(
            search(&emu, &bearer, q, "").await,
            [id.as_str()],
            "{q} finds the sent copy, once"
        );
    }
    for q in [
        "in:sent rfc822msgid:<ember.7f3a.2@fireside.example>",
        "in:sent rfc822msgid:<EMBER.7f3a.1@fireside.example>",
        "in:inbox rfc822msgid:<ember.7f3a.1@fireside.example>",
    ] {
        assert!(
            search(&emu, &bearer, q, "").await.is_empty(),
            "{q} finds nothing"
        );
    }

    // A message sent without one is found by the Message-Id Gmail gave it.
    let bare = api(
        &emu,
        "POST",
        &format!("{API}/messages/send"),
        &bearer,
        Some(&json!({"raw": raw(&format!("To: {GRAPH_ADDRESS}\r\nSubject: No id"), "Gmail names it.")})),
    )
    .await;
    let bare_id = bare.json["id"].as_str().unwrap_or_default().to_owned();
    let meta = api(
        &emu,
        "GET",
        &format!("{API}/messages/{bare_id}?format=metadata&metadataHeaders=Message-Id"),
        &bearer,
        None,
    )
    .await;
    let given = meta.json["payload"]["headers"][0]["value"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(given.ends_with("@mail.gmail.com>"), "{}", meta.text);
    assert_eq!(
        search(&emu, &bearer, &format!("in:sent rfc822msgid:{given}"), "").await,
        [bare_id]
    );

    // The Microsoft 365 recipient's copy keeps the id too.
    let graph = token(&emu, "graph").await;
    let filter = encoded("internetMessageId eq '<ember.7f3a.1@fireside.example>'");
    let inbox = api(
        &emu,
        "GET",
        &format!("/v1.0/me/mailFolders/inbox/messages?$filter={filter}&$select=subject"),
        &graph,
        None,
    )
    .await;
    assert_eq!(inbox.json["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(inbox.json["value"][0]["subject"], "Outbox 7");

    // Trash is left out unless asked for, as before.
    let trashed = api(
        &emu,
        "POST",
        &format!("{API}/messages/{id}/trash"),
        &bearer,
        None,
    )
    .await;
    assert_eq!(trashed.status, 200, "{}", trashed.text);
    let q = "rfc822msgid:<ember.7f3a.1@fireside.example>";
    assert!(
        search(&emu, &bearer, q, "").await.is_empty(),
        "trash is left out"
    );
    assert_eq!(
        search(&emu, &bearer, q, "&includeSpamTrash=true").await,
        [id.as_str()]
    );
    assert_eq!(
        search(&emu, &bearer, &format!("in:anywhere {q}"), "").await,
        [id]
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_draft_is_found_by_its_message_id_until_sent_then_its_sent_copy_is() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    let created = api(
        &emu,
        "POST",
        &format!("{API}/drafts"),
        &bearer,
        Some(&json!({"message": {"raw": raw(&format!("To: {GRAPH_ADDRESS}\r\nSubject: Drafted\r\nMessage-ID: <draft.9@fireside.example>"), "Later.")}})),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let draft = created.json["id"].as_str().unwrap_or_default().to_owned();
    let draft_message = created.json["message"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let drafts = |q: &str| {
        let path = format!("{API}/drafts?q={}", encoded(q));
        let emu = &emu;
        let bearer = bearer.clone();
        async move { api(emu, "GET", &path, &bearer, None).await.json }
    };

    assert_eq!(
        ids(
            &drafts("rfc822msgid:<draft.9@fireside.example>").await,
            "drafts"
        ),
        [draft.as_str()]
    );
    assert!(ids(
        &drafts("rfc822msgid:draft.8@fireside.example").await,
        "drafts"
    )
    .is_empty());
    assert_eq!(
        search(
            &emu,
            &bearer,
            "in:drafts rfc822msgid:draft.9@fireside.example",
            ""
        )
        .await,
        [draft_message]
    );

    let sent = api(
        &emu,
        "POST",
        &format!("{API}/drafts/send"),
        &bearer,
        Some(&json!({"id": draft})),
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let sent_id = sent.json["id"].as_str().unwrap_or_default().to_owned();
    let after = drafts("rfc822msgid:<draft.9@fireside.example>").await;
    assert!(ids(&after, "drafts").is_empty(), "the draft is gone");
    assert_eq!(after["resultSizeEstimate"], 0);
    assert_eq!(
        search(
            &emu,
            &bearer,
            "in:anywhere rfc822msgid:<draft.9@fireside.example>",
            ""
        )
        .await,
        [sent_id.as_str()],
        "only the sent copy has the id now"
    );
    assert_eq!(
        search(
            &emu,
            &bearer,
            "in:sent rfc822msgid:draft.9@fireside.example",
            ""
        )
        .await,
        [sent_id]
    );
    emu.stop().await;
}

#[tokio::test]
async fn a_malformed_rfc822msgid_is_refused() {
    let emu = start_unthrottled().await;
    let bearer = token(&emu, "gmail").await;
    for q in [
        "rfc822msgid:",
        "rfc822msgid:<>",
        "in:sent rfc822msgid:<a@b",
        "-rfc822msgid:a@b",
    ] {
        for list in ["messages", "drafts"] {
            let reply = api(
                &emu,
                "GET",
                &format!("{API}/{list}?q={}", encoded(q)),
                &bearer,
                None,
            )
            .await;
            assert_eq!(
                (reply.status, reply.json["error"]["status"].as_str()),
                (400, Some("INVALID_ARGUMENT")),
                "{list} refuses {q}: {}",
                reply.text
            );
        }
    }
    emu.stop().await;
}
