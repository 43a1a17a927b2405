//! Survey and population files: reading TOML, JSONL and CSV with diagnostics that name file,
//! line and field; populations from demographic tables; populations sampled from marginals.
//!
//! Survey, TOML (`[[question]]` tables) or JSONL (one object per line):
//! `id`, `text`, `options` (strings), optional `ordinal` (one number per option) and optional
//! `refusal` (0-based indices of options excluded from analysis).
//!
//! Population, TOML (`[[persona]]` tables) or JSONL: `id`, optional `weight` (default 1),
//! `attributes` (a table of strings), optional `backstory`. A CSV file is a demographic table:
//! one persona per row, every column an attribute except the optional `id`, `weight` and
//! `backstory`. A TOML file with a `[marginals]` table instead holds independent marginal
//! distributions (`[marginals.party] Democrat = 0.45`), plus `n` and `seed`, and is sampled.

use std::collections::BTreeMap;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use vox_core::{Persona, Population, Question, Survey};

use crate::error::{Result, SurveyError};
use crate::records::{read_jsonl, FieldReader};

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses a TOML document and returns the tables of the array `key` as JSON values with the
/// 1-based line of their `[[key]]` header, plus the whole document.
fn toml_tables(path: &Path, key: &str) -> Result<(Vec<(usize, Value)>, toml::Table)> {
    let text = std::fs::read_to_string(path).map_err(|e| SurveyError::io(path, e))?;
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map_or(0, |s| line_of(&text, s.start));
        SurveyError::invalid(path, line, "-", format!("not valid TOML: {}", e.message()))
    })?;
    let mut tables = Vec::new();
    if let Some(value) = doc.get(key) {
        let toml::Value::Array(items) = value else {
            return Err(SurveyError::invalid(
                path,
                0,
                key,
                format!("must be an array of tables ([[{key}]])"),
            ));
        };
        // `toml::Table` keeps no spans; locate each `[[key]]` header in the text instead.
        let header = format!("[[{key}]]");
        let header_lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with(&header))
            .map(|(i, _)| i + 1)
            .collect();
        for (i, item) in items.iter().enumerate() {
            let json = serde_json::to_value(item)
                .map_err(|e| SurveyError::invalid(path, 0, key, e.to_string()))?;
            tables.push((header_lines.get(i).copied().unwrap_or(0), json));
        }
    }
    Ok((tables, doc))
}

fn question_from(path: &Path, line: usize, value: &Value) -> Result<Question> {
    let fields = FieldReader::parse_object(path, line, value)?;
    let refusal = fields
        .optional_numbers("refusal")?
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if v >= 0.0 && v.fract() == 0.0 {
                Ok(v as usize)
            } else {
                Err(fields.err(&format!("refusal[{i}]"), "must be a 0-based option index"))
            }
        })
        .collect::<Result<Vec<usize>>>()?;
    let question = Question {
        id: fields.string("id")?,
        text: fields.string("text")?,
        options: fields.strings("options")?,
        ordinal: fields.optional_numbers("ordinal")?,
        refusal,
    };
    question.validate(0).map_err(|e| {
        let field = match e {
            vox_core::InstrumentError::OrdinalMismatch { .. } => "ordinal",
            vox_core::InstrumentError::RefusalOutOfRange { .. } => "refusal",
            vox_core::InstrumentError::EmptyId { .. } => "id",
            _ => "options",
        };
        fields.err(field, e.to_string())
    })?;
    Ok(question)
}

/// Reads a survey from a `.toml` or `.jsonl` file.
pub fn load_survey(path: &Path) -> Result<Survey> {
    let records = match extension(path).as_str() {
        "toml" => toml_tables(path, "question")?.0,
        "jsonl" => read_jsonl(path)?,
        _ => {
            return Err(SurveyError::UnknownFormat {
                path: path.into(),
                expected: ".toml or .jsonl",
            })
        }
    };
    if records.is_empty() {
        return Err(SurveyError::invalid(
            path,
            0,
            "question",
            "the survey has no questions",
        ));
    }
    let mut questions = Vec::new();
    let mut lines = BTreeMap::new();
    for (line, value) in &records {
        let question = question_from(path, *line, value)?;
        if let Some(first) = lines.insert(question.id.clone(), *line) {
            return Err(SurveyError::invalid(
                path,
                *line,
                "id",
                format!("{:?} was already used on line {first}", question.id),
            ));
        }
        questions.push(question);
    }
    Survey::new(questions).map_err(|e| SurveyError::invalid(path, 0, "-", e.to_string()))
}

