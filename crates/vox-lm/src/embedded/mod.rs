//! The embedded backend: any llama-architecture GGUF, run in-process on the CPU with candle.
//!
//! Prompt processing uses f32 weights (fast matrix-matrix products) and token-by-token decoding
//! uses Q8_0 weights (less memory traffic); the Q8_0 copy is made on the first `generate`. One
//! KV cache is kept between calls and reused up to the longest common prefix of the next
//! prompt, so questions that share a persona preamble process it once. Option scoring puts all
//! options after the prompt into a single forward pass with a tree-shaped attention mask.

mod forward;
mod gguf;
mod sampler;
mod tokenizer;
mod weights;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

pub use gguf::ModelMetadata;
pub use weights::WeightFormat;

use forward::{common_prefix, forward, KvCache, Rope, Visibility};
use tokenizer::TextCodec;
use weights::Weights;

use crate::{
    FinishReason, GenerateRequest, Generation, HiddenStates, LanguageModel, LmError, OptionScore,
    OptionScores, Prompt, ScoreRequest,
};

/// Runtime settings of the embedded backend.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedConfig {
    /// Weight format for prompt processing and scoring. Default [`WeightFormat::F32`].
    pub prefill_format: WeightFormat,
    /// Weight format for token-by-token generation. Default [`WeightFormat::Q8_0`].
    pub decode_format: WeightFormat,
    /// Most new tokens per forward pass while processing a long prompt. Default 512.
    pub chunk_tokens: usize,
    /// Most new tokens (prompt suffixes plus options) when `score_batch` scores several items
    /// in one forward pass. Default 384.
    pub group_tokens: usize,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            prefill_format: WeightFormat::F32,
            decode_format: WeightFormat::Q8_0,
            chunk_tokens: 512,
            group_tokens: 384,
        }
    }
}

/// A GGUF model loaded in-process. Cheap to share behind an `Arc`; calls are serialised on
/// its KV cache.
pub struct EmbeddedModel {
    path: PathBuf,
    sha256: String,
    meta: ModelMetadata,
    config: EmbeddedConfig,
    codec: TextCodec,
    rope: Rope,
    prefill: Weights,
    decode: OnceLock<Result<Weights, String>>,
    end_tokens: Vec<u32>,
    cache: Mutex<KvCache>,
}

impl std::fmt::Debug for EmbeddedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedModel")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .finish()
    }
}

impl EmbeddedModel {
    /// Loads a llama-architecture GGUF file.
    pub fn load(path: &Path, config: EmbeddedConfig) -> Result<Self, LmError> {
        if !path.exists() {
            return Err(LmError::ModelNotFound {
                path: path.to_path_buf(),
            });
        }
        let _span = tracing::info_span!("load_model", path = %path.display()).entered();
        let io = |source| LmError::Io {
            path: path.to_path_buf(),
            source,
        };
        let sha256 = sha256_file(path)?;
        let mut file = File::open(path).map_err(io)?;
        let content = Content::read(&mut file).map_err(|err| LmError::BadModelFile {
            path: path.to_path_buf(),
            reason: format!("not a readable GGUF file ({err})"),
        })?;
        let meta = ModelMetadata::from_content(&content, path)?;
        let codec = TextCodec::from_content(&content, path, meta.chat_template.as_deref())?;
        let device = Device::Cpu;
        let rope = Rope::new(&meta, &device)?;
        let prefill = Weights::load(
            &content,
            &mut file,
            path,
            &meta,
            config.prefill_format,
            &device,
        )?;
        let mut end_tokens: Vec<u32> = meta.eos_token_id.into_iter().collect();
        for special in ["<|endoftext|>", "<|im_end|>", "<|eot_id|>", "</s>"] {
            if let Some(id) = codec.token_id(special) {
                end_tokens.push(id);
            }
        }
        tracing::info!(name = %meta.name, layers = meta.n_layers, "model loaded");
        Ok(Self {
            path: path.to_path_buf(),
            sha256,
            cache: Mutex::new(KvCache::new(meta.n_layers)),
            meta,
            config,
            codec,
            rope,
            prefill,
            decode: OnceLock::new(),
            end_tokens,
        })
    }

