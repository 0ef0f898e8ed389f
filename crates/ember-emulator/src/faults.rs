//! Fault injection: a spec of rules saying which endpoints misbehave, how and
//! how often, drawn from the world's seed so a run is reproducible.
//!
//! A spec is `;`-separated rules `TARGET:KIND[@PROBABILITY][,key=value...]`.
//! TARGET is an endpoint name (`gmail.messages.get`, `graph.delta`,
//! `ado.wiql`, `oauth.token` ...), a group of them ([`GROUPS`]: `gmail.send`
//! is every Gmail send), or `*`; KIND is one of [`FaultKind`].
//! Example: `gmail.messages.get:429@0.1,retry_after=1;*:latency,ms=20,jitter_ms=10`.

use std::fmt;
use std::time::Duration;

use rand::Rng;

/// What a faulty endpoint does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// Answers late: `ms`, plus up to `jitter_ms` more.
    Latency {
        /// Fixed delay.
        ms: u64,
        /// Random extra delay, up to this.
        jitter_ms: u64,
    },
    /// The endpoint runs at once and its answer is held back `ms`: a client
    /// killed meanwhile never learns that the provider acted (the moment
    /// between "the provider sent it" and "we recorded that").
    SlowReply {
        /// How long the answer is held.
        ms: u64,
    },
    /// 429 Too Many Requests, with `Retry-After` when `retry_after` is given.
    TooManyRequests {
        /// Seconds to ask the client to wait.
        retry_after: Option<u64>,
    },
    /// 403 with Gmail's `rateLimitExceeded` / `userRateLimitExceeded` body.
    RateLimit403,
    /// 400 Bad Request: the provider refuses the request for good (an
    /// address it will not deliver to, a message it will not take).
    BadRequest,
    /// 500 Internal Server Error.
    ServerError,
    /// 503 Service Unavailable.
    Unavailable,
    /// The connection drops part-way through the body.
    Reset,
    /// The request is accepted and never answered.
    Hang,
    /// The body ends half-way (a cut-off answer that still looks complete).
    Truncate,
    /// 200 with a body that is not JSON.
    BadJson,
    /// A message whose MIME is broken (raw and $value endpoints).
    BadMime,
    /// 203 with an HTML sign-in page (Azure DevOps' answer to bad credentials).
    Html203,
    /// The answer as it is, with Azure DevOps' rate-limit headers saying the
    /// client nears its limit: `X-RateLimit-Resource: Core`,
    /// `X-RateLimit-Remaining: {remaining}`, `X-RateLimit-Limit`,
    /// `X-RateLimit-Delay: {delay}` and `X-RateLimit-Reset`.
    Slowdown {
        /// Requests (TSTUs) left before throttling.
        remaining: u64,
        /// Seconds the request was delayed by.
        delay: u64,
    },
}

impl FaultKind {
    /// Whether this fault answers instead of the endpoint (as opposed to
    /// delaying it or corrupting its answer).
    pub fn replaces_response(self) -> bool {
        !matches!(
            self,
            Self::Latency { .. }
                | Self::SlowReply { .. }
                | Self::Reset
                | Self::Truncate
                | Self::BadJson
                | Self::BadMime
                | Self::Slowdown { .. }
        )
    }
}

/// Targets naming several endpoints: every way a service sends mail.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("gmail.send", &["gmail.messages.send", "gmail.drafts.send"]),
    // `graph.send` is also sendMail's own name.
    ("graph.send", &["graph.send", "graph.drafts.send"]),
];

/// Whether a rule's `target` covers `endpoint`.
pub fn targets(target: &str, endpoint: &str) -> bool {
    target == "*"
        || target == endpoint
        || GROUPS
            .iter()
            .any(|(group, members)| *group == target && members.contains(&endpoint))
}

/// One rule of a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Endpoint name, or `*` for every endpoint.
    pub target: String,
    /// What happens.
    pub kind: FaultKind,
    /// How often, 0 to 1.
    pub probability: f64,
}

/// A parsed fault spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    /// The rules, in the order given.
    pub rules: Vec<FaultRule>,
}

/// Why a spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad fault rule {rule:?}: {reason}")]
pub struct FaultSpecError {
    /// The offending rule.
    pub rule: String,
    /// What is wrong with it.
    pub reason: String,
}

/// What the spec says for one request: at most one answer-replacing fault,
/// plus any delay and body corruption.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultPlan {
    /// Wait this long first.
    pub delay: Duration,
    /// Answer with this instead of the endpoint.
    pub replace: Option<FaultKind>,
    /// Corrupt the endpoint's answer this way.
    pub corrupt: Option<FaultKind>,
    /// Add rate-limit headers to the answer: remaining, delay (seconds).
    pub slowdown: Option<(u64, u64)>,
    /// Hold the endpoint's answer this long after it ran.
    pub reply_delay: Duration,
}

