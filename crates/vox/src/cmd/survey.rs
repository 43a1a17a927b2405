//! `vox survey`: import opinion datasets, run surveys on a language model with personas, score
//! simulated against human distributions, and the demo that does all of it on committed samples.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use vox_survey::compare::{CompareConfig, CompareReport};
use vox_survey::import::globalopinionqa::{import_globalopinionqa, GlobalOpinionConfig};
use vox_survey::import::opinionqa::{import_opinionqa, OpinionQaConfig};
use vox_survey::import::Imported;
use vox_survey::instruments::{population_to_jsonl, survey_to_toml};
use vox_survey::metrics::BootstrapConfig;
use vox_survey::{Method, PromptTemplate, Provenance, RunConfig, RunManifest};

use super::model_opts::ModelOpts;

/// Arguments of `vox survey`.
#[derive(Debug, clap::Args)]
pub struct SurveyArgs {
    #[command(subcommand)]
    command: SurveyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SurveyCommand {
    /// Ask every persona every question and write responses and group distributions.
    Run(RunArgs),
    /// Score simulated against human distributions (both in the distributions.jsonl schema).
    Compare(CompareArgs),
    /// Turn a public opinion dataset into a survey, human distributions and a population.
    Import(ImportArgs),
    /// The demo: OpinionQA by party and ideology and GlobalOpinionQA by country, on the
    /// embedded model, scored against baselines, with an HTML report.
    Demo(DemoArgs),
    /// Individual-level fidelity: each persona is one real respondent; score the run's
    /// predictions against the answers they gave (Spearman ρ, AUC, accuracy).
    Individual(IndividualArgs),
    /// Generate a first-person backstory for every persona that lacks one (for the
    /// `backstory` template) and write the population with them.
    Backstories(BackstoriesArgs),
}

#[derive(Debug, clap::Args)]
struct IndividualArgs {
    /// The run's responses.jsonl.
    #[arg(long)]
    responses: PathBuf,
    /// Actual answers (JSONL: persona_id, question_id, answer), e.g. from
    /// `vox survey import rows --out-answers`.
    #[arg(long)]
    answers: PathBuf,
    /// The survey, for the questions' ordinal positions.
    #[arg(long)]
    survey: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct BackstoriesArgs {
    /// Population file (.toml, .jsonl or .csv).
    #[arg(long)]
    population: PathBuf,
    /// Where to write the population with backstories (.jsonl).
    #[arg(long)]
    out: PathBuf,
    /// Template whose attribute phrases describe the persona to the model.
    #[arg(long, default_value = "opinionqa-bio")]
    describe_with: String,
    /// Most tokens per backstory.
    #[arg(long, default_value_t = 160)]
    max_tokens: usize,
    /// Seed of the sampled backstories.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    model: ModelOpts,
}

/// Elicitation method (see the README's survey section).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MethodArg {
    /// Next-token log-probabilities of the option letters.
    Logprob,
    /// The model states a percentage per option.
    Verbal,
    /// N seeded sampled answers, counted.
    Sample,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Logprob => Method::Logprob,
            MethodArg::Verbal => Method::Verbal,
            MethodArg::Sample => Method::Sample,
        }
    }
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Survey file (.toml or .jsonl).
    #[arg(long)]
    survey: PathBuf,
    /// Population file (.toml personas or marginals, .jsonl, or a .csv demographic table).
    #[arg(long)]
    population: PathBuf,
    /// How answer distributions are elicited.
    #[arg(long, value_enum, default_value = "logprob")]
    method: MethodArg,
    /// Prompt style: a built-in name (opinionqa-qa, opinionqa-bio, opinionqa-portray,
    /// globalopinionqa-country, backstory) or a template file.
    #[arg(long, default_value = "opinionqa-bio")]
    template: String,
    /// Persona attributes that name a persona's group, comma-separated (default: persona id).
    #[arg(long, value_delimiter = ',')]
    group_by: Vec<String>,
    /// Draws per persona × question for --method sample.
    #[arg(long, default_value_t = 10)]
    n_samples: usize,
    /// Temperature of --method sample draws.
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Human distributions to copy into the run (DIR/human.jsonl) for `vox report`.
    #[arg(long)]
    human: Option<PathBuf>,
    /// Ask only the group × question pairs that have a human distribution (needs --human).
    #[arg(long, requires = "human")]
    only_human: bool,
    /// Run directory; an existing one is resumed.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    model: ModelOpts,
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    /// Simulated distributions (distributions.jsonl schema).
    #[arg(long)]
    simulated: PathBuf,
    /// Human distributions (same schema; `counts` enable the split-half ceiling).
    #[arg(long)]
    human: PathBuf,
    /// Print one JSON object (questions, aggregate, baselines, ceiling, ...) instead of tables.
    #[arg(long)]
    json: bool,
    /// Seed of the bootstrap, the shuffled baseline and the split-half ceiling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 1000)]
    resamples: usize,
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    #[command(subcommand)]
    source: ImportSource,
}

