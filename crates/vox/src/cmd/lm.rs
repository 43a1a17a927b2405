//! `vox lm`: generate text and score answer options with a language model.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use vox_lm::{GenerateRequest, LanguageModel, Prompt, Sampling, ScoreRequest};

use super::model_opts::ModelOpts;

/// Arguments of `vox lm`.
#[derive(Debug, clap::Args)]
pub struct LmArgs {
    #[command(subcommand)]
    command: LmCommand,
}

#[derive(Debug, clap::Subcommand)]
enum LmCommand {
    /// Generate a continuation (a chat reply, or raw text with --raw).
    Generate(GenerateArgs),
    /// Score answer options by total log-probability after a prompt.
    Score(ScoreArgs),
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// The user message (or the raw text with --raw).
    #[arg(long)]
    prompt: String,
    /// Use the prompt exactly as given, without the chat template.
    #[arg(long)]
    raw: bool,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 128)]
    max_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, default_value_t = 0.7)]
    temperature: f64,
    /// Nucleus sampling mass.
    #[arg(long, default_value_t = 0.9)]
    top_p: f64,
    /// Seed of the sampler; the same seed gives the same text.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop before this string (repeatable).
    #[arg(long)]
    stop: Vec<String>,
    /// Print a JSON object instead of the text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    model: ModelOpts,
}

#[derive(Debug, clap::Args)]
struct ScoreArgs {
    /// The prompt (a user message, or raw text with --raw).
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    prompt: Option<String>,
    /// A candidate continuation (repeat for each option). Scored exactly as written.
    #[arg(long = "option")]
    options: Vec<String>,
    /// Score raw text: no chat template.
    #[arg(long)]
    raw: bool,
    /// Print JSON (`{"options":[{"text","logprob","n_tokens"}],"distribution":[...]}`).
    #[arg(long)]
    json: bool,
    /// Score a JSONL file of `{"id","prompt","options"}` lines.
    #[arg(long, requires = "out")]
    batch: Option<PathBuf>,
    /// Where --batch writes its results (JSONL; input fields plus `logprobs` and `distribution`).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    model: ModelOpts,
}

/// Runs `vox lm`.
pub fn run(args: LmArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LmCommand::Generate(args) => generate(args),
        LmCommand::Score(args) => match args.batch.clone() {
            Some(input) => score_batch(&args, input),
            None => score_one(&args),
        },
    }
}

fn prompt_of(text: &str, raw: bool) -> Prompt {
    match raw {
        true => Prompt::Raw(text.to_string()),
        false => Prompt::user(text),
    }
}

fn generate(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let model = args.model.load()?;
    let request = GenerateRequest {
        prompt: prompt_of(&args.prompt, args.raw),
        max_tokens: args.max_tokens,
        sampling: Sampling {
            temperature: args.temperature,
            top_p: args.top_p,
            seed: args.seed,
        },
        stop: args.stop,
    };
    model.prepare_generation()?;
    let started = std::time::Instant::now();
    let generation = model.generate(&request)?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&GenerateOutput {
                generation: &generation,
                seconds
            })?
        );
    } else {
        println!("{}", generation.text);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--json` output of `vox lm generate`: the generation plus the seconds it took (model
/// loading excluded).
#[derive(Serialize)]
struct GenerateOutput<'a> {
    #[serde(flatten)]
    generation: &'a vox_lm::Generation,
    seconds: f64,
}

#[derive(Serialize)]
struct ScoreOutput<'a> {
    options: &'a [vox_lm::OptionScore],
    distribution: Vec<f64>,
}

fn score_one(args: &ScoreArgs) -> anyhow::Result<ExitCode> {
    if args.options.is_empty() {
        bail!("give at least one --option to score");
    }
    let prompt = args
        .prompt
        .as_deref()
        .expect("clap requires --prompt without --batch");
    let model = args.model.load()?;
    let scores = model.score_options(&ScoreRequest {
        prompt: prompt_of(prompt, args.raw),
        options: args.options.clone(),
    })?;
    let distribution = scores.distribution();
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&ScoreOutput {
                options: &scores.options,
                distribution
            })?
        );
    } else {
        for (option, p) in scores.options.iter().zip(&distribution) {
            println!("{:>8.4}  {:>6.3}  {:?}", option.logprob, p, option.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Deserialize)]
struct BatchLine {
    id: serde_json::Value,
    prompt: String,
    options: Vec<String>,
}

#[derive(Serialize)]
struct BatchResult<'a> {
    id: &'a serde_json::Value,
    prompt: &'a str,
    options: &'a [String],
    logprobs: Vec<f64>,
    distribution: Vec<f64>,
}

/// Items scored per call: large enough to share prefixes, small enough for a live progress bar.
const BATCH_CHUNK: usize = 64;

fn score_batch(args: &ScoreArgs, input: PathBuf) -> anyhow::Result<ExitCode> {
    let out_path = args.out.clone().expect("clap requires --out with --batch");
    let file = File::open(&input).with_context(|| format!("opening {}", input.display()))?;
    let mut lines = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line_no = index + 1;
        let line =
            line.with_context(|| format!("{}:{line_no}: cannot read line", input.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: BatchLine = serde_json::from_str(&line).with_context(|| {
            format!("{}:{line_no}: expected a JSON object {{\"id\", \"prompt\": string, \"options\": [string, ...]}}", input.display())
        })?;
        if parsed.options.is_empty() {
            bail!(
                "{}:{line_no}: field `options` is empty; give at least one option",
                input.display()
            );
        }
        lines.push(parsed);
    }
    let model = args.model.load()?;
    let progress = indicatif::ProgressBar::new(lines.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} items  {per_sec}  eta {eta}")
            .expect("static template"),
    );
    let out_file =
        File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    let mut writer = BufWriter::new(out_file);
    let started = std::time::Instant::now();
    for chunk in lines.chunks(BATCH_CHUNK) {
        let requests: Vec<ScoreRequest> = chunk
            .iter()
            .map(|l| ScoreRequest {
                prompt: prompt_of(&l.prompt, args.raw),
                options: l.options.clone(),
            })
            .collect();
        let scores = model.score_batch(&requests)?;
        for (line, score) in chunk.iter().zip(scores) {
            let result = BatchResult {
                id: &line.id,
                prompt: &line.prompt,
                options: &line.options,
                logprobs: score.options.iter().map(|o| o.logprob).collect(),
                distribution: score.distribution(),
            };
            serde_json::to_writer(&mut writer, &result)?;
            writer.write_all(b"\n")?;
        }
        progress.inc(chunk.len() as u64);
    }
    writer.flush()?;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "scored {} items into {} in {seconds:.2} s ({:.2} items/s, model loading excluded)",
        lines.len(),
        out_path.display(),
        lines.len() as f64 / seconds
    );
    Ok(ExitCode::SUCCESS)
}
