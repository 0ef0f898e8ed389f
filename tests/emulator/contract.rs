//! Contract tests: the emulator's Gmail responses compared field by field
//! (names, JSON types, nesting) with real recorded responses and with the
//! Gmail discovery document, both read from ../shared/data at test time.

use std::path::Path;

use serde_json::Value;

use crate::support::{get_json, recorded, shape_diff, shared_data, start, token};

const API: &str = "gmail/v1/users/me";

fn assert_same_shape(what: &str, real: &Value, ours: &Value) {
    let mut diff = Vec::new();
    shape_diff(real, ours, what, &mut diff);
    assert!(
        diff.is_empty(),
        "{what} differs from the real service: {diff:#?}\nours: {ours:#}"
    );
}

fn discovery(dir: &Path) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(
        dir.join("gmail/gmail.v1.discovery.json"),
    )?)?)
}

/// Every field we return must be one the discovery document declares.
fn assert_declared(schema: &str, doc: &Value, ours: &Value) {
    let props = &doc["schemas"][schema]["properties"];
    if let Value::Object(map) = ours {
        for key in map.keys() {
            assert!(
                props.get(key).is_some(),
                "{schema}.{key} is not in the Gmail discovery document"
            );
        }
    }
}

async fn first_message_with_parts(base: &str, bearer: &str) -> anyhow::Result<Value> {
    let (_, list) = get_json(&format!("{base}/{API}/messages?maxResults=50"), bearer).await?;
    for m in list["messages"].as_array().cloned().unwrap_or_default() {
        let id = m["id"].as_str().unwrap_or_default();
        let (_, full) =
            get_json(&format!("{base}/{API}/messages/{id}?format=full"), bearer).await?;
        // The recording is multipart/alternative: compare like with like.
        if full["payload"]["mimeType"] == "multipart/alternative" {
            return Ok(full);
        }
    }
    anyhow::bail!("no multipart/alternative message among the first 50")
}

