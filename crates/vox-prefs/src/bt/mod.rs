//! Bradley-Terry maximum likelihood with explicit tie, weighting and penalty conventions.
//!
//! `BradleyTerry::params().ties(TieModel::Half).fit(&votes)?` aggregates the votes into unique
//! unordered pairs and fits natural-log strengths θ (mean-centred when unpenalised), so that
//! `P(i ≻ j) = σ(θᵢ − θⱼ)` under the `Half`/`Drop` tie models.

mod algorithm;
mod hyperparams;

pub(crate) use algorithm::{
    cell_derivatives, cells, check_identifiable, pair_weights, refit_fixed_hessian, sigmoid, solve,
    Cell, FixedHessian, LogisticBase,
};
pub use hyperparams::{BradleyTerryParams, BradleyTerryValidParams, Solver, TieModel};

use crate::error::FitError;
use crate::fit::FitReport;
use crate::pairs::PairTable;
use crate::scale::RatingScale;
use crate::votes::VoteSet;

/// A fitted Bradley-Terry model. Read-only.
#[derive(Debug, Clone)]
pub struct BradleyTerry {
    pub(crate) params: BradleyTerryValidParams,
    pub(crate) items: Vec<String>,
    pub(crate) table: PairTable,
    pub(crate) weights: Vec<f64>,
    pub(crate) theta: Vec<f64>,
    pub(crate) eta: Option<f64>,
    pub(crate) report: FitReport,
}

impl BradleyTerry {
    /// Default parameters: half-point ties, `both_bad` as a tie, no penalty, no reweighting,
    /// Newton, tolerance 1e-10, at most 100 iterations.
    pub fn params() -> BradleyTerryParams {
        BradleyTerryParams::default()
    }

    /// Item names, indexed like [`BradleyTerry::log_strengths`].
    pub fn items(&self) -> &[String] {
        &self.items
    }

    /// Natural-log strengths θ, one per item (length `n_items`). Unpenalised fits are centred to
    /// mean 0.
    pub fn log_strengths(&self) -> &[f64] {
        &self.theta
    }

    /// Strengths `πᵢ = exp(θᵢ)` normalised to sum 1 (evalica's and choix's presentation).
    pub fn strengths_sum_one(&self) -> Vec<f64> {
        let e: Vec<f64> = self.theta.iter().map(|t| t.exp()).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|x| x / s).collect()
    }

    /// The fitted tie parameter: Davidson's ν or Rao-Kupper's θ (≥ 1); `None` for `Half`/`Drop`.
    pub fn tie_parameter(&self) -> Option<f64> {
        let eta = self.eta?;
        Some(match self.params.ties() {
            TieModel::Davidson => eta.exp(),
            _ => eta.exp().exp(),
        })
    }

    /// Convergence report.
    pub fn report(&self) -> &FitReport {
        &self.report
    }

    /// The validated parameters the model was fitted with.
    pub fn fitted_params(&self) -> &BradleyTerryValidParams {
        &self.params
    }

    /// The aggregated pair table the model was fitted on.
    pub fn pair_table(&self) -> &PairTable {
        &self.table
    }

    /// Comparisons each item took part in (after the `both_bad` policy; before weighting).
    pub fn n_comparisons(&self) -> Vec<f64> {
        self.table.n_per_item()
    }

    /// Ratings on a scale (e.g. 400/base 10/init 1000). Fails if the anchor item is unknown.
    pub fn ratings(&self, scale: &RatingScale) -> Result<Vec<f64>, FitError> {
        scale.ratings(&self.theta, &self.items).ok_or_else(|| {
            FitError::UnknownItem(
                scale
                    .anchor
                    .as_ref()
                    .map(|a| a.0.clone())
                    .unwrap_or_default(),
            )
        })
    }

    /// `P(i ≻ j)`: for `Half`/`Drop` `σ(θᵢ − θⱼ)`; for Davidson and Rao-Kupper the win probability
    /// plus half the tie probability. Row-major `n × n`, diagonal 0.5.
    pub fn win_probability_matrix(&self) -> Vec<f64> {
        let n = self.theta.len();
        let model = self.params.ties();
        let eta = self.eta.unwrap_or(0.0);
        let mut out = vec![0.5; n * n];
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    let d = self.theta[i] - self.theta[j];
                    out[i * n + j] = match model {
                        TieModel::Half | TieModel::Drop => sigmoid(d),
                        _ => {
                            let w = cell_derivatives(model, d, eta, Cell::IWins)[0].exp();
                            let t = cell_derivatives(model, d, eta, Cell::Tie)[0].exp();
                            w + 0.5 * t
                        }
                    };
                }
            }
        }
        out
    }
}

