//! `ember bench query`: how fast the window's reads are on a large store.
//!
//! Builds a synthetic store of N messages (bulk inserts in transactions of
//! [`WRITE_BATCH`] through the real schema, so the FTS5 triggers index every
//! row), then times the message list's first page, a deep keyset page, a
//! conversation page, the folder list and five searches of different
//! shapes through the same parser, store query and highlighting as the
//! window: a selective word, a common word, `from:`, a phrase and an
//! operator with text. Word frequencies are fixed so figures compare across
//! runs: the common word is in about 17 % of messages (the broad case
//! PERF-NOTES measured), the selective one in about 0.3 %.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::percentile_ms;
use crate::model::{MailView, MessageQuery, PageCursor};
use crate::search::{self, highlight, Field};
use crate::store::{Store, WRITE_BATCH};

/// The five searches, as a user would type them.
pub const SEARCHES: [(&str, &str); 5] = [
    ("selective word", "zeppelin"),
    ("common word", "meeting"),
    ("from: operator", "from:alice"),
    ("phrase", "\"quarterly report\""),
    ("operator and text", "is:unread budget"),
];

/// Figures for one search.
#[derive(Debug, Serialize)]
pub struct SearchFigure {
    /// What kind of query.
    pub kind: &'static str,
    /// The query text.
    pub query: &'static str,
    /// Hits returned (at most 50).
    pub hits: usize,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
}

/// The result, printed as one JSON object.
#[derive(Debug, Serialize)]
pub struct QueryBench {
    /// Messages in the store.
    pub messages: usize,
    /// Timed runs per figure.
    pub samples: usize,
    /// Seconds spent building the store (0 when reused).
    pub build_seconds: f64,
    /// Opening the existing database file (pool and migrations check).
    pub open_ms: f64,
    /// The very first page read after opening (cold caches in this process).
    pub cold_first_page_ms: f64,
    /// Unified inbox, newest 50.
    pub first_page_p50_ms: f64,
    /// Unified inbox, newest 50.
    pub first_page_p99_ms: f64,
    /// A keyset page half-way down.
    pub deep_page_p50_ms: f64,
    /// A keyset page half-way down.
    pub deep_page_p99_ms: f64,
    /// One category, first page.
    pub category_page_p99_ms: f64,
    /// Conversations (one row per thread), first page.
    pub conversations_page_p99_ms: f64,
    /// Every folder with unread and total counts.
    pub folders_p99_ms: f64,
    /// Over all five searches.
    pub search_p50_ms: f64,
    /// Over all five searches.
    pub search_p99_ms: f64,
    /// Each search.
    pub searches: Vec<SearchFigure>,
}

/// A small deterministic generator (SplitMix64): the same store every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "alice", "bruno", "chloe", "dmitri", "elena", "farid", "grace", "hiro", "ines", "jonas",
    "kavya", "liam", "maria", "nadia", "omar", "priya", "quentin", "rosa", "sven", "tariq", "uma",
    "victor", "wen", "ximena", "yusuf", "zoe", "arjun", "bea", "carlos", "dana", "eli", "fatima",
    "gustav", "hana", "ivan", "julia", "kofi", "lena", "mateo", "noor", "oskar", "paula", "ravi",
    "sara", "tomas", "ulla", "vera", "willem", "yara", "zane",
];
const LAST: &[&str] = &[
    "smith", "garcia", "nguyen", "kowalski", "okafor", "tanaka", "muller", "rossi", "silva",
    "haddad", "kim", "novak", "larsen", "dubois", "ivanova", "cohen", "fischer", "moreau", "patel",
    "santos",
];
const DOMAINS: &[&str] = &[
    "example.org",
    "example.com",
    "mail.example.net",
    "corp.example",
];
const SUBJECT_WORDS: &[&str] = &[
    "update", "plan", "notes", "review", "draft", "schedule", "request", "question", "status",
    "proposal", "follow", "up", "weekly", "project", "launch", "design", "feedback", "agenda",
    "summary", "team", "release", "travel", "order", "shipping", "account", "security",
];

/// Filler vocabulary: 3,000 pronounceable made-up words.
fn filler() -> Vec<String> {
    let onsets = [
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "st", "pr",
    ];
    let vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"];
    let codas = ["", "n", "r", "s", "l", "m", "t", "nd", "rk", "sh"];
    let mut out = Vec::new();
    'outer: for o in onsets {
        for v in vowels {
            for c in codas {
                for o2 in ["l", "r", "t", "m", "n"] {
                    for v2 in ["a", "o", "i"] {
                        out.push(format!("{o}{v}{c}{o2}{v2}"));
                        if out.len() == 3_000 {
                            break 'outer;
                        }
                    }
                }
            }
        }
    }
    out
}

