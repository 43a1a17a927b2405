//! Pairwise votes: the in-memory vote set, column layouts with presets, and CSV/JSONL loading
//! with row diagnostics.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, DiagnosticKind, LoadError};

/// The result of one comparison, from the point of view of item `a` (the left/first item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Item `a` won.
    AWins,
    /// Item `b` won.
    BWins,
    /// A tie.
    Tie,
    /// Arena's `both_bad`: a tie in which neither answer was acceptable.
    BothBad,
}

impl Outcome {
    /// The same result seen from the other side (a and b swapped).
    pub fn flipped(self) -> Outcome {
        match self {
            Outcome::AWins => Outcome::BWins,
            Outcome::BWins => Outcome::AWins,
            other => other,
        }
    }

    /// Score of item `a`: 1 for a win, 0 for a loss, 0.5 for either kind of tie.
    pub fn score_a(self) -> f64 {
        match self {
            Outcome::AWins => 1.0,
            Outcome::BWins => 0.0,
            Outcome::Tie | Outcome::BothBad => 0.5,
        }
    }

    /// True for `Tie` and `BothBad`.
    pub fn is_tie(self) -> bool {
        matches!(self, Outcome::Tie | Outcome::BothBad)
    }
}

/// Interns strings to dense `u32` ids in first-seen order.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    /// Returns the id of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), id);
        id
    }

    /// The id of `name`, if present.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// All names, indexed by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One pairwise vote. Ids index into the owning [`VoteSet`]'s interners.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vote {
    /// Left/first item id (Arena's `model_a`, LLMFAO's `left`, TRL's `chosen`).
    pub a: u32,
    /// Right/second item id.
    pub b: u32,
    /// The result, from `a`'s side.
    pub outcome: Outcome,
    /// Annotator id, if the layout has an annotator column.
    pub annotator: Option<u32>,
    /// Prompt id, if the layout has a prompt column.
    pub prompt: Option<u32>,
    /// Category id, if the layout has a category column.
    pub category: Option<u32>,
    /// 1-based line of the vote in its file (for diagnostics downstream).
    pub line: u64,
}

/// Texts attached to a vote, needed only for training-data export.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VoteTexts {
    /// The prompt text (or a JSON list of messages for conversational data).
    pub prompt: String,
    /// Item `a`'s response.
    pub response_a: String,
    /// Item `b`'s response.
    pub response_b: String,
}

/// A set of votes with interned item, annotator, prompt and category names.
#[derive(Debug, Clone, Default)]
pub struct VoteSet {
    /// Item (model) names.
    pub items: Interner,
    /// Annotator names.
    pub annotators: Interner,
    /// Prompt ids as strings.
    pub prompts: Interner,
    /// Category names.
    pub categories: Interner,
    /// The votes, in file order.
    pub votes: Vec<Vote>,
    /// Names of numeric covariates, in column order.
    pub covariate_names: Vec<String>,
    /// Covariates, row-major: `votes.len() × covariate_names.len()`.
    pub covariates: Vec<f64>,
    /// Texts per vote (same length as `votes`) when the layout names text columns; else empty.
    pub texts: Vec<VoteTexts>,
}

