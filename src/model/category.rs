//! Categorisation as the UI sees it: where a message's category came from,
//! why it is there, and whether the categoriser is working.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Category;

/// Where a message's category came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CategorySource {
    /// The on-device classifier.
    Model,
    /// The provider's own signal (Gmail's tabs).
    Provider,
    /// The user moved it there (a correction; never overwritten).
    User,
}

impl CategorySource {
    /// The id stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Provider => "provider",
            Self::User => "user",
        }
    }

    /// Parses a stored id.
    pub fn parse(id: &str) -> Option<Self> {
        [Self::Model, Self::Provider, Self::User]
            .into_iter()
            .find(|s| s.as_str() == id)
    }
}

/// A labelled example like the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Neighbour {
    /// Its subject.
    pub subject: String,
    /// Its sender.
    pub from: String,
    /// Its category.
    pub category: Category,
    /// Cosine similarity of the sentence embeddings, -1 to 1.
    pub similarity: f32,
}

/// Why a message is in its category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CategoryExplanation {
    /// Its category, once categorised.
    pub category: Option<Category>,
    /// How sure the classifier was.
    pub confidence: Option<f64>,
    /// Where the category came from.
    pub source: Option<CategorySource>,
    /// Flagged as spam.
    pub spam: bool,
    /// The nearest labelled examples, most similar first.
    pub neighbours: Vec<Neighbour>,
    /// One sentence for the user.
    pub reason: String,
}

/// The categoriser's state, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClassifierStatus {
    /// Whether messages are being categorised.
    pub available: bool,
    /// "categorisation unavailable: <why>" when not; what it is doing when it is.
    pub message: String,
    /// Messages waiting to be categorised.
    #[ts(type = "number")]
    pub pending: i64,
}
