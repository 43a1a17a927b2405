//! Fidelity metrics between answer distributions, individual-level agreement, bootstrap
//! confidence intervals and the split-half noise ceiling. Pure statistics: this module never
//! calls a language model and does no I/O.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Probabilities below this floor are raised to it (and the vector renormalised) before a KL
/// divergence, so that an option the model never gives does not make the divergence infinite.
pub const KL_FLOOR: f64 = 1e-6;

/// Kullback–Leibler divergence `KL(p ‖ q)` in nats. `q` is floored at [`KL_FLOOR`] and
/// renormalised; `p` is used as given (terms with `p = 0` contribute nothing).
///
/// Both slices must have the same length; the caller aligns options.
pub fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    let q_floored: Vec<f64> = q.iter().map(|v| v.max(KL_FLOOR)).collect();
    let q_total: f64 = q_floored.iter().sum();
    p.iter()
        .zip(&q_floored)
        .filter(|(pi, _)| **pi > 0.0)
        .map(|(pi, qi)| pi * (pi / (qi / q_total)).ln())
        .sum()
}

/// Total variation distance `½ Σ |p − q|`, in [0, 1] for distributions (Meister et al.).
pub fn total_variation(p: &[f64], q: &[f64]) -> f64 {
    0.5 * p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum::<f64>()
}

/// Jensen–Shannon *distance* with base-2 logarithms: `sqrt(½ KL₂(p‖m) + ½ KL₂(q‖m))` with
/// `m = (p + q)/2`. It lies in [0, 1].
pub fn js_distance(p: &[f64], q: &[f64]) -> f64 {
    let kl2 = |a: &[f64], m: &[f64]| -> f64 {
        a.iter()
            .zip(m)
            .filter(|(ai, _)| **ai > 0.0)
            .map(|(ai, mi)| ai * (ai / mi).log2())
            .sum()
    };
    let m: Vec<f64> = p.iter().zip(q).map(|(a, b)| 0.5 * (a + b)).collect();
    let divergence = 0.5 * kl2(p, &m) + 0.5 * kl2(q, &m);
    // Rounding can make a zero divergence very slightly negative.
    divergence.max(0.0).sqrt()
}

/// GlobalOpinionQA's similarity: `1 − js_distance(p, q)` (base 2), in [0, 1].
pub fn similarity_js(p: &[f64], q: &[f64]) -> f64 {
    1.0 - js_distance(p, q)
}

/// The 1-Wasserstein (earth mover's) distance between two distributions placed on the real
/// positions `support` (one per option, any order).
pub fn wasserstein_1d(p: &[f64], q: &[f64], support: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..support.len()).collect();
    order.sort_by(|&a, &b| support[a].total_cmp(&support[b]));
    let (mut cdf_p, mut cdf_q, mut distance) = (0.0, 0.0, 0.0);
    for window in order.windows(2) {
        cdf_p += p[window[0]];
        cdf_q += q[window[0]];
        distance += (cdf_p - cdf_q).abs() * (support[window[1]] - support[window[0]]);
    }
    distance
}

/// OpinionQA's representativeness: `1 − W₁(p, q) / (max − min)` over the ordinal positions.
/// With the positions `0…K−1` this is `1 − W₁/(K−1)`. `None` when the positions span no range.
pub fn similarity_wd(p: &[f64], q: &[f64], ordinal: &[f64]) -> Option<f64> {
    let min = ordinal.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = ordinal.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let range = max - min;
    if !range.is_finite() || range <= 0.0 {
        return None;
    }
    Some(1.0 - wasserstein_1d(p, q, ordinal) / range)
}

/// The metrics of one simulated distribution against one human distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ItemMetrics {
    /// `1 − JS distance` (base 2), in [0, 1]; higher is closer.
    pub similarity_js: f64,
    /// `1 − W₁ / range` over the ordinal positions, present when the question is ordinal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity_wd: Option<f64>,
    /// Total variation distance, in [0, 1]; lower is closer.
    pub tv: f64,
    /// `KL(human ‖ simulated)` in nats, with the simulated side floored at [`KL_FLOOR`].
    pub kl: f64,
}

