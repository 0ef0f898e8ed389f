//! The classifier: one multinomial logistic regression over word counts,
//! header facts, the MiniLM embedding and the sender's labelled history,
//! deciding between the five categories and Spam.
//!
//! Why not a head over the embedding alone: measured on the training file, a
//! frozen sentence embedding loses to plain word counts (it blurs Promotions
//! and Updates, which differ in a few words and in who sends them). The
//! combination keeps the lexical model's precision and adds the embedding's
//! sense of topic, and every input is a readable fact about the email.
//!
//! The trained weights, the IDF table and the training examples' embeddings
//! (8-bit, for "why" and retraining) travel together in one JSON file; the
//! default one, `default_model.json`, is built by `ember classifier train`.

use std::sync::OnceLock;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::embed::cosine;
use super::features::{self, Email, FeatureWeights, Idf, Sparse, FEATURE_DIM};
use super::logreg::{LogReg, TrainOptions};
use super::senders::SenderHistory;
use super::ClassifyError;
use crate::model::Category;

/// What the classifier decides between: the five tabs and Spam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Person-to-person mail.
    Primary = 0,
    /// Social networks.
    Social = 1,
    /// Offers and marketing.
    Promotions = 2,
    /// Receipts, notifications, newsletters' news.
    Updates = 3,
    /// Mailing lists.
    Forums = 4,
    /// Unsolicited bulk mail.
    Spam = 5,
}

impl Class {
    /// How many classes.
    pub const COUNT: usize = 6;
    /// Every class, by index.
    pub const ALL: [Class; 6] = [
        Self::Primary,
        Self::Social,
        Self::Promotions,
        Self::Updates,
        Self::Forums,
        Self::Spam,
    ];
    /// The classes the quality target is measured over.
    pub const TARGET: [Class; 4] = [Self::Forums, Self::Promotions, Self::Spam, Self::Updates];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self.category() {
            Some(c) => c.as_str(),
            None => "spam",
        }
    }

    /// The category it stands for (`None` for Spam).
    pub fn category(self) -> Option<Category> {
        match self {
            Self::Primary => Some(Category::Primary),
            Self::Social => Some(Category::Social),
            Self::Promotions => Some(Category::Promotions),
            Self::Updates => Some(Category::Updates),
            Self::Forums => Some(Category::Forums),
            Self::Spam => None,
        }
    }

    /// The class of a category.
    pub fn of(category: Category) -> Self {
        match category {
            Category::Primary => Self::Primary,
            Category::Social => Self::Social,
            Category::Promotions => Self::Promotions,
            Category::Updates => Self::Updates,
            Category::Forums => Self::Forums,
        }
    }
}

/// Below this probability the best category does not win: the message stays
/// in Primary, where the user will see it.
pub const MIN_CONFIDENCE: f32 = 0.4;

/// How the default model is built: the block weights and training knobs
/// chosen by cross-validation (`ember classifier evaluate`). Sender history
/// at weight 1, 2, 4 and 8 gave macro-F1 0.915, 0.919, 0.922 and 0.916
/// (0.913 without it).
pub const DEFAULT_WEIGHTS: FeatureWeights = FeatureWeights {
    header: 0.5,
    embedding: 1.0,
    sender: 4.0,
};

/// The lexical baseline: the same word block and learner, nothing else.
pub const BASELINE_WEIGHTS: FeatureWeights = FeatureWeights {
    header: 0.0,
    embedding: 0.0,
    sender: 0.0,
};

/// One message's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Its tab.
    pub category: Category,
    /// Whether it looks like spam.
    pub spam: bool,
    /// The probability of the winning class (spam's, when spam).
    pub confidence: f32,
    /// Every class's probability, by [`Class`] index.
    pub probabilities: [f32; Class::COUNT],
}

