//! Running a survey on a language model: every persona × question is asked with a prompt
//! template and one of three elicitation methods, results are journaled so that a killed run
//! resumes without losing or repeating work, and the outputs (`responses.jsonl`,
//! `responses.parquet`, `distributions.jsonl`, `run.json`) are written at the end.
//!
//! Resumability: each completed call is appended to `DIR/journal.jsonl` and flushed before the
//! next call starts. Its key is the sha256 of the model id, the exact prompt, the options and
//! the method's parameters, so a restarted run (or a rerun with the same settings) reuses it,
//! and a changed template or seed is a cache miss. A line cut short by a kill is discarded on
//! restart. The outputs are rebuilt from the journal by walking persona × question once, so
//! every pair appears exactly once.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vox_core::{Distribution, Persona, Population, Question, Survey};
use vox_lm::{ChatMessage, GenerateRequest, LanguageModel, Prompt, Role, Sampling};

use crate::error::{Result, SurveyError};
use crate::records::{write_distributions, DistributionRecord};
use crate::template::{option_letter, PromptTemplate};

/// How an answer distribution is elicited from the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Next-token log-probabilities of the option letters (OpinionQA), renormalised over the
    /// options. Needs a backend with `next_token_logprobs` (the embedded model).
    Logprob,
    /// The model states a percentage per option (greedy generation); the text is parsed and
    /// failures are recorded.
    Verbal,
    /// `n_samples` seeded answers are generated and the chosen letters counted.
    Sample,
}

impl Method {
    /// The method's name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Logprob => "logprob",
            Method::Verbal => "verbal",
            Method::Sample => "sample",
        }
    }

    fn instructions(self, n_options: usize) -> String {
        let last = option_letter(n_options - 1);
        match self {
            Method::Logprob | Method::Sample => format!("Answer with a single letter (A to {last})."),
            Method::Verbal => format!(
                "For each option A to {last}, estimate the percentage of people like this who would choose it. Reply with one line per option, in the form \"letter: percent%\", with the percentages summing to 100."
            ),
        }
    }
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Elicitation method. Default [`Method::Logprob`].
    pub method: Method,
    /// Prompt style.
    pub template: PromptTemplate,
    /// Persona attributes whose values name a persona's group (joined with `" / "`); the
    /// persona id when empty.
    pub group_by: Vec<String>,
    /// Draws per persona × question for [`Method::Sample`]. Default 10.
    pub n_samples: usize,
    /// Temperature of [`Method::Sample`] draws. Default 1.0.
    pub temperature: f64,
    /// Most generated tokens for [`Method::Verbal`]. Default 96.
    pub verbal_max_tokens: usize,
    /// Seed of every random choice (sampled answers). Default 0.
    pub seed: u64,
    /// When set, only these (group, question id) pairs are asked, e.g. those with human data;
    /// other persona × question items are skipped. Default `None` (ask everything).
    pub only: Option<std::collections::BTreeSet<(String, String)>>,
}

impl RunConfig {
    /// Defaults for a template.
    pub fn new(template: PromptTemplate) -> Self {
        Self {
            method: Method::Logprob,
            template,
            group_by: Vec::new(),
            n_samples: 10,
            temperature: 1.0,
            verbal_max_tokens: 96,
            seed: 0,
            only: None,
        }
    }
}

/// What went into a run, recorded in `run.json` beside the counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The model's stable id (file name and sha256 for the embedded backend).
    pub model_id: String,
    /// sha256 of the model file, when known.
    pub model_sha256: Option<String>,
    /// Survey file and its sha256.
    pub survey: Option<(String, String)>,
    /// Population file and its sha256.
    pub population: Option<(String, String)>,
}