/// Builds the synthetic store: `n` messages in one Gmail-like account.
pub(super) async fn build(store: &Store, n: usize) -> anyhow::Result<()> {
    let account = super::bench_account(store).await?;
    let words = filler();
    let word_refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let mut rng = Rng(0x5EED);
    let mut tx = store.begin_write().await?;
    let inbox = crate::store::upsert_folder(
        &mut tx,
        account.id,
        &crate::store::NewFolder {
            provider_id: "INBOX".into(),
            name: "Inbox".into(),
            role: Some("inbox"),
            parent: None,
        },
    )
    .await?;
    let sent = crate::store::upsert_folder(
        &mut tx,
        account.id,
        &crate::store::NewFolder {
            provider_id: "SENT".into(),
            name: "Sent".into(),
            role: Some("sent"),
            parent: None,
        },
    )
    .await?;
    let label = crate::store::upsert_folder(
        &mut tx,
        account.id,
        &crate::store::NewFolder {
            provider_id: "Label_1".into(),
            name: "Receipts".into(),
            role: None,
            parent: None,
        },
    )
    .await?;
    tx.commit().await?;

    // Three years of mail, oldest first, about one message per 15 minutes at 100k.
    let end: i64 = 1_750_000_000_000;
    let span: i64 = 3 * 365 * 86_400_000;
    let step = span / n.max(1) as i64;
    let categories = [
        "primary",
        "primary",
        "primary",
        "primary",
        "updates",
        "updates",
        "promotions",
        "promotions",
        "social",
        "forums",
    ];
    let mut thread_id: i64 = 0;
    for chunk_start in (0..n).step_by(WRITE_BATCH) {
        let mut tx = store.begin_write().await?;
        for i in chunk_start..(chunk_start + WRITE_BATCH).min(n) {
            let date = end - span + i as i64 * step + (rng.next() % 60_000) as i64;
            // Conversations of one to four messages.
            if i == 0 || rng.chance(0.4) {
                thread_id = sqlx::query_scalar(
                    "INSERT INTO threads (account_id, provider_id, subject, last_date)
                     VALUES (?, ?, '', ?) RETURNING id",
                )
                .bind(account.id)
                .bind(format!("t{i}"))
                .bind(date)
                .fetch_one(&mut *tx)
                .await?;
            }
            let first = rng.pick(FIRST);
            let last = rng.pick(LAST);
            let domain = rng.pick(DOMAINS);
            let mut subject: Vec<&str> = (0..4).map(|_| rng.pick(SUBJECT_WORDS)).collect();
            if rng.chance(0.06) {
                subject.push("invoice");
            }
            let mut body: Vec<&str> = (0..45).map(|_| rng.pick(&word_refs)).collect();
            if rng.chance(0.17) {
                body.insert(5, "meeting");
            }
            if rng.chance(0.003) {
                body.insert(9, "zeppelin");
            }
            if rng.chance(0.08) {
                body.insert(12, "budget");
            }
            if rng.chance(0.02) {
                body.splice(15..15, ["quarterly", "report"]);
            }
            if rng.chance(0.05) {
                body.insert(20, "quarterly");
            }
            if rng.chance(0.05) {
                body.insert(30, "report");
            }
            let text = body.join(" ");
            let snippet: String = text.chars().take(200).collect();
            let to =
                serde_json::json!([{"name": null, "address": "bench@example.org"}]).to_string();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO messages (account_id, provider_id, thread_id, subject, from_name,
                     from_address, to_addresses, date, snippet, unread, starred,
                     has_attachments, size, category)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(account.id)
            .bind(format!("m{i}"))
            .bind(thread_id)
            .bind(subject.join(" "))
            .bind(format!("{} {}", capitalise(first), capitalise(last)))
            .bind(format!("{first}.{last}@{domain}"))
            .bind(to)
            .bind(date)
            .bind(&snippet)
            .bind(rng.chance(0.3))
            .bind(rng.chance(0.05))
            .bind(rng.chance(0.1))
            .bind(2_300_i64)
            .bind(categories[(rng.next() % categories.len() as u64) as usize])
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO message_bodies (message_id, text, html, raw_size, fetched_at)
                 VALUES (?, ?, NULL, 2300, 0)",
            )
            .bind(id)
            .bind(&text)
            .execute(&mut *tx)
            .await?;
            let folder = if rng.chance(0.85) {
                inbox
            } else if rng.chance(0.5) {
                sent
            } else {
                label
            };
            sqlx::query("INSERT INTO message_folders (message_id, folder_id) VALUES (?, ?)")
                .bind(id)
                .bind(folder)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        crate::logging::progress(
            "building the store",
            ((chunk_start + WRITE_BATCH).min(n)) as u64,
            n as u64,
        );
    }
    sqlx::query("PRAGMA optimize").execute(store.pool()).await?;
    Ok(())
}

