//! Microsoft 365's side of drafts and sending ([`DraftApi`]): a draft is a
//! message in the Drafts folder, created as JSON (replies and forwards
//! through `createReply` / `createReplyAll` / `createForward`, so they join
//! the original's conversation and a forward keeps its attachments),
//! updated with PATCH, its files uploaded one by one, and sent with `send`.
//!
//! With immutable ids (every request asks for them) the sent message keeps
//! the draft's id, so "was it sent?" is one GET: the message is no longer a
//! draft *and* it is in Sent Items. Only that positive evidence counts, as
//! Gmail's `SENT` label does: a draft another device filed out of Drafts
//! (in Archive, say) is not a draft by its folder to every reader, and
//! taking that for "sent" recorded a message as sent that never left
//! (found by the simulated week).

use base64::Engine as _;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::client::{enc, GraphClient};
use crate::model::{Address, ComposeKind};
use crate::providers::outgoing::{DraftApi, ProviderDraft};
use crate::providers::ProviderError;
use crate::store::drafts::DraftUpload;
use crate::store::Store;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphMessage {
    id: String,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    is_draft: bool,
    #[serde(default)]
    parent_folder_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Folder {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<GraphMessage>,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: String,
}

fn recipients(list: &[Address]) -> Value {
    Value::Array(
        list.iter()
            .map(|a| {
                json!({ "emailAddress": {
                    "name": a.name.clone().unwrap_or_default(),
                    "address": a.address,
                } })
            })
            .collect(),
    )
}

/// The fields of the draft Graph stores.
fn fields(upload: &DraftUpload) -> Value {
    let d = &upload.draft;
    json!({
        "subject": d.subject,
        "body": { "contentType": "HTML", "content": d.body_html },
        "toRecipients": recipients(&d.to),
        "ccRecipients": recipients(&d.cc),
        "bccRecipients": recipients(&d.bcc),
    })
}

/// An OData string literal (quotes doubled).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Microsoft 365's drafts and sending for one mailbox.
#[derive(Debug, Clone)]
pub struct GraphDrafts {
    client: GraphClient,
}

impl GraphDrafts {
    /// Drafts through `client`.
    pub fn new(client: GraphClient) -> Self {
        Self { client }
    }

    fn copy_of(m: GraphMessage) -> ProviderDraft {
        ProviderDraft {
            draft_id: m.id.clone(),
            message_id: m.id,
            thread_id: m.conversation_id,
        }
    }

    /// Uploads the files the copy lacks and removes the ones the user took
    /// off, recording each step so a retry repeats none of them.
    async fn sync_attachments(
        &self,
        store: &Store,
        upload: &DraftUpload,
        message: &str,
    ) -> Result<(), ProviderError> {
        for file in &upload.attachments {
            match (&file.provider_id, file.removed) {
                (None, false) => {
                    let body = json!({
                        "@odata.type": "#microsoft.graph.fileAttachment",
                        "name": file.filename,
                        "contentType": file.content_type,
                        "contentBytes": base64::engine::general_purpose::STANDARD.encode(&file.data),
                    });
                    let created: Created = self
                        .client
                        .request(
                            Method::POST,
                            &format!("messages/{}/attachments", enc(message)),
                            Some(body),
                        )
                        .await?;
                    store
                        .draft_attachment_uploaded(file.id, Some(&created.id))
                        .await
                        .map_err(|e| ProviderError::Local(e.to_string()))?;
                }
                (Some(id), true) => {
                    let gone = self
                        .client
                        .request::<Value>(
                            Method::DELETE,
                            &format!("messages/{}/attachments/{}", enc(message), enc(id)),
                            None,
                        )
                        .await;
                    match gone {
                        Err(e) if e.status() != Some(404) => return Err(e),
                        _ => store
                            .draft_attachment_uploaded(file.id, None)
                            .await
                            .map_err(|e| ProviderError::Local(e.to_string()))?,
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The message `id`, if it exists.
    async fn message(&self, id: &str) -> Result<Option<GraphMessage>, ProviderError> {
        match self
            .client
            .request(
                Method::GET,
                &format!(
                    "messages/{}?$select=id,isDraft,conversationId,parentFolderId",
                    enc(id)
                ),
                None,
            )
            .await
        {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The id of the Sent Items folder.
    async fn sent_items(&self) -> Result<String, ProviderError> {
        let folder: Folder = self
            .client
            .request(Method::GET, "mailFolders/sentitems?$select=id", None)
            .await?;
        Ok(folder.id)
    }

    /// Messages with our `Message-ID` in `collection` (`messages`, or a
    /// folder's `mailFolders/{id}/messages`).
    async fn by_message_id(
        &self,
        upload: &DraftUpload,
        collection: &str,
    ) -> Result<Vec<GraphMessage>, ProviderError> {
        let id = format!("<{}>", upload.draft.message_id_header);
        let filter = format!("internetMessageId eq {}", literal(&id));
        let page: Page = self
            .client
            .request(
                Method::GET,
                &format!(
                    "{collection}?$filter={}&$select=id,isDraft,conversationId,parentFolderId&$top=10",
                    enc(&filter)
                ),
                None,
            )
            .await?;
        Ok(page.value)
    }
}

impl DraftApi for GraphDrafts {
    async fn find_sent(&self, upload: &DraftUpload) -> Result<Option<String>, ProviderError> {
        let sent_items = self.sent_items().await?;
        let sent = |m: &GraphMessage| {
            !m.is_draft && m.parent_folder_id.as_deref() == Some(sent_items.as_str())
        };
        if let Some(id) = &upload.provider_message_id {
            if let Some(m) = self.message(id).await? {
                return Ok(sent(&m).then_some(m.id));
            }
        }
        Ok(self
            .by_message_id(
                upload,
                &format!("mailFolders/{}/messages", enc(&sent_items)),
            )
            .await?
            .into_iter()
            .find(sent)
            .map(|m| m.id))
    }

    async fn find_draft(
        &self,
        upload: &DraftUpload,
    ) -> Result<Option<ProviderDraft>, ProviderError> {
        Ok(self
            .by_message_id(upload, "messages")
            .await?
            .into_iter()
            .find(|m| m.is_draft)
            .map(Self::copy_of))
    }

    async fn create(
        &self,
        store: &Store,
        upload: &DraftUpload,
    ) -> Result<ProviderDraft, ProviderError> {
        let action = match upload.draft.kind {
            ComposeKind::Reply => Some("createReply"),
            ComposeKind::ReplyAll => Some("createReplyAll"),
            ComposeKind::Forward => Some("createForward"),
            ComposeKind::New => None,
        };
        let created: GraphMessage = match (action, &upload.source_provider_id) {
            (Some(action), Some(source)) => {
                let made: GraphMessage = self
                    .client
                    .request(
                        Method::POST,
                        &format!("messages/{}/{action}", enc(source)),
                        Some(json!({ "message": fields(upload) })),
                    )
                    .await?;
                // The answer's body is Outlook's quote; ours replaces it.
                self.client
                    .request::<Value>(
                        Method::PATCH,
                        &format!("messages/{}", enc(&made.id)),
                        Some(fields(upload)),
                    )
                    .await?;
                made
            }
            _ => {
                let mut body = fields(upload);
                body["internetMessageId"] = json!(format!("<{}>", upload.draft.message_id_header));
                self.client
                    .request(Method::POST, "messages", Some(body))
                    .await?
            }
        };
        self.sync_attachments(store, upload, &created.id).await?;
        Ok(Self::copy_of(created))
    }

    async fn update(
        &self,
        store: &Store,
        upload: &DraftUpload,
        copy: &ProviderDraft,
    ) -> Result<ProviderDraft, ProviderError> {
        let m: GraphMessage = self
            .client
            .request(
                Method::PATCH,
                &format!("messages/{}", enc(&copy.message_id)),
                Some(fields(upload)),
            )
            .await?;
        self.sync_attachments(store, upload, &copy.message_id)
            .await?;
        Ok(ProviderDraft {
            thread_id: m.conversation_id.or_else(|| copy.thread_id.clone()),
            ..copy.clone()
        })
    }

    async fn send(&self, copy: &ProviderDraft) -> Result<String, ProviderError> {
        self.client
            .request::<Value>(
                Method::POST,
                &format!("messages/{}/send", enc(&copy.message_id)),
                None,
            )
            .await?;
        // Immutable ids: the message in Sent Items is the draft.
        Ok(copy.message_id.clone())
    }

    async fn delete(
        &self,
        _draft_id: Option<&str>,
        message_id: Option<&str>,
    ) -> Result<(), ProviderError> {
        let Some(id) = message_id else {
            return Ok(());
        };
        match self
            .client
            .request::<Value>(Method::DELETE, &format!("messages/{}", enc(id)), None)
            .await
        {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other.map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_literals_double_their_quotes() {
        assert_eq!(literal("<it's@x>"), "'<it''s@x>'");
    }
}
