//! `ember categorize`, `ember classifier train|evaluate` and
//! `ember bench classify`: the categoriser from the command line.

use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::classify::classifier::{
    self, Class, Classifier, Example, BASELINE_WEIGHTS, DEFAULT_WEIGHTS,
};
use crate::classify::embed::DEFAULT_MAX_TOKENS;
use crate::classify::features::{Email, FeatureWeights};
use crate::classify::logreg::TrainOptions;
use crate::classify::{dataset, pipeline, ClassifyPool};

/// One input line of `ember categorize`.
#[derive(Debug, Deserialize)]
struct InputLine {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    list_id: Option<String>,
    #[serde(default)]
    list_unsubscribe: Option<serde_json::Value>,
    #[serde(default)]
    precedence: Option<String>,
}

impl InputLine {
    fn email(self) -> Email {
        let unsubscribe = match self.list_unsubscribe {
            Some(serde_json::Value::Bool(b)) => b,
            Some(serde_json::Value::String(s)) => !s.trim().is_empty() && s != "0",
            Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
            _ => false,
        };
        let html = self.body.contains("<html") || self.body.contains("<HTML");
        Email {
            subject: self.subject,
            from: self.from,
            body: self.body,
            list_id: self.list_id.filter(|l| !l.trim().is_empty()),
            list_unsubscribe: unsubscribe,
            precedence: self.precedence,
            html,
        }
    }
}

/// One output line.
#[derive(Debug, Serialize)]
struct OutputLine {
    category: &'static str,
    spam: bool,
    confidence: f32,
}

fn pool() -> anyhow::Result<ClassifyPool> {
    Ok(ClassifyPool::new(crate::classify::threads_from_env())?)
}

/// Embeds emails with the model in `model_dir`.
async fn embed(
    pool: &ClassifyPool,
    model_dir: &Path,
    emails: &[Email],
) -> anyhow::Result<(Vec<Vec<f32>>, Vec<usize>)> {
    let embedder = pipeline::load(pool, model_dir.to_owned(), DEFAULT_MAX_TOKENS).await?;
    let texts = emails.iter().map(Email::embedding_text).collect();
    Ok(pipeline::embed_all(
        pool,
        embedder,
        texts,
        pipeline::BATCH_SIZE,
        Some("embedding emails"),
    )
    .await?)
}

