//! Requests to and answers from a language model, shared by every backend.

use serde::{Deserialize, Serialize};

/// Who speaks a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// System instructions.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Speaker.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// What the model is conditioned on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    /// Messages rendered with the model's chat template, ending with the assistant's turn
    /// opened, so a continuation is the assistant's reply.
    Chat(Vec<ChatMessage>),
    /// Text used exactly as given (no template, no special tokens added).
    Raw(String),
}

impl Prompt {
    /// A chat prompt with one user message.
    pub fn user(content: impl Into<String>) -> Self {
        Prompt::Chat(vec![ChatMessage::new(Role::User, content)])
    }
}

/// How to pick tokens. A value that carries its own seed, so equal values give equal text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Softmax temperature; `0.0` means greedy (argmax). Default 0.7.
    pub temperature: f64,
    /// Nucleus sampling mass in (0, 1]; `1.0` disables it. Default 0.9.
    pub top_p: f64,
    /// Seed of the sampler's random stream. Default 0.
    pub seed: u64,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_p: 0.9,
            seed: 0,
        }
    }
}

impl Sampling {
    /// Greedy decoding.
    pub fn greedy() -> Self {
        Self {
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
        }
    }
}

/// A generation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// What to continue.
    pub prompt: Prompt,
    /// Most tokens to generate. Default 128.
    pub max_tokens: usize,
    /// Token selection.
    pub sampling: Sampling,
    /// Generation stops before the first occurrence of any of these strings.
    pub stop: Vec<String>,
}

impl GenerateRequest {
    /// A request with default settings (128 tokens, temperature 0.7, top-p 0.9, seed 0).
    pub fn new(prompt: Prompt) -> Self {
        Self {
            prompt,
            max_tokens: 128,
            sampling: Sampling::default(),
            stop: Vec::new(),
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model produced an end-of-sequence token.
    EndOfSequence,
    /// A stop string was produced (it is not included in the text).
    Stop,
    /// `max_tokens` were generated.
    Length,
}

/// Generated text and its accounting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// The continuation, without the prompt and without any stop string.
    pub text: String,
    /// Tokens in the prompt.
    pub n_prompt_tokens: usize,
    /// Tokens generated.
    pub n_generated_tokens: usize,
    /// Why it ended.
    pub finish: FinishReason,
}

/// Score each option as a continuation of the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreRequest {
    /// The context. For chat prompts an option is the start of the assistant's reply.
    pub prompt: Prompt,
    /// Candidate continuations, scored exactly as written (include a leading space if the
    /// option follows a word).
    pub options: Vec<String>,
}

/// The score of one option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionScore {
    /// The option text.
    pub text: String,
    /// Sum of the natural-log probabilities of the option's tokens after the prompt.
    pub logprob: f64,
    /// Number of tokens in the option.
    pub n_tokens: usize,
}

/// Scores of all options of one request, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionScores {
    /// One entry per option.
    pub options: Vec<OptionScore>,
}

impl OptionScores {
    /// The softmax over options of the total log-probabilities: the probability of each option
    /// given that the answer is one of them.
    pub fn distribution(&self) -> Vec<f64> {
        let max = self
            .options
            .iter()
            .map(|o| o.logprob)
            .fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = self
            .options
            .iter()
            .map(|o| (o.logprob - max).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        weights.iter().map(|w| w / total).collect()
    }
}

/// Per-layer residual-stream vectors for every token of a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenStates {
    /// The token strings, one per position.
    pub tokens: Vec<String>,
    /// Width of each vector (the model's embedding length).
    pub hidden_size: usize,
    /// `layers[l][t]` is the residual stream after block `l` at position `t`; `layers[0]` is the
    /// token embedding, so there are `n_layers + 1` entries.
    pub layers: Vec<Vec<Vec<f32>>>,
}
