//! `/me` and the mail folders: the well-known folders and the user's own,
//! nested, under the root of the mailbox (`msgfolderroot`), addressed by id
//! or (the well-known ones) by well-known name.
//!
//! This module reads the tree: lists of folders (`mailFolders`,
//! `childFolders`, with `$top`, `$skip`, `$select` and
//! `includeHiddenFolders`) and single folders with their counts. Creating,
//! renaming, moving and deleting folders is in [`write`]; the tree itself,
//! kept in the mailbox's label table, is [`tree`].

#[cfg(test)]
mod tests;
pub(crate) mod tree;
mod write;

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};

pub(crate) use self::tree::FolderRef;
use self::tree::{children, is_folder, is_hidden, root_id};
pub(super) use self::write::{create, delete, move_folder, permanent_delete, update};
use super::resource::{size_estimate, Bits};
use super::{
    bad_request, context, encode_query, id_malformed, item_not_found, looks_like_id, mailbox_mut,
    query_first, query_pairs, respond, user_id, Params, Target,
};
use crate::http::Caller;
use crate::mailbox::Mailbox;
use crate::state::Shared;
use crate::world::{graph_folder_id, GRAPH_FOLDERS, OWNER_NAME};

/// Page size of folder lists without `$top`.
const DEFAULT_TOP: usize = 10;

/// The folder properties, in Graph's order.
const FOLDER_PROPS: &[&str] = &[
    "displayName",
    "parentFolderId",
    "childFolderCount",
    "unreadItemCount",
    "totalItemCount",
    "sizeInBytes",
    "isHidden",
];

/// Resolves a folder id or well-known name (case-insensitive); a folder
/// deleted for good is not found.
pub fn resolve(mb: &Mailbox, seed: u64, key: &str) -> Result<FolderRef, Response> {
    let lower = key.to_ascii_lowercase();
    if let Some(i) = GRAPH_FOLDERS.iter().position(|(wk, _)| *wk == lower) {
        return Ok(FolderRef::Folder(i));
    }
    if lower == "msgfolderroot" || key == root_id(seed) {
        return Ok(FolderRef::Root);
    }
    if let Some(i) = (0..mb.labels.len()).find(|&i| is_folder(mb, i) && mb.labels[i].id == key) {
        return Ok(FolderRef::Folder(i));
    }
    Err(if looks_like_id(key) {
        item_not_found()
    } else {
        id_malformed()
    })
}

/// The folder a route names: `{folder}`, or `{key}` written
/// `mailFolders('inbox')` as Graph's own links do.
pub fn folder_key(params: &Params) -> Result<Option<String>, Response> {
    if let Some(f) = params.get("folder") {
        return Ok(Some(f.to_owned()));
    }
    let Some(key) = params.get("key") else {
        return Ok(None);
    };
    let inner = key
        .get(..12)
        .filter(|p| p.eq_ignore_ascii_case("mailFolders("))
        .and_then(|_| key[12..].strip_suffix(')'))
        .map(|k| k.trim_matches('\'').to_owned());
    match inner {
        Some(k) if !k.is_empty() => Ok(Some(k)),
        _ => Err(bad_request(
            "BadRequest",
            &format!("Resource not found for the segment '{key}'."),
        )),
    }
}

/// Per label index: the folder's total, unread and size.
fn counts(mb: &Mailbox) -> Vec<(u64, u64, u64)> {
    let mut out = vec![(0u64, 0u64, 0u64); mb.labels.len()];
    let bits = Bits::of(mb);
    let unread = bits.unread;
    for m in mb.messages.iter().filter(|m| !m.deleted) {
        if let Some(c) = bits.folder(m.labels).and_then(|i| out.get_mut(i)) {
            c.0 += 1;
            c.1 += u64::from(m.labels & unread != 0);
            c.2 += size_estimate(m);
        }
    }
    out
}