    /// The file's hyper-parameters.
    pub fn metadata(&self) -> &ModelMetadata {
        &self.meta
    }

    /// Hex sha256 of the GGUF file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Path the model was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Token ids of a text exactly as the model sees it (special-token strings become their
    /// ids; nothing is prepended).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>, LmError> {
        self.codec.encode(text)
    }

    /// The prompt rendered to text (chat template applied for chat prompts).
    pub fn render(&self, prompt: &Prompt) -> Result<String, LmError> {
        self.codec.render(prompt)
    }

    /// Builds the decoding weights now rather than on the first `generate` (for timing, or to
    /// pay the conversion cost up front).
    pub fn prepare_generation(&self) -> Result<(), LmError> {
        self.decode_weights().map(|_| ())
    }

    fn decode_weights(&self) -> Result<&Weights, LmError> {
        if self.config.decode_format == self.config.prefill_format {
            return Ok(&self.prefill);
        }
        let loaded = self.decode.get_or_init(|| {
            let _span = tracing::info_span!("load_decode_weights").entered();
            let load = || -> Result<Weights, LmError> {
                let mut file = File::open(&self.path).map_err(|source| LmError::Io {
                    path: self.path.clone(),
                    source,
                })?;
                let content =
                    Content::read(&mut file).map_err(|e| LmError::Runtime(e.to_string()))?;
                Weights::load(
                    &content,
                    &mut file,
                    &self.path,
                    &self.meta,
                    self.config.decode_format,
                    &Device::Cpu,
                )
            };
            load().map_err(|e| e.to_string())
        });
        loaded.as_ref().map_err(|e| LmError::Runtime(e.clone()))
    }

    fn prompt_ids(&self, prompt: &Prompt) -> Result<Vec<u32>, LmError> {
        let ids = self.codec.encode(&self.codec.render(prompt)?)?;
        if ids.is_empty() {
            return Err(LmError::InvalidRequest("the prompt is empty".into()));
        }
        if ids.len() >= self.meta.context_length {
            return Err(LmError::ContextOverflow {
                n_tokens: ids.len(),
                context_length: self.meta.context_length,
            });
        }
        Ok(ids)
    }

    /// Brings the cache to `prompt[..len-1]`, reusing the longest common prefix, so the caller
    /// can run the last prompt token (whose logits it needs) together with whatever follows.
    fn prefill_all_but_last(&self, cache: &mut KvCache, prompt: &[u32]) -> Result<(), LmError> {
        let keep = cache.common_prefix(prompt).min(prompt.len() - 1);
        cache.truncate(keep)?;
        self.prefill_range(cache, prompt, keep, prompt.len() - 1)
    }

    /// Scores items (sorted by prompt; one item is a group too) in one forward pass: the cache
    /// holds the prefix every prompt shares, the rest of the prompts form a trie of new tokens, and each item's
    /// options branch off its last prompt token. The cache is left at the shared prefix.
    fn score_group_locked(
        &self,
        cache: &mut KvCache,
        group: &[(&[u32], &[Vec<u32>])],
    ) -> Result<Vec<Vec<f64>>, LmError> {
        let base = group_base(group);
        let first = group[0].0;
        let keep = cache.common_prefix(first).min(base);
        cache.truncate(keep)?;
        self.prefill_range(cache, first, keep, base)?;

        let mut tokens: Vec<u32> = Vec::new();
        let mut positions: Vec<usize> = Vec::new();
        let mut parents: Vec<Option<usize>> = Vec::new();
        let mut logit_rows: Vec<usize> = Vec::new();
        // wanted[item][option] = (row, token id) pairs whose log-probabilities sum to the score.
        let mut wanted: Vec<Vec<Vec<(usize, u32)>>> = Vec::with_capacity(group.len());
        let mut previous: (&[u32], Vec<usize>) = (&[], Vec::new());
        for (prompt, options) in group {
            let suffix = &prompt[base..];
            let shared = common_prefix(&previous.0[base.min(previous.0.len())..], suffix)
                .min(previous.1.len());
            let mut path = previous.1[..shared].to_vec();
            for (k, &id) in suffix.iter().enumerate().skip(shared) {
                path.push(tokens.len());
                tokens.push(id);
                positions.push(base + k);
                parents.push(k.checked_sub(1).map(|p| path[p]));
            }
            let last_node = *path.last().expect("a prompt keeps at least one new token");
            let last_row = logit_rows.len();
            logit_rows.push(last_node);
            let mut item = Vec::with_capacity(options.len());
            for option in options.iter() {
                let mut pairs = Vec::with_capacity(option.len());
                let (mut row, mut parent) = (last_row, last_node);
                for (k, &id) in option.iter().enumerate() {
                    pairs.push((row, id));
                    let node = tokens.len();
                    tokens.push(id);
                    positions.push(prompt.len() + k);
                    parents.push(Some(parent));
                    parent = node;
                    if k + 1 < option.len() {
                        row = logit_rows.len();
                        logit_rows.push(node);
                    }
                }
                item.push(pairs);
            }
            wanted.push(item);
            previous = (prompt, path);
        }
        let out = forward(
            &self.meta,
            &self.prefill,
            &self.rope,
            cache,
            &tokens,
            &positions,
            Visibility::Tree(&parents),
            &logit_rows,
            false,
        );
        cache.truncate(base)?;
        let logits = out?.logits.expect("logit rows were requested");
        let rows: Vec<Vec<f32>> = logits.to_vec2()?;
        let log_norms: Vec<f64> = rows.iter().map(|r| log_sum_exp(r)).collect();
        Ok(wanted
            .iter()
            .map(|item| {
                item.iter()
                    .map(|pairs| {
                        pairs
                            .iter()
                            .map(|&(row, id)| rows[row][id as usize] as f64 - log_norms[row])
                            .sum()
                    })
                    .collect()
            })
            .collect())
    }

    /// Runs `tokens[start..end]` causally on top of a cache that holds `tokens[..start]`.
    fn prefill_range(
        &self,
        cache: &mut KvCache,
        tokens: &[u32],
        mut start: usize,
        end: usize,
    ) -> Result<(), LmError> {
        while start < end {
            let stop = (start + self.config.chunk_tokens).min(end);
            let positions: Vec<usize> = (start..stop).collect();
            forward(
                &self.meta,
                &self.prefill,
                &self.rope,
                cache,
                &tokens[start..stop],
                &positions,
                Visibility::Causal,
                &[],
                false,
            )?;
            start = stop;
        }
        Ok(())
    }

    /// Logits after the whole prompt, shape `(vocab,)`, reusing the cached common prefix; the
    /// cache ends holding the prompt.
    fn next_token_logits(&self, cache: &mut KvCache, prompt: &[u32]) -> Result<Tensor, LmError> {
        self.prefill_all_but_last(cache, prompt)?;
        let last = prompt.len() - 1;
        let out = forward(
            &self.meta,
            &self.prefill,
            &self.rope,
            cache,
            &prompt[last..],
            &[last],
            Visibility::Causal,
            &[0],
            false,
        )?;
        Ok(out.logits.expect("logit rows were requested").squeeze(0)?)
    }

    fn option_ids(&self, options: &[String]) -> Result<Vec<Vec<u32>>, LmError> {
        if options.is_empty() {
            return Err(LmError::InvalidRequest("the option list is empty".into()));
        }
        options
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let ids = self.codec.encode(text)?;
                if ids.is_empty() {
                    return Err(LmError::InvalidRequest(format!("option {i} is empty")));
                }
                Ok(ids)
            })
            .collect()
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, KvCache> {
        // A panic while holding the lock leaves a cache that may be half-written: start over.
        self.cache.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            *guard = KvCache::new(self.meta.n_layers);
            guard
        })
    }
}

