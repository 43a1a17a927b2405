//! vox's language-model layer. One small trait, [`LanguageModel`], is implemented by every
//! backend; wrappers (caching, recording, rate limiting) implement the same trait. The embedded
//! backend ([`embedded::EmbeddedModel`]) runs any llama-architecture GGUF in-process with candle;
//! [`store`] fetches, verifies and lists local models.
#![deny(missing_docs)]

pub mod embedded;
mod error;
mod request;
pub mod store;

pub use error::LmError;
pub use request::{
    ChatMessage, FinishReason, GenerateRequest, Generation, HiddenStates, OptionScore,
    OptionScores, Prompt, Role, Sampling, ScoreRequest,
};

/// A language model: generation, option scoring and, where the backend can, hidden states.
///
/// Methods take `&self` so one loaded model can serve many callers; backends with mutable state
/// (a KV cache) guard it internally.
pub trait LanguageModel: Send + Sync {
    /// A stable description of the model (for run manifests and cache keys), e.g. the GGUF's
    /// file name and sha256.
    fn model_id(&self) -> String;

    /// Generates a continuation of `request.prompt`.
    fn generate(&self, request: &GenerateRequest) -> Result<Generation, LmError>;

    /// The total natural-log probability of each option as a continuation of the prompt.
    fn score_options(&self, request: &ScoreRequest) -> Result<OptionScores, LmError>;

    /// Scores many requests. Backends override this to share work between items (a common
    /// prompt prefix, batching); the default scores them one by one in order.
    fn score_batch(&self, requests: &[ScoreRequest]) -> Result<Vec<OptionScores>, LmError> {
        requests.iter().map(|r| self.score_options(r)).collect()
    }

    /// The log-probability of each candidate as the *next token* after the prompt (OpinionQA's
    /// convention: candidates are answer letters such as `"A"`, `" B"`). Each candidate must be
    /// a single token; the values are the full-vocabulary log-softmax at those ids.
    fn next_token_logprobs(
        &self,
        prompt: &Prompt,
        candidates: &[String],
    ) -> Result<Vec<f64>, LmError>;

    /// Per-layer residual-stream vectors for a text, where the backend exposes them.
    fn hidden_states(&self, _prompt: &Prompt) -> Result<HiddenStates, LmError> {
        Err(LmError::Unsupported("hidden states"))
    }
}
