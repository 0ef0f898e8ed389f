//! Azure DevOps Work Item Tracking REST 7.1, under its real paths
//! (`/{organization}/_apis/...` and `/{organization}/{project}/_apis/...`):
//! projects, WIQL (ad hoc and saved queries), work items (get, list, batch,
//! JSON Patch update, relations), updates, revisions, comments, and work
//! item types with their states.
//!
//! Bodies follow the real service: lists are `{"count","value"}`, URLs are
//! absolute (on the emulator's base URL) and name the project by GUID,
//! identities are objects, dates are ISO 8601 in UTC. Errors are the VSS
//! error body with the service's status codes, type keys and, where they are
//! known, its messages. `api-version` is checked as the service checks it
//! (query parameter or `Accept` header; required on writes; 7.2 only as a
//! preview; comments only as a preview).

/// Unwraps a handler step, or returns the response that ends the request.
macro_rules! try_or_return {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

/// [`begin`], or the response that ends the request.
macro_rules! preamble {
    ($shared:expr, $method:expr, $path:expr, $query:expr, $headers:expr, $versioning:expr) => {
        try_or_return!($crate::ado::begin(
            &$shared,
            &$method,
            $path,
            $query.as_deref(),
            &$headers,
            $versioning
        ))
    };
}

mod fields;
#[cfg(test)]
mod http_tests;
mod items;
mod projects;
mod queries;
mod types;
mod wiql;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::http::{ado_error, emulated, Endpoint};
use super::state::Shared;
use super::world::World;

/// The Azure DevOps routes.
pub fn routes(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let e = |name, route| emulated(shared, Endpoint::ado(name), route);
    let mut router = Router::new()
        .route(
            "/{org}/_apis/projects",
            e("ado.projects", get(projects::list)),
        )
        .route(
            "/{org}/_apis/projects/{project}",
            e("ado.projects", get(projects::get_one)),
        );
    // Paths are case-insensitive on the real service, and the URLs it hands
    // out say `workItems`, so the spellings clients use are all routed.
    for prefix in ["/{org}", "/{org}/{project}"] {
        router = router
            .route(
                &format!("{prefix}/_apis/wit/wiql"),
                e("ado.wiql", post(wiql::query)),
            )
            .route(
                &format!("{prefix}/_apis/wit/wiql/{{id}}"),
                e("ado.wiql", get(wiql::by_id)),
            );
        for batch in ["workitemsbatch", "workItemsBatch", "WorkItemsBatch"] {
            router = router.route(
                &format!("{prefix}/_apis/wit/{batch}"),
                e("ado.workitemsbatch", post(items::batch)),
            );
        }
        for w in ["workitems", "workItems", "WorkItems"] {
            let base = format!("{prefix}/_apis/wit/{w}");
            router = router
                .route(&base, e("ado.workitem", get(items::list)))
                .route(
                    &format!("{base}/{{id}}"),
                    e("ado.workitem", get(items::get_one).patch(write::patch)),
                )
                .route(
                    &format!("{base}/{{id}}/updates"),
                    e("ado.workitem", get(items::updates)),
                )
                .route(
                    &format!("{base}/{{id}}/updates/{{n}}"),
                    e("ado.workitem", get(items::update)),
                )
                .route(
                    &format!("{base}/{{id}}/revisions"),
                    e("ado.workitem", get(items::revisions)),
                )
                .route(
                    &format!("{base}/{{id}}/revisions/{{n}}"),
                    e("ado.workitem", get(items::revision)),
                );
            if prefix.contains("{project}") {
                // Comments exist only under a project.
                router = router.route(
                    &format!("{base}/{{id}}/comments"),
                    e(
                        "ado.workitem",
                        get(write::comments).post(write::add_comment),
                    ),
                );
            }
        }
    }
    // Types and saved queries exist only under a project.
    for t in ["workitemtypes", "workItemTypes", "WorkItemTypes"] {
        let base = format!("/{{org}}/{{project}}/_apis/wit/{t}");
        router = router
            .route(&base, e("ado.workitemtypes", get(types::list)))
            .route(
                &format!("{base}/{{type}}"),
                e("ado.workitemtypes", get(types::get_one)),
            )
            .route(
                &format!("{base}/{{type}}/states"),
                e("ado.workitemtypes", get(types::states)),
            );
    }
    router
        .route(
            "/{org}/{project}/_apis/wit/queries",
            e("ado.queries", get(queries::list)),
        )
        .route(
            "/{org}/{project}/_apis/wit/queries/{*query}",
            e("ado.queries", get(queries::get_one)),
        )
}

/// An `api-version` as requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiVersion {
    /// As written (echoed in the response's content type).
    pub text: String,
    /// Major and minor.
    pub number: (u32, u32),
    /// `-preview` was given.
    pub preview: bool,
}

