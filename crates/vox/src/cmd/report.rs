//! `vox report`: a self-contained HTML page (inline SVG plots) for a survey run directory, or
//! for a directory of run directories such as the demo's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use vox_survey::compare::CompareReport;
use vox_survey::RunManifest;

/// Arguments of `vox report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run directory (with run.json and distributions.jsonl), or a directory of them.
    dir: PathBuf,
    /// Human distributions to compare with (default: the run's human.jsonl, copied there by
    /// `vox survey run --human`).
    #[arg(long)]
    human: Option<PathBuf>,
    /// Where to write the page (default: DIR/report.html).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seed of the bootstrap, the shuffled baseline and the split-half ceiling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn run_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.join("run.json").exists() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("run.json").exists())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        anyhow::bail!(
            "{} holds no run.json, and no sub-directory does; run `vox survey run --out DIR` first",
            dir.display()
        );
    }
    Ok(dirs)
}

/// Runs `vox report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let mut sections_data: Vec<(String, RunManifest, CompareReport)> = Vec::new();
    for dir in run_dirs(&args.dir)? {
        let manifest_path = dir.join("run.json");
        let manifest: RunManifest = serde_json::from_str(
            &std::fs::read_to_string(&manifest_path)
                .with_context(|| format!("reading {}", manifest_path.display()))?,
        )
        .with_context(|| format!("{}: not a vox run manifest", manifest_path.display()))?;
        let human = args
            .human
            .clone()
            .unwrap_or_else(|| dir.join("human.jsonl"));
        if !human.exists() {
            anyhow::bail!(
                "{}: no human distributions to compare with; pass --human FILE (or run with --human)",
                dir.display()
            );
        }
        let report = super::survey::compare_run_dir(&dir, &human, args.seed)?;
        let title = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        sections_data.push((title, manifest, report));
    }
    let page = super::survey::render_runs("vox survey report", &sections_data);
    let out = args.out.unwrap_or_else(|| args.dir.join("report.html"));
    std::fs::write(&out, page).with_context(|| format!("writing {}", out.display()))?;
    println!("{}", out.display());
    Ok(ExitCode::SUCCESS)
}