/// `ember categorize --input FILE`: one verdict per input line, in order.
pub async fn categorize(input: &Path, model_dir: &Path) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let mut emails = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: InputLine = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not an email object", input.display(), n + 1))?;
        emails.push(parsed.email());
    }
    let classifier = Classifier::builtin()?;
    let pool = pool()?;
    let (vectors, _) = embed(&pool, model_dir, &emails).await?;
    let mut out = std::io::stdout().lock();
    for (email, v) in emails.iter().zip(&vectors) {
        let p = classifier.predict(email, v);
        let line = OutputLine {
            category: p.category.as_str(),
            spam: p.spam,
            confidence: (p.confidence * 1e4).round() / 1e4,
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// The training set with embeddings: taken from the built-in model's
/// references when they cover exactly these rows (no model run needed),
/// else computed with the model in `model_dir`.
async fn examples(
    data: &Path,
    model_dir: &Path,
    reuse: Option<&Classifier>,
) -> anyhow::Result<Vec<Example>> {
    let rows = dataset::load(data)?;
    let stored: Option<Vec<Vec<f32>>> = reuse.and_then(|c| {
        let refs: Vec<_> = c.references().collect();
        (refs.len() == rows.len() && refs.iter().zip(&rows).all(|((r, _), row)| r.id == row.id))
            .then(|| refs.iter().map(|(_, e)| e.to_vec()).collect())
    });
    let vectors = match stored {
        Some(v) => v,
        None => {
            let emails: Vec<Email> = rows.iter().map(|r| r.email.clone()).collect();
            let (v, _) = embed(&pool()?, model_dir, &emails).await?;
            // Train on what the model file will keep, so the file reproduces.
            v.iter().map(|e| classifier::round_trip(e)).collect()
        }
    };
    Ok(rows
        .into_iter()
        .zip(vectors)
        .map(|(row, embedding)| Example {
            id: row.id,
            email: row.email,
            class: row.class,
            embedding,
            weight: 1.0,
        })
        .collect())
}

/// `ember classifier train`: builds the default model file.
///
/// With `embeddings_from`, the training rows' embeddings are taken from that
/// model file (when it covers the same rows) instead of being computed.
pub async fn train(
    data: &Path,
    out: &Path,
    model_dir: &Path,
    embeddings_from: Option<&Path>,
) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let reuse = match embeddings_from {
        Some(path) => Some(Classifier::from_json(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )?),
        None => None,
    };
    let examples = examples(data, model_dir, reuse.as_ref()).await?;
    let n = examples.len();
    let classifier = pool()?
        .run(move || Classifier::train(&examples, DEFAULT_WEIGHTS, TrainOptions::default()))
        .await?;
    std::fs::write(out, classifier.to_json()?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(serde_json::json!({
        "examples": n,
        "out": out.display().to_string(),
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

/// What `ember classifier evaluate` reports for one configuration.
#[derive(Debug, Serialize)]
struct Evaluated {
    name: &'static str,
    description: &'static str,
    #[serde(flatten)]
    scores: classifier::Scores,
}

/// Knobs to cross-validate next to the shipped configuration (any set one
/// adds a `candidate` result; unset ones are the shipped values).
#[derive(Debug, Clone, Copy, Default)]
pub struct Candidate {
    /// Header-block weight.
    pub header_weight: Option<f32>,
    /// Embedding-block weight.
    pub embedding_weight: Option<f32>,
    /// Sender-history weight.
    pub sender_weight: Option<f32>,
    /// L2 penalty.
    pub l2: Option<f32>,
    /// Training epochs.
    pub epochs: Option<usize>,
}

impl Candidate {
    fn configured(self) -> Option<(FeatureWeights, TrainOptions)> {
        let any = self.header_weight.is_some()
            || self.embedding_weight.is_some()
            || self.sender_weight.is_some()
            || self.l2.is_some()
            || self.epochs.is_some();
        let options = TrainOptions::default();
        any.then(|| {
            (
                FeatureWeights {
                    header: self.header_weight.unwrap_or(DEFAULT_WEIGHTS.header),
                    embedding: self.embedding_weight.unwrap_or(DEFAULT_WEIGHTS.embedding),
                    sender: self.sender_weight.unwrap_or(DEFAULT_WEIGHTS.sender),
                },
                TrainOptions {
                    l2: self.l2.unwrap_or(options.l2),
                    epochs: self.epochs.unwrap_or(options.epochs),
                    ..options
                },
            )
        })
    }
}

/// `ember classifier evaluate --folds K`: the shipped configuration next to
/// the lexical baseline, on the same stratified folds.
pub async fn evaluate(
    data: &Path,
    folds: usize,
    model_dir: &Path,
    candidate: Candidate,
) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let examples = examples(data, model_dir, Classifier::builtin().ok()).await?;
    let rows: Vec<dataset::Labelled> = examples
        .iter()
        .map(|e| dataset::Labelled {
            id: e.id.clone(),
            email: Email::default(),
            class: e.class,
        })
        .collect();
    let assignment = dataset::stratified_folds(&rows, folds);
    let shipped = TrainOptions::default();
    let mut configs: Vec<(&'static str, &'static str, FeatureWeights, TrainOptions)> = vec![
        (
            "baseline",
            "TF-IDF word counts + logistic regression",
            BASELINE_WEIGHTS,
            shipped,
        ),
        (
            "lexical_headers",
            "word counts + header facts",
            FeatureWeights {
                embedding: 0.0,
                sender: 0.0,
                ..DEFAULT_WEIGHTS
            },
            shipped,
        ),
        (
            "without_senders",
            "word counts + header facts + MiniLM embedding (no sender history)",
            FeatureWeights {
                sender: 0.0,
                ..DEFAULT_WEIGHTS
            },
            shipped,
        ),
        (
            "ember",
            "word counts + header facts + MiniLM embedding + sender history (shipped)",
            DEFAULT_WEIGHTS,
            shipped,
        ),
    ];
    if let Some((weights, options)) = candidate.configured() {
        configs.push((
            "candidate",
            "the weights and options given on the command line",
            weights,
            options,
        ));
    }
    let n = examples.len();
    let pool = pool()?;
    let results = pool
        .map(configs, move |(name, description, weights, options)| {
            Evaluated {
                name,
                description,
                scores: classifier::cross_validate(&examples, &assignment, folds, weights, options),
            }
        })
        .await?;
    Ok(serde_json::json!({
        "examples": n,
        "folds": folds,
        "target_classes": Class::TARGET.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "results": results,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}