impl VoteSet {
    /// Builds a vote set from `(a, b, outcome)` triples; convenient for tests and synthetic data.
    pub fn from_triples<S: AsRef<str>>(triples: &[(S, S, Outcome)]) -> VoteSet {
        let mut set = VoteSet::default();
        for (row, (a, b, outcome)) in triples.iter().enumerate() {
            let a = set.items.intern(a.as_ref());
            let b = set.items.intern(b.as_ref());
            set.votes.push(Vote {
                a,
                b,
                outcome: *outcome,
                annotator: None,
                prompt: None,
                category: None,
                line: row as u64 + 1,
            });
        }
        set
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// Covariate row of vote `vote_idx` (length `covariate_names.len()`).
    pub fn covariates_of(&self, vote_idx: usize) -> &[f64] {
        let k = self.covariate_names.len();
        &self.covariates[vote_idx * k..(vote_idx + 1) * k]
    }

    /// Number of votes each item took part in, indexed by item id.
    pub fn votes_per_item(&self) -> Vec<u64> {
        let mut n = vec![0u64; self.n_items()];
        for v in &self.votes {
            n[v.a as usize] += 1;
            n[v.b as usize] += 1;
        }
        n
    }

    /// A new vote set holding only the votes for which `keep` is true; all interners are kept, so
    /// ids stay comparable with `self`.
    pub fn filter(&self, mut keep: impl FnMut(&Vote) -> bool) -> VoteSet {
        let k = self.covariate_names.len();
        let mut out = VoteSet {
            items: self.items.clone(),
            annotators: self.annotators.clone(),
            prompts: self.prompts.clone(),
            categories: self.categories.clone(),
            covariate_names: self.covariate_names.clone(),
            ..VoteSet::default()
        };
        for (i, v) in self.votes.iter().enumerate() {
            if keep(v) {
                out.votes.push(*v);
                out.covariates
                    .extend_from_slice(&self.covariates[i * k..(i + 1) * k]);
                if !self.texts.is_empty() {
                    out.texts.push(self.texts[i].clone());
                }
            }
        }
        out
    }
}

/// Which labels in the winner column mean what. Matching is exact after trimming whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeLabels {
    /// Labels meaning item `a` won.
    pub a_wins: Vec<String>,
    /// Labels meaning item `b` won.
    pub b_wins: Vec<String>,
    /// Labels meaning a tie.
    pub tie: Vec<String>,
    /// Labels meaning both were bad (a tie of a special kind).
    pub both_bad: Vec<String>,
}

impl OutcomeLabels {
    fn parse(&self, label: &str) -> Option<Outcome> {
        let label = label.trim();
        let has = |list: &[String]| list.iter().any(|l| l == label);
        if has(&self.a_wins) {
            Some(Outcome::AWins)
        } else if has(&self.b_wins) {
            Some(Outcome::BWins)
        } else if has(&self.tie) {
            Some(Outcome::Tie)
        } else if has(&self.both_bad) {
            Some(Outcome::BothBad)
        } else {
            None
        }
    }

    fn describe(&self) -> String {
        let all: Vec<&str> = self
            .a_wins
            .iter()
            .chain(&self.b_wins)
            .chain(&self.tie)
            .chain(&self.both_bad)
            .map(String::as_str)
            .collect();
        format!("one of {}", all.join("|"))
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Where each field of a vote lives in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteLayout {
    /// Column of the first item.
    pub item_a: String,
    /// Column of the second item.
    pub item_b: String,
    /// Column of the outcome label; `None` means every row is a win for `item_a` (TRL's
    /// chosen-over-rejected layout).
    pub winner: Option<String>,
    /// Labels of the outcome column.
    pub labels: OutcomeLabels,
    /// Optional annotator column.
    pub annotator: Option<String>,
    /// Optional prompt-id column.
    pub prompt: Option<String>,
    /// Optional category column.
    pub category: Option<String>,
    /// Numeric covariate columns (read as f64; `True`/`False` read as 1/0).
    pub covariates: Vec<String>,
    /// Optional text columns `(prompt, response_a, response_b)`, for export.
    pub texts: Option<(String, String, String)>,
}

/// Built-in layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// LMArena: `model_a, model_b, winner` with `model_a|model_b|tie|both_bad`.
    Arena,
    /// LLMFAO: `left, right, winner` with `left|right|tie`, annotator `worker`, prompt `prompt`.
    Llmfao,
    /// TRL preference data: `prompt, chosen, rejected`; every row is chosen over rejected, and the
    /// prompt column doubles as prompt id and prompt text.
    Trl,
}

impl VoteLayout {
    /// The layout of a preset.
    pub fn preset(preset: Preset) -> VoteLayout {
        match preset {
            Preset::Arena => VoteLayout {
                item_a: "model_a".into(),
                item_b: "model_b".into(),
                winner: Some("winner".into()),
                labels: OutcomeLabels {
                    a_wins: strings(&["model_a"]),
                    b_wins: strings(&["model_b"]),
                    tie: strings(&["tie"]),
                    both_bad: strings(&["both_bad", "tie (bothbad)"]),
                },
                annotator: None,
                prompt: None,
                category: None,
                covariates: Vec::new(),
                texts: None,
            },
            Preset::Llmfao => VoteLayout {
                item_a: "left".into(),
                item_b: "right".into(),
                winner: Some("winner".into()),
                labels: OutcomeLabels {
                    a_wins: strings(&["left"]),
                    b_wins: strings(&["right"]),
                    tie: strings(&["tie"]),
                    both_bad: Vec::new(),
                },
                annotator: Some("worker".into()),
                prompt: Some("prompt".into()),
                category: None,
                covariates: Vec::new(),
                texts: None,
            },
            Preset::Trl => VoteLayout {
                item_a: "chosen".into(),
                item_b: "rejected".into(),
                winner: None,
                labels: OutcomeLabels {
                    a_wins: Vec::new(),
                    b_wins: Vec::new(),
                    tie: Vec::new(),
                    both_bad: Vec::new(),
                },
                annotator: None,
                prompt: Some("prompt".into()),
                category: None,
                covariates: Vec::new(),
                texts: Some(("prompt".into(), "chosen".into(), "rejected".into())),
            },
        }
    }
}

/// What to do with a bad row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadRowPolicy {
    /// Skip it, keep a diagnostic, and count it (the default).
    #[default]
    Skip,
    /// Stop at the first bad row with [`LoadError::BadRow`].
    Fatal,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet (string, integer, float or boolean columns). Rows are numbered from 1.
    Parquet,
}