/// The manifest written to `run.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunManifest {
    /// Version of vox that wrote the run.
    pub vox_version: String,
    /// Model, survey and population.
    #[serde(flatten)]
    pub provenance: Provenance,
    /// Elicitation method.
    pub method: Method,
    /// Template name.
    pub template: String,
    /// sha256 of the template file's text.
    pub template_sha256: String,
    /// Grouping attributes.
    pub group_by: Vec<String>,
    /// Seed.
    pub seed: u64,
    /// Draws per item (sample method).
    pub n_samples: usize,
    /// Sampling temperature (sample method).
    pub temperature: f64,
    /// When the run was restricted to given (group, question) pairs (`--only-human`), how many
    /// pairs were allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_pairs: Option<usize>,
    /// Persona × question items.
    pub n_items: usize,
    /// Items answered from the journal (earlier or interrupted runs).
    pub n_reused: usize,
    /// Items computed by this invocation.
    pub n_computed: usize,
    /// Items whose answer could not be elicited or parsed (see `responses.jsonl`).
    pub n_failed: usize,
}

/// One persona × question answer: a line of `responses.jsonl` and a row of
/// `responses.parquet`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// Persona id.
    pub persona_id: String,
    /// The persona's group label.
    pub group: String,
    /// The persona's population weight.
    pub weight: f64,
    /// Question id.
    pub question_id: String,
    /// Elicitation method.
    pub method: Method,
    /// Substantive options (refusals removed), the order of `distribution`.
    pub options: Vec<String>,
    /// The answer distribution over `options`; `null` when elicitation failed.
    pub distribution: Option<Vec<f64>>,
    /// Generated text (verbal and sample methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Why elicitation failed or was partial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Cache key of the call.
    pub key: String,
}

/// One journal line: the outcome of one call, over *all* the question's options.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalEntry {
    key: String,
    persona_id: String,
    question_id: String,
    distribution: Option<Vec<f64>>,
    raw: Option<String>,
    error: Option<String>,
}

/// Progress of a run, reported after every item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Items finished (reused or computed).
    pub done: usize,
    /// All items.
    pub total: usize,
    /// Items reused from the journal so far.
    pub reused: usize,
}

/// The group label of a persona.
pub fn group_of(persona: &Persona, group_by: &[String]) -> String {
    if group_by.is_empty() {
        return persona.id.clone();
    }
    let values: Vec<&str> = group_by
        .iter()
        .filter_map(|a| persona.attributes.get(a).map(String::as_str))
        .collect();
    if values.is_empty() {
        persona.id.clone()
    } else {
        values.join(" / ")
    }
}

/// The prompt for one persona × question.
pub fn build_prompt(
    template: &PromptTemplate,
    persona: &Persona,
    question: &Question,
    method: Method,
) -> Result<Prompt> {
    let (system, user) = template.render(
        persona,
        question,
        &method.instructions(question.options.len()),
    )?;
    let mut messages = Vec::new();
    if let Some(system) = system {
        messages.push(ChatMessage::new(Role::System, system));
    }
    messages.push(ChatMessage::new(Role::User, user));
    Ok(Prompt::Chat(messages))
}

fn cache_key(
    model_id: &str,
    prompt: &Prompt,
    question: &Question,
    config: &RunConfig,
    sample_seed: u64,
) -> String {
    let params = match config.method {
        Method::Logprob => serde_json::json!({"method": "logprob"}),
        Method::Verbal => {
            serde_json::json!({"method": "verbal", "max_tokens": config.verbal_max_tokens, "sampling": "greedy"})
        }
        Method::Sample => serde_json::json!({
            "method": "sample", "n": config.n_samples, "temperature": config.temperature, "seed": sample_seed
        }),
    };
    let material = serde_json::json!({
        "model": model_id, "prompt": prompt, "options": question.options, "params": params,
    });
    hex::encode(Sha256::digest(material.to_string().as_bytes()))
}