/// All metrics of `simulated` against `human` (same option order). `ordinal` gives each
/// option's position for the Wasserstein similarity.
pub fn item_metrics(simulated: &[f64], human: &[f64], ordinal: Option<&[f64]>) -> ItemMetrics {
    ItemMetrics {
        similarity_js: similarity_js(simulated, human),
        similarity_wd: ordinal.and_then(|o| similarity_wd(simulated, human, o)),
        tv: total_variation(simulated, human),
        kl: kl_divergence(human, simulated),
    }
}

/// Area under the ROC curve of `scores` for binary `labels` (true = positive), computed as the
/// Mann–Whitney probability that a random positive outscores a random negative, ties counting
/// one half. `None` when either class is empty or the lengths differ.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if scores.len() != labels.len() {
        return None;
    }
    let ranks = average_ranks(scores);
    let n_pos = labels.iter().filter(|l| **l).count();
    let n_neg = labels.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let rank_sum: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(r, _)| r)
        .sum();
    let u = rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos * n_neg) as f64)
}

/// Spearman's rank correlation (Pearson correlation of average ranks, so ties are handled).
/// `None` when fewer than two pairs, the lengths differ, or either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Pearson's correlation; `None` when either side has zero variance.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let mean_x = x.iter().sum::<f64>() / n;
    let mean_y = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mean_x) * (b - mean_y);
        sxx += (a - mean_x).powi(2);
        syy += (b - mean_y).powi(2);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

/// 1-based ranks with ties given the average of the ranks they span.
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        let average = (start + end) as f64 / 2.0 + 1.0;
        for &index in &order[start..=end] {
            ranks[index] = average;
        }
        start = end + 1;
    }
    ranks
}

/// A mean with a bootstrap percentile confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    /// Plain mean of the values.
    pub mean: f64,
    /// Lower end of the interval (2.5th percentile of resampled means for a 95% interval).
    pub ci_low: f64,
    /// Upper end of the interval.
    pub ci_high: f64,
    /// Number of values.
    pub n: usize,
}

/// Settings of a bootstrap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapConfig {
    /// Number of resamples. Default 1000.
    pub n_resamples: usize,
    /// Coverage of the interval, in (0, 1). Default 0.95.
    pub level: f64,
    /// Seed of the resampling stream. Default 0.
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            n_resamples: 1000,
            level: 0.95,
            seed: 0,
        }
    }
}

/// The mean of `values` with a percentile-bootstrap interval (resampling values with
/// replacement). `None` for no values. Non-finite values are the caller's to remove.
pub fn bootstrap_mean(values: &[f64], config: &BootstrapConfig) -> Option<MeanCi> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut means: Vec<f64> = (0..config.n_resamples.max(1))
        .map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let tail = (1.0 - config.level) / 2.0;
    Some(MeanCi {
        mean,
        ci_low: quantile_sorted(&means, tail),
        ci_high: quantile_sorted(&means, 1.0 - tail),
        n,
    })
}

/// Linear-interpolation quantile of sorted values (numpy's default).
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}

