//! Meister et al. (2024, "Benchmarking Distributional Alignment") subsets beyond OpinionQA:
//! GlobalValues (100 GlobalOpinionQA questions with per-country distributions) and the NYT
//! book-opinion survey (per-group answer counts). The OpinionQA subset has the same layout as
//! OpinionQA itself and goes through [`super::opinionqa`].
//!
//! - GlobalValues, `Global_Values/data/data.json`: an object from question text to
//!   `{"MC_options": "<Python list literal>", "countries": [...], COUNTRY: [probabilities]}`.
//!   Ids are GlobalOpinionQA's (`goqa_` + sha256 of text and options), so a question gets the
//!   same id here as in the GlobalOpinionQA subsets. Groups are countries.
//! - NYT, `nytimes/<ATTR>_data.json` (ATTR = POLPARTY, SEX): an object from book title to
//!   `{"MC_options": [...], "genre", "summary", GROUP: {option: count}}`. The question is
//!   "How likely are you to read the book "TITLE"? SUMMARY"; ids are `nyt_` + the first 12 hex
//!   digits of the title's sha256; options such as "1: Very unlikely" get their leading number as
//!   the ordinal value. Counts are kept, so the split-half ceiling is available.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use vox_core::Question;

use super::globalopinionqa::question_id;
use super::{pylit, Imported};
use crate::error::{Result, SurveyError};
use crate::records::DistributionRecord;

fn read_object(path: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path).map_err(|e| SurveyError::io(path, e))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| SurveyError::invalid(path, e.line(), "-", format!("not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(SurveyError::invalid(
            path,
            1,
            "-",
            "expected a JSON object keyed by question",
        )),
    }
}

/// Imports Meister et al.'s GlobalValues subset. `limit` keeps the first questions in id order.
pub fn import_global_values(path: &Path, limit: Option<usize>) -> Result<Imported> {
    let map = read_object(path)?;
    let mut diagnostics = Vec::new();
    let mut entries: Vec<(Question, Vec<DistributionRecord>)> = Vec::new();
    for (text, item) in &map {
        let field = |name: &str| format!("{text:.40}….{name}");
        let object = item
            .as_object()
            .ok_or_else(|| SurveyError::invalid(path, 0, field(""), "expected an object"))?;
        let options = match object.get("MC_options") {
            Some(Value::String(literal)) => pylit::parse_strings(literal)
                .map_err(|e| SurveyError::invalid(path, 0, field("MC_options"), e))?,
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    SurveyError::invalid(path, 0, field("MC_options"), "expected strings")
                })?,
            _ => {
                return Err(SurveyError::invalid(
                    path,
                    0,
                    field("MC_options"),
                    "missing",
                ))
            }
        };
        let countries: Vec<String> = object
            .get("countries")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .ok_or_else(|| {
                SurveyError::invalid(path, 0, field("countries"), "missing or not an array")
            })?;
        let id = question_id(text, &options);
        let mut records = Vec::new();
        for country in &countries {
            let probabilities: Vec<f64> = object
                .get(country)
                .and_then(Value::as_array)
                .and_then(|a| a.iter().map(Value::as_f64).collect())
                .ok_or_else(|| {
                    SurveyError::invalid(
                        path,
                        0,
                        field(country),
                        "missing or not an array of numbers",
                    )
                })?;
            if probabilities.len() != options.len() {
                return Err(SurveyError::invalid(
                    path,
                    0,
                    field(country),
                    format!(
                        "has {} values for {} options",
                        probabilities.len(),
                        options.len()
                    ),
                ));
            }
            let total: f64 = probabilities.iter().sum();
            if !total.is_finite()
                || total <= 0.0
                || probabilities.iter().any(|p| !p.is_finite() || *p < 0.0)
            {
                diagnostics.push(format!(
                    "{}: {id} ({country}) has no usable distribution; skipped",
                    path.display()
                ));
                continue;
            }
            records.push(DistributionRecord {
                question_id: id.clone(),
                group: country.clone(),
                options: options.clone(),
                distribution: probabilities.iter().map(|p| p / total).collect(),
                ordinal: None,
                counts: None,
            });
        }
        let question = Question {
            id,
            text: text.clone(),
            options,
            ordinal: None,
            refusal: Vec::new(),
        };
        entries.push((question, records));
    }
    entries.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    entries.truncate(limit.unwrap_or(usize::MAX));
    finish(path, entries, diagnostics)
}