fn derived_seed(seed: u64, persona_id: &str, question_id: &str) -> u64 {
    let digest = Sha256::digest(format!("{seed}\u{1f}{persona_id}\u{1f}{question_id}").as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Parses a verbalised distribution: lines such as `A: 40%`, `B) 0.3`, `C. 25 percent`.
/// Every option must be given a number (a partial answer would silently put all mass on the
/// options that were named); otherwise the message says what was missing.
pub fn parse_verbal(text: &str, n_options: usize) -> std::result::Result<Vec<f64>, String> {
    let mut values = vec![0.0; n_options];
    let mut seen = vec![false; n_options];
    let mut found = 0;
    for line in text.lines() {
        let line = line
            .trim()
            .trim_start_matches(['-', '*', ' '])
            .trim_start_matches("Option ");
        let mut chars = line.chars();
        let Some(letter) = chars.next() else { continue };
        let separator = chars.next();
        if !letter.is_ascii_uppercase()
            || !matches!(separator, Some(':' | '.' | ')' | ' ' | '-' | '='))
        {
            continue;
        }
        let index = (letter as u8 - b'A') as usize;
        if index >= n_options {
            continue;
        }
        let rest = &line[2..];
        let number: String = rest
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if let Ok(value) = number.trim_end_matches('.').parse::<f64>() {
            values[index] = value;
            seen[index] = true;
            found += 1;
        }
    }
    let total: f64 = values.iter().sum();
    if found == 0 || total.is_nan() || total <= 0.0 {
        return Err(format!(
            "no option percentages found in {:?}",
            truncate(text, 200)
        ));
    }
    let missing: Vec<String> = (0..n_options)
        .filter(|&i| !seen[i])
        .map(option_letter)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no percentage for option(s) {} in {:?}",
            missing.join(", "),
            truncate(text, 200)
        ));
    }
    Ok(values.iter().map(|v| v / total).collect())
}

/// The option chosen in a sampled answer: a leading letter (`B`, `B.`, `Answer: B`) or the start
/// of an option's text. `None` when neither is found.
pub fn parse_choice(text: &str, options: &[String]) -> Option<usize> {
    let text = text.trim().trim_start_matches("Answer:").trim();
    let mut chars = text.chars();
    if let Some(letter) = chars.next() {
        let next = chars.next();
        if letter.is_ascii_uppercase() && next.is_none_or(|c| !c.is_alphanumeric()) {
            let index = (letter as u8 - b'A') as usize;
            if index < options.len() {
                return Some(index);
            }
        }
    }
    let lower = text.to_lowercase();
    options
        .iter()
        .position(|o| !o.is_empty() && lower.starts_with(&o.to_lowercase()))
}

