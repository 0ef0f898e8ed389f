//! Writing and sending mail: the composer opens a draft (new, reply, reply
//! all, forward), saves it as the user types, attaches files, and sends it
//! through the outbox with an undo window.
//!
//! Send is one transaction (the draft `queued`, its `draft.send` entry due
//! when the undo window closes) and returns at once; the account's sync
//! run sends it (see [`crate::providers::outgoing`] for why exactly once).
//! A timer asks for that run when the window closes, so a message leaves
//! on time however long the sync interval is.

use std::time::Duration;

use super::{Ember, ServiceError};
use crate::compose::{self, ComposeError, Original, SizeLimits};
use crate::events::Event;
use crate::model::{
    Address, ComposeKind, ComposeRequest, Contact, Draft, DraftEdit, DraftId, ProviderKind,
};
use crate::render;
use crate::store::drafts::{AttachmentData, DraftDelivery, NewDraft};
use crate::store::now_ms;

/// The most recipients one message may have (To, Cc and Bcc together).
pub const MAX_RECIPIENTS: usize = 500;
/// The longest subject, in characters.
pub const MAX_SUBJECT: usize = 2_000;
/// The longest attachment file name, in characters.
pub const MAX_FILENAME: usize = 255;

impl From<ComposeError> for ServiceError {
    fn from(e: ComposeError) -> Self {
        match e {
            ComposeError::TooLarge(m) => Self::TooLarge(m),
            other => Self::InvalidInput(other.to_string()),
        }
    }
}

/// `id` without the angle brackets some providers keep.
fn bare(id: &str) -> String {
    id.trim().trim_matches(['<', '>']).trim().to_owned()
}

