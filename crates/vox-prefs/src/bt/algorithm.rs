//! Bradley-Terry maximum likelihood on aggregated pair counts: per-cell derivatives for the
//! half/Davidson/Rao-Kupper/drop tie models, a Newton solver with gauge fixing, and Hunter's MM.

use crate::bt::hyperparams::{BradleyTerryValidParams, Solver, TieModel};
use crate::error::{FitError, ParamError};
use crate::fit::{FitReport, Termination};
use crate::linalg::{exp_taylor, Cholesky};
use crate::pairs::{PairCount, PairTable};

/// One outcome cell of a pair `(i, j)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    IWins,
    JWins,
    Tie,
}

/// `[log p, ∂/∂d, ∂/∂η, ∂²/∂d², ∂²/∂d∂η, ∂²/∂η²]` of one cell's log-probability, where
/// `d = θᵢ − θⱼ` and η is the log tie parameter (unused by `Half`/`Drop`).
pub(crate) fn cell_derivatives(model: TieModel, d: f64, eta: f64, cell: Cell) -> [f64; 6] {
    match model {
        TieModel::Half | TieModel::Drop => {
            let p = sigmoid(d);
            let q = 1.0 - p;
            let v = p * q;
            match cell {
                Cell::IWins => [-softplus(-d), q, 0.0, -v, 0.0, 0.0],
                Cell::JWins => [-softplus(d), -p, 0.0, -v, 0.0, 0.0],
                Cell::Tie if model == TieModel::Drop => [0.0; 6],
                Cell::Tie => [
                    -0.5 * (softplus(-d) + softplus(d)),
                    0.5 - p,
                    0.0,
                    -v,
                    0.0,
                    0.0,
                ],
            }
        }
        TieModel::Davidson => {
            // log-sum-exp over the exponents (d/2, −d/2, η) with directions (½,0), (−½,0), (0,1).
            let x = 0.5 * d;
            let m = x.abs().max(eta);
            let (ei, ej, et) = ((x - m).exp(), (-x - m).exp(), (eta - m).exp());
            let s = ei + ej + et;
            let lse = m + s.ln();
            let (pi, pj, pt) = (ei / s, ej / s, et / s);
            let md = 0.5 * (pi - pj);
            let me = pt;
            let hdd = 0.25 * (pi + pj) - md * md;
            let hde = -md * me;
            let hee = pt - pt * pt;
            let (logp, ld, le) = match cell {
                Cell::IWins => (x - lse, 0.5 - md, -me),
                Cell::JWins => (-x - lse, -0.5 - md, -me),
                Cell::Tie => (eta - lse, -md, 1.0 - me),
            };
            [logp, ld, le, -hdd, -hde, -hee]
        }
        TieModel::RaoKupper => {
            let phi = eta.exp();
            let a = sigmoid(d - phi);
            let b = sigmoid(-d - phi);
            let (a0, b0) = (a * (1.0 - a), b * (1.0 - b));
            let (a1, b1) = ((1.0 - 2.0 * a) * a0, (1.0 - 2.0 * b) * b0);
            // Derivatives in (d, φ) first, then the chain rule to η = ln φ.
            let (logp, ld, lp, ldd, ldp, lpp) = match cell {
                Cell::IWins => (-softplus(phi - d), 1.0 - a, -(1.0 - a), -a0, a0, -a0),
                Cell::JWins => (-softplus(phi + d), -(1.0 - b), -(1.0 - b), -b0, -b0, -b0),
                Cell::Tie => {
                    let t = (1.0 - a - b).max(f64::MIN_POSITIVE);
                    let (td, tp) = ((-a0 + b0) / t, (a0 + b0) / t);
                    (
                        t.ln(),
                        td,
                        tp,
                        (-a1 - b1) / t - td * td,
                        (a1 - b1) / t - td * tp,
                        (-a1 - b1) / t - tp * tp,
                    )
                }
            };
            [
                logp,
                ld,
                phi * lp,
                ldd,
                phi * ldp,
                phi * phi * lpp + phi * lp,
            ]
        }
    }
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + eˣ)`, stable for large |x|.
pub(crate) fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

pub(crate) fn has_tie_parameter(model: TieModel) -> bool {
    matches!(model, TieModel::Davidson | TieModel::RaoKupper)
}

/// The cells of a pair with their counts.
pub(crate) fn cells(p: &PairCount) -> [(Cell, f64); 3] {
    [
        (Cell::IWins, p.wins_i),
        (Cell::JWins, p.wins_j),
        (Cell::Tie, p.ties),
    ]
}

/// The raw result of a solver run.
#[derive(Debug, Clone)]
pub(crate) struct Solution {
    /// Natural-log strengths, length n.
    pub theta: Vec<f64>,
    /// Log tie parameter (Davidson: ln ν; Rao-Kupper: ln ln θ), if the model has one.
    pub eta: Option<f64>,
    pub report: FitReport,
}

/// Per-pair weights: 1, or arena-rank's `1 / max(n_ij, min_count)`.
pub(crate) fn pair_weights(table: &PairTable, min_count: Option<f64>) -> Vec<f64> {
    table
        .pairs
        .iter()
        .map(|p| match min_count {
            None => 1.0,
            Some(m) => 1.0 / p.total().max(m),
        })
        .collect()
}

/// Penalised log-likelihood; with `grad_hess`, also the gradient and the negative Hessian
/// (dimension `n + 1` when the model has a tie parameter).
fn evaluate(
    model: TieModel,
    l2: f64,
    table: &PairTable,
    weights: &[f64],
    theta: &[f64],
    eta: f64,
    grad_hess: Option<(&mut [f64], &mut [f64])>,
) -> f64 {
    let (grad, neg_hess) = match grad_hess {
        Some((g, h)) => (Some(g), Some(h)),
        None => (None, None),
    };
    let point = Point {
        theta,
        eta,
        base: None,
    };
    accumulate(model, l2, table, weights, point, true, grad, neg_hess)
}

/// Where a pass over the pairs is evaluated.
#[derive(Clone, Copy)]
struct Point<'a> {
    theta: &'a [f64],
    eta: f64,
    /// A nearby point whose `exp` per pair is known ([`LogisticBase`]): logistic passes without
    /// the log-likelihood then take σ from it instead of calling `exp`.
    base: Option<&'a LogisticBase>,
}

/// `dᵢⱼ = θᵢ − θⱼ` and `e^−dᵢⱼ` per pair at one point, for the tie models that reduce a pair to
/// a logistic term (half and dropped ties). The bootstrap computes it once at the full-data
/// estimate; every round's fixed Hessian is taken there, and its refit steps stay near it, so
/// σ(d) = 1 / (1 + e^−d₀ · e^−(d−d₀)) needs only a short polynomial for e^−(d−d₀).
#[derive(Debug, Clone)]
pub(crate) struct LogisticBase {
    d: Vec<f64>,
    exp_neg_d: Vec<f64>,
}

impl LogisticBase {
    /// `None` for the tie models with a tie parameter.
    pub(crate) fn at(model: TieModel, table: &PairTable, theta: &[f64]) -> Option<LogisticBase> {
        matches!(model, TieModel::Half | TieModel::Drop).then(|| {
            let d: Vec<f64> = table
                .pairs
                .iter()
                .map(|p| theta[p.i as usize] - theta[p.j as usize])
                .collect();
            let exp_neg_d = d.iter().map(|x| (-x).exp()).collect();
            LogisticBase { d, exp_neg_d }
        })
    }

    /// σ(d) for pair `k`. Within ¼ of the base, e^−δ comes from its Taylor polynomial of degree
    /// 11 (relative error below 1.2e-16 there, about one rounding); farther out, or when the
    /// base's exponential overflowed, from [`sigmoid`].
    #[inline(always)]
    fn sigma(&self, k: usize, d: f64) -> f64 {
        let (d0, e0) = (self.d[k], self.exp_neg_d[k]);
        let x = d0 - d;
        if x.abs() <= 0.25 && e0.is_finite() {
            1.0 / (1.0 + e0 * exp_taylor::<11>(x))
        } else {
            sigmoid(d)
        }
    }
}

/// Per pair, the weighted score of i (its wins, plus its share of the ties) and the weighted
/// total that the logistic terms multiply by σ: fixed for a table, so a refit's gradient passes
/// need only σ per pair.
struct LogisticScores {
    wins: Vec<f64>,
    totals: Vec<f64>,
}

impl LogisticScores {
    /// For half (`share` ½) or dropped (0) ties.
    fn new(model: TieModel, table: &PairTable, weights: &[f64]) -> LogisticScores {
        let share = if model == TieModel::Half { 0.5 } else { 0.0 };
        let (wins, totals) = table
            .pairs
            .iter()
            .zip(weights)
            .map(|(p, &w)| {
                let (a, b) = (p.wins_i + share * p.ties, p.wins_j + share * p.ties);
                (w * a, w * (a + b))
            })
            .unzip();
        LogisticScores { wins, totals }
    }

    /// The gradient of the penalised log-likelihood at `theta` into `grad` (overwritten): the
    /// gradient part of [`accumulate`] for these models, with σ from `base`.
    fn gradient(
        &self,
        table: &PairTable,
        base: &LogisticBase,
        theta: &[f64],
        l2: f64,
        grad: &mut [f64],
    ) {
        grad.iter_mut().for_each(|g| *g = 0.0);
        // Pairs come sorted by i: item i's share is summed in a register over its run.
        let (mut item, mut run) = (usize::MAX, 0.0);
        for (k, p) in table.pairs.iter().enumerate() {
            let (i, j) = (p.i as usize, p.j as usize);
            if i != item {
                if item != usize::MAX {
                    grad[item] += run;
                }
                (item, run) = (i, 0.0);
            }
            let r = self.wins[k] - self.totals[k] * base.sigma(k, theta[i] - theta[j]);
            run += r;
            grad[j] -= r;
        }
        if item != usize::MAX {
            grad[item] += run;
        }
        for (g, t) in grad.iter_mut().zip(theta) {
            *g -= 2.0 * l2 * t;
        }
    }
}

/// One pass over the pairs: the penalised log-likelihood when `with_ll` (else 0), and, when
/// given, the gradient and the negative Hessian (overwritten; dimension `n + 1` with a tie
/// parameter). Half and dropped ties reduce each pair to a logistic term (ties split into the
/// wins): one `exp`, plus one `ln_1p` only for the log-likelihood.
#[allow(clippy::too_many_arguments)]
fn accumulate(
    model: TieModel,
    l2: f64,
    table: &PairTable,
    weights: &[f64],
    Point { theta, eta, base }: Point<'_>,
    with_ll: bool,
    mut grad: Option<&mut [f64]>,
    mut neg_hess: Option<&mut [f64]>,
) -> f64 {
    let n = table.n_items;
    let m = n + usize::from(has_tie_parameter(model));
    if let Some(g) = grad.as_deref_mut() {
        g.iter_mut().for_each(|x| *x = 0.0);
    }
    if let Some(h) = neg_hess.as_deref_mut() {
        h.iter_mut().for_each(|x| *x = 0.0);
    }
    let tie_share = match model {
        TieModel::Half => Some(0.5),
        TieModel::Drop => Some(0.0),
        TieModel::Davidson | TieModel::RaoKupper => None,
    };
    let mut ll = 0.0;
    // Pairs come sorted by i, so item i's gradient, Hessian diagonal and η terms are summed in
    // registers over its run of pairs and written once, instead of chaining every pair through
    // the same memory slots.
    let mut run = Run {
        item: usize::MAX,
        ..Run::default()
    };
    for (k, (p, &w)) in table.pairs.iter().zip(weights).enumerate() {
        let (i, j) = (p.i as usize, p.j as usize);
        if i != run.item {
            run.flush(m, n, grad.as_deref_mut(), neg_hess.as_deref_mut());
            run = Run {
                item: i,
                ..Run::default()
            };
        }
        let d = theta[i] - theta[j];
        // [log p, ∂/∂d, ∂/∂η, ∂²/∂d², ∂²/∂d∂η, ∂²/∂η²], weighted and summed over the cells.
        let acc = match tie_share {
            Some(h) => {
                let (a, b) = (p.wins_i + h * p.ties, p.wins_j + h * p.ties);
                let c = match base {
                    Some(base) if !with_ll => logistic_terms(base.sigma(k, d), a, b),
                    _ => logistic_pair(d, a, b, with_ll),
                };
                [w * c[0], w * c[1], 0.0, w * c[2], 0.0, 0.0]
            }
            None => {
                let mut acc = [0.0; 6];
                for (cell, count) in cells(p) {
                    if count > 0.0 {
                        let c = cell_derivatives(model, d, eta, cell);
                        for k in 0..6 {
                            acc[k] += w * count * c[k];
                        }
                    }
                }
                acc
            }
        };
        ll += acc[0];
        run.grad += acc[1];
        run.grad_eta += acc[2];
        if let Some(g) = grad.as_deref_mut() {
            g[j] -= acc[1];
        }
        if let Some(h) = neg_hess.as_deref_mut() {
            let hdd = -acc[3];
            run.hess += hdd;
            h[j * m + j] += hdd;
            h[i * m + j] -= hdd;
            h[j * m + i] -= hdd;
            if m > n {
                let hde = -acc[4];
                run.hess_eta += hde;
                h[j * m + n] -= hde;
                h[n * m + j] -= hde;
                run.hess_eta_eta -= acc[5];
            }
        }
    }
    run.flush(m, n, grad.as_deref_mut(), neg_hess.as_deref_mut());
    if let Some(g) = grad {
        for i in 0..n {
            g[i] -= 2.0 * l2 * theta[i];
        }
    }
    if let Some(h) = neg_hess {
        for i in 0..n {
            h[i * m + i] += 2.0 * l2;
        }
    }
    if with_ll {
        ll - l2 * theta.iter().map(|t| t * t).sum::<f64>()
    } else {
        0.0
    }
}

/// Item i's sums over its run of pairs in [`accumulate`].
#[derive(Default)]
struct Run {
    item: usize,
    grad: f64,
    grad_eta: f64,
    hess: f64,
    hess_eta: f64,
    hess_eta_eta: f64,
}

impl Run {
    /// Adds the run's sums into the gradient and negative Hessian (a no-op before any pair).
    fn flush(&self, m: usize, n: usize, grad: Option<&mut [f64]>, neg_hess: Option<&mut [f64]>) {
        let i = self.item;
        if i == usize::MAX {
            return;
        }
        if let Some(g) = grad {
            g[i] += self.grad;
            if m > n {
                g[n] += self.grad_eta;
            }
        }
        if let Some(h) = neg_hess {
            h[i * m + i] += self.hess;
            if m > n {
                h[i * m + n] += self.hess_eta;
                h[n * m + i] += self.hess_eta;
                h[n * m + n] += self.hess_eta_eta;
            }
        }
    }
}

/// `[log-likelihood, ∂/∂d, ∂²/∂d²]` of a pair under the logistic model with `a` wins for `i` and
/// `b` for `j` (ties already split into them), `d = θᵢ − θⱼ`; the log-likelihood is 0 unless
/// `with_ll`. With `e = exp(−|d|)`, `softplus(∓d)` share `ln(1 + e)` and `σ(d)` is `1/(1+e)` or
/// `e/(1+e)`. Equal to summing [`cell_derivatives`] over the pair's cells.
fn logistic_pair(d: f64, a: f64, b: f64, with_ll: bool) -> [f64; 3] {
    let e = (-d.abs()).exp();
    // Both candidates are computed and the sign picks one without a branch: as a branch, the
    // sign of d (random across pairs) mispredicted about every other pair.
    let inv = 1.0 / (1.0 + e);
    let p = std::hint::select_unpredictable(d >= 0.0, inv, e * inv);
    let ll = if with_ll {
        let log1p = e.ln_1p();
        let (sp_neg, sp_pos) = if d >= 0.0 {
            (log1p, d + log1p)
        } else {
            (log1p - d, log1p)
        };
        -a * sp_neg - b * sp_pos
    } else {
        0.0
    };
    let [_, grad, hess] = logistic_terms(p, a, b);
    [ll, grad, hess]
}

/// `[0, ∂/∂d, ∂²/∂d²]` of [`logistic_pair`] from `p = σ(d)`.
fn logistic_terms(p: f64, a: f64, b: f64) -> [f64; 3] {
    let total = a + b;
    [0.0, a - total * p, -total * p * (1.0 - p)]
}

/// Fails when the unpenalised MLE cannot exist.
pub(crate) fn check_identifiable(
    table: &PairTable,
    items: &[String],
    model: TieModel,
) -> Result<(), FitError> {
    if table.two_way_connected(model != TieModel::Drop) {
        return Ok(());
    }
    let dropped;
    let table = if model == TieModel::Drop {
        let mut t = table.clone();
        t.pairs.iter_mut().for_each(|p| p.ties = 0.0);
        dropped = t;
        &dropped
    } else {
        table
    };
    let (comp, n_comp) = table.strong_components();
    if n_comp > 1 {
        // Name an item from the smallest component: usually the culprit.
        let mut sizes = vec![0usize; n_comp];
        comp.iter().for_each(|&c| sizes[c] += 1);
        let smallest = (0..n_comp).min_by_key(|&c| sizes[c]).unwrap_or(0);
        let idx = comp.iter().position(|&c| c == smallest).unwrap_or(0);
        return Err(FitError::NotStronglyConnected {
            n_components: n_comp,
            example: items.get(idx).cloned().unwrap_or_default(),
        });
    }
    Ok(())
}

/// Initial log tie parameter from the overall tie fraction (exact when all strengths are equal).
fn initial_eta(model: TieModel, table: &PairTable, weights: &[f64]) -> Result<f64, FitError> {
    if !has_tie_parameter(model) {
        return Ok(0.0);
    }
    let (mut ties, mut total) = (0.0, 0.0);
    for (p, w) in table.pairs.iter().zip(weights) {
        ties += w * p.ties;
        total += w * p.total();
    }
    if ties <= 0.0 {
        return Err(FitError::Param(ParamError::Incompatible(
            "Davidson and Rao-Kupper tie models need at least one tie".into(),
        )));
    }
    let t = (ties / total).clamp(1e-3, 0.9);
    Ok(match model {
        TieModel::Davidson => (2.0 * t / (1.0 - t)).ln(),
        _ => ((1.0 + t) / (1.0 - t)).ln().ln(),
    })
}

/// Runs the configured solver on a pair table. `init` warm-starts θ (and η).
pub(crate) fn solve(
    params: &BradleyTerryValidParams,
    table: &PairTable,
    weights: &[f64],
    init: Option<(&[f64], Option<f64>)>,
) -> Result<Solution, FitError> {
    if table.pairs.iter().all(|p| {
        let ties = if params.ties() == TieModel::Drop {
            0.0
        } else {
            p.ties
        };
        p.wins_i + p.wins_j + ties <= 0.0
    }) {
        return Err(FitError::NoData);
    }
    match params.solver() {
        Solver::Newton => newton(params, table, weights, init),
        Solver::Mm => mm(params, table, weights, init.map(|(t, _)| t)),
    }
}

fn newton(
    params: &BradleyTerryValidParams,
    table: &PairTable,
    weights: &[f64],
    init: Option<(&[f64], Option<f64>)>,
) -> Result<Solution, FitError> {
    let model = params.ties();
    let l2 = params.l2();
    let n = table.n_items;
    let with_eta = has_tie_parameter(model);
    let m = n + usize::from(with_eta);
    let mut theta = match init {
        Some((t, _)) => t.to_vec(),
        None => vec![0.0; n],
    };
    let mut eta = match init.and_then(|(_, e)| e) {
        Some(e) => e,
        None => initial_eta(model, table, weights)?,
    };
    let total_weight: f64 = table
        .pairs
        .iter()
        .zip(weights)
        .map(|(p, w)| w * p.total())
        .sum::<f64>()
        .max(1.0);
    let mut grad = vec![0.0; m];
    let mut neg_hess = vec![0.0; m * m];
    let mut cand_grad = vec![0.0; m];
    let mut cand_hess = vec![0.0; m * m];
    let mut objective = evaluate(
        model,
        l2,
        table,
        weights,
        &theta,
        eta,
        Some((&mut grad, &mut neg_hess)),
    );
    let mut termination = Termination::MaxIterations;
    let mut converged = false;
    let mut iterations = 0;
    while iterations < params.max_iterations() {
        iterations += 1;
        let grad_max = grad.iter().fold(0.0f64, |acc, g| acc.max(g.abs()));
        if grad_max <= 1e-13 * total_weight {
            converged = true;
            termination = Termination::GradientBelowTolerance;
            break;
        }
        if l2 == 0.0 {
            // Gauge fixing: the likelihood is flat along θ + c·1; adding 11ᵀ to the θ block makes
            // the system definite and yields the step with Σδ = 0.
            for i in 0..n {
                for j in 0..n {
                    neg_hess[i * m + j] += 1.0;
                }
            }
        }
        let chol = match Cholesky::new(&neg_hess, m) {
            Some(c) => c,
            None => {
                // Far from the optimum (Rao-Kupper can be non-concave); fall back to a ridge.
                let ridge = 1e-6 * total_weight;
                for k in 0..m {
                    neg_hess[k * m + k] += ridge;
                }
                Cholesky::new(&neg_hess, m).ok_or_else(|| {
                    FitError::Numerical(
                        "the negative Hessian is not positive definite at the current iterate"
                            .into(),
                    )
                })?
            }
        };
        let mut step = grad.clone();
        chol.solve_in_place(&mut step);
        // Backtracking line search on the penalised log-likelihood. Each candidate's gradient and
        // Hessian come from the same pass as its objective, so an accepted step (almost always
        // the full one) needs no second evaluation.
        let mut scale = 1.0;
        let mut candidate = theta.clone();
        let accepted = loop {
            for i in 0..n {
                candidate[i] = theta[i] + scale * step[i];
            }
            let cand_eta = if with_eta { eta + scale * step[n] } else { eta };
            let value = evaluate(
                model,
                l2,
                table,
                weights,
                &candidate,
                cand_eta,
                Some((&mut cand_grad, &mut cand_hess)),
            );
            if value.is_finite() && value >= objective - 1e-12 * objective.abs() {
                break Some((cand_eta, value));
            }
            scale *= 0.5;
            if scale < 1e-10 {
                break None;
            }
        };
        let Some((new_eta, value)) = accepted else {
            converged = grad_max <= 1e-8 * total_weight;
            termination = Termination::LineSearchStalled;
            break;
        };
        let step_max = step
            .iter()
            .fold(0.0f64, |acc, s| acc.max((scale * s).abs()));
        std::mem::swap(&mut theta, &mut candidate);
        std::mem::swap(&mut grad, &mut cand_grad);
        std::mem::swap(&mut neg_hess, &mut cand_hess);
        eta = new_eta;
        objective = value;
        if step_max < params.tolerance() {
            converged = true;
            termination = Termination::StepBelowTolerance;
            break;
        }
    }
    if l2 == 0.0 {
        let mean = theta.iter().sum::<f64>() / n as f64;
        theta.iter_mut().for_each(|t| *t -= mean);
    }
    Ok(Solution {
        theta,
        eta: with_eta.then_some(eta),
        report: FitReport {
            converged,
            iterations,
            termination,
            objective,
        },
    })
}

/// The factorised negative Hessian of a pair table at a point (gauge-fixed like Newton's), with
/// the gradient there: the fixed Newton matrix and first step of [`refit_fixed_hessian`].
#[derive(Debug, Clone)]
pub(crate) struct FixedHessian<'a> {
    chol: Cholesky,
    m: usize,
    /// Gradient at the point the Hessian was taken.
    grad: Vec<f64>,
    /// The pairs' exponentials near that point, for the refit's gradient passes.
    base: Option<&'a LogisticBase>,
}

impl<'a> FixedHessian<'a> {
    /// `None` when the Hessian is not positive definite (then callers use full Newton).
    pub(crate) fn at(
        params: &BradleyTerryValidParams,
        table: &PairTable,
        weights: &[f64],
        theta: &[f64],
        eta: Option<f64>,
        base: Option<&'a LogisticBase>,
    ) -> Option<FixedHessian<'a>> {
        let n = table.n_items;
        let m = n + usize::from(has_tie_parameter(params.ties()));
        let mut grad = vec![0.0; m];
        let mut neg_hess = vec![0.0; m * m];
        let point = Point {
            theta,
            eta: eta.unwrap_or(0.0),
            base,
        };
        accumulate(
            params.ties(),
            params.l2(),
            table,
            weights,
            point,
            false,
            Some(&mut grad),
            Some(&mut neg_hess),
        );
        if params.l2() == 0.0 {
            for i in 0..n {
                for j in 0..n {
                    neg_hess[i * m + j] += 1.0;
                }
            }
        }
        Some(FixedHessian {
            chol: Cholesky::new(&neg_hess, m)?,
            m,
            grad,
            base,
        })
    }
}

/// Refits a resample from `start` by simplified Newton steps `x ← x + H₀⁻¹ g(x)`, with `H₀` the
/// resample's Hessian at `start` (`h0`, built by [`FixedHessian::at`] on the same table and
/// point; its gradient is the first step's): no Hessian, Cholesky or log-likelihood per step,
/// only a gradient and two triangular solves. The Hessian changes little between `start` and
/// the optimum, so the steps contract geometrically, by a ratio ρ that the last two steps
/// estimate; iteration stops once the distance left to the fixed point is below `tolerance`
/// (largest step component): the step itself for the first step, and the geometric tail
/// `step · ρ / (1 − ρ)` after it, which saves the last pass that a bare step test would spend
/// confirming a step already far below the tolerance. Returns `None` when the steps stop
/// contracting (halving at least every other step) or exceed `max_steps`; the caller then runs
/// full Newton.
pub(crate) fn refit_fixed_hessian(
    params: &BradleyTerryValidParams,
    table: &PairTable,
    weights: &[f64],
    start: (&[f64], Option<f64>),
    h0: &FixedHessian,
    tolerance: f64,
    max_steps: usize,
) -> Option<(Vec<f64>, Option<f64>, usize)> {
    let n = table.n_items;
    let m = h0.m;
    let mut theta = start.0.to_vec();
    let mut eta = start.1.unwrap_or(0.0);
    let mut step = vec![0.0; m];
    let mut previous = f64::INFINITY;
    // Logistic models: the pairs' weighted scores once, then lean gradient passes.
    let base = h0.base;
    let logistic = base.map(|base| (base, LogisticScores::new(params.ties(), table, weights)));
    for k in 1..=max_steps {
        if k == 1 {
            step.copy_from_slice(&h0.grad);
        } else if let Some((base, scores)) = &logistic {
            scores.gradient(table, base, &theta, params.l2(), &mut step);
        } else {
            let point = Point {
                theta: &theta,
                eta,
                base,
            };
            accumulate(
                params.ties(),
                params.l2(),
                table,
                weights,
                point,
                false,
                Some(&mut step),
                None,
            );
        }
        h0.chol.solve_in_place(&mut step);
        let size = step.iter().fold(0.0f64, |acc, s| acc.max(s.abs()));
        if !size.is_finite() || (k > 2 && size > 0.5 * previous) {
            return None;
        }
        for i in 0..n {
            theta[i] += step[i];
        }
        if m > n {
            eta += step[n];
        }
        let left = if k == 1 {
            size
        } else {
            let rho = size / previous;
            if rho < 1.0 {
                size * rho / (1.0 - rho)
            } else {
                f64::INFINITY
            }
        };
        if left < tolerance {
            if params.l2() == 0.0 {
                let mean = theta.iter().sum::<f64>() / n as f64;
                theta.iter_mut().for_each(|t| *t -= mean);
            }
            return Some((theta, start.1.map(|_| eta), k));
        }
        previous = size;
    }
    None
}

fn mm(
    params: &BradleyTerryValidParams,
    table: &PairTable,
    weights: &[f64],
    init: Option<&[f64]>,
) -> Result<Solution, FitError> {
    let n = table.n_items;
    let half = params.ties() == TieModel::Half;
    let mut wins = vec![0.0; n];
    for (p, w) in table.pairs.iter().zip(weights) {
        let t = if half { 0.5 * p.ties } else { 0.0 };
        wins[p.i as usize] += w * (p.wins_i + t);
        wins[p.j as usize] += w * (p.wins_j + t);
    }
    let mut pi: Vec<f64> = match init {
        Some(t) => t.iter().map(|x| x.exp()).collect(),
        None => vec![1.0; n],
    };
    let mut denom = vec![0.0; n];
    let mut termination = Termination::MaxIterations;
    let mut converged = false;
    let mut iterations = 0;
    while iterations < params.max_iterations() {
        iterations += 1;
        denom.iter_mut().for_each(|d| *d = 0.0);
        for (p, w) in table.pairs.iter().zip(weights) {
            let (i, j) = (p.i as usize, p.j as usize);
            let total = if half { p.total() } else { p.wins_i + p.wins_j };
            let x = w * total / (pi[i] + pi[j]);
            denom[i] += x;
            denom[j] += x;
        }
        let mut new: Vec<f64> = (0..n)
            .map(|i| {
                if denom[i] > 0.0 {
                    wins[i] / denom[i]
                } else {
                    pi[i]
                }
            })
            .collect();
        let log_mean = new.iter().map(|x| x.ln()).sum::<f64>() / n as f64;
        let g = log_mean.exp();
        new.iter_mut().for_each(|x| *x /= g);
        let change = new
            .iter()
            .zip(&pi)
            .fold(0.0f64, |acc, (a, b)| acc.max((a.ln() - b.ln()).abs()));
        pi = new;
        if change < params.tolerance() {
            converged = true;
            termination = Termination::StepBelowTolerance;
            break;
        }
    }
    let theta: Vec<f64> = pi.iter().map(|x| x.ln()).collect();
    let objective = evaluate(params.ties(), 0.0, table, weights, &theta, 0.0, None);
    Ok(Solution {
        theta,
        eta: None,
        report: FitReport {
            converged,
            iterations,
            termination,
            objective,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finite-difference check of every analytic derivative, for every tie model and cell.
    #[test]
    fn cell_derivatives_match_finite_differences() {
        let h = 1e-5;
        for model in [
            TieModel::Half,
            TieModel::Davidson,
            TieModel::RaoKupper,
            TieModel::Drop,
        ] {
            for cell in [Cell::IWins, Cell::JWins, Cell::Tie] {
                for (d, eta) in [(0.3, -0.7), (-1.2, 0.4), (2.0, -2.0)] {
                    let f = |d, e| cell_derivatives(model, d, e, cell);
                    let c = f(d, eta);
                    let num_d = (f(d + h, eta)[0] - f(d - h, eta)[0]) / (2.0 * h);
                    let num_e = (f(d, eta + h)[0] - f(d, eta - h)[0]) / (2.0 * h);
                    let num_dd = (f(d + h, eta)[1] - f(d - h, eta)[1]) / (2.0 * h);
                    let num_de = (f(d, eta + h)[1] - f(d, eta - h)[1]) / (2.0 * h);
                    let num_ee = (f(d, eta + h)[2] - f(d, eta - h)[2]) / (2.0 * h);
                    for (name, got, want) in [
                        ("d", c[1], num_d),
                        ("e", c[2], num_e),
                        ("dd", c[3], num_dd),
                        ("de", c[4], num_de),
                        ("ee", c[5], num_ee),
                    ] {
                        assert!(
                            (got - want).abs() < 1e-6,
                            "{model:?} {cell:?} ({d},{eta}) {name}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    /// The logistic fast path equals the per-cell sum it replaces, for half and dropped ties.
    #[test]
    fn logistic_pair_matches_cells() {
        for (model, share) in [(TieModel::Half, 0.5), (TieModel::Drop, 0.0)] {
            for d in [-40.0, -2.5, -0.1, 0.0, 0.7, 3.0, 35.0] {
                let p = PairCount {
                    i: 0,
                    j: 1,
                    wins_i: 7.0,
                    wins_j: 3.0,
                    ties: 4.0,
                };
                let mut want = [0.0; 6];
                for (cell, count) in cells(&p) {
                    let c = cell_derivatives(model, d, 0.0, cell);
                    for k in 0..6 {
                        want[k] += count * c[k];
                    }
                }
                let got = logistic_pair(
                    d,
                    p.wins_i + share * p.ties,
                    p.wins_j + share * p.ties,
                    true,
                );
                for (g, w) in got.iter().zip([want[0], want[1], want[3]]) {
                    assert!(
                        (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                        "{model:?} d={d}: {g} vs {w}"
                    );
                }
            }
        }
    }

    /// The bootstrap's simplified Newton (fixed Hessian from the start point) reaches the same
    /// optimum as full Newton, for every tie model.
    #[test]
    fn fixed_hessian_refit_matches_newton() {
        let n = 6;
        let mut pairs = Vec::new();
        for i in 0..n as u32 {
            for j in i + 1..n as u32 {
                let s = f64::from(i * 7 + j * 3);
                pairs.push(PairCount {
                    i,
                    j,
                    wins_i: 5.0 + (s % 11.0),
                    wins_j: 3.0 + (s % 7.0),
                    ties: 1.0 + (s % 3.0),
                });
            }
        }
        let table = PairTable { n_items: n, pairs };
        let weights = vec![1.0; table.pairs.len()];
        // A "resample": the same pairs with shifted counts.
        let mut resample = table.clone();
        for (k, p) in resample.pairs.iter_mut().enumerate() {
            p.wins_i += (k % 4) as f64;
            p.wins_j += (k % 3) as f64;
        }
        for model in [
            TieModel::Half,
            TieModel::Drop,
            TieModel::Davidson,
            TieModel::RaoKupper,
        ] {
            for l2 in [0.0, 0.3] {
                let params = crate::BradleyTerry::params()
                    .ties(model)
                    .l2(l2)
                    .check()
                    .unwrap();
                let full = solve(&params, &table, &weights, None).unwrap();
                let start = (&full.theta[..], full.eta);
                let newton = solve(&params, &resample, &weights, Some(start)).unwrap();
                let base = LogisticBase::at(params.ties(), &resample, start.0);
                let h0 = FixedHessian::at(
                    &params,
                    &resample,
                    &weights,
                    start.0,
                    start.1,
                    base.as_ref(),
                )
                .unwrap();
                let (theta, eta, _) =
                    refit_fixed_hessian(&params, &resample, &weights, start, &h0, 1e-12, 200)
                        .unwrap();
                for (a, b) in theta.iter().zip(&newton.theta) {
                    assert!((a - b).abs() < 1e-9, "{model:?} l2={l2}: {a} vs {b}");
                }
                if let (Some(a), Some(b)) = (eta, newton.eta) {
                    assert!((a - b).abs() < 1e-9, "{model:?} eta: {a} vs {b}");
                }
            }
        }
    }

    /// σ near a base point, by the Taylor polynomial or by the fallback, agrees with
    /// [`sigmoid`] to about one rounding (relative), including far-out and overflowing bases.
    #[test]
    fn logistic_base_sigma_matches_sigmoid() {
        let theta = [0.0, 1.3, -2.7, 30.0, -800.0];
        let pairs = (0..5u32)
            .flat_map(|i| (i + 1..5).map(move |j| (i, j)))
            .map(|(i, j)| PairCount {
                i,
                j,
                wins_i: 1.0,
                wins_j: 1.0,
                ties: 0.0,
            })
            .collect();
        let table = PairTable { n_items: 5, pairs };
        let base = LogisticBase::at(TieModel::Half, &table, &theta).unwrap();
        assert!(LogisticBase::at(TieModel::Davidson, &table, &theta).is_none());
        for (k, p) in table.pairs.iter().enumerate() {
            let d0 = theta[p.i as usize] - theta[p.j as usize];
            for delta in [-0.7, -0.25, -0.1, -1e-9, 0.0, 0.05, 0.2, 0.25, 0.6] {
                let d = d0 + delta;
                let (got, want) = (base.sigma(k, d), sigmoid(d));
                assert!(
                    (got - want).abs() <= 4e-16 * want,
                    "d0 {d0} delta {delta}: {got} vs {want}"
                );
            }
        }
    }

    /// The refit's lean logistic gradient equals the gradient pass of `accumulate`.
    #[test]
    fn logistic_scores_gradient_matches_accumulate() {
        let n = 5;
        let pairs = (0..n as u32)
            .flat_map(|i| (i + 1..n as u32).map(move |j| (i, j)))
            .map(|(i, j)| PairCount {
                i,
                j,
                wins_i: f64::from(3 + i * j % 5),
                wins_j: f64::from(1 + (i + 2 * j) % 4),
                ties: f64::from((i + j) % 3),
            })
            .collect();
        let table = PairTable { n_items: n, pairs };
        let weights: Vec<f64> = (0..table.pairs.len())
            .map(|k| 0.5 + k as f64 / 7.0)
            .collect();
        let theta0 = [0.4, -0.2, 1.1, -0.9, 0.0];
        // Near the base (Taylor branch) and far from it (fallback).
        for shift in [0.03, 0.9] {
            let theta: Vec<f64> = theta0
                .iter()
                .enumerate()
                .map(|(i, t)| t + shift * (i as f64 - 2.0) / 2.0)
                .collect();
            for model in [TieModel::Half, TieModel::Drop] {
                for l2 in [0.0, 0.3] {
                    let base = LogisticBase::at(model, &table, &theta0).unwrap();
                    let mut lean = vec![0.0; n];
                    LogisticScores::new(model, &table, &weights)
                        .gradient(&table, &base, &theta, l2, &mut lean);
                    let mut full = vec![0.0; n];
                    let point = Point {
                        theta: &theta,
                        eta: 0.0,
                        base: None,
                    };
                    accumulate(
                        model,
                        l2,
                        &table,
                        &weights,
                        point,
                        false,
                        Some(&mut full),
                        None,
                    );
                    for (a, b) in lean.iter().zip(&full) {
                        assert!((a - b).abs() < 1e-12, "{model:?} l2={l2}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn tie_models_are_probability_distributions() {
        for model in [TieModel::Davidson, TieModel::RaoKupper] {
            let total: f64 = [Cell::IWins, Cell::JWins, Cell::Tie]
                .iter()
                .map(|&c| cell_derivatives(model, 0.8, -0.3, c)[0].exp())
                .sum();
            assert!((total - 1.0).abs() < 1e-12, "{model:?}: {total}");
        }
    }
}
