//! `GET /_emulator/truth`: the server-side state a test compares a synced
//! database with: every account's live messages with their folders and read
//! state, its drafts and the mail it sent (so a test can count the copies of
//! one message by its Message-ID header), a Graph account's folder tree,
//! and the Azure DevOps work items.

use serde::Serialize;

use crate::delivery::envelope::{bracketed, Envelope};
use crate::graph::folders::tree::{self, FolderRef};
use crate::graph::resource::conversation_id;
use crate::mailbox::{Mailbox, Message, Source};
use crate::world::{graph_folder_bit, MailProvider, World};

impl World {
    /// The server-side state, for comparing a synced database with.
    pub fn truth(&self) -> Truth {
        let mut accounts = Vec::new();
        for (provider, list) in [
            (MailProvider::Gmail, &self.gmail),
            (MailProvider::Graph, &self.graph),
        ] {
            for mb in list {
                let unread_bit = mb.label_bit("UNREAD").unwrap_or(0);
                let hidden = unread_bit
                    | mb.label_bit("FLAGGED").unwrap_or(0)
                    | mb.label_bit("FOCUSED").unwrap_or(0)
                    // Graph keeps categories and flags as labels too; only folders are folders.
                    | match provider {
                        MailProvider::Graph => mb
                            .labels
                            .iter()
                            .enumerate()
                            .filter(|(_, l)| !l.kind.is_folder())
                            .fold(0, |mask, (i, _)| mask | 1 << i),
                        MailProvider::Gmail => 0,
                    };
                let messages = mb
                    .messages
                    .iter()
                    .filter(|m| !m.deleted)
                    .map(|m| TruthMessage {
                        id: m.id.clone(),
                        folders: mb
                            .label_ids(m.labels & !hidden)
                            .into_iter()
                            .map(str::to_owned)
                            .collect(),
                        unread: m.labels & unread_bit != 0,
                        thread_id: thread_id(provider, m),
                    })
                    .collect();
                accounts.push(TruthAccount {
                    provider: match provider {
                        MailProvider::Gmail => "gmail",
                        MailProvider::Graph => "graph",
                    },
                    address: mb.address.clone(),
                    messages,
                    drafts: Some(drafts(mb, provider)),
                    sent: Some(sent(mb, provider)),
                    folders: match provider {
                        MailProvider::Graph => Some(folders(mb, self.config.seed)),
                        MailProvider::Gmail => None,
                    },
                    work_items: Vec::new(),
                    followed: None,
                    mentioned: None,
                });
            }
        }
        accounts.push(TruthAccount {
            provider: "ado",
            address: self.ado.name.clone(),
            messages: Vec::new(),
            drafts: None,
            sent: None,
            folders: None,
            work_items: self
                .ado
                .items
                .iter()
                .filter(|w| !w.deleted)
                .map(|w| TruthWorkItem {
                    id: w.id,
                    rev: w.rev,
                    state: w.field_str("System.State").to_owned(),
                    title: w.field_str("System.Title").to_owned(),
                    item_type: w.field_str("System.WorkItemType").to_owned(),
                    assigned_to: w
                        .fields
                        .get("System.AssignedTo")
                        .and_then(|a| a.get("uniqueName"))
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned),
                })
                .collect(),
            followed: Some(self.ado.live_followed()),
            mentioned: Some(self.ado.mentioned(None)),
        });
        Truth { accounts }
    }
}

/// `GET /_emulator/truth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Truth {
    /// Every account.
    pub accounts: Vec<TruthAccount>,
}

/// One account's server-side state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthAccount {
    /// `gmail`, `graph` or `ado`.
    pub provider: &'static str,
    /// The mailbox address, or the organisation name.
    pub address: String,
    /// Live messages.
    pub messages: Vec<TruthMessage>,
    /// Mail accounts: the drafts, least recently written first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drafts: Option<Vec<TruthDraft>>,
    /// Mail accounts: the sent messages (Gmail's SENT, Graph's Sent Items),
    /// oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent: Option<Vec<TruthSent>>,
    /// Graph: every folder, well-known and the user's, in the order they
    /// were made (parents before their children).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folders: Option<Vec<TruthFolder>>,
    /// Live work items.
    pub work_items: Vec<TruthWorkItem>,
    /// Azure DevOps: live items the owner follows (`@Follows`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followed: Option<Vec<u32>>,
    /// Azure DevOps: live items with a comment @mentioning the owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mentioned: Option<Vec<u32>>,
}

/// One message as the provider holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthMessage {
    /// Its id, exactly as the API returns it.
    pub id: String,
    /// Gmail label ids (without UNREAD), or the Graph folder id.
    pub folders: Vec<String>,
    /// Unread.
    pub unread: bool,
    /// Gmail: the threadId; Graph: the conversationId.
    pub thread_id: String,
}

