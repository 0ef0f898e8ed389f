//! Mail written through any emulated service reaches the world the way real
//! mail would: the sender's service files its own copy (Gmail's SENT, Graph's
//! Sent Items, in their modules), and every emulated mailbox among the
//! recipients, Gmail or Microsoft 365, finds a new unread copy in its inbox
//! with the sender's headers intact (Bcc left out), threaded with the mail it
//! answers.
//!
//! Threading follows what both services document: a message joins the
//! conversation of a message it refers to (In-Reply-To, References) when
//! their subjects match once `Re:`/`Fwd:` prefixes are set aside; anything
//! else starts a conversation of its own.

pub mod envelope;

use std::sync::{Arc, OnceLock};

use self::envelope::{normalized_subject, rewrite_headers, same_message_id, Envelope};
use crate::mailbox::{Mailbox, Message, Source};
use crate::material::material;
use crate::world::{graph_folder_bit, MailProvider, World};

/// The Message-ID (without brackets) a message's bytes carry, found without
/// composing generated messages.
pub fn message_id_of(m: &Message) -> Option<String> {
    match &m.source {
        Source::Sample { reply, .. } => Some(format!("{}.{reply}@mail.emulator.invalid", m.id)),
        Source::WorkItemNotice { .. } => Some(format!("{}@notifications.emulator.invalid", m.id)),
        Source::Mime(i) => mime_message_ids().get(*i).cloned().flatten(),
        Source::Raw(bytes) => Envelope::of(bytes).message_id,
    }
}

/// Whether `m`'s Message-ID is `wanted` (without brackets), as
/// [`same_message_id`] compares them: what a search by Message-ID asks of
/// each message (Gmail's `rfc822msgid:`, Graph's `internetMessageId eq`).
pub fn has_message_id(m: &Message, wanted: &str) -> bool {
    message_id_of(m).is_some_and(|id| same_message_id(&id, wanted))
}

/// The Message-IDs of the material's MIME messages, read once: many seeded
/// messages share them, and a search by Message-ID asks every one.
fn mime_message_ids() -> &'static [Option<String>] {
    static IDS: OnceLock<Vec<Option<String>>> = OnceLock::new();
    IDS.get_or_init(|| {
        material()
            .mime
            .iter()
            .map(|(_, b)| Envelope::of(b).message_id)
            .collect()
    })
}

/// A message's subject, found without composing generated messages.
pub fn subject_of(m: &Message) -> String {
    match &m.source {
        Source::Sample { sample, .. } => {
            let samples = &material().samples;
            samples
                .get(*sample % samples.len().max(1))
                .map(|s| s.subject.clone())
                .unwrap_or_default()
        }
        Source::WorkItemNotice { item, title, .. } => format!("Work item {item} - {title}"),
        Source::Mime(i) => material()
            .mime
            .get(*i)
            .map(|(_, b)| Envelope::of(b).subject)
            .unwrap_or_default(),
        Source::Raw(bytes) => Envelope::of(bytes).subject,
    }
}

/// The live message of `mb` whose Message-ID is `wanted` (no brackets).
pub fn find_by_message_id(mb: &Mailbox, wanted: &str) -> Option<usize> {
    // Generated messages name themselves after their record.
    let generated = wanted
        .strip_suffix("@mail.emulator.invalid")
        .and_then(|rest| rest.rsplit_once('.'))
        .map(|(id, _)| id)
        .or_else(|| wanted.strip_suffix("@notifications.emulator.invalid"));
    if let Some(i) = generated.and_then(|id| mb.find(id)) {
        if message_id_of(&mb.messages[i]).as_deref() == Some(wanted) {
            return Some(i);
        }
    }
    let mime = mime_message_ids();
    mb.newest_first(0)
        .find(|(_, m)| match &m.source {
            Source::Raw(bytes) => Envelope::of(bytes).message_id.as_deref() == Some(wanted),
            Source::Mime(i) => mime.get(*i).and_then(Option::as_deref) == Some(wanted),
            _ => false,
        })
        .map(|(i, _)| i)
}