impl BradleyTerryParams {
    /// Checks the parameters and fits votes.
    pub fn fit(&self, votes: &VoteSet) -> Result<BradleyTerry, FitError> {
        self.clone().check()?.fit(votes)
    }
}

impl BradleyTerryValidParams {
    /// Fits votes: aggregates them into a [`PairTable`] and calls [`Self::fit_table`].
    pub fn fit(&self, votes: &VoteSet) -> Result<BradleyTerry, FitError> {
        let table = PairTable::from_votes(votes, self.both_bad());
        self.fit_table(table, votes.items.names().to_vec())
    }

    /// Fits an already aggregated pair table; `items` names the ids `0..table.n_items`.
    pub fn fit_table(
        &self,
        table: PairTable,
        items: Vec<String>,
    ) -> Result<BradleyTerry, FitError> {
        let _span = tracing::debug_span!("bradley_terry_fit", n_items = table.n_items).entered();
        if self.l2() == 0.0 {
            algorithm::check_identifiable(&table, &items, self.ties())?;
        }
        let weights = pair_weights(&table, self.reweight_min_count());
        let solution = solve(self, &table, &weights, None)?;
        if !solution.report.converged {
            tracing::warn!(report = ?solution.report, "Bradley-Terry fit did not converge");
        }
        Ok(BradleyTerry {
            params: self.clone(),
            items,
            table,
            weights,
            theta: solution.theta,
            eta: solution.eta,
            report: solution.report,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::Outcome::{self, *};

    fn wiki_votes() -> VoteSet {
        // Wikipedia "Bradley–Terry model" worked example.
        let mut t: Vec<(&str, &str, Outcome)> = Vec::new();
        for (w, l, n) in [
            ("A", "B", 2),
            ("B", "A", 3),
            ("A", "D", 1),
            ("D", "A", 4),
            ("B", "C", 5),
            ("C", "B", 3),
            ("C", "D", 1),
            ("D", "C", 3),
        ] {
            for _ in 0..n {
                t.push((w, l, AWins));
            }
        }
        VoteSet::from_triples(&t)
    }

    #[test]
    fn newton_and_mm_agree() {
        let votes = wiki_votes();
        let newton = BradleyTerry::params().fit(&votes).unwrap();
        let mm = BradleyTerry::params()
            .solver(Solver::Mm)
            .max_iterations(10_000)
            .tolerance(1e-12)
            .fit(&votes)
            .unwrap();
        assert!(newton.report().converged && mm.report().converged);
        assert!(newton.report().iterations < mm.report().iterations);
        for (a, b) in newton.log_strengths().iter().zip(mm.log_strengths()) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }

    #[test]
    fn unbeaten_item_is_a_fit_error_unless_penalised() {
        let votes =
            VoteSet::from_triples(&[("a", "b", AWins), ("b", "c", AWins), ("c", "b", AWins)]);
        let err = BradleyTerry::params().fit(&votes).unwrap_err();
        assert!(
            matches!(err, FitError::NotStronglyConnected { .. }),
            "{err}"
        );
        let fit = BradleyTerry::params().l2(0.1).fit(&votes).unwrap();
        assert!(fit.report().converged);
        assert!(fit.log_strengths()[0] > fit.log_strengths()[1]);
    }

    #[test]
    fn parameter_errors_come_before_fitting() {
        let err = BradleyTerry::params().l2(-1.0).check().unwrap_err();
        assert!(err.to_string().contains("l2"));
        let err = BradleyTerry::params()
            .solver(Solver::Mm)
            .ties(TieModel::Davidson)
            .check()
            .unwrap_err();
        assert!(err.to_string().contains("MM"));
    }
}