impl LanguageModel for EmbeddedModel {
    fn model_id(&self) -> String {
        let file = self
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("embedded:{file}@sha256:{}", self.sha256)
    }

    fn generate(&self, request: &GenerateRequest) -> Result<Generation, LmError> {
        let _span = tracing::debug_span!("generate", max_tokens = request.max_tokens).entered();
        let prompt = self.prompt_ids(&request.prompt)?;
        let decode = self.decode_weights()?;
        let mut cache = self.lock_cache();
        let mut logits: Vec<f32> = self.next_token_logits(&mut cache, &prompt)?.to_vec1()?;
        let mut rng = ChaCha8Rng::seed_from_u64(request.sampling.seed);
        let mut generated: Vec<u32> = Vec::new();
        let mut finish = FinishReason::Length;
        let mut text = String::new();
        while generated.len() < request.max_tokens {
            let next = sampler::sample(&logits, &request.sampling, &mut rng);
            if self.end_tokens.contains(&next) {
                finish = FinishReason::EndOfSequence;
                break;
            }
            generated.push(next);
            text = self.codec.decode(&generated)?;
            if let Some(cut) = request
                .stop
                .iter()
                .filter(|s| !s.is_empty())
                .filter_map(|s| text.find(s.as_str()))
                .min()
            {
                text.truncate(cut);
                finish = FinishReason::Stop;
                break;
            }
            let position = prompt.len() + generated.len() - 1;
            if position + 1 >= self.meta.context_length || generated.len() == request.max_tokens {
                break;
            }
            let out = forward(
                &self.meta,
                decode,
                &self.rope,
                &mut cache,
                &[next],
                &[position],
                Visibility::Causal,
                &[0],
                false,
            )?;
            logits = out.logits.expect("requested").squeeze(0)?.to_vec1()?;
        }
        // Keep only prompt positions (computed with the prefill weights) for later reuse, so
        // scores never depend on what was generated before.
        cache.truncate(prompt.len())?;
        Ok(Generation {
            text,
            n_prompt_tokens: prompt.len(),
            n_generated_tokens: generated.len(),
            finish,
        })
    }

