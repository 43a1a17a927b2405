//! OpinionQA (Santurkar et al. 2023; Pew American Trends Panel) importer.
//!
//! A wave folder holds `info.csv` (one question per row: `key`, `question`, `references` = the
//! option texts as a Python list, `option_ordinal` = the ordinal value of each non-refusal
//! option) and `<ATTR>_data.json` files with **unweighted** respondent counts per demographic
//! group: `{key: {"MC_options": [...], "question_text": ..., "<group>": {"<option>": count}}}`.
//!
//! Conventions, following OpinionQA's representativeness analysis:
//! - the option texts come from `info.csv`'s `references`; `MC_options` in the JSON files is not
//!   used because it was split on commas upstream ("Yes, it is" became "Yes", "it is");
//! - "Refused" is not a substantive answer: it is left out of the options and of the counts;
//! - the respondent group named "Refused" (people who refused the demographic question) is
//!   skipped;
//! - a count whose key is not one of the options is an *unknown option*: it is kept (appended
//!   to the record's options) and reported in the diagnostics;
//! - the ordinal values are `option_ordinal` when it covers every option, otherwise the question
//!   is treated as non-ordinal (e.g. a trailing "Not sure").

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;
use vox_core::Question;

use super::{pylit, Imported};
use crate::error::{Result, SurveyError};
use crate::records::DistributionRecord;

/// The answer OpinionQA uses for refusals.
pub const REFUSED: &str = "Refused";

/// What to import from one wave.
#[derive(Debug, Clone, Default)]
pub struct OpinionQaConfig {
    /// Demographic files to read, e.g. `["POLPARTY", "POLIDEOLOGY"]` (file `<ATTR>_data.json`).
    pub attributes: Vec<String>,
    /// Keep only these question keys (in this order); all questions with data when empty.
    pub question_ids: Vec<String>,
    /// Keep at most this many questions (after `question_ids`).
    pub limit: Option<usize>,
}

/// One row of `info.csv`.
#[derive(Debug, Clone)]
struct InfoRow {
    text: String,
    options: Vec<String>,
    ordinal: Option<Vec<f64>>,
    note: Option<String>,
}

fn read_info(path: &Path) -> Result<Vec<(String, InfoRow)>> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| csv_error(path, e))?;
    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    let column = |name: &str| -> Result<usize> {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| SurveyError::invalid(path, 1, name, "column is missing from the header"))
    };
    let (key_col, question_col, refs_col) =
        (column("key")?, column("question")?, column("references")?);
    let ordinal_col = headers.iter().position(|h| h == "option_ordinal");
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let key = record.get(key_col).unwrap_or("").to_string();
        if key.is_empty() {
            return Err(SurveyError::invalid(path, line, "key", "is empty"));
        }
        let references = pylit::parse_strings(record.get(refs_col).unwrap_or(""))
            .map_err(|m| SurveyError::invalid(path, line, "references", m))?;
        let options: Vec<String> = references.into_iter().filter(|o| o != REFUSED).collect();
        let ordinal_text = ordinal_col.and_then(|c| record.get(c)).unwrap_or("");
        let (ordinal, note) = if ordinal_text.trim().is_empty() {
            (None, None)
        } else {
            let values = pylit::parse_numbers(ordinal_text)
                .map_err(|m| SurveyError::invalid(path, line, "option_ordinal", m))?;
            if values.len() == options.len() && values.iter().all(|v| v.is_finite()) {
                (Some(values), None)
            } else {
                let note = format!(
                    "{key}: option_ordinal has {} values for {} options; treated as non-ordinal",
                    values.len(),
                    options.len()
                );
                (None, Some(note))
            }
        };
        let text = record.get(question_col).unwrap_or("").to_string();
        rows.push((
            key,
            InfoRow {
                text,
                options,
                ordinal,
                note,
            },
        ));
    }
    Ok(rows)
}

fn csv_error(path: &Path, err: csv::Error) -> SurveyError {
    let line = err.position().map_or(0, |p| p.line() as usize);
    SurveyError::invalid(path, line, "-", format!("malformed CSV: {err}"))
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| SurveyError::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| SurveyError::invalid(path, e.line(), "-", format!("not valid JSON: {e}")))
}

