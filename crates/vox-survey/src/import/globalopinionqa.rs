//! GlobalOpinionQA (Durmus et al. 2023) importer for the subsets in
//! `../shared/data/globalopinionqa_subsets/`: per-country answer distributions (Pew Global
//! Attitudes and World Values Survey questions). No respondent counts are published, so there is
//! no split-half ceiling for this data.
//!
//! Two layouts are read, both JSON arrays of (question, country) items:
//! - GlobalOpinionBench `eval.json`: `{"country", "question", "options", "distribution"}`;
//! - modular-pluralism: `{"question": "Question: …\nOptions: …\nAnswer:", "options",
//!   "attribute" (the country), "gold_distribution"}`.
//!
//! The data has no question ids: a question's id is `goqa_` plus the first 12 hex digits of the
//! sha256 of its text and options, so the same question gets the same id in every file. All
//! options are kept, including "Don't know" and "No answer", as in the GlobalOpinionQA paper.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};
use vox_core::Question;

use super::Imported;
use crate::error::{Result, SurveyError};
use crate::records::DistributionRecord;

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct GlobalOpinionConfig {
    /// Countries to keep. Empty keeps every country.
    pub countries: Vec<String>,
    /// Keep only questions with data for at least this many of the kept countries (0 keeps
    /// all). The public subsets spread each question over few countries.
    pub min_countries: usize,
    /// Keep at most this many questions (in file order of first appearance).
    pub limit: Option<usize>,
}

/// The stable id of a GlobalOpinionQA question.
pub fn question_id(text: &str, options: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(text.as_bytes());
    for option in options {
        hasher.update([0x1f]);
        hasher.update(option.as_bytes());
    }
    format!("goqa_{}", &hex::encode(hasher.finalize())[..12])
}

/// Strips the modular-pluralism prompt wrapper (`Question: … \nOptions: …`) from a question.
fn bare_question(text: &str) -> String {
    let text = text.strip_prefix("Question: ").unwrap_or(text);
    match text.find("\nOptions:") {
        Some(end) => text[..end].trim().to_string(),
        None => text.trim().to_string(),
    }
}

/// An option as text. Scale questions list some options as numbers (`1.0`); whole numbers are
/// written without a fraction (`"1"`).
fn option_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => {
            let x = n.as_f64()?;
            Some(if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                x.to_string()
            })
        }
        _ => None,
    }
}