/// One Graph mail folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthFolder {
    /// Its id, exactly as the API returns it.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// The display names from the top down (`Inbox/Projects/Ember`), as the
    /// control API names folders.
    pub path: String,
    /// Its `parentFolderId` (the root's id for a top-level folder).
    pub parent_id: String,
    /// Its well-known name (`inbox`), for a well-known folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub well_known: Option<&'static str>,
    /// Left out of folder lists without `includeHiddenFolders`.
    pub hidden: bool,
}

/// One work item as the provider holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthWorkItem {
    /// Its id.
    pub id: u32,
    /// Its revision.
    pub rev: u32,
    /// Its state.
    pub state: String,
    /// Its title.
    pub title: String,
    /// Its type (`Bug` ...).
    #[serde(rename = "type")]
    pub item_type: String,
    /// The assignee's address, if any.
    pub assigned_to: Option<String>,
}

/// One draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthDraft {
    /// Gmail: the draft id; Graph: the message id.
    pub id: String,
    /// The id of the message holding it (Graph: the same as `id`).
    pub message_id: String,
    /// Its subject.
    pub subject: String,
    /// Its To addresses.
    pub to: Vec<String>,
    /// Gmail: the threadId; Graph: the conversationId.
    pub thread_id: String,
}

/// One sent message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruthSent {
    /// The message id.
    pub id: String,
    /// Gmail: the threadId; Graph: the conversationId.
    pub thread_id: String,
    /// Its subject.
    pub subject: String,
    /// Its Message-ID header, `<...>`.
    pub message_id_header: Option<String>,
    /// Its In-Reply-To header, `<...>`.
    pub in_reply_to: Option<String>,
    /// Its References, `<...>` each, oldest first.
    pub references: Vec<String>,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
    /// Bcc addresses (the sender's copy keeps them).
    pub bcc: Vec<String>,
}

/// The headers of a message (generated ones are composed; they are in
/// Sent or Drafts only when a test moved them there).
fn envelope(mb: &Mailbox, m: &Message) -> Envelope {
    match &m.source {
        Source::Raw(bytes) => Envelope::of(bytes),
        _ => Envelope::of(&crate::compose::raw(
            m,
            crate::compose::ComposeContext {
                owner: &mb.address,
                owner_name: &mb.display_name,
                ado_base: "http://127.0.0.1",
                ado_org: crate::world::ADO_ORG,
            },
        )),
    }
}

fn thread_id(provider: MailProvider, m: &Message) -> String {
    match provider {
        MailProvider::Gmail => m.thread_id.clone(),
        MailProvider::Graph => conversation_id(&m.thread_id),
    }
}

fn drafts(mb: &Mailbox, provider: MailProvider) -> Vec<TruthDraft> {
    let draft = |id: &str, m: &Message| {
        let env = envelope(mb, m);
        TruthDraft {
            id: id.to_owned(),
            message_id: m.id.clone(),
            subject: env.subject,
            to: env.to,
            thread_id: thread_id(provider, m),
        }
    };
    match provider {
        MailProvider::Gmail => mb
            .drafts
            .iter()
            .filter_map(|d| mb.find(&d.message).map(|i| draft(&d.id, &mb.messages[i])))
            .collect(),
        MailProvider::Graph => {
            let bit = graph_folder_bit("drafts");
            mb.messages
                .iter()
                .filter(|m| !m.deleted && m.labels & bit != 0)
                .map(|m| draft(&m.id, m))
                .collect()
        }
    }
}

fn folders(mb: &Mailbox, seed: u64) -> Vec<TruthFolder> {
    (0..mb.labels.len())
        .filter(|&i| tree::is_folder(mb, i))
        .map(|i| TruthFolder {
            id: mb.labels[i].id.clone(),
            name: mb.labels[i].name.clone(),
            path: tree::path(mb, i),
            parent_id: match tree::parent(mb, i) {
                FolderRef::Root => tree::root_id(seed),
                FolderRef::Folder(p) => mb.labels[p].id.clone(),
            },
            well_known: tree::well_known(mb, i),
            hidden: tree::is_hidden(mb, i),
        })
        .collect()
}

fn sent(mb: &Mailbox, provider: MailProvider) -> Vec<TruthSent> {
    let bit = match provider {
        MailProvider::Gmail => mb.label_bit("SENT").unwrap_or(0),
        MailProvider::Graph => graph_folder_bit("sentitems"),
    };
    mb.messages
        .iter()
        .filter(|m| !m.deleted && bit != 0 && m.labels & bit != 0)
        .map(|m| {
            let env = envelope(mb, m);
            TruthSent {
                id: m.id.clone(),
                thread_id: thread_id(provider, m),
                subject: env.subject,
                message_id_header: env.message_id.as_deref().map(bracketed),
                in_reply_to: env.in_reply_to.first().map(|r| bracketed(r)),
                references: env.references.iter().map(|r| bracketed(r)).collect(),
                to: env.to,
                cc: env.cc,
                bcc: env.bcc,
            }
        })
        .collect()
}
