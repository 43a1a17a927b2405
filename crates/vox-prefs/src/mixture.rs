//! A mixture of K Bradley-Terry prototypes over annotators, fitted by EM (in the spirit of PAL's
//! ideal-point mixture): each annotator gets a weight vector over prototypes; model selection by
//! held-out log-likelihood against one pooled model; few-shot assignment of new annotators.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::bt::{cells, solve, BradleyTerry, Cell, TieModel};
use crate::error::{FitError, ParamError};
use crate::fit::{FitReport, Termination};
use crate::pairs::{BothBadPolicy, PairCount, PairTable};
use crate::votes::VoteSet;

/// Mixture parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct MixtureParams {
    /// Number of prototypes K ≥ 1.
    pub k: usize,
    /// L2 penalty λ on each prototype's θ (keeps sparse prototypes finite). Default 0.1.
    pub l2: f64,
    /// EM iteration cap. Default 200.
    pub max_iterations: usize,
    /// Stop when the log-likelihood improves by less than this (relative). Default 1e-9.
    pub tolerance: f64,
    /// Seed of the random initial responsibilities.
    pub seed: u64,
}

impl Default for MixtureParams {
    fn default() -> Self {
        MixtureParams {
            k: 2,
            l2: 0.1,
            max_iterations: 200,
            tolerance: 1e-9,
            seed: 0,
        }
    }
}

/// A fitted mixture.
#[derive(Debug, Clone)]
pub struct Mixture {
    /// Item names.
    pub items: Vec<String>,
    /// Prototype strengths, `k × n_items` natural-log θ (each centred by its penalty).
    pub prototypes: Vec<Vec<f64>>,
    /// Mixing weights π, length k, summing to 1.
    pub mixing: Vec<f64>,
    /// Annotator names, in the vote set's order.
    pub annotators: Vec<String>,
    /// Posterior weight of each annotator on each prototype, `n_annotators × k`.
    pub responsibilities: Vec<Vec<f64>>,
    /// EM convergence; `objective` is the penalised log-likelihood.
    pub report: FitReport,
}

/// Half-tie log-likelihood of a pair table under θ.
fn table_ll(pairs: &[PairCount], theta: &[f64]) -> f64 {
    pairs
        .iter()
        .map(|p| {
            let d = theta[p.i as usize] - theta[p.j as usize];
            cells(p)
                .iter()
                .filter(|(_, c)| *c > 0.0)
                .map(|&(cell, c)| c * crate::bt::cell_derivatives(TieModel::Half, d, 0.0, cell)[0])
                .sum::<f64>()
        })
        .sum()
}

fn per_annotator_tables(votes: &VoteSet) -> Vec<Vec<PairCount>> {
    (0..votes.annotators.len())
        .map(|u| {
            let own = votes.filter(|v| v.annotator == Some(u as u32));
            PairTable::from_votes(&own, BothBadPolicy::Tie).pairs
        })
        .collect()
}

fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