/// The split-half agreement of one group's answers, estimated from its answer counts: the
/// respondents are split at random into two halves, each half's distribution is computed, and
/// the halves are compared with [`item_metrics`]. The result averages `n_splits` seeded splits.
///
/// Counts are rounded to whole respondents. `None` when fewer than two respondents answered.
/// Each half holds only half the sample, so this ceiling is conservative: agreement between two
/// full samples would be higher.
pub fn split_half(
    counts: &[f64],
    ordinal: Option<&[f64]>,
    n_splits: usize,
    seed: u64,
) -> Option<ItemMetrics> {
    let mut respondents: Vec<usize> = Vec::new();
    for (option, count) in counts.iter().enumerate() {
        let whole = if count.is_finite() && *count > 0.0 {
            count.round() as usize
        } else {
            0
        };
        respondents.extend(std::iter::repeat_n(option, whole));
    }
    if respondents.len() < 2 || n_splits == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = counts.len();
    let half = respondents.len() / 2;
    let mut sums = ItemMetrics {
        similarity_js: 0.0,
        similarity_wd: None,
        tv: 0.0,
        kl: 0.0,
    };
    let mut wd_sum = 0.0;
    for _ in 0..n_splits {
        respondents.shuffle(&mut rng);
        let mut first = vec![0.0; k];
        let mut second = vec![0.0; k];
        for &option in &respondents[..half] {
            first[option] += 1.0;
        }
        for &option in &respondents[half..] {
            second[option] += 1.0;
        }
        let normalise = |v: &mut Vec<f64>| {
            let total: f64 = v.iter().sum();
            v.iter_mut().for_each(|x| *x /= total);
        };
        normalise(&mut first);
        normalise(&mut second);
        let metrics = item_metrics(&first, &second, ordinal);
        sums.similarity_js += metrics.similarity_js;
        sums.tv += metrics.tv;
        sums.kl += metrics.kl;
        if let Some(wd) = metrics.similarity_wd {
            wd_sum += wd;
            sums.similarity_wd = Some(0.0);
        }
    }
    let n = n_splits as f64;
    Some(ItemMetrics {
        similarity_js: sums.similarity_js / n,
        similarity_wd: sums.similarity_wd.map(|_| wd_sum / n),
        tv: sums.tv / n,
        kl: sums.kl / n,
    })
}

