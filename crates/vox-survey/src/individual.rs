//! Individual-level fidelity (AI-Augmented Surveys): each persona stands for one real
//! respondent, and the model's answer distribution for that persona is held against the answer
//! the respondent actually gave. Pure statistics; no language model, no I/O.
//!
//! Per question: Spearman's ρ between the predicted expected ordinal value and the actual
//! answer's ordinal value (ordinal questions), the AUC of the predicted probability of the first
//! option for "answered the first option" (two-option questions), and the accuracy of the most
//! probable option.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::metrics;

/// A respondent's actual answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActualAnswer {
    /// The persona standing for the respondent.
    pub persona_id: String,
    /// Question id.
    pub question_id: String,
    /// The option the respondent chose (text).
    pub answer: String,
}

/// A model's prediction for one respondent × question.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction<'a> {
    /// Persona id.
    pub persona_id: &'a str,
    /// Question id.
    pub question_id: &'a str,
    /// Option texts.
    pub options: &'a [String],
    /// Predicted distribution over `options`.
    pub distribution: &'a [f64],
    /// Ordinal positions of `options`, when the question is ordinal.
    pub ordinal: Option<&'a [f64]>,
}

/// Individual-level agreement on one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndividualResult {
    /// Question id.
    pub question_id: String,
    /// Respondents with both a prediction and an answer among the options.
    pub n: usize,
    /// Share of respondents whose answer is the model's most probable option.
    pub accuracy: f64,
    /// Spearman ρ of predicted expected position vs actual position (ordinal questions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spearman: Option<f64>,
    /// AUC of P(first option) for choosing the first option (two-option questions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auc: Option<f64>,
}

/// Scores predictions against actual answers, question by question (in question-id order).
/// Answers that are not among the question's options are counted in the returned diagnostics.
pub fn score_individuals(
    predictions: &[Prediction<'_>],
    answers: &[ActualAnswer],
) -> (Vec<IndividualResult>, Vec<String>) {
    let actual: HashMap<(&str, &str), &str> = answers
        .iter()
        .map(|a| {
            (
                (a.persona_id.as_str(), a.question_id.as_str()),
                a.answer.as_str(),
            )
        })
        .collect();
    let mut by_question: BTreeMap<&str, Vec<(&Prediction<'_>, usize)>> = BTreeMap::new();
    let mut diagnostics = Vec::new();
    for prediction in predictions {
        let Some(answer) = actual.get(&(prediction.persona_id, prediction.question_id)) else {
            continue;
        };
        match prediction.options.iter().position(|o| o == answer) {
            Some(index) => by_question
                .entry(prediction.question_id)
                .or_default()
                .push((prediction, index)),
            None => diagnostics.push(format!(
                "persona {:?} question {:?}: actual answer {answer:?} is not an option; not scored",
                prediction.persona_id, prediction.question_id
            )),
        }
    }
    let results = by_question
        .into_iter()
        .map(|(question_id, items)| {
            let n = items.len();
            let correct = items
                .iter()
                .filter(|(p, index)| {
                    let best = (0..p.distribution.len())
                        .max_by(|&a, &b| p.distribution[a].total_cmp(&p.distribution[b]))
                        .unwrap_or(0);
                    best == *index
                })
                .count();
            let spearman = items[0].0.ordinal.and_then(|_| {
                let (predicted, actual): (Vec<f64>, Vec<f64>) = items
                    .iter()
                    .filter_map(|(p, index)| {
                        let ordinal = p.ordinal?;
                        let expected: f64 =
                            p.distribution.iter().zip(ordinal).map(|(q, v)| q * v).sum();
                        Some((expected, ordinal[*index]))
                    })
                    .unzip();
                metrics::spearman(&predicted, &actual)
            });
            let auc = (items[0].0.options.len() == 2).then(|| {
                let scores: Vec<f64> = items.iter().map(|(p, _)| p.distribution[0]).collect();
                let labels: Vec<bool> = items.iter().map(|(_, index)| *index == 0).collect();
                metrics::auc(&scores, &labels)
            });
            IndividualResult {
                question_id: question_id.to_string(),
                n,
                accuracy: correct as f64 / n as f64,
                spearman,
                auc: auc.flatten(),
            }
        })
        .collect();
    (results, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_hand() {
        let options = vec!["Yes".to_string(), "No".to_string()];
        let ordinal = [0.0, 1.0];
        let dists = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]];
        let ids = ["a", "b", "c", "d"];
        let predictions: Vec<Prediction<'_>> = ids
            .iter()
            .zip(&dists)
            .map(|(id, d)| Prediction {
                persona_id: id,
                question_id: "q",
                options: &options,
                distribution: d,
                ordinal: Some(&ordinal),
            })
            .collect();
        // a: Yes, b: No, c: Yes, d: No, e: unknown answer.
        let answer = |p: &str, a: &str| ActualAnswer {
            persona_id: p.into(),
            question_id: "q".into(),
            answer: a.into(),
        };
        let answers = vec![
            answer("a", "Yes"),
            answer("b", "No"),
            answer("c", "Yes"),
            answer("d", "No"),
        ];
        let (results, diagnostics) = score_individuals(&predictions, &answers);
        let r = &results[0];
        assert_eq!(r.n, 4);
        // Argmax: a Yes ✓, b Yes ✗, c No ✗, d No ✓.
        assert_eq!(r.accuracy, 0.5);
        // P(Yes) for positives (a 0.9, c 0.3) vs negatives (b 0.6, d 0.2): wins 0.9>0.6, 0.9>0.2,
        // 0.3>0.2, 0.3<0.6 → 3 of 4.
        assert_eq!(r.auc, Some(0.75));
        assert!(r.spearman.is_some());
        assert!(diagnostics.is_empty());
        let (_, diagnostics) = score_individuals(&predictions, &[answer("a", "Maybe")]);
        assert!(diagnostics[0].contains("\"Maybe\" is not an option"));
    }
}
