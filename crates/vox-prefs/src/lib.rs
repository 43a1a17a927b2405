//! vox-prefs: preference analytics on pairwise votes — loading with diagnostics, Bradley-Terry
//! (ties half/Davidson/Rao-Kupper/drop, L2, inverse-frequency weights), Elo and evalica's
//! baselines, sandwich and bootstrap intervals, style control, annotators, judges and export.
//!
//! The library never calls a language model and does no terminal I/O; every random entry point
//! takes a seed.
//!
//! ```
//! use vox_prefs::{BradleyTerry, Outcome, RatingScale, VoteSet};
//! let votes = VoteSet::from_triples(&[
//!     ("a", "b", Outcome::AWins),
//!     ("b", "a", Outcome::Tie),
//!     ("b", "a", Outcome::AWins),
//!     ("a", "b", Outcome::AWins),
//! ]);
//! let fit = BradleyTerry::params().fit(&votes).unwrap();
//! assert!(fit.report().converged);
//! let ratings = fit.ratings(&RatingScale::default()).unwrap();
//! assert!(ratings[0] > ratings[1]);
//! ```

#![deny(missing_docs)]
// Numeric kernels index several parallel arrays with the same index; iterator chains would hide
// the mathematics.
#![allow(clippy::needless_range_loop)]

pub mod annotators;
pub mod baselines;
pub mod bt;
pub mod contextual;
pub mod elo;
pub mod error;
pub mod export;
pub mod fit;
pub mod judges;
mod linalg;
pub mod mixture;
pub mod pairs;
pub mod report;
mod sampling;
pub mod scale;
pub mod uncertainty;
pub mod votes;

pub use bt::{BradleyTerry, BradleyTerryParams, BradleyTerryValidParams, Solver, TieModel};
pub use elo::{Elo, EloParams};
pub use error::{Diagnostic, DiagnosticKind, FitError, LoadError, ParamError};
pub use fit::{FitReport, Termination};
pub use pairs::{BothBadPolicy, PairCount, PairTable};
pub use scale::RatingScale;
pub use uncertainty::{arena_ranks, leaderboard, CiMethod, Intervals, LeaderboardRow};
pub use votes::{
    load_votes, load_votes_from_reader, BadRowPolicy, LoadConfig, LoadReport, Outcome, Preset,
    Vote, VoteFormat, VoteLayout, VoteSet,
};