impl Prediction {
    /// The verdict for a message the provider says is not the user's own
    /// mail (Outlook's "Other" inbox, the opposite of Focused): a two-way
    /// signal, so it only rules Primary out; the model still chooses among
    /// the other four tabs, however unsure it is. Spam stays spam.
    pub fn not_primary(mut self) -> Self {
        if self.category != Category::Primary {
            return self;
        }
        let p = self.probabilities;
        if let Some(best) = Class::ALL
            .into_iter()
            .filter(|c| !matches!(c, Class::Primary | Class::Spam))
            .max_by(|a, b| p[*a as usize].total_cmp(&p[*b as usize]))
        {
            self.category = best.category().unwrap_or(Category::Updates);
            if !self.spam {
                self.confidence = p[best as usize];
            }
        }
        self
    }
}

/// Turns class probabilities into a verdict.
pub fn decide(p: &[f32]) -> Prediction {
    let mut probabilities = [0.0; Class::COUNT];
    for (o, v) in probabilities.iter_mut().zip(p) {
        *o = *v;
    }
    let best = |classes: &mut dyn Iterator<Item = Class>| {
        classes
            .max_by(|a, b| probabilities[*a as usize].total_cmp(&probabilities[*b as usize]))
            .unwrap_or(Class::Primary)
    };
    let top = best(&mut Class::ALL.into_iter());
    let spam = top == Class::Spam;
    let tab = best(&mut Class::ALL.into_iter().filter(|c| *c != Class::Spam));
    let confidence = probabilities[top as usize];
    let category = if spam {
        // A spam verdict files the message by its best tab.
        tab.category().unwrap_or(Category::Primary)
    } else if confidence < MIN_CONFIDENCE {
        Category::Primary
    } else {
        tab.category().unwrap_or(Category::Primary)
    };
    Prediction {
        category,
        spam,
        confidence,
        probabilities,
    }
}

/// The class a verdict amounts to (for evaluation): Spam, else its tab.
pub fn class_of(prediction: &Prediction) -> Class {
    if prediction.spam {
        Class::Spam
    } else {
        Class::of(prediction.category)
    }
}

/// A labelled example the classifier learns from.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// An id for the record (the training row's).
    pub id: String,
    /// The email.
    pub email: Email,
    /// Its class.
    pub class: Class,
    /// Its unit-length embedding.
    pub embedding: Vec<f32>,
    /// How much it counts (corrections count more than provider labels).
    pub weight: f32,
}

/// A training example kept for "why": who, what, which class, and where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// The training row's id.
    #[serde(default)]
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Sender.
    pub from: String,
    /// Class.
    pub class: Class,
    /// Its embedding, 8-bit (`round(x * 127)`), base64.
    pub embedding: String,
    /// The header facts that went into training.
    pub list_id: Option<String>,
    /// List-Unsubscribe present.
    pub list_unsubscribe: bool,
    /// HTML body.
    pub html: bool,
    /// Word counts (u16 bucket, u8 count, little-endian), base64, kept so
    /// retraining needs no body text.
    pub counts: String,
}

/// A trained classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    weights: FeatureWeights,
    options: TrainOptions,
    idf: Idf,
    model: LogReg,
    references: Vec<Reference>,
    reference_embeddings: Vec<Vec<f32>>,
    /// Who sent what, over the references and the examples of the last
    /// retraining.
    senders: SenderHistory,
    /// The part of `senders` that came from those examples (corrections,
    /// provider labels): kept in the model file, so that after a restart the
    /// retrained weights still see what they were trained with.
    learned_senders: SenderHistory,
}

#[derive(Serialize, Deserialize)]
struct File {
    format: u32,
    description: String,
    weights: FeatureWeights,
    options: TrainOptions,
    classes: Vec<Class>,
    dim: usize,
    idf: String,
    coefficients: String,
    bias: Vec<f32>,
    references: Vec<Reference>,
    /// Sender history from the examples of the last retraining.
    #[serde(default, skip_serializing_if = "SenderHistory::is_empty")]
    learned_senders: SenderHistory,
}

