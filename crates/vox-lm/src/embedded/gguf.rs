//! The GGUF file's own metadata: architecture hyper-parameters and tokenizer fields, read once
//! and kept apart from the runtime configuration and the weights.

use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};

use crate::LmError;

/// Hyper-parameters of a llama-architecture model, as stored in its GGUF metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMetadata {
    /// `general.name`, or the file stem when absent.
    pub name: String,
    /// Transformer blocks.
    pub n_layers: usize,
    /// Residual-stream width.
    pub hidden_size: usize,
    /// Width of the feed-forward layer.
    pub ffn_size: usize,
    /// Query heads.
    pub n_heads: usize,
    /// Key/value heads (grouped-query attention when fewer than `n_heads`).
    pub n_kv_heads: usize,
    /// Largest number of positions the model was trained for.
    pub context_length: usize,
    /// RoPE base frequency.
    pub rope_freq_base: f32,
    /// Epsilon of the RMS norms.
    pub rms_norm_eps: f64,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Jinja chat template, when the file carries one.
    pub chat_template: Option<String>,
    /// Beginning-of-sequence token id.
    pub bos_token_id: Option<u32>,
    /// End-of-sequence token id.
    pub eos_token_id: Option<u32>,
}

impl ModelMetadata {
    /// Reads and checks the metadata of a parsed GGUF file.
    pub(crate) fn from_content(content: &Content, path: &Path) -> Result<Self, LmError> {
        let bad = |reason: String| LmError::BadModelFile {
            path: path.to_path_buf(),
            reason,
        };
        let get = |key: &str| content.metadata.get(key);
        let string = |key: &str| get(key).and_then(|v| v.to_string().ok()).cloned();
        let arch = string("general.architecture").unwrap_or_default();
        if arch != "llama" {
            return Err(bad(format!(
                "architecture is {arch:?}; vox's embedded backend runs llama-architecture models"
            )));
        }
        let uint = |key: &str| -> Result<usize, LmError> {
            get(key)
                .and_then(value_to_usize)
                .ok_or_else(|| bad(format!("metadata key {key} is missing or not an integer")))
        };
        let n_heads = uint("llama.attention.head_count")?;
        let hidden_size = uint("llama.embedding_length")?;
        if n_heads == 0 || hidden_size % n_heads != 0 {
            return Err(bad(format!(
                "{hidden_size} is not divisible into {n_heads} heads"
            )));
        }
        let n_kv_heads = get("llama.attention.head_count_kv")
            .and_then(value_to_usize)
            .unwrap_or(n_heads);
        if n_kv_heads == 0 || n_heads % n_kv_heads != 0 {
            return Err(bad(format!(
                "{n_heads} heads cannot share {n_kv_heads} key/value heads"
            )));
        }
        let vocab_size = match get("llama.vocab_size").and_then(value_to_usize) {
            Some(n) => n,
            None => match get("tokenizer.ggml.tokens") {
                Some(Value::Array(tokens)) => tokens.len(),
                _ => return Err(bad("no vocabulary size and no tokenizer tokens".into())),
            },
        };
        let name = string("general.name").unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        Ok(Self {
            name,
            n_layers: uint("llama.block_count")?,
            hidden_size,
            ffn_size: uint("llama.feed_forward_length")?,
            n_heads,
            n_kv_heads,
            context_length: get("llama.context_length")
                .and_then(value_to_usize)
                .unwrap_or(2048),
            rope_freq_base: get("llama.rope.freq_base")
                .and_then(|v| v.to_f32().ok())
                .unwrap_or(10_000.0),
            rms_norm_eps: get("llama.attention.layer_norm_rms_epsilon")
                .and_then(|v| v.to_f32().ok())
                .unwrap_or(1e-5) as f64,
            vocab_size,
            chat_template: string("tokenizer.chat_template"),
            bos_token_id: get("tokenizer.ggml.bos_token_id")
                .and_then(value_to_usize)
                .map(|v| v as u32),
            eos_token_id: get("tokenizer.ggml.eos_token_id")
                .and_then(value_to_usize)
                .map(|v| v as u32),
        })
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.n_heads
    }
}

fn value_to_usize(value: &Value) -> Option<usize> {
    match value {
        Value::U8(v) => Some(*v as usize),
        Value::U16(v) => Some(*v as usize),
        Value::U32(v) => Some(*v as usize),
        Value::U64(v) => Some(*v as usize),
        Value::I8(v) if *v >= 0 => Some(*v as usize),
        Value::I16(v) if *v >= 0 => Some(*v as usize),
        Value::I32(v) if *v >= 0 => Some(*v as usize),
        Value::I64(v) if *v >= 0 => Some(*v as usize),
        _ => None,
    }
}