/// The conversation a message joins in `mb`: that of the newest message it
/// refers to, when their subjects match.
pub fn thread_by_references(mb: &Mailbox, env: &Envelope) -> Option<String> {
    let subject = normalized_subject(&env.subject);
    env.refs()
        .filter_map(|r| find_by_message_id(mb, r))
        .map(|i| &mb.messages[i])
        .find(|m| normalized_subject(&subject_of(m)) == subject)
        .map(|m| m.thread_id.clone())
}

/// Gmail's rule for a requested `threadId`: the conversation exists, and
/// the message refers to one of its messages with the same subject.
pub fn may_join(mb: &Mailbox, thread: &str, env: &Envelope) -> bool {
    let subject = normalized_subject(&env.subject);
    let refs: Vec<&str> = env.refs().collect();
    !refs.is_empty()
        && mb
            .messages
            .iter()
            .filter(|m| !m.deleted && m.thread_id == thread)
            .any(|m| {
                message_id_of(m).is_some_and(|id| refs.contains(&id.as_str()))
                    && normalized_subject(&subject_of(m)) == subject
            })
}

/// One copy put in an emulated recipient's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The recipient's service.
    pub provider: MailProvider,
    /// The recipient's address.
    pub address: String,
    /// The new message's id.
    pub id: String,
    /// Its conversation.
    pub thread_id: String,
}

/// The inbox labels of a new unread message in `mb`.
fn inbox_labels(mb: &Mailbox, provider: MailProvider) -> u64 {
    let bit = |id: &str| mb.label_bit(id).unwrap_or(0);
    match provider {
        MailProvider::Gmail => bit("INBOX") | bit("UNREAD") | bit("CATEGORY_PERSONAL"),
        MailProvider::Graph => graph_folder_bit("inbox") | bit("UNREAD") | bit("FOCUSED"),
    }
}

