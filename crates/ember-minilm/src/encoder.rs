//! A BERT encoder forward pass (MiniLM's shapes, any BERT config with
//! absolute positions) written directly over the weights, for speed on the
//! CPU. It computes what candle-transformers' `BertModel` computes, with:
//! - no padding at all: a batch's texts are laid end to end, the dense
//!   layers run over all their tokens at once and attention runs per text
//!   over its own length, so no attention mask is needed and no FLOP is
//!   spent on padding;
//! - each batch on one thread (`gemm` with no parallelism): the categoriser
//!   runs independent batches on its Rayon pool, which measured better on
//!   two cores than splitting each multiply across threads, and needs no
//!   barrier between operations;
//! - buffers reused per thread, bias and residual folded into the matrix
//!   multiplies, and vectorised exact-erf GELU and softmax ([`kernels`]).
//!
//! Weights are read with candle's safetensors loader and pre-transposed
//! once, with Q, K and V fused into one projection.

use std::cell::RefCell;
use std::collections::HashMap;

use candle_core::{DType, Tensor};
use candle_transformers::models::bert::{Config as BertConfig, HiddenAct};

use crate::kernels::{self, dispatch, matmul, Mat};

struct Layer {
    /// `[hidden, 3 * hidden]`: Q, K and V side by side.
    qkv_w: Vec<f32>,
    qkv_b: Vec<f32>,
    out_w: Vec<f32>,
    out_b: Vec<f32>,
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    up_w: Vec<f32>,
    up_b: Vec<f32>,
    down_w: Vec<f32>,
    down_b: Vec<f32>,
    ln2_g: Vec<f32>,
    ln2_b: Vec<f32>,
}

/// The encoder's weights, laid out for [`Encoder::embed`].
pub struct Encoder {
    hidden: usize,
    heads: usize,
    intermediate: usize,
    max_positions: usize,
    eps: f32,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    ln_g: Vec<f32>,
    ln_b: Vec<f32>,
    layers: Vec<Layer>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("hidden", &self.hidden)
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

/// Per-thread working memory, kept between batches so that a forward pass
/// allocates (and page-faults) nothing once warm.
#[derive(Default)]
struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    up: Vec<f32>,
    scores: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[inline(always)]
fn grow(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if v.len() < len {
        v.resize(len, 0.0);
    }
    &mut v[..len]
}

/// Fills each of the `rows` rows (row stride `bias.len()`) with `bias`.
#[inline(always)]
fn fill_rows(dst: &mut [f32], bias: &[f32]) {
    for row in dst.chunks_exact_mut(bias.len()) {
        row.copy_from_slice(bias);
    }
}

/// Adds `bias` to each row.
#[inline(always)]
fn add_rows(dst: &mut [f32], bias: &[f32]) {
    for row in dst.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// One forward pass as a pulp operation, so that [`dispatch`] inlines the
/// whole pass, element-wise loops included, into the function it compiles
/// for the CPU's instruction set.
struct Forward<'a> {
    encoder: &'a Encoder,
    scratch: &'a mut Scratch,
    batch: &'a [&'a [u32]],
}

impl pulp::WithSimd for Forward<'_> {
    type Output = Vec<Vec<f32>>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Self::Output {
        self.encoder.forward(self.scratch, self.batch)
    }
}

