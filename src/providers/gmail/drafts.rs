//! Gmail's side of drafts and sending ([`DraftApi`]): the draft is built as
//! MIME here and uploaded whole (Gmail keeps our `Message-ID`, which is how
//! Sent is searched after an interrupted send), sent by draft id, and
//! deleted by draft id.
//!
//! Uploads go through Gmail's media upload root as `multipart/related`
//! (metadata, then the message), the form Google documents for messages up
//! to 35 MB; a JSON `raw` field is meant for small ones.

use serde::Deserialize;

use super::client::{cost, Format, GmailClient};
use crate::compose::{self, Outgoing, OutgoingAttachment};
use crate::model::{Address, ComposeKind};
use crate::providers::outgoing::{kept_attachments, DraftApi, ProviderDraft};
use crate::providers::ProviderError;
use crate::store::drafts::{AttachmentData, DraftUpload};
use crate::store::Store;

/// Quota units of drafts.create, update and send (messages.send's 100).
const DRAFT_COST: u32 = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DraftRef {
    id: String,
    message: MessageRef,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageRef {
    id: String,
    #[serde(default)]
    thread_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DraftList {
    #[serde(default)]
    drafts: Vec<DraftRef>,
}

impl From<DraftRef> for ProviderDraft {
    fn from(d: DraftRef) -> Self {
        Self {
            draft_id: d.id,
            message_id: d.message.id,
            thread_id: d.message.thread_id,
        }
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn build_error(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unsupported(format!("the message could not be built: {e}"))
}

/// Gmail's drafts and sending for one account.
#[derive(Debug, Clone)]
pub struct GmailDrafts {
    client: GmailClient,
}

impl GmailDrafts {
    /// Drafts through `client`.
    pub fn new(client: GmailClient) -> Self {
        Self { client }
    }

    /// The attachments of the message being forwarded (Gmail has no
    /// server-side forward: they travel inside our MIME).
    async fn forwarded(&self, upload: &DraftUpload) -> Result<Vec<AttachmentData>, ProviderError> {
        let (ComposeKind::Forward, Some(source)) = (upload.draft.kind, &upload.source_provider_id)
        else {
            return Ok(Vec::new());
        };
        let raw = match self.client.message(source, Format::Raw).await {
            Ok(m) => m.raw.unwrap_or_default(),
            // The original is gone: forward the text alone.
            Err(e) if e.status() == Some(404) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        crate::cpu::run(move || {
            let bytes = super::decode_base64url(&raw).unwrap_or_default();
            mail_parser::MessageParser::default()
                .parse(&bytes)
                .map(|m| {
                    m.attachments()
                        .map(|a| {
                            use mail_parser::MimeHeaders as _;
                            AttachmentData {
                                filename: a.attachment_name().unwrap_or("attachment").to_owned(),
                                content_type: a
                                    .content_type()
                                    .map(|c| match c.subtype() {
                                        Some(s) => format!("{}/{s}", c.ctype()),
                                        None => c.ctype().to_owned(),
                                    })
                                    .unwrap_or_else(|| "application/octet-stream".into()),
                                data: a.contents().to_vec(),
                                ..AttachmentData::default()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .await
        .map_err(build_error)
    }

    /// The draft as RFC 822 bytes.
    async fn mime(&self, upload: &DraftUpload) -> Result<Vec<u8>, ProviderError> {
        let mut files: Vec<AttachmentData> = kept_attachments(upload).cloned().collect();
        files.extend(self.forwarded(upload).await?);
        let upload = upload.clone();
        crate::cpu::run(move || {
            let d = &upload.draft;
            let from = Address {
                name: None,
                address: d.from.clone(),
            };
            let text = compose::plain_text(&d.body_html);
            compose::build_mime(&Outgoing {
                from: &from,
                to: &d.to,
                cc: &d.cc,
                bcc: &d.bcc,
                subject: &d.subject,
                html: &d.body_html,
                text: &text,
                message_id: &d.message_id_header,
                in_reply_to: upload.in_reply_to.as_deref(),
                references: &upload.references,
                date_ms: crate::store::now_ms(),
                attachments: files
                    .iter()
                    .map(|f| OutgoingAttachment {
                        filename: &f.filename,
                        content_type: &f.content_type,
                        data: &f.data,
                    })
                    .collect(),
            })
        })
        .await
        .map_err(build_error)?
        .map_err(|e| ProviderError::Unsupported(e.to_string()))
    }

    /// Uploads the draft to `path` (`drafts` or `drafts/{id}`) with `method`.
    async fn upload(
        &self,
        method: reqwest::Method,
        path: &str,
        upload: &DraftUpload,
    ) -> Result<ProviderDraft, ProviderError> {
        let raw = self.mime(upload).await?;
        // Our Message-ID's letters and digits: never inside the base64 or
        // quoted-printable lines of the message itself.
        let boundary: String = std::iter::once("ember_boundary_")
            .chain([upload.draft.message_id_header.as_str()])
            .flat_map(str::chars)
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let metadata = match &upload.thread_provider_id {
            Some(thread) => serde_json::json!({ "message": { "threadId": thread } }),
            None => serde_json::json!({ "message": {} }),
        };
        let mut body = Vec::with_capacity(raw.len() + 512);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n\
                 --{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&raw);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let call = self
            .client
            .call(&format!("{path}?uploadType=multipart"), true, DRAFT_COST)
            .with_upload(
                method,
                &format!("multipart/related; boundary={boundary}"),
                body,
            );
        let draft: DraftRef = self.client.send_call(&call).await?;
        Ok(draft.into())
    }
}

impl DraftApi for GmailDrafts {
    async fn find_sent(&self, upload: &DraftUpload) -> Result<Option<String>, ProviderError> {
        let q = format!("rfc822msgid:{}", upload.draft.message_id_header);
        let page = self.client.list(Some(&q), None, 10).await?;
        for found in page.messages {
            let m = self.client.message(&found.id, Format::Metadata).await?;
            let labels = &m.label_ids;
            if labels.iter().any(|l| l == "SENT") && !labels.iter().any(|l| l == "DRAFT") {
                return Ok(Some(m.id));
            }
        }
        Ok(None)
    }

    async fn find_draft(
        &self,
        upload: &DraftUpload,
    ) -> Result<Option<ProviderDraft>, ProviderError> {
        let q = format!("rfc822msgid:{}", upload.draft.message_id_header);
        let call = self.client.call(
            &format!("drafts?maxResults=10&q={}", enc(&q)),
            false,
            cost::MESSAGE,
        );
        let list: DraftList = self.client.send_call(&call).await?;
        Ok(list.drafts.into_iter().next().map(Into::into))
    }

    async fn create(
        &self,
        _: &Store,
        upload: &DraftUpload,
    ) -> Result<ProviderDraft, ProviderError> {
        self.upload(reqwest::Method::POST, "drafts", upload).await
    }

    async fn update(
        &self,
        _: &Store,
        upload: &DraftUpload,
        copy: &ProviderDraft,
    ) -> Result<ProviderDraft, ProviderError> {
        self.upload(
            reqwest::Method::PUT,
            &format!("drafts/{}", enc(&copy.draft_id)),
            upload,
        )
        .await
    }

    async fn send(&self, copy: &ProviderDraft) -> Result<String, ProviderError> {
        let call = self
            .client
            .call("drafts/send", false, DRAFT_COST)
            .with_json(
                reqwest::Method::POST,
                serde_json::json!({ "id": copy.draft_id }),
            );
        let sent: MessageRef = self.client.send_call(&call).await?;
        Ok(sent.id)
    }

    async fn delete(
        &self,
        draft_id: Option<&str>,
        _message_id: Option<&str>,
    ) -> Result<(), ProviderError> {
        let Some(id) = draft_id else {
            return Ok(());
        };
        let mut call = self
            .client
            .call(&format!("drafts/{}", enc(id)), false, cost::MESSAGE);
        call.method = reqwest::Method::DELETE;
        match self.client.send_call::<serde_json::Value>(&call).await {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other.map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_ids_survive_the_draft_answer() -> Result<(), serde_json::Error> {
        let d: DraftRef = serde_json::from_str(
            r#"{"id":"r-1","message":{"id":"m1","threadId":"t1","labelIds":["DRAFT"]}}"#,
        )?;
        let copy = ProviderDraft::from(d);
        assert_eq!(copy.draft_id, "r-1");
        assert_eq!(copy.thread_id.as_deref(), Some("t1"));
        Ok(())
    }
}