impl FaultSpec {
    /// Parses a spec; an empty string is no faults.
    pub fn parse(spec: &str) -> Result<Self, FaultSpecError> {
        let mut rules = Vec::new();
        for raw in spec.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            rules.push(parse_rule(raw)?);
        }
        Ok(Self { rules })
    }

    /// Draws what happens to one request to `endpoint`.
    pub fn plan(&self, endpoint: &str, rng: &mut impl Rng) -> FaultPlan {
        let mut plan = FaultPlan::default();
        for rule in &self.rules {
            if !targets(&rule.target, endpoint) {
                continue;
            }
            if !rng.random_bool(rule.probability.clamp(0.0, 1.0)) {
                continue;
            }
            match rule.kind {
                FaultKind::Latency { ms, jitter_ms } => {
                    let extra = if jitter_ms > 0 {
                        rng.random_range(0..=jitter_ms)
                    } else {
                        0
                    };
                    plan.delay += Duration::from_millis(ms + extra);
                }
                FaultKind::SlowReply { ms } => {
                    plan.reply_delay += Duration::from_millis(ms);
                }
                FaultKind::Slowdown { remaining, delay } => {
                    plan.slowdown.get_or_insert((remaining, delay));
                }
                kind if kind.replaces_response() => {
                    plan.replace.get_or_insert(kind);
                }
                kind => {
                    plan.corrupt.get_or_insert(kind);
                }
            }
        }
        plan
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rule) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{}:{:?}@{}", rule.target, rule.kind, rule.probability)?;
        }
        Ok(())
    }
}

fn parse_rule(raw: &str) -> Result<FaultRule, FaultSpecError> {
    let err = |reason: &str| FaultSpecError {
        rule: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let (target, rest) = raw
        .split_once(':')
        .ok_or_else(|| err("expected TARGET:KIND"))?;
    let target = target.trim();
    if target.is_empty() {
        return Err(err("empty target"));
    }
    let mut parts = rest.split(',');
    let head = parts.next().unwrap_or_default().trim();
    let (kind_name, probability) = match head.split_once('@') {
        Some((k, p)) => {
            let p: f64 = p
                .trim()
                .parse()
                .map_err(|_| err("probability is not a number"))?;
            if !(0.0..=1.0).contains(&p) {
                return Err(err("probability must be between 0 and 1"));
            }
            (k.trim(), p)
        }
        None => (head, 1.0),
    };
    let mut params = Vec::new();
    for p in parts {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| err("parameters are key=value"))?;
        let v: u64 = v
            .trim()
            .parse()
            .map_err(|_| err("parameter values are whole numbers"))?;
        params.push((k.trim().to_owned(), v));
    }
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let allowed: &[&str] = match kind_name {
        "latency" => &["ms", "jitter_ms"],
        "slowreply" => &["ms"],
        "429" => &["retry_after"],
        "slowdown" => &["remaining", "delay"],
        _ => &[],
    };
    if let Some((k, _)) = params.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(err(&format!("{kind_name} takes no parameter {k}")));
    }
    let kind = match kind_name {
        "latency" => FaultKind::Latency {
            ms: param("ms").unwrap_or(0),
            jitter_ms: param("jitter_ms").unwrap_or(0),
        },
        "slowreply" => FaultKind::SlowReply {
            ms: param("ms").unwrap_or(0),
        },
        "429" => FaultKind::TooManyRequests {
            retry_after: param("retry_after"),
        },
        "403rate" => FaultKind::RateLimit403,
        "400" => FaultKind::BadRequest,
        "500" => FaultKind::ServerError,
        "503" => FaultKind::Unavailable,
        "reset" => FaultKind::Reset,
        "hang" => FaultKind::Hang,
        "truncate" => FaultKind::Truncate,
        "badjson" => FaultKind::BadJson,
        "badmime" => FaultKind::BadMime,
        "html203" => FaultKind::Html203,
        "slowdown" => FaultKind::Slowdown {
            remaining: param("remaining").unwrap_or(10),
            delay: param("delay").unwrap_or(1),
        },
        _ => return Err(err(&format!("unknown kind {kind_name:?}"))),
    };
    Ok(FaultRule {
        target: target.to_owned(),
        kind,
        probability,
    })
}