impl VoteFormat {
    /// Guesses the format from a file extension (`.csv`, `.tsv`, `.jsonl`, `.ndjson`, `.json`).
    pub fn from_path(path: &Path) -> Option<VoteFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(VoteFormat::Csv),
            "tsv" => Some(VoteFormat::Tsv),
            "jsonl" | "ndjson" | "json" => Some(VoteFormat::Jsonl),
            "parquet" | "pq" => Some(VoteFormat::Parquet),
            _ => None,
        }
    }
}

/// How to load votes.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Column layout.
    pub layout: VoteLayout,
    /// Bad-row policy. Default: skip and count.
    pub policy: BadRowPolicy,
    /// Format; `None` guesses from the extension.
    pub format: Option<VoteFormat>,
    /// How many diagnostics to keep in the report (all are counted). Default 1000.
    pub max_diagnostics: usize,
}

impl LoadConfig {
    /// A config for a preset with the default policy (skip and count).
    pub fn preset(preset: Preset) -> LoadConfig {
        LoadConfig::new(VoteLayout::preset(preset))
    }

    /// A config for a layout with the default policy (skip and count).
    pub fn new(layout: VoteLayout) -> LoadConfig {
        LoadConfig {
            layout,
            policy: BadRowPolicy::Skip,
            format: None,
            max_diagnostics: 1000,
        }
    }
}

/// What loading found besides the votes.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    /// Data rows read (excluding the CSV header and blank JSONL lines).
    pub n_rows: u64,
    /// Votes kept.
    pub n_votes: u64,
    /// Rows skipped, by kind.
    pub skipped: std::collections::BTreeMap<DiagnosticKind, u64>,
    /// The first `max_diagnostics` diagnostics, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadReport {
    /// Total rows skipped.
    pub fn n_skipped(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// Loads votes from a file. See [`load_votes_from_reader`] for the row rules.
pub fn load_votes(path: &Path, config: &LoadConfig) -> Result<(VoteSet, LoadReport), LoadError> {
    let format = match config.format.or_else(|| VoteFormat::from_path(path)) {
        Some(f) => f,
        None => {
            return Err(LoadError::UnknownFormat {
                path: path.to_owned(),
            })
        }
    };
    let file = File::open(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    if format == VoteFormat::Parquet {
        return load_parquet(file, path, config);
    }
    load_votes_from_reader(BufReader::new(file), path, format, config)
}

/// Loads votes from a reader; `path` is used only in diagnostics.
///
/// A row is bad when it cannot be parsed, lacks a required field, has an empty item name, an
/// outcome label the layout does not know, the same item on both sides, or a covariate that is not
/// a finite number. Under [`BadRowPolicy::Skip`] bad rows are skipped and counted in the report;
/// under [`BadRowPolicy::Fatal`] the first one is returned as [`LoadError::BadRow`].
pub fn load_votes_from_reader<R: BufRead>(
    reader: R,
    path: &Path,
    format: VoteFormat,
    config: &LoadConfig,
) -> Result<(VoteSet, LoadReport), LoadError> {
    let mut loader = Loader {
        path: path.to_owned(),
        config,
        set: VoteSet {
            covariate_names: config.layout.covariates.clone(),
            ..VoteSet::default()
        },
        report: LoadReport::default(),
    };
    match format {
        VoteFormat::Csv => loader.read_delimited(reader, b',')?,
        VoteFormat::Tsv => loader.read_delimited(reader, b'\t')?,
        VoteFormat::Jsonl => loader.read_jsonl(reader)?,
        VoteFormat::Parquet => {
            return Err(LoadError::Parquet {
                path: path.to_owned(),
                message: "Parquet needs a seekable file: use `load_votes`".into(),
            })
        }
    }
    if loader.set.votes.is_empty() {
        return Err(LoadError::Empty {
            path: path.to_owned(),
            n_bad: loader.report.n_skipped(),
        });
    }
    loader.report.n_votes = loader.set.votes.len() as u64;
    Ok((loader.set, loader.report))
}

/// Field access over one row, whatever the format.
trait Row {
    /// The field's text, or `None` if the field is absent.
    fn get(&self, field: &str) -> Option<std::borrow::Cow<'_, str>>;
}

struct CsvRow<'a> {
    record: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
}

impl Row for CsvRow<'_> {
    fn get(&self, field: &str) -> Option<std::borrow::Cow<'_, str>> {
        let idx = *self.columns.get(field)?;
        self.record.get(idx).map(std::borrow::Cow::Borrowed)
    }
}