impl MixtureParams {
    /// Fits the mixture by EM on votes that name annotators. Ties count half.
    pub fn fit(&self, votes: &VoteSet) -> Result<Mixture, FitError> {
        if self.k == 0 {
            return Err(ParamError::OutOfRange {
                name: "k",
                value: "0".into(),
                expected: "at least 1 prototype",
            }
            .into());
        }
        if !(self.l2 > 0.0 && self.l2.is_finite()) {
            return Err(ParamError::OutOfRange {
                name: "l2",
                value: self.l2.to_string(),
                expected: "a finite penalty > 0 (prototypes see few votes)",
            }
            .into());
        }
        let n = votes.n_items();
        let tables = per_annotator_tables(votes);
        let n_users = tables.len();
        if n_users == 0 {
            return Err(FitError::NoData);
        }
        let bt = BradleyTerry::params()
            .l2(self.l2)
            .max_iterations(50)
            .check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut resp: Vec<Vec<f64>> = (0..n_users)
            .map(|_| {
                let r: Vec<f64> = (0..self.k).map(|_| 0.5 + rng.random::<f64>()).collect();
                let s: f64 = r.iter().sum();
                r.into_iter().map(|x| x / s).collect()
            })
            .collect();
        let mut prototypes = vec![vec![0.0; n]; self.k];
        let mut mixing = vec![1.0 / self.k as f64; self.k];
        let mut report = FitReport {
            converged: false,
            iterations: 0,
            termination: Termination::MaxIterations,
            objective: f64::NEG_INFINITY,
        };
        let mut ll_uk = vec![vec![0.0; self.k]; n_users];
        while report.iterations < self.max_iterations {
            report.iterations += 1;
            // M-step: weighted pooled tables per prototype.
            for k in 0..self.k {
                let mut pooled = PairTable {
                    n_items: n,
                    pairs: Vec::new(),
                };
                let mut index = std::collections::HashMap::new();
                for (u, table) in tables.iter().enumerate() {
                    let w = resp[u][k];
                    for p in table {
                        let slot = *index.entry((p.i, p.j)).or_insert_with(|| {
                            pooled.pairs.push(PairCount {
                                i: p.i,
                                j: p.j,
                                wins_i: 0.0,
                                wins_j: 0.0,
                                ties: 0.0,
                            });
                            pooled.pairs.len() - 1
                        });
                        let q = &mut pooled.pairs[slot];
                        q.wins_i += w * p.wins_i;
                        q.wins_j += w * p.wins_j;
                        q.ties += w * p.ties;
                    }
                }
                let weights = vec![1.0; pooled.pairs.len()];
                let solution = solve(&bt, &pooled, &weights, Some((&prototypes[k], None)))?;
                prototypes[k] = solution.theta;
                mixing[k] = resp.iter().map(|r| r[k]).sum::<f64>() / n_users as f64;
            }
            // E-step.
            let mut total = 0.0;
            for (u, table) in tables.iter().enumerate() {
                for k in 0..self.k {
                    ll_uk[u][k] = mixing[k].max(1e-300).ln() + table_ll(table, &prototypes[k]);
                }
                let z = log_sum_exp(&ll_uk[u]);
                total += z;
                for k in 0..self.k {
                    resp[u][k] = (ll_uk[u][k] - z).exp();
                }
            }
            let penalty: f64 = prototypes
                .iter()
                .map(|t| self.l2 * t.iter().map(|x| x * x).sum::<f64>())
                .sum();
            let objective = total - penalty;
            let improvement = objective - report.objective;
            report.objective = objective;
            if improvement.abs() <= self.tolerance * objective.abs().max(1.0) {
                report.converged = true;
                report.termination = Termination::StepBelowTolerance;
                break;
            }
        }
        Ok(Mixture {
            items: votes.items.names().to_vec(),
            prototypes,
            mixing,
            annotators: votes.annotators.names().to_vec(),
            responsibilities: resp,
            report,
        })
    }
}

impl Mixture {
    /// The prototype with annotator `u`'s largest weight, and that weight.
    pub fn main_prototype(&self, u: usize) -> Option<(usize, f64)> {
        self.responsibilities
            .get(u)?
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Few-shot assignment: the posterior over prototypes of a new annotator given a handful of
    /// their votes (`votes` must use the same item names; unknown items are ignored).
    pub fn assign(&self, votes: &VoteSet) -> Vec<f64> {
        let mut scores: Vec<f64> = self.mixing.iter().map(|p| p.max(1e-300).ln()).collect();
        for v in &votes.votes {
            let name = |id: u32| {
                self.items
                    .iter()
                    .position(|n| *n == votes.items.names()[id as usize])
            };
            let (Some(a), Some(b)) = (name(v.a), name(v.b)) else {
                continue;
            };
            for (k, theta) in self.prototypes.iter().enumerate() {
                scores[k] += vote_ll(theta[a] - theta[b], v.outcome.score_a());
            }
        }
        let z = log_sum_exp(&scores);
        scores.iter().map(|s| (s - z).exp()).collect()
    }
}

/// Log-likelihood of one vote with score `s` for `a` (1, 0 or ½) at `d = θa − θb`.
fn vote_ll(d: f64, s: f64) -> f64 {
    let lw = crate::bt::cell_derivatives(TieModel::Half, d, 0.0, Cell::IWins)[0];
    let ll = crate::bt::cell_derivatives(TieModel::Half, d, 0.0, Cell::JWins)[0];
    s * lw + (1.0 - s) * ll
}

/// Held-out comparison of a K-prototype mixture with one pooled Bradley-Terry model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeldOut {
    /// Held-out votes scored.
    pub n_test: usize,
    /// Mean held-out log-likelihood per vote under the mixture (each annotator's prototype
    /// weights inferred from their training votes only).
    pub mixture: f64,
    /// Mean held-out log-likelihood per vote under the pooled model.
    pub pooled: f64,
}

