//! JSON `$batch`: up to [`MAX_REQUESTS`] Graph calls in one HTTP request.
//!
//! Graph counts every inner request against the mailbox's limits, the
//! batch itself included, and runs independent inner requests side by
//! side. So a batch holds every request slot of the account's limiter
//! while it is in flight, and its requests are laid out as [`CHAINS`]
//! `dependsOn` chains: with the envelope, never more than four requests of
//! the mailbox run at once. An inner 429, 503 or 504 (or a 424 behind a
//! failed link of its chain) is sent again on its own in a later batch,
//! after the Retry-After it carried, which also pauses the whole account;
//! the others keep their answers.

use std::time::Duration;

use serde_json::{json, Value};

use super::client::{GraphClient, SERVICE};
use crate::providers::retry::Retryable as _;
use crate::providers::ProviderError;

/// Graph's limit on requests per batch.
pub const MAX_REQUESTS: usize = 20;

/// `dependsOn` chains per batch: with the envelope itself, four requests
/// of the mailbox at most, Graph's concurrency limit.
pub const CHAINS: usize = 3;

/// Rounds of re-sending throttled inner requests in a row that bring no
/// answer before giving up on them (the caller then tries again later).
pub const FRUITLESS_ROUNDS: usize = 4;

/// Rounds at most, however fruitful.
pub const MAX_ROUNDS: usize = 30;

/// The longest wait between two rounds when Graph did not say.
const ROUND_WAIT: Duration = Duration::from_secs(2);

/// One inner request.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// `GET`, `PATCH`, `POST` ...
    pub method: &'static str,
    /// The URL relative to the API root (`/me/messages/{id}`).
    pub url: String,
    /// A JSON body.
    pub body: Option<Value>,
}

impl BatchRequest {
    /// A `GET` of `url`.
    pub fn get(url: String) -> Self {
        Self {
            method: "GET",
            url,
            body: None,
        }
    }
}

/// One inner answer that succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResponse {
    /// Its status (2xx).
    pub status: u16,
    /// Its JSON body (`Null` when it had none).
    pub body: Value,
}

/// Sends `requests` in batches of [`MAX_REQUESTS`], re-sending throttled
/// ones; returns one outcome per request, in order. Fails as a whole only
/// when a batch envelope itself fails.
pub async fn send(
    client: &GraphClient,
    requests: Vec<BatchRequest>,
) -> Result<Vec<Result<BatchResponse, ProviderError>>, ProviderError> {
    let mut outcomes: Vec<Option<Result<BatchResponse, ProviderError>>> =
        (0..requests.len()).map(|_| None).collect();
    let mut pending: Vec<usize> = (0..requests.len()).collect();
    let mut fruitless = 0;
    for round in 0..MAX_ROUNDS {
        if pending.is_empty() {
            break;
        }
        let last = round + 1 == MAX_ROUNDS;
        let mut again = Vec::new();
        let mut wait = Duration::ZERO;
        for chunk in pending.chunks(MAX_REQUESTS) {
            let envelope = envelope(chunk.iter().map(|&i| &requests[i]));
            let answer = client
                .post_batch(envelope, u32::try_from(chunk.len()).unwrap_or(u32::MAX) + 1)
                .await?;
            for (slot, outcome) in chunk.iter().zip(parse(&answer, chunk.len())) {
                match outcome {
                    Inner::Done(result) => outcomes[*slot] = Some(result),
                    Inner::Again(retry_after) => {
                        wait = wait.max(retry_after.unwrap_or(ROUND_WAIT));
                        again.push(*slot);
                        outcomes[*slot] = Some(Err(throttled(retry_after)));
                    }
                }
            }
        }
        fruitless = if again.len() == pending.len() {
            fruitless + 1
        } else {
            0
        };
        if again.is_empty() || last || fruitless >= FRUITLESS_ROUNDS {
            break;
        }
        client.retried(again.len(), wait);
        pending = again;
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(throttled(None))))
        .collect())
}

fn throttled(retry_after: Option<Duration>) -> ProviderError {
    ProviderError::Status {
        service: SERVICE,
        status: 429,
        message: "Microsoft Graph kept throttling this request".into(),
        reason: Some("TooManyRequests".into()),
        retry_after,
    }
}