/// Imports one OpinionQA wave (or any folder with the same layout, such as Meister et al.'s
/// `Pew_American_Trends_Panel_disagreement_100`).
pub fn import_opinionqa(wave_dir: &Path, config: &OpinionQaConfig) -> Result<Imported> {
    let info_path = wave_dir.join("info.csv");
    let info = read_info(&info_path)?;
    // Some subsets (Meister et al.'s) list a question twice; the first row is used.
    let mut info_by_key: HashMap<&str, &InfoRow> = HashMap::new();
    let mut diagnostics = Vec::new();
    for (key, row) in &info {
        if info_by_key.insert(key.as_str(), row).is_some() {
            diagnostics.push(format!(
                "{}: question {key} is listed more than once; the first row is used",
                info_path.display()
            ));
        }
    }
    let first_rows: HashMap<&str, &InfoRow> =
        info.iter().rev().map(|(k, r)| (k.as_str(), r)).collect();
    let info_by_key = first_rows;

    // attribute → the parsed JSON of its counts file.
    let mut attribute_data = Vec::new();
    for attribute in &config.attributes {
        let path = wave_dir.join(format!("{attribute}_data.json"));
        let value = read_json(&path)?;
        if !value.is_object() {
            return Err(SurveyError::invalid(
                &path,
                1,
                "-",
                "expected an object keyed by question",
            ));
        }
        attribute_data.push((attribute.clone(), path, value));
    }
    if attribute_data.is_empty() {
        return Err(SurveyError::Empty(
            "no demographic attribute was given (e.g. POLPARTY)".into(),
        ));
    }

    // Questions: those asked for, else every question with data in all attribute files.
    let mut keys: Vec<String> = if config.question_ids.is_empty() {
        // info.csv's order first, then questions that only the counts files have (Meister et
        // al.'s subset lists other questions in its info.csv than in its counts).
        let with_data = |k: &String| attribute_data.iter().all(|(_, _, v)| v.get(k).is_some());
        let mut keys: Vec<String> = info
            .iter()
            .map(|(k, _)| k.clone())
            .filter(with_data)
            .collect();
        if let Some(object) = attribute_data[0].2.as_object() {
            keys.extend(
                object
                    .keys()
                    .filter(|k| !info_by_key.contains_key(k.as_str()))
                    .filter(|k| with_data(k))
                    .cloned(),
            );
        }
        keys
    } else {
        config.question_ids.clone()
    };
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    if let Some(limit) = config.limit {
        keys.truncate(limit);
    }

    // A group label used by two attributes would be ambiguous; prefix it with its attribute.
    let mut group_attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (attribute, _, value) in &attribute_data {
        for key in &keys {
            if let Some(groups) = value.get(key).and_then(Value::as_object) {
                for group in groups.keys().filter(|g| !is_metadata(g) && *g != REFUSED) {
                    let owners = group_attributes.entry(group.clone()).or_default();
                    if !owners.contains(attribute) {
                        owners.push(attribute.clone());
                    }
                }
            }
        }
    }

    let mut questions = Vec::new();
    let mut human = Vec::new();
    for key in &keys {
        let fallback;
        let row = match info_by_key.get(key.as_str()) {
            Some(row) => *row,
            None => match row_from_counts(key, &attribute_data) {
                Some(row) => {
                    diagnostics.push(format!(
                        "{}: question {key} is not in info.csv; its options were taken from the answer counts (ordered as in MC_options) and it has no ordinal values",
                        info_path.display()
                    ));
                    fallback = row;
                    &fallback
                }
                None => {
                    return Err(SurveyError::invalid(
                        &info_path,
                        0,
                        "key",
                        format!("question {key:?} is not in info.csv and has no answer counts"),
                    ))
                }
            },
        };
        if let Some(note) = &row.note {
            diagnostics.push(note.clone());
        }
        questions.push(Question {
            id: key.clone(),
            text: row.text.clone(),
            options: row.options.clone(),
            ordinal: row.ordinal.clone(),
            refusal: Vec::new(),
        });
        for (attribute, path, value) in &attribute_data {
            let Some(groups) = value.get(key).and_then(Value::as_object) else {
                diagnostics.push(format!("{}: no data for question {key}", path.display()));
                continue;
            };
            for (group, counts) in groups {
                if is_metadata(group) || group == REFUSED {
                    continue;
                }
                let Some(counts) = counts.as_object() else {
                    return Err(SurveyError::invalid(
                        path,
                        0,
                        format!("{key}.{group}"),
                        "expected an object of option → count",
                    ));
                };
                let mut options = row.options.clone();
                let mut values = vec![0.0; options.len()];
                for (option, count) in counts {
                    let Some(count) = count.as_f64().filter(|c| c.is_finite() && *c >= 0.0) else {
                        return Err(SurveyError::invalid(
                            path,
                            0,
                            format!("{key}.{group}.{option}"),
                            "count must be a non-negative number",
                        ));
                    };
                    if option == REFUSED {
                        continue;
                    }
                    match options.iter().position(|o| o == option) {
                        Some(i) => values[i] += count,
                        None => {
                            diagnostics.push(format!(
                                "{}: question {key} group {group:?}: unknown option {option:?} ({count} respondents) is not in info.csv's references; kept as an extra option",
                                path.display()
                            ));
                            options.push(option.clone());
                            values.push(count);
                        }
                    }
                }
                let total: f64 = values.iter().sum();
                if total <= 0.0 {
                    diagnostics.push(format!(
                        "{}: question {key} group {group:?} has no substantive answers; skipped",
                        path.display()
                    ));
                    continue;
                }
                let ambiguous = group_attributes.get(group).is_some_and(|a| a.len() > 1);
                let label = if ambiguous {
                    format!("{attribute}:{group}")
                } else {
                    group.clone()
                };
                let ordinal = if options.len() == row.options.len() {
                    row.ordinal.clone()
                } else {
                    None
                };
                human.push(DistributionRecord {
                    question_id: key.clone(),
                    group: label,
                    options,
                    distribution: values.iter().map(|v| v / total).collect(),
                    ordinal,
                    counts: Some(values),
                });
            }
        }
    }
    Imported::new(&info_path, "references", questions, human, diagnostics)
}