const FORMAT: u32 = 2;

fn encode_f32(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode_f32(s: &str) -> Result<Vec<f32>, ClassifyError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| ClassifyError::Weights(e.to_string()))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn encode_counts(counts: &[(u32, u32)]) -> String {
    let bytes: Vec<u8> = counts
        .iter()
        .flat_map(|(i, n)| {
            let [a, b] = (*i as u16).to_le_bytes();
            [a, b, (*n).min(255) as u8]
        })
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode_counts(s: &str) -> Vec<(u32, u32)> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_default()
        .chunks_exact(3)
        .map(|c| (u32::from(u16::from_le_bytes([c[0], c[1]])), u32::from(c[2])))
        .collect()
}

/// Quantises a unit vector to 8 bits and back: what the model file keeps.
pub fn quantise(v: &[f32]) -> String {
    let bytes: Vec<u8> = v
        .iter()
        .map(|x| (x * 127.0).round().clamp(-127.0, 127.0) as i8 as u8)
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn dequantise(s: &str) -> Result<Vec<f32>, ClassifyError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| ClassifyError::Weights(e.to_string()))?;
    Ok(bytes
        .into_iter()
        .map(|b| f32::from(b as i8) / 127.0)
        .collect())
}

/// Rounds an embedding the way the model file stores it, so training on
/// fresh vectors and on stored ones gives the same weights.
pub fn round_trip(v: &[f32]) -> Vec<f32> {
    dequantise(&quantise(v)).unwrap_or_default()
}

/// The weights built into the app.
pub const DEFAULT_MODEL_JSON: &str = include_str!("default_model.json");

impl Classifier {
    /// Trains on `examples` from scratch.
    pub fn train(examples: &[Example], weights: FeatureWeights, options: TrainOptions) -> Self {
        let counts: Vec<Vec<(u32, u32)>> = examples
            .iter()
            .map(|e| features::word_counts(&e.email))
            .collect();
        let tfs: Vec<Sparse> = counts.iter().map(|c| features::sublinear(c)).collect();
        let idf = Idf::fit(&tfs);
        let senders = SenderHistory::of(examples.iter().map(|e| (&e.email, e.class)));
        let xs: Vec<Sparse> = examples
            .iter()
            .zip(&tfs)
            .map(|(e, tf)| {
                let sender = senders.features(&e.email, Some(e.class));
                features::features(tf, &e.email, Some(&e.embedding), &sender, &idf, weights)
            })
            .collect();
        let ys: Vec<usize> = examples.iter().map(|e| e.class as usize).collect();
        let sw: Vec<f32> = examples.iter().map(|e| e.weight).collect();
        let model = LogReg::train(&xs, &ys, Some(&sw), Class::COUNT, FEATURE_DIM, options);
        let references: Vec<Reference> = examples
            .iter()
            .zip(&counts)
            .map(|(e, counts)| Reference {
                id: e.id.clone(),
                subject: e.email.subject.clone(),
                from: e.email.from.clone(),
                class: e.class,
                embedding: quantise(&e.embedding),
                list_id: e.email.list_id.clone(),
                list_unsubscribe: e.email.list_unsubscribe,
                html: e.email.html,
                counts: encode_counts(counts),
            })
            .collect();
        let reference_embeddings = references
            .iter()
            .map(|r| dequantise(&r.embedding).unwrap_or_default())
            .collect();
        Self {
            weights,
            options,
            idf,
            model,
            references,
            reference_embeddings,
            senders,
            learned_senders: SenderHistory::default(),
        }
    }

    /// Scores one email from its embedding.
    pub fn predict(&self, email: &Email, embedding: &[f32]) -> Prediction {
        let tf = features::term_frequencies(email);
        let sender = self.senders.features(email, None);
        let x = features::features(
            &tf,
            email,
            Some(embedding),
            &sender,
            &self.idf,
            self.weights,
        );
        decide(&self.model.probabilities(&x))
    }

