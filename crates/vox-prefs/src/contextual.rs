//! Contextual Bradley-Terry ("style control"): `logit P(a ≻ b) = θₐ − θ_b + xᵀβ`, where `x` are
//! per-vote covariates (typically feature differences between the two answers), with an L2
//! penalty on β only. Conventions follow arena-rank 0.1.1's `ContextualBradleyTerry`.

use std::collections::HashMap;

use crate::error::{FitError, ParamError};
use crate::fit::{FitReport, Termination};
use crate::linalg::Cholesky;
use crate::votes::VoteSet;

/// Parameters of the contextual fit.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextualParams {
    /// L2 penalty on β: the objective is `−mean(w·loglik) + ½·l2·‖β‖²`. Default 1 (arena-rank).
    pub l2: f64,
    /// Standardise each covariate to mean 0, sd 1 (constant columns left as they are). Default
    /// true (arena-rank).
    pub normalize: bool,
    /// Inverse-frequency weights `1/max(n_pair, min)` normalised to mean 1; default `Some(50)`
    /// (arena-rank's contextual default).
    pub reweight_min_count: Option<f64>,
    /// Stop when the largest Newton step is below this. Default 1e-10.
    pub tolerance: f64,
    /// Iteration cap. Default 100.
    pub max_iterations: usize,
}

impl Default for ContextualParams {
    fn default() -> Self {
        ContextualParams {
            l2: 1.0,
            normalize: true,
            reweight_min_count: Some(50.0),
            tolerance: 1e-10,
            max_iterations: 100,
        }
    }
}

/// A fitted contextual Bradley-Terry model.
#[derive(Debug, Clone)]
pub struct ContextualBradleyTerry {
    /// Item names.
    pub items: Vec<String>,
    /// Natural-log strengths with the covariate effects removed, mean 0, length `n_items`.
    pub theta: Vec<f64>,
    /// Covariate names.
    pub covariate_names: Vec<String>,
    /// Coefficients per covariate (per standard deviation when normalised), natural-log odds.
    pub beta: Vec<f64>,
    /// Convergence report; `objective` is the mean weighted log-likelihood minus the penalty.
    pub report: FitReport,
}

