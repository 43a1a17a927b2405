//! Bradley-Terry parameters: the unchecked builder and its validated form.

use crate::error::ParamError;
use crate::pairs::BothBadPolicy;

/// How ties enter the Bradley-Terry likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TieModel {
    /// A tie counts as half a win for each side (arena-rank, FastChat, evalica). Default.
    #[default]
    Half,
    /// Davidson (1970): `P(tie) = ν√(πᵢπⱼ) / (πᵢ + πⱼ + ν√(πᵢπⱼ))`, ν fitted.
    Davidson,
    /// Rao-Kupper (1967): `P(i ≻ j) = πᵢ / (πᵢ + θπⱼ)`, θ ≥ 1 fitted.
    RaoKupper,
    /// Ties are dropped.
    Drop,
}

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// Newton-Raphson with a backtracking line search (quadratic convergence). Default.
    #[default]
    Newton,
    /// Hunter's (2004) minorise-maximise iteration; `Half` or `Drop` ties, no L2 penalty.
    Mm,
}

/// Unchecked Bradley-Terry parameters. Build with [`crate::BradleyTerry::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct BradleyTerryParams {
    pub(crate) ties: TieModel,
    pub(crate) both_bad: BothBadPolicy,
    pub(crate) l2: f64,
    pub(crate) reweight_min_count: Option<f64>,
    pub(crate) solver: Solver,
    pub(crate) tolerance: f64,
    pub(crate) max_iterations: usize,
}

impl Default for BradleyTerryParams {
    fn default() -> Self {
        BradleyTerryParams {
            ties: TieModel::Half,
            both_bad: BothBadPolicy::Tie,
            l2: 0.0,
            reweight_min_count: None,
            solver: Solver::Newton,
            tolerance: 1e-10,
            max_iterations: 100,
        }
    }
}

/// Validated Bradley-Terry parameters; produced by [`BradleyTerryParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct BradleyTerryValidParams(pub(crate) BradleyTerryParams);

impl BradleyTerryValidParams {
    /// The tie model.
    pub fn ties(&self) -> TieModel {
        self.0.ties
    }
    /// How `both_bad` is counted.
    pub fn both_bad(&self) -> BothBadPolicy {
        self.0.both_bad
    }
    /// L2 penalty λ on the natural-log strengths (objective: log-likelihood − λ‖θ‖²).
    pub fn l2(&self) -> f64 {
        self.0.l2
    }
    /// Inverse-frequency reweighting floor, if reweighting.
    pub fn reweight_min_count(&self) -> Option<f64> {
        self.0.reweight_min_count
    }
    /// The solver.
    pub fn solver(&self) -> Solver {
        self.0.solver
    }
    /// Convergence tolerance.
    pub fn tolerance(&self) -> f64 {
        self.0.tolerance
    }
    /// Iteration cap.
    pub fn max_iterations(&self) -> usize {
        self.0.max_iterations
    }
}

impl BradleyTerryParams {
    /// Tie model. Default [`TieModel::Half`].
    pub fn ties(mut self, ties: TieModel) -> Self {
        self.ties = ties;
        self
    }

    /// How Arena's `both_bad` is counted. Default: as a tie.
    pub fn both_bad(mut self, policy: BothBadPolicy) -> Self {
        self.both_bad = policy;
        self
    }

    /// L2 penalty λ ≥ 0 on the natural-log strengths: the fit maximises
    /// `log-likelihood − λ Σθᵢ²` (choix's convention). Default 0.
    pub fn l2(mut self, lambda: f64) -> Self {
        self.l2 = lambda;
        self
    }

    /// Inverse-frequency reweighting: every comparison of the unordered pair `{i, j}` gets weight
    /// `1 / max(n_ij, min_count)` (arena-rank's `reweighted=True`, usually `min_count = 50`).
    /// Default: off.
    pub fn reweight(mut self, min_count: Option<f64>) -> Self {
        self.reweight_min_count = min_count;
        self
    }

    /// Solver. Default Newton.
    pub fn solver(mut self, solver: Solver) -> Self {
        self.solver = solver;
        self
    }

    /// Convergence tolerance: Newton stops when the largest step in any natural-log strength is
    /// below it; MM when the largest change is. Default 1e-10.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Iteration cap. Default 100 (Newton needs well under 20 on real data; give MM thousands).
    pub fn max_iterations(mut self, max_iterations: usize) -> Self {
        self.max_iterations = max_iterations;
        self
    }

    /// Checks the parameters.
    pub fn check(self) -> Result<BradleyTerryValidParams, ParamError> {
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(ParamError::OutOfRange {
                name: "l2",
                value: self.l2.to_string(),
                expected: "a finite number ≥ 0",
            });
        }
        if let Some(m) = self.reweight_min_count {
            if !(m >= 1.0 && m.is_finite()) {
                return Err(ParamError::OutOfRange {
                    name: "reweight_min_count",
                    value: m.to_string(),
                    expected: "a finite number ≥ 1",
                });
            }
        }
        if !(self.tolerance > 0.0 && self.tolerance.is_finite()) {
            return Err(ParamError::OutOfRange {
                name: "tolerance",
                value: self.tolerance.to_string(),
                expected: "a finite number > 0",
            });
        }
        if self.max_iterations == 0 {
            return Err(ParamError::OutOfRange {
                name: "max_iterations",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        if self.solver == Solver::Mm {
            if self.l2 > 0.0 {
                return Err(ParamError::Incompatible(
                    "the MM solver has no L2 penalty; use Newton".into(),
                ));
            }
            if matches!(self.ties, TieModel::Davidson | TieModel::RaoKupper) {
                return Err(ParamError::Incompatible(
                    "the MM solver handles `half` or `drop` ties only; use Newton".into(),
                ));
            }
        }
        Ok(BradleyTerryValidParams(self))
    }
}