fn truncate(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// An elicited answer: the distribution over all options (`None` on failure), the generated
/// text, and a note on a failure or partial parse.
type Answer = (Option<Vec<f64>>, Option<String>, Option<String>);

/// Asks one persona one question. Model errors that concern only this call (a parse failure)
/// are recorded in the entry; errors of the backend itself are returned.
fn ask(
    model: &dyn LanguageModel,
    prompt: &Prompt,
    question: &Question,
    config: &RunConfig,
    sample_seed: u64,
) -> Result<Answer> {
    let k = question.options.len();
    let model_error = |e: vox_lm::LmError| SurveyError::Model(e.to_string());
    match config.method {
        Method::Logprob => {
            let letters: Vec<String> = (0..k).map(option_letter).collect();
            let logprobs = model
                .next_token_logprobs(prompt, &letters)
                .map_err(model_error)?;
            let distribution = Distribution::from_logprobs(&logprobs).map_err(|e| {
                SurveyError::Model(format!("option log-probabilities unusable: {e}"))
            })?;
            Ok((Some(distribution.probs().to_vec()), None, None))
        }
        Method::Verbal => {
            let request = GenerateRequest {
                prompt: prompt.clone(),
                max_tokens: config.verbal_max_tokens,
                sampling: Sampling::greedy(),
                stop: Vec::new(),
            };
            let generation = model.generate(&request).map_err(model_error)?;
            match parse_verbal(&generation.text, k) {
                Ok(d) => Ok((Some(d), Some(generation.text), None)),
                Err(message) => Ok((None, Some(generation.text), Some(message))),
            }
        }
        Method::Sample => {
            let mut counts = vec![0.0; k];
            let mut texts = Vec::new();
            let mut invalid = 0;
            for draw in 0..config.n_samples {
                let request = GenerateRequest {
                    prompt: prompt.clone(),
                    max_tokens: 6,
                    sampling: Sampling {
                        temperature: config.temperature,
                        top_p: 1.0,
                        seed: sample_seed.wrapping_add(draw as u64),
                    },
                    stop: vec!["\n".into()],
                };
                let generation = model.generate(&request).map_err(model_error)?;
                match parse_choice(&generation.text, &question.options) {
                    Some(i) => counts[i] += 1.0,
                    None => invalid += 1,
                }
                texts.push(generation.text);
            }
            let raw = Some(serde_json::to_string(&texts).expect("strings serialise"));
            let note = (invalid > 0)
                .then(|| format!("{invalid} of {} draws named no option", config.n_samples));
            match Distribution::from_weights(&counts) {
                Ok(d) => Ok((Some(d.probs().to_vec()), raw, note)),
                Err(_) => Ok((
                    None,
                    raw,
                    Some(format!(
                        "none of {} draws named an option",
                        config.n_samples
                    )),
                )),
            }
        }
    }
}

/// Opens the journal, dropping a last line cut short by a kill, and returns its entries.
fn open_journal(path: &Path) -> Result<(HashMap<String, JournalEntry>, std::fs::File)> {
    let mut entries = HashMap::new();
    if path.exists() {
        let text = std::fs::read(path).map_err(|e| SurveyError::io(path, e))?;
        let complete = match text.iter().rposition(|b| *b == b'\n') {
            Some(i) => i + 1,
            None => 0,
        };
        if complete < text.len() {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| SurveyError::io(path, e))?;
            file.set_len(complete as u64)
                .map_err(|e| SurveyError::io(path, e))?;
        }
        for (index, line) in text[..complete].lines().enumerate() {
            let line = line.map_err(|e| SurveyError::io(path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let entry: JournalEntry = serde_json::from_str(&line).map_err(|e| {
                SurveyError::invalid(path, index + 1, "-", format!("journal line is not a journal entry ({e}); delete the run directory to start over"))
            })?;
            entries.insert(entry.key.clone(), entry);
        }
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| SurveyError::io(path, e))?;
    Ok((entries, file))
}

/// Restricts a distribution over all options to the substantive ones, renormalised. `None` when
/// no mass is left.
fn substantive(question: &Question, distribution: &[f64]) -> Option<Vec<f64>> {
    let keep = question.substantive_options();
    let values: Vec<f64> = keep.iter().map(|&i| distribution[i]).collect();
    Distribution::from_weights(&values)
        .ok()
        .map(|d| d.probs().to_vec())
}

/// Paths of a run directory's files.
#[derive(Debug, Clone)]
pub struct RunPaths {
    /// `journal.jsonl`.
    pub journal: PathBuf,
    /// `responses.jsonl`.
    pub responses_jsonl: PathBuf,
    /// `responses.parquet`.
    pub responses_parquet: PathBuf,
    /// `distributions.jsonl`.
    pub distributions: PathBuf,
    /// `run.json`.
    pub manifest: PathBuf,
}

impl RunPaths {
    /// The files of run directory `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            journal: dir.join("journal.jsonl"),
            responses_jsonl: dir.join("responses.jsonl"),
            responses_parquet: dir.join("responses.parquet"),
            distributions: dir.join("distributions.jsonl"),
            manifest: dir.join("run.json"),
        }
    }
}

