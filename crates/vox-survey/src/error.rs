//! Errors of the survey crate. Problems a user can fix name the file, the line and the field.

use std::path::PathBuf;

/// Everything that can go wrong reading, running or scoring a survey.
#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A record in an input file is malformed. `line` is 1-based; 0 when the whole file is
    /// affected.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Invalid {
        /// File involved.
        path: PathBuf,
        /// 1-based line of the record (0 when unknown).
        line: usize,
        /// The field at fault (`-` when the record as a whole is bad).
        field: String,
        /// What is wrong and, where possible, how to fix it.
        message: String,
    },
    /// The file's extension does not say which format it is.
    #[error("{path}: unknown file format; use {expected}")]
    UnknownFormat {
        /// File involved.
        path: PathBuf,
        /// The formats that are accepted.
        expected: &'static str,
    },
    /// A language model call failed.
    #[error("language model: {0}")]
    Model(String),
    /// Nothing to compare or run (no shared questions, empty survey, ...).
    #[error("{0}")]
    Empty(String),
    /// A template is malformed or uses an unknown placeholder.
    #[error("template {name}: {message}")]
    Template {
        /// Template name or file.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// Writing a Parquet file failed.
    #[error("{path}: parquet: {message}")]
    Parquet {
        /// File involved.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

impl SurveyError {
    /// A malformed-record error.
    pub fn invalid(
        path: impl Into<PathBuf>,
        line: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        SurveyError::Invalid {
            path: path.into(),
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SurveyError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = SurveyError> = std::result::Result<T, E>;
