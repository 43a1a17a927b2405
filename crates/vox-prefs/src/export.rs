//! Export to TRL preference datasets (`prompt, chosen, rejected`, optionally `margin`), standard
//! or conversational, with a tie policy, de-duplication and prompt-grouped seeded train/test
//! splits.

use std::collections::HashSet;
use std::io::Write;

use crate::votes::{Outcome, VoteSet};

/// TRL's two preference formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrlFormat {
    /// Plain strings. Default.
    #[default]
    Standard,
    /// Lists of `{role, content}` messages (user prompt; assistant answers).
    Conversational,
}

/// What to do with ties (and `both_bad`), which have no chosen response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TiePolicy {
    /// Skip them and count them. Default.
    #[default]
    Drop,
    /// Write both orders (A over B and B over A), each with margin 0: a reward model then learns
    /// nothing from the pair's direction, only that neither answer dominates.
    Both,
    /// Fail on the first tie, naming its line.
    Error,
}

/// Export options.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportConfig {
    /// Tie policy. Default drop.
    pub ties: TiePolicy,
    /// Name of a numeric covariate column giving the strength of A's preference over B (signed:
    /// positive favours A). When set, every row gets TRL's `margin` column, oriented as chosen
    /// over rejected (so a B win with value −2 has margin 2). Ties written under
    /// [`TiePolicy::Both`] get margin 0.
    pub margin: Option<String>,
    /// Output format. Default standard.
    pub format: TrlFormat,
    /// Fraction of prompts (not rows) sent to the test split, in `[0, 1)`. Default 0.
    pub test_fraction: f64,
    /// Seed of the prompt split. Default 0.
    pub seed: u64,
    /// Drop repeated (prompt, chosen, rejected) rows. Default true.
    pub dedupe: bool,
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            ties: TiePolicy::Drop,
            margin: None,
            format: TrlFormat::Standard,
            test_fraction: 0.0,
            seed: 0,
            dedupe: true,
        }
    }
}

/// Counts of what [`export_trl`] wrote and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    /// Rows written to the train split.
    pub n_train: usize,
    /// Rows written to the test split.
    pub n_test: usize,
    /// Ties (and both_bad) dropped under [`TiePolicy::Drop`].
    pub n_ties_dropped: usize,
    /// Ties written in both orders under [`TiePolicy::Both`] (two rows each).
    pub n_ties_both: usize,
    /// Duplicate rows dropped.
    pub n_duplicates: usize,
}

/// Errors of the exporter.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The votes carry no texts (the layout named no prompt/response columns).
    #[error("the votes have no texts: name prompt and response columns (e.g. the trl preset)")]
    NoTexts,
    /// Writing failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    /// A bad option.
    #[error("test_fraction must be in [0, 1), got {0}")]
    BadFraction(f64),
    /// Parquet output failed.
    #[error("parquet output: {0}")]
    Parquet(String),
    /// A tie under [`TiePolicy::Error`].
    #[error("line {line}: the vote is a tie (or both_bad), which has no chosen response; choose a tie policy (drop or both)")]
    Tie {
        /// Line (or row) of the vote in its file.
        line: u64,
    },
    /// The margin column is not among the loaded covariates.
    #[error("margin column {name:?} was not loaded; available numeric columns: {available:?}")]
    UnknownMarginColumn {
        /// The requested column.
        name: String,
        /// The covariate columns that were loaded.
        available: Vec<String>,
    },
}

