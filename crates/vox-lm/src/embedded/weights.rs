//! The model's weights in one runtime format. The embedded backend keeps up to two copies:
//! f32 for prompt processing (matrix-matrix products) and Q8_0 for token-by-token decoding
//! (matrix-vector products, where memory bandwidth dominates). See ARCHITECTURE.md.

use std::fs::File;
use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};

use super::gguf::ModelMetadata;
use crate::LmError;

/// The format weight matrices are held in at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightFormat {
    /// Dequantised to f32: fastest for prompts of many tokens.
    F32,
    /// Re-quantised to Q8_0: fastest for one token at a time.
    Q8_0,
}

/// One linear layer `y = x Wᵀ`.
#[derive(Debug, Clone)]
pub(crate) struct Linear(QMatMul);

impl Linear {
    pub(crate) fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        self.0.forward(xs)
    }
}

/// Weights of one transformer block.
#[derive(Debug, Clone)]
pub(crate) struct BlockWeights {
    pub attn_norm: Tensor,
    pub wq: Linear,
    pub wk: Linear,
    pub wv: Linear,
    pub wo: Linear,
    pub ffn_norm: Tensor,
    pub w_gate: Linear,
    pub w_up: Linear,
    pub w_down: Linear,
}

/// All weights of the model in one format.
#[derive(Debug, Clone)]
pub(crate) struct Weights {
    /// Token embeddings, f32, shape `(vocab, hidden)`.
    pub embeddings: Tensor,
    pub blocks: Vec<BlockWeights>,
    pub final_norm: Tensor,
    /// Output projection to the vocabulary (tied to the embeddings when the file has none).
    pub output: Linear,
}

impl Weights {
    /// Loads every tensor of `content` from `file` and converts matrices to `format`.
    pub(crate) fn load(
        content: &Content,
        file: &mut File,
        path: &Path,
        meta: &ModelMetadata,
        format: WeightFormat,
        device: &Device,
    ) -> Result<Self, LmError> {
        let mut read = |name: &str| -> Result<QTensor, LmError> {
            content
                .tensor(file, name, device)
                .map_err(|err| LmError::BadModelFile {
                    path: path.to_path_buf(),
                    reason: format!("tensor {name}: {err}"),
                })
        };
        let matrix = |q: QTensor| -> Result<Linear, LmError> {
            let dense = q.dequantize(device)?;
            let mat = match format {
                WeightFormat::F32 => QMatMul::Tensor(dense),
                WeightFormat::Q8_0 => {
                    QMatMul::from_qtensor(QTensor::quantize(&dense, GgmlDType::Q8_0)?)?
                }
            };
            Ok(Linear(mat))
        };
        let embedding_q = read("token_embd.weight")?;
        let embeddings = embedding_q.dequantize(device)?;
        let output = match content.tensor_infos.contains_key("output.weight") {
            true => matrix(read("output.weight")?)?,
            false => match format {
                WeightFormat::F32 => Linear(QMatMul::Tensor(embeddings.clone())),
                WeightFormat::Q8_0 => matrix(embedding_q)?,
            },
        };
        let mut blocks = Vec::with_capacity(meta.n_layers);
        for layer in 0..meta.n_layers {
            let p = format!("blk.{layer}");
            blocks.push(BlockWeights {
                attn_norm: read(&format!("{p}.attn_norm.weight"))?.dequantize(device)?,
                wq: matrix(read(&format!("{p}.attn_q.weight"))?)?,
                wk: matrix(read(&format!("{p}.attn_k.weight"))?)?,
                wv: matrix(read(&format!("{p}.attn_v.weight"))?)?,
                wo: matrix(read(&format!("{p}.attn_output.weight"))?)?,
                ffn_norm: read(&format!("{p}.ffn_norm.weight"))?.dequantize(device)?,
                w_gate: matrix(read(&format!("{p}.ffn_gate.weight"))?)?,
                w_up: matrix(read(&format!("{p}.ffn_up.weight"))?)?,
                w_down: matrix(read(&format!("{p}.ffn_down.weight"))?)?,
            });
        }
        let final_norm = read("output_norm.weight")?.dequantize(device)?;
        Ok(Self {
            embeddings,
            blocks,
            final_norm,
            output,
        })
    }
}