/// A seeded random permutation of `0..n` that moves every index (a derangement), for the
/// shuffled-demographics baseline. For `n < 2` it returns the identity.
pub fn derangement(n: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut permutation: Vec<usize> = (0..n).collect();
    if n < 2 {
        return permutation;
    }
    loop {
        permutation.shuffle(rng);
        if permutation.iter().enumerate().all(|(i, &p)| i != p) {
            return permutation;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn total_variation_by_hand() {
        // ½(|0.5−0.2| + |0.5−0.8|) = 0.3
        close(total_variation(&[0.5, 0.5], &[0.2, 0.8]), 0.3);
        close(total_variation(&[1.0, 0.0], &[0.0, 1.0]), 1.0);
    }

    #[test]
    fn js_distance_by_hand() {
        // Disjoint supports: JSD₂ = 1, distance 1, similarity 0.
        close(js_distance(&[1.0, 0.0], &[0.0, 1.0]), 1.0);
        close(similarity_js(&[0.3, 0.7], &[0.3, 0.7]), 1.0);
        // p = (1, 0), q = (½, ½): m = (¾, ¼).
        // KL₂(p‖m) = log₂(4/3); KL₂(q‖m) = ½log₂(2/3) + ½log₂(2) ; JSD = mean of the two.
        let jsd = 0.5 * (4.0f64 / 3.0).log2() + 0.5 * (0.5 * (2.0f64 / 3.0).log2() + 0.5);
        close(js_distance(&[1.0, 0.0], &[0.5, 0.5]), jsd.sqrt());
        // ≈ 0.5579 by hand.
        assert!((js_distance(&[1.0, 0.0], &[0.5, 0.5]) - 0.5579).abs() < 1e-4);
    }

    #[test]
    fn wasserstein_by_hand() {
        // All mass moves from position 0 to position 2: W₁ = 2, range 2, similarity 0.
        close(
            wasserstein_1d(&[1.0, 0.0, 0.0], &[0.0, 0.0, 1.0], &[0.0, 1.0, 2.0]),
            2.0,
        );
        close(
            similarity_wd(&[1.0, 0.0, 0.0], &[0.0, 0.0, 1.0], &[0.0, 1.0, 2.0]).unwrap(),
            0.0,
        );
        // Half the mass moves one step: W₁ = 0.5, similarity 1 − 0.5/2 = 0.75.
        close(
            similarity_wd(&[1.0, 0.0, 0.0], &[0.5, 0.5, 0.0], &[0.0, 1.0, 2.0]).unwrap(),
            0.75,
        );
        // Unsorted positions (OpinionQA's "about the same" = 1.5 listed last): the same answer.
        let w = wasserstein_1d(&[1.0, 0.0, 0.0], &[0.0, 0.0, 1.0], &[1.0, 2.0, 1.5]);
        close(w, 0.5);
        assert_eq!(similarity_wd(&[0.5, 0.5], &[0.5, 0.5], &[1.0, 1.0]), None);
    }

    #[test]
    fn kl_by_hand() {
        // KL((½,½) ‖ (¼,¾)) = ½ln2 + ½ln(2/3)
        let expected = 0.5 * 2.0f64.ln() + 0.5 * (2.0f64 / 3.0).ln();
        close(kl_divergence(&[0.5, 0.5], &[0.25, 0.75]), expected);
        close(kl_divergence(&[0.2, 0.8], &[0.2, 0.8]), 0.0);
        // A zero on the simulated side is floored, so the value is large but finite.
        assert!(kl_divergence(&[0.5, 0.5], &[1.0, 0.0]).is_finite());
    }

    #[test]
    fn auc_by_hand() {
        // Positives 0.9, 0.4; negatives 0.5, 0.1: pairs won 1+1+0+1 = 3 of 4.
        close(
            auc(&[0.9, 0.4, 0.5, 0.1], &[true, true, false, false]).unwrap(),
            0.75,
        );
        // A tie counts one half.
        close(auc(&[0.5, 0.5], &[true, false]).unwrap(), 0.5);
        assert_eq!(auc(&[0.5, 0.5], &[true, true]), None);
    }

    #[test]
    fn spearman_by_hand() {
        close(
            spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]).unwrap(),
            1.0,
        );
        close(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(), -1.0);
        // Ranks x = (1,2,3,4), y = (1,3,2,4): d² = 0+1+1+0 = 2, ρ = 1 − 6·2/(4·15) = 0.8.
        close(
            spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap(),
            0.8,
        );
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_mean() {
        let values: Vec<f64> = (0..50).map(|i| i as f64 / 50.0).collect();
        let config = BootstrapConfig {
            seed: 7,
            ..Default::default()
        };
        let a = bootstrap_mean(&values, &config).unwrap();
        let b = bootstrap_mean(&values, &config).unwrap();
        assert_eq!(a, b);
        close(a.mean, 0.49);
        assert!(a.ci_low < a.mean && a.mean < a.ci_high);
        // Standard error ≈ 0.2886/√50 ≈ 0.041; the 95% interval is about ±0.08.
        assert!((a.ci_high - a.ci_low - 0.16).abs() < 0.04, "{a:?}");
        let constant = bootstrap_mean(&[0.3; 10], &config).unwrap();
        close(constant.ci_low, 0.3);
        close(constant.ci_high, 0.3);
    }

    #[test]
    fn split_half_of_a_unanimous_group_is_perfect() {
        let metrics = split_half(&[40.0, 0.0, 0.0], Some(&[0.0, 1.0, 2.0]), 5, 1).unwrap();
        close(metrics.similarity_js, 1.0);
        close(metrics.tv, 0.0);
        close(metrics.similarity_wd.unwrap(), 1.0);
        assert_eq!(split_half(&[1.0, 0.0], None, 5, 1), None);
    }

    #[test]
    fn split_half_of_a_large_sample_is_near_one() {
        let big = split_half(&[5000.0, 5000.0], None, 10, 3).unwrap();
        let small = split_half(&[10.0, 10.0], None, 10, 3).unwrap();
        assert!(big.tv < 0.02, "{big:?}");
        assert!(small.tv > big.tv);
    }

    #[test]
    fn derangement_moves_everything() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for n in 2..8 {
            let p = derangement(n, &mut rng);
            assert!(p.iter().enumerate().all(|(i, &v)| i != v));
            let mut sorted = p.clone();
            sorted.sort();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        }
    }
}
