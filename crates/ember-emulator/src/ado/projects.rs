//! `GET /{organization}/_apis/projects` and `.../projects/{projectId}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde_json::{json, Value};

use super::{begin, org_url, project_not_found, reply, Versioning};
use crate::state::Shared;
use crate::work_items::iso;

/// A stable number for `text` (FNV-1a).
pub(crate) fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A GUID that is always the same for `seed`.
pub(crate) fn stable_guid(seed: &str) -> String {
    let a = stable_hash(seed);
    let b = stable_hash(&format!("{seed}#"));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

fn project_json(
    shared: &Shared,
    org: &str,
    index: usize,
    single: bool,
    anchor_ms: i64,
) -> Option<Value> {
    let world = shared.world();
    let p = world.ado.projects.get(index)?;
    let url = org_url(shared, org, &format!("_apis/projects/{}", p.id));
    let collection_id = stable_guid(&format!("collection:{}", world.ado.name));
    let team_id = stable_guid(&format!("team:{}", p.id));
    let default_team = json!({
        "id": team_id,
        "name": format!("{} Team", p.name),
        "url": format!("{url}/teams/{team_id}"),
    });
    let revision = 10 + index;
    Some(if single {
        json!({
            "id": p.id,
            "name": p.name,
            "description": p.description,
            "url": url,
            "state": "wellFormed",
            "revision": revision,
            "_links": {
                "self": {"href": url},
                "collection": {"href": org_url(shared, org, &format!("_apis/projectCollections/{collection_id}"))},
                "web": {"href": org_url(shared, org, &p.name.replace(' ', "%20"))},
            },
            "visibility": "private",
            "defaultTeam": default_team,
            "lastUpdateTime": iso(anchor_ms - 200 * 86_400_000 + index as i64 * 3_600_000),
        })
    } else {
        json!({
            "id": p.id,
            "name": p.name,
            "description": p.description,
            "url": url,
            "collection": {
                "id": collection_id,
                "name": world.ado.name,
                "url": org_url(shared, org, &format!("_apis/projectCollections/{collection_id}")),
                "collectionUrl": format!("{}/{org}/", shared.base_url),
            },
            "state": "wellFormed",
            "defaultTeam": default_team,
            "revision": revision,
            "visibility": "private",
            // The list really does say this; only the single project has the time.
            "lastUpdateTime": "0001-01-01T00:00:00",
        })
    })
}

/// `GET /{org}/_apis/projects` (`$top`, `$skip`).
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = match begin(
        &shared,
        &method,
        path,
        query.as_deref(),
        &headers,
        Versioning::Released,
    ) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (skip, top) = match (call.params.count("$skip"), call.params.count("$top")) {
        (Ok(s), Ok(t)) => (s.unwrap_or(0), t.unwrap_or(100)),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let (count, anchor) = {
        let world = shared.world();
        (world.ado.projects.len(), world.anchor_ms)
    };
    let value: Vec<Value> = (0..count)
        .skip(skip)
        .take(top)
        .filter_map(|i| project_json(&shared, &call.org, i, false, anchor))
        .collect();
    reply(
        &json!({"count": value.len(), "value": value}),
        &call.version,
    )
}

/// `GET /{org}/_apis/projects/{projectId or name}`.
pub(crate) async fn get_one(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path(path): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let call = match begin(
        &shared,
        &method,
        path,
        query.as_deref(),
        &headers,
        Versioning::Released,
    ) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let name = call.project.clone().unwrap_or_default();
    let found = {
        let world = shared.world();
        world.ado.project(&name).map(|i| (i, world.anchor_ms))
    };
    match found.and_then(|(i, anchor)| project_json(&shared, &call.org, i, true, anchor)) {
        Some(p) => reply(&p, &call.version),
        None => project_not_found(&name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_guids_look_like_guids() {
        let g = stable_guid("x");
        assert_eq!(g, stable_guid("x"));
        assert_ne!(g, stable_guid("y"));
        assert_eq!(g.len(), 36);
        assert_eq!(g.matches('-').count(), 4);
    }
}