    fn score_options(&self, request: &ScoreRequest) -> Result<OptionScores, LmError> {
        let prompt = self.prompt_ids(&request.prompt)?;
        let options = self.option_ids(&request.options)?;
        let mut cache = self.lock_cache();
        let mut scored = self.score_group_locked(&mut cache, &[(&prompt, &options)])?;
        Ok(option_scores(&request.options, &options, scored.remove(0)))
    }

    fn score_batch(&self, requests: &[ScoreRequest]) -> Result<Vec<OptionScores>, LmError> {
        // Tokenise everything first so a bad item fails before any work is done. Then visit
        // items in lexicographic token order, so items that share a prefix (one persona's
        // preamble) are neighbours, and score neighbours together: their prompt suffixes form a
        // trie and their options hang off it, all in one forward pass.
        let mut items = Vec::with_capacity(requests.len());
        for (index, request) in requests.iter().enumerate() {
            let prompt = self
                .prompt_ids(&request.prompt)
                .map_err(|e| item_error(index, e))?;
            let options = self
                .option_ids(&request.options)
                .map_err(|e| item_error(index, e))?;
            items.push((prompt, options));
        }
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| items[a].0.cmp(&items[b].0));
        let mut results: Vec<Option<OptionScores>> = vec![None; items.len()];
        let mut cache = self.lock_cache();
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len() {
                let candidate: Vec<_> = order[start..=end]
                    .iter()
                    .map(|&i| (items[i].0.as_slice(), items[i].1.as_slice()))
                    .collect();
                if group_nodes(&candidate) > self.config.group_tokens {
                    break;
                }
                end += 1;
            }
            let group: Vec<_> = order[start..end]
                .iter()
                .map(|&i| (items[i].0.as_slice(), items[i].1.as_slice()))
                .collect();
            let scored = self
                .score_group_locked(&mut cache, &group)
                .map_err(|e| item_error(order[start], e))?;
            for (&index, logprobs) in order[start..end].iter().zip(scored) {
                results[index] = Some(option_scores(
                    &requests[index].options,
                    &items[index].1,
                    logprobs,
                ));
            }
            start = end;
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every item scored"))
            .collect())
    }

    fn next_token_logprobs(
        &self,
        prompt: &Prompt,
        candidates: &[String],
    ) -> Result<Vec<f64>, LmError> {
        if candidates.is_empty() {
            return Err(LmError::InvalidRequest(
                "the candidate list is empty".into(),
            ));
        }
        let mut ids = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            match self.codec.encode(candidate)?.as_slice() {
                [id] => ids.push(*id),
                other => {
                    return Err(LmError::InvalidRequest(format!(
                    "candidate {candidate:?} is {} tokens; next-token scoring needs exactly one",
                    other.len()
                )))
                }
            }
        }
        let prompt = self.prompt_ids(prompt)?;
        let mut cache = self.lock_cache();
        let logits: Vec<f32> = self.next_token_logits(&mut cache, &prompt)?.to_vec1()?;
        let log_norm = log_sum_exp(&logits);
        Ok(ids
            .iter()
            .map(|&id| logits[id as usize] as f64 - log_norm)
            .collect())
    }

    fn hidden_states(&self, prompt: &Prompt) -> Result<HiddenStates, LmError> {
        let ids = self.prompt_ids(prompt)?;
        // A private cache: hidden states must cover every token, not just an uncached suffix.
        let mut cache = KvCache::new(self.meta.n_layers);
        let mut per_layer: Vec<Vec<Tensor>> = vec![Vec::new(); self.meta.n_layers + 1];
        let mut start = 0;
        while start < ids.len() {
            let stop = (start + self.config.chunk_tokens).min(ids.len());
            let positions: Vec<usize> = (start..stop).collect();
            let out = forward(
                &self.meta,
                &self.prefill,
                &self.rope,
                &mut cache,
                &ids[start..stop],
                &positions,
                Visibility::Causal,
                &[],
                true,
            )?;
            for (layer, h) in out.hidden.into_iter().enumerate() {
                per_layer[layer].push(h);
            }
            start = stop;
        }
        let mut layers = Vec::with_capacity(per_layer.len());
        for chunks in per_layer {
            layers.push(Tensor::cat(&chunks, 0)?.to_vec2::<f32>()?);
        }
        Ok(HiddenStates {
            tokens: ids.iter().map(|&id| self.codec.token_text(id)).collect(),
            hidden_size: self.meta.hidden_size,
            layers,
        })
    }
}

