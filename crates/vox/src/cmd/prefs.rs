//! `vox prefs`: leaderboards with confidence intervals, judge agreement, annotator reliability
//! and TRL export from pairwise votes (a thin layer over the `vox-prefs` library).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use vox_prefs::export::{export_trl, ExportConfig, TiePolicy, TrlFormat};
use vox_prefs::{
    annotators, baselines, judges, leaderboard, BadRowPolicy, BothBadPolicy, BradleyTerry,
    EloParams, LeaderboardRow, LoadConfig, PairTable, Preset, RatingScale, TieModel, VoteFormat,
    VoteSet,
};

/// Arguments of `vox prefs`.
#[derive(Debug, Args)]
pub struct PrefsArgs {
    #[command(subcommand)]
    command: PrefsCommand,
}

#[derive(Debug, Subcommand)]
enum PrefsCommand {
    /// Rate items from pairwise votes: Bradley-Terry (default), Elo or evalica's baselines, with
    /// sandwich or bootstrap intervals and Arena ranks.
    Rate(RateArgs),
    /// Compare two vote sets on the same pairs (e.g. crowd against GPT-4).
    Agree(AgreeArgs),
    /// Per-annotator fits, agreement with the leave-one-out majority, Krippendorff's alpha.
    Annotators(AnnotatorsArgs),
    /// Export votes with texts as a TRL preference dataset (JSONL or Parquet).
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PresetArg {
    /// model_a, model_b, winner = model_a|model_b|tie|both_bad.
    Arena,
    /// left, right, winner = left|right|tie; annotator `worker`, prompt `prompt`.
    Llmfao,
    /// prompt, chosen, rejected.
    Trl,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Tsv,
    Jsonl,
    Parquet,
}

/// Where the votes are and how to read them.
#[derive(Debug, Args)]
struct VotesInput {
    /// Votes file (.csv, .tsv, .jsonl, .parquet).
    votes: PathBuf,
    /// Column layout.
    #[arg(long, value_enum, default_value = "arena")]
    preset: PresetArg,
    /// File format (default: from the extension).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Stop at the first bad row instead of skipping and counting bad rows.
    #[arg(long)]
    strict: bool,
    /// Override the first item's column.
    #[arg(long)]
    item_a: Option<String>,
    /// Override the second item's column.
    #[arg(long)]
    item_b: Option<String>,
    /// Override the outcome column.
    #[arg(long)]
    winner: Option<String>,
    /// Annotator column (LLMFAO: `worker`); `-` for none.
    #[arg(long)]
    annotator: Option<String>,
    /// Prompt-id column; `-` for none.
    #[arg(long)]
    prompt: Option<String>,
    /// Numeric covariate columns (repeatable).
    #[arg(long = "covariate")]
    covariates: Vec<String>,
    /// Text columns for export, as PROMPT,RESPONSE_A,RESPONSE_B (the trl preset sets
    /// prompt,chosen,rejected).
    #[arg(long, value_name = "PROMPT,A,B")]
    texts: Option<String>,
}

impl VotesInput {
    fn load(&self) -> anyhow::Result<VoteSet> {
        let preset = match self.preset {
            PresetArg::Arena => Preset::Arena,
            PresetArg::Llmfao => Preset::Llmfao,
            PresetArg::Trl => Preset::Trl,
        };
        let mut config = LoadConfig::preset(preset);
        let layout = &mut config.layout;
        if let Some(c) = &self.item_a {
            layout.item_a = c.clone();
        }
        if let Some(c) = &self.item_b {
            layout.item_b = c.clone();
        }
        if let Some(c) = &self.winner {
            layout.winner = Some(c.clone());
        }
        let optional = |c: &String| (c != "-").then(|| c.clone());
        if let Some(c) = &self.annotator {
            layout.annotator = optional(c);
        }
        if let Some(c) = &self.prompt {
            layout.prompt = optional(c);
        }
        layout.covariates = self.covariates.clone();
        if let Some(t) = &self.texts {
            let parts: Vec<&str> = t.split(',').collect();
            let [p, a, b] = parts[..] else {
                bail!("--texts {t:?}: expected three column names, PROMPT,RESPONSE_A,RESPONSE_B");
            };
            layout.texts = Some((p.to_owned(), a.to_owned(), b.to_owned()));
        }
        config.format = self.format.map(|f| match f {
            FormatArg::Csv => VoteFormat::Csv,
            FormatArg::Tsv => VoteFormat::Tsv,
            FormatArg::Jsonl => VoteFormat::Jsonl,
            FormatArg::Parquet => VoteFormat::Parquet,
        });
        if self.strict {
            config.policy = BadRowPolicy::Fatal;
        }
        let (votes, report) = vox_prefs::load_votes(&self.votes, &config)
            .with_context(|| format!("loading votes from {}", self.votes.display()))?;
        if report.n_skipped() > 0 {
            eprintln!(
                "{}: skipped {} of {} rows ({}):",
                self.votes.display(),
                report.n_skipped(),
                report.n_rows,
                report
                    .skipped
                    .iter()
                    .map(|(k, n)| format!("{k:?}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for d in report.diagnostics.iter().take(10) {
                eprintln!("  {d}");
            }
            if report.n_skipped() > 10 {
                eprintln!("  … and {} more", report.n_skipped() - 10);
            }
        }
        Ok(votes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelArg {
    /// Bradley-Terry maximum likelihood.
    Bt,
    /// Online Elo in file order.
    Elo,
    /// Newman's tie-aware iteration (evalica).
    Newman,
    /// Eigenvector (evalica's orientation).
    Eigen,
    /// PageRank (damping 0.85).
    Pagerank,
    /// Wins plus half ties.
    Counting,
    /// Average win rate over opponents.
    WinRate,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TiesArg {
    /// Half a win each way.
    Half,
    /// Davidson's tie model.
    Davidson,
    /// Rao-Kupper's tie model.
    RaoKupper,
    /// Drop ties.
    Drop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CiArg {
    /// No intervals.
    None,
    /// Sandwich (robust) intervals, arena-rank's convention.
    Sandwich,
    /// Multinomial bootstrap over unique pair outcomes.
    Bootstrap,
}

#[derive(Debug, Args)]
struct RateArgs {
    #[command(flatten)]
    input: VotesInput,
    /// Rating model.
    #[arg(long, value_enum, default_value = "bt")]
    model: ModelArg,
    /// Tie handling for Bradley-Terry.
    #[arg(long, value_enum, default_value = "half")]
    ties: TiesArg,
    /// Drop Arena's both_bad votes instead of counting them as ties.
    #[arg(long)]
    drop_both_bad: bool,
    /// L2 penalty λ on natural-log strengths (objective: log-likelihood − λ‖θ‖²).
    #[arg(long, default_value_t = 0.0)]
    l2: f64,
    /// Inverse-frequency reweighting 1/max(n_pair, MIN) (arena-rank uses 50).
    #[arg(long, value_name = "MIN")]
    reweight: Option<f64>,
    /// Confidence intervals (Bradley-Terry only).
    #[arg(long, value_enum, default_value = "sandwich")]
    ci: CiArg,
    /// Bootstrap rounds.
    #[arg(long, default_value_t = 1000)]
    rounds: usize,
    /// Seed of the bootstrap and of the annotator clusters.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CI coverage.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Anchor: shift ratings so that ITEM has RATING.
    #[arg(long, value_name = "ITEM=RATING")]
    anchor: Option<String>,
    /// Points per factor `base` in odds.
    #[arg(long, default_value_t = 400.0)]
    scale: f64,
    /// Odds base.
    #[arg(long, default_value_t = 10.0)]
    base: f64,
    /// Rating of the average item.
    #[arg(long, default_value_t = 1000.0)]
    init: f64,
    /// Elo K.
    #[arg(long, default_value_t = 4.0)]
    k: f64,
    /// Style control (with --covariate columns): L2 penalty on the covariate coefficients, on
    /// arena-rank's scale (objective: −mean weighted log-likelihood + ½·λ‖β‖²; covariates are
    /// standardised).
    #[arg(long, default_value_t = 1.0)]
    style_l2: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write an HTML report (leaderboard with CI whiskers, win-probability heatmap, and,
    /// when the votes name annotators, the annotator table and annotator clusters). Bradley-Terry
    /// only.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    /// Number of annotator clusters (Bradley-Terry prototypes fitted by EM) in the HTML report;
    /// 0 leaves them out. Seeded by --seed.
    #[arg(long, value_name = "K", default_value_t = 2)]
    clusters: usize,
}

#[derive(Debug, Args)]
struct AgreeArgs {
    #[command(flatten)]
    first: VotesInput,
    /// The second vote set (same layout options as the first).
    second: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct AnnotatorsArgs {
    #[command(flatten)]
    input: VotesInput,
    /// L2 penalty of the per-annotator fits (and of the mixture prototypes).
    #[arg(long, default_value_t = 0.1)]
    l2: f64,
    /// Also fit a mixture of K Bradley-Terry prototypes by EM and compare it with one pooled model
    /// on held-out votes.
    #[arg(long, value_name = "K")]
    mixture: Option<usize>,
    /// Fraction of each annotator's votes held out for the mixture-vs-pooled comparison.
    #[arg(long, default_value_t = 0.2)]
    held_out: f64,
    /// Seed of the mixture's initialisation and of the held-out split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[command(flatten)]
    input: VotesInput,
    /// Train split output: JSONL, or Parquet when the name ends in `.parquet` (standard format).
    #[arg(long)]
    train: PathBuf,
    /// Test split output (JSONL); required with --test-fraction > 0.
    #[arg(long)]
    test: Option<PathBuf>,
    /// Fraction of prompts in the test split.
    #[arg(long, default_value_t = 0.0)]
    test_fraction: f64,
    /// Split seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Conversational (messages) instead of standard (strings) rows.
    #[arg(long)]
    conversational: bool,
    /// Keep duplicate rows.
    #[arg(long)]
    keep_duplicates: bool,
    /// Ties and both_bad: drop (counted), both (write both orders with margin 0), or error.
    #[arg(long, value_enum, default_value = "drop")]
    ties: ExportTiesArg,
    /// Numeric column with the strength of A's preference over B (positive favours A): adds
    /// TRL's `margin` column, oriented chosen over rejected.
    #[arg(long)]
    margin: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportTiesArg {
    Drop,
    Both,
    Error,
}

/// Runs `vox prefs`.
pub fn run(args: PrefsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PrefsCommand::Rate(a) => rate(a),
        PrefsCommand::Agree(a) => agree(a),
        PrefsCommand::Annotators(a) => annotators_cmd(a),
        PrefsCommand::Export(a) => export(a),
    }
}

fn parse_anchor(text: &str) -> anyhow::Result<(String, f64)> {
    let (item, rating) = text
        .rsplit_once('=')
        .with_context(|| format!("--anchor {text:?}: expected ITEM=RATING"))?;
    let rating: f64 = rating
        .parse()
        .with_context(|| format!("--anchor {text:?}: RATING must be a number"))?;
    Ok((item.to_owned(), rating))
}

fn rate(args: RateArgs) -> anyhow::Result<ExitCode> {
    let votes = args.input.load()?;
    let scale = RatingScale {
        scale: args.scale,
        base: args.base,
        init: args.init,
        anchor: args.anchor.as_deref().map(parse_anchor).transpose()?,
    };
    let both_bad = if args.drop_both_bad {
        BothBadPolicy::Drop
    } else {
        BothBadPolicy::Tie
    };
    let n_votes = votes.votes_per_item();
    let items = votes.items.names();
    let (rows, fit_json, ci_json): (Vec<LeaderboardRow>, serde_json::Value, serde_json::Value) =
        if args.model == ModelArg::Bt && !votes.covariate_names.is_empty() {
            // Style control: contextual Bradley-Terry with the covariates, L2 on β only.
            if args.ci != CiArg::None {
                eprintln!(
                    "note: intervals are not implemented for style control; printing point ratings"
                );
            }
            let fit = vox_prefs::contextual::ContextualParams {
                l2: args.style_l2,
                reweight_min_count: args.reweight,
                ..Default::default()
            }
            .fit(&votes)
            .context("fitting the contextual (style-control) Bradley-Terry")?;
            let rows = leaderboard(items, &fit.theta, None, &n_votes, &scale)?;
            let fit_json = serde_json::json!({
                "model": "contextual_bradley_terry",
                "converged": fit.report.converged,
                "iterations": fit.report.iterations,
                "termination": fit.report.termination.as_str(),
                "objective": fit.report.objective,
                "coefficients": fit.covariate_names.iter().zip(&fit.beta)
                    .map(|(n, b)| (n.clone(), serde_json::json!(b)))
                    .collect::<serde_json::Map<_, _>>(),
            });
            (rows, fit_json, serde_json::Value::Null)
        } else if args.model == ModelArg::Bt {
            let ties = match args.ties {
                TiesArg::Half => TieModel::Half,
                TiesArg::Davidson => TieModel::Davidson,
                TiesArg::RaoKupper => TieModel::RaoKupper,
                TiesArg::Drop => TieModel::Drop,
            };
            let fit = BradleyTerry::params()
                .ties(ties)
                .both_bad(both_bad)
                .l2(args.l2)
                .reweight(args.reweight)
                .fit(&votes)
                .context("fitting Bradley-Terry")?;
            let intervals = match args.ci {
                CiArg::None => None,
                CiArg::Sandwich => Some(fit.sandwich(args.level)?),
                CiArg::Bootstrap => {
                    let bar = indicatif::ProgressBar::new_spinner().with_message(format!(
                        "bootstrap: {} rounds on {} threads",
                        args.rounds,
                        std::thread::available_parallelism().map_or(1, |n| n.get())
                    ));
                    bar.enable_steady_tick(std::time::Duration::from_millis(200));
                    let ci = fit.bootstrap(args.level, args.rounds, args.seed);
                    bar.finish_and_clear();
                    Some(ci?)
                }
            };
            let rows = leaderboard(
                items,
                fit.log_strengths(),
                intervals.as_ref().map(|c| (&c.lower[..], &c.upper[..])),
                &n_votes,
                &scale,
            )?;
            if let Some(path) = &args.html {
                let annotator_report = if votes.annotators.is_empty() {
                    None
                } else {
                    Some(annotators::analyse(
                        &votes,
                        &BradleyTerry::params().l2(0.1).check()?,
                    )?)
                };
                let clusters = if votes.annotators.is_empty() || args.clusters == 0 {
                    None
                } else {
                    let params = vox_prefs::mixture::MixtureParams {
                        k: args.clusters,
                        seed: args.seed,
                        ..Default::default()
                    };
                    Some(
                        params
                            .fit(&votes)
                            .context("fitting the annotator clusters")?,
                    )
                };
                let page = vox_prefs::report::html(
                    &format!("vox prefs: {}", args.input.votes.display()),
                    &rows,
                    fit.items(),
                    &fit.win_probability_matrix(),
                    annotator_report.as_ref(),
                    clusters.as_ref(),
                );
                std::fs::write(path, page)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            let r = fit.report();
            let fit_json = serde_json::json!({
                "model": "bradley_terry",
                "converged": r.converged,
                "iterations": r.iterations,
                "termination": r.termination.as_str(),
                "log_likelihood": r.objective,
                "tie_parameter": fit.tie_parameter(),
            });
            let ci_json = match &intervals {
                None => serde_json::Value::Null,
                Some(c) => serde_json::json!({
                    "method": c.method, "level": c.level, "rounds": c.rounds,
                    "rounds_not_converged": c.rounds_not_converged, "seed": args.seed,
                }),
            };
            (rows, fit_json, ci_json)
        } else {
            if args.ci == CiArg::Bootstrap || args.html.is_some() {
                bail!("--ci bootstrap and --html are only available with --model bt");
            }
            let table = PairTable::from_votes(&votes, both_bad);
            let (name, scores, report) = match args.model {
                ModelArg::Elo => {
                    let elo = EloParams {
                        k: args.k,
                        initial: args.init,
                        scale: args.scale,
                        base: args.base,
                        both_bad,
                    }
                    .fit(&votes);
                    ("elo", elo.ratings, elo.report)
                }
                ModelArg::Newman => {
                    let (s, _) = baselines::newman(&table, 0.5, 1e-6, 100);
                    ("newman", s.scores, s.report)
                }
                ModelArg::Eigen => {
                    let s = baselines::eigenvector(&table, 1e-6, 100);
                    ("eigen", s.scores, s.report)
                }
                ModelArg::Pagerank => {
                    let s = baselines::pagerank(&table, 0.85, 1e-6, 100);
                    ("pagerank", s.scores, s.report)
                }
                ModelArg::Counting => {
                    let s = baselines::counting(&table);
                    ("counting", s.scores, s.report)
                }
                ModelArg::WinRate => {
                    let s = baselines::average_win_rate(&table);
                    ("average_win_rate", s.scores, s.report)
                }
                ModelArg::Bt => unreachable!("handled above"),
            };
            // Scores are reported as they are (no rating scale); rank by score.
            let ranks = vox_prefs::arena_ranks(&scores, &scores);
            let mut rows: Vec<LeaderboardRow> = (0..items.len())
                .map(|i| LeaderboardRow {
                    item: items[i].clone(),
                    rating: scores[i],
                    lower: scores[i],
                    upper: scores[i],
                    rank: ranks[i],
                    n_votes: n_votes[i],
                })
                .collect();
            rows.sort_by(|a, b| b.rating.total_cmp(&a.rating));
            let fit_json = serde_json::json!({
                "model": name,
                "converged": report.converged,
                "iterations": report.iterations,
                "termination": report.termination.as_str(),
            });
            (rows, fit_json, serde_json::Value::Null)
        };
    let mut out = BufWriter::new(std::io::stdout().lock());
    if args.json {
        let json = serde_json::json!({ "ratings": rows, "fit": fit_json, "ci": ci_json });
        serde_json::to_writer(&mut out, &json)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:>4}  {:<44} {:>9} {:>9} {:>9} {:>8}",
            "rank", "item", "rating", "lower", "upper", "votes"
        )?;
        for r in &rows {
            writeln!(
                out,
                "{:>4}  {:<44} {:>9.2} {:>9.2} {:>9.2} {:>8}",
                r.rank, r.item, r.rating, r.lower, r.upper, r.n_votes
            )?;
        }
        writeln!(out, "fit: {fit_json}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn agree(args: AgreeArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let first = args.first.load()?;
    let second_input = VotesInput {
        votes: args.second.clone(),
        preset: args.first.preset,
        format: args.first.format,
        strict: args.first.strict,
        item_a: args.first.item_a.clone(),
        item_b: args.first.item_b.clone(),
        winner: args.first.winner.clone(),
        annotator: Some("-".into()),
        prompt: args.first.prompt.clone(),
        covariates: Vec::new(),
        texts: None,
    };
    let second = second_input.load()?;
    let report = judges::agreement(&first, &second);
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        writeln!(
            out,
            "matched units: {} (only first {}, only second {})",
            report.n_matched, report.n_only_first, report.n_only_second
        )?;
        writeln!(
            out,
            "agreement: {:.4}   without ties: {:.4} (n = {})   Cohen's kappa: {:.4}",
            report.agreement,
            report.agreement_without_ties,
            report.n_without_ties,
            report.cohen_kappa
        )?;
        writeln!(
            out,
            "left-win rate: first {:.4}, second {:.4}",
            report.left_win_rate_first, report.left_win_rate_second
        )?;
        // (units judged in both orders, share of them consistent), or None when there are none.
        let consistency = |c: Option<(usize, f64)>| match c {
            Some((units, rate)) => format!("{rate:.4} (n = {units} judged in both orders)"),
            None => "n/a (nothing judged in both orders)".to_string(),
        };
        writeln!(
            out,
            "order consistency: first {}, second {}",
            consistency(report.consistency_first),
            consistency(report.consistency_second)
        )?;
        writeln!(out, "per-item bias (second − first, mean score):")?;
        let mut bias: Vec<_> = report.item_bias.iter().collect();
        bias.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
        for (item, (b, n)) in bias {
            writeln!(out, "  {item:<44} {b:+.4} (n = {n})")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn annotators_cmd(args: AnnotatorsArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let votes = args.input.load()?;
    if votes.annotators.is_empty() {
        bail!(
            "{}: no annotator column (use --annotator COLUMN or --preset llmfao)",
            args.input.votes.display()
        );
    }
    let params = BradleyTerry::params().l2(args.l2).check()?;
    let report = annotators::analyse(&votes, &params)?;
    let mixture = match args.mixture {
        None => None,
        Some(k) => {
            let mixture_params = vox_prefs::mixture::MixtureParams {
                k,
                l2: args.l2,
                seed: args.seed,
                ..Default::default()
            };
            let fit = mixture_params
                .fit(&votes)
                .context("fitting the annotator mixture")?;
            let held = vox_prefs::mixture::held_out(&votes, &mixture_params, args.held_out)?;
            Some((fit, held))
        }
    };
    if args.json {
        let mixture_json = mixture.as_ref().map(|(m, h)| {
            serde_json::json!({
                "k": m.mixing.len(),
                "mixing": m.mixing,
                "converged": m.report.converged,
                "iterations": m.report.iterations,
                "termination": m.report.termination.as_str(),
                "annotator_weights": m.annotators.iter().zip(&m.responsibilities)
                    .map(|(a, r)| (a.clone(), serde_json::json!(r)))
                    .collect::<serde_json::Map<_, _>>(),
                "held_out": h,
            })
        });
        let json = serde_json::json!({ "annotators": report, "mixture": mixture_json });
        writeln!(out, "{json}")?;
    } else {
        if let Some((m, h)) = &mixture {
            writeln!(
                out,
                "mixture of {} prototypes: weights {:?}; converged {} after {} EM iterations",
                m.mixing.len(),
                m.mixing
                    .iter()
                    .map(|p| (p * 1000.0).round() / 1000.0)
                    .collect::<Vec<_>>(),
                m.report.converged,
                m.report.iterations
            )?;
            writeln!(
                out,
                "held-out log-likelihood per vote ({} votes): mixture {:.4}, pooled {:.4}",
                h.n_test, h.mixture, h.pooled
            )?;
        }
        match report.krippendorff_alpha {
            Some(a) => writeln!(out, "Krippendorff's alpha (nominal): {a:.4}")?,
            None => writeln!(out, "Krippendorff's alpha: no unit has two votes")?,
        }
        writeln!(
            out,
            "{:<24} {:>7} {:>7} {:>14}",
            "annotator", "votes", "shared", "loo-agreement"
        )?;
        for a in &report.annotators {
            let agreement = a
                .loo_agreement
                .map_or("-".to_string(), |x| format!("{x:.4}"));
            writeln!(
                out,
                "{:<24} {:>7} {:>7} {:>14}",
                a.annotator, a.n_votes, a.n_shared, agreement
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export(mut args: ExportArgs) -> anyhow::Result<ExitCode> {
    if let Some(m) = &args.margin {
        if !args.input.covariates.contains(m) {
            args.input.covariates.push(m.clone());
        }
    }
    let votes = args.input.load()?;
    let config = ExportConfig {
        ties: match args.ties {
            ExportTiesArg::Drop => TiePolicy::Drop,
            ExportTiesArg::Both => TiePolicy::Both,
            ExportTiesArg::Error => TiePolicy::Error,
        },
        margin: args.margin.clone(),
        format: if args.conversational {
            TrlFormat::Conversational
        } else {
            TrlFormat::Standard
        },
        test_fraction: args.test_fraction,
        seed: args.seed,
        dedupe: !args.keep_duplicates,
    };
    if args.train.extension().is_some_and(|e| e == "parquet") {
        let summary = vox_prefs::export::export_trl_parquet(
            &votes,
            &config,
            &args.train,
            args.test.as_deref(),
        )?;
        eprintln!("{}", serde_json::to_string(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    let create = |p: &PathBuf| -> anyhow::Result<BufWriter<File>> {
        Ok(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        ))
    };
    let mut train = create(&args.train)?;
    let mut test: Box<dyn Write> = match (&args.test, args.test_fraction > 0.0) {
        (Some(p), _) => Box::new(create(p)?),
        (None, false) => Box::new(std::io::sink()),
        (None, true) => bail!("--test-fraction > 0 needs --test PATH"),
    };
    let summary = export_trl(&votes, &config, &mut train, &mut test)?;
    train.flush()?;
    test.flush()?;
    eprintln!("{}", serde_json::to_string(&summary)?);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_parses_item_names_with_equals_signs() {
        assert_eq!(
            parse_anchor("gpt-4=1200").unwrap(),
            ("gpt-4".to_string(), 1200.0)
        );
        assert_eq!(parse_anchor("a=b=1.5").unwrap(), ("a=b".to_string(), 1.5));
        assert!(parse_anchor("gpt-4").is_err());
        assert!(parse_anchor("gpt-4=high")
            .unwrap_err()
            .to_string()
            .contains("RATING"));
    }

    #[test]
    fn rate_args_parse() {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct Cli {
            #[command(flatten)]
            prefs: PrefsArgs,
        }
        let cli = Cli::try_parse_from([
            "vox",
            "rate",
            "votes.csv",
            "--preset",
            "arena",
            "--model",
            "bt",
            "--ties",
            "davidson",
            "--ci",
            "bootstrap",
            "--rounds",
            "50",
            "--seed",
            "3",
            "--anchor",
            "x=1100",
            "--json",
        ])
        .unwrap();
        let PrefsCommand::Rate(rate) = cli.prefs.command else {
            panic!("expected rate")
        };
        assert_eq!(rate.rounds, 50);
        assert!(rate.json);
    }
}