fn capitalise(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Times `samples` runs of `f`.
async fn time<F, Fut, T>(samples: usize, mut f: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        std::hint::black_box(f().await?);
        out.push(started.elapsed());
    }
    Ok(out)
}

/// One search the way the window's command runs it: parse, query, highlight.
async fn search_like_the_window(store: &Store, text: &str) -> anyhow::Result<usize> {
    let parsed = search::parse(text)?;
    let hits = store.search(&parsed, 50).await?;
    let subject = parsed.highlight_terms(Field::Subject);
    let any = parsed.highlight_terms(Field::Any);
    let mut marks = 0;
    for m in &hits {
        marks += highlight::spans(&m.subject, &subject).len();
        marks += highlight::spans(&m.snippet, &any).len();
    }
    std::hint::black_box(marks);
    Ok(hits.len())
}

/// Runs the benchmark.
pub async fn run(n: usize, samples: usize, dir: Option<&Path>) -> anyhow::Result<QueryBench> {
    let temp;
    let dir = match dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.to_owned()
        }
        None => {
            temp = tempfile_dir()?;
            temp.0.clone()
        }
    };
    let path = dir.join(crate::store::DATABASE_FILE);
    let mut build_seconds = 0.0;
    {
        let store = Store::open(&path).await?;
        if store.message_count().await? != n as i64 {
            anyhow::ensure!(
                store.message_count().await? == 0,
                "{} holds a different store; use an empty directory",
                dir.display()
            );
            let started = Instant::now();
            build(&store, n).await?;
            build_seconds = started.elapsed().as_secs_f64();
        }
        store.close().await;
    }

    let started = Instant::now();
    let store = Store::open(&path).await?;
    let open_ms = started.elapsed().as_secs_f64() * 1000.0;
    let unified = MessageQuery {
        view: MailView::Unified,
        before: None,
        limit: 50,
        conversations: false,
    };
    let started = Instant::now();
    store.messages(&unified).await?;
    let cold_first_page_ms = started.elapsed().as_secs_f64() * 1000.0;

    let mut first = time(samples, || async { Ok(store.messages(&unified).await?) }).await?;
    let (date, id): (i64, i64) = sqlx::query_as(
        "SELECT date, id FROM messages ORDER BY date DESC, id DESC LIMIT 1 OFFSET ?",
    )
    .bind(n as i64 / 2)
    .fetch_one(store.pool())
    .await?;
    let deep_query = MessageQuery {
        before: Some(PageCursor { date, id }),
        ..unified.clone()
    };
    let mut deep = time(samples, || async { Ok(store.messages(&deep_query).await?) }).await?;
    let category_query = MessageQuery {
        view: MailView::Category {
            category: crate::model::Category::Updates,
        },
        ..unified.clone()
    };
    let mut category = time(samples, || async {
        Ok(store.messages(&category_query).await?)
    })
    .await?;
    let conversation_query = MessageQuery {
        conversations: true,
        ..unified.clone()
    };
    let mut conversations = time(samples, || async {
        Ok(store.messages(&conversation_query).await?)
    })
    .await?;
    let mut folders = time(samples.min(50), || async { Ok(store.folders(None).await?) }).await?;

    let mut all_searches = Vec::new();
    let mut figures = Vec::new();
    for (kind, query) in SEARCHES {
        let hits = search_like_the_window(&store, query).await?;
        let mut runs = time(samples, || search_like_the_window(&store, query)).await?;
        all_searches.extend_from_slice(&runs);
        figures.push(SearchFigure {
            kind,
            query,
            hits,
            p50_ms: percentile_ms(&mut runs, 50.0),
            p99_ms: percentile_ms(&mut runs, 99.0),
        });
    }
    store.close().await;
    Ok(QueryBench {
        messages: n,
        samples,
        build_seconds,
        open_ms,
        cold_first_page_ms,
        first_page_p50_ms: percentile_ms(&mut first, 50.0),
        first_page_p99_ms: percentile_ms(&mut first, 99.0),
        deep_page_p50_ms: percentile_ms(&mut deep, 50.0),
        deep_page_p99_ms: percentile_ms(&mut deep, 99.0),
        category_page_p99_ms: percentile_ms(&mut category, 99.0),
        conversations_page_p99_ms: percentile_ms(&mut conversations, 99.0),
        folders_p99_ms: percentile_ms(&mut folders, 99.0),
        search_p50_ms: percentile_ms(&mut all_searches, 50.0),
        search_p99_ms: percentile_ms(&mut all_searches, 99.0),
        searches: figures,
    })
}

/// A temporary directory removed when dropped.
pub(super) struct TempDir(pub(super) std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn tempfile_dir() -> anyhow::Result<TempDir> {
    let dir = std::env::temp_dir().join(format!(
        "ember-bench-query-{}-{}",
        std::process::id(),
        crate::store::now_ms()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(TempDir(dir))
}