/// Writes a survey as TOML (`[[question]]` tables).
pub fn survey_to_toml(survey: &Survey) -> String {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        question: &'a [Question],
    }
    toml::to_string(&Doc {
        question: &survey.questions,
    })
    .expect("questions serialise to TOML")
}

fn persona_from(path: &Path, line: usize, value: &Value) -> Result<(Persona, f64)> {
    let fields = FieldReader::parse_object(path, line, value)?;
    let id = fields.string("id")?;
    let weight = fields.optional_number("weight")?.unwrap_or(1.0);
    if weight < 0.0 {
        return Err(fields.err("weight", "must not be negative"));
    }
    let mut attributes = BTreeMap::new();
    match value.get("attributes") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, v) in map {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(
                            fields.err(&format!("attributes.{name}"), "must be a string or number")
                        )
                    }
                };
                attributes.insert(name.clone(), text);
            }
        }
        Some(_) => return Err(fields.err("attributes", "must be a table of name = value")),
    }
    let backstory = fields.optional_string("backstory")?;
    Ok((
        Persona {
            id,
            attributes,
            backstory,
        },
        weight,
    ))
}

/// Reads a population from `.toml` (personas or marginals), `.jsonl` or `.csv`.
pub fn load_population(path: &Path) -> Result<Population> {
    let members = match extension(path).as_str() {
        "toml" => {
            let (tables, whole) = toml_tables(path, "persona")?;
            if whole.contains_key("marginals") {
                return marginals_from_toml(path, &whole);
            }
            tables
                .iter()
                .map(|(line, value)| persona_from(path, *line, value))
                .collect::<Result<Vec<_>>>()?
        }
        "jsonl" => read_jsonl(path)?
            .iter()
            .map(|(line, value)| persona_from(path, *line, value))
            .collect::<Result<Vec<_>>>()?,
        "csv" => demographic_table(path)?,
        _ => {
            return Err(SurveyError::UnknownFormat {
                path: path.into(),
                expected: ".toml, .jsonl or .csv",
            })
        }
    };
    if members.is_empty() {
        return Err(SurveyError::invalid(
            path,
            0,
            "persona",
            "the population has no personas",
        ));
    }
    Population::new(members).map_err(|e| SurveyError::invalid(path, 0, "id", e.to_string()))
}

/// A population with one persona per row of a demographic table (CSV with a header).
fn demographic_table(path: &Path) -> Result<Vec<(Persona, f64)>> {
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| SurveyError::io(path, std::io::Error::other(e)))?;
    let headers = reader
        .headers()
        .map_err(|e| SurveyError::invalid(path, 1, "-", format!("malformed CSV header: {e}")))?
        .clone();
    let mut members = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            SurveyError::invalid(path, line, "-", format!("malformed CSV: {e}"))
        })?;
        let line = record.position().map_or(index + 2, |p| p.line() as usize);
        let mut attributes = BTreeMap::new();
        let (mut id, mut weight, mut backstory) = (None, 1.0, None);
        for (name, value) in headers.iter().zip(record.iter()) {
            match name {
                "id" => id = Some(value.to_string()),
                "weight" => {
                    weight = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|w| w.is_finite() && *w >= 0.0)
                        .ok_or_else(|| {
                            SurveyError::invalid(
                                path,
                                line,
                                "weight",
                                format!("{value:?} is not a non-negative number"),
                            )
                        })?
                }
                "backstory" => backstory = (!value.is_empty()).then(|| value.to_string()),
                _ => {
                    attributes.insert(name.to_string(), value.to_string());
                }
            }
        }
        let id = id.unwrap_or_else(|| attributes.values().cloned().collect::<Vec<_>>().join(" / "));
        if id.trim().is_empty() {
            return Err(SurveyError::invalid(
                path,
                line,
                "id",
                "is empty and there are no attributes to name the persona",
            ));
        }
        members.push((
            Persona {
                id,
                attributes,
                backstory,
            },
            weight,
        ));
    }
    Ok(members)
}

