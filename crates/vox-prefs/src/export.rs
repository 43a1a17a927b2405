//! Export to TRL preference datasets (`prompt, chosen, rejected`), standard or conversational,
//! with a tie policy, de-duplication and prompt-grouped seeded train/test splits.

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

/// Export options.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportConfig {
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
    /// Ties (and both_bad) dropped: TRL pairs need a winner.
    pub n_ties_dropped: usize,
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

/// Writes JSONL rows `{"prompt", "chosen", "rejected"}` to `train` and `test`. Ties are dropped
/// (counted); a prompt goes wholly to one split, chosen by a seeded hash of its text.
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
    let mut seen: HashSet<(String, String, String)> = HashSet::new();
    let mut summary = ExportSummary::default();
    for (v, t) in votes.votes.iter().zip(&votes.texts) {
        let (chosen, rejected) = match v.outcome {
            Outcome::AWins => (&t.response_a, &t.response_b),
            Outcome::BWins => (&t.response_b, &t.response_a),
            Outcome::Tie | Outcome::BothBad => {
                summary.n_ties_dropped += 1;
                continue;
            }
        };
        if config.dedupe && !seen.insert((t.prompt.clone(), chosen.clone(), rejected.clone())) {
            summary.n_duplicates += 1;
            continue;
        }
        let row = match config.format {
            TrlFormat::Standard => serde_json::json!({
                "prompt": t.prompt, "chosen": chosen, "rejected": rejected,
            }),
            TrlFormat::Conversational => serde_json::json!({
                "prompt": [{"role": "user", "content": t.prompt}],
                "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}],
            }),
        };
        let to_test = split_hash(&t.prompt, config.seed) < config.test_fraction;
        let out: &mut dyn Write = if to_test { test } else { train };
        serde_json::to_writer(&mut *out, &row).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        if to_test {
            summary.n_test += 1;
        } else {
            summary.n_train += 1;
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
    write_parquet(&train_buf, train)?;
    match test {
        Some(path) => write_parquet(&test_buf, path)?,
        None if summary.n_test > 0 => {
            return Err(ExportError::Parquet(
                "a test split needs a test path".into(),
            ))
        }
        None => {}
    }
    Ok(summary)
}

/// Converts JSONL rows produced by [`export_trl`] into a Parquet file.
fn write_parquet(jsonl: &[u8], path: &std::path::Path) -> Result<(), ExportError> {
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let mut columns: [Vec<String>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for line in String::from_utf8_lossy(jsonl).lines() {
        let row: serde_json::Value =
            serde_json::from_str(line).map_err(|e| ExportError::Parquet(e.to_string()))?;
        for (slot, key) in ["prompt", "chosen", "rejected"].iter().enumerate() {
            columns[slot].push(row[key].as_str().unwrap_or_default().to_owned());
        }
    }
    let [prompt, chosen, rejected] = columns;
    let batch = RecordBatch::try_from_iter([
        ("prompt", Arc::new(StringArray::from(prompt)) as ArrayRef),
        ("chosen", Arc::new(StringArray::from(chosen)) as ArrayRef),
        (
            "rejected",
            Arc::new(StringArray::from(rejected)) as ArrayRef,
        ),
    ])
    .map_err(|e| ExportError::Parquet(e.to_string()))?;
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
}