#[derive(Debug, clap::Subcommand)]
enum ImportSource {
    /// OpinionQA: a wave folder with info.csv and <ATTR>_data.json (also Meister et al.'s
    /// Pew_American_Trends_Panel_disagreement_100).
    Opinionqa {
        /// The wave folder.
        #[arg(long)]
        dir: PathBuf,
        /// Demographic files to read (POLPARTY, POLIDEOLOGY, SEX, RACE, CREGION, ...).
        #[arg(long = "attribute", required = true)]
        attributes: Vec<String>,
        /// Question keys to keep, in order (default: all with data).
        #[arg(long = "question")]
        questions: Vec<String>,
        /// Keep at most this many questions.
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        out: ImportOut,
    },
    /// GlobalOpinionQA subsets (GlobalOpinionBench eval.json or modular-pluralism JSON).
    Globalopinionqa {
        /// The JSON file.
        #[arg(long)]
        file: PathBuf,
        /// Countries to keep (default: all).
        #[arg(long = "country")]
        countries: Vec<String>,
        /// Keep only questions with data for at least this many of the kept countries.
        #[arg(long, default_value_t = 0)]
        min_countries: usize,
        /// Keep at most this many questions.
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        out: ImportOut,
    },
    /// Meister et al.'s GlobalValues subset (Global_Values/data/data.json): per-country
    /// distributions, GlobalOpinionQA ids.
    MeisterGlobalValues {
        /// The data.json file.
        #[arg(long)]
        file: PathBuf,
        /// Keep at most this many questions.
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        out: ImportOut,
    },
    /// Meister et al.'s NYT book-opinion survey (the nytimes folder): per-group answer counts.
    MeisterNytimes {
        /// The nytimes folder.
        #[arg(long)]
        dir: PathBuf,
        /// Group files to read (POLPARTY, SEX).
        #[arg(long = "attribute", required = true)]
        attributes: Vec<String>,
        /// Keep at most this many books.
        #[arg(long)]
        limit: Option<usize>,
        #[command(flatten)]
        out: ImportOut,
    },
    /// Individual respondents (GSS, ANES extracts: one row each) → group distributions.
    Rows {
        /// The CSV or TSV file.
        #[arg(long)]
        file: PathBuf,
        /// Field delimiter.
        #[arg(long, value_enum, default_value = "comma")]
        delimiter: Delimiter,
        /// Answer columns; each becomes a question.
        #[arg(long = "question", required = true)]
        questions: Vec<String>,
        /// The column holding each respondent's group.
        #[arg(long)]
        group: String,
        /// Answer values treated as missing (besides empty cells).
        #[arg(long = "missing", default_values_t = ["NA".to_string()])]
        missing: Vec<String>,
        /// Also write one persona per respondent with these columns as attributes
        /// (needs --out-respondents and --out-answers), for `vox survey individual`.
        #[arg(long = "respondent-attribute")]
        respondent_attributes: Vec<String>,
        /// Read at most this many respondents for --out-respondents.
        #[arg(long)]
        max_respondents: Option<usize>,
        /// Where to write the respondents as a population (.jsonl).
        #[arg(long, requires = "out_answers")]
        out_respondents: Option<PathBuf>,
        /// Where to write the respondents' actual answers (.jsonl).
        #[arg(long, requires = "out_respondents")]
        out_answers: Option<PathBuf>,
        #[command(flatten)]
        out: ImportOut,
    },
}

