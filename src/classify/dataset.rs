//! The labelled emails the default model learns from, and the stratified
//! folds it is evaluated on.
//!
//! `shared/data/categories/train.csv` holds Gmail's own tabs for a newsletter
//! inbox (primary, promotions, updates) and the SpamAssassin public corpus
//! (ham, mostly mailing-list traffic, and spam). Labels map to classes as the
//! issue says: a Gmail tab is its category, SpamAssassin ham is Forums and
//! SpamAssassin spam is Spam. Gmail's own spam verdict on the newsletters
//! (`is_spam`) is not used as a label: those messages are the same senders'
//! ordinary newsletters and keep their tab. One unlabelled row is skipped.

use std::path::Path;

use serde::Deserialize;

use super::classifier::Class;
use super::features::Email;
use super::ClassifyError;

/// Where the training file lives relative to the repository root.
pub const DEFAULT_TRAIN_CSV: &str = "../shared/data/categories/train.csv";

/// One labelled email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// The row's id (`markup-0000`, `sa-...`).
    pub id: String,
    /// The email.
    pub email: Email,
    /// Its class.
    pub class: Class,
}

#[derive(Debug, Deserialize)]
struct Row {
    id: String,
    label: String,
    subject: String,
    sender: String,
    list_id: String,
    list_unsubscribe: String,
    has_html: String,
    body_text: String,
}

/// Reads the training file.
pub fn load(path: &Path) -> Result<Vec<Labelled>, ClassifyError> {
    let data = |e: &dyn std::fmt::Display| ClassifyError::Data(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| data(&e))?;
    let mut out = Vec::new();
    for row in reader.deserialize::<Row>() {
        let row = row.map_err(|e| data(&e))?;
        let class = match row.label.as_str() {
            "primary" => Class::Primary,
            "promotions" => Class::Promotions,
            "updates" => Class::Updates,
            "social" => Class::Social,
            "forums" | "ham" => Class::Forums,
            "spam" => Class::Spam,
            _ => continue,
        };
        out.push(Labelled {
            id: row.id,
            email: Email {
                subject: row.subject,
                from: row.sender,
                body: row.body_text,
                list_id: Some(row.list_id).filter(|l| !l.is_empty()),
                list_unsubscribe: row.list_unsubscribe == "1",
                precedence: None,
                html: row.has_html == "1",
            },
            class,
        });
    }
    Ok(out)
}

/// Assigns each example one of `k` folds, stratified by class: within a
/// class, examples ordered by a hash of their id are dealt round-robin.
/// Deterministic, so every run evaluates on the same folds.
pub fn stratified_folds(examples: &[Labelled], k: usize) -> Vec<usize> {
    let k = k.max(2);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|i| {
        (
            examples[*i].class as usize,
            super::features::fnv1a(examples[*i].id.as_bytes()),
        )
    });
    let mut folds = vec![0; examples.len()];
    let mut dealt = [0usize; Class::COUNT];
    for i in order {
        let c = examples[i].class as usize;
        folds[i] = dealt[c] % k;
        dealt[c] += 1;
    }
    folds
}