fn folder_json(mb: &Mailbox, seed: u64, folder: FolderRef, counts: &[(u64, u64, u64)]) -> Value {
    match folder {
        FolderRef::Root => json!({
            "id": root_id(seed),
            "displayName": "Top of Information Store",
            "parentFolderId": graph_folder_id(seed, "root"),
            "childFolderCount": children(mb, FolderRef::Root, true).len(),
            "unreadItemCount": 0,
            "totalItemCount": 0,
            "sizeInBytes": 0,
            "isHidden": false,
        }),
        FolderRef::Folder(i) => {
            let (total, unread, size) = counts.get(i).copied().unwrap_or_default();
            let parent = match tree::parent(mb, i) {
                FolderRef::Root => root_id(seed),
                FolderRef::Folder(p) => mb.labels[p].id.clone(),
            };
            json!({
                "id": mb.labels[i].id,
                "displayName": mb.labels[i].name,
                "parentFolderId": parent,
                "childFolderCount": children(mb, folder, true).len(),
                "unreadItemCount": unread,
                "totalItemCount": total,
                "sizeInBytes": size,
                "isHidden": is_hidden(mb, i),
            })
        }
    }
}

/// Parses a folder `$select`, returning the selected names (None: all).
fn folder_select(value: Option<&str>) -> Result<Option<Vec<&'static str>>, Response> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name.eq_ignore_ascii_case("id") {
            continue;
        }
        match FOLDER_PROPS.iter().find(|p| p.eq_ignore_ascii_case(name)) {
            Some(p) => out.push(*p),
            None => {
                return Err(bad_request(
                    "RequestBroker--ParseUri",
                    &format!("Could not find a property named '{name}' on type 'microsoft.graph.mailFolder'."),
                ))
            }
        }
    }
    Ok(Some(out))
}

fn apply_select(folder: Value, select: Option<&[&str]>) -> Value {
    let (Some(select), Value::Object(map)) = (select, &folder) else {
        return folder;
    };
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| *k == "id" || select.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

fn select_suffix(select: Option<&[&str]>) -> String {
    select.map_or_else(String::new, |s| {
        let mut names = vec!["id"];
        names.extend_from_slice(s);
        format!("({})", names.join(","))
    })
}

fn page_params(pairs: &[(String, String)]) -> Result<(usize, usize), Response> {
    let parse = |key: &str, default: usize| match query_first(pairs, key) {
        None => Ok(default),
        Some(v) => v.trim().parse::<usize>().map_err(|_| {
            bad_request(
                "BadRequest",
                &format!("Invalid value '{v}' for query option '{key}'."),
            )
        }),
    };
    Ok((
        parse("$top", DEFAULT_TOP)?.clamp(1, 1000),
        parse("$skip", 0)?,
    ))
}

/// `GET /me`.
pub async fn me(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let name = {
        let mut world = shared.world();
        match mailbox_mut(&mut world, &target.address) {
            Ok(mb) => mb.display_name.clone(),
            Err(r) => return r,
        }
    };
    let name = if name.is_empty() {
        OWNER_NAME.to_owned()
    } else {
        name
    };
    let (given, surname) = name.split_once(' ').unwrap_or((name.as_str(), ""));
    respond(
        StatusCode::OK,
        &json!({
            "@odata.context": context(&shared, "users/$entity"),
            "businessPhones": [],
            "displayName": name,
            "givenName": given,
            "jobTitle": null,
            "mail": target.address,
            "mobilePhone": null,
            "officeLocation": null,
            "preferredLanguage": "en-US",
            "surname": surname,
            "userPrincipalName": target.address,
            "id": user_id(&target.address),
        }),
        &[],
    )
}

/// Lists `folders` as a page of `$top` from `$skip`, with a nextLink to `path`.
fn folder_page(
    shared: &Shared,
    mb: &Mailbox,
    seed: u64,
    folders: &[FolderRef],
    pairs: &[(String, String)],
    context_tail: &str,
    path: &str,
) -> Result<Value, Response> {
    let (top, skip) = page_params(pairs)?;
    let select = folder_select(query_first(pairs, "$select"))?;
    let counts = counts(mb);
    let value: Vec<Value> = folders
        .iter()
        .skip(skip)
        .take(top)
        .map(|f| apply_select(folder_json(mb, seed, *f, &counts), select.as_deref()))
        .collect();
    let mut body = json!({
        "@odata.context": context(shared, &format!("{context_tail}{}", select_suffix(select.as_deref()))),
        "value": value,
    });
    if skip + top < folders.len() {
        let mut q = String::new();
        for (k, v) in pairs {
            if !k.eq_ignore_ascii_case("$top") && !k.eq_ignore_ascii_case("$skip") {
                q.push_str(&format!("{}={}&", encode_query(k), encode_query(v)));
            }
        }
        body["@odata.nextLink"] = json!(format!(
            "{}{path}?{q}%24top={top}&%24skip={}",
            shared.base_url,
            skip + top
        ));
    }
    Ok(body)
}

/// The folders in `parent` as a list shows them: by display name, hidden
/// ones only with `includeHiddenFolders=true`.
fn listed(mb: &Mailbox, parent: FolderRef, pairs: &[(String, String)]) -> Vec<FolderRef> {
    let hidden =
        query_first(pairs, "includeHiddenFolders").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    children(mb, parent, hidden)
        .into_iter()
        .map(FolderRef::Folder)
        .collect()
}

/// One folder as an entity, with `@odata.context` ending in `context_tail`.
pub(super) fn entity(
    shared: &Shared,
    mb: &Mailbox,
    seed: u64,
    folder: FolderRef,
    select: Option<&[&str]>,
    context_tail: &str,
) -> Value {
    let mut body = apply_select(folder_json(mb, seed, folder, &counts(mb)), select);
    body["@odata.context"] = json!(context(shared, context_tail));
    body
}

/// `GET /me/mailFolders` (`$top`, `$skip`, `$select`, `includeHiddenFolders`).
pub async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    params: Params,
    RawQuery(raw): RawQuery,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let pairs = query_pairs(raw.as_deref());
    let mut world = shared.world();
    let seed = world.config.seed;
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    match folder_page(
        &shared,
        mb,
        seed,
        &listed(mb, FolderRef::Root, &pairs),
        &pairs,
        &format!("{}/mailFolders", target.context_user()),
        &format!("{}/mailFolders", target.prefix),
    ) {
        Ok(body) => respond(StatusCode::OK, &body, &[]),
        Err(r) => r,
    }
}

