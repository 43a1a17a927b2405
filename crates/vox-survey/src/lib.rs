//! vox-survey: simulate survey respondents with language-model personas and hold the answers
//! against real human opinion data.
//!
//! The pipeline: [`instruments`] reads surveys and populations from files and [`import`] turns
//! public opinion datasets into surveys plus human reference distributions; the runner asks a
//! language model each persona × question and writes `distributions.jsonl`; [`compare`] scores
//! simulated against human distributions with the [`metrics`], next to honest baselines and a
//! split-half human ceiling; [`html`] renders the result as a self-contained page.
#![deny(missing_docs)]

pub mod compare;
pub mod error;
pub mod import;
pub mod metrics;
pub mod records;

pub use compare::{compare, CompareConfig, CompareError, CompareReport};
pub use error::{Result, SurveyError};
pub use records::{read_distributions, write_distributions, DistributionRecord};
