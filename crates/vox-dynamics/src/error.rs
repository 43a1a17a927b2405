//! Error types of the dynamics engine: parameter, input-file and output problems.

use std::path::PathBuf;

/// Everything that can go wrong in vox-dynamics.
///
/// Problems a user can fix (a bad scenario key, a malformed edge-list row) carry the file, the
/// line and the key so that the message can be acted on directly.
#[derive(Debug, thiserror::Error)]
pub enum DynamicsError {
    /// A model, generator or scheduler parameter is out of range.
    #[error("invalid parameter `{key}`: {reason}")]
    InvalidParameter {
        /// Parameter name, as written in a scenario file (dotted for nested keys).
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A scenario file is malformed or holds an unknown or invalid key.
    #[error("{}:{line}: key `{key}`: {reason}", path.display())]
    Scenario {
        /// Scenario file.
        path: PathBuf,
        /// 1-based line of the offending key (0 when the key is missing altogether).
        line: usize,
        /// Dotted key path, for example `model.epsilon`.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A `--set KEY=VALUE` override could not be applied.
    #[error("--set `{assignment}`: {reason}")]
    Override {
        /// The override as given.
        assignment: String,
        /// What is wrong.
        reason: String,
    },
    /// An edge-list file (CSV or Parquet) is malformed.
    #[error("{}:{line}: column `{column}`: {reason}", path.display())]
    EdgeList {
        /// Edge-list file.
        path: PathBuf,
        /// 1-based line (CSV, header is line 1) or row number (Parquet, first data row is 1).
        line: usize,
        /// Column name (`source`, `target` or `weight`).
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Writing Parquet or JSON output failed.
    #[error("writing {}: {reason}", path.display())]
    Output {
        /// File being written.
        path: PathBuf,
        /// Underlying error, rendered.
        reason: String,
    },
}

/// Result alias used across the crate.
pub type Result<T, E = DynamicsError> = std::result::Result<T, E>;

/// Builds an [`DynamicsError::InvalidParameter`].
pub(crate) fn invalid(key: &str, reason: impl Into<String>) -> DynamicsError {
    DynamicsError::InvalidParameter {
        key: key.to_string(),
        reason: reason.into(),
    }
}
