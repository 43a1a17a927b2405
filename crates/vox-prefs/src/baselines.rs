//! The simpler rankings evalica ships, with its conventions: counting, average win rate,
//! eigenvector, PageRank and Newman's tie-aware iteration.

use crate::fit::{FitReport, Termination};
use crate::pairs::PairTable;

/// Scores of a baseline method, indexed by item id.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineScores {
    /// One score per item (higher is better), length `n_items`.
    pub scores: Vec<f64>,
    /// Convergence report (direct methods report `Termination::Direct`).
    pub report: FitReport,
}

/// Wins plus half the ties, per item.
pub fn counting(table: &PairTable) -> BaselineScores {
    let mut scores = vec![0.0; table.n_items];
    for p in &table.pairs {
        scores[p.i as usize] += p.wins_i + 0.5 * p.ties;
        scores[p.j as usize] += p.wins_j + 0.5 * p.ties;
    }
    BaselineScores {
        scores,
        report: FitReport::direct(),
    }
}

/// Mean over opponents met of `(wins + ½ ties) / comparisons` against that opponent.
pub fn average_win_rate(table: &PairTable) -> BaselineScores {
    let n = table.n_items;
    let mut sum = vec![0.0; n];
    let mut opponents = vec![0usize; n];
    for p in &table.pairs {
        let total = p.total();
        if total > 0.0 {
            sum[p.i as usize] += (p.wins_i + 0.5 * p.ties) / total;
            sum[p.j as usize] += (p.wins_j + 0.5 * p.ties) / total;
            opponents[p.i as usize] += 1;
            opponents[p.j as usize] += 1;
        }
    }
    let scores = (0..n)
        .map(|i| {
            if opponents[i] > 0 {
                sum[i] / opponents[i] as f64
            } else {
                0.0
            }
        })
        .collect();
    BaselineScores {
        scores,
        report: FitReport::direct(),
    }
}

/// Power iteration `s ← Mᵀs / ‖Mᵀs‖₂` from `s = 1/n`, row-major `m`.
fn power_iteration(m: &[f64], n: usize, tolerance: f64, limit: usize) -> BaselineScores {
    let mut s = vec![1.0 / n as f64; n];
    let mut next = vec![0.0; n];
    let mut report = FitReport {
        converged: false,
        iterations: 0,
        termination: Termination::MaxIterations,
        objective: f64::NAN,
    };
    while report.iterations < limit {
        report.iterations += 1;
        next.iter_mut().for_each(|x| *x = 0.0);
        for i in 0..n {
            for j in 0..n {
                next[j] += m[i * n + j] * s[i];
            }
        }
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            next.iter_mut().for_each(|x| *x /= norm);
        }
        let diff = next
            .iter()
            .zip(&s)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        std::mem::swap(&mut s, &mut next);
        if diff < tolerance {
            report.converged = true;
            report.termination = Termination::StepBelowTolerance;
            break;
        }
    }
    BaselineScores { scores: s, report }
}

/// evalica's eigenvector method: the leading eigenvector by power iteration (L2-normalised) of
/// `M = wins + ½ ties`, iterating `s ← Mᵀs`. Note the orientation is evalica's own: with
/// `M[i][j]` = times i beat j it gives weight to items whose beaters are strong. Default
/// tolerance 1e-6, limit 100.
pub fn eigenvector(table: &PairTable, tolerance: f64, limit: usize) -> BaselineScores {
    let n = table.n_items;
    let (wins, ties) = table.matrices();
    let m: Vec<f64> = wins.iter().zip(&ties).map(|(w, t)| w + 0.5 * t).collect();
    power_iteration(&m, n, tolerance, limit)
}

/// evalica's PageRank over `M = wins + ½ ties`: transpose, give empty rows the uniform
/// distribution, normalise rows, damp (`damping · M + (1 − damping)/n`), power-iterate, and
/// normalise to sum 1. Defaults: damping 0.85, tolerance 1e-6, limit 100.
pub fn pagerank(table: &PairTable, damping: f64, tolerance: f64, limit: usize) -> BaselineScores {
    let n = table.n_items;
    let (wins, ties) = table.matrices();
    let p = 1.0 / n as f64;
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            m[i * n + j] = wins[j * n + i] + 0.5 * ties[j * n + i];
        }
    }
    for i in 0..n {
        let row = &mut m[i * n..(i + 1) * n];
        let mut sum: f64 = row.iter().sum();
        if sum == 0.0 {
            row.iter_mut().for_each(|x| *x = p);
            sum = 1.0;
        }
        row.iter_mut()
            .for_each(|x| *x = damping * (*x / sum) + (1.0 - damping) * p);
    }
    let mut out = power_iteration(&m, n, tolerance, limit);
    let s: f64 = out.scores.iter().sum();
    out.scores.iter_mut().for_each(|x| *x /= s);
    out
}

/// Newman's (2023) iteration for Bradley-Terry with ties (a Davidson-type model with tie
/// parameter `v`), exactly as evalica runs it: scores start at 1 and are not renormalised;
/// `v` starts at `v_init` (default 0.5); stop when the L2 change of the scores is below
/// `tolerance` (default 1e-6) or after `limit` (default 100) iterations. Returns the scores and
/// the final `v`.
pub fn newman(
    table: &PairTable,
    v_init: f64,
    tolerance: f64,
    limit: usize,
) -> (BaselineScores, f64) {
    let n = table.n_items;
    let (wins, ties) = table.matrices();
    let win_tie_half: Vec<f64> = wins.iter().zip(&ties).map(|(w, t)| w + 0.5 * t).collect();
    let mut scores: Vec<f64> = vec![1.0; n];
    let mut v_new = v_init;
    let mut v = v_init;
    let mut report = FitReport {
        converged: false,
        iterations: 0,
        termination: Termination::MaxIterations,
        objective: f64::NAN,
    };
    let fix = |x: f64| if x.is_finite() { x } else { tolerance };
    while report.iterations < limit {
        report.iterations += 1;
        v = fix(v_new);
        let mut num = vec![0.0; n];
        let mut den = vec![0.0; n];
        let (mut v_num, mut v_den) = (0.0, 0.0);
        for i in 0..n {
            for j in 0..n {
                let (si, sj) = (scores[i], scores[j]);
                let sqrt_prod = (si * sj).sqrt();
                let common = si + sj + 2.0 * v * sqrt_prod;
                num[i] += win_tie_half[i * n + j] * (sj + v * sqrt_prod) / common;
                den[i] += win_tie_half[j * n + i] * (1.0 + v * (sj / si).sqrt()) / common;
                v_num += ties[i * n + j] * (si + sj) / common;
                v_den += wins[i * n + j] * sqrt_prod / common;
            }
        }
        let new: Vec<f64> = (0..n).map(|i| fix(num[i] / den[i])).collect();
        v_new = (v_num / 2.0) / (v_den * 2.0);
        let diff = new
            .iter()
            .zip(&scores)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        scores = new;
        if diff < tolerance {
            report.converged = true;
            report.termination = Termination::StepBelowTolerance;
            break;
        }
    }
    (BaselineScores { scores, report }, v)
}