/// Splits every annotator's votes (seeded, `test_fraction` of each into the test set), fits the
/// mixture and a pooled model (same L2) on the training votes, and scores the test votes.
pub fn held_out(
    votes: &VoteSet,
    params: &MixtureParams,
    test_fraction: f64,
) -> Result<HeldOut, FitError> {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed ^ 0x5eed);
    let is_test: Vec<bool> = votes
        .votes
        .iter()
        .map(|_| rng.random::<f64>() < test_fraction)
        .collect();
    let mut k = 0;
    let train = votes.filter(|_| {
        k += 1;
        !is_test[k - 1]
    });
    let mixture = params.fit(&train)?;
    let pooled = BradleyTerry::params().l2(params.l2).fit(&train)?;
    let (mut sum_mix, mut sum_pool, mut n_test) = (0.0, 0.0, 0usize);
    for (idx, v) in votes.votes.iter().enumerate() {
        if !is_test[idx] {
            continue;
        }
        let Some(u) = v.annotator else { continue };
        let (a, b) = (v.a as usize, v.b as usize);
        let s = v.outcome.score_a();
        let probs: Vec<f64> = mixture
            .prototypes
            .iter()
            .zip(&mixture.responsibilities[u as usize])
            .map(|(theta, r)| r.max(1e-300).ln() + vote_ll(theta[a] - theta[b], s))
            .collect();
        sum_mix += log_sum_exp(&probs);
        let t = pooled.log_strengths();
        sum_pool += vote_ll(t[a] - t[b], s);
        n_test += 1;
    }
    let denom = n_test.max(1) as f64;
    Ok(HeldOut {
        n_test,
        mixture: sum_mix / denom,
        pooled: sum_pool / denom,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::{Outcome, Vote};

    /// Two opposite prototypes; 30 annotators each. EM must put every annotator on their own
    /// prototype, recover the orderings, beat the pooled model on held-out votes, and assign a
    /// new annotator from ten votes.
    #[test]
    fn recovers_a_known_two_prototype_mixture() {
        let truth: [[f64; 4]; 2] = [[-1.0, -0.3, 0.3, 1.0], [1.0, 0.3, -0.3, -1.0]];
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let mut votes = VoteSet::default();
        for name in ["a", "b", "c", "d"] {
            votes.items.intern(name);
        }
        let mut group = Vec::new();
        for u in 0..60u32 {
            let g = (u % 2) as usize;
            group.push(g);
            votes.annotators.intern(&format!("u{u}"));
            for row in 0..80 {
                let a = rng.random_range(0..4u32);
                let b = (a + rng.random_range(1..4u32)) % 4;
                let p = 1.0 / (1.0 + (truth[g][b as usize] - truth[g][a as usize]).exp());
                let outcome = if rng.random::<f64>() < p {
                    Outcome::AWins
                } else {
                    Outcome::BWins
                };
                votes.votes.push(Vote {
                    a,
                    b,
                    outcome,
                    annotator: Some(u),
                    prompt: None,
                    category: None,
                    line: row,
                });
            }
        }
        let mixture = MixtureParams {
            k: 2,
            seed: 3,
            ..MixtureParams::default()
        }
        .fit(&votes)
        .unwrap();
        assert!(mixture.report.converged);
        // Which fitted prototype is group 0's?
        let k0 = if mixture.prototypes[0][3] > mixture.prototypes[0][0] {
            0
        } else {
            1
        };
        for (u, r) in mixture.responsibilities.iter().enumerate() {
            let want = if group[u] == 0 { k0 } else { 1 - k0 };
            assert!(r[want] > 0.99, "annotator {u}: {r:?}");
        }
        let p = &mixture.prototypes[k0];
        assert!(p.windows(2).all(|w| w[0] < w[1]), "{p:?}");
        let held = held_out(
            &votes,
            &MixtureParams {
                k: 2,
                seed: 3,
                ..MixtureParams::default()
            },
            0.2,
        )
        .unwrap();
        assert!(held.mixture > held.pooled + 0.1, "{held:?}");
        // Few-shot: ten votes that prefer d over a are enough.
        let few = VoteSet::from_triples(&vec![("d", "a", Outcome::AWins); 10]);
        assert!(mixture.assign(&few)[k0] > 0.95);
    }
}
