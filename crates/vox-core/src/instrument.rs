//! Survey instruments: multiple-choice questions and the surveys that hold them.

use serde::{Deserialize, Serialize};

/// Why a question or survey is malformed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InstrumentError {
    /// A question has an empty id.
    #[error("question at position {position} has an empty id")]
    EmptyId {
        /// Zero-based position in the survey.
        position: usize,
    },
    /// A question has fewer than two options.
    #[error("question {id:?} has {n_options} option(s); at least 2 are needed")]
    TooFewOptions {
        /// Question id.
        id: String,
        /// Options found.
        n_options: usize,
    },
    /// The ordinal values do not line up with the options.
    #[error("question {id:?} has {n_ordinal} ordinal values for {n_options} options")]
    OrdinalMismatch {
        /// Question id.
        id: String,
        /// Ordinal values given.
        n_ordinal: usize,
        /// Options given.
        n_options: usize,
    },
    /// A refusal index points past the options.
    #[error("question {id:?} marks option {index} as a refusal but has {n_options} options")]
    RefusalOutOfRange {
        /// Question id.
        id: String,
        /// The bad index.
        index: usize,
        /// Options given.
        n_options: usize,
    },
    /// Two questions share an id.
    #[error("question id {id:?} appears more than once")]
    DuplicateId {
        /// The repeated id.
        id: String,
    },
}

/// A multiple-choice question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Stable identifier, unique within its survey.
    pub id: String,
    /// The question as asked.
    pub text: String,
    /// Answer options, in the order they are shown.
    pub options: Vec<String>,
    /// Optional ordinal value of each option (same length as `options`), for ordinal metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<Vec<f64>>,
    /// Indices of options that are refusals ("Refused", "Don't know"), excluded from analysis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusal: Vec<usize>,
}

impl Question {
    /// Checks the question's own consistency.
    pub fn validate(&self, position: usize) -> Result<(), InstrumentError> {
        if self.id.trim().is_empty() {
            return Err(InstrumentError::EmptyId { position });
        }
        if self.options.len() < 2 {
            return Err(InstrumentError::TooFewOptions {
                id: self.id.clone(),
                n_options: self.options.len(),
            });
        }
        if let Some(ordinal) = &self.ordinal {
            if ordinal.len() != self.options.len() {
                return Err(InstrumentError::OrdinalMismatch {
                    id: self.id.clone(),
                    n_ordinal: ordinal.len(),
                    n_options: self.options.len(),
                });
            }
        }
        if let Some(&index) = self.refusal.iter().find(|&&i| i >= self.options.len()) {
            return Err(InstrumentError::RefusalOutOfRange {
                id: self.id.clone(),
                index,
                n_options: self.options.len(),
            });
        }
        Ok(())
    }

    /// Indices of the options that are kept for analysis (all but refusals), in order.
    pub fn substantive_options(&self) -> Vec<usize> {
        (0..self.options.len())
            .filter(|i| !self.refusal.contains(i))
            .collect()
    }
}

/// An ordered list of questions with unique ids.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Survey {
    /// The questions, in the order they are asked.
    pub questions: Vec<Question>,
}

impl Survey {
    /// Builds a survey, checking every question and that ids are unique.
    pub fn new(questions: Vec<Question>) -> Result<Self, InstrumentError> {
        let mut seen = std::collections::HashSet::new();
        for (position, question) in questions.iter().enumerate() {
            question.validate(position)?;
            if !seen.insert(question.id.as_str()) {
                return Err(InstrumentError::DuplicateId {
                    id: question.id.clone(),
                });
            }
        }
        Ok(Self { questions })
    }

    /// The question with this id, if any.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, n: usize) -> Question {
        Question {
            id: id.into(),
            text: "?".into(),
            options: (0..n).map(|i| format!("o{i}")).collect(),
            ordinal: None,
            refusal: vec![],
        }
    }

    #[test]
    fn survey_rejects_duplicates_and_short_questions() {
        assert_eq!(
            Survey::new(vec![question("a", 2), question("a", 3)]),
            Err(InstrumentError::DuplicateId { id: "a".into() })
        );
        assert!(matches!(
            Survey::new(vec![question("a", 1)]),
            Err(InstrumentError::TooFewOptions { n_options: 1, .. })
        ));
    }

    #[test]
    fn refusals_are_excluded_from_substantive_options() {
        let mut q = question("a", 4);
        q.refusal = vec![3];
        assert_eq!(q.substantive_options(), vec![0, 1, 2]);
        q.refusal = vec![9];
        assert!(q.validate(0).is_err());
    }
}