/// Field delimiter of a respondent table.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Delimiter {
    /// Comma-separated.
    Comma,
    /// Tab-separated.
    Tab,
}

#[derive(Debug, clap::Args)]
struct ImportOut {
    /// Where to write the survey (.toml).
    #[arg(long)]
    out_survey: PathBuf,
    /// Where to write the human distributions (.jsonl).
    #[arg(long)]
    out_human: PathBuf,
    /// Where to write a population with one persona per human group (.jsonl).
    #[arg(long)]
    out_population: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// Output directory (runs, comparisons and report.html).
    #[arg(long, default_value = "vox-demo")]
    out: PathBuf,
    /// Elicitation method.
    #[arg(long, value_enum, default_value = "logprob")]
    method: MethodArg,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Use only the first N questions of each sample (a quick look; the full demo uses 20).
    #[arg(long)]
    max_questions: Option<usize>,
    #[command(flatten)]
    model: ModelOpts,
}

/// Keeps the first `n` `[[question]]` tables of a survey TOML text.
fn first_questions(survey_toml: &str, n: Option<usize>) -> String {
    let Some(n) = n else {
        return survey_toml.to_string();
    };
    let mut out = String::new();
    let mut seen = 0;
    for line in survey_toml.split_inclusive('\n') {
        if line.trim_start().starts_with("[[question]]") {
            seen += 1;
        }
        if seen > n {
            break;
        }
        out.push_str(line);
    }
    out
}

/// Runs `vox survey`.
pub fn run(args: SurveyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SurveyCommand::Run(args) => run_cmd(args),
        SurveyCommand::Compare(args) => compare_cmd(args),
        SurveyCommand::Import(args) => import_cmd(args),
        SurveyCommand::Demo(args) => demo_cmd(args),
        SurveyCommand::Backstories(args) => backstories_cmd(args),
        SurveyCommand::Individual(args) => individual_cmd(args),
    }
}

