//! The tokenizer and chat template, both built from the GGUF's own metadata so that nothing is
//! fetched from a hub.

use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::Tokenizer;

use crate::{ChatMessage, LmError, Prompt, Role};

/// Text ↔ token ids, plus the chat template.
pub(crate) struct TextCodec {
    tokenizer: Tokenizer,
    template: Option<minijinja::Environment<'static>>,
    bos: String,
    eos: String,
}

impl TextCodec {
    pub(crate) fn from_content(
        content: &Content,
        path: &Path,
        chat_template: Option<&str>,
    ) -> Result<Self, LmError> {
        let mut tokenizer = Tokenizer::from_gguf(content).map_err(|err| LmError::BadModelFile {
            path: path.to_path_buf(),
            reason: format!("cannot build its tokenizer: {err}"),
        })?;
        let pre = content
            .metadata
            .get("tokenizer.ggml.pre")
            .and_then(|v| v.to_string().ok())
            .map(String::as_str)
            .unwrap_or("");
        if pre == "smollm" {
            // candle maps `smollm` to GPT-2's byte-level pre-tokenizer *with* a prefix space,
            // which shifts every id ("Hello" → 38699 instead of llama.cpp's 19556). llama.cpp
            // splits single digits, then applies byte-level BPE without a prefix space.
            tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
                Digits::new(true).into(),
                ByteLevel::new(false, true, true).into(),
            ])));
        }
        let token_text = |key: &str| -> String {
            content
                .metadata
                .get(key)
                .and_then(|v| v.to_u32().ok())
                .and_then(|id| tokenizer.id_to_token(id))
                .unwrap_or_default()
        };
        let bos = token_text("tokenizer.ggml.bos_token_id");
        let eos = token_text("tokenizer.ggml.eos_token_id");
        let template = match chat_template {
            Some(source) => {
                let mut env = minijinja::Environment::new();
                env.add_template_owned("chat", source.to_string())
                    .map_err(|err| LmError::BadModelFile {
                        path: path.to_path_buf(),
                        reason: format!("its chat template does not parse: {err}"),
                    })?;
                Some(env)
            }
            None => None,
        };
        Ok(Self {
            tokenizer,
            template,
            bos,
            eos,
        })
    }

    /// Token ids of `text`. Special-token strings such as `<|im_start|>` become their ids, as
    /// llama.cpp does with `parse_special`; nothing (no BOS) is added.
    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u32>, LmError> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| LmError::Tokenizer(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Text of `ids`, special tokens included.
    pub(crate) fn decode(&self, ids: &[u32]) -> Result<String, LmError> {
        self.tokenizer
            .decode(ids, false)
            .map_err(|e| LmError::Tokenizer(e.to_string()))
    }

    /// The string form of one token id.
    pub(crate) fn token_text(&self, id: u32) -> String {
        self.tokenizer.id_to_token(id).unwrap_or_default()
    }

    /// The id of a token given by its exact string, if it is in the vocabulary.
    pub(crate) fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }

    /// The prompt as text: raw text unchanged, or chat messages rendered with the model's
    /// template with the assistant's turn opened.
    pub(crate) fn render(&self, prompt: &Prompt) -> Result<String, LmError> {
        match prompt {
            Prompt::Raw(text) => Ok(text.clone()),
            Prompt::Chat(messages) => {
                let Some(env) = &self.template else {
                    return Ok(plain_chat(messages));
                };
                let template = env
                    .get_template("chat")
                    .map_err(|e| LmError::Tokenizer(e.to_string()))?;
                let messages: Vec<_> = messages
                    .iter()
                    .map(|m| minijinja::context! { role => role_name(m.role), content => m.content.as_str() })
                    .collect();
                template
                    .render(minijinja::context! {
                        messages => messages,
                        add_generation_prompt => true,
                        bos_token => self.bos.as_str(),
                        eos_token => self.eos.as_str(),
                    })
                    .map_err(|e| LmError::Tokenizer(format!("chat template: {e}")))
            }
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// A plain fallback for models without a template.
fn plain_chat(messages: &[ChatMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str(&format!("{}: {}\n", role_name(m.role), m.content));
    }
    out.push_str("assistant:");
    out
}