/// Independent marginal distributions of attributes, to sample personas from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Marginals {
    /// Attribute → (value, probability weight), in a fixed order.
    pub attributes: BTreeMap<String, Vec<(String, f64)>>,
}

/// Samples `n` personas, each attribute drawn independently from its marginal, with `seed`.
/// Persona ids are `p0000`, `p0001`, …; all weights are 1.
pub fn sample_from_marginals(marginals: &Marginals, n: usize, seed: u64) -> Vec<(Persona, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let mut attributes = BTreeMap::new();
            for (name, values) in &marginals.attributes {
                let total: f64 = values.iter().map(|(_, w)| w).sum();
                let mut draw = rng.random::<f64>() * total;
                let mut chosen = &values[values.len() - 1].0;
                for (value, weight) in values {
                    if draw < *weight {
                        chosen = value;
                        break;
                    }
                    draw -= weight;
                }
                attributes.insert(name.clone(), chosen.clone());
            }
            (
                Persona {
                    id: format!("p{i:04}"),
                    attributes,
                    backstory: None,
                },
                1.0,
            )
        })
        .collect()
}

fn marginals_from_toml(path: &Path, doc: &toml::Table) -> Result<Population> {
    let n = match doc.get("n") {
        Some(toml::Value::Integer(n)) if *n > 0 => *n as usize,
        _ => {
            return Err(SurveyError::invalid(
                path,
                0,
                "n",
                "a marginals file needs `n`, a positive integer",
            ))
        }
    };
    let seed = match doc.get("seed") {
        Some(toml::Value::Integer(s)) if *s >= 0 => *s as u64,
        _ => {
            return Err(SurveyError::invalid(
                path,
                0,
                "seed",
                "a marginals file needs `seed`, a non-negative integer",
            ))
        }
    };
    let Some(toml::Value::Table(table)) = doc.get("marginals") else {
        return Err(SurveyError::invalid(
            path,
            0,
            "marginals",
            "must be a table of attribute tables",
        ));
    };
    let mut marginals = Marginals::default();
    for (name, values) in table {
        let toml::Value::Table(values) = values else {
            return Err(SurveyError::invalid(
                path,
                0,
                format!("marginals.{name}"),
                "must be a table of value = weight",
            ));
        };
        let mut entries = Vec::new();
        for (value, weight) in values {
            let weight = match weight {
                toml::Value::Float(w) => *w,
                toml::Value::Integer(w) => *w as f64,
                _ => {
                    return Err(SurveyError::invalid(
                        path,
                        0,
                        format!("marginals.{name}.{value}"),
                        "must be a number",
                    ))
                }
            };
            if !weight.is_finite() || weight < 0.0 {
                return Err(SurveyError::invalid(
                    path,
                    0,
                    format!("marginals.{name}.{value}"),
                    "must be a non-negative number",
                ));
            }
            entries.push((value.clone(), weight));
        }
        if entries.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
            return Err(SurveyError::invalid(
                path,
                0,
                format!("marginals.{name}"),
                "needs at least one positive weight",
            ));
        }
        marginals.attributes.insert(name.clone(), entries);
    }
    Population::new(sample_from_marginals(&marginals, n, seed))
        .map_err(|e| SurveyError::invalid(path, 0, "-", e.to_string()))
}