struct JsonRow<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl Row for JsonRow<'_> {
    fn get(&self, field: &str) -> Option<std::borrow::Cow<'_, str>> {
        use serde_json::Value;
        match self.0.get(field)? {
            Value::Null => None,
            Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
            Value::Bool(b) => Some(std::borrow::Cow::Borrowed(if *b {
                "true"
            } else {
                "false"
            })),
            Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
            // Conversational TRL data holds lists of messages: keep them as compact JSON.
            other => Some(std::borrow::Cow::Owned(other.to_string())),
        }
    }
}

struct Loader<'c> {
    path: PathBuf,
    config: &'c LoadConfig,
    set: VoteSet,
    report: LoadReport,
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(77).collect();
        t.push_str("...");
        t
    }
}

impl Loader<'_> {
    fn required_fields(&self) -> Vec<&str> {
        let l = &self.config.layout;
        let mut fields = vec![l.item_a.as_str(), l.item_b.as_str()];
        fields.extend(l.winner.as_deref());
        fields.extend(l.annotator.as_deref());
        fields.extend(l.prompt.as_deref());
        fields.extend(l.category.as_deref());
        fields.extend(l.covariates.iter().map(String::as_str));
        if let Some((p, a, b)) = &l.texts {
            fields.extend([p.as_str(), a.as_str(), b.as_str()]);
        }
        fields
    }

    fn bad(
        &mut self,
        line: u64,
        field: &str,
        expected: impl Into<String>,
        found: &str,
        kind: DiagnosticKind,
    ) -> Result<(), LoadError> {
        let diagnostic = Diagnostic {
            file: self.path.clone(),
            row: line,
            field: field.to_owned(),
            expected: expected.into(),
            found: truncate(found),
            kind,
        };
        tracing::debug!(%diagnostic, "bad vote row");
        if self.config.policy == BadRowPolicy::Fatal {
            return Err(LoadError::BadRow(diagnostic));
        }
        *self.report.skipped.entry(kind).or_insert(0) += 1;
        if self.report.diagnostics.len() < self.config.max_diagnostics {
            self.report.diagnostics.push(diagnostic);
        }
        Ok(())
    }

    fn read_delimited<R: BufRead>(&mut self, reader: R, delimiter: u8) -> Result<(), LoadError> {
        // Split records on `\n` only: with the default terminator a CRLF file's records would be
        // reported one line early (the `\r` ends the record, the `\n` is skipped as an empty
        // line). Every field we use is trimmed, which removes the trailing `\r`.
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| csv_io_error(&self.path, e))?
            .clone();
        let columns: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_owned(), i))
            .collect();
        for field in self.required_fields() {
            if !columns.contains_key(field) {
                return Err(LoadError::MissingColumn {
                    path: self.path.clone(),
                    column: field.to_owned(),
                    available: headers.iter().collect::<Vec<_>>().join(", "),
                });
            }
        }
        let n_columns = headers.len();
        let mut record = csv::StringRecord::new();
        loop {
            let line = rdr.position().line() + 1;
            match rdr.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map_or(line, |p| p.line());
                    self.report.n_rows += 1;
                    if record.len() != n_columns {
                        let found = format!("{} fields", record.len());
                        self.bad(
                            line,
                            "<row>",
                            format!("{n_columns} fields as in the header"),
                            &found,
                            DiagnosticKind::Unparseable,
                        )?;
                        continue;
                    }
                    let row = CsvRow {
                        record: &record,
                        columns: &columns,
                    };
                    self.add_row(&row, line)?;
                }
                Err(e) => {
                    if let csv::ErrorKind::Io(_) = e.kind() {
                        return Err(csv_io_error(&self.path, e));
                    }
                    self.report.n_rows += 1;
                    let line = e.position().map_or(line, |p| p.line());
                    self.bad(
                        line,
                        "<row>",
                        "a well-formed delimited row in UTF-8",
                        &e.to_string(),
                        DiagnosticKind::Unparseable,
                    )?;
                }
            }
        }
        Ok(())
    }

    fn read_jsonl<R: BufRead>(&mut self, reader: R) -> Result<(), LoadError> {
        for (idx, line) in reader.lines().enumerate() {
            let line_no = idx as u64 + 1;
            let text = line.map_err(|source| LoadError::Io {
                path: self.path.clone(),
                source,
            })?;
            if text.trim().is_empty() {
                continue;
            }
            self.report.n_rows += 1;
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(map)) => self.add_row(&JsonRow(&map), line_no)?,
                Ok(_) => self.bad(
                    line_no,
                    "<row>",
                    "a JSON object",
                    &text,
                    DiagnosticKind::Unparseable,
                )?,
                Err(e) => self.bad(
                    line_no,
                    "<row>",
                    "a JSON object",
                    &format!("{e}: {text}"),
                    DiagnosticKind::Unparseable,
                )?,
            }
        }
        Ok(())
    }

    /// Validates one row and appends it to the set, or records a diagnostic.
    fn add_row(&mut self, row: &dyn Row, line: u64) -> Result<(), LoadError> {
        let layout = &self.config.layout;
        let mut names = [String::new(), String::new()];
        for (slot, field) in [&layout.item_a, &layout.item_b].into_iter().enumerate() {
            match row.get(field) {
                None => {
                    let field = field.clone();
                    return self.bad(
                        line,
                        &field,
                        "an item name",
                        "<absent>",
                        DiagnosticKind::MissingField,
                    );
                }
                Some(v) if v.trim().is_empty() => {
                    let field = field.clone();
                    return self.bad(
                        line,
                        &field,
                        "a non-empty item name",
                        &v,
                        DiagnosticKind::EmptyValue,
                    );
                }
                Some(v) => names[slot] = v.trim().to_owned(),
            }
        }
        let outcome = match &layout.winner {
            None => Outcome::AWins,
            Some(field) => match row.get(field) {
                None => {
                    let (field, expected) = (field.clone(), layout.labels.describe());
                    return self.bad(
                        line,
                        &field,
                        expected,
                        "<absent>",
                        DiagnosticKind::MissingField,
                    );
                }
                Some(label) => match layout.labels.parse(&label) {
                    Some(o) => o,
                    None => {
                        let (field, expected) = (field.clone(), layout.labels.describe());
                        return self.bad(
                            line,
                            &field,
                            expected,
                            &label,
                            DiagnosticKind::UnknownOutcome,
                        );
                    }
                },
            },
        };
        if names[0] == names[1] {
            let field = layout.item_b.clone();
            let expected = format!("an item other than `{}` (self-comparison)", layout.item_a);
            return self.bad(
                line,
                &field,
                expected,
                &names[1],
                DiagnosticKind::SelfComparison,
            );
        }
        let mut optional = [None, None, None];
        for (slot, field) in [&layout.annotator, &layout.prompt, &layout.category]
            .into_iter()
            .enumerate()
        {
            if let Some(field) = field {
                match row.get(field) {
                    Some(v) if !v.trim().is_empty() => optional[slot] = Some(v.trim().to_owned()),
                    found => {
                        let field = field.clone();
                        let kind = if found.is_none() {
                            DiagnosticKind::MissingField
                        } else {
                            DiagnosticKind::EmptyValue
                        };
                        return self.bad(
                            line,
                            &field,
                            "a non-empty value",
                            found.as_deref().unwrap_or("<absent>"),
                            kind,
                        );
                    }
                }
            }
        }
        let mut covariates = Vec::with_capacity(layout.covariates.len());
        for field in &layout.covariates {
            let text = row.get(field);
            let value = text.as_deref().and_then(parse_number);
            match value {
                Some(x) => covariates.push(x),
                None => {
                    let field = field.clone();
                    let found = text.as_deref().unwrap_or("<absent>").to_owned();
                    return self.bad(
                        line,
                        &field,
                        "a finite number (or true/false)",
                        &found,
                        DiagnosticKind::BadNumber,
                    );
                }
            }
        }
        let texts = match &layout.texts {
            None => None,
            Some((p, a, b)) => {
                let mut out = [String::new(), String::new(), String::new()];
                for (slot, field) in [p, a, b].into_iter().enumerate() {
                    match row.get(field) {
                        Some(v) => out[slot] = v.trim_end_matches('\r').to_owned(),
                        None => {
                            let field = field.clone();
                            return self.bad(
                                line,
                                &field,
                                "a text",
                                "<absent>",
                                DiagnosticKind::MissingField,
                            );
                        }
                    }
                }
                let [prompt, response_a, response_b] = out;
                Some(VoteTexts {
                    prompt,
                    response_a,
                    response_b,
                })
            }
        };
        let set = &mut self.set;
        let a = set.items.intern(&names[0]);
        let b = set.items.intern(&names[1]);
        let [annotator, prompt, category] = optional;
        set.votes.push(Vote {
            a,
            b,
            outcome,
            annotator: annotator.map(|s| set.annotators.intern(&s)),
            prompt: prompt.map(|s| set.prompts.intern(&s)),
            category: category.map(|s| set.categories.intern(&s)),
            line,
        });
        set.covariates.extend(covariates);
        if let Some(t) = texts {
            set.texts.push(t);
        }
        Ok(())
    }
}