    /// How earlier labelled messages from `email`'s sender address were
    /// filed, per class (by [`Class`] index): part of "why".
    pub fn sender_counts(&self, email: &Email) -> [u32; Class::COUNT] {
        self.senders.counts(email)
    }

    /// The built-in classifier, parsed once.
    pub fn builtin() -> Result<&'static Classifier, ClassifyError> {
        static BUILTIN: OnceLock<Result<Classifier, ClassifyError>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Self::from_json(DEFAULT_MODEL_JSON))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The training examples, with their embeddings, for "why" and retraining.
    pub fn references(&self) -> impl Iterator<Item = (&Reference, &[f32])> {
        self.references
            .iter()
            .zip(self.reference_embeddings.iter().map(Vec::as_slice))
    }

    /// The `n` training examples most similar to `embedding`, best first.
    pub fn nearest(&self, embedding: &[f32], n: usize) -> Vec<(&Reference, f32)> {
        let mut scored: Vec<(&Reference, f32)> = self
            .references()
            .map(|(r, e)| (r, cosine(e, embedding)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(n);
        scored
    }

    /// Retrains with `extra` examples (corrections, provider labels) on top
    /// of the training set, starting from the current weights and keeping
    /// its word statistics, so a correction takes effect in moments.
    pub fn retrain(&self, extra: &[Example], epochs: usize) -> Self {
        let emails: Vec<Email> = self.references.iter().map(reference_email).collect();
        let learned_senders = SenderHistory::of(extra.iter().map(|e| (&e.email, e.class)));
        let mut senders = SenderHistory::of(
            emails
                .iter()
                .zip(&self.references)
                .map(|(email, r)| (email, r.class)),
        );
        senders.merge(&learned_senders);
        let mut xs = Vec::with_capacity(self.references.len() + extra.len());
        let mut ys = Vec::with_capacity(xs.capacity());
        let mut sw = Vec::with_capacity(xs.capacity());
        for ((r, e), email) in self.references().zip(&emails) {
            let tf = features::sublinear(&decode_counts(&r.counts));
            let sender = senders.features(email, Some(r.class));
            xs.push(features::features(
                &tf,
                email,
                Some(e),
                &sender,
                &self.idf,
                self.weights,
            ));
            ys.push(r.class as usize);
            sw.push(1.0);
        }
        for e in extra {
            let tf = features::term_frequencies(&e.email);
            let sender = senders.features(&e.email, Some(e.class));
            xs.push(features::features(
                &tf,
                &e.email,
                Some(&e.embedding),
                &sender,
                &self.idf,
                self.weights,
            ));
            ys.push(e.class as usize);
            sw.push(e.weight);
        }
        let mut next = self.clone();
        next.senders = senders;
        next.learned_senders = learned_senders;
        next.model.fit(
            &xs,
            &ys,
            Some(&sw),
            TrainOptions {
                epochs,
                ..self.options
            },
        );
        next
    }

    /// Serialises to the model file's JSON.
    pub fn to_json(&self) -> Result<String, ClassifyError> {
        let file = File {
            format: FORMAT,
            description: "Fireside Ember's categoriser: multinomial logistic regression over \
                hashed word counts, header facts, the all-MiniLM-L6-v2 embedding and the \
                sender's labelled history. Built by \
                `ember classifier train` from shared/data/categories/train.csv."
                .into(),
            weights: self.weights,
            options: self.options,
            classes: Class::ALL.to_vec(),
            dim: self.model.dim,
            idf: encode_f32(&self.idf.0),
            coefficients: encode_f32(&self.model.weights),
            bias: self.model.bias.clone(),
            references: self.references.clone(),
            learned_senders: self.learned_senders.clone(),
        };
        serde_json::to_string(&file).map_err(|e| ClassifyError::Weights(e.to_string()))
    }

    /// Reads a model file's JSON.
    pub fn from_json(text: &str) -> Result<Self, ClassifyError> {
        let file: File =
            serde_json::from_str(text).map_err(|e| ClassifyError::Weights(e.to_string()))?;
        if file.format != FORMAT || file.dim != FEATURE_DIM || file.classes != Class::ALL {
            return Err(ClassifyError::Weights(format!(
                "model file format {} with {} features does not fit this version",
                file.format, file.dim
            )));
        }
        let weights = decode_f32(&file.coefficients)?;
        if weights.len() != FEATURE_DIM * Class::COUNT || file.bias.len() != Class::COUNT {
            return Err(ClassifyError::Weights("truncated coefficients".into()));
        }
        let reference_embeddings = file
            .references
            .iter()
            .map(|r| dequantise(&r.embedding))
            .collect::<Result<_, _>>()?;
        let emails: Vec<Email> = file.references.iter().map(reference_email).collect();
        let mut senders = SenderHistory::of(
            emails
                .iter()
                .zip(&file.references)
                .map(|(e, r)| (e, r.class)),
        );
        senders.merge(&file.learned_senders);
        Ok(Self {
            weights: file.weights,
            options: file.options,
            idf: Idf(decode_f32(&file.idf)?),
            model: LogReg {
                classes: Class::COUNT,
                dim: FEATURE_DIM,
                weights,
                bias: file.bias,
            },
            references: file.references,
            reference_embeddings,
            senders,
            learned_senders: file.learned_senders,
        })
    }
}

/// What the model file keeps of a training example's email: its header
/// facts and sender (the word counts are kept apart).
fn reference_email(r: &Reference) -> Email {
    Email {
        list_id: r.list_id.clone(),
        list_unsubscribe: r.list_unsubscribe,
        html: r.html,
        from: r.from.clone(),
        ..Email::default()
    }
}

/// F1 per class and the macro average over [`Class::TARGET`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// F1 of each class that occurs, by name.
    pub f1: std::collections::BTreeMap<String, f64>,
    /// Mean F1 over Forums, Promotions, Spam and Updates.
    pub macro_f1: f64,
    /// Fraction classified right.
    pub accuracy: f64,
}

