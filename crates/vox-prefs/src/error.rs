//! Error types: loading diagnostics, parameter errors and fitting errors are kept apart.

use std::fmt;
use std::path::PathBuf;

/// One problem found in one row of a votes file, phrased so that a user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The file the row came from.
    pub file: PathBuf,
    /// 1-based line number in the file (for CSV the header is line 1; for Parquet the 1-based
    /// row number).
    pub row: u64,
    /// The column or JSON field at fault (`"<row>"` when the whole row is unreadable).
    pub field: String,
    /// What was expected there.
    pub expected: String,
    /// What was found (truncated to 80 characters).
    pub found: String,
    /// Which kind of problem this is, for counting.
    pub kind: DiagnosticKind,
}

/// The kinds of row problems the loader distinguishes and counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// The row could not be parsed at all (bad CSV quoting, invalid JSON, wrong field count).
    Unparseable,
    /// A required column or field is absent.
    MissingField,
    /// A required value is empty.
    EmptyValue,
    /// The outcome label is not one the layout knows.
    UnknownOutcome,
    /// Both sides of the comparison name the same item.
    SelfComparison,
    /// A numeric covariate is not a finite number.
    BadNumber,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: field `{}`: expected {}, found {:?}",
            self.file.display(),
            self.row,
            self.field,
            self.expected,
            self.found
        )
    }
}

/// Errors from reading votes.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file's header lacks a column the layout requires.
    #[error("{path}: missing column `{column}` (the header has: {available})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that was looked for.
        column: String,
        /// The columns that are there, comma-separated.
        available: String,
    },
    /// A bad row, under the fatal bad-row policy.
    #[error("{0}")]
    BadRow(Diagnostic),
    /// A Parquet file could not be decoded, or a column has a type we cannot read.
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file format could not be determined from the extension.
    #[error(
        "{path}: unknown votes format (use .csv, .tsv, .jsonl, .ndjson or .parquet, or name the format)"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// Nothing usable was read.
    #[error("{path}: no usable votes ({n_bad} bad rows)")]
    Empty {
        /// The file.
        path: PathBuf,
        /// Rows rejected by diagnostics.
        n_bad: u64,
    },
}

/// Errors in estimator parameters, found before any fitting starts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// A parameter is outside its valid range.
    #[error("parameter `{name}` = {value} is invalid: {expected}")]
    OutOfRange {
        /// Parameter name.
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// Two parameters do not go together.
    #[error("incompatible parameters: {0}")]
    Incompatible(String),
}

/// Errors while fitting a model to data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// No comparisons are left after the tie policy was applied.
    #[error("no comparisons to fit")]
    NoData,
    /// The maximum-likelihood estimate does not exist: some items never lose (or never win) against
    /// the rest. Add an L2 penalty or more votes.
    #[error(
        "the comparison graph is not strongly connected ({n_components} components; e.g. `{example}` \
         is never beaten by, or never beats, the others): the unpenalised MLE does not exist; \
         use an L2 penalty"
    )]
    NotStronglyConnected {
        /// Number of strongly connected components.
        n_components: usize,
        /// One item in a component that cannot be compared.
        example: String,
    },
    /// A named item is not in the data.
    #[error("unknown item `{0}`")]
    UnknownItem(String),
    /// The linear algebra broke down (a Hessian that is not positive definite).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// Invalid parameters.
    #[error(transparent)]
    Param(#[from] ParamError),
}
