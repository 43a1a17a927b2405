//! Importers of public opinion datasets: each yields a survey plus human reference
//! distributions in the `distributions.jsonl` schema, and diagnostics for what it had to skip
//! or could not match (unknown options are reported, never silently dropped).

pub mod globalopinionqa;
pub mod meister;
pub mod meister_subsets;
pub mod opinionqa;
pub mod pylit;
pub mod rows;

use std::path::Path;

use vox_core::{Question, Survey};

use crate::error::{Result, SurveyError};
use crate::records::DistributionRecord;

/// A survey with its human reference distributions.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The questions, as they would be asked.
    pub survey: Survey,
    /// One human distribution per question × group.
    pub human: Vec<DistributionRecord>,
    /// Everything skipped or not matched, one readable line each.
    pub diagnostics: Vec<String>,
}

impl Imported {
    /// Validates `questions` as a survey (unique ids, enough options, ...); a failure is reported
    /// against `path` and `field`, the source the questions came from.
    pub fn new(
        path: &Path,
        field: &str,
        questions: Vec<Question>,
        human: Vec<DistributionRecord>,
        diagnostics: Vec<String>,
    ) -> Result<Self> {
        let survey = Survey::new(questions)
            .map_err(|e| SurveyError::invalid(path, 0, field, e.to_string()))?;
        Ok(Imported {
            survey,
            human,
            diagnostics,
        })
    }
}
