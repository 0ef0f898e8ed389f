//! Reading work items: get, list, batch, updates and revisions, and what
//! every work item handler (the write side and WIQL too) shares: the
//! token's owner and the known people, ids, dates, JSON bodies, and finding
//! the item a path names.
//!
//! The model keeps each revision's own fields; what the service computes
//! (`System.Id`, `System.Rev`, `System.Watermark`, area and iteration ids and
//! levels, `System.AuthorizedDate`, `System.RevisedDate`, ...) is derived
//! when a response asks for all fields, and diffs of revisions make the
//! updates: both are [`view`]'s. The handlers are in [`read`] and
//! [`history`].

mod history;
mod read;
mod view;

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{Map, Value};

pub(super) use self::history::{revision, revisions, update, updates};
pub(super) use self::read::{batch, get_one, list};
pub(super) use self::view::{expand_param, Shape, View};
use super::wiql::parse_date;
use super::{argument_error, item_not_found, resolve_project, Call};
use crate::state::Shared;
use crate::work_items::{WorkItem, PEOPLE};

pub(super) const JSON_TYPES: &[&str] = &["application/json", "application/json-patch+json"];

/// The person the personal access token belongs to.
pub(super) fn owner() -> (&'static str, &'static str) {
    PEOPLE[0]
}

/// A known person by display name or address.
pub(super) fn person(text: &str) -> Option<(&'static str, &'static str)> {
    let text = text.trim();
    PEOPLE
        .iter()
        .copied()
        .find(|(n, e)| n.eq_ignore_ascii_case(text) || e.eq_ignore_ascii_case(text))
}

pub(super) fn changed_ms(fields: &Map<String, Value>) -> i64 {
    fields
        .get("System.ChangedDate")
        .and_then(Value::as_str)
        .and_then(parse_date)
        .map_or(0, |d| d.0)
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(super) fn parse_id(text: &str) -> Result<u32, Response> {
    text.trim().parse().map_err(|_| {
        argument_error(
            &format!("The value '{text}' is not valid for parameter id."),
            "ArgumentException",
        )
    })
}

pub(super) fn json_body(body: &Bytes) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// The live item a path names, with the request's preamble done.
pub(super) fn with_item<T>(
    shared: &Shared,
    call: &Call,
    f: impl FnOnce(&View<'_>, &WorkItem) -> Result<T, Response>,
) -> Result<T, Response> {
    let id = parse_id(call.path.get("id").map_or("", String::as_str))?;
    let world = shared.world();
    resolve_project(&world, call)?;
    let view = View::new(shared, call, &world.ado);
    let item = world.ado.item(id).ok_or_else(|| item_not_found(id))?;
    f(&view, item)
}