fn individual_cmd(args: IndividualArgs) -> anyhow::Result<ExitCode> {
    let survey = vox_survey::load_survey(&args.survey)?;
    let responses = vox_survey::run::read_responses(&args.responses)?;
    let mut answers = Vec::new();
    let text = std::fs::read_to_string(&args.answers)
        .with_context(|| format!("reading {}", args.answers.display()))?;
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let answer: vox_survey::individual::ActualAnswer = serde_json::from_str(line)
            .with_context(|| {
                format!(
                    "{}:{}: not an answer record",
                    args.answers.display(),
                    index + 1
                )
            })?;
        answers.push(answer);
    }
    // Ordinal positions of the substantive options, as the responses list them.
    let ordinals: std::collections::HashMap<&str, Vec<f64>> = survey
        .questions
        .iter()
        .filter_map(|q| {
            let ordinal = q.ordinal.as_ref()?;
            Some((
                q.id.as_str(),
                q.substantive_options()
                    .iter()
                    .map(|&i| ordinal[i])
                    .collect(),
            ))
        })
        .collect();
    let predictions: Vec<vox_survey::individual::Prediction<'_>> = responses
        .iter()
        .filter_map(|r| {
            Some(vox_survey::individual::Prediction {
                persona_id: &r.persona_id,
                question_id: &r.question_id,
                options: &r.options,
                distribution: r.distribution.as_deref()?,
                ordinal: ordinals.get(r.question_id.as_str()).map(Vec::as_slice),
            })
        })
        .collect();
    let (results, diagnostics) = vox_survey::individual::score_individuals(&predictions, &answers);
    for diagnostic in &diagnostics {
        eprintln!("warning: {diagnostic}");
    }
    if results.is_empty() {
        anyhow::bail!("no respondent has both a prediction and an answer");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        println!(
            "{:<24} {:>6} {:>9} {:>9} {:>7}",
            "question", "n", "accuracy", "spearman", "auc"
        );
        for r in &results {
            println!(
                "{:<24} {:>6} {:>9.3} {:>9} {:>7}",
                r.question_id,
                r.n,
                r.accuracy,
                opt(r.spearman),
                opt(r.auc)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn backstories_cmd(args: BackstoriesArgs) -> anyhow::Result<ExitCode> {
    let population = vox_survey::load_population(&args.population)?;
    let template = PromptTemplate::load(&args.describe_with)?;
    let model = args.model.load_dyn()?;
    let config = vox_survey::backstory::BackstoryConfig {
        max_tokens: args.max_tokens,
        seed: args.seed,
        ..Default::default()
    };
    let bar = indicatif::ProgressBar::new(population.len() as u64);
    let with_backstories = vox_survey::backstory::generate_backstories(
        model.as_ref(),
        &population,
        &template,
        &config,
        &mut |done, _| bar.set_position(done as u64),
    )?;
    bar.finish();
    std::fs::write(&args.out, population_to_jsonl(&with_backstories))
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} personas to {}",
        with_backstories.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn sha256_of(path: &Path) -> anyhow::Result<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(sha2::Sha256::digest(&bytes)))
}

/// Runs a survey with a progress bar; shared by `run` and `demo`.
#[allow(clippy::too_many_arguments)]
fn execute_run(
    model: &dyn vox_lm::LanguageModel,
    survey_path: &Path,
    population_path: &Path,
    config: &RunConfig,
    human: Option<&Path>,
    out: &Path,
    label: &str,
) -> anyhow::Result<RunManifest> {
    let survey = vox_survey::load_survey(survey_path)?;
    let population = vox_survey::load_population(population_path)?;
    let model_id = model.model_id();
    let provenance = Provenance {
        model_sha256: model_id.split("sha256:").nth(1).map(str::to_string),
        model_id,
        survey: Some((survey_path.display().to_string(), sha256_of(survey_path)?)),
        population: Some((
            population_path.display().to_string(),
            sha256_of(population_path)?,
        )),
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    if let Some(human) = human {
        // Validate before copying, so a bad file is reported now and not at report time.
        vox_survey::read_distributions(human)?;
        std::fs::copy(human, out.join("human.jsonl"))
            .with_context(|| format!("copying {} into {}", human.display(), out.display()))?;
    }
    let bar = indicatif::ProgressBar::new((population.len() * survey.questions.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} ({eta}) {msg}",
        )
        .expect("valid template"),
    );
    bar.set_prefix(label.to_string());
    let manifest = vox_survey::run_survey(
        model,
        &survey,
        &population,
        config,
        provenance,
        out,
        &mut |p| {
            bar.set_position(p.done as u64);
            if p.reused > 0 {
                bar.set_message(format!("{} from journal", p.reused));
            }
        },
    )?;
    bar.finish();
    Ok(manifest)
}

/// The (group, question id) pairs of a human distributions file.
fn human_pairs(path: &Path) -> anyhow::Result<std::collections::BTreeSet<(String, String)>> {
    Ok(vox_survey::read_distributions(path)?
        .into_iter()
        .map(|r| (r.group, r.question_id))
        .collect())
}

fn run_cmd(args: RunArgs) -> anyhow::Result<ExitCode> {
    let template = PromptTemplate::load(&args.template)?;
    let mut config = RunConfig::new(template);
    config.method = args.method.into();
    config.group_by = args.group_by;
    config.n_samples = args.n_samples;
    config.temperature = args.temperature;
    config.seed = args.seed;
    if let (true, Some(human)) = (args.only_human, &args.human) {
        config.only = Some(human_pairs(human)?);
    }
    // Read the inputs before loading the model, so that bad files fail fast.
    vox_survey::load_survey(&args.survey)?;
    vox_survey::load_population(&args.population)?;
    let model = args.model.load_dyn()?;
    let manifest = execute_run(
        model.as_ref(),
        &args.survey,
        &args.population,
        &config,
        args.human.as_deref(),
        &args.out,
        "survey",
    )?;
    eprintln!(
        "{} items: {} computed, {} from the journal, {} failed; wrote {}",
        manifest.n_items,
        manifest.n_computed,
        manifest.n_reused,
        manifest.n_failed,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Compares two distributions files.
pub(crate) fn compare_files(
    simulated: &Path,
    human: &Path,
    seed: u64,
    resamples: usize,
) -> anyhow::Result<CompareReport> {
    let simulated_records = vox_survey::read_distributions(simulated)?;
    let human_records = vox_survey::read_distributions(human)?;
    let config = CompareConfig {
        bootstrap: BootstrapConfig {
            n_resamples: resamples,
            seed,
            ..Default::default()
        },
        seed,
        ..Default::default()
    };
    vox_survey::compare(&simulated_records, &human_records, &config)
        .with_context(|| format!("comparing {} with {}", simulated.display(), human.display()))
}

/// Compares a run directory's `distributions.jsonl` with `human` (1,000 bootstrap resamples)
/// and writes the report to the directory's `compare.json`.
pub(crate) fn compare_run_dir(
    run_dir: &Path,
    human: &Path,
    seed: u64,
) -> anyhow::Result<CompareReport> {
    let report = compare_files(&run_dir.join("distributions.jsonl"), human, seed, 1000)?;
    let path = run_dir.join("compare.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(report)
}

/// The HTML page of titled, compared runs.
pub(crate) fn render_runs(
    page_title: &str,
    runs: &[(impl AsRef<str>, RunManifest, CompareReport)],
) -> String {
    let sections: Vec<vox_survey::html::Section<'_>> = runs
        .iter()
        .map(|(title, manifest, report)| vox_survey::html::Section {
            title: title.as_ref(),
            report,
            manifest: Some(manifest),
        })
        .collect();
    vox_survey::html::render(page_title, &sections)
}

fn compare_cmd(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let report = compare_files(&args.simulated, &args.human, args.seed, args.resamples)?;
    for diagnostic in &report.diagnostics {
        eprintln!("warning: {diagnostic}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_questions(&report);
        println!();
        print_summary(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{v:.3}"))
}

fn print_questions(report: &CompareReport) {
    println!(
        "{:<28} {:<22} {:>7} {:>7} {:>7} {:>7}",
        "question", "group", "1-JS", "1-WD", "TV", "KL"
    );
    for q in &report.questions {
        println!(
            "{:<28} {:<22} {:>7.3} {:>7} {:>7.3} {:>7.3}",
            q.question_id,
            q.group,
            q.metrics.similarity_js,
            opt(q.metrics.similarity_wd),
            q.metrics.tv,
            q.metrics.kl
        );
    }
}

/// The aggregate table: rows are the model, the baselines and the ceiling.
pub(crate) fn print_summary(report: &CompareReport) {
    use vox_survey::compare::Aggregate;
    let rows: [(&str, Option<&Aggregate>); 5] = [
        ("model", Some(&report.aggregate)),
        ("uniform", Some(&report.baselines.uniform)),
        ("overall population", Some(&report.baselines.overall)),
        (
            "shuffled demographics",
            report.baselines.shuffled_demographics.as_ref(),
        ),
        ("human split-half ceiling", report.ceiling.as_ref()),
    ];
    println!(
        "{:<26} {:>24} {:>24} {:>24} {:>24}",
        "",
        "1-JS (higher better)",
        "1-WD (higher better)",
        "TV (lower better)",
        "KL (lower better)"
    );
    let ci = |c: &vox_survey::metrics::MeanCi| {
        format!("{:.3} [{:.3},{:.3}]", c.mean, c.ci_low, c.ci_high)
    };
    for (name, aggregate) in rows {
        match aggregate {
            Some(a) => println!(
                "{:<26} {:>24} {:>24} {:>24} {:>24}",
                name,
                ci(&a.similarity_js),
                a.similarity_wd.as_ref().map_or("—".into(), ci),
                ci(&a.tv),
                ci(&a.kl)
            ),
            None => println!("{name:<26} {:>24}", "— (not available)"),
        }
    }
    println!(
        "{} question × group items; 95% bootstrap intervals over items.",
        report.questions.len()
    );
}

/// OpinionQA attribute files → persona attribute names used by the built-in templates.
fn persona_attribute(attribute: &str) -> String {
    match attribute {
        "POLPARTY" => "party",
        "POLIDEOLOGY" => "ideology",
        "SEX" => "sex",
        "RACE" => "race",
        "CREGION" => "region",
        "EDUCATION" => "education",
        "INCOME" => "income",
        "AGE" => "age",
        other => return other.to_ascii_lowercase(),
    }
    .to_string()
}

fn write_import(
    imported: &Imported,
    out: &ImportOut,
    group_attribute: &dyn Fn(&str) -> String,
) -> anyhow::Result<()> {
    for diagnostic in &imported.diagnostics {
        eprintln!("note: {diagnostic}");
    }
    std::fs::write(&out.out_survey, survey_to_toml(&imported.survey))
        .with_context(|| format!("writing {}", out.out_survey.display()))?;
    vox_survey::write_distributions(&out.out_human, &imported.human)?;
    if let Some(path) = &out.out_population {
        let mut members = Vec::new();
        for record in &imported.human {
            if members
                .iter()
                .any(|(p, _): &(vox_core::Persona, f64)| p.id == record.group)
            {
                continue;
            }
            let attribute = group_attribute(&record.group);
            let persona = vox_core::Persona {
                id: record.group.clone(),
                attributes: [(attribute, record.group.clone())].into_iter().collect(),
                backstory: None,
            };
            members.push((persona, 1.0));
        }
        let population = vox_core::Population::new(members)?;
        std::fs::write(path, population_to_jsonl(&population))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "imported {} questions and {} human distributions",
        imported.survey.questions.len(),
        imported.human.len()
    );
    Ok(())
}

fn import_cmd(args: ImportArgs) -> anyhow::Result<ExitCode> {
    match args.source {
        ImportSource::Opinionqa {
            dir,
            attributes,
            questions,
            limit,
            out,
        } => {
            let config = OpinionQaConfig {
                attributes: attributes.clone(),
                question_ids: questions,
                limit,
            };
            let imported = import_opinionqa(&dir, &config)?;
            // Which attribute file each group label came from, for the persona's attribute.
            let mut owner = std::collections::HashMap::new();
            for attribute in &attributes {
                let path = dir.join(format!("{attribute}_data.json"));
                let value: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&path)?)?;
                if let Some(object) = value.as_object() {
                    for groups in object.values().filter_map(|g| g.as_object()) {
                        for group in groups.keys() {
                            owner
                                .entry(group.clone())
                                .or_insert_with(|| persona_attribute(attribute));
                        }
                    }
                }
            }
            write_import(&imported, &out, &|group| {
                owner.get(group).cloned().unwrap_or_else(|| "group".into())
            })?;
        }
        ImportSource::Globalopinionqa {
            file,
            countries,
            min_countries,
            limit,
            out,
        } => {
            let config = GlobalOpinionConfig {
                countries,
                min_countries,
                limit,
            };
            let imported = import_globalopinionqa(&file, &config)?;
            write_import(&imported, &out, &|_| "country".into())?;
        }
        ImportSource::MeisterGlobalValues { file, limit, out } => {
            let imported = vox_survey::import::meister_subsets::import_global_values(&file, limit)?;
            write_import(&imported, &out, &|_| "country".into())?;
        }
        ImportSource::MeisterNytimes {
            dir,
            attributes,
            limit,
            out,
        } => {
            let imported =
                vox_survey::import::meister_subsets::import_nytimes(&dir, &attributes, limit)?;
            let owner = |group: &str| match group {
                "Democrat" | "Republican" | "Independent" => "party".to_string(),
                "Male" | "Female" => "sex".to_string(),
                _ => "group".to_string(),
            };
            write_import(&imported, &out, &owner)?;
        }
        ImportSource::Rows {
            file,
            delimiter,
            questions,
            group,
            missing,
            respondent_attributes,
            max_respondents,
            out_respondents,
            out_answers,
            out,
        } => {
            let config = vox_survey::import::rows::RowsConfig {
                delimiter: match delimiter {
                    Delimiter::Comma => b',',
                    Delimiter::Tab => b'\t',
                },
                question_columns: questions,
                group_column: group.clone(),
                missing,
            };
            let imported = vox_survey::import::rows::import_rows(&file, &config)?;
            write_import(&imported, &out, &|_| group.clone())?;
            if let (Some(respondents_path), Some(answers_path)) = (out_respondents, out_answers) {
                let (population, answers) = vox_survey::import::rows::import_respondents(
                    &file,
                    &config,
                    &respondent_attributes,
                    max_respondents,
                )?;
                std::fs::write(&respondents_path, population_to_jsonl(&population))
                    .with_context(|| format!("writing {}", respondents_path.display()))?;
                let lines: Vec<String> = answers
                    .iter()
                    .map(|a| serde_json::to_string(a).expect("answers serialise"))
                    .collect();
                std::fs::write(&answers_path, lines.join("\n") + "\n")
                    .with_context(|| format!("writing {}", answers_path.display()))?;
                eprintln!(
                    "wrote {} respondents and {} answers",
                    population.len(),
                    answers.len()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The committed demo samples, embedded so that the demo runs from any directory.
mod demo_data {
    pub const OPINIONQA_SURVEY: &str =
        include_str!("../../../../data/opinionqa-sample/survey.toml");
    pub const OPINIONQA_HUMAN: &str = include_str!("../../../../data/opinionqa-sample/human.jsonl");
    pub const OPINIONQA_POPULATION: &str =
        include_str!("../../../../data/opinionqa-sample/population.jsonl");
    pub const GLOBAL_SURVEY: &str =
        include_str!("../../../../data/globalopinionqa-sample/survey.toml");
    pub const GLOBAL_HUMAN: &str =
        include_str!("../../../../data/globalopinionqa-sample/human.jsonl");
    pub const GLOBAL_POPULATION: &str =
        include_str!("../../../../data/globalopinionqa-sample/population.jsonl");
}

fn demo_cmd(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let inputs = args.out.join("inputs");
    std::fs::create_dir_all(&inputs).with_context(|| format!("creating {}", inputs.display()))?;
    let parts = [
        (
            "opinionqa",
            "OpinionQA sample: 20 Pew questions by party and ideology",
            "opinionqa-bio",
            vec!["party".to_string(), "ideology".to_string()],
            [
                demo_data::OPINIONQA_SURVEY,
                demo_data::OPINIONQA_HUMAN,
                demo_data::OPINIONQA_POPULATION,
            ],
        ),
        (
            "globalopinionqa",
            "GlobalOpinionQA sample: 20 questions in 5 countries",
            "globalopinionqa-country",
            vec!["country".to_string()],
            [
                demo_data::GLOBAL_SURVEY,
                demo_data::GLOBAL_HUMAN,
                demo_data::GLOBAL_POPULATION,
            ],
        ),
    ];
    let model = args.model.load_dyn()?;
    let mut results = Vec::new();
    for (name, title, template, group_by, [survey, human, population]) in parts {
        let survey_path = inputs.join(format!("{name}-survey.toml"));
        let human_path = inputs.join(format!("{name}-human.jsonl"));
        let population_path = inputs.join(format!("{name}-population.jsonl"));
        std::fs::write(&survey_path, first_questions(survey, args.max_questions))?;
        std::fs::write(&human_path, human)?;
        std::fs::write(&population_path, population)?;
        let mut config = RunConfig::new(PromptTemplate::load(template)?);
        config.method = args.method.into();
        config.group_by = group_by;
        config.seed = args.seed;
        config.only = Some(human_pairs(&human_path)?);
        let run_dir = args.out.join(name);
        let manifest = execute_run(
            model.as_ref(),
            &survey_path,
            &population_path,
            &config,
            Some(&human_path),
            &run_dir,
            name,
        )?;
        let report = compare_run_dir(&run_dir, &human_path, args.seed)?;
        results.push((title, manifest, report));
    }
    let page = render_runs(
        "vox demo: simulated survey respondents against real people",
        &results,
    );
    let report_path = args.out.join("report.html");
    std::fs::write(&report_path, page)
        .with_context(|| format!("writing {}", report_path.display()))?;
    println!();
    for (title, manifest, report) in &results {
        println!(
            "== {title} ({} on {}, {} items)",
            manifest.method.as_str(),
            manifest.provenance.model_id.split('@').next().unwrap_or(""),
            report.questions.len()
        );
        print_summary(report);
        println!();
    }
    println!("report: {}", report_path.display());
    Ok(ExitCode::SUCCESS)
}
