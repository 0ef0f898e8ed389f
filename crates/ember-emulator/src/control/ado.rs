//! The control API's Azure DevOps part: changes colleagues make behind a
//! client's back (`POST /_emulator/mutate` with `provider: "ado"`), and the
//! personal access token's life (`/_emulator/revoke` revokes it,
//! `POST /_emulator/pat` issues a new one, as a user signing in again
//! would).
//!
//! A mutate body is
//! `{"provider":"ado","work_items":[{"id", "state"?, "title"?,
//! "assigned_to"? (address or name; null unassigns), "priority"?,
//! "comment"?, "mention"?, "delete"?}], "add_work_items":[{"type",
//! "title", "state"?, "assigned_to"?, "project"?, "parent"?}]}` and the
//! answer `{"changed","missing","added"}`. The whole body is checked before
//! anything changes.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::{bad, parse, Target};
use crate::state::Shared;
use crate::work_items::{Edit, NewItem, Organization};
use crate::world::World;

/// Present-and-null as `Some(None)`, absent as `None` (with `default`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// One entry of `work_items`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ItemChange {
    id: u32,
    state: Option<String>,
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    assigned_to: Option<Option<String>>,
    priority: Option<i64>,
    comment: Option<String>,
    #[serde(default)]
    mention: bool,
    #[serde(default)]
    delete: bool,
}

impl ItemChange {
    fn edit(&self) -> Edit {
        Edit {
            state: self.state.clone(),
            title: self.title.clone(),
            assigned_to: self.assigned_to.clone(),
            priority: self.priority,
            comment: self.comment.clone(),
            mention: self.mention,
        }
    }
}

/// One entry of `add_work_items`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddItem {
    #[serde(rename = "type")]
    item_type: String,
    title: String,
    state: Option<String>,
    assigned_to: Option<String>,
    project: Option<String>,
    parent: Option<u32>,
}

impl AddItem {
    fn new_item(&self) -> NewItem {
        NewItem {
            item_type: self.item_type.clone(),
            title: self.title.clone(),
            state: self.state.clone(),
            assigned_to: self.assigned_to.clone(),
            project: self.project.clone(),
            parent: self.parent,
        }
    }
}

/// Applies a checked mutate body: edits and deletions first, then new
/// items; every change a revision by a colleague.
pub(super) fn mutate(world: &mut World, changes: &[ItemChange], adds: &[AddItem]) -> Response {
    let ado: &mut Organization = &mut world.ado;
    for c in changes.iter().filter(|c| !c.delete) {
        if let Err(e) = c.edit().check() {
            return bad(format!("work item {}: {e}", c.id));
        }
    }
    let new: Vec<NewItem> = adds.iter().map(AddItem::new_item).collect();
    for n in &new {
        if let Err(e) = ado.check_new(n) {
            return bad(format!("add_work_items: {e}"));
        }
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut changed = 0_u64;
    let mut missing = Vec::new();
    for c in changes {
        let done = if c.delete {
            ado.delete(c.id)
        } else {
            ado.edit_as_colleague(c.id, &c.edit(), now)
        };
        if done {
            changed += 1;
        } else {
            missing.push(c.id.to_string());
        }
    }
    let mut added = Vec::new();
    for n in &new {
        match ado.create_as_colleague(n, now) {
            Ok(id) => added.push(id),
            Err(e) => return bad(format!("add_work_items: {e}")),
        }
    }
    Json(json!({"changed": changed, "missing": missing, "added": added})).into_response()
}

/// `POST /_emulator/pat {"provider":"ado"}`: a new personal access token,
/// `{"pat"}`; the previous one stops working.
pub(super) async fn pat(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let req: Target = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if req.provider != "ado" {
        return bad("only Azure DevOps uses personal access tokens");
    }
    let pat = shared.credentials().issue_pat();
    Json(json!({"pat": pat})).into_response()
}