/// Runs (or resumes) a survey into `out_dir` and writes all outputs. `progress` is called after
/// every item.
pub fn run_survey(
    model: &dyn LanguageModel,
    survey: &Survey,
    population: &Population,
    config: &RunConfig,
    provenance: Provenance,
    out_dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunManifest> {
    if survey.questions.is_empty() {
        return Err(SurveyError::Empty("the survey has no questions".into()));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| SurveyError::io(out_dir, e))?;
    let paths = RunPaths::new(out_dir);
    let (mut journal, mut journal_file) = open_journal(&paths.journal)?;
    let model_id = model.model_id();
    let wanted = |group: &str, question: &Question| {
        config
            .only
            .as_ref()
            .is_none_or(|only| only.contains(&(group.to_string(), question.id.clone())))
    };
    let total = population
        .members
        .iter()
        .map(|(p, _)| {
            let group = group_of(p, &config.group_by);
            survey
                .questions
                .iter()
                .filter(|q| wanted(&group, q))
                .count()
        })
        .sum();
    let (mut done, mut reused, mut computed) = (0, 0, 0);
    let mut responses = Vec::with_capacity(total);
    for (persona, weight) in &population.members {
        let group = group_of(persona, &config.group_by);
        for question in survey.questions.iter().filter(|q| wanted(&group, q)) {
            let prompt = build_prompt(&config.template, persona, question, config.method)?;
            let sample_seed = derived_seed(config.seed, &persona.id, &question.id);
            let key = cache_key(&model_id, &prompt, question, config, sample_seed);
            let entry = match journal.get(&key) {
                Some(entry) => {
                    reused += 1;
                    entry.clone()
                }
                None => {
                    let (distribution, raw, error) =
                        ask(model, &prompt, question, config, sample_seed)?;
                    let entry = JournalEntry {
                        key: key.clone(),
                        persona_id: persona.id.clone(),
                        question_id: question.id.clone(),
                        distribution,
                        raw,
                        error,
                    };
                    let line = serde_json::to_string(&entry).expect("entries serialise");
                    journal_file
                        .write_all(format!("{line}\n").as_bytes())
                        .and_then(|_| journal_file.flush())
                        .and_then(|_| journal_file.sync_data())
                        .map_err(|e| SurveyError::io(&paths.journal, e))?;
                    journal.insert(key.clone(), entry.clone());
                    computed += 1;
                    entry
                }
            };
            let options: Vec<String> = question
                .substantive_options()
                .iter()
                .map(|&i| question.options[i].clone())
                .collect();
            let (distribution, error) = match &entry.distribution {
                Some(d) => match substantive(question, d) {
                    Some(s) => (Some(s), entry.error.clone()),
                    None => (
                        None,
                        Some("all probability fell on refusal options".to_string()),
                    ),
                },
                None => (None, entry.error.clone()),
            };
            responses.push(ResponseRecord {
                persona_id: persona.id.clone(),
                group: group.clone(),
                weight: *weight,
                question_id: question.id.clone(),
                method: config.method,
                options,
                distribution,
                raw: entry.raw.clone(),
                error,
                key,
            });
            done += 1;
            progress(Progress {
                done,
                total,
                reused,
            });
        }
    }
    let n_failed = responses
        .iter()
        .filter(|r| r.distribution.is_none())
        .count();
    write_outputs(&paths, survey, &responses)?;
    let manifest = RunManifest {
        vox_version: env!("CARGO_PKG_VERSION").to_string(),
        provenance,
        method: config.method,
        template: config.template.name.clone(),
        template_sha256: config.template.sha256.clone(),
        group_by: config.group_by.clone(),
        seed: config.seed,
        n_samples: config.n_samples,
        temperature: config.temperature,
        only_pairs: config.only.as_ref().map(|o| o.len()),
        n_items: total,
        n_reused: reused,
        n_computed: computed,
        n_failed,
    };
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
    write_atomically(&paths.manifest, json.as_bytes())?;
    Ok(manifest)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| SurveyError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SurveyError::io(path, e))
}

