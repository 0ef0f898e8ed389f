//! Changing the folder tree. `POST /me/mailFolders` and
//! `POST /me/mailFolders/{id}/childFolders` make a folder from
//! `{"displayName", "isHidden"?}` and answer 201 with it, or 409
//! `ErrorFolderExists` when the parent already holds a folder of that name
//! (names compare without case, and at the top the well-known folders
//! count). `DELETE /me/mailFolders/{id}` deletes a user folder as Exchange
//! does, by moving it, with the folders and messages it holds, into Deleted
//! Items; deleting a folder that is already in Deleted Items, or
//! `POST /me/mailFolders/{id}/permanentDelete`, deletes it for good: its
//! messages and subfolders are gone and its id is never found again. The
//! root and the well-known folders cannot be deleted.
//!
//! `PATCH /me/mailFolders/{id}` renames a folder (`{"displayName"}`; 200
//! with the folder), a well-known one too, as Exchange allows.
//! `POST /me/mailFolders/{id}/move {"destinationId"}` moves a user folder,
//! with what it holds, into another folder or (the root's id or
//! `msgfolderroot`) to the top; it answers 200 with the folder, whose id is
//! unchanged. A folder cannot move into itself or a folder inside it (400
//! `ErrorMoveCopyFailed`), nor can a well-known one move (400
//! `ErrorMoveDistinguishedFolder`, Exchange's code).
//!
//! Microsoft's reference documents only the successes; the status of a
//! duplicate name (409, where some tenants are reported to answer 400 with
//! the same code) and the refusal of distinguished folders follow Graph's
//! error table and Exchange's error codes.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{Map, Value};

use super::tree::{self, FolderRef, TreeError};
use super::{entity, folder_key, resolve, FOLDER_PROPS};
use crate::graph::messages::{body_read_error, parse_object};
use crate::graph::{bad_request, id_malformed, mailbox_mut, respond, Params, Target};
use crate::http::{graph_error, Caller};
use crate::state::Shared;

type SharedState = State<std::sync::Arc<Shared>>;

/// What a request to make a folder asks for.
#[derive(Debug, PartialEq, Eq)]
struct NewFolder {
    name: String,
    hidden: bool,
}

/// Reads `{"displayName", "isHidden"?}`; the folder's read-only properties
/// are ignored, anything else is refused as Graph refuses it.
fn parse_new_folder(map: &Map<String, Value>) -> Result<NewFolder, Response> {
    let wrong_type = |prop: &str, edm: &str| {
        body_read_error(&format!(
            "Cannot convert the literal for property '{prop}' to the expected type '{edm}'."
        ))
    };
    let mut name = None;
    let mut hidden = false;
    for (k, v) in map {
        match k.as_str() {
            "displayName" => {
                name = Some(
                    v.as_str()
                        .ok_or_else(|| wrong_type(k, "Edm.String"))?
                        .to_owned(),
                );
            }
            "isHidden" => hidden = v.as_bool().ok_or_else(|| wrong_type(k, "Edm.Boolean"))?,
            k if k == "id" || k.starts_with("@odata.") || FOLDER_PROPS.contains(&k) => {}
            k => {
                return Err(body_read_error(&format!(
                    "The property '{k}' does not exist on type 'microsoft.graph.mailFolder'. Make sure to only use property names that are defined by the type or mark the type as open type."
                )))
            }
        }
    }
    match name {
        Some(name) if !name.trim().is_empty() => Ok(NewFolder { name, hidden }),
        _ => Err(bad_request(
            "ErrorInvalidParameter",
            "The value of the parameter 'DisplayName' is empty.",
        )),
    }
}

/// Reads a folder update: `displayName` is the one property a client can
/// change; the read-only ones (and `isHidden`, fixed when a folder is
/// made) are ignored.
fn parse_update(map: &Map<String, Value>) -> Result<Option<String>, Response> {
    let mut name = None;
    for (k, v) in map {
        match k.as_str() {
            "displayName" => match v.as_str() {
                Some(n) if !n.trim().is_empty() => name = Some(n.to_owned()),
                Some(_) => {
                    return Err(bad_request(
                        "ErrorInvalidParameter",
                        "The value of the parameter 'DisplayName' is empty.",
                    ))
                }
                None => {
                    return Err(body_read_error(
                        "Cannot convert the literal for property 'displayName' to the expected type 'Edm.String'.",
                    ))
                }
            },
            k if k == "id" || k.starts_with("@odata.") || FOLDER_PROPS.contains(&k) => {}
            k => {
                return Err(body_read_error(&format!(
                    "The property '{k}' does not exist on type 'microsoft.graph.mailFolder'. Make sure to only use property names that are defined by the type or mark the type as open type."
                )))
            }
        }
    }
    Ok(name)
}

/// Graph's answer when the tree cannot change as asked.
fn refused(error: TreeError) -> Response {
    match error {
        TreeError::Exists => graph_error(
            StatusCode::CONFLICT,
            "ErrorFolderExists",
            "A folder with the specified name already exists.",
        ),
        TreeError::Full => bad_request("ErrorQuotaExceeded", "The mailbox has too many folders."),
        TreeError::Distinguished => bad_request(
            "ErrorDeleteDistinguishedFolder",
            "Distinguished folders cannot be deleted.",
        ),
        TreeError::IntoItself => bad_request(
            "ErrorMoveCopyFailed",
            "The folder cannot be moved into itself or one of its subfolders.",
        ),
    }
}