/// 64-bit FNV-1a of the prompt mixed with the seed, finished with splitmix64: a stable,
/// platform-independent split key in `[0, 1)`.
fn split_hash(prompt: &str, seed: u64) -> f64 {
    let mut h: u64 = 0xcbf29ce484222325 ^ seed.wrapping_mul(0x9e3779b97f4a7c15);
    for b in prompt.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    // FNV's high bits are poorly mixed for short keys that differ in one byte: finish with the
    // splitmix64 mixer before taking them.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d049bb133111eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Writes JSONL rows `{"prompt", "chosen", "rejected"[, "margin"]}` to `train` and `test`, in
/// file order. Ties follow [`ExportConfig::ties`]; a prompt goes wholly to one split, chosen by a
/// seeded hash of its text.
pub fn export_trl(
    votes: &VoteSet,
    config: &ExportConfig,
    train: &mut dyn Write,
    test: &mut dyn Write,
) -> Result<ExportSummary, ExportError> {
    if votes.texts.len() != votes.votes.len() || votes.votes.is_empty() {
        return Err(ExportError::NoTexts);
    }
    if !(0.0..1.0).contains(&config.test_fraction) {
        return Err(ExportError::BadFraction(config.test_fraction));
    }
    let n_cov = votes.covariate_names.len();
    let margin_col = match &config.margin {
        None => None,
        Some(name) => Some(
            votes
                .covariate_names
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| ExportError::UnknownMarginColumn {
                    name: name.clone(),
                    available: votes.covariate_names.clone(),
                })?,
        ),
    };
    let mut seen: HashSet<(String, String, String)> = HashSet::new();
    let mut summary = ExportSummary::default();
    for (k, (v, t)) in votes.votes.iter().zip(&votes.texts).enumerate() {
        let value = margin_col.map(|c| votes.covariates[k * n_cov + c]);
        // (chosen, rejected, margin) rows for this vote.
        let rows: Vec<(&String, &String, Option<f64>)> = match v.outcome {
            Outcome::AWins => vec![(&t.response_a, &t.response_b, value)],
            Outcome::BWins => vec![(&t.response_b, &t.response_a, value.map(|m| -m))],
            Outcome::Tie | Outcome::BothBad => match config.ties {
                TiePolicy::Drop => {
                    summary.n_ties_dropped += 1;
                    continue;
                }
                TiePolicy::Error => return Err(ExportError::Tie { line: v.line }),
                TiePolicy::Both => {
                    summary.n_ties_both += 1;
                    let zero = value.map(|_| 0.0);
                    vec![
                        (&t.response_a, &t.response_b, zero),
                        (&t.response_b, &t.response_a, zero),
                    ]
                }
            },
        };
        let to_test = split_hash(&t.prompt, config.seed) < config.test_fraction;
        for (chosen, rejected, margin) in rows {
            if config.dedupe && !seen.insert((t.prompt.clone(), chosen.clone(), rejected.clone())) {
                summary.n_duplicates += 1;
                continue;
            }
            let mut row = match config.format {
                TrlFormat::Standard => serde_json::json!({
                    "prompt": t.prompt, "chosen": chosen, "rejected": rejected,
                }),
                TrlFormat::Conversational => serde_json::json!({
                    "prompt": [{"role": "user", "content": t.prompt}],
                    "chosen": [{"role": "assistant", "content": chosen}],
                    "rejected": [{"role": "assistant", "content": rejected}],
                }),
            };
            if let Some(m) = margin {
                row["margin"] = serde_json::json!(m);
            }
            let out: &mut dyn Write = if to_test { test } else { train };
            serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            if to_test {
                summary.n_test += 1;
            } else {
                summary.n_train += 1;
            }
        }
    }
    Ok(summary)
}

/// Writes standard-format TRL rows (`prompt`, `chosen`, `rejected` string columns) as Parquet
/// files, with the same tie, de-duplication and prompt-split rules as [`export_trl`]. `test` may
/// be `None` only when `test_fraction` is 0.
pub fn export_trl_parquet(
    votes: &VoteSet,
    config: &ExportConfig,
    train: &std::path::Path,
    test: Option<&std::path::Path>,
) -> Result<ExportSummary, ExportError> {
    if config.format == TrlFormat::Conversational {
        return Err(ExportError::Parquet(
            "conversational rows are written as JSONL only".into(),
        ));
    }
    let (mut train_buf, mut test_buf) = (Vec::new(), Vec::new());
    let summary = export_trl(votes, config, &mut train_buf, &mut test_buf)?;
    let with_margin = config.margin.is_some();
    write_parquet(&train_buf, train, with_margin)?;
    match test {
        Some(path) => write_parquet(&test_buf, path, with_margin)?,
        None if summary.n_test > 0 => {
            return Err(ExportError::Parquet(
                "a test split needs a test path".into(),
            ))
        }
        None => {}
    }
    Ok(summary)
}

