//! `vox dynamics`: run and sweep classical opinion-dynamics scenarios (TOML) from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use vox_dynamics::scenario::Scenario;
use vox_dynamics::sweep;

/// Arguments of `vox dynamics`.
#[derive(Debug, clap::Args)]
pub struct DynamicsArgs {
    #[command(subcommand)]
    command: DynamicsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DynamicsCommand {
    /// Run one scenario; writes DIR/summary.json, DIR/steps.parquet and DIR/report.html
    /// (and DIR/trajectories.parquet when `record.trajectories = true`).
    Run(RunArgs),
    /// Run the scenario's [sweep] grid × replicates across cores; writes DIR/sweep.json and
    /// DIR/sweep.parquet.
    Sweep(SweepArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Scenario file (TOML); see examples/dynamics/.
    scenario: PathBuf,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Override a scenario key, with dotted paths for nested keys (e.g. params.epsilon=0.1).
    /// Repeatable; applied in order, after the file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct SweepArgs {
    /// Scenario file (TOML) with a [sweep] section.
    scenario: PathBuf,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Override a scenario key (dotted path), as for `run`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Worker threads (default: RAYON_NUM_THREADS, else all cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// Runs `vox dynamics`.
pub fn run(args: DynamicsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DynamicsCommand::Run(args) => run_one(args),
        DynamicsCommand::Sweep(args) => run_sweep(args),
    }
}

fn run_one(args: RunArgs) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::from_file(&args.scenario, &args.set)?;
    let bar = ProgressBar::new(scenario.max_steps);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} sweep {pos} (limit {len}) {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(scenario_name(&scenario));
    let output = sweep::run(&scenario, &mut |done| bar.set_position(done))
        .with_context(|| format!("running {}", args.scenario.display()))?;
    bar.finish_and_clear();
    sweep::write_run(&args.out, &output)
        .with_context(|| format!("writing results to {}", args.out.display()))?;
    let summary = &output.summary;
    println!(
        "{}: {} agents, {} sweeps, converged = {}, consensus = {} -> {}",
        summary.model,
        summary.n_agents,
        summary.steps,
        summary.converged,
        summary.consensus,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_sweep(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::from_file(&args.scenario, &args.set)?;
    let rows = match args.threads {
        Some(threads) => rayon_pool(threads)?.install(|| sweep::run_sweep(&scenario)),
        None => sweep::run_sweep(&scenario),
    }
    .with_context(|| format!("sweeping {}", args.scenario.display()))?;
    sweep::write_sweep(&args.out, &rows)
        .with_context(|| format!("writing results to {}", args.out.display()))?;
    println!(
        "{}: {} runs -> {}",
        scenario_name(&scenario),
        rows.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn rayon_pool(threads: usize) -> anyhow::Result<vox_dynamics::sweep::ThreadPool> {
    vox_dynamics::sweep::thread_pool(threads).context("building the sweep thread pool")
}

fn scenario_name(scenario: &Scenario) -> String {
    scenario
        .path
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned())
}
