//! The `distributions.jsonl` schema (one answer distribution per question × group), shared by
//! simulated runs and human reference data, with a reader that names file, line and field.

use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Result, SurveyError};

/// One line of `distributions.jsonl`: the answer distribution of one group on one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionRecord {
    /// The question's id.
    pub question_id: String,
    /// The group label (`"Democrat"`, `"Germany"`, `"all"`, ...).
    pub group: String,
    /// Option texts, in the order of `distribution`.
    pub options: Vec<String>,
    /// Probability of each option; non-negative, summing to 1.
    pub distribution: Vec<f64>,
    /// Ordinal position of each option, when the question is ordinal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<Vec<f64>>,
    /// Respondent counts behind the distribution (human data), used for the split-half ceiling
    /// and count-weighted overall distributions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<Vec<f64>>,
}

/// Helpers that pull typed fields out of a JSON object with diagnostics naming the field.
pub(crate) struct FieldReader<'a> {
    pub path: &'a Path,
    pub line: usize,
    pub object: &'a Map<String, Value>,
}

impl<'a> FieldReader<'a> {
    pub fn parse_object(path: &'a Path, line: usize, value: &'a Value) -> Result<Self> {
        match value.as_object() {
            Some(object) => Ok(Self { path, line, object }),
            None => Err(SurveyError::invalid(
                path,
                line,
                "-",
                "expected a JSON object",
            )),
        }
    }

    pub fn err(&self, field: &str, message: impl Into<String>) -> SurveyError {
        SurveyError::invalid(self.path, self.line, field, message)
    }

    pub fn string(&self, field: &str) -> Result<String> {
        match self.object.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            Some(Value::String(_)) => Err(self.err(field, "must not be empty")),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(self.err(field, "must be a string")),
            None => Err(self.err(field, "is missing")),
        }
    }

    pub fn optional_string(&self, field: &str) -> Result<Option<String>> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(field, "must be a string")),
        }
    }

    pub fn strings(&self, field: &str) -> Result<Vec<String>> {
        let array = match self.object.get(field) {
            Some(Value::Array(a)) => a,
            Some(_) => return Err(self.err(field, "must be an array of strings")),
            None => return Err(self.err(field, "is missing")),
        };
        array
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(self.err(&format!("{field}[{i}]"), "must be a string")),
            })
            .collect()
    }

    pub fn numbers(&self, field: &str) -> Result<Vec<f64>> {
        match self.optional_numbers(field)? {
            Some(v) => Ok(v),
            None => Err(self.err(field, "is missing")),
        }
    }

    pub fn optional_numbers(&self, field: &str) -> Result<Option<Vec<f64>>> {
        let array = match self.object.get(field) {
            Some(Value::Array(a)) => a,
            None | Some(Value::Null) => return Ok(None),
            Some(_) => return Err(self.err(field, "must be an array of numbers")),
        };
        array
            .iter()
            .enumerate()
            .map(|(i, v)| match v.as_f64() {
                Some(x) if x.is_finite() => Ok(x),
                _ => Err(self.err(&format!("{field}[{i}]"), "must be a finite number")),
            })
            .collect::<Result<Vec<f64>>>()
            .map(Some)
    }

    pub fn optional_number(&self, field: &str) -> Result<Option<f64>> {
        match self.object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.err(field, "must be a finite number")),
            },
        }
    }
}

/// Non-empty lines of a JSONL file with their 1-based line numbers, parsed as JSON.
pub(crate) fn read_jsonl(path: &Path) -> Result<Vec<(usize, Value)>> {
    let file = std::fs::File::open(path).map_err(|e| SurveyError::io(path, e))?;
    let mut out = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| SurveyError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line).map_err(|e| {
            SurveyError::invalid(path, index + 1, "-", format!("not valid JSON: {e}"))
        })?;
        out.push((index + 1, value));
    }
    Ok(out)
}

/// Reads and checks a `distributions.jsonl` file. Each record must have matching lengths, a
/// distribution that sums to 1 (within 1e-3; it is renormalised exactly), and no repeated
/// question × group.
pub fn read_distributions(path: &Path) -> Result<Vec<DistributionRecord>> {
    let mut records = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (line, value) in read_jsonl(path)? {
        let fields = FieldReader::parse_object(path, line, &value)?;
        let record = DistributionRecord {
            question_id: fields.string("question_id")?,
            group: fields.string("group")?,
            options: fields.strings("options")?,
            distribution: fields.numbers("distribution")?,
            ordinal: fields.optional_numbers("ordinal")?,
            counts: fields.optional_numbers("counts")?,
        };
        let record = check_record(record, &fields)?;
        if let Some(first) = seen.insert((record.question_id.clone(), record.group.clone()), line) {
            return Err(fields.err(
                "question_id",
                format!(
                    "question {:?} × group {:?} already appeared on line {first}",
                    record.question_id, record.group
                ),
            ));
        }
        records.push(record);
    }
    if records.is_empty() {
        return Err(SurveyError::invalid(
            path,
            0,
            "-",
            "the file holds no distributions",
        ));
    }
    Ok(records)
}