/// A question's row built from the counts files when info.csv lacks it: the text is
/// `question_text`, the options are the answers that were given (without "Refused"), ordered by
/// where they occur in the comma-joined `MC_options` (which was split on commas upstream).
fn row_from_counts(
    key: &str,
    attribute_data: &[(String, std::path::PathBuf, Value)],
) -> Option<InfoRow> {
    let mut text = None;
    let mut joined = String::new();
    let mut answers: Vec<String> = Vec::new();
    for (_, _, value) in attribute_data {
        let groups = value.get(key)?.as_object()?;
        if text.is_none() {
            text = groups
                .get("question_text")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(options) = groups.get("MC_options").and_then(Value::as_array) {
                joined = options
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
            }
        }
        for (group, counts) in groups {
            if is_metadata(group) {
                continue;
            }
            for answer in counts.as_object()?.keys() {
                if answer != REFUSED && !answers.contains(answer) {
                    answers.push(answer.clone());
                }
            }
        }
    }
    answers.sort_by_key(|a| joined.find(a.as_str()).unwrap_or(usize::MAX));
    (answers.len() >= 2).then(|| InfoRow {
        text: text.unwrap_or_else(|| key.to_string()),
        options: answers,
        ordinal: None,
        note: None,
    })
}

fn is_metadata(key: &str) -> bool {
    key == "MC_options" || key == "question_text"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_counts_excluding_refusals_and_reports_unknown_options() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("info.csv"),
            "key,question,references,option_ordinal\nQ1_W1,Is it?,\"['Yes, it is', 'No', 'Refused']\",\"[1.0, 2.0]\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("POLPARTY_data.json"),
            r#"{"Q1_W1": {"MC_options": ["Yes", "it is", "No", "Refused"], "question_text": "Is it?",
                "Democrat": {"Yes, it is": 30, "No": 10, "Refused": 5},
                "Republican": {"Yes, it is": 10, "No": 20, "Maybe": 10},
                "Refused": {"No": 3}}}"#,
        )
        .unwrap();
        let config = OpinionQaConfig {
            attributes: vec!["POLPARTY".into()],
            ..Default::default()
        };
        let imported = import_opinionqa(dir.path(), &config).unwrap();
        assert_eq!(
            imported.survey.questions[0].options,
            vec!["Yes, it is", "No"]
        );
        assert_eq!(imported.survey.questions[0].ordinal, Some(vec![1.0, 2.0]));
        assert_eq!(imported.human.len(), 2);
        let democrat = &imported.human[0];
        assert_eq!(democrat.group, "Democrat");
        assert_eq!(democrat.distribution, vec![0.75, 0.25]);
        let republican = &imported.human[1];
        assert_eq!(republican.options, vec!["Yes, it is", "No", "Maybe"]);
        assert_eq!(republican.counts, Some(vec![10.0, 20.0, 10.0]));
        assert!(imported
            .diagnostics
            .iter()
            .any(|d| d.contains("unknown option \"Maybe\"")));
    }

    #[test]
    fn questions_missing_from_info_take_options_from_the_counts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("info.csv"), "key,question,references\n").unwrap();
        std::fs::write(
            dir.path().join("SEX_data.json"),
            r#"{"Q9": {"MC_options": ["Yes", "it is", "No", "Refused"], "question_text": "Is it?",
                "Male": {"No": 1, "Yes, it is": 3, "Refused": 1}}}"#,
        )
        .unwrap();
        let config = OpinionQaConfig {
            attributes: vec!["SEX".into()],
            ..Default::default()
        };
        let imported = import_opinionqa(dir.path(), &config).unwrap();
        assert_eq!(
            imported.survey.questions[0].options,
            vec!["Yes, it is", "No"]
        );
        assert_eq!(imported.human[0].distribution, vec![0.75, 0.25]);
        assert!(imported.diagnostics[0].contains("not in info.csv"));
    }

    #[test]
    fn malformed_info_names_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("info.csv"),
            "key,question,references\nQ1,ok,\"['a', 'b']\"\nQ2,bad,\"['a', 'b'\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("SEX_data.json"), "{}").unwrap();
        let config = OpinionQaConfig {
            attributes: vec!["SEX".into()],
            ..Default::default()
        };
        let message = import_opinionqa(dir.path(), &config)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("info.csv:3: field `references`"),
            "{message}"
        );
    }
}
