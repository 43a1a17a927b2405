//! Exact multinomial resampling for the bootstrap: the conditional-binomial method, with
//! Hörmann's BTRS binomial sampler for large means.
//!
//! Why not `rand_distr::Binomial` throughout: each bootstrap round draws one binomial per
//! (pair, outcome) cell (about 3,000 on the 140k Arena votes), and `rand_distr`'s BTPE spends
//! ~110 ns per draw here, half of a round. BTRS (W. Hörmann, "The generation of binomial random
//! variates", J. Statist. Comput. Simul. 46, 1993; the sampler TensorFlow and JAX use) accepts
//! ~80% of draws after two uniforms and a division, and needs no per-(n, p) table. Small means
//! (`n·min(p, 1−p) < 10`) still go to `rand_distr`'s inversion. Both are exact; the tests
//! check the draws against the binomial pmf with chi-square tests.

use rand::Rng;
use rand_distr::{Binomial, Distribution};
use statrs::function::gamma::ln_gamma;

/// Below this mean `n·min(p, 1−p)`, BTRS's bounds do not hold; inversion is cheap there.
const BTRS_MIN_MEAN: f64 = 10.0;

/// One draw from Binomial(n, p), `p` in `[0, 1]`.
pub(crate) fn binomial<R: Rng + ?Sized>(n: u64, p: f64, rng: &mut R) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(n, 1.0 - p, rng);
    }
    if (n as f64) * p < BTRS_MIN_MEAN {
        return Binomial::new(n, p)
            .expect("0 < p <= 0.5 is a valid binomial probability")
            .sample(rng);
    }
    btrs(n, p, rng)
}

/// Hörmann's BTRS (transformed rejection with squeeze) for `p ≤ ½` and `n·p ≥ 10`.
fn btrs<R: Rng + ?Sized>(n: u64, p: f64, rng: &mut R) -> u64 {
    let nf = n as f64;
    let q = 1.0 - p;
    let spq = (nf * p * q).sqrt();
    let b = 1.15 + 2.53 * spq;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = nf * p + 0.5;
    let v_r = 0.92 - 4.2 / b;
    let alpha = (2.83 + 5.1 / b) * spq;
    let m = ((nf + 1.0) * p).floor();
    // Outside the squeeze region, k is accepted when v ≤ pmf(k)/pmf(m): by the recursion when
    // k is near the mode m, else through log-gamma with `ln(p/q)` and log pmf(m) (up to the
    // constant shared with pmf(k)) computed once, lazily.
    let mut slow: Option<(f64, f64)> = None;
    loop {
        let u: f64 = rng.random::<f64>() - 0.5;
        let v: f64 = rng.random();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + c).floor();
        if us >= 0.07 && v <= v_r {
            return k as u64;
        }
        if k < 0.0 || k > nf {
            continue;
        }
        let v = v * alpha / (a / (us * us) + b);
        let (k_u, m_u) = (k as u64, m as u64);
        if k_u.abs_diff(m_u) <= 16 {
            // pmf(k) / pmf(m) by the recursion pmf(i) / pmf(i−1) = (n−i+1)/i · p/q: no logs.
            let s = p / q;
            let mut ratio = 1.0;
            if k_u > m_u {
                for i in m_u + 1..=k_u {
                    ratio *= (nf - i as f64 + 1.0) / i as f64 * s;
                }
            } else {
                for i in k_u + 1..=m_u {
                    ratio *= i as f64 / ((nf - i as f64 + 1.0) * s);
                }
            }
            if v <= ratio {
                return k_u;
            }
            continue;
        }
        let (lpq, h) =
            *slow.get_or_insert_with(|| ((p / q).ln(), ln_gamma(m + 1.0) + ln_gamma(nf - m + 1.0)));
        // log(pmf(k) / pmf(m)).
        if v.ln() <= h - ln_gamma(k + 1.0) - ln_gamma(nf - k + 1.0) + (k - m) * lpq {
            return k_u;
        }
    }
}

