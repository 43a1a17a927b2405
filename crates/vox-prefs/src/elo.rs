//! Online Elo in file order, with evalica's conventions (K, initial rating, scale 400, base 10).

use crate::fit::FitReport;
use crate::pairs::BothBadPolicy;
use crate::votes::{Outcome, VoteSet};

/// Elo parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct EloParams {
    /// Update step K in rating points. Default 4 (evalica's and FastChat's default).
    pub k: f64,
    /// Initial rating. Default 1000.
    pub initial: f64,
    /// Scale: a difference of `scale` points means odds of `base`. Default 400.
    pub scale: f64,
    /// Odds base. Default 10.
    pub base: f64,
    /// How `both_bad` counts. Default: as a tie.
    pub both_bad: BothBadPolicy,
}

impl Default for EloParams {
    fn default() -> Self {
        EloParams {
            k: 4.0,
            initial: 1000.0,
            scale: 400.0,
            base: 10.0,
            both_bad: BothBadPolicy::Tie,
        }
    }
}

/// Elo ratings after one pass over the votes.
#[derive(Debug, Clone, PartialEq)]
pub struct Elo {
    /// Item names.
    pub items: Vec<String>,
    /// Ratings in points, indexed like `items`.
    pub ratings: Vec<f64>,
    /// Always converged; single pass.
    pub report: FitReport,
}

impl EloParams {
    /// Runs Elo over the votes in file order: `E_a = 1 / (1 + base^((r_b − r_a)/scale))`,
    /// `r_a += K (S_a − E_a)`, `r_b += K (S_b − E_b)`, ties scoring ½ each.
    pub fn fit(&self, votes: &VoteSet) -> Elo {
        let mut ratings = vec![self.initial; votes.n_items()];
        for v in &votes.votes {
            if v.outcome == Outcome::BothBad && self.both_bad == BothBadPolicy::Drop {
                continue;
            }
            let (a, b) = (v.a as usize, v.b as usize);
            let expected_a = 1.0 / (1.0 + self.base.powf((ratings[b] - ratings[a]) / self.scale));
            let expected_b = 1.0 - expected_a;
            let score_a = v.outcome.score_a();
            ratings[a] += self.k * (score_a - expected_a);
            ratings[b] += self.k * ((1.0 - score_a) - expected_b);
        }
        Elo {
            items: votes.items.names().to_vec(),
            ratings,
            report: FitReport::direct(),
        }
    }
}