#[tokio::test]
async fn gmail_responses_have_the_real_services_shape() -> anyhow::Result<()> {
    let Some(data) = shared_data() else {
        return Ok(());
    };
    let rec = data.join("gmail/recorded-nango");
    let doc = discovery(&data)?;
    let emu = start(200).await?;
    let base = emu.base_url();
    let bearer = token(&emu, "gmail").await?;

    let (status, profile) = get_json(&format!("{base}/{API}/profile"), &bearer).await?;
    assert_eq!(status, 200);
    assert_same_shape(
        "profile",
        &recorded(&rec.join("GET__gmail_v1_users_me_profile__fb63ae4683.json"))?,
        &profile,
    );
    assert_declared("Profile", &doc, &profile);

    let (_, labels) = get_json(&format!("{base}/{API}/labels"), &bearer).await?;
    assert_same_shape(
        "labels.list",
        &recorded(&rec.join("GET__gmail_v1_users_me_labels__b9a76f4b00.json"))?,
        &labels,
    );
    for label in labels["labels"].as_array().cloned().unwrap_or_default() {
        assert_declared("Label", &doc, &label);
    }

    let (_, list) = get_json(&format!("{base}/{API}/messages?maxResults=5"), &bearer).await?;
    assert_same_shape(
        "messages.list",
        &recorded(&rec.join("GET__gmail_v1_users_me_messages__d23b912fee.json"))?,
        &list,
    );
    assert_declared("ListMessagesResponse", &doc, &list);

    let full = first_message_with_parts(&base, &bearer).await?;
    assert_same_shape(
        "messages.get(full)",
        &recorded(&rec.join("GET__gmail_v1_users_me_messages_198a4a0996091f64__15bf47ec18.json"))?,
        &full,
    );
    assert_declared("Message", &doc, &full);
    assert_declared("MessagePart", &doc, &full["payload"]);
    assert_declared("MessagePart", &doc, &full["payload"]["parts"][0]);

    let id = full["id"].as_str().unwrap_or_default().to_owned();
    let (_, metadata) = get_json(
        &format!("{base}/{API}/messages/{id}?format=metadata"),
        &bearer,
    )
    .await?;
    assert_same_shape(
        "messages.get(metadata)",
        &recorded(&rec.join("GET__gmail_v1_users_me_messages_19d88079c8c6f849__9ccac11b0e.json"))?,
        &metadata,
    );
    assert!(
        metadata["payload"].get("parts").is_none(),
        "metadata has no parts"
    );

    let (_, minimal) = get_json(
        &format!("{base}/{API}/messages/{id}?format=minimal"),
        &bearer,
    )
    .await?;
    assert_same_shape(
        "messages.get(minimal)",
        &recorded(&rec.join("GET__gmail_v1_users_me_messages_19dda5cc10eb51bb__e01f4a8feb.json"))?,
        &minimal,
    );

    let (_, raw) = get_json(&format!("{base}/{API}/messages/{id}?format=raw"), &bearer).await?;
    let export: Value = serde_json::from_str(&std::fs::read_to_string(
        data.join("gmail/exported-full-and-raw/message-export-16b36861a890bb26.json"),
    )?)?;
    assert_same_shape("messages.get(raw)", &export["raw"], &raw);
    assert!(raw.get("payload").is_none(), "raw carries no payload");
    let decoded =
        ember_emulator::gmail::payload::b64_decode_lenient(raw["raw"].as_str().unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(
        raw["sizeEstimate"].as_u64(),
        Some(decoded.len() as u64),
        "sizeEstimate is the raw message's byte length"
    );

    let thread_id = full["threadId"].as_str().unwrap_or_default();
    let (_, thread) = get_json(
        &format!("{base}/{API}/threads/{thread_id}?format=metadata"),
        &bearer,
    )
    .await?;
    assert_same_shape(
        "threads.get",
        &recorded(&rec.join("GET__gmail_v1_users_me_threads_19dda583e3d15fea__974595aae1.json"))?,
        &thread,
    );
    assert_declared("Thread", &doc, &thread);

    let (_, bad) = get_json(&format!("{base}/{API}/messages?maxResults=many"), &bearer).await?;
    let real_400: Value = serde_json::from_str(&std::fs::read_to_string(
        data.join("gmail/errors/error-400-badRequest.json"),
    )?)?;
    assert_same_shape("error 400", &real_400, &bad);
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn history_records_have_the_real_shape() -> anyhow::Result<()> {
    let Some(data) = shared_data() else {
        return Ok(());
    };
    let emu = start(50).await?;
    let base = emu.base_url();
    let bearer = token(&emu, "gmail").await?;
    let (_, profile) = get_json(&format!("{base}/{API}/profile"), &bearer).await?;
    let start_id = profile["historyId"].as_str().unwrap_or_default().to_owned();
    let (_, list) = get_json(&format!("{base}/{API}/messages?maxResults=2"), &bearer).await?;
    let id = list["messages"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Trash it (labelsAdded TRASH, labelsRemoved INBOX), as in the recording.
    let r = crate::support::client()
        .post(format!("{base}/{API}/messages/{id}/trash"))
        .bearer_auth(&bearer)
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let (status, history) = get_json(
        &format!("{base}/{API}/history?startHistoryId={start_id}"),
        &bearer,
    )
    .await?;
    assert_eq!(status, 200);
    let real = recorded(
        &data.join("gmail/recorded-nango/GET__gmail_v1_users_me_history__167580a797.json"),
    )?;
    assert_same_shape("history.list", &real, &history);
    let doc = discovery(&data)?;
    assert_declared("ListHistoryResponse", &doc, &history);
    for record in history["history"].as_array().cloned().unwrap_or_default() {
        assert_declared("History", &doc, &record);
    }
    emu.stop().await;
    Ok(())
}