/// `GET /me/mailFolders/{id}`.
pub async fn get_folder(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    params: Params,
    RawQuery(raw): RawQuery,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let key = match folder_key(&params) {
        Ok(Some(k)) => k,
        Ok(None) => return id_malformed(),
        Err(r) => return r,
    };
    let pairs = query_pairs(raw.as_deref());
    let select = match folder_select(query_first(&pairs, "$select")) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut world = shared.world();
    let seed = world.config.seed;
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let folder = match resolve(mb, seed, &key) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let body = entity(
        &shared,
        mb,
        seed,
        folder,
        select.as_deref(),
        &format!(
            "{}/mailFolders{}/$entity",
            target.context_user(),
            select_suffix(select.as_deref())
        ),
    );
    respond(StatusCode::OK, &body, &[])
}

/// `GET /me/mailFolders/{id}/childFolders`: the folders directly in a
/// folder; the root's are the top-level ones.
pub async fn child_folders(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    params: Params,
    RawQuery(raw): RawQuery,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let key = match folder_key(&params) {
        Ok(Some(k)) => k,
        Ok(None) => return id_malformed(),
        Err(r) => return r,
    };
    let pairs = query_pairs(raw.as_deref());
    let mut world = shared.world();
    let seed = world.config.seed;
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let children = match resolve(mb, seed, &key) {
        Ok(folder) => listed(mb, folder, &pairs),
        Err(r) => return r,
    };
    match folder_page(
        &shared,
        mb,
        seed,
        &children,
        &pairs,
        &format!(
            "{}/mailFolders('{key}')/childFolders",
            target.context_user()
        ),
        &format!("{}/mailFolders/{key}/childFolders", target.prefix),
    ) {
        Ok(body) => respond(StatusCode::OK, &body, &[]),
        Err(r) => r,
    }
}