/// A multinomial draw of `n` trials over cells with probabilities `probs` (summing to 1 up to
/// rounding), by conditional binomials in cell order; `out` receives the counts.
pub(crate) fn multinomial<R: Rng + ?Sized>(n: u64, probs: &[f64], rng: &mut R, out: &mut [u64]) {
    let mut remaining = n;
    let mut remaining_p = 1.0f64;
    for (slot, &prob) in out.iter_mut().zip(probs) {
        if remaining == 0 {
            *slot = 0;
            continue;
        }
        let q = if remaining_p > 0.0 {
            (prob / remaining_p).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let x = binomial(remaining, q, rng);
        *slot = x;
        remaining -= x;
        remaining_p -= prob;
    }
    // Rounding can leave a few trials after the last cell; they belong to it (its conditional
    // probability is 1 in exact arithmetic).
    if let Some(last) = out.last_mut() {
        *last += remaining;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use statrs::distribution::{ChiSquared, ContinuousCDF, Discrete};

    /// Pearson's chi-square of `draws` against Binomial(n, p), bins with expected count < 5
    /// merged into their neighbours; returns the p-value.
    fn chi_square_p_value(n: u64, p: f64, draws: &[u64]) -> f64 {
        let pmf = statrs::distribution::Binomial::new(p, n).unwrap();
        let mut observed = std::collections::BTreeMap::<u64, f64>::new();
        for &x in draws {
            *observed.entry(x).or_default() += 1.0;
        }
        let total = draws.len() as f64;
        // Bins over the support that carries all but 1e-12 of the mass.
        let mean = n as f64 * p;
        let sd = (mean * (1.0 - p)).sqrt();
        let lo = (mean - 12.0 * sd).max(0.0) as u64;
        let hi = ((mean + 12.0 * sd) as u64).min(n);
        let (mut stat, mut bins) = (0.0, 0usize);
        let (mut exp_acc, mut obs_acc) = (0.0, 0.0);
        // Mass below lo goes into the first bin, above hi into the last.
        obs_acc += observed.range(..lo).map(|(_, c)| c).sum::<f64>();
        for k in lo..=hi {
            exp_acc += total * pmf.pmf(k);
            obs_acc += observed.get(&k).copied().unwrap_or(0.0);
            if k == hi {
                obs_acc += observed.range(hi + 1..).map(|(_, c)| c).sum::<f64>();
            }
            if exp_acc >= 5.0 {
                stat += (obs_acc - exp_acc).powi(2) / exp_acc;
                bins += 1;
                exp_acc = 0.0;
                obs_acc = 0.0;
            }
        }
        if exp_acc > 0.0 {
            stat += (obs_acc - exp_acc).powi(2) / exp_acc.max(1e-300);
            bins += 1;
        }
        let dof = (bins - 1) as f64;
        1.0 - ChiSquared::new(dof).unwrap().cdf(stat)
    }

    /// Draws from BTRS and from the inversion branch follow the binomial pmf. Each case has 10⁶
    /// draws, enough to reveal a 1% error in any well-populated bin; with 9 cases at the 10⁻⁴
    /// level a false failure has probability below 10⁻³ (the seeds are fixed, so it is either
    /// always or never).
    #[test]
    fn binomial_draws_follow_the_pmf() {
        let cases = [
            (20, 0.5),
            (100, 0.1),
            (100, 0.3),
            (1_000, 0.02),
            (1_000, 0.5),
            (135_634, 0.00005),
            (135_634, 0.003),
            (135_634, 0.37),
            (40, 0.9),
        ];
        for (case, &(n, p)) in cases.iter().enumerate() {
            let mut rng = ChaCha8Rng::seed_from_u64(case as u64);
            let draws: Vec<u64> = (0..1_000_000).map(|_| binomial(n, p, &mut rng)).collect();
            let pv = chi_square_p_value(n, p, &draws);
            assert!(pv > 1e-4, "Binomial({n}, {p}): chi-square p-value {pv}");
            let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
            let se = (n as f64 * p * (1.0 - p) / draws.len() as f64).sqrt();
            assert!(
                (mean - n as f64 * p).abs() < 5.0 * se.max(1e-9),
                "Binomial({n}, {p}): mean {mean}"
            );
        }
    }

    #[test]
    fn binomial_edges() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert_eq!(binomial(0, 0.3, &mut rng), 0);
        assert_eq!(binomial(10, 0.0, &mut rng), 0);
        assert_eq!(binomial(10, 1.0, &mut rng), 10);
        for _ in 0..1000 {
            assert!(binomial(50, 0.5, &mut rng) <= 50);
        }
    }

    #[test]
    fn multinomial_conserves_trials_and_matches_means() {
        let probs = [0.5, 0.2, 0.2, 0.1 - 1e-17, 1e-17];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut sums = [0.0; 5];
        let mut out = [0u64; 5];
        for _ in 0..20_000 {
            multinomial(1_000, &probs, &mut rng, &mut out);
            assert_eq!(out.iter().sum::<u64>(), 1_000);
            for (s, &x) in sums.iter_mut().zip(&out) {
                *s += x as f64;
            }
        }
        for (s, p) in sums.iter().zip(probs) {
            let mean = s / 20_000.0;
            let se = (1_000.0 * p * (1.0 - p) / 20_000.0).sqrt();
            assert!(
                (mean - 1_000.0 * p).abs() < 5.0 * se + 1e-9,
                "{mean} vs {p}"
            );
        }
    }
}
