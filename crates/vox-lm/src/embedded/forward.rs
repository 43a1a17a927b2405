//! The llama transformer forward pass over a rollback-able KV cache, with explicit positions
//! and an explicit attention mask. Causal prompt processing, one-token decoding and "tree"
//! scoring (several options after one shared prompt, in a single pass) are all this one
//! function with different masks.

use candle_core::{DType, Device, Tensor};

use super::gguf::ModelMetadata;
use super::weights::Weights;
use crate::LmError;

/// The key/value cache of one sequence: per layer, keys and values of shape
/// `(1, n_kv_heads, len, head_dim)`, plus the token ids they were computed from.
#[derive(Debug, Default)]
pub(crate) struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    /// Token ids whose keys and values are cached, in order.
    pub tokens: Vec<u32>,
}

impl KvCache {
    pub(crate) fn new(n_layers: usize) -> Self {
        Self {
            layers: vec![None; n_layers],
            tokens: Vec::new(),
        }
    }

    /// Cached positions.
    pub(crate) fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Forgets every position from `len` on.
    pub(crate) fn truncate(&mut self, len: usize) -> Result<(), LmError> {
        if len >= self.tokens.len() {
            return Ok(());
        }
        self.tokens.truncate(len);
        for slot in self.layers.iter_mut() {
            if len == 0 {
                *slot = None;
            } else if let Some((k, v)) = slot.take() {
                *slot = Some((k.narrow(2, 0, len)?, v.narrow(2, 0, len)?));
            }
        }
        Ok(())
    }

    /// Length of the longest common prefix between the cached tokens and `tokens`.
    pub(crate) fn common_prefix(&self, tokens: &[u32]) -> usize {
        common_prefix(&self.tokens, tokens)
    }
}

/// Which new tokens a new token may attend to (besides every cached position, which all new
/// tokens see).
pub(crate) enum Visibility<'a> {
    /// Ordinary causal attention among the new tokens.
    Causal,
    /// `parent[i]` is the new token that precedes token `i` in its branch, or `None` when token
    /// `i` directly follows the cache. Token `i` sees its chain of parents and itself.
    Tree(&'a [Option<usize>]),
}

/// What a forward pass should return.
pub(crate) struct ForwardOutput {
    /// Logits at the requested rows, shape `(rows, vocab)`, f32.
    pub logits: Option<Tensor>,
    /// Residual stream after the embedding and after each block, each `(n_new, hidden)`.
    pub hidden: Vec<Tensor>,
}

/// Precomputed rotary tables, `(context, head_dim / 2)` each.
#[derive(Debug, Clone)]
pub(crate) struct Rope {
    cos: Tensor,
    sin: Tensor,
}

impl Rope {
    pub(crate) fn new(meta: &ModelMetadata, device: &Device) -> Result<Self, LmError> {
        let half = meta.head_dim() / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| {
                1.0 / meta
                    .rope_freq_base
                    .powf(2.0 * i as f32 / meta.head_dim() as f32)
            })
            .collect();
        let inv_freq = Tensor::from_vec(inv_freq, (1, half), device)?;
        let positions = Tensor::arange(0u32, meta.context_length as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((meta.context_length, 1))?;
        let angles = positions.broadcast_mul(&inv_freq)?;
        Ok(Self {
            cos: angles.cos()?,
            sin: angles.sin()?,
        })
    }
}

