//! Drafts answering a message: `createReply`, `createReplyAll` and
//! `createForward`. The draft is in the original's conversation, from the
//! owner, with Exchange's recipients (the sender or Reply-To; for reply-all
//! everyone else too, the owner left out), a `RE: ` or `FW: ` subject, the
//! original's In-Reply-To/References, a forward's attachments, and an HTML
//! body quoting the original under Outlook's header block.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::{Map, Value};

use super::draft::{address_list, check_request_size, DraftFields, Mailbox};
use super::drafts::{created, fields_of, store};
use super::send::now_ms;
use super::{find, message_id, parse_object, SharedState};
use crate::graph::resource::Owner;
use crate::graph::{mailbox_mut, Params, Target};
use crate::http::Caller;
use crate::state::Shared;
use crate::world::MailProvider;

/// Which answer a draft is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reply,
    ReplyAll,
    Forward,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn names(list: &[Mailbox], with_address: bool) -> String {
    list.iter()
        .map(|(n, a)| match (n.is_empty(), with_address) {
            (true, _) => escape(a),
            (false, true) => escape(&format!("{n} <{a}>")),
            (false, false) => escape(n),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The HTML body of an answer: the comment, Outlook's header block, and
/// the original.
fn quoted(original: &DraftFields, sent_ms: i64, comment: &str) -> String {
    let sent = chrono::DateTime::from_timestamp_millis(sent_ms)
        .unwrap_or_default()
        .format("%A, %d %B %Y %H:%M:%S");
    let mut head = format!(
        "<b>From:</b> {}<br><b>Sent:</b> {sent}<br><b>To:</b> {}<br>",
        names(original.from.as_slice(), false),
        names(&original.to, true)
    );
    if !original.cc.is_empty() {
        head.push_str(&format!("<b>Cc:</b> {}<br>", names(&original.cc, true)));
    }
    head.push_str(&format!("<b>Subject:</b> {}", escape(&original.subject)));
    let body = if original.html {
        let lower = original.body.to_ascii_lowercase();
        match (lower.find("<body"), lower.rfind("</body>")) {
            (Some(open), Some(close)) if open < close => {
                let start = original.body[open..]
                    .find('>')
                    .map_or(open, |p| open + p + 1);
                original.body[start.min(close)..close].to_owned()
            }
            _ => original.body.clone(),
        }
    } else {
        escape(&original.body)
            .replace("\r\n", "\n")
            .replace('\n', "<br>")
    };
    let comment = if comment.is_empty() {
        String::new()
    } else {
        format!("<div>{}</div>", escape(comment).replace('\n', "<br>"))
    };
    format!(
        "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>{comment}\
<hr tabindex=\"-1\" style=\"display:inline-block; width:98%\"><div id=\"divRplyFwdMsg\" dir=\"ltr\">\
<font face=\"Calibri, sans-serif\" color=\"#000000\" style=\"font-size:11pt\">{head}</font> <div>&nbsp;</div></div>\
<div>{body}</div></body></html>"
    )
}

/// `list` without `owner` and without repeats.
fn others(
    list: impl IntoIterator<Item = Mailbox>,
    owner: &str,
    seen: &mut Vec<String>,
) -> Vec<Mailbox> {
    list.into_iter()
        .filter(|(_, a)| {
            let key = a.to_ascii_lowercase();
            let keep = !a.eq_ignore_ascii_case(owner) && !seen.contains(&key);
            seen.push(key);
            keep
        })
        .collect()
}

/// The draft answering `original` as `kind` says.
fn answer(
    kind: Kind,
    original: &DraftFields,
    owner: &Owner,
    sent_ms: i64,
    mut fields: DraftFields,
    comment: &str,
) -> DraftFields {
    let (prefix, stem) = match kind {
        Kind::Forward => ("FW: ", "fw:"),
        _ => ("RE: ", "re:"),
    };
    let subject = original.subject.trim();
    fields.subject = if subject.to_ascii_lowercase().starts_with(stem) {
        subject.to_owned()
    } else {
        format!("{prefix}{subject}")
    };
    fields.from = Some((owner.name.clone(), owner.address.clone()));
    let from_self = original
        .from
        .as_ref()
        .is_some_and(|(_, a)| a.eq_ignore_ascii_case(&owner.address));
    let sender: Vec<Mailbox> = if from_self {
        original.to.clone()
    } else if !original.reply_to.is_empty() {
        original.reply_to.clone()
    } else {
        original.from.iter().cloned().collect()
    };
    let mut seen = Vec::new();
    match kind {
        Kind::Reply => fields.to = others(sender, "", &mut seen),
        Kind::ReplyAll => {
            let to = sender.into_iter().chain(if from_self {
                Vec::new()
            } else {
                original.to.clone()
            });
            fields.to = others(to, &owner.address, &mut seen);
            fields.cc = others(original.cc.clone(), &owner.address, &mut seen);
        }
        Kind::Forward => fields.attachments = original.attachments.clone(),
    }
    if !original.message_id.is_empty() {
        let references = match &original.references {
            Some(r) => format!("{r} {}", original.message_id),
            None => original.message_id.clone(),
        };
        fields.references = Some(references);
        if kind != Kind::Forward {
            fields.in_reply_to = Some(original.message_id.clone());
        }
    }
    fields.html = true;
    fields.body = quoted(original, sent_ms, comment);
    fields
}

async fn create_answer(
    kind: Kind,
    shared: &Shared,
    caller: &Caller,
    params: &Params,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let target = match Target::of(caller, params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match message_id(params) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Map::new())
    } else {
        check_request_size(body).and_then(|()| parse_object(body))
    };
    let req = match req {
        Ok(r) => r,
        Err(r) => return r,
    };
    let comment = req
        .get("comment")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let now = now_ms();
    let index = {
        let mut world = shared.world();
        let new_id = world.new_message_id(MailProvider::Graph, now);
        let (original, owner, thread, sent_ms) = {
            let mb = match mailbox_mut(&mut world, &target.address) {
                Ok(mb) => mb,
                Err(r) => return r,
            };
            let i = match find(mb, &id) {
                Ok(i) => i,
                Err(r) => return r,
            };
            let m = &mb.messages[i];
            (
                fields_of(shared, mb, i),
                Owner::of(mb),
                m.thread_id.clone(),
                m.date_ms,
            )
        };
        let mut fields = answer(
            kind,
            &original,
            &owner,
            sent_ms,
            DraftFields::new(&owner, now, &new_id),
            comment,
        );
        if let Some(message) = req.get("message").and_then(Value::as_object) {
            if let Err(r) = fields.apply(message) {
                return r;
            }
        }
        if req.contains_key("toRecipients") {
            match address_list(req.get("toRecipients")) {
                Ok(to) => fields.to = to,
                Err(r) => return r,
            }
        }
        match store(
            &mut world,
            &target.address,
            new_id,
            &fields,
            Some(thread),
            now,
        ) {
            Ok(i) => i,
            Err(r) => return r,
        }
    };
    created(shared, &target, headers, index)
}

/// `POST /me/messages/{id}/createReply` (`{"comment"?, "message"?}`): 201 with the draft.
pub(crate) async fn create_reply(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_answer(Kind::Reply, &shared, &caller, &params, &headers, &body).await
}

/// `POST /me/messages/{id}/createReplyAll`: 201 with the draft.
pub(crate) async fn create_reply_all(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_answer(Kind::ReplyAll, &shared, &caller, &params, &headers, &body).await
}

/// `POST /me/messages/{id}/createForward` (`{"comment"?, "toRecipients"?, "message"?}`): 201.
pub(crate) async fn create_forward(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_answer(Kind::Forward, &shared, &caller, &params, &headers, &body).await
}