/// One row of an Arrow record batch.
struct ArrowRow<'a> {
    batch: &'a arrow_array::RecordBatch,
    row: usize,
    columns: &'a HashMap<String, usize>,
}

impl Row for ArrowRow<'_> {
    fn get(&self, field: &str) -> Option<std::borrow::Cow<'_, str>> {
        use arrow_array::cast::AsArray;
        use arrow_array::types::*;
        use arrow_array::Array;
        use arrow_schema::DataType;
        use std::borrow::Cow;
        let array = self.batch.column(*self.columns.get(field)?);
        if array.is_null(self.row) {
            return None;
        }
        let r = self.row;
        Some(match array.data_type() {
            DataType::Utf8 => Cow::Borrowed(array.as_string::<i32>().value(r)),
            DataType::LargeUtf8 => Cow::Borrowed(array.as_string::<i64>().value(r)),
            DataType::Utf8View => Cow::Borrowed(array.as_string_view().value(r)),
            DataType::Boolean => Cow::Borrowed(if array.as_boolean().value(r) {
                "true"
            } else {
                "false"
            }),
            DataType::Int8 => Cow::Owned(array.as_primitive::<Int8Type>().value(r).to_string()),
            DataType::Int16 => Cow::Owned(array.as_primitive::<Int16Type>().value(r).to_string()),
            DataType::Int32 => Cow::Owned(array.as_primitive::<Int32Type>().value(r).to_string()),
            DataType::Int64 => Cow::Owned(array.as_primitive::<Int64Type>().value(r).to_string()),
            DataType::UInt8 => Cow::Owned(array.as_primitive::<UInt8Type>().value(r).to_string()),
            DataType::UInt16 => Cow::Owned(array.as_primitive::<UInt16Type>().value(r).to_string()),
            DataType::UInt32 => Cow::Owned(array.as_primitive::<UInt32Type>().value(r).to_string()),
            DataType::UInt64 => Cow::Owned(array.as_primitive::<UInt64Type>().value(r).to_string()),
            DataType::Float32 => {
                Cow::Owned(array.as_primitive::<Float32Type>().value(r).to_string())
            }
            DataType::Float64 => {
                Cow::Owned(array.as_primitive::<Float64Type>().value(r).to_string())
            }
            // Checked up front in `load_parquet`.
            _ => return None,
        })
    }
}