/// Group distributions: the population-weighted mixture of persona distributions, per
/// question × group, skipping failed items.
pub fn group_distributions(
    survey: &Survey,
    responses: &[ResponseRecord],
) -> Vec<DistributionRecord> {
    let mut groups: Vec<&str> = Vec::new();
    for r in responses {
        if !groups.contains(&r.group.as_str()) {
            groups.push(&r.group);
        }
    }
    let mut by_key: BTreeMap<(&str, &str), Vec<&ResponseRecord>> = BTreeMap::new();
    for r in responses {
        by_key
            .entry((r.question_id.as_str(), r.group.as_str()))
            .or_default()
            .push(r);
    }
    let mut out = Vec::new();
    for question in &survey.questions {
        let keep = question.substantive_options();
        let ordinal = question
            .ordinal
            .as_ref()
            .map(|o| keep.iter().map(|&i| o[i]).collect::<Vec<f64>>());
        for group in &groups {
            let Some(members) = by_key.get(&(question.id.as_str(), *group)) else {
                continue;
            };
            let parts: Vec<(f64, Distribution)> = members
                .iter()
                .filter_map(|r| {
                    r.distribution
                        .as_ref()
                        .and_then(|d| Distribution::from_weights(d).ok())
                        .map(|d| (r.weight, d))
                })
                .collect();
            let Ok(mixture) = Distribution::mixture(parts.iter().map(|(w, d)| (*w, d))) else {
                continue;
            };
            out.push(DistributionRecord {
                question_id: question.id.clone(),
                group: group.to_string(),
                options: keep.iter().map(|&i| question.options[i].clone()).collect(),
                distribution: mixture.probs().to_vec(),
                ordinal: ordinal.clone(),
                counts: None,
            });
        }
    }
    out
}

fn write_outputs(paths: &RunPaths, survey: &Survey, responses: &[ResponseRecord]) -> Result<()> {
    let mut jsonl = String::new();
    for r in responses {
        jsonl.push_str(&serde_json::to_string(r).expect("responses serialise"));
        jsonl.push('\n');
    }
    write_atomically(&paths.responses_jsonl, jsonl.as_bytes())?;
    crate::parquet_out::write_responses(&paths.responses_parquet, responses)?;
    let tmp = paths.distributions.with_extension("tmp");
    write_distributions(&tmp, &group_distributions(survey, responses))?;
    std::fs::rename(&tmp, &paths.distributions)
        .map_err(|e| SurveyError::io(&paths.distributions, e))
}

