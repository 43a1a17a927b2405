//! The `vox` command line: parses arguments and hands each subcommand to its module in `cmd`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Simulate people with language models and hold every simulation against real human data.
#[derive(Debug, Parser)]
#[command(name = "vox", version, about, long_about = None)]
struct Cli {
    /// Log filter, e.g. `info` or `vox_lm=debug` (also `VOX_LOG`).
    #[arg(long, global = true, env = "VOX_LOG", default_value = "warn")]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch, verify and list local GGUF models.
    Model(cmd::model::ModelArgs),
    /// Generate text and score answer options with a language model.
    Lm(cmd::lm::LmArgs),
    /// Rate items from pairwise votes, study annotators and judges, export training data.
    Prefs(cmd::prefs::PrefsArgs),
    /// Simulate survey respondents and compare them with human answers.
    Survey(cmd::survey::SurveyArgs),
    /// Write a self-contained HTML report for a run directory.
    Report(cmd::report::ReportArgs),
    /// Run classical opinion-dynamics models (DeGroot, HK, voter, SIR, ...).
    Dynamics(cmd::dynamics::DynamicsArgs),
}

fn main() -> ExitCode {
    configure_threads();
    let cli = Cli::parse();
    init_tracing(&cli.log);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Model(args) => cmd::model::run(args),
        Command::Lm(args) => cmd::lm::run(args),
        Command::Prefs(args) => cmd::prefs::run(args),
        Command::Survey(args) => cmd::survey::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Dynamics(args) => cmd::dynamics::run(args),
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// candle runs its own spinning thread pool beside rayon's; unless both are sized together,
/// 2 cores end up running 4 busy threads and inference slows 2-3x
/// (`../shared/reference/local-llm/NOTES.md`). Runs before any thread starts.
fn configure_threads() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let rayon = std::env::var("RAYON_NUM_THREADS").ok();
    let threads = rayon.clone().unwrap_or_else(|| cores.to_string());
    if rayon.is_none() {
        std::env::set_var("RAYON_NUM_THREADS", &threads);
    }
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", &threads);
    }
}