fn check_record(
    mut record: DistributionRecord,
    fields: &FieldReader<'_>,
) -> Result<DistributionRecord> {
    let k = record.options.len();
    if k < 2 {
        return Err(fields.err("options", format!("needs at least 2 options, found {k}")));
    }
    if record.distribution.len() != k {
        return Err(fields.err(
            "distribution",
            format!("has {} values for {k} options", record.distribution.len()),
        ));
    }
    if let Some(i) = record.distribution.iter().position(|p| *p < 0.0) {
        return Err(fields.err(&format!("distribution[{i}]"), "must not be negative"));
    }
    let total: f64 = record.distribution.iter().sum();
    if (total - 1.0).abs() > 1e-3 {
        return Err(fields.err("distribution", format!("sums to {total}, not 1")));
    }
    record.distribution.iter_mut().for_each(|p| *p /= total);
    if let Some(ordinal) = &record.ordinal {
        if ordinal.len() != k {
            return Err(fields.err(
                "ordinal",
                format!("has {} values for {k} options", ordinal.len()),
            ));
        }
    }
    if let Some(counts) = &record.counts {
        if counts.len() != k {
            return Err(fields.err(
                "counts",
                format!("has {} values for {k} options", counts.len()),
            ));
        }
        if let Some(i) = counts.iter().position(|c| *c < 0.0) {
            return Err(fields.err(&format!("counts[{i}]"), "must not be negative"));
        }
    }
    let mut unique = std::collections::HashSet::new();
    if let Some(dup) = record.options.iter().find(|o| !unique.insert(o.as_str())) {
        return Err(fields.err("options", format!("option {dup:?} appears twice")));
    }
    Ok(record)
}

/// Writes records as JSONL, one per line.
pub fn write_distributions(path: &Path, records: &[DistributionRecord]) -> Result<()> {
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| SurveyError::io(path, e))?);
    for record in records {
        let line = serde_json::to_string(record).expect("records serialise");
        writeln!(out, "{line}").map_err(|e| SurveyError::io(path, e))?;
    }
    out.flush().map_err(|e| SurveyError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<DistributionRecord>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        std::fs::write(&path, text).unwrap();
        read_distributions(&path)
    }

    #[test]
    fn reads_a_valid_file() {
        let records = read(
            r#"{"question_id":"q1","group":"A","options":["x","y"],"distribution":[0.25,0.75],"ordinal":[0,1]}

{"question_id":"q1","group":"B","options":["x","y"],"distribution":[0.5,0.5],"counts":[3,3]}"#,
        )
        .unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].counts, Some(vec![3.0, 3.0]));
    }

    #[test]
    fn errors_name_line_and_field() {
        let check = |text: &str, expected: &str| {
            let message = read(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        };
        check(
            r#"{"group":"A","options":["x","y"],"distribution":[0.5,0.5]}"#,
            ":1: field `question_id`: is missing",
        );
        check(
            "\n{\"question_id\":\"q\",\"group\":\"A\",\"options\":[\"x\",\"y\"],\"distribution\":[0.5]}",
            ":2: field `distribution`: has 1 values for 2 options",
        );
        check(
            r#"{"question_id":"q","group":"A","options":["x","y"],"distribution":[0.5,"a"]}"#,
            "field `distribution[1]`: must be a finite number",
        );
        check(
            r#"{"question_id":"q","group":"A","options":["x","y"],"distribution":[0.9,0.9]}"#,
            "sums to 1.8",
        );
        check("{not json", ":1: field `-`: not valid JSON");
        check(
            "{\"question_id\":\"q\",\"group\":\"A\",\"options\":[\"x\",\"y\"],\"distribution\":[0.5,0.5]}\n{\"question_id\":\"q\",\"group\":\"A\",\"options\":[\"x\",\"y\"],\"distribution\":[0.5,0.5]}",
            ":2: field `question_id`: question \"q\" × group \"A\" already appeared on line 1",
        );
    }
}
