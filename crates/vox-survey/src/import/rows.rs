//! Individual-level survey rows (GSS, ANES extracts: one respondent per row) turned into group
//! answer distributions with counts.
//!
//! Each chosen question column becomes a question whose options are the distinct answers. When
//! every answer is a number the options are sorted numerically and their values are the ordinal
//! positions; otherwise they are sorted as text and the question is not ordinal. Rows with an
//! empty answer or group, or an answer listed in `missing` (e.g. `NA`), are skipped and counted
//! in the diagnostics.

use std::collections::BTreeMap;
use std::path::Path;

use vox_core::Question;

use super::Imported;
use crate::error::{Result, SurveyError};
use crate::records::DistributionRecord;

/// What to import from a table of respondents.
#[derive(Debug, Clone, Default)]
pub struct RowsConfig {
    /// Field delimiter (`b','` or `b'\t'`).
    pub delimiter: u8,
    /// Columns holding answers; each becomes a question.
    pub question_columns: Vec<String>,
    /// Column whose value is the respondent's group.
    pub group_column: String,
    /// Answer values treated as missing (besides the empty string).
    pub missing: Vec<String>,
}

/// Header names with surrounding quotes removed (`'popul'` → `popul`).
fn clean(name: &str) -> String {
    name.trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .to_string()
}

/// Opens a CSV/TSV of respondents: the reader and the cleaned header names.
fn open_table(path: &Path, delimiter: u8) -> Result<(csv::Reader<std::fs::File>, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_path(path)
        .map_err(|e| SurveyError::invalid(path, 0, "-", format!("cannot read: {e}")))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| SurveyError::invalid(path, 1, "-", format!("malformed header: {e}")))?
        .iter()
        .map(clean)
        .collect();
    Ok((reader, headers))
}

/// The index of column `name`, or an error naming the columns there are.
fn column_index(path: &Path, headers: &[String], name: &str) -> Result<usize> {
    headers.iter().position(|h| h == name).ok_or_else(|| {
        SurveyError::invalid(
            path,
            1,
            name,
            format!("no such column; the columns are {}", headers.join(", ")),
        )
    })
}

/// Imports a CSV/TSV of individual respondents.
pub fn import_rows(path: &Path, config: &RowsConfig) -> Result<Imported> {
    let (mut reader, headers) = open_table(path, config.delimiter)?;
    let column = |name: &str| column_index(path, &headers, name);
    let group_col = column(&config.group_column)?;
    let question_cols: Vec<(String, usize)> = config
        .question_columns
        .iter()
        .map(|q| column(q).map(|c| (q.clone(), c)))
        .collect::<Result<_>>()?;
    if question_cols.is_empty() {
        return Err(SurveyError::Empty("no question column was given".into()));
    }
    // question → group → answer → count
    let mut counts: Vec<BTreeMap<String, BTreeMap<String, f64>>> =
        vec![BTreeMap::new(); question_cols.len()];
    let mut skipped = vec![0usize; question_cols.len()];
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            SurveyError::invalid(path, line, "-", format!("malformed row: {e}"))
        })?;
        let group = record.get(group_col).unwrap_or("").trim();
        for (i, (_, col)) in question_cols.iter().enumerate() {
            let answer = record.get(*col).unwrap_or("").trim();
            if group.is_empty() || answer.is_empty() || config.missing.iter().any(|m| m == answer) {
                skipped[i] += 1;
                continue;
            }
            *counts[i]
                .entry(group.to_string())
                .or_default()
                .entry(answer.to_string())
                .or_default() += 1.0;
        }
    }
    let mut questions = Vec::new();
    let mut human = Vec::new();
    let mut diagnostics = Vec::new();
    for (i, (name, _)) in question_cols.iter().enumerate() {
        if skipped[i] > 0 {
            diagnostics.push(format!(
                "{}: column {name}: {} row(s) with a missing answer or group skipped",
                path.display(),
                skipped[i]
            ));
        }
        let mut answers: Vec<String> = counts[i].values().flat_map(|m| m.keys().cloned()).collect();
        answers.sort();
        answers.dedup();
        let numeric: Option<Vec<f64>> = answers.iter().map(|a| a.parse::<f64>().ok()).collect();
        let ordinal = numeric.map(|mut values| {
            let mut pairs: Vec<(f64, String)> =
                values.drain(..).zip(answers.iter().cloned()).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            answers = pairs.iter().map(|(_, a)| a.clone()).collect();
            pairs.into_iter().map(|(v, _)| v).collect::<Vec<f64>>()
        });
        if answers.len() < 2 {
            diagnostics.push(format!(
                "{}: column {name} has fewer than 2 distinct answers; skipped",
                path.display()
            ));
            continue;
        }
        questions.push(Question {
            id: name.clone(),
            text: name.clone(),
            options: answers.clone(),
            ordinal: ordinal.clone(),
            refusal: Vec::new(),
        });
        for (group, by_answer) in &counts[i] {
            let values: Vec<f64> = answers
                .iter()
                .map(|a| by_answer.get(a).copied().unwrap_or(0.0))
                .collect();
            let total: f64 = values.iter().sum();
            human.push(DistributionRecord {
                question_id: name.clone(),
                group: format!("{}={group}", config.group_column),
                options: answers.clone(),
                distribution: values.iter().map(|v| v / total).collect(),
                ordinal: ordinal.clone(),
                counts: Some(values),
            });
        }
    }
    Imported::new(path, "-", questions, human, diagnostics)
}

