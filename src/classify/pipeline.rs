//! Embedding many emails at once on the categoriser's pool: tokenise, group
//! by length into batches, run the batches in parallel (each batch on one
//! thread: independent single-threaded workers beat one model split across
//! threads on this hardware; the fast engine never splits an operation),
//! reassemble in input order.

use std::path::PathBuf;
use std::sync::Arc;

use super::embed::{batches_by_length, Embedder};
use super::{ClassifyError, ClassifyPool};

/// Emails per batch: large enough to amortise a forward pass, small enough
/// that a batch sorted by length pads little, cancellation is prompt and the
/// categoriser's batch of 64 splits into work for every thread. 16 measured
/// at least as fast as 32 and 64 on two cores (`ember bench classify
/// --batch-size`).
pub const BATCH_SIZE: usize = 16;

/// Loads the sentence model on the pool (reading 90 MB and building the
/// graph takes a moment).
pub async fn load(
    pool: &ClassifyPool,
    dir: PathBuf,
    max_tokens: usize,
) -> Result<Arc<Embedder>, ClassifyError> {
    pool.run(move || Embedder::load(&dir, max_tokens).map(Arc::new))
        .await
        .map_err(|e| ClassifyError::ModelUnavailable(e.to_string()))?
}

/// Embeds `texts` on the pool; vectors in input order, and the token count
/// of each text. With `progress`, each finished batch is reported under
/// that task name ([`crate::logging::progress`]: a bar on the command line).
pub async fn embed_all(
    pool: &ClassifyPool,
    embedder: Arc<Embedder>,
    texts: Vec<String>,
    batch_size: usize,
    progress: Option<&'static str>,
) -> Result<(Vec<Vec<f32>>, Vec<usize>), ClassifyError> {
    let n = texts.len();
    let tokens = {
        let embedder = embedder.clone();
        pool.run(move || embedder.tokenize(&texts))
            .await
            .map_err(|e| ClassifyError::Inference(e.to_string()))??
    };
    let lengths: Vec<usize> = tokens.iter().map(Vec::len).collect();
    let tokens = Arc::new(tokens);
    let batches = batches_by_length(&lengths, batch_size);
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let total = n as u64;
    let results = pool
        .map(batches, move |batch: Vec<usize>| {
            let slices: Vec<&[u32]> = batch.iter().map(|i| tokens[*i].as_slice()).collect();
            let result = embedder.embed_tokens(&slices);
            if let Some(task) = progress {
                let now = done.fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed)
                    + batch.len() as u64;
                crate::logging::progress(task, now, total);
            }
            result.map(|v| (batch, v))
        })
        .await
        .map_err(|e| ClassifyError::Inference(e.to_string()))?;
    let mut out = vec![Vec::new(); n];
    for result in results {
        let (batch, vectors) = result?;
        for (i, v) in batch.into_iter().zip(vectors) {
            out[i] = v;
        }
    }
    Ok((out, lengths))
}