/// A population file (JSONL) for `population`.
pub fn population_to_jsonl(population: &Population) -> String {
    let mut out = String::new();
    for (persona, weight) in &population.members {
        let mut value = serde_json::to_value(persona).expect("personas serialise");
        value["weight"] = serde_json::json!(weight);
        out.push_str(&value.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_toml_and_jsonl_surveys() {
        let (_d, path) = write(
            "s.toml",
            "[[question]]\nid = \"q1\"\ntext = \"Agree?\"\noptions = [\"Yes\", \"No\", \"Refused\"]\nordinal = [0, 1, 2]\nrefusal = [2]\n",
        );
        let survey = load_survey(&path).unwrap();
        assert_eq!(survey.questions[0].refusal, vec![2]);
        let (_d, path) = write(
            "s.jsonl",
            "{\"id\":\"q1\",\"text\":\"t\",\"options\":[\"a\",\"b\"]}\n",
        );
        assert_eq!(load_survey(&path).unwrap().questions.len(), 1);
        let again = survey_to_toml(&survey);
        let (_d, path) = write("again.toml", &again);
        assert_eq!(load_survey(&path).unwrap(), survey);
    }

    #[test]
    fn malformed_surveys_name_file_line_and_field() {
        let check = |name: &str, text: &str, expected: &str| {
            let (_d, path) = write(name, text);
            let message = load_survey(&path).unwrap_err().to_string();
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
            assert!(message.contains(name), "{message:?} lacks the file name");
        };
        check(
            "a.toml",
            "[[question]]\nid = \"q1\"\ntext = \"t\"\noptions = [\"a\", \"b\"]\n\n[[question]]\nid = \"q2\"\noptions = [\"a\", \"b\"]\n",
            ":6: field `text`: is missing",
        );
        check(
            "b.toml",
            "[[question]]\nid = \"q1\"\ntext = \"t\"\noptions = [\"a\"]\n",
            ":1: field `options`",
        );
        check(
            "c.toml",
            "[[question]]\nid = \"q1\"\ntext = \"t\"\noptions = [\"a\", \"b\"]\nordinal = [1]\n",
            "field `ordinal`",
        );
        check("d.jsonl", "{\"id\":\"q1\",\"text\":\"t\",\"options\":[\"a\",\"b\"]}\n{\"id\":\"q1\",\"text\":\"t\",\"options\":[\"a\",\"b\"]}\n", ":2: field `id`: \"q1\" was already used on line 1");
        check(
            "e.toml",
            "[[question]\nid=1",
            ":1: field `-`: not valid TOML",
        );
        check(
            "f.jsonl",
            "{\"id\":\"q1\",\"text\":\"t\",\"options\":[\"a\",2]}",
            "field `options[1]`: must be a string",
        );
    }

    #[test]
    fn populations_from_every_format() {
        let (_d, path) = write(
            "p.toml",
            "[[persona]]\nid = \"dem\"\nweight = 2.0\nattributes = { party = \"Democrat\" }\n\n[[persona]]\nid = \"rep\"\n[persona.attributes]\nparty = \"Republican\"\n",
        );
        let population = load_population(&path).unwrap();
        assert_eq!(population.members[0].1, 2.0);
        assert_eq!(population.members[1].0.attributes["party"], "Republican");
        let (_d, path) = write(
            "p.csv",
            "party,sex,weight\nDemocrat,Female,3\nRepublican,Male,1\n",
        );
        let population = load_population(&path).unwrap();
        assert_eq!(population.members[0].0.id, "Democrat / Female");
        assert_eq!(population.members[0].1, 3.0);
        let (_d, path) = write("p.jsonl", &population_to_jsonl(&population));
        assert_eq!(load_population(&path).unwrap(), population);
    }

    #[test]
    fn malformed_populations_name_line_and_field() {
        let (_d, path) = write("p.csv", "party,weight\nDemocrat,2\nRepublican,heavy\n");
        let message = load_population(&path).unwrap_err().to_string();
        assert!(message.contains("p.csv:3: field `weight`"), "{message}");
        let (_d, path) = write("p.jsonl", "{\"id\":\"a\",\"attributes\":{\"age\":[1]}}\n");
        let message = load_population(&path).unwrap_err().to_string();
        assert!(
            message.contains("p.jsonl:1: field `attributes.age`"),
            "{message}"
        );
        let (_d, path) = write("p.toml", "[[persona]]\nweight = 1.0\n");
        let message = load_population(&path).unwrap_err().to_string();
        assert!(
            message.contains("p.toml:1: field `id`: is missing"),
            "{message}"
        );
    }

    #[test]
    fn marginals_are_sampled_with_a_seed() {
        let text = "n = 2000\nseed = 5\n[marginals.party]\nDemocrat = 0.75\nRepublican = 0.25\n";
        let (_d, path) = write("m.toml", text);
        let a = load_population(&path).unwrap();
        let b = load_population(&path).unwrap();
        assert_eq!(a, b);
        let democrats = a
            .members
            .iter()
            .filter(|(p, _)| p.attributes["party"] == "Democrat")
            .count();
        // Binomial(2000, 0.75): sd ≈ 19; 1500 ± 100 is more than 5 sd.
        assert!((democrats as i64 - 1500).abs() < 100, "{democrats}");
    }
}