/// Converts JSONL rows produced by [`export_trl`] into a Parquet file: string columns `prompt`,
/// `chosen`, `rejected`, plus a float64 `margin` column when the rows carry one.
fn write_parquet(
    jsonl: &[u8],
    path: &std::path::Path,
    with_margin: bool,
) -> Result<(), ExportError> {
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let mut columns: [Vec<String>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut margins: Vec<f64> = Vec::new();
    for line in String::from_utf8_lossy(jsonl).lines() {
        let row: serde_json::Value =
            serde_json::from_str(line).map_err(|e| ExportError::Parquet(e.to_string()))?;
        for (slot, key) in ["prompt", "chosen", "rejected"].iter().enumerate() {
            columns[slot].push(row[key].as_str().unwrap_or_default().to_owned());
        }
        if with_margin {
            margins.push(row["margin"].as_f64().unwrap_or(f64::NAN));
        }
    }
    let [prompt, chosen, rejected] = columns;
    let mut fields: Vec<(&str, ArrayRef)> = vec![
        ("prompt", Arc::new(StringArray::from(prompt))),
        ("chosen", Arc::new(StringArray::from(chosen))),
        ("rejected", Arc::new(StringArray::from(rejected))),
    ];
    if with_margin {
        fields.push(("margin", Arc::new(Float64Array::from(margins))));
    }
    let batch =
        RecordBatch::try_from_iter(fields).map_err(|e| ExportError::Parquet(e.to_string()))?;
    let file = std::fs::File::create(path)?;
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .map_err(|e| ExportError::Parquet(e.to_string()))?;
    writer
        .write(&batch)
        .map_err(|e| ExportError::Parquet(e.to_string()))?;
    writer
        .close()
        .map_err(|e| ExportError::Parquet(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keys_spread_over_short_similar_prompts() {
        let below = (0..1000)
            .filter(|i| split_hash(&format!("p{i}"), 1) < 0.5)
            .count();
        assert!((400..600).contains(&below), "{below}");
    }
    use crate::votes::{load_votes_from_reader, LoadConfig, Preset, VoteFormat};

    #[test]
    fn prompts_never_straddle_the_split() {
        let mut text = String::from("model_a,model_b,winner,prompt,ra,rb\n");
        for p in 0..40 {
            for (w, r) in [
                ("model_a", "x"),
                ("model_b", "y"),
                ("tie", "z"),
                ("model_a", "x"),
            ] {
                text.push_str(&format!("m1,m2,{w},p{p},{r}1,{r}2\n"));
            }
        }
        let mut config = LoadConfig::preset(Preset::Arena);
        config.layout.prompt = Some("prompt".into());
        config.layout.texts = Some(("prompt".into(), "ra".into(), "rb".into()));
        let (votes, _) =
            load_votes_from_reader(text.as_bytes(), "t.csv".as_ref(), VoteFormat::Csv, &config)
                .unwrap();
        let (mut train, mut test) = (Vec::new(), Vec::new());
        let cfg = ExportConfig {
            test_fraction: 0.3,
            seed: 9,
            ..ExportConfig::default()
        };
        let s = export_trl(&votes, &cfg, &mut train, &mut test).unwrap();
        assert_eq!(s.n_ties_dropped, 40);
        assert_eq!(s.n_duplicates, 40);
        assert_eq!(s.n_train + s.n_test, 80);
        assert!(s.n_test > 0 && s.n_train > 0);
        let prompts = |buf: &[u8]| -> HashSet<String> {
            String::from_utf8_lossy(buf)
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["prompt"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert!(prompts(&train).is_disjoint(&prompts(&test)));
        // The same rows as Parquet, read back through the votes loader's TRL preset.
        let dir = tempfile::tempdir().unwrap();
        let (train_pq, test_pq) = (
            dir.path().join("train.parquet"),
            dir.path().join("test.parquet"),
        );
        let s2 = export_trl_parquet(&votes, &cfg, &train_pq, Some(&test_pq)).unwrap();
        assert_eq!(s2, s);
        let (back, _) =
            crate::votes::load_votes(&train_pq, &LoadConfig::preset(Preset::Trl)).unwrap();
        assert_eq!(back.votes.len(), s.n_train);
    }

    #[test]
    fn tie_policies_and_margins() {
        // A wins by 2, B wins with A's strength −3 (so margin 3), a tie.
        let text = "model_a,model_b,winner,prompt,ra,rb,strength\n\
                    m1,m2,model_a,p1,a1,b1,2\n\
                    m1,m2,model_b,p2,a2,b2,-3\n\
                    m1,m2,tie,p3,a3,b3,0.5\n";
        let mut config = LoadConfig::preset(Preset::Arena);
        config.layout.prompt = Some("prompt".into());
        config.layout.texts = Some(("prompt".into(), "ra".into(), "rb".into()));
        config.layout.covariates = vec!["strength".into()];
        let (votes, _) =
            load_votes_from_reader(text.as_bytes(), "t.csv".as_ref(), VoteFormat::Csv, &config)
                .unwrap();
        let rows = |cfg: &ExportConfig| -> Result<Vec<serde_json::Value>, ExportError> {
            let mut train = Vec::new();
            export_trl(&votes, cfg, &mut train, &mut std::io::sink())?;
            Ok(String::from_utf8(train)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect())
        };
        let mut cfg = ExportConfig {
            margin: Some("strength".into()),
            ..ExportConfig::default()
        };
        let dropped = rows(&cfg).unwrap();
        assert_eq!(dropped.len(), 2);
        assert_eq!(dropped[0]["chosen"], "a1");
        assert_eq!(dropped[0]["margin"], 2.0);
        assert_eq!(dropped[1]["chosen"], "b2");
        assert_eq!(dropped[1]["margin"], 3.0);
        cfg.ties = TiePolicy::Both;
        let both = rows(&cfg).unwrap();
        assert_eq!(both.len(), 4);
        assert_eq!(
            (&both[2]["chosen"], &both[2]["margin"]),
            (&"a3".into(), &0.0.into())
        );
        assert_eq!(both[3]["chosen"], "b3");
        cfg.ties = TiePolicy::Error;
        let err = rows(&cfg).unwrap_err().to_string();
        assert!(err.contains("line 4") && err.contains("tie"), "{err}");
        cfg.margin = Some("nope".into());
        cfg.ties = TiePolicy::Drop;
        let err = rows(&cfg).unwrap_err().to_string();
        assert!(
            err.contains("\"nope\"") && err.contains("strength"),
            "{err}"
        );
        // Without a margin the rows have no margin key.
        assert!(rows(&ExportConfig::default()).unwrap()[0]
            .get("margin")
            .is_none());
        // Parquet keeps the margin column.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let cfg = ExportConfig {
            margin: Some("strength".into()),
            ..ExportConfig::default()
        };
        export_trl_parquet(&votes, &cfg, &path, None).unwrap();
        let reader =
            parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&path).unwrap())
                .unwrap();
        use parquet::file::reader::FileReader;
        let schema = reader.metadata().file_metadata().schema_descr();
        let names: Vec<_> = schema
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        assert_eq!(names, ["prompt", "chosen", "rejected", "margin"]);
    }
}
