//! Model selection shared by every subcommand that runs a language model.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use vox_lm::embedded::{EmbeddedConfig, EmbeddedModel};
use vox_lm::LanguageModel;

/// Which model to run. Precedence: `--model`, then `VOX_MODEL`, then the embedded default in
/// vox's cache (`VOX_HOME`, default `~/.cache/vox`).
#[derive(Debug, Clone, clap::Args)]
pub struct ModelOpts {
    /// Path to a llama-architecture GGUF file (default: the pulled SmolLM2-135M-Instruct).
    #[arg(long, env = "VOX_MODEL", global = true)]
    pub model: Option<PathBuf>,
}

impl ModelOpts {
    /// The GGUF path this selection resolves to.
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.model {
            Some(path) => Ok(path.clone()),
            None => Ok(vox_lm::store::Store::from_env()?.default_model_path()),
        }
    }

    /// Loads the selected model once, for the whole process.
    pub fn load(&self) -> anyhow::Result<Arc<EmbeddedModel>> {
        let path = self.path()?;
        let model = EmbeddedModel::load(&path, EmbeddedConfig::default())
            .with_context(|| format!("loading model {}", path.display()))?;
        Ok(Arc::new(model))
    }

    /// Loads the selected model behind the backend-neutral trait.
    pub fn load_dyn(&self) -> anyhow::Result<Arc<dyn LanguageModel>> {
        Ok(self.load()?)
    }
}
