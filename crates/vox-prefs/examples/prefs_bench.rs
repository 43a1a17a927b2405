//! Timing driver for `bench/prefs/compare.py`: loads Arena-layout votes, then times one
//! Bradley-Terry fit (aggregation included) and an N-round bootstrap, printing JSON.
//!
//! Usage: `cargo run --release -p vox-prefs --example prefs_bench -- VOTES.csv [ROUNDS] [SEED]`

use std::path::PathBuf;
use std::time::Instant;

use vox_prefs::{BradleyTerry, LoadConfig, Preset, RatingScale};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .ok_or("usage: prefs_bench VOTES.csv [ROUNDS] [SEED]")?,
    );
    let rounds: usize = args.next().map_or(Ok(1000), |s| s.parse())?;
    let seed: u64 = args.next().map_or(Ok(0), |s| s.parse())?;
    let t = Instant::now();
    let (votes, report) = vox_prefs::load_votes(&path, &LoadConfig::preset(Preset::Arena))?;
    let load_s = t.elapsed().as_secs_f64();
    // One fit: best of 5 (aggregation + Newton), as the Python side does.
    let mut fit_s = f64::INFINITY;
    let mut fit = None;
    for _ in 0..5 {
        let t = Instant::now();
        let f = BradleyTerry::params().fit(&votes)?;
        fit_s = fit_s.min(t.elapsed().as_secs_f64());
        fit = Some(f);
    }
    let fit = fit.expect("five fits ran");
    let t = Instant::now();
    let sandwich = fit.sandwich(0.95)?;
    let sandwich_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let boot = fit.bootstrap(0.95, rounds, seed)?;
    let bootstrap_s = t.elapsed().as_secs_f64();
    let ratings = fit.ratings(&RatingScale::default())?;
    let k = RatingScale::default().points_per_nat();
    let items = fit.items();
    let json = serde_json::json!({
        "tool": "vox",
        "n_votes": votes.votes.len(),
        "n_skipped": report.n_skipped(),
        "threads": rayon::current_num_threads(),
        "load_s": load_s,
        "fit_s": fit_s,
        "fit_iterations": fit.report().iterations,
        "sandwich_s": sandwich_s,
        "bootstrap_s": bootstrap_s,
        "rounds": rounds,
        "rounds_not_converged": boot.rounds_not_converged,
        "ratings": items.iter().zip(&ratings).map(|(i, r)| (i.clone(), serde_json::json!(*r))).collect::<serde_json::Map<_, _>>(),
        "sandwich_lower": items.iter().zip(&sandwich.lower).map(|(i, l)| (i.clone(), serde_json::json!(1000.0 + k * l))).collect::<serde_json::Map<_, _>>(),
        "bootstrap_lower": items.iter().zip(&boot.lower).map(|(i, l)| (i.clone(), serde_json::json!(1000.0 + k * l))).collect::<serde_json::Map<_, _>>(),
        "bootstrap_upper": items.iter().zip(&boot.upper).map(|(i, u)| (i.clone(), serde_json::json!(1000.0 + k * u))).collect::<serde_json::Map<_, _>>(),
    });
    println!("{json}");
    Ok(())
}