/// Length of the prefix every prompt of a (sorted) group shares, leaving each prompt at least
/// one token whose logits are computed fresh.
fn group_base(group: &[(&[u32], &[Vec<u32>])]) -> usize {
    let first = group[0].0;
    group
        .iter()
        .map(|(prompt, _)| (prompt.len() - 1).min(common_prefix(first, prompt)))
        .min()
        .unwrap_or(0)
}

/// New tokens a group adds to the cache in `score_group_locked`.
fn group_nodes(group: &[(&[u32], &[Vec<u32>])]) -> usize {
    let base = group_base(group);
    let mut nodes = 0;
    let mut previous: &[u32] = &[];
    for (prompt, options) in group {
        let shared = common_prefix(previous, prompt).max(base).min(prompt.len());
        nodes += prompt.len() - shared + options.iter().map(Vec::len).sum::<usize>();
        previous = prompt;
    }
    nodes
}

/// Pairs each option's text and token count with its log-probability.
fn option_scores(texts: &[String], ids: &[Vec<u32>], logprobs: Vec<f64>) -> OptionScores {
    OptionScores {
        options: texts
            .iter()
            .zip(ids)
            .zip(logprobs)
            .map(|((text, ids), logprob)| OptionScore {
                text: text.clone(),
                logprob,
                n_tokens: ids.len(),
            })
            .collect(),
    }
}

fn log_sum_exp(row: &[f32]) -> f64 {
    let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
    max + row
        .iter()
        .map(|&x| (x as f64 - max).exp())
        .sum::<f64>()
        .ln()
}

fn item_error(index: usize, err: LmError) -> LmError {
    match err {
        LmError::InvalidRequest(msg) => LmError::InvalidRequest(format!("item {index}: {msg}")),
        other => other,
    }
}

/// Hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, LmError> {
    let io = |source| LmError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