/// Imports a GlobalOpinionQA subset file.
pub fn import_globalopinionqa(path: &Path, config: &GlobalOpinionConfig) -> Result<Imported> {
    let text = std::fs::read_to_string(path).map_err(|e| SurveyError::io(path, e))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| SurveyError::invalid(path, e.line(), "-", format!("not valid JSON: {e}")))?;
    let Some(items) = value.as_array() else {
        return Err(SurveyError::invalid(
            path,
            1,
            "-",
            "expected a JSON array of items",
        ));
    };
    let mut diagnostics = Vec::new();
    // question id → (question, country → distribution), in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut by_id: BTreeMap<String, (Question, BTreeMap<String, Vec<f64>>)> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        let field = |name: &str| format!("[{index}].{name}");
        let object = item.as_object().ok_or_else(|| {
            SurveyError::invalid(path, 0, format!("[{index}]"), "expected an object")
        })?;
        let country = object
            .get("country")
            .or_else(|| object.get("attribute"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                SurveyError::invalid(path, 0, field("country"), "missing or not a string")
            })?;
        if !config.countries.is_empty() && !config.countries.iter().any(|c| c == country) {
            continue;
        }
        let question_text = object
            .get("question")
            .and_then(Value::as_str)
            .map(bare_question)
            .ok_or_else(|| {
                SurveyError::invalid(path, 0, field("question"), "missing or not a string")
            })?;
        let options: Vec<String> = object
            .get("options")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(option_text).collect())
            .ok_or_else(|| {
                SurveyError::invalid(
                    path,
                    0,
                    field("options"),
                    "missing or not an array of strings",
                )
            })?;
        let distribution: Vec<f64> = object
            .get("distribution")
            .or_else(|| object.get("gold_distribution"))
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_f64).collect())
            .ok_or_else(|| {
                SurveyError::invalid(
                    path,
                    0,
                    field("distribution"),
                    "missing or not an array of numbers",
                )
            })?;
        if distribution.len() != options.len() {
            return Err(SurveyError::invalid(
                path,
                0,
                field("distribution"),
                format!(
                    "has {} values for {} options",
                    distribution.len(),
                    options.len()
                ),
            ));
        }
        let total: f64 = distribution.iter().sum();
        if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
            || distribution.iter().any(|p| !p.is_finite() || *p < 0.0)
        {
            diagnostics.push(format!(
                "{}: item {index} ({country}) has no usable distribution; skipped",
                path.display()
            ));
            continue;
        }
        if options.len() < 2 {
            diagnostics.push(format!(
                "{}: item {index} has fewer than 2 options; skipped",
                path.display()
            ));
            continue;
        }
        let id = question_id(&question_text, &options);
        let entry = by_id.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            let question = Question {
                id: id.clone(),
                text: question_text.clone(),
                options: options.clone(),
                ordinal: None,
                refusal: Vec::new(),
            };
            (question, BTreeMap::new())
        });
        let normalised: Vec<f64> = distribution.iter().map(|p| p / total).collect();
        if entry.1.insert(country.to_string(), normalised).is_some() {
            diagnostics.push(format!("{}: item {index}: question {id} appears twice for {country}; the later item is used", path.display()));
        }
    }
    let mut questions = Vec::new();
    let mut human = Vec::new();
    for id in order {
        let (question, countries) = by_id.remove(&id).expect("ids come from the map");
        if countries.len() < config.min_countries {
            continue;
        }
        if config.limit.is_some_and(|limit| questions.len() >= limit) {
            break;
        }
        // Keep the requested country order when one was given.
        let mut names: Vec<&String> = countries.keys().collect();
        if !config.countries.is_empty() {
            names.sort_by_key(|c| config.countries.iter().position(|x| x == *c));
        }
        for country in names {
            human.push(DistributionRecord {
                question_id: id.clone(),
                group: country.clone(),
                options: question.options.clone(),
                distribution: countries[country].clone(),
                ordinal: None,
                counts: None,
            });
        }
        questions.push(question);
    }
    Imported::new(path, "-", questions, human, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_countries_under_one_question_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eval.json");
        std::fs::write(
            &path,
            r#"[{"country":"Japan","question":"Q?","options":["a","b"],"distribution":[0.2,0.6]},
                {"question":"Question: Q?\nOptions: A. a B. b\nAnswer:","options":["a","b"],"attribute":"Mexico","gold_distribution":[0.5,0.5]},
                {"country":"Japan","question":"Other?","options":["x","y"],"distribution":[1,0]},
                {"country":"Japan","question":"Scale?","options":["Low",1.0,"High"],"distribution":[0.2,0.3,0.5]}]"#,
        )
        .unwrap();
        let config = GlobalOpinionConfig {
            countries: vec!["Mexico".into(), "Japan".into()],
            min_countries: 2,
            limit: None,
        };
        let imported = import_globalopinionqa(&path, &config).unwrap();
        assert_eq!(imported.survey.questions.len(), 1);
        assert_eq!(imported.human.len(), 2);
        assert_eq!(imported.human[0].group, "Mexico");
        assert!((imported.human[1].distribution[1] - 0.75).abs() < 1e-12);
        assert_eq!(
            imported.survey.questions[0].id,
            question_id("Q?", &["a".into(), "b".into()])
        );
    }

    #[test]
    fn malformed_item_names_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eval.json");
        std::fs::write(
            &path,
            r#"[{"country":"Japan","question":"Q?","options":["a","b"],"distribution":[0.2]}]"#,
        )
        .unwrap();
        let message = import_globalopinionqa(&path, &GlobalOpinionConfig::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("field `[0].distribution`: has 1 values for 2 options"),
            "{message}"
        );
    }
}