fn readable_arrow_type(dt: &arrow_schema::DataType) -> bool {
    use arrow_schema::DataType::*;
    matches!(
        dt,
        Utf8 | LargeUtf8
            | Utf8View
            | Boolean
            | Int8
            | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float32
            | Float64
    )
}

/// Loads votes from a Parquet file; the row rules are those of [`load_votes_from_reader`].
fn load_parquet(
    file: File,
    path: &Path,
    config: &LoadConfig,
) -> Result<(VoteSet, LoadReport), LoadError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let parquet_error = |e: &dyn std::fmt::Display| LoadError::Parquet {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(&e))?;
    let schema = builder.schema().clone();
    let columns: HashMap<String, usize> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name().clone(), i))
        .collect();
    let mut loader = Loader {
        path: path.to_owned(),
        config,
        set: VoteSet {
            covariate_names: config.layout.covariates.clone(),
            ..VoteSet::default()
        },
        report: LoadReport::default(),
    };
    for field in loader.required_fields() {
        match columns.get(field) {
            None => {
                return Err(LoadError::MissingColumn {
                    path: path.to_owned(),
                    column: field.to_owned(),
                    available: schema
                        .fields()
                        .iter()
                        .map(|f| f.name().as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
            Some(&i) if !readable_arrow_type(schema.field(i).data_type()) => {
                return Err(LoadError::Parquet {
                    path: path.to_owned(),
                    message: format!(
                        "column `{field}` has type {}; expected a string, integer, float or boolean column",
                        schema.field(i).data_type()
                    ),
                })
            }
            Some(_) => {}
        }
    }
    let reader = builder.build().map_err(|e| parquet_error(&e))?;
    let mut row_no = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(&e))?;
        for r in 0..batch.num_rows() {
            row_no += 1;
            loader.report.n_rows += 1;
            let row = ArrowRow {
                batch: &batch,
                row: r,
                columns: &columns,
            };
            loader.add_row(&row, row_no)?;
        }
    }
    if loader.set.votes.is_empty() {
        return Err(LoadError::Empty {
            path: path.to_owned(),
            n_bad: loader.report.n_skipped(),
        });
    }
    loader.report.n_votes = loader.set.votes.len() as u64;
    Ok((loader.set, loader.report))
}

fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    match t {
        "true" | "True" | "TRUE" => return Some(1.0),
        "false" | "False" | "FALSE" => return Some(0.0),
        _ => {}
    }
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn csv_io_error(path: &Path, e: csv::Error) -> LoadError {
    let source = match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{other:?}")),
    };
    LoadError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(
        text: &str,
        format: VoteFormat,
        preset: Preset,
    ) -> Result<(VoteSet, LoadReport), LoadError> {
        load_votes_from_reader(
            text.as_bytes(),
            Path::new("votes.test"),
            format,
            &LoadConfig::preset(preset),
        )
    }

    #[test]
    fn arena_csv_reads_all_outcomes() {
        let (set, report) = load(
            "id,model_a,model_b,winner\n1,x,y,model_a\n2,x,y,model_b\n3,y,z,tie\n4,z,x,both_bad\n",
            VoteFormat::Csv,
            Preset::Arena,
        )
        .unwrap();
        assert_eq!(set.n_items(), 3);
        let outcomes: Vec<Outcome> = set.votes.iter().map(|v| v.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::AWins,
                Outcome::BWins,
                Outcome::Tie,
                Outcome::BothBad
            ]
        );
        assert_eq!(report.n_rows, 4);
        assert_eq!(report.n_skipped(), 0);
        assert_eq!(set.votes[3].line, 5);
    }

    #[test]
    fn llmfao_jsonl_reads_annotator_and_prompt() {
        let (set, _) = load(
            "{\"left\":\"a\",\"right\":\"b\",\"winner\":\"right\",\"worker\":7,\"prompt\":3}\n\n",
            VoteFormat::Jsonl,
            Preset::Llmfao,
        )
        .unwrap();
        assert_eq!(set.votes[0].outcome, Outcome::BWins);
        assert_eq!(set.annotators.names(), ["7"]);
        assert_eq!(set.prompts.names(), ["3"]);
    }

    #[test]
    fn trl_rows_are_chosen_over_rejected_with_texts() {
        let (set, _) = load(
            "{\"prompt\":\"hi\",\"chosen\":\"hello\",\"rejected\":\"go away\"}\n",
            VoteFormat::Jsonl,
            Preset::Trl,
        )
        .unwrap();
        assert_eq!(set.votes[0].outcome, Outcome::AWins);
        assert_eq!(set.texts[0].response_b, "go away");
    }

    #[test]
    fn self_comparison_is_reported_not_dropped_silently() {
        let (set, report) = load(
            "model_a,model_b,winner\nx,x,tie\nx,y,model_a\n",
            VoteFormat::Csv,
            Preset::Arena,
        )
        .unwrap();
        assert_eq!(set.votes.len(), 1);
        assert_eq!(report.skipped[&DiagnosticKind::SelfComparison], 1);
        expect_test::expect![[r#"votes.test:2: field `model_b`: expected an item other than `model_a` (self-comparison), found "x""#]]
            .assert_eq(&report.diagnostics[0].to_string());
    }

    #[test]
    fn parquet_votes_with_diagnostics() {
        use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("votes.parquet");
        let batch = RecordBatch::try_from_iter([
            (
                "model_a",
                Arc::new(StringArray::from(vec![
                    Some("x"),
                    Some("x"),
                    None,
                    Some("y"),
                ])) as ArrayRef,
            ),
            (
                "model_b",
                Arc::new(StringArray::from(vec!["y", "y", "z", "z"])) as ArrayRef,
            ),
            (
                "winner",
                Arc::new(StringArray::from(vec![
                    Some("model_a"),
                    Some("draw"),
                    Some("tie"),
                    None,
                ])) as ArrayRef,
            ),
            (
                "len",
                Arc::new(Float64Array::from(vec![1.5, 2.0, 0.0, 1.0])) as ArrayRef,
            ),
        ])
        .unwrap();
        let mut writer = parquet::arrow::ArrowWriter::try_new(
            File::create(&path).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let mut config = LoadConfig::preset(Preset::Arena);
        config.layout.covariates = vec!["len".into()];
        let (set, report) = load_votes(&path, &config).unwrap();
        assert_eq!(set.votes.len(), 1);
        assert_eq!(set.covariates, [1.5]);
        let found: Vec<(u64, &str, DiagnosticKind)> = report
            .diagnostics
            .iter()
            .map(|d| (d.row, d.field.as_str(), d.kind))
            .collect();
        assert_eq!(
            found,
            [
                (2, "winner", DiagnosticKind::UnknownOutcome),
                (3, "model_a", DiagnosticKind::MissingField),
                (4, "winner", DiagnosticKind::MissingField),
            ]
        );
    }

    #[test]
    fn crlf_files_report_the_right_line() {
        let (_, report) = load(
            "model_a,model_b,winner\r\nx,y,model_a\r\nx,x,tie\r\ny,x,tie\r\n",
            VoteFormat::Csv,
            Preset::Arena,
        )
        .unwrap();
        assert_eq!(report.diagnostics[0].row, 3);
        assert_eq!(report.n_rows, 3);
    }

    #[test]
    fn fatal_policy_stops_at_first_bad_row() {
        let mut config = LoadConfig::preset(Preset::Arena);
        config.policy = BadRowPolicy::Fatal;
        let err = load_votes_from_reader(
            "model_a,model_b,winner\nx,y,model_a\nx,y,draw\n".as_bytes(),
            Path::new("v.csv"),
            VoteFormat::Csv,
            &config,
        )
        .unwrap_err();
        expect_test::expect![[r#"v.csv:3: field `winner`: expected one of model_a|model_b|tie|both_bad|tie (bothbad), found "draw""#]]
            .assert_eq(&err.to_string());
    }
}
