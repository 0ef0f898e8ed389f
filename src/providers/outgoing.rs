//! Drafts and sending, provider-neutral: how a draft reaches the
//! provider's Drafts, and how a queued message is sent **exactly once**.
//!
//! Neither Gmail nor Microsoft Graph takes an idempotency key, and any
//! request can be cut off after the provider acted on it, or the process
//! killed between the provider's answer and our record of it. So Ember
//! never sends a message blind; it sends *the provider's draft, by id*:
//!
//! 1. The final version is put in the provider's Drafts first (an update of
//!    the copy it already has, or, only when no copy was ever recorded, a
//!    new one; before creating, a copy with the same `Message-ID` is looked
//!    for, in case a crash kept us from recording the last creation).
//! 2. The draft is sent by its id. Sending consumes the draft at the
//!    provider in the same step (Gmail's `drafts.send` deletes it; Graph's
//!    `send` moves it to Sent Items), so a repeat of the request, by our
//!    retry or by the next attempt after a crash, finds no draft (404)
//!    instead of sending a second copy.
//! 3. The local draft is claimed (`queued` → `sending`) in its own
//!    transaction before step 1. An attempt that finds it already `sending`
//!    knows an earlier one may have reached the provider, and first looks
//!    in Sent for the message (by its `Message-ID`; for Graph, by the
//!    draft's immutable id); found, it only records that.
//! 4. A 404 from the send, or from updating a copy we had recorded, means
//!    the draft left Drafts: sent (then Sent has it), or deleted on another
//!    device. Sent is searched again; only when it stays empty after a few
//!    attempts (search indexes lag) does the message return to the composer
//!    with that reason. It is never re-created and sent: that is the one
//!    path that could produce a second copy.
//!
//! Hence a retry can only ever send a draft that still exists at the
//! provider, and a draft that exists at the provider has not been sent.

use std::future::Future;

use super::ProviderError;
use crate::model::DraftState;
use crate::store::drafts::DraftUpload;
use crate::store::outbox::DraftAction;
use crate::store::Store;
use crate::sync::ActionError;

/// A send whose draft vanished is looked for in Sent on this many attempts
/// before the message goes back to the composer.
const SENT_LOOKUPS: i64 = 3;

/// The provider's copy of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDraft {
    /// Gmail's draft id; Graph's message id.
    pub draft_id: String,
    /// The draft's message id (Gmail's changes with each update).
    pub message_id: String,
    /// The thread (Gmail) or conversation (Graph) it is in.
    pub thread_id: Option<String>,
}