impl Encoder {
    /// Builds the encoder from the tensors of a BERT safetensors file.
    pub fn from_tensors(
        tensors: &HashMap<String, Tensor>,
        config: &BertConfig,
    ) -> Result<Self, String> {
        if !matches!(config.hidden_act, HiddenAct::Gelu) {
            return Err(format!(
                "hidden_act {:?} is not supported by the fast path",
                config.hidden_act
            ));
        }
        if config.num_attention_heads == 0 || config.hidden_size % config.num_attention_heads != 0 {
            return Err("hidden_size is not a multiple of num_attention_heads".into());
        }
        let get = |name: &str, shape: &[usize]| -> Result<Tensor, String> {
            let alternatives = [
                name.to_owned(),
                format!("bert.{name}"),
                name.replace(".weight", ".gamma").replace(".bias", ".beta"),
            ];
            let t = alternatives
                .iter()
                .find_map(|n| tensors.get(n))
                .ok_or_else(|| format!("tensor {name} is missing"))?;
            if t.dims() != shape {
                return Err(format!(
                    "tensor {name} has shape {:?}, not {shape:?}",
                    t.dims()
                ));
            }
            Ok(t.clone())
        };
        let flat = |t: Tensor| -> Result<Vec<f32>, String> {
            t.to_dtype(DType::F32)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(|e| e.to_string())
        };
        // A Linear's weight is [out, in]; the multiply wants [in, out].
        let linear_t = |t: Tensor| -> Result<Tensor, String> {
            t.t()
                .and_then(|t| t.contiguous())
                .map_err(|e| e.to_string())
        };
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let vec = |name: &str, n: usize| get(name, &[n]).and_then(flat);
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let q = linear_t(get(&format!("{p}.attention.self.query.weight"), &[h, h])?)?;
            let k = linear_t(get(&format!("{p}.attention.self.key.weight"), &[h, h])?)?;
            let v = linear_t(get(&format!("{p}.attention.self.value.weight"), &[h, h])?)?;
            let qkv_w = Tensor::cat(&[&q, &k, &v], 1).map_err(|e| e.to_string())?;
            let mut qkv_b = vec(&format!("{p}.attention.self.query.bias"), h)?;
            qkv_b.extend(vec(&format!("{p}.attention.self.key.bias"), h)?);
            qkv_b.extend(vec(&format!("{p}.attention.self.value.bias"), h)?);
            layers.push(Layer {
                qkv_w: flat(qkv_w)?,
                qkv_b,
                out_w: flat(linear_t(get(
                    &format!("{p}.attention.output.dense.weight"),
                    &[h, h],
                )?)?)?,
                out_b: vec(&format!("{p}.attention.output.dense.bias"), h)?,
                ln1_g: vec(&format!("{p}.attention.output.LayerNorm.weight"), h)?,
                ln1_b: vec(&format!("{p}.attention.output.LayerNorm.bias"), h)?,
                up_w: flat(linear_t(get(
                    &format!("{p}.intermediate.dense.weight"),
                    &[i, h],
                )?)?)?,
                up_b: vec(&format!("{p}.intermediate.dense.bias"), i)?,
                down_w: flat(linear_t(get(
                    &format!("{p}.output.dense.weight"),
                    &[h, i],
                )?)?)?,
                down_b: vec(&format!("{p}.output.dense.bias"), h)?,
                ln2_g: vec(&format!("{p}.output.LayerNorm.weight"), h)?,
                ln2_b: vec(&format!("{p}.output.LayerNorm.bias"), h)?,
            });
        }
        let token_type = get(
            "embeddings.token_type_embeddings.weight",
            &[config.type_vocab_size, h],
        )?;
        Ok(Self {
            hidden: h,
            heads: config.num_attention_heads,
            intermediate: i,
            max_positions: config.max_position_embeddings,
            eps: config.layer_norm_eps as f32,
            word: flat(get(
                "embeddings.word_embeddings.weight",
                &[config.vocab_size, h],
            )?)?,
            position: flat(get(
                "embeddings.position_embeddings.weight",
                &[config.max_position_embeddings, h],
            )?)?,
            // Every input is a single segment: type 0.
            token_type: flat(token_type)?[..h].to_vec(),
            ln_g: vec("embeddings.LayerNorm.weight", h)?,
            ln_b: vec("embeddings.LayerNorm.bias", h)?,
            layers,
        })
    }

    /// Mean-pooled, unit-length embeddings of each text of token ids, on the
    /// calling thread. Texts longer than the model's positions are cut.
    pub fn embed(&self, batch: &[&[u32]]) -> Vec<Vec<f32>> {
        SCRATCH.with(|s| {
            let mut scratch = s.borrow_mut();
            dispatch(Forward {
                encoder: self,
                scratch: &mut scratch,
                batch,
            })
        })
    }

    #[inline(always)]
    fn forward(&self, s: &mut Scratch, batch: &[&[u32]]) -> Vec<Vec<f32>> {
        let (h, inter) = (self.hidden, self.intermediate);
        let vocab = self.word.len() / h;
        let lengths: Vec<usize> = batch
            .iter()
            .map(|t| t.len().min(self.max_positions))
            .collect();
        let total: usize = lengths.iter().sum();
        let longest = lengths.iter().copied().max().unwrap_or(0);
        let Scratch {
            x,
            qkv,
            ctx,
            up,
            scores,
        } = s;
        let x = grow(x, total * h);
        let qkv = grow(qkv, total * 3 * h);
        let ctx = grow(ctx, total * h);
        let up = grow(up, total * inter);
        let scores = grow(scores, longest * longest);

        // Embeddings: word + position + token type, then layer norm.
        let mut row = 0;
        for (tokens, n) in batch.iter().zip(&lengths) {
            for (pos, id) in tokens[..*n].iter().enumerate() {
                let id = (*id as usize).min(vocab.saturating_sub(1));
                let dst = &mut x[row * h..(row + 1) * h];
                let w = &self.word[id * h..(id + 1) * h];
                let p = &self.position[pos * h..(pos + 1) * h];
                for (((d, w), p), t) in dst.iter_mut().zip(w).zip(p).zip(&self.token_type) {
                    *d = w + p + t;
                }
                kernels::layer_norm(dst, &self.ln_g, &self.ln_b, self.eps);
                row += 1;
            }
        }

        let head_dim = h / self.heads;
        let scale = 1.0 / (head_dim as f32).sqrt();
        for layer in &self.layers {
            // Q, K, V = x·Wqkv + b.
            fill_rows(qkv, &layer.qkv_b);
            matmul(
                qkv,
                3 * h,
                Mat::rows(x, total, h, h),
                Mat::rows(&layer.qkv_w, h, 3 * h, 3 * h),
                true,
                1.0,
            );
            // Attention, per text and head, over the text's own tokens.
            let mut start = 0;
            for n in &lengths {
                let n = *n;
                let sc = &mut scores[..n * n];
                for head in 0..self.heads {
                    let col = head * head_dim;
                    let base = start * 3 * h;
                    let q = Mat::rows(&qkv[base + col..], n, head_dim, 3 * h);
                    let k_t = Mat {
                        data: &qkv[base + h + col..],
                        rows: head_dim,
                        cols: n,
                        rs: 1,
                        cs: 3 * h,
                    };
                    matmul(sc, n, q, k_t, false, scale);
                    for r in sc.chunks_exact_mut(n) {
                        kernels::softmax(r);
                    }
                    let v = Mat::rows(&qkv[base + 2 * h + col..], n, head_dim, 3 * h);
                    matmul(
                        &mut ctx[start * h + col..],
                        h,
                        Mat::rows(sc, n, n, n),
                        v,
                        false,
                        1.0,
                    );
                }
                start += n;
            }
            // x = LayerNorm(x + ctx·Wo + b).
            add_rows(x, &layer.out_b);
            matmul(
                x,
                h,
                Mat::rows(ctx, total, h, h),
                Mat::rows(&layer.out_w, h, h, h),
                true,
                1.0,
            );
            for r in x.chunks_exact_mut(h) {
                kernels::layer_norm(r, &layer.ln1_g, &layer.ln1_b, self.eps);
            }
            // x = LayerNorm(x + GELU(x·W1 + b1)·W2 + b2).
            fill_rows(up, &layer.up_b);
            matmul(
                up,
                inter,
                Mat::rows(x, total, h, h),
                Mat::rows(&layer.up_w, h, inter, inter),
                true,
                1.0,
            );
            kernels::gelu(up);
            add_rows(x, &layer.down_b);
            matmul(
                x,
                h,
                Mat::rows(up, total, inter, inter),
                Mat::rows(&layer.down_w, inter, h, h),
                true,
                1.0,
            );
            for r in x.chunks_exact_mut(h) {
                kernels::layer_norm(r, &layer.ln2_g, &layer.ln2_b, self.eps);
            }
        }

        // Mean over each text's tokens, then unit length.
        let mut out = Vec::with_capacity(batch.len());
        let mut start = 0;
        for n in lengths {
            let mut mean = vec![0.0f32; h];
            for r in x[start * h..(start + n) * h].chunks_exact(h) {
                for (m, v) in mean.iter_mut().zip(r) {
                    *m += v;
                }
            }
            let inv_n = 1.0 / n.max(1) as f32;
            let norm = mean
                .iter()
                .map(|m| m * m * inv_n * inv_n)
                .sum::<f32>()
                .sqrt();
            let k = inv_n / norm.max(1e-12);
            for m in &mut mean {
                *m *= k;
            }
            out.push(mean);
            start += n;
        }
        out
    }
}