/// Imports Meister et al.'s NYT book-opinion survey from `dir` (the `nytimes` folder), one
/// group per label in each `<ATTR>_data.json` of `attributes`. `limit` keeps the first books in
/// id order.
pub fn import_nytimes(dir: &Path, attributes: &[String], limit: Option<usize>) -> Result<Imported> {
    let mut diagnostics = Vec::new();
    let mut books: BTreeMap<String, (Question, Vec<DistributionRecord>)> = BTreeMap::new();
    for attribute in attributes {
        let path = dir.join(format!("{attribute}_data.json"));
        let map = read_object(&path)?;
        for (title, item) in &map {
            let field = |name: &str| format!("{title}.{name}");
            let object = item
                .as_object()
                .ok_or_else(|| SurveyError::invalid(&path, 0, field(""), "expected an object"))?;
            let mut options: Vec<String> = object
                .get("MC_options")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect())
                .ok_or_else(|| {
                    SurveyError::invalid(
                        &path,
                        0,
                        field("MC_options"),
                        "missing or not an array of strings",
                    )
                })?;
            let summary = object.get("summary").and_then(Value::as_str).unwrap_or("");
            let id = format!(
                "nyt_{}",
                &hex::encode(Sha256::digest(title.as_bytes()))[..12]
            );
            let groups: Vec<(&String, &Map<String, Value>)> = object
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "MC_options" | "genre" | "summary"))
                .filter_map(|(k, v)| v.as_object().map(|o| (k, o)))
                .collect();
            // Answers outside MC_options are reported and kept as extra options.
            for (group, counts) in &groups {
                for option in counts.keys() {
                    if !options.contains(option) {
                        diagnostics.push(format!(
                            "{}: {title} ({group}): answer {option:?} is not among MC_options; kept as an extra option",
                            path.display()
                        ));
                        options.push(option.clone());
                    }
                }
            }
            let entry = books.entry(id.clone()).or_insert_with(|| {
                let ordinal: Option<Vec<f64>> = options
                    .iter()
                    .map(|o| {
                        o.split(':')
                            .next()
                            .and_then(|n| n.trim().parse::<f64>().ok())
                    })
                    .collect();
                let text = format!("How likely are you to read the book \"{title}\"? {summary}")
                    .trim()
                    .to_string();
                (
                    Question {
                        id: id.clone(),
                        text,
                        options: options.clone(),
                        ordinal,
                        refusal: Vec::new(),
                    },
                    Vec::new(),
                )
            });
            if entry.0.options != options {
                diagnostics.push(format!(
                    "{}: {title}: options differ from another attribute file; skipped here",
                    path.display()
                ));
                continue;
            }
            for (group, counts) in groups {
                let values: Vec<f64> = options
                    .iter()
                    .map(|o| counts.get(o).and_then(Value::as_f64).unwrap_or(0.0))
                    .collect();
                let total: f64 = values.iter().sum();
                if !total.is_finite()
                    || total <= 0.0
                    || values.iter().any(|v| !v.is_finite() || *v < 0.0)
                {
                    diagnostics.push(format!(
                        "{}: {title} ({group}) has no respondents; skipped",
                        path.display()
                    ));
                    continue;
                }
                // Each attribute file may repeat every group; keep one copy.
                if let Some(existing) = entry.1.iter().find(|r| &r.group == group) {
                    if existing.counts.as_ref() != Some(&values) {
                        diagnostics.push(format!(
                            "{}: {title} ({group}): counts differ from another attribute file; the first are kept",
                            path.display()
                        ));
                    }
                    continue;
                }
                entry.1.push(DistributionRecord {
                    question_id: id.clone(),
                    group: group.clone(),
                    options: options.clone(),
                    distribution: values.iter().map(|v| v / total).collect(),
                    ordinal: entry.0.ordinal.clone(),
                    counts: Some(values),
                });
            }
        }
    }
    let mut entries: Vec<_> = books.into_values().collect();
    entries.truncate(limit.unwrap_or(usize::MAX));
    finish(dir, entries, diagnostics)
}