/// The fault spec's grammar, for `ember emulator --help`.
pub const FAULT_SPEC_HELP: &str = "\
Fault spec: ';'-separated rules TARGET:KIND[@PROBABILITY][,key=value...]
  TARGET  an endpoint name or '*': gmail.profile, gmail.labels.list,
          gmail.messages.list, gmail.messages.get, gmail.messages.modify,
          gmail.messages.send, gmail.drafts (create, update, list, get,
          delete), gmail.drafts.send, gmail.threads.get, gmail.history.list,
          gmail.batch, graph.me, graph.folders, graph.delta, graph.message
          (also PATCH and DELETE of drafts, listing attachments),
          graph.drafts (POST /me/messages, createReply, createReplyAll,
          createForward, adding attachments), graph.drafts.send (a draft's
          send), graph.send (sendMail), graph.batch, ado.projects, ado.wiql,
          ado.workitemsbatch, ado.workitem, ado.workitemtypes, ado.queries,
          oauth.token
          groups: gmail.send (gmail.messages.send and gmail.drafts.send),
          graph.send (sendMail and graph.drafts.send)
  KIND    latency (ms=, jitter_ms=)   429 (retry_after= seconds, optional)
          slowreply (ms=): the endpoint runs at once, its answer is held
            ms (a client killed meanwhile never hears that it acted)
          403rate (Gmail rateLimitExceeded body)   400 (refused for
            good: Gmail's invalidArgument, Graph's ErrorInvalidRecipients)
          500   503
          reset (connection dropped mid-body)   hang (never answers)
          truncate (the body ends half-way)   badjson
            (reset and truncate let the endpoint run first: mail IS sent,
            and the client sees a broken answer)
          badmime (broken MIME in raw / $value)   html203 (sign-in page)
          slowdown (remaining=, default 10; delay= seconds, default 1):
            the answer unchanged, plus Azure DevOps' X-RateLimit-Resource,
            -Remaining, -Limit, -Delay and -Reset headers of a client
            nearing its limit
  PROBABILITY  0 to 1, default 1; draws follow the seed
Example: gmail.messages.get:429@0.1,retry_after=1;*:latency,ms=20,jitter_ms=10
         ado.wiql:slowdown,remaining=5,delay=2";

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let spec = FaultSpec::parse(
            "gmail.messages.get:429@0.1,retry_after=1;*:latency,ms=20,jitter_ms=10",
        )
        .unwrap_or_default();
        assert_eq!(
            spec.rules,
            vec![
                FaultRule {
                    target: "gmail.messages.get".into(),
                    kind: FaultKind::TooManyRequests {
                        retry_after: Some(1)
                    },
                    probability: 0.1
                },
                FaultRule {
                    target: "*".into(),
                    kind: FaultKind::Latency {
                        ms: 20,
                        jitter_ms: 10
                    },
                    probability: 1.0
                },
            ]
        );
    }

    #[test]
    fn malformed_rules_are_refused_with_the_reason() {
        for bad in [
            "gmail.messages.get",
            ":500",
            "x:teapot",
            "x:500@2",
            "x:500@often",
            "x:latency,ms",
            "x:latency,ms=-1",
            "x:500,ms=3",
        ] {
            assert!(FaultSpec::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(FaultSpec::parse("  ").map(|s| s.rules.len()), Ok(0));
    }

    #[test]
    fn draws_follow_the_seed_and_the_probability() {
        let spec = FaultSpec::parse("a:500@0.25").unwrap_or_default();
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..1000)
                .map(|_| spec.plan("a", &mut rng).replace.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7), "same seed, same faults");
        let hits = draw(7).iter().filter(|h| **h).count();
        assert!((200..300).contains(&hits), "about a quarter: {hits}");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(
            spec.plan("b", &mut rng),
            FaultPlan::default(),
            "other endpoints untouched"
        );
    }

    #[test]
    fn slowdown_takes_its_numbers_and_leaves_the_answer_alone() {
        let spec = FaultSpec::parse("ado.wiql:slowdown,remaining=5,delay=2;x:slowdown")
            .unwrap_or_default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let plan = spec.plan("ado.wiql", &mut rng);
        assert_eq!(plan.slowdown, Some((5, 2)));
        assert_eq!((plan.replace, plan.corrupt), (None, None));
        assert_eq!(spec.plan("x", &mut rng).slowdown, Some((10, 1)));
        assert!(FaultSpec::parse("x:slowdown,retry_after=1").is_err());
        assert!(FAULT_SPEC_HELP.contains("slowdown"));
    }

    #[test]
    fn groups_cover_every_way_of_sending() {
        let spec = FaultSpec::parse("gmail.send:500;graph.send:503").unwrap_or_default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (endpoint, kind) in [
            ("gmail.messages.send", FaultKind::ServerError),
            ("gmail.drafts.send", FaultKind::ServerError),
            ("graph.send", FaultKind::Unavailable),
            ("graph.drafts.send", FaultKind::Unavailable),
        ] {
            assert_eq!(
                spec.plan(endpoint, &mut rng).replace,
                Some(kind),
                "{endpoint}"
            );
        }
        assert_eq!(spec.plan("gmail.drafts", &mut rng), FaultPlan::default());
        assert!(FAULT_SPEC_HELP.contains("gmail.drafts.send"));
    }

    #[test]
    fn latency_adds_up_and_the_first_replacing_fault_wins() {
        let spec =
            FaultSpec::parse("*:latency,ms=5;a:503;a:500;a:latency,ms=7").unwrap_or_default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let plan = spec.plan("a", &mut rng);
        assert_eq!(plan.delay, Duration::from_millis(12));
        assert_eq!(plan.replace, Some(FaultKind::Unavailable));
    }
}