impl ContextualParams {
    /// Fits votes that carry covariates (`votes.covariate_names` non-empty).
    pub fn fit(&self, votes: &VoteSet) -> Result<ContextualBradleyTerry, FitError> {
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(ParamError::OutOfRange {
                name: "l2",
                value: self.l2.to_string(),
                expected: "a finite number ≥ 0",
            }
            .into());
        }
        let n = votes.n_items();
        let k = votes.covariate_names.len();
        let rows = votes.votes.len();
        if rows == 0 {
            return Err(FitError::NoData);
        }
        if k == 0 {
            return Err(ParamError::Incompatible(
                "contextual Bradley-Terry needs covariate columns".into(),
            )
            .into());
        }
        // Standardised covariates, row-major rows × k.
        let mut x = votes.covariates.clone();
        if self.normalize {
            for c in 0..k {
                let mean = (0..rows).map(|r| x[r * k + c]).sum::<f64>() / rows as f64;
                let var = (0..rows)
                    .map(|r| (x[r * k + c] - mean).powi(2))
                    .sum::<f64>()
                    / rows as f64;
                let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
                (0..rows).for_each(|r| x[r * k + c] = (x[r * k + c] - mean) / sd);
            }
        }
        let weights: Vec<f64> = match self.reweight_min_count {
            None => vec![1.0; rows],
            Some(min) => {
                let mut pair_n: HashMap<(u32, u32), f64> = HashMap::new();
                for v in &votes.votes {
                    *pair_n.entry((v.a.min(v.b), v.a.max(v.b))).or_default() += 1.0;
                }
                let w: Vec<f64> = votes
                    .votes
                    .iter()
                    .map(|v| 1.0 / pair_n[&(v.a.min(v.b), v.a.max(v.b))].max(min))
                    .collect();
                let mean = w.iter().sum::<f64>() / rows as f64;
                w.into_iter().map(|x| x / mean).collect()
            }
        };
        let m = n + k;
        let mut params = vec![0.0; m];
        let objective = |p: &[f64]| -> f64 {
            let mut ll = 0.0;
            for (r, v) in votes.votes.iter().enumerate() {
                let z = p[v.a as usize] - p[v.b as usize]
                    + (0..k).map(|c| x[r * k + c] * p[n + c]).sum::<f64>();
                let o = v.outcome.score_a();
                ll += weights[r] * (o * z - softplus(z));
            }
            ll / rows as f64 - 0.5 * self.l2 * p[n..].iter().map(|b| b * b).sum::<f64>()
        };
        let mut report = FitReport {
            converged: false,
            iterations: 0,
            termination: Termination::MaxIterations,
            objective: objective(&params),
        };
        let mut grad = vec![0.0; m];
        let mut hess = vec![0.0; m * m];
        let mut dz = Vec::with_capacity(k + 2);
        while report.iterations < self.max_iterations {
            report.iterations += 1;
            grad.iter_mut().for_each(|g| *g = 0.0);
            hess.iter_mut().for_each(|h| *h = 0.0);
            for (r, v) in votes.votes.iter().enumerate() {
                let (a, b) = (v.a as usize, v.b as usize);
                let z = params[a] - params[b]
                    + (0..k).map(|c| x[r * k + c] * params[n + c]).sum::<f64>();
                let p = 1.0 / (1.0 + (-z).exp());
                let g = weights[r] * (v.outcome.score_a() - p) / rows as f64;
                let h = weights[r] * p * (1.0 - p) / rows as f64;
                dz.clear();
                dz.push((a, 1.0));
                dz.push((b, -1.0));
                dz.extend((0..k).map(|c| (n + c, x[r * k + c])));
                for &(i, di) in &dz {
                    grad[i] += g * di;
                    for &(j, dj) in &dz {
                        hess[i * m + j] += h * di * dj;
                    }
                }
            }
            for c in 0..k {
                grad[n + c] -= self.l2 * params[n + c];
                hess[(n + c) * m + n + c] += self.l2;
            }
            // Gauge: the objective is flat along θ + c·1.
            let scale = (0..n).map(|i| hess[i * m + i]).sum::<f64>() / n as f64;
            for i in 0..n {
                for j in 0..n {
                    hess[i * m + j] += scale.max(1e-12);
                }
            }
            let chol = Cholesky::new(&hess, m).ok_or_else(|| {
                FitError::Numerical(
                    "contextual Hessian is not positive definite (collinear covariates?)".into(),
                )
            })?;
            let mut step = grad.clone();
            chol.solve_in_place(&mut step);
            let mut t = 1.0;
            let current = report.objective;
            let accepted = loop {
                let cand: Vec<f64> = params.iter().zip(&step).map(|(p, s)| p + t * s).collect();
                let value = objective(&cand);
                if value.is_finite() && value >= current - 1e-14 * current.abs() {
                    break Some((cand, value));
                }
                t *= 0.5;
                if t < 1e-10 {
                    break None;
                }
            };
            let Some((cand, value)) = accepted else {
                report.termination = Termination::LineSearchStalled;
                report.converged = grad.iter().all(|g| g.abs() < 1e-8);
                break;
            };
            let step_max = step.iter().fold(0.0f64, |acc, s| acc.max((t * s).abs()));
            params = cand;
            report.objective = value;
            if step_max < self.tolerance {
                report.converged = true;
                report.termination = Termination::StepBelowTolerance;
                break;
            }
        }
        let mean = params[..n].iter().sum::<f64>() / n as f64;
        Ok(ContextualBradleyTerry {
            items: votes.items.names().to_vec(),
            theta: params[..n].iter().map(|t| t - mean).collect(),
            covariate_names: votes.covariate_names.clone(),
            beta: params[n..].to_vec(),
            report,
        })
    }
}

fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Outcome, Vote};

    /// Votes where a style covariate (e.g. answer-length difference) drives part of the outcome:
    /// the fit must recover both the strengths and the style coefficient.
    #[test]
    fn recovers_style_effect_and_strengths() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let truth = [-0.6, 0.0, 0.6];
        let beta = 0.8;
        let mut votes = VoteSet::default();
        for name in ["x", "y", "z"] {
            votes.items.intern(name);
        }
        votes.covariate_names = vec!["len_diff".into()];
        for row in 0..30_000u64 {
            let a = rng.random_range(0..3u32);
            let b = (a + rng.random_range(1..3u32)) % 3;
            let len: f64 = rng.random::<f64>() * 2.0 - 1.0;
            let z = truth[a as usize] - truth[b as usize] + beta * len;
            let p = 1.0 / (1.0 + (-z).exp());
            let outcome = if rng.random::<f64>() < p {
                Outcome::AWins
            } else {
                Outcome::BWins
            };
            votes.votes.push(Vote {
                a,
                b,
                outcome,
                annotator: None,
                prompt: None,
                category: None,
                line: row + 2,
            });
            votes.covariates.push(len);
        }
        let fit = ContextualParams {
            l2: 0.0,
            normalize: false,
            reweight_min_count: None,
            ..Default::default()
        }
        .fit(&votes)
        .unwrap();
        assert!(fit.report.converged);
        assert!((fit.beta[0] - beta).abs() < 0.08, "{:?}", fit.beta);
        for (t, w) in fit.theta.iter().zip(truth) {
            assert!((t - w).abs() < 0.06, "{:?}", fit.theta);
        }
        // The L2 penalty shrinks β only.
        let shrunk = ContextualParams {
            l2: 10.0,
            normalize: false,
            reweight_min_count: None,
            ..Default::default()
        }
        .fit(&votes)
        .unwrap();
        assert!(shrunk.beta[0].abs() < fit.beta[0].abs());
    }
}