fn finish(
    path: &Path,
    entries: Vec<(Question, Vec<DistributionRecord>)>,
    diagnostics: Vec<String>,
) -> Result<Imported> {
    let mut questions = Vec::new();
    let mut human = Vec::new();
    for (question, records) in entries {
        if records.is_empty() {
            continue;
        }
        questions.push(question);
        human.extend(records);
    }
    Imported::new(path, "-", questions, human, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_values_layout_imports_with_goqa_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        std::fs::write(
            &path,
            r#"{"Is trade good?": {"Japan": [0.6, 0.3, 0.1], "Chile": [0.2, 0.2, 0.6],
               "MC_options": "['Good', 'Bad', \"DK/Refused\"]", "countries": ["Japan", "Chile"]}}"#,
        )
        .unwrap();
        let imported = import_global_values(&path, None).unwrap();
        let options = vec!["Good".to_string(), "Bad".into(), "DK/Refused".into()];
        assert_eq!(
            imported.survey.questions[0].id,
            question_id("Is trade good?", &options)
        );
        assert_eq!(imported.human.len(), 2);
        assert_eq!(imported.human[1].group, "Chile");
        assert_eq!(imported.human[1].distribution, vec![0.2, 0.2, 0.6]);
    }

    #[test]
    fn nytimes_layout_keeps_counts_ordinals_and_reports_unknown_answers() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("POLPARTY_data.json"),
            r#"{"A Book": {"MC_options": ["1: Very unlikely", "2: Likely"], "genre": "Fiction", "summary": "S.",
                "Democrat": {"1: Very unlikely": 3, "2: Likely": 1}, "Republican": {"1: Very unlikely": 1, "3: Maybe": 1}}}"#,
        )
        .unwrap();
        std::fs::copy(
            dir.path().join("POLPARTY_data.json"),
            dir.path().join("SEX_data.json"),
        )
        .unwrap();
        let imported =
            import_nytimes(dir.path(), &["POLPARTY".into(), "SEX".into()], None).unwrap();
        assert_eq!(
            imported.human.len(),
            2,
            "groups repeated across attribute files are kept once"
        );
        let question = &imported.survey.questions[0];
        assert_eq!(
            question.text,
            "How likely are you to read the book \"A Book\"? S."
        );
        assert_eq!(question.ordinal, Some(vec![1.0, 2.0, 3.0]));
        assert_eq!(imported.human[0].counts, Some(vec![3.0, 1.0, 0.0]));
        assert_eq!(imported.human[1].distribution, vec![0.5, 0.0, 0.5]);
        assert!(
            imported
                .diagnostics
                .iter()
                .any(|d| d.contains("\"3: Maybe\"")),
            "{:?}",
            imported.diagnostics
        );
    }

    #[test]
    fn malformed_global_values_names_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        std::fs::write(
            &path,
            r#"{"Q?": {"MC_options": "['a', 'b']", "countries": ["X"], "X": [1.0]}}"#,
        )
        .unwrap();
        let err = import_global_values(&path, None).unwrap_err().to_string();
        assert!(
            err.contains("data.json")
                && err.contains("X")
                && err.contains("1 values for 2 options"),
            "{err}"
        );
    }
}