/// Scores predicted classes against the truth.
pub fn score(truth: &[Class], predicted: &[Class]) -> Scores {
    let mut f1 = std::collections::BTreeMap::new();
    for class in Class::ALL {
        let tp = truth
            .iter()
            .zip(predicted)
            .filter(|(t, p)| **t == class && **p == class)
            .count();
        let fp = truth
            .iter()
            .zip(predicted)
            .filter(|(t, p)| **t != class && **p == class)
            .count();
        let fn_ = truth
            .iter()
            .zip(predicted)
            .filter(|(t, p)| **t == class && **p != class)
            .count();
        if tp + fn_ == 0 {
            continue;
        }
        let f = if tp == 0 {
            0.0
        } else {
            2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
        };
        f1.insert(class.name().to_owned(), f);
    }
    let target: Vec<f64> = Class::TARGET
        .iter()
        .filter_map(|c| f1.get(c.name()).copied())
        .collect();
    let macro_f1 = if target.is_empty() {
        0.0
    } else {
        target.iter().sum::<f64>() / target.len() as f64
    };
    let right = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    Scores {
        f1,
        macro_f1,
        accuracy: right as f64 / truth.len().max(1) as f64,
    }
}

/// Cross-validates: trains on all folds but one, predicts that one, for
/// each fold; scores the pooled predictions.
pub fn cross_validate(
    examples: &[Example],
    folds: &[usize],
    k: usize,
    weights: FeatureWeights,
    options: TrainOptions,
) -> Scores {
    let mut predicted = vec![Class::Primary; examples.len()];
    for fold in 0..k {
        let train: Vec<Example> = examples
            .iter()
            .zip(folds)
            .filter(|(_, f)| **f != fold)
            .map(|(e, _)| e.clone())
            .collect();
        let model = Classifier::train(&train, weights, options);
        for (i, e) in examples
            .iter()
            .enumerate()
            .filter(|(i, _)| folds[*i] == fold)
        {
            predicted[i] = class_of(&model.predict(&e.email, &e.embedding));
        }
    }
    let truth: Vec<Class> = examples.iter().map(|e| e.class).collect();
    score(&truth, &predicted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn other_mail_never_lands_in_primary_but_keeps_the_models_next_choice() {
        let p = decide(&[0.5, 0.05, 0.1, 0.3, 0.05, 0.0]);
        assert_eq!(p.category, Category::Primary);
        let other = p.not_primary();
        assert_eq!(other.category, Category::Updates);
        assert!((other.confidence - 0.3).abs() < 1e-6);
        let social = decide(&[0.1, 0.6, 0.1, 0.1, 0.1, 0.0]);
        assert_eq!(social.clone().not_primary().category, Category::Social);
    }
    use super::*;

    #[test]
    fn low_confidence_stays_in_primary_and_spam_keeps_a_tab() {
        let unsure = decide(&[0.1, 0.0, 0.35, 0.3, 0.25, 0.0]);
        assert_eq!(unsure.category, Category::Primary);
        assert!(!unsure.spam);
        let sure = decide(&[0.0, 0.0, 0.9, 0.1, 0.0, 0.0]);
        assert_eq!(sure.category, Category::Promotions);
        let spam = decide(&[0.0, 0.0, 0.3, 0.0, 0.0, 0.7]);
        assert!(spam.spam);
        assert_eq!(spam.category, Category::Promotions);
        assert_eq!(class_of(&spam), Class::Spam);
    }

    #[test]
    fn f1_is_per_class_and_macro_over_the_target_classes() {
        use Class::*;
        let truth = [Forums, Forums, Spam, Promotions, Updates];
        let pred = [Forums, Spam, Spam, Promotions, Promotions];
        let s = score(&truth, &pred);
        assert!((s.f1["forums"] - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.f1["spam"] - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.f1["promotions"] - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.f1["updates"], 0.0);
        assert!((s.macro_f1 - 0.5).abs() < 1e-9);
    }

    /// After a restart, retrained weights must still see the sender history
    /// they were trained with: the model file keeps it.
    #[test]
    fn a_retrained_model_file_keeps_the_senders_it_learned() -> Result<(), ClassifyError> {
        let email = |from: &str, subject: &str| Email {
            from: from.into(),
            subject: subject.into(),
            body: "the news of the week".into(),
            ..Email::default()
        };
        let example = |id: &str, email: Email, class| Example {
            id: id.into(),
            email,
            class,
            embedding: vec![0.0; features::EMBEDDING_DIM],
            weight: 1.0,
        };
        let options = TrainOptions {
            epochs: 20,
            ..TrainOptions::default()
        };
        let base = Classifier::train(
            &[
                example("a", email("x@shop.example", "sale"), Class::Promotions),
                example("b", email("y@list.example", "thread"), Class::Forums),
            ],
            DEFAULT_WEIGHTS,
            options,
        );
        assert!(
            !base.to_json()?.contains("learned_senders"),
            "the shipped file has none"
        );
        let correction = example("c", email("news@paper.example", "today"), Class::Updates);
        let retrained = base.retrain(std::slice::from_ref(&correction), 5);
        let reloaded = Classifier::from_json(&retrained.to_json()?)?;
        assert_eq!(
            reloaded.sender_counts(&correction.email)[Class::Updates as usize],
            1
        );
        assert_eq!(reloaded, retrained);
        Ok(())
    }

    #[test]
    fn quantised_embeddings_stay_within_a_step() {
        let v = [0.5, -0.25, 0.0, 1.0];
        for (a, b) in v.iter().zip(round_trip(&v)) {
            assert!((a - b).abs() <= 0.5 / 127.0 + 1e-6);
        }
    }
}