/// Puts a copy of `raw` (without its Bcc header) in the inbox of every
/// emulated mailbox among `env`'s recipients. The sender's own mailbox
/// (`sender`) is skipped unless `own_thread` names the conversation its copy
/// joins (Exchange files a separate inbox copy of mail to oneself; Gmail
/// labels the sent message instead, which its own module does).
pub fn deliver_to_recipients(
    world: &mut World,
    sender: (MailProvider, &str),
    raw: &[u8],
    env: &Envelope,
    now_ms: i64,
    own_thread: Option<&str>,
) -> Vec<Delivered> {
    let mut targets = Vec::new();
    for (provider, list) in [
        (MailProvider::Gmail, &world.gmail),
        (MailProvider::Graph, &world.graph),
    ] {
        for (index, mb) in list.iter().enumerate() {
            let own = provider == sender.0 && mb.address.eq_ignore_ascii_case(sender.1);
            if env.is_recipient(&mb.address) && (!own || own_thread.is_some()) {
                targets.push((provider, index, own));
            }
        }
    }
    if targets.is_empty() {
        return Vec::new();
    }
    let copy: Arc<[u8]> = rewrite_headers(raw, &["Bcc"], &[], &[]).into();
    let mut delivered = Vec::new();
    for (provider, index, own) in targets {
        let id = world.new_message_id(provider, now_ms);
        let mb = match provider {
            MailProvider::Gmail => &mut world.gmail[index],
            MailProvider::Graph => &mut world.graph[index],
        };
        let thread_id = match own_thread.filter(|_| own) {
            Some(t) => t.to_owned(),
            None => thread_by_references(mb, env).unwrap_or_else(|| id.clone()),
        };
        let labels = inbox_labels(mb, provider);
        mb.deliver(Message {
            id: id.clone(),
            thread_id: thread_id.clone(),
            labels,
            date_ms: now_ms,
            source: Source::Raw(copy.clone()),
            deleted: false,
            changed: 0,
        });
        delivered.push(Delivered {
            provider,
            address: mb.address.clone(),
            id,
            thread_id,
        });
    }
    delivered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{WorldConfig, GMAIL_ADDRESS, GRAPH_ADDRESS};

    fn world() -> World {
        World::build(
            WorldConfig {
                seed: 9,
                messages: 30,
                work_items: 5,
            },
            1_800_000_000_000,
        )
    }

    #[test]
    fn generated_messages_are_found_by_their_message_id() {
        let w = world();
        let mb = &w.gmail[0];
        for (i, m) in mb.messages.iter().enumerate() {
            let Some(id) = message_id_of(m) else { continue };
            assert_eq!(
                find_by_message_id(mb, &id).map(|j| mb.messages[j].id.clone()),
                Some(mb.messages[i].id.clone()),
                "{id}"
            );
        }
        assert_eq!(find_by_message_id(mb, "nobody@example.com"), None);
    }

    #[test]
    fn mail_reaches_every_emulated_recipient_and_threads_with_what_it_answers() {
        let mut w = world();
        let first = format!(
            "From: x@example.com\r\nTo: {GMAIL_ADDRESS}, {GRAPH_ADDRESS}\r\nBcc: hidden@example.com\r\n\
Subject: Plans\r\nMessage-ID: <p1@example.com>\r\n\r\nHi\r\n"
        );
        let env = Envelope::of(first.as_bytes());
        let got = deliver_to_recipients(
            &mut w,
            (MailProvider::Gmail, "x@example.com"),
            first.as_bytes(),
            &env,
            1_800_000_000_001,
            None,
        );
        assert_eq!(got.len(), 2);
        let gmail = &w.gmail[0];
        let i = gmail.find(&got[0].id).unwrap_or_default();
        assert_eq!(
            gmail.label_ids(gmail.messages[i].labels),
            ["INBOX", "CATEGORY_PERSONAL", "UNREAD"]
        );
        let Source::Raw(bytes) = &gmail.messages[i].source else {
            panic!("raw")
        };
        assert!(
            !String::from_utf8_lossy(bytes).contains("hidden@"),
            "Bcc is not delivered"
        );

        let reply = format!(
            "From: x@example.com\r\nTo: {GMAIL_ADDRESS}\r\nSubject: RE: Plans\r\n\
Message-ID: <p2@example.com>\r\nIn-Reply-To: <p1@example.com>\r\n\r\nYes\r\n"
        );
        let env = Envelope::of(reply.as_bytes());
        let again = deliver_to_recipients(
            &mut w,
            (MailProvider::Gmail, "x@example.com"),
            reply.as_bytes(),
            &env,
            1_800_000_000_002,
            None,
        );
        assert_eq!(
            again[0].thread_id, got[0].thread_id,
            "a reply joins the thread"
        );

        let unrelated = format!(
            "From: x@example.com\r\nTo: {GMAIL_ADDRESS}\r\nSubject: Something else\r\n\
In-Reply-To: <p1@example.com>\r\n\r\nYes\r\n"
        );
        let env = Envelope::of(unrelated.as_bytes());
        let other = deliver_to_recipients(
            &mut w,
            (MailProvider::Gmail, "x@example.com"),
            unrelated.as_bytes(),
            &env,
            1_800_000_000_003,
            None,
        );
        assert_eq!(
            other[0].thread_id, other[0].id,
            "another subject is another thread"
        );
        let gmail = &w.gmail[0];
        let thread = got[0].thread_id.clone();
        assert!(may_join(gmail, &thread, &Envelope::of(reply.as_bytes())));
        assert!(!may_join(
            gmail,
            &thread,
            &Envelope::of(unrelated.as_bytes())
        ));
    }

    #[test]
    fn the_sender_gets_no_inbox_copy_unless_asked() {
        let mut w = world();
        let raw = format!("To: {GRAPH_ADDRESS}\r\nSubject: Me\r\n\r\n.\r\n");
        let env = Envelope::of(raw.as_bytes());
        let sender = (MailProvider::Graph, GRAPH_ADDRESS);
        assert!(deliver_to_recipients(
            &mut w,
            sender,
            raw.as_bytes(),
            &env,
            1_800_000_000_010,
            None
        )
        .is_empty());
        let own = deliver_to_recipients(
            &mut w,
            sender,
            raw.as_bytes(),
            &env,
            1_800_000_000_011,
            Some("T"),
        );
        assert_eq!(own[0].thread_id, "T");
    }
}
