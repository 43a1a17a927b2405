//! Errors of the language-model layer.

use std::path::PathBuf;

/// Everything that can go wrong loading or running a language model.
#[derive(Debug, thiserror::Error)]
pub enum LmError {
    /// The model file does not exist.
    #[error(
        "model file {path} does not exist; run `vox model pull` or pass --model PATH / VOX_MODEL"
    )]
    ModelNotFound {
        /// Path that was tried.
        path: PathBuf,
    },
    /// The file is not a GGUF model vox can run.
    #[error("{path} is not a usable GGUF model: {reason}")]
    BadModelFile {
        /// Path of the file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The request is invalid (empty option list, candidate that is not one token, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The prompt plus continuation does not fit the model's context window.
    #[error("{n_tokens} tokens do not fit the model's context of {context_length} tokens")]
    ContextOverflow {
        /// Tokens needed.
        n_tokens: usize,
        /// The model's context length.
        context_length: usize,
    },
    /// The backend does not provide this capability.
    #[error("this backend does not support {0}")]
    Unsupported(&'static str),
    /// Tokenizer or chat-template failure.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A tensor operation failed inside the backend.
    #[error("model runtime: {0}")]
    Runtime(String),
    /// Fetching or verifying a model failed.
    #[error("{0}")]
    Store(String),
    /// Filesystem error with the path involved.
    #[error("{path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

impl From<candle_core::Error> for LmError {
    fn from(err: candle_core::Error) -> Self {
        LmError::Runtime(err.to_string())
    }
}
