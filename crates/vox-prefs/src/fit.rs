//! What every iterative fit reports: convergence, iterations and why it stopped.

/// Why an iterative fit stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The largest parameter change fell below the tolerance.
    StepBelowTolerance,
    /// The gradient was already (numerically) zero.
    GradientBelowTolerance,
    /// The iteration cap was reached first.
    MaxIterations,
    /// The line search could not improve the objective (numerical precision reached); counted as
    /// converged only if the gradient is small.
    LineSearchStalled,
    /// A closed-form or single-pass method: nothing to iterate.
    Direct,
}

impl Termination {
    /// A short snake_case name, as used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Termination::StepBelowTolerance => "step_below_tolerance",
            Termination::GradientBelowTolerance => "gradient_below_tolerance",
            Termination::MaxIterations => "max_iterations",
            Termination::LineSearchStalled => "line_search_stalled",
            Termination::Direct => "direct",
        }
    }
}

/// Convergence report of a fit.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FitReport {
    /// Whether the fit reached its tolerance.
    pub converged: bool,
    /// Iterations taken (0 for direct methods).
    pub iterations: usize,
    /// Why it stopped.
    pub termination: Termination,
    /// Final objective: penalised, weighted log-likelihood in nats (NaN where not defined).
    pub objective: f64,
}

impl FitReport {
    /// The report of a single-pass method.
    pub fn direct() -> FitReport {
        FitReport {
            converged: true,
            iterations: 0,
            termination: Termination::Direct,
            objective: f64::NAN,
        }
    }
}