/// Respondents as personas (one per row, attributes from `attribute_columns`) with their actual
/// answers to `config.question_columns`, for individual-level scoring. Persona ids are `r` plus
/// the row's line number. At most `max_respondents` rows are read (all when `None`).
pub fn import_respondents(
    path: &Path,
    config: &RowsConfig,
    attribute_columns: &[String],
    max_respondents: Option<usize>,
) -> Result<(vox_core::Population, Vec<crate::individual::ActualAnswer>)> {
    let (mut reader, headers) = open_table(path, config.delimiter)?;
    let column = |name: &str| column_index(path, &headers, name);
    let attributes: Vec<(String, usize)> = attribute_columns
        .iter()
        .map(|a| column(a).map(|c| (a.clone(), c)))
        .collect::<Result<_>>()?;
    let questions: Vec<(String, usize)> = config
        .question_columns
        .iter()
        .map(|q| column(q).map(|c| (q.clone(), c)))
        .collect::<Result<_>>()?;
    let mut members = Vec::new();
    let mut answers = Vec::new();
    for record in reader.records() {
        if max_respondents.is_some_and(|max| members.len() >= max) {
            break;
        }
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            SurveyError::invalid(path, line, "-", format!("malformed row: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let id = format!("r{line}");
        let persona = vox_core::Persona {
            id: id.clone(),
            attributes: attributes
                .iter()
                .map(|(name, col)| {
                    (
                        name.clone(),
                        record.get(*col).unwrap_or("").trim().to_string(),
                    )
                })
                .collect(),
            backstory: None,
        };
        for (question, col) in &questions {
            let answer = record.get(*col).unwrap_or("").trim();
            if !answer.is_empty() && !config.missing.iter().any(|m| m == answer) {
                answers.push(crate::individual::ActualAnswer {
                    persona_id: id.clone(),
                    question_id: question.clone(),
                    answer: answer.to_string(),
                });
            }
        }
        members.push((persona, 1.0));
    }
    let population = vox_core::Population::new(members)
        .map_err(|e| SurveyError::invalid(path, 0, "-", e.to_string()))?;
    Ok((population, answers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_answers_per_group_with_numeric_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anes.tsv");
        std::fs::write(&path, "'selfLR'\t'PID'\n7\t6\n10\t6\n2\t0\nNA\t0\n7\t0\n").unwrap();
        let config = RowsConfig {
            delimiter: b'\t',
            question_columns: vec!["selfLR".into()],
            group_column: "PID".into(),
            missing: vec!["NA".into()],
        };
        let imported = import_rows(&path, &config).unwrap();
        let q = &imported.survey.questions[0];
        // Numeric order, not text order ("10" < "2" as text).
        assert_eq!(q.options, vec!["2", "7", "10"]);
        assert_eq!(q.ordinal, Some(vec![2.0, 7.0, 10.0]));
        assert_eq!(imported.human[0].group, "PID=0");
        assert_eq!(imported.human[0].counts, Some(vec![1.0, 1.0, 0.0]));
        assert_eq!(imported.human[1].counts, Some(vec![0.0, 1.0, 1.0]));
        assert!(imported.diagnostics[0].contains("1 row(s)"));
        let (population, answers) =
            import_respondents(&path, &config, &["PID".to_string()], Some(4)).unwrap();
        assert_eq!(population.len(), 4);
        assert_eq!(population.members[0].0.attributes["PID"], "6");
        // Row 5 ("NA") has no answer; rows after the 4th are not read.
        assert_eq!(answers.len(), 3);
        assert_eq!(
            (answers[0].persona_id.as_str(), answers[0].answer.as_str()),
            ("r2", "7")
        );
        let bad = RowsConfig {
            group_column: "party".into(),
            ..config
        };
        let message = import_rows(&path, &bad).unwrap_err().to_string();
        assert!(
            message.contains("anes.tsv:1: field `party`: no such column"),
            "{message}"
        );
    }
}
