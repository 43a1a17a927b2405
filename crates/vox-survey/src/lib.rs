//! vox-survey: simulate survey respondents with language-model personas and hold the answers
//! against real human opinion data.
//!
//! The pipeline: [`instruments`] reads surveys and populations from files and [`import`] turns
//! public opinion datasets into surveys plus human reference distributions; [`run`] asks a
//! language model each persona × question (prompt styles from [`template`]) and writes
//! `distributions.jsonl` ([`records`]); [`mod@compare`] scores simulated against human
//! distributions with the [`metrics`], next to honest baselines and a split-half human ceiling;
//! [`individual`] scores respondent-level predictions; [`html`] renders the result as a
//! self-contained page.
#![deny(missing_docs)]

pub mod backstory;
pub mod compare;
pub mod error;
pub mod html;
pub mod import;
pub mod individual;
pub mod instruments;
pub mod metrics;
mod parquet_out;
pub mod records;
pub mod run;
pub mod template;

pub use compare::{compare, CompareConfig, CompareError, CompareReport};
pub use error::{Result, SurveyError};
pub use instruments::{load_population, load_survey};
pub use records::{read_distributions, write_distributions, DistributionRecord};
pub use run::{run_survey, Method, Progress, Provenance, RunConfig, RunManifest};
pub use template::PromptTemplate;