/// What a provider offers for drafts and sending.
pub trait DraftApi: Sync {
    /// The id of the sent message that is this draft, if Sent has it.
    fn find_sent(
        &self,
        upload: &DraftUpload,
    ) -> impl Future<Output = Result<Option<String>, ProviderError>> + Send;
    /// A copy of this draft in the provider's Drafts that we did not
    /// record (same `Message-ID`).
    fn find_draft(
        &self,
        upload: &DraftUpload,
    ) -> impl Future<Output = Result<Option<ProviderDraft>, ProviderError>> + Send;
    /// Puts a new copy in the provider's Drafts.
    fn create(
        &self,
        store: &Store,
        upload: &DraftUpload,
    ) -> impl Future<Output = Result<ProviderDraft, ProviderError>> + Send;
    /// Replaces the copy `copy` with this version.
    fn update(
        &self,
        store: &Store,
        upload: &DraftUpload,
        copy: &ProviderDraft,
    ) -> impl Future<Output = Result<ProviderDraft, ProviderError>> + Send;
    /// Sends the copy `copy`; returns the sent message's id.
    fn send(
        &self,
        copy: &ProviderDraft,
    ) -> impl Future<Output = Result<String, ProviderError>> + Send;
    /// Deletes a copy (404 is success).
    fn delete(
        &self,
        draft_id: Option<&str>,
        message_id: Option<&str>,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;
}

fn store_error(e: crate::store::StoreError) -> ActionError {
    ActionError::later(e.to_string())
}

/// The copy recorded for `upload`, if any.
fn recorded(upload: &DraftUpload) -> Option<ProviderDraft> {
    Some(ProviderDraft {
        draft_id: upload.provider_draft_id.clone()?,
        message_id: upload
            .provider_message_id
            .clone()
            .or_else(|| upload.provider_draft_id.clone())?,
        thread_id: upload.thread_provider_id.clone(),
    })
}

/// Records `copy` as holding `upload`'s revision; deletes it again when
/// the draft was discarded meanwhile.
async fn record<A: DraftApi>(
    api: &A,
    store: &Store,
    upload: &DraftUpload,
    copy: &ProviderDraft,
) -> Result<bool, ActionError> {
    let kept = store
        .draft_uploaded(
            upload.draft.id,
            upload.revision,
            &copy.draft_id,
            &copy.message_id,
            copy.thread_id.as_deref(),
        )
        .await
        .map_err(store_error)?;
    if !kept {
        api.delete(Some(&copy.draft_id), Some(&copy.message_id))
            .await?;
    }
    Ok(kept)
}

/// A new copy, or the one a crash kept us from recording.
async fn create_or_adopt<A: DraftApi>(
    api: &A,
    store: &Store,
    upload: &DraftUpload,
) -> Result<ProviderDraft, ActionError> {
    Ok(match api.find_draft(upload).await? {
        Some(found) => api.update(store, upload, &found).await?,
        None => api.create(store, upload).await?,
    })
}

/// Carries out one outbox entry of a draft through a provider's drafts
/// API: the one place every mail provider's source hands its draft
/// actions to; `attempts` is how many earlier attempts the outbox made.
pub async fn apply<A: DraftApi>(
    api: &A,
    store: &Store,
    action: &DraftAction,
    attempts: i64,
) -> Result<(), ActionError> {
    match action {
        DraftAction::Save { draft } => save_draft(api, store, *draft).await,
        DraftAction::Send { draft } => send_draft(api, store, *draft, attempts).await,
        DraftAction::Delete {
            provider_draft_id,
            provider_message_id,
        } => {
            delete_draft(
                api,
                provider_draft_id.as_deref(),
                provider_message_id.as_deref(),
            )
            .await
        }
    }
}

/// Puts draft `draft`'s latest version in the provider's Drafts (the
/// outbox's `draft.save`).
pub async fn save_draft<A: DraftApi>(
    api: &A,
    store: &Store,
    draft: i64,
) -> Result<(), ActionError> {
    let Some(upload) = store.draft_upload(draft).await.map_err(store_error)? else {
        return Ok(()); // discarded: nothing to save
    };
    if !matches!(upload.draft.state, DraftState::Editing | DraftState::Failed)
        || upload.synced_revision >= upload.revision
    {
        return Ok(()); // a send carries it, or the copy is current
    }
    let copy = match recorded(&upload) {
        Some(copy) => match api.update(store, &upload, &copy).await {
            Ok(copy) => copy,
            Err(e) if e.status() == Some(404) => {
                // Deleted on another device while the user writes here:
                // the user's text wins, in a new copy.
                store
                    .forget_provider_copy(draft)
                    .await
                    .map_err(store_error)?;
                let Some(fresh) = store.draft_upload(draft).await.map_err(store_error)? else {
                    return Ok(());
                };
                let copy = api.create(store, &fresh).await?;
                record(api, store, &fresh, &copy).await?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        },
        None => create_or_adopt(api, store, &upload).await?,
    };
    record(api, store, &upload, &copy).await?;
    Ok(())
}

/// Deletes the provider's copy of a discarded draft (`draft.delete`).
pub async fn delete_draft<A: DraftApi>(
    api: &A,
    draft_id: Option<&str>,
    message_id: Option<&str>,
) -> Result<(), ActionError> {
    match api.delete(draft_id, message_id).await {
        Err(e) if e.status() != Some(404) => Err(e.into()),
        _ => Ok(()),
    }
}

/// Sends queued draft `draft` exactly once (`draft.send`); `attempts` is
/// how many earlier attempts the outbox made.
pub async fn send_draft<A: DraftApi>(
    api: &A,
    store: &Store,
    draft: i64,
    attempts: i64,
) -> Result<(), ActionError> {
    let Some(before) = store.claim_send(draft).await.map_err(store_error)? else {
        return Ok(()); // taken back with Undo, or discarded
    };
    let Some(upload) = store.draft_upload(draft).await.map_err(store_error)? else {
        return Ok(());
    };
    if before == DraftState::Sending {
        // An earlier attempt may have reached the provider.
        if let Some(sent) = api.find_sent(&upload).await? {
            tracing::info!(draft, "found in Sent after an interrupted send");
            return store.draft_sent(draft, &sent).await.map_err(store_error);
        }
    }
    let copy = match recorded(&upload) {
        Some(copy) if upload.synced_revision >= upload.revision => copy,
        Some(copy) => match api.update(store, &upload, &copy).await {
            Ok(copy) => copy,
            Err(e) if e.status() == Some(404) => {
                return vanished(api, store, &upload, attempts).await;
            }
            Err(e) => return Err(e.into()),
        },
        None => create_or_adopt(api, store, &upload).await?,
    };
    if !record(api, store, &upload, &copy).await? {
        return Ok(());
    }
    match api.send(&copy).await {
        Ok(sent) => {
            tracing::info!(draft, "sent");
            store.draft_sent(draft, &sent).await.map_err(store_error)
        }
        Err(e) if e.status() == Some(404) => vanished(api, store, &upload, attempts).await,
        Err(e) => Err(e.into()),
    }
}

/// The draft left the provider's Drafts without our record of sending
/// it: sent (Sent has it), or deleted elsewhere (it goes back to the
/// composer; re-sending it is the user's choice, never ours).
async fn vanished<A: DraftApi>(
    api: &A,
    store: &Store,
    upload: &DraftUpload,
    attempts: i64,
) -> Result<(), ActionError> {
    if let Some(sent) = api.find_sent(upload).await? {
        return store
            .draft_sent(upload.draft.id, &sent)
            .await
            .map_err(store_error);
    }
    if attempts + 1 < SENT_LOOKUPS {
        return Err(ActionError::later(
            "the draft left Drafts; looking for it in Sent again shortly",
        ));
    }
    Err(ActionError::Refused(
        "the draft was deleted from Drafts on another device before it was sent; \
         nothing was sent — send it again if you still want to"
            .into(),
    ))
}

/// Sizes of `upload`'s files that still go out.
pub fn kept_attachments(
    upload: &DraftUpload,
) -> impl Iterator<Item = &crate::store::drafts::AttachmentData> {
    upload.attachments.iter().filter(|a| !a.removed)
}