/// `POST /me/mailFolders` (a top-level folder) and
/// `POST /me/mailFolders/{id}/childFolders`.
pub(crate) async fn create(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    body: Bytes,
) -> Response {
    let target = match Target::of(&caller, &params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let key = match folder_key(&params) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let new = match parse_object(&body).and_then(|m| parse_new_folder(&m)) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let mut world = shared.world();
    let seed = world.config.seed;
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let parent = match key.as_deref().map(|k| resolve(mb, seed, k)) {
        None => FolderRef::Root,
        Some(Ok(parent)) => parent,
        Some(Err(r)) => return r,
    };
    let made = match tree::create(mb, seed, parent, &new.name, new.hidden) {
        Ok(i) => FolderRef::Folder(i),
        Err(e) => return refused(e),
    };
    let tail = match &key {
        None => format!("{}/mailFolders/$entity", target.context_user()),
        Some(k) => format!(
            "{}/mailFolders('{k}')/childFolders/$entity",
            target.context_user()
        ),
    };
    let body = entity(&shared, mb, seed, made, None, &tail);
    respond(StatusCode::CREATED, &body, &[])
}

/// `PATCH /me/mailFolders/{id}`: 200 with the renamed folder.
pub(crate) async fn update(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    body: Bytes,
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
    let name = match parse_object(&body).and_then(|m| parse_update(&m)) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let mut world = shared.world();
    let seed = world.config.seed;
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let folder = match resolve(mb, seed, &key) {
        Ok(FolderRef::Folder(i)) => i,
        Ok(FolderRef::Root) => {
            return bad_request(
                "ErrorInvalidRequest",
                "The root of the mailbox cannot be changed.",
            )
        }
        Err(r) => return r,
    };
    if let Some(name) = name {
        if let Err(e) = tree::rename(mb, folder, &name) {
            return refused(e);
        }
    }
    let tail = format!("{}/mailFolders/$entity", target.context_user());
    let body = entity(&shared, mb, seed, FolderRef::Folder(folder), None, &tail);
    respond(StatusCode::OK, &body, &[])
}

/// `POST /me/mailFolders/{id}/move {"destinationId"}`: 200 with the moved
/// folder.
pub(crate) async fn move_folder(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
    body: Bytes,
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
    let destination = match parse_object(&body) {
        Ok(map) => match map.get("destinationId").and_then(Value::as_str) {
            Some(d) if !d.trim().is_empty() => d.trim().to_owned(),
            _ => {
                return bad_request(
                    "ErrorInvalidParameter",
                    "The value of the parameter 'DestinationId' is empty.",
                )
            }
        },
        Err(r) => return r,
    };
    let mut world = shared.world();
    let seed = world.config.seed;
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let (folder, dest) = match (resolve(mb, seed, &key), resolve(mb, seed, &destination)) {
        (Ok(FolderRef::Folder(i)), Ok(dest)) => (i, dest),
        (Ok(FolderRef::Root), Ok(_)) => return refused_move(TreeError::Distinguished),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    if let Err(e) = tree::move_into(mb, folder, dest) {
        return refused_move(e);
    }
    let tail = format!("{}/mailFolders/$entity", target.context_user());
    let body = entity(&shared, mb, seed, FolderRef::Folder(folder), None, &tail);
    respond(StatusCode::OK, &body, &[])
}

/// Graph's answer when a folder cannot move as asked.
fn refused_move(error: TreeError) -> Response {
    match error {
        TreeError::Distinguished => bad_request(
            "ErrorMoveDistinguishedFolder",
            "Distinguished folders cannot be moved.",
        ),
        other => refused(other),
    }
}

/// Deletes the folder a request names: for good when `for_good` or when it
/// is already in Deleted Items, else by moving it there.
fn remove(shared: &Shared, caller: &Caller, params: &Params, for_good: bool) -> Response {
    let target = match Target::of(caller, params) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let key = match folder_key(params) {
        Ok(Some(k)) => k,
        Ok(None) => return id_malformed(),
        Err(r) => return r,
    };
    let mut world = shared.world();
    let seed = world.config.seed;
    let mb = match mailbox_mut(&mut world, &target.address) {
        Ok(mb) => mb,
        Err(r) => return r,
    };
    let outcome = match resolve(mb, seed, &key) {
        Ok(FolderRef::Folder(i)) if for_good || tree::in_deleted_items(mb, i) => {
            tree::delete_for_good(mb, i).map(|_| ())
        }
        Ok(FolderRef::Folder(i)) => tree::move_to_deleted_items(mb, i),
        Ok(FolderRef::Root) => Err(TreeError::Distinguished),
        Err(r) => return r,
    };
    match outcome {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refused(e),
    }
}

/// `DELETE /me/mailFolders/{id}`: into Deleted Items, or for good from there.
pub(crate) async fn delete(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Response {
    remove(&shared, &caller, &params, false)
}

/// `POST /me/mailFolders/{id}/permanentDelete`: for good, from anywhere.
pub(crate) async fn permanent_delete(
    State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Response {
    remove(&shared, &caller, &params, true)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(body: Value) -> Result<NewFolder, u16> {
        parse_new_folder(body.as_object().unwrap_or(&Map::new())).map_err(|r| r.status().as_u16())
    }

    #[test]
    fn a_new_folder_needs_a_name_and_takes_only_mail_folder_properties() {
        assert_eq!(
            parsed(json!({"displayName": "Taxes", "isHidden": true, "childFolderCount": 3})),
            Ok(NewFolder {
                name: "Taxes".into(),
                hidden: true
            }),
            "read-only properties are ignored"
        );
        assert_eq!(parsed(json!({"displayName": "  "})), Err(400));
        assert_eq!(parsed(json!({"isHidden": false})), Err(400));
        assert_eq!(parsed(json!({"displayName": 7})), Err(400));
        assert_eq!(
            parsed(json!({"displayName": "x", "colour": "red"})),
            Err(400)
        );
    }
}