/// Addresses in a raw header value (`Reply-To`), read by the MIME parser.
fn header_addresses(raw: &str) -> Vec<Address> {
    let message = format!("Reply-To: {raw}\r\n\r\n");
    let Some(parsed) = mail_parser::MessageParser::default().parse(message.as_bytes()) else {
        return Vec::new();
    };
    parsed
        .reply_to()
        .map(|list| {
            list.iter()
                .filter_map(|a| {
                    Some(Address {
                        name: a.name().map(str::to_owned),
                        address: a.address()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Ember {
    /// Opens the composer: a new draft, written as `request.kind`.
    pub async fn compose(&self, request: ComposeRequest) -> Result<Draft, ServiceError> {
        self.ensure_running()?;
        let source = match (request.kind, request.message_id) {
            (ComposeKind::New, _) => None,
            (_, Some(id)) => Some(self.store.compose_source(id).await?),
            (_, None) => {
                return Err(ServiceError::InvalidInput(
                    "a reply or forward needs the message it answers".into(),
                ))
            }
        };
        let accounts = self.store.accounts().await?;
        let account_id = request
            .account_id
            .or(source.as_ref().map(|s| s.account_id))
            .or_else(|| {
                accounts
                    .iter()
                    .find(|a| a.provider != ProviderKind::Ado)
                    .map(|a| a.id)
            })
            .ok_or_else(|| ServiceError::InvalidInput("add a mail account to write mail".into()))?;
        let account = accounts
            .iter()
            .find(|a| a.id == account_id)
            .ok_or(ServiceError::Store(crate::store::StoreError::NotFound(
                "account",
            )))?;
        if account.provider == ProviderKind::Ado {
            return Err(ServiceError::InvalidInput(
                "an Azure DevOps account does not send mail".into(),
            ));
        }
        let settings = self.store.settings().await?;
        let signature = settings
            .signatures
            .get(&account_id.to_string())
            .map(|s| compose::signature_html(s))
            .unwrap_or_default();
        let mut new = NewDraft {
            account_id,
            kind: Some(request.kind),
            message_id_header: compose::new_message_id(&account.address),
            ..NewDraft::default()
        };
        let opening = "<p><br></p>";
        match source {
            None => new.body_html = format!("{opening}{signature}"),
            Some(source) => {
                let original = Original {
                    from: source.from.clone(),
                    reply_to: source
                        .reply_to
                        .as_deref()
                        .map(header_addresses)
                        .unwrap_or_default(),
                    to: source.to.clone(),
                    cc: source.cc.clone(),
                    date: source.date,
                    subject: source.subject.clone(),
                    message_id: source.message_id.as_deref().map(bare),
                    references: source
                        .references
                        .as_deref()
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(bare)
                        .filter(|r| !r.is_empty())
                        .collect(),
                    html: source.html.clone(),
                    text: source.text.clone(),
                };
                let own = vec![account.address.clone()];
                let (to, cc) = compose::reply_recipients(request.kind, &original, &own);
                new.to = to;
                new.cc = cc;
                new.subject = if request.kind == ComposeKind::Forward {
                    compose::forward_subject(&original.subject)
                } else {
                    compose::reply_subject(&original.subject)
                };
                if request.kind != ComposeKind::Forward {
                    new.in_reply_to = original.message_id.clone();
                    new.references = compose::references_of(&original);
                }
                // Threading by the provider's ids only within the account
                // the original arrived at.
                if source.account_id == account_id {
                    new.source_message_id = request.message_id;
                    new.source_provider_id = Some(source.provider_id.clone());
                    if request.kind != ComposeKind::Forward {
                        new.thread_provider_id = source.thread_provider_id.clone();
                    }
                }
                let quote = compose::quote_html(request.kind, &original);
                new.body_html = crate::cpu::run(move || {
                    render::sanitise_part(&format!("{opening}{signature}{quote}"))
                })
                .await
                .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
            }
        }
        let draft = self.store.create_draft(&new).await?;
        tracing::info!(draft = draft.id, kind = ?request.kind, account = account_id, "composer opened");
        Ok(draft)
    }

    /// Opens a draft that arrived from the provider's Drafts (written on
    /// another device) in the composer; the same draft each time.
    pub async fn open_draft(
        &self,
        message: crate::model::MessageId,
    ) -> Result<Draft, ServiceError> {
        self.ensure_running()?;
        let source = self.store.compose_source(message).await?;
        if let Some(id) = self
            .store
            .draft_by_provider_message(source.account_id, &source.provider_id)
            .await?
        {
            return Ok(self.store.draft(id).await?);
        }
        let account = self.store.account(source.account_id).await?;
        let provider_draft_id = match account.provider {
            // Graph: the draft is the message. Gmail: its draft id is
            // looked up by the first save (drafts.list by Message-ID).
            ProviderKind::Graph => Some(source.provider_id.clone()),
            _ => None,
        };
        let body = match (&source.html, &source.text) {
            (Some(html), _) if !html.is_empty() => html.clone(),
            (_, Some(text)) => format!(
                "<div style=\"white-space:pre-wrap\">{}</div>",
                compose::escape(text)
            ),
            _ => String::new(),
        };
        let new = NewDraft {
            account_id: source.account_id,
            kind: Some(ComposeKind::New),
            to: source.to,
            cc: source.cc,
            subject: source.subject,
            body_html: body,
            message_id_header: source
                .message_id
                .as_deref()
                .map(bare)
                .unwrap_or_else(|| compose::new_message_id(&account.address)),
            thread_provider_id: source.thread_provider_id,
            provider_draft_id,
            provider_message_id: Some(source.provider_id),
            ..NewDraft::default()
        };
        Ok(self.store.create_draft(&new).await?)
    }

    /// One draft.
    pub async fn draft(&self, id: DraftId) -> Result<Draft, ServiceError> {
        Ok(self.store.draft(id).await?)
    }

    /// Drafts not yet sent.
    pub async fn drafts(
        &self,
        account: Option<crate::model::AccountId>,
    ) -> Result<Vec<Draft>, ServiceError> {
        Ok(self.store.drafts(account).await?)
    }

    /// Saves what the composer holds; the provider's Drafts follows a few
    /// seconds later.
    pub async fn save_draft(&self, id: DraftId, edit: DraftEdit) -> Result<Draft, ServiceError> {
        self.ensure_running()?;
        let recipients = edit.to.len() + edit.cc.len() + edit.bcc.len();
        if recipients > MAX_RECIPIENTS {
            return Err(ServiceError::InvalidInput(format!(
                "a message may have at most {MAX_RECIPIENTS} recipients"
            )));
        }
        if edit.subject.chars().count() > MAX_SUBJECT {
            return Err(ServiceError::InvalidInput(format!(
                "a subject may be at most {MAX_SUBJECT} characters long"
            )));
        }
        if edit.body_html.len() > render::MAX_HTML {
            return Err(ServiceError::TooLarge(format!(
                "the text is {} MB; a message's text may be at most {} MB (attach large content as a file)",
                edit.body_html.len() / (1024 * 1024),
                render::MAX_HTML / (1024 * 1024)
            )));
        }
        let mut edit = edit;
        let html = std::mem::take(&mut edit.body_html);
        edit.body_html = crate::cpu::run(move || render::sanitise_part(&html))
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        Ok(self.store.update_draft(id, &edit).await?)
    }

    /// Attaches a file (checked against the account's limits now, not at
    /// send time).
    pub async fn attach(
        &self,
        id: DraftId,
        filename: &str,
        content_type: &str,
        data: Vec<u8>,
    ) -> Result<Draft, ServiceError> {
        self.ensure_running()?;
        let filename = filename.trim();
        if filename.is_empty() || filename.chars().count() > MAX_FILENAME {
            return Err(ServiceError::InvalidInput(format!(
                "a file name must have 1 to {MAX_FILENAME} characters"
            )));
        }
        let draft = self.store.draft(id).await?;
        let provider = self.store.account(draft.account_id).await?.provider;
        let mut sizes: Vec<(String, u64)> = draft
            .attachments
            .iter()
            .map(|a| (a.filename.clone(), u64::try_from(a.size).unwrap_or(0)))
            .collect();
        sizes.push((filename.to_owned(), data.len() as u64));
        compose::check_size(SizeLimits::of(provider), &sizes)?;
        let file = AttachmentData {
            filename: filename.to_owned(),
            content_type: if content_type.trim().is_empty() {
                "application/octet-stream".into()
            } else {
                content_type.trim().to_owned()
            },
            data,
            ..AttachmentData::default()
        };
        Ok(self.store.add_draft_attachment(id, &file).await?)
    }

    /// Removes an attached file.
    pub async fn detach(&self, id: DraftId, attachment: i64) -> Result<Draft, ServiceError> {
        self.ensure_running()?;
        Ok(self.store.remove_draft_attachment(id, attachment).await?)
    }

    /// Sends the draft: checked, queued durably, and taken back by
    /// [`Ember::undo_send`] until the undo window (a setting) closes.
    pub async fn send(&self, id: DraftId) -> Result<Draft, ServiceError> {
        let undo = self.store.settings().await?.undo_send_seconds;
        self.send_after(id, undo).await
    }

    /// Sends the draft with no undo window (the command line, whose user
    /// has already confirmed by pressing Enter): due at once.
    pub async fn send_without_undo(&self, id: DraftId) -> Result<Draft, ServiceError> {
        self.send_after(id, 0).await
    }

    async fn send_after(&self, id: DraftId, undo: u32) -> Result<Draft, ServiceError> {
        self.ensure_running()?;
        let draft = self.store.draft(id).await?;
        let everyone: Vec<&Address> = draft.to.iter().chain(&draft.cc).chain(&draft.bcc).collect();
        if everyone.is_empty() {
            return Err(ComposeError::NoRecipients.into());
        }
        if let Some(bad) = everyone
            .iter()
            .find(|a| !compose::valid_address(a.address.trim()))
        {
            return Err(ComposeError::BadAddress(bad.address.clone()).into());
        }
        let provider = self.store.account(draft.account_id).await?.provider;
        let sizes: Vec<(String, u64)> = draft
            .attachments
            .iter()
            .map(|a| (a.filename.clone(), u64::try_from(a.size).unwrap_or(0)))
            .collect();
        compose::check_size(SizeLimits::of(provider), &sizes)?;
        let send_at = now_ms() + i64::from(undo) * 1000;
        let queued = self.store.queue_send(id, send_at).await?;
        tracing::info!(draft = id, undo, "message queued");
        self.events.publish(Event::DataChanged {
            account_id: Some(draft.account_id),
        });
        self.send_when_due(draft.account_id, Duration::from_secs(u64::from(undo)));
        Ok(queued)
    }

    /// Asks the account's sync run to send once `after` has passed.
    fn send_when_due(&self, account: crate::model::AccountId, after: Duration) {
        let sync = self.sync.clone();
        let cancel = self.root.child_token();
        self.tracker.spawn(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                // A little past the deadline, so the entry is due.
                () = tokio::time::sleep(after + Duration::from_millis(50)) => {
                    sync.sync_now(Some(account));
                }
            }
        });
    }

    /// Takes a queued message back into the composer; refused once it has
    /// left (or is leaving).
    pub async fn undo_send(&self, id: DraftId) -> Result<Draft, ServiceError> {
        self.ensure_running()?;
        if !self.store.undo_send(id).await? {
            return Err(ServiceError::Store(crate::store::StoreError::WrongState(
                "too late to undo: the message has been sent".into(),
            )));
        }
        tracing::info!(draft = id, "send undone");
        let draft = self.store.draft(id).await?;
        self.events.publish(Event::DataChanged {
            account_id: Some(draft.account_id),
        });
        Ok(draft)
    }

    /// Deletes a draft here and, soon after, at the provider.
    pub async fn discard_draft(&self, id: DraftId) -> Result<(), ServiceError> {
        self.ensure_running()?;
        let draft = self.store.draft(id).await?;
        self.store.discard_draft(id).await?;
        self.events.publish(Event::DataChanged {
            account_id: Some(draft.account_id),
        });
        self.sync.sync_now(Some(draft.account_id));
        Ok(())
    }

    /// The outbox entry and provider id of a draft on its way out.
    pub async fn draft_delivery(&self, id: DraftId) -> Result<DraftDelivery, ServiceError> {
        Ok(self.store.draft_delivery(id).await?)
    }

    /// Addresses the To field suggests for what the user typed.
    pub async fn contacts(&self, prefix: &str, limit: u32) -> Result<Vec<Contact>, ServiceError> {
        if prefix.chars().count() > 200 {
            return Ok(Vec::new());
        }
        Ok(self.store.contacts(prefix, limit.clamp(1, 50)).await?)
    }
}