impl ApiVersion {
    /// 7.2 previews add fields 7.1 does not have.
    pub fn is_7_2(&self) -> bool {
        self.number >= (7, 2)
    }
}

/// The newest version the emulated server knows (7.2 exists only as a preview).
const LATEST: (u32, u32) = (7, 2);

fn parse_version(text: &str) -> Option<ApiVersion> {
    let (number, preview) = match text.split_once("-preview") {
        Some((n, rest)) => {
            if !(rest.is_empty()
                || rest
                    .strip_prefix('.')
                    .is_some_and(|r| r.parse::<u32>().is_ok()))
            {
                return None;
            }
            (n, true)
        }
        None => (text, false),
    };
    let (major, minor) = number.split_once('.')?;
    Some(ApiVersion {
        text: text.to_owned(),
        number: (major.parse().ok()?, minor.parse().ok()?),
        preview,
    })
}

/// A VSS error body with any type.
pub(crate) fn vss_error(
    status: StatusCode,
    message: &str,
    type_name: &str,
    type_key: &str,
    event_id: u32,
) -> Response {
    (
        status,
        Json(json!({
            "$id": "1",
            "innerException": null,
            "message": message,
            "typeName": type_name,
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": event_id,
        })),
    )
        .into_response()
}

/// An error from the web API layer (versions, content types, arguments).
fn web_api_error(message: &str, type_key: &str) -> Response {
    vss_error(
        StatusCode::BAD_REQUEST,
        message,
        &format!(
            "Microsoft.VisualStudio.Services.WebApi.{type_key}, Microsoft.VisualStudio.Services.WebApi"
        ),
        type_key,
        3000,
    )
}

/// A bad argument (`System.ArgumentException` and kin).
pub(crate) fn argument_error(message: &str, type_key: &str) -> Response {
    vss_error(
        StatusCode::BAD_REQUEST,
        message,
        &format!("System.{type_key}, mscorlib"),
        type_key,
        0,
    )
}

/// A Work Item Tracking error.
pub(crate) fn wit_error(status: StatusCode, message: &str, type_key: &str) -> Response {
    ado_error(status, message, type_key)
}

/// 404 for a work item that does not exist (or is deleted).
pub(crate) fn item_not_found(id: impl std::fmt::Display) -> Response {
    wit_error(
        StatusCode::NOT_FOUND,
        &format!(
            "TF401232: Work item {id} does not exist, or you do not have permissions to read it."
        ),
        "WorkItemUnauthorizedAccessException",
    )
}

/// 404 for a project that does not exist.
pub(crate) fn project_not_found(name: &str) -> Response {
    vss_error(
        StatusCode::NOT_FOUND,
        &format!("TF200016: The following project does not exist: {name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server."),
        "Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, Microsoft.TeamFoundation.Core.WebApi",
        "ProjectDoesNotExistWithNameException",
        3000,
    )
}

/// A JSON answer with the negotiated version in its content type.
pub(crate) fn reply(body: &Value, version: &ApiVersion) -> Response {
    let mut r = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "application/json; charset=utf-8; api-version={}",
        version.text
    )) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// Query parameters, looked up without regard to case.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A non-negative integer parameter; 400 when it is not one.
    pub fn count(&self, name: &str) -> Result<Option<usize>, Response> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                argument_error(
                    &format!("The value '{v}' is not valid for parameter {name}."),
                    "ArgumentException",
                )
            }),
        }
    }

    /// A boolean parameter (`true`/`false`, any case).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}

/// Everything a handler learns before touching the world.
#[derive(Debug)]
pub(crate) struct Call {
    /// The organisation as the path names it.
    pub org: String,
    /// The project as the path names it.
    pub project: Option<String>,
    /// Other path parameters (`id`, `n`).
    pub path: HashMap<String, String>,
    /// Query parameters.
    pub params: Params,
    /// The negotiated version.
    pub version: ApiVersion,
}

/// How an endpoint treats `api-version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versioning {
    /// Released in 7.1.
    Released,
    /// Only a preview in 7.1 (comments: `7.1-preview.4`).
    PreviewOnly,
}

