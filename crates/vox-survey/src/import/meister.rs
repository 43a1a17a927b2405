//! Meister et al. 2024, "Benchmarking Distributional Alignment of Large Language Models": readers
//! for their human group counts and their stored model outputs, and their total-variation
//! convention, so that a published leaderboard row can be recomputed through vox.
//!
//! Their conventions (established by recomputing every published row; see the data folder's
//! `NOTES.md`), which differ from vox's own importers on purpose:
//! - the human vector of a group is `count / n` over the group's answer keys **in alphabetical
//!   order, including "Refused"**; a group with no respondents is skipped (`FEM2_W29` × Male);
//! - the model vector is the stored `avg_actual_results`, read by option letter `A`, `B`, … and
//!   compared *by position* with the human vector; neither side is renormalised (stated
//!   percentages may sum to anything);
//! - the distance is total variation `½ Σ |p − q|`, and non-finite values are dropped;
//! - "Alignment Mean" is the mean of 1,000 *unseeded* bootstrap resample means, so a correct
//!   recomputation agrees with it only to within Monte-Carlo noise (≈1.7e-4 for 599 items).
//!
//! vox's own OpinionQA importer ([`super::opinionqa`]) reads the same folders but drops
//! refusals and keeps the questionnaire's option order; use it for new simulations.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::{Result, SurveyError};
use crate::metrics;

/// Group counts of one `<ATTR>_data.json`: question key → group → answer → count.
pub type GroupCounts = BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>;

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| SurveyError::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| SurveyError::invalid(path, e.line(), "-", format!("not valid JSON: {e}")))
}

/// Reads an OpinionQA-style `<ATTR>_data.json` of respondent counts.
pub fn read_group_counts(path: &Path) -> Result<GroupCounts> {
    let value = read_json(path)?;
    let questions = value.as_object().ok_or_else(|| {
        SurveyError::invalid(path, 1, "-", "expected an object keyed by question")
    })?;
    let mut out = GroupCounts::new();
    for (key, groups) in questions {
        let groups = groups
            .as_object()
            .ok_or_else(|| SurveyError::invalid(path, 0, key.as_str(), "expected an object"))?;
        let entry = out.entry(key.clone()).or_default();
        for (group, answers) in groups {
            if group == "MC_options" || group == "question_text" {
                continue;
            }
            let answers = answers.as_object().ok_or_else(|| {
                SurveyError::invalid(path, 0, format!("{key}.{group}"), "expected option → count")
            })?;
            let mut counts = BTreeMap::new();
            for (answer, count) in answers {
                let count = count.as_f64().ok_or_else(|| {
                    SurveyError::invalid(
                        path,
                        0,
                        format!("{key}.{group}.{answer}"),
                        "count must be a number",
                    )
                })?;
                counts.insert(answer.clone(), count);
            }
            entry.insert(group.clone(), counts);
        }
    }
    Ok(out)
}

/// Meister et al.'s human vector: counts over the answers in alphabetical order (a `BTreeMap`
/// iterates in byte order, which is what Python's `sorted` does for these keys), divided by the
/// group's total. `None` when the group has no respondents.
pub fn human_vector(counts: &BTreeMap<String, f64>) -> Option<Vec<f64>> {
    let n: f64 = counts.values().sum();
    (n > 0.0).then(|| counts.values().map(|c| c / n).collect())
}

/// A JSON object read as key/value pairs in file order (`serde_json::Map` sorts its keys unless
/// the crate-wide `preserve_order` feature is on, and the per-item order matters here).
struct OrderedObject(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for OrderedObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedObject, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    entries.push((key, value));
                }
                Ok(OrderedObject(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// One stored model output file (`results/opinionqa/<output type>/<model>/<task>/<subset>/
/// <ATTR>/<group>.json`): question key → option letter → value (`avg_actual_results`), in file
/// order.
pub fn read_model_outputs(path: &Path) -> Result<Vec<(String, BTreeMap<String, f64>)>> {
    let text = std::fs::read_to_string(path).map_err(|e| SurveyError::io(path, e))?;
    let items: OrderedObject = serde_json::from_str(&text).map_err(|e| {
        SurveyError::invalid(
            path,
            e.line(),
            "-",
            format!("expected an object keyed by question: {e}"),
        )
    })?;
    let mut out = Vec::new();
    for (key, item) in items.0 {
        let results = item
            .get("avg_actual_results")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                SurveyError::invalid(
                    path,
                    0,
                    format!("{key}.avg_actual_results"),
                    "missing or not an object",
                )
            })?;
        let mut letters = BTreeMap::new();
        for (letter, v) in results {
            // Missing or null values are NaN, so the item's TV is non-finite and dropped, as
            // Meister et al.'s evaluation does.
            letters.insert(letter.clone(), v.as_f64().unwrap_or(f64::NAN));
        }
        out.push((key, letters));
    }
    Ok(out)
}

/// The per-item total variations of one stored output file against one group's counts, in the
/// output file's question order, with Meister et al.'s conventions. Items whose group has no
/// respondents, or whose TV is not finite, are left out (as in their evaluation).
pub fn item_tvs(
    outputs: &[(String, BTreeMap<String, f64>)],
    counts: &GroupCounts,
    group: &str,
) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for (key, letters) in outputs {
        let Some(group_counts) = counts.get(key).and_then(|g| g.get(group)) else {
            continue;
        };
        let Some(human) = human_vector(group_counts) else {
            continue;
        };
        let model: Vec<f64> = (0..human.len())
            .map(|i| {
                let letter = char::from(b'A' + i as u8).to_string();
                letters.get(&letter).copied().unwrap_or(0.0)
            })
            .collect();
        let tv = metrics::total_variation(&model, &human);
        if tv.is_finite() {
            out.push((key.clone(), tv));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_vector_is_alphabetical_and_keeps_refused() {
        let counts: BTreeMap<String, f64> = [
            ("Top priority", 60.0),
            ("Some priority", 239.0),
            ("Refused", 1.0),
            ("No priority", 128.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let v = human_vector(&counts).unwrap();
        // No priority, Refused, Some priority, Top priority over n = 428.
        assert_eq!(
            v,
            vec![128.0 / 428.0, 1.0 / 428.0, 239.0 / 428.0, 60.0 / 428.0]
        );
    }
}
