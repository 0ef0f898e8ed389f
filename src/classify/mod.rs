//! On-device categorisation.
//!
//! Sync feeds the ids of the messages it stores into a bounded
//! [`CategoriseQueue`]; the categoriser drains it, reads each message's
//! subject, sender, list headers and body start from the store, embeds them
//! with MiniLM ([`embed`]) on a dedicated Rayon pool, and scores them with a
//! logistic regression over word counts, header facts, the embedding and
//! the sender's labelled history ([`features`], [`senders`], [`logreg`],
//! [`classifier`]). The default weights are
//! trained from `shared/data/categories/train.csv` by
//! `ember classifier train` and ship with the app; the user's corrections
//! retrain them in the background.

mod categoriser;
pub mod classifier;
pub mod dataset;
pub mod embed;
pub mod features;
pub mod logreg;
pub mod pipeline;
mod pool;
mod queue;
pub mod records;
pub mod senders;

pub use categoriser::{Categoriser, BATCH, DISK_FULL_MESSAGE};
pub use pool::{default_threads, threads_from_env, ClassifyPool, THREADS_ENV};
pub use queue::{CategoriseQueue, QUEUE_CAPACITY};

/// What can go wrong in categorisation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    /// The sentence model cannot be loaded; everything else keeps working.
    #[error("categorisation unavailable: {0}")]
    ModelUnavailable(String),
    /// Running the model failed.
    #[error("inference failed: {0}")]
    Inference(String),
    /// The trained weights cannot be read or written.
    #[error("classifier weights: {0}")]
    Weights(String),
    /// Labelled training data cannot be read.
    #[error("training data: {0}")]
    Data(String),
}