/// Checks the version and the organisation of a request.
pub(crate) fn begin(
    shared: &Shared,
    method: &Method,
    mut path: HashMap<String, String>,
    raw_query: Option<&str>,
    headers: &HeaderMap,
    versioning: Versioning,
) -> Result<Call, Response> {
    let params = Params::parse(raw_query);
    let requested = params.get("api-version").map(str::to_owned).or_else(|| {
        headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .and_then(|accept| {
                accept.split([';', ',']).find_map(|part| {
                    part.trim()
                        .strip_prefix("api-version=")
                        .map(|v| v.trim().to_owned())
                })
            })
    });
    let version = match requested {
        None if method == Method::GET => ApiVersion {
            text: match versioning {
                Versioning::Released => "7.1".into(),
                Versioning::PreviewOnly => "7.1-preview.4".into(),
            },
            number: (7, 1),
            preview: versioning == Versioning::PreviewOnly,
        },
        None => {
            return Err(web_api_error(
                &format!("No api-version was supplied for the \"{method}\" request. The version must be supplied either as part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. \"?api-version=1.0\")."),
                "VssVersionNotSpecifiedException",
            ))
        }
        Some(text) => {
            let Some(v) = parse_version(&text).filter(|v| v.number.0 >= 1) else {
                return Err(web_api_error(
                    &format!("Invalid api version string: \"{text}\". Api version string must be in the format: {{Major}}.{{Minor}}[-preview[.{{ResourceVersion}}]]."),
                    "VssInvalidApiVersionException",
                ));
            };
            if v.number > LATEST {
                return Err(web_api_error(
                    &format!("The requested REST API version of {}.{} is out of range for this server. The latest REST API version this server supports is {}.{}.", v.number.0, v.number.1, LATEST.0, LATEST.1),
                    "VssVersionOutOfRangeException",
                ));
            }
            let preview_needed = v.number == LATEST
                || (versioning == Versioning::PreviewOnly && v.number >= (5, 0));
            if preview_needed && !v.preview {
                let n = format!("{}.{}", v.number.0, v.number.1);
                return Err(web_api_error(
                    &format!("The requested version \"{n}\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"{n}-preview\""),
                    "VssInvalidPreviewVersionException",
                ));
            }
            v
        }
    };
    let org = path.remove("org").unwrap_or_default();
    let known = shared.world().ado.name.eq_ignore_ascii_case(&org);
    if !known {
        // A personal access token opens one organisation only.
        return Err((
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"https://dev.azure.com/\"",
            )],
        )
            .into_response());
    }
    let project = path.remove("project");
    Ok(Call {
        org,
        project,
        path,
        params,
        version,
    })
}

/// Checks a request body's content type against `allowed` media types.
pub(crate) fn content_type(
    headers: &HeaderMap,
    method: &Method,
    allowed: &[&str],
) -> Result<(), Response> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = given.split(';').next().unwrap_or_default().trim();
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(media)) {
        Ok(())
    } else {
        Err(web_api_error(
            &format!(
                "The request indicated a Content-Type of \"{given}\" for method type \"{method}\" which is not supported. Valid content types for this method are: {}.",
                allowed.join(", ")
            ),
            "VssRequestContentTypeNotSupportedException",
        ))
    }
}

/// The project the URL names (by name or GUID), as an index; `Ok(None)` at
/// organisation level.
pub(crate) fn resolve_project(world: &World, call: &Call) -> Result<Option<usize>, Response> {
    match &call.project {
        None => Ok(None),
        Some(name) => world
            .ado
            .project(name)
            .map(Some)
            .ok_or_else(|| project_not_found(name)),
    }
}

/// The absolute URL of `path` under the organisation.
pub(crate) fn org_url(shared: &Shared, org: &str, path: &str) -> String {
    format!("{}/{org}/{path}", shared.base_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_like_the_service() {
        let v = parse_version("7.1-preview.4").unwrap();
        assert_eq!((v.number, v.preview), ((7, 1), true));
        assert!(parse_version("7.1").is_some_and(|v| !v.preview));
        assert!(parse_version("7.2-preview").is_some_and(|v| v.preview && v.is_7_2()));
        for bad in ["7", "seven", "7.1-beta", "7.1-preview.x", ""] {
            assert!(parse_version(bad).is_none(), "{bad}");
        }
    }
}