/// Runs `tokens` (at `positions`) through the model on top of `cache`, appending their keys and
/// values to it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward(
    meta: &ModelMetadata,
    weights: &Weights,
    rope: &Rope,
    cache: &mut KvCache,
    tokens: &[u32],
    positions: &[usize],
    visibility: Visibility<'_>,
    logit_rows: &[usize],
    want_hidden: bool,
) -> Result<ForwardOutput, LmError> {
    let device = weights.embeddings.device().clone();
    let n_new = tokens.len();
    let n_cached = cache.len();
    if let Some(&max_pos) = positions.iter().max() {
        // Positions, not cache entries, are bounded: a tree batch may hold more entries than
        // the context length while every path through it fits.
        if max_pos >= meta.context_length {
            return Err(LmError::ContextOverflow {
                n_tokens: max_pos + 1,
                context_length: meta.context_length,
            });
        }
    }
    let ids = Tensor::new(tokens, &device)?;
    let pos_ids = Tensor::new(
        positions.iter().map(|&p| p as u32).collect::<Vec<_>>(),
        &device,
    )?;
    let cos = rope.cos.index_select(&pos_ids, 0)?;
    let sin = rope.sin.index_select(&pos_ids, 0)?;
    let rep = meta.n_heads / meta.n_kv_heads;
    // One mask row per (query head in a group, new token): the (t, total) mask stacked `rep` times.
    let mask = match attention_mask(n_cached, n_new, &visibility, &device)? {
        Some(mask) if rep > 1 => Some(mask.repeat((rep, 1))?),
        other => other,
    };

    let (n_heads, n_kv, head_dim) = (meta.n_heads, meta.n_kv_heads, meta.head_dim());
    let scale = 1.0 / (head_dim as f64).sqrt();
    let mut x = weights.embeddings.index_select(&ids, 0)?.unsqueeze(0)?; // (1, t, hidden)
    let mut hidden = Vec::new();
    if want_hidden {
        hidden.push(x.squeeze(0)?);
    }
    for (layer, block) in weights.blocks.iter().enumerate() {
        let residual = &x;
        let h = candle_nn::ops::rms_norm(&x, &block.attn_norm, meta.rms_norm_eps as f32)?;
        let q = block
            .wq
            .forward(&h)?
            .reshape((1, n_new, n_heads, head_dim))?
            .transpose(1, 2)?;
        let k = block
            .wk
            .forward(&h)?
            .reshape((1, n_new, n_kv, head_dim))?
            .transpose(1, 2)?;
        let v = block
            .wv
            .forward(&h)?
            .reshape((1, n_new, n_kv, head_dim))?
            .transpose(1, 2)?;
        let q = candle_nn::rotary_emb::rope_i(&q.contiguous()?, &cos, &sin)?;
        let k = candle_nn::rotary_emb::rope_i(&k.contiguous()?, &cos, &sin)?;
        let v = v.contiguous()?;
        let (k_all, v_all) = match cache.layers[layer].take() {
            Some((k_old, v_old)) => (
                Tensor::cat(&[&k_old, &k], 2)?,
                Tensor::cat(&[&v_old, &v], 2)?,
            ),
            None => (k, v),
        };
        cache.layers[layer] = Some((k_all.clone(), v_all.clone()));
        // Grouped-query attention without copying keys and values per query head: the `rep`
        // query heads that share a key/value head are stacked as extra rows, (1, kv, rep*t, d).
        let q = q.reshape((1, n_kv, rep * n_new, head_dim))?;
        let mut att = (q.matmul(&k_all.t()?)? * scale)?; // (1, kv, rep*t, total)
        if let Some(mask) = &mask {
            att = att.broadcast_add(mask)?;
        }
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        let y = att.matmul(&v_all)?; // (1, kv, rep*t, d)
        let y = y
            .reshape((1, n_heads, n_new, head_dim))?
            .transpose(1, 2)?
            .reshape((1, n_new, n_heads * head_dim))?;
        let x_attn = (residual + block.wo.forward(&y)?)?;
        let h = candle_nn::ops::rms_norm(&x_attn, &block.ffn_norm, meta.rms_norm_eps as f32)?;
        let gate = candle_nn::ops::silu(&block.w_gate.forward(&h)?)?;
        let up = block.w_up.forward(&h)?;
        x = (&x_attn + block.w_down.forward(&(gate * up)?)?)?;
        if want_hidden {
            hidden.push(x.squeeze(0)?);
        }
    }
    cache.tokens.extend_from_slice(tokens);

    let logits = if logit_rows.is_empty() {
        None
    } else {
        let rows = Tensor::new(
            logit_rows.iter().map(|&r| r as u32).collect::<Vec<_>>(),
            &device,
        )?;
        let selected = x.squeeze(0)?.index_select(&rows, 0)?;
        let normed =
            candle_nn::ops::rms_norm(&selected, &weights.final_norm, meta.rms_norm_eps as f32)?;
        Some(weights.output.forward(&normed)?)
    };
    Ok(ForwardOutput { logits, hidden })
}

/// The additive mask `(n_new, n_cached + n_new)`: 0 where attention is allowed, -inf elsewhere.
/// `None` when every new token may see everything (a single new token).
fn attention_mask(
    n_cached: usize,
    n_new: usize,
    visibility: &Visibility<'_>,
    device: &Device,
) -> Result<Option<Tensor>, LmError> {
    if n_new == 1 {
        return Ok(None);
    }
    let n_total = n_cached + n_new;
    let mut mask = vec![f32::NEG_INFINITY; n_new * n_total];
    for i in 0..n_new {
        let row = &mut mask[i * n_total..(i + 1) * n_total];
        row[..n_cached].fill(0.0);
        match visibility {
            Visibility::Causal => row[n_cached..=n_cached + i].fill(0.0),
            Visibility::Tree(parent) => {
                let mut node = Some(i);
                while let Some(j) = node {
                    row[n_cached + j] = 0.0;
                    node = parent[j];
                }
            }
        }
    }
    Ok(Some(Tensor::from_vec(mask, (n_new, n_total), device)?))
}

/// Length of the longest common prefix of two token sequences.
pub(crate) fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