/// The `$batch` body: ids `0..n`, request `i` depending on request
/// `i - CHAINS`, so the batch runs as [`CHAINS`] chains.
fn envelope<'a>(requests: impl Iterator<Item = &'a BatchRequest>) -> Value {
    let list: Vec<Value> = requests
        .enumerate()
        .map(|(i, r)| {
            let mut request = json!({
                "id": i.to_string(),
                "method": r.method,
                "url": r.url,
                "headers": {"Prefer": "IdType=\"ImmutableId\""},
            });
            if let Some(body) = &r.body {
                request["body"] = body.clone();
                request["headers"]["Content-Type"] = json!("application/json");
            }
            if i >= CHAINS {
                request["dependsOn"] = json!([(i - CHAINS).to_string()]);
            }
            request
        })
        .collect();
    json!({ "requests": list })
}

/// What became of one inner request.
#[derive(Debug)]
enum Inner {
    Done(Result<BatchResponse, ProviderError>),
    /// Throttled, unavailable, or behind a failed dependency: send again.
    Again(Option<Duration>),
}

/// Reads a `$batch` answer for `n` requests; a request missing from it is
/// sent again.
fn parse(answer: &Value, n: usize) -> Vec<Inner> {
    let mut out: Vec<Inner> = (0..n).map(|_| Inner::Again(None)).collect();
    let Some(responses) = answer["responses"].as_array() else {
        return out;
    };
    for response in responses {
        let Some(i) = response["id"]
            .as_str()
            .and_then(|id| id.parse::<usize>().ok())
            .filter(|i| *i < n)
        else {
            continue;
        };
        let status = response["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0);
        let body = response.get("body").cloned().unwrap_or(Value::Null);
        out[i] = if (200..300).contains(&status) {
            Inner::Done(Ok(BatchResponse { status, body }))
        } else {
            let retry_after = response["headers"]
                .as_object()
                .and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                        .and_then(|(_, v)| {
                            v.as_str()
                                .map(str::to_owned)
                                .or(v.as_u64().map(|n| n.to_string()))
                        })
                })
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(3600.0)));
            let error = ProviderError::Status {
                service: SERVICE,
                status,
                message: body["error"]["message"]
                    .as_str()
                    .unwrap_or("the request in the batch failed")
                    .chars()
                    .take(300)
                    .collect(),
                reason: body["error"]["code"].as_str().map(str::to_owned),
                retry_after,
            };
            if status == 424 || error.is_retryable() {
                Inner::Again(retry_after)
            } else {
                Inner::Done(Err(error))
            }
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_form_three_chains() {
        let requests: Vec<BatchRequest> = (0..7)
            .map(|i| BatchRequest::get(format!("/me/messages/{i}")))
            .collect();
        let body = envelope(requests.iter());
        let list = body["requests"].as_array().cloned().unwrap_or_default();
        assert_eq!(list.len(), 7);
        assert!(list[0].get("dependsOn").is_none());
        assert!(list[2].get("dependsOn").is_none());
        assert_eq!(list[3]["dependsOn"], json!(["0"]));
        assert_eq!(list[6]["dependsOn"], json!(["3"]));
    }

    #[test]
    fn throttled_and_dependent_requests_go_again_others_keep_their_answer() {
        let answer = json!({"responses": [
            {"id": "0", "status": 200, "body": {"id": "a"}},
            {"id": "1", "status": 429, "headers": {"Retry-After": "3"},
             "body": {"error": {"code": "TooManyRequests", "message": "slow down"}}},
            {"id": "2", "status": 404, "body": {"error": {"code": "ErrorItemNotFound", "message": "gone"}}},
            {"id": "3", "status": 424, "body": {"error": {"code": "FailedDependency"}}},
        ]});
        let parsed = parse(&answer, 5);
        assert!(matches!(&parsed[0], Inner::Done(Ok(r)) if r.body["id"] == "a"));
        assert!(matches!(parsed[1], Inner::Again(Some(d)) if d == Duration::from_secs(3)));
        assert!(matches!(&parsed[2], Inner::Done(Err(e)) if e.status() == Some(404)));
        assert!(matches!(parsed[3], Inner::Again(None)));
        assert!(
            matches!(parsed[4], Inner::Again(None)),
            "a missing answer goes again"
        );
    }
}