/// Reads a run's `responses.jsonl`.
pub fn read_responses(path: &Path) -> Result<Vec<ResponseRecord>> {
    let file = std::fs::File::open(path).map_err(|e| SurveyError::io(path, e))?;
    let mut out = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| SurveyError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .map_err(|e| SurveyError::invalid(path, index + 1, "-", e.to_string()))?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use vox_lm::{FinishReason, Generation, LmError, OptionScores, ScoreRequest};

    /// A fake model for protocol tests: letter logprobs favour `A`, generation echoes a fixed
    /// text. The end-to-end tests in `crates/vox/tests/` use the real embedded model.
    struct Fake {
        calls: AtomicUsize,
        text: String,
    }

    impl LanguageModel for Fake {
        fn model_id(&self) -> String {
            "fake".into()
        }
        fn generate(&self, _: &GenerateRequest) -> std::result::Result<Generation, LmError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(Generation {
                text: self.text.clone(),
                n_prompt_tokens: 1,
                n_generated_tokens: 1,
                finish: FinishReason::Stop,
            })
        }
        fn score_options(&self, _: &ScoreRequest) -> std::result::Result<OptionScores, LmError> {
            Err(LmError::Unsupported("scoring"))
        }
        fn next_token_logprobs(
            &self,
            _: &Prompt,
            candidates: &[String],
        ) -> std::result::Result<Vec<f64>, LmError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(candidates
                .iter()
                .enumerate()
                .map(|(i, _)| -(i as f64))
                .collect())
        }
    }

    fn survey() -> Survey {
        Survey::new(vec![
            Question {
                id: "q1".into(),
                text: "Agree?".into(),
                options: vec!["Yes".into(), "No".into(), "Refused".into()],
                ordinal: Some(vec![0.0, 1.0, 2.0]),
                refusal: vec![2],
            },
            Question {
                id: "q2".into(),
                text: "Like?".into(),
                options: vec!["Yes".into(), "No".into()],
                ordinal: None,
                refusal: vec![],
            },
        ])
        .unwrap()
    }

    fn population() -> Population {
        let persona = |id: &str, party: &str, sex: &str| Persona {
            id: id.into(),
            attributes: [
                ("party".to_string(), party.to_string()),
                ("sex".to_string(), sex.to_string()),
            ]
            .into_iter()
            .collect(),
            backstory: None,
        };
        Population::new(vec![
            (persona("a", "Democrat", "Male"), 1.0),
            (persona("b", "Democrat", "Female"), 3.0),
            (persona("c", "Republican", "Male"), 1.0),
        ])
        .unwrap()
    }

    fn config(method: Method) -> RunConfig {
        let mut config = RunConfig::new(PromptTemplate::load("opinionqa-bio").unwrap());
        config.method = method;
        config.group_by = vec!["party".into()];
        config
    }

    #[test]
    fn logprob_run_writes_outputs_and_reuses_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Fake {
            calls: AtomicUsize::new(0),
            text: String::new(),
        };
        let manifest = run_survey(
            &fake,
            &survey(),
            &population(),
            &config(Method::Logprob),
            Provenance::default(),
            dir.path(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(
            (manifest.n_items, manifest.n_computed, manifest.n_reused),
            (6, 6, 0)
        );
        let records =
            crate::records::read_distributions(&dir.path().join("distributions.jsonl")).unwrap();
        assert_eq!(records.len(), 4);
        // Refusal dropped: softmax(0, −1) = (e/(e+1), 1/(e+1)).
        let e = std::f64::consts::E;
        assert!((records[0].distribution[0] - e / (e + 1.0)).abs() < 1e-12);
        assert_eq!(records[0].options, vec!["Yes", "No"]);
        assert_eq!(records[0].ordinal, Some(vec![0.0, 1.0]));
        let again = run_survey(
            &fake,
            &survey(),
            &population(),
            &config(Method::Logprob),
            Provenance::default(),
            dir.path(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((again.n_computed, again.n_reused), (0, 6));
        assert_eq!(fake.calls.load(Ordering::SeqCst), 6);
        assert_eq!(
            read_responses(&dir.path().join("responses.jsonl"))
                .unwrap()
                .len(),
            6
        );
    }

    #[test]
    fn a_torn_journal_line_is_dropped_and_recomputed() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Fake {
            calls: AtomicUsize::new(0),
            text: String::new(),
        };
        run_survey(
            &fake,
            &survey(),
            &population(),
            &config(Method::Logprob),
            Provenance::default(),
            dir.path(),
            &mut |_| {},
        )
        .unwrap();
        let journal = dir.path().join("journal.jsonl");
        let text = std::fs::read_to_string(&journal).unwrap();
        let cut = text.len() - 10;
        std::fs::write(&journal, &text[..cut]).unwrap();
        let again = run_survey(
            &fake,
            &survey(),
            &population(),
            &config(Method::Logprob),
            Provenance::default(),
            dir.path(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((again.n_computed, again.n_reused), (1, 5));
        assert_eq!(
            std::fs::read_to_string(&journal).unwrap().lines().count(),
            6
        );
    }

    #[test]
    fn verbal_failures_are_recorded_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Fake {
            calls: AtomicUsize::new(0),
            text: "I cannot say.".into(),
        };
        let manifest = run_survey(
            &fake,
            &survey(),
            &population(),
            &config(Method::Verbal),
            Provenance::default(),
            dir.path(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(manifest.n_failed, 6);
        let responses = read_responses(&dir.path().join("responses.jsonl")).unwrap();
        assert!(responses[0]
            .error
            .as_deref()
            .unwrap()
            .contains("no option percentages"));
        assert_eq!(responses[0].raw.as_deref(), Some("I cannot say."));
    }

    #[test]
    fn sampled_answers_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Fake {
            calls: AtomicUsize::new(0),
            text: " B. No".into(),
        };
        let mut config = config(Method::Sample);
        config.n_samples = 4;
        run_survey(
            &fake,
            &survey(),
            &population(),
            &config,
            Provenance::default(),
            dir.path(),
            &mut |_| {},
        )
        .unwrap();
        let responses = read_responses(&dir.path().join("responses.jsonl")).unwrap();
        assert_eq!(responses[0].distribution, Some(vec![0.0, 1.0]));
        assert_eq!(fake.calls.load(Ordering::SeqCst), 6 * 4);
    }

    #[test]
    fn only_the_requested_pairs_are_asked() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Fake {
            calls: AtomicUsize::new(0),
            text: String::new(),
        };
        let mut config = config(Method::Logprob);
        config.only = Some(
            [("Republican".to_string(), "q2".to_string())]
                .into_iter()
                .collect(),
        );
        let manifest = run_survey(
            &fake,
            &survey(),
            &population(),
            &config,
            Provenance::default(),
            dir.path(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(manifest.n_items, 1);
        let responses = read_responses(&dir.path().join("responses.jsonl")).unwrap();
        assert_eq!(
            (
                responses[0].persona_id.as_str(),
                responses[0].question_id.as_str()
            ),
            ("c", "q2")
        );
    }

    #[test]
    fn identical_prompts_share_one_cached_call() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Fake {
            calls: AtomicUsize::new(0),
            text: String::new(),
        };
        let persona = |id: &str| Persona {
            id: id.into(),
            attributes: [("party".to_string(), "Democrat".to_string())]
                .into_iter()
                .collect(),
            backstory: None,
        };
        let twins = Population::new(vec![(persona("a"), 1.0), (persona("b"), 1.0)]).unwrap();
        let manifest = run_survey(
            &fake,
            &survey(),
            &twins,
            &config(Method::Logprob),
            Provenance::default(),
            dir.path(),
            &mut |_| {},
        )
        .unwrap();
        // Same model, prompt, options and parameters: the second persona reuses the first's call.
        assert_eq!(
            (manifest.n_items, manifest.n_computed, manifest.n_reused),
            (4, 2, 2)
        );
        assert_eq!(
            read_responses(&dir.path().join("responses.jsonl"))
                .unwrap()
                .len(),
            4
        );
    }

    #[test]
    fn verbal_and_choice_parsing() {
        assert_eq!(parse_verbal("A: 40%\nB: 60%", 2).unwrap(), vec![0.4, 0.6]);
        assert_eq!(
            parse_verbal("- A) 1\n- B: 0%\n- C. 3 percent\nZ: 9", 3).unwrap(),
            vec![0.25, 0.0, 0.75]
        );
        assert!(parse_verbal("no numbers here", 2).is_err());
        let partial = parse_verbal("A: 40%", 3).unwrap_err();
        assert!(
            partial.contains("no percentage for option(s) B, C"),
            "{partial}"
        );
        let options = vec!["Yes".to_string(), "No".to_string()];
        assert_eq!(parse_choice(" B", &options), Some(1));
        assert_eq!(parse_choice("Answer: A.", &options), Some(0));
        assert_eq!(parse_choice("no way", &options), Some(1));
        assert_eq!(parse_choice("Because", &options), None);
    }
}
