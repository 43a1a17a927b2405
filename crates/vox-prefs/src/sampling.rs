//! Exact multinomial resampling for the bootstrap, by Poissonisation: one Poisson draw per
//! cell from a sampler set up once per cell, then a small categorical top-up.
//!
//! Why not `rand_distr` throughout: a bootstrap round needs one draw per (pair, outcome) cell
//! (3,594 on the 140k Arena votes). Conditional binomials change their parameters on every call,
//! so no per-cell set-up can be reused; `rand_distr`'s BTPE cost ~110 ns per draw here and a
//! hand-written BTRS ~45 ns. With Poissonisation the parameters are fixed per cell, but
//! `rand_distr::Poisson` (Ahrens–Dieter with a normal draw, or Knuth's product of λ + 1
//! uniforms) still cost ~30 ns per cell. [`PoissonSampler`] is Hörmann's PTRS for λ ≥ 10 (W.
//! Hörmann, "The transformed rejection method for generating Poisson random variables",
//! Insurance: Mathematics and Economics 12, 1993; the sampler numpy uses) with its constants
//! precomputed, and inversion on a tabulated cdf below. All of it is
//! exact; the tests check draws against the pmf with chi-square tests.

use rand::Rng;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::Distribution;
use statrs::function::gamma::ln_gamma;

use crate::linalg::exp_taylor;

/// From this mean PTRS's hat covers the pmf (Hörmann 1993); below it, inversion is cheap.
const PTRS_MIN_MEAN: f64 = 10.0;

/// A Poisson(λ) sampler with its per-λ constants computed once.
#[derive(Debug, Clone)]
enum PoissonSampler {
    /// λ = 0.
    Zero,
    /// Inversion from k = 0 (λ < 10) on the cdf, tabulated until it stops growing in f64.
    Inversion { cdf: Vec<f64> },
    /// PTRS (λ ≥ 10).
    Ptrs(Ptrs),
}

/// PTRS constants, named as in Hörmann (1993).
#[derive(Debug, Clone)]
struct Ptrs {
    lambda: f64,
    log_lambda: f64,
    a: f64,
    b: f64,
    v_r: f64,
    /// 1/α.
    inv_alpha: f64,
    /// λ + 0.43, the shift of the hat's inverse.
    shift: f64,
}

impl PoissonSampler {
    /// `lambda` must be finite and ≥ 0.
    fn new(lambda: f64) -> Self {
        debug_assert!(lambda.is_finite() && lambda >= 0.0);
        if lambda <= 0.0 {
            PoissonSampler::Zero
        } else if lambda < PTRS_MIN_MEAN {
            // cdf(k) by summing pmf(k) = pmf(k − 1)·λ/k; past the mode the terms shrink, and
            // the table ends where adding one no longer changes the sum (by k ≈ 45).
            let mut pmf = (-lambda).exp();
            let mut cdf = vec![pmf];
            for k in 1.. {
                pmf *= lambda / f64::from(k);
                let last = cdf[cdf.len() - 1];
                let next = last + pmf;
                if next == last && f64::from(k) > lambda {
                    break;
                }
                cdf.push(next);
            }
            PoissonSampler::Inversion { cdf }
        } else {
            let b = 0.931 + 2.53 * lambda.sqrt();
            PoissonSampler::Ptrs(Ptrs {
                lambda,
                log_lambda: lambda.ln(),
                a: -0.059 + 0.02483 * b,
                b,
                v_r: 0.9277 - 3.6224 / (b - 2.0),
                inv_alpha: 1.1239 + 1.1328 / (b - 3.4),
                shift: lambda + 0.43,
            })
        }
    }

    /// One draw; `log_factorial[k]` is ln k! for the k it covers (ln_gamma beyond).
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R, log_factorial: &[f64]) -> u64 {
        match self {
            PoissonSampler::Zero => 0,
            PoissonSampler::Inversion { cdf } => {
                // The first k with u ≤ cdf(k): independent loads and compares, no division
                // chain. A u above the table's rounded total (mass below 2⁻⁵³) takes its end.
                let u: f64 = rng.random();
                cdf.iter().position(|&c| u <= c).unwrap_or(cdf.len() - 1) as u64
            }
            PoissonSampler::Ptrs(c) => c.sample(rng, log_factorial),
        }
    }
}

impl Ptrs {
    /// One proposal from uniforms `u ∈ [−½, ½)` and `v ∈ [0, 1)`: `(k, us, accepted by the
    /// squeeze)`.
    #[inline(always)]
    fn propose(&self, u: f64, v: f64) -> (f64, f64, bool) {
        let us = 0.5 - u.abs();
        let k = ((2.0 * self.a / us + self.b) * u + self.shift).floor();
        (k, us, us >= 0.07 && v <= self.v_r)
    }

    /// The terms of Hörmann's exact test for a proposal the squeeze did not accept, as
    /// [`passes`] takes them: `[v/α, a/us² + b, ln pmf(k)]`, with ln pmf = −∞ for a proposal
    /// rejected before the test.
    #[inline(always)]
    fn test_terms(&self, k: f64, us: f64, v: f64, log_factorial: &[f64]) -> [f64; 3] {
        let log_pmf = if k < 0.0 || (us < 0.013 && v > us) {
            f64::NEG_INFINITY
        } else {
            k * self.log_lambda - self.lambda - ln_factorial(log_factorial, k)
        };
        [v * self.inv_alpha, self.a / (us * us) + self.b, log_pmf]
    }

    fn accept(&self, k: f64, us: f64, v: f64, log_factorial: &[f64]) -> bool {
        passes(self.test_terms(k, us, v, log_factorial))
    }

    /// Proposals until one is accepted.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R, log_factorial: &[f64]) -> u64 {
        loop {
            let u: f64 = rng.random::<f64>() - 0.5;
            let v: f64 = rng.random();
            let (k, us, squeezed) = self.propose(u, v);
            if squeezed || self.accept(k, us, v, log_factorial) {
                return k as u64;
            }
        }
    }
}

/// Hörmann's ln v + ln(1/α) − ln(a/us² + b) ≤ ln pmf(k), exponentiated (one exp instead of
/// two logs, and no branch, so a loop of it vectorises), on [`Ptrs::test_terms`]; −∞ rejects
/// even when v = 0.
#[inline(always)]
fn passes([lhs, hat, log_pmf]: [f64; 3]) -> bool {
    (log_pmf != f64::NEG_INFINITY) & (lhs <= hat * exp_branch_free(log_pmf))
}

/// ln k! for a whole k ≥ 0: from `table` where it reaches, else by ln Γ.
fn ln_factorial(table: &[f64], k: f64) -> f64 {
    table
        .get(k as usize)
        .copied()
        .unwrap_or_else(|| ln_gamma(k + 1.0))
}

/// Scratch for [`Multinomial::sample`], kept by callers between draws: the PTRS proposals that
/// the squeeze did not accept, as columns, with the terms of their exact test.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    cell: Vec<u32>,
    k: Vec<f64>,
    us: Vec<f64>,
    v: Vec<f64>,
    /// `v / α`.
    lhs: Vec<f64>,
    /// `a / us² + b`.
    hat: Vec<f64>,
    /// `ln pmf(k)`, or −∞ where the proposal is rejected before the test.
    log_pmf: Vec<f64>,
    /// Per PTRS cell: two uniforms, the proposal and whether the squeeze accepted it.
    uniforms: Vec<f64>,
    proposal: Vec<f64>,
    squeezed: Vec<u8>,
}

impl Scratch {
    fn resize(&mut self, len: usize) {
        self.cell.resize(len, 0);
        self.uniforms.resize(2 * len, 0.0);
        self.proposal.resize(len, 0.0);
        self.squeezed.resize(len, 0);
        for column in [
            &mut self.k,
            &mut self.us,
            &mut self.v,
            &mut self.lhs,
            &mut self.hat,
            &mut self.log_pmf,
        ] {
            column.resize(len, 0.0);
        }
    }
}

/// eˣ without branches or calls, so that a loop of them vectorises: `x = j·ln 2 + r` with
/// |r| ≤ ½ln 2 (Cody–Waite), eʳ by its Taylor polynomial of degree 13 (truncation below
/// 2e-17), and 2ʲ written into the exponent bits. Relative error a few ulps; 0 below e⁻⁷⁰⁰.
#[inline(always)]
fn exp_branch_free(x: f64) -> f64 {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 2⁵² + 1023: adding it puts j + 1023 in the low mantissa bits.
    const EXPONENT_MAGIC: f64 = 4_503_599_627_371_519.0;
    let underflow = x < -700.0;
    let x = x.clamp(-700.0, 700.0);
    let j = (x * std::f64::consts::LOG2_E + 0.5).floor();
    let r = (x - j * LN2_HI) - j * LN2_LO;
    let p = exp_taylor::<13>(r);
    let scale = f64::from_bits((j + EXPONENT_MAGIC).to_bits() << 52);
    if underflow {
        0.0
    } else {
        p * scale
    }
}

/// ln k! for k < `len`, by summing logs (exact enough: the error grows like k·2⁻⁵³).
fn log_factorial_table(len: usize) -> Vec<f64> {
    let mut table = Vec::with_capacity(len);
    let mut acc = 0.0f64;
    for k in 0..len {
        if k > 1 {
            acc += (k as f64).ln();
        }
        table.push(acc);
    }
    table
}

/// Exact Multinomial(n, p) draws by Poissonisation, for many draws with the same (n, p).
///
/// Independent `Y_c ~ Poisson(μ·p_c)` have a total `S ~ Poisson(μ)`, and given `S = s` the
/// vector `Y` is Multinomial(s, p). So drawing `Y` until `S ≤ n` and adding `n − S` categorical
/// draws from `p` gives Multinomial(n, p) exactly, whatever `μ` is. With `μ = n − 3√n` about
/// one draw in 700 is redrawn and about `3√n` categorical draws (Walker's alias table) are
/// added.
#[derive(Debug, Clone)]
pub(crate) struct Multinomial {
    n: u64,
    cells: Vec<PoissonSampler>,
    /// Indices of the cells drawn by PTRS and by inversion (the rest have λ = 0).
    ptrs_cells: Vec<usize>,
    /// The PTRS cells' proposal constants as columns (2a, b, v_r, λ + 0.43), so that the
    /// proposal pass vectorises.
    two_a: Vec<f64>,
    b: Vec<f64>,
    v_r: Vec<f64>,
    shift: Vec<f64>,
    inversion_cells: Vec<usize>,
    log_factorial: Vec<f64>,
    /// `None` when no cell has positive probability.
    alias: Option<WeightedAliasIndex<f64>>,
}

impl Multinomial {
    /// `n` trials over cells with probabilities `probs` (they need not sum to 1; cells that are
    /// not finite and positive get probability 0).
    pub(crate) fn new(n: u64, probs: &[f64]) -> Self {
        let weights: Vec<f64> = probs
            .iter()
            .map(|&p| if p.is_finite() && p > 0.0 { p } else { 0.0 })
            .collect();
        let total: f64 = weights.iter().sum();
        let nf = n as f64;
        let mu = (nf - 3.0 * nf.sqrt()).max(0.5 * nf);
        let lambdas: Vec<f64> = weights
            .iter()
            .map(|&w| if total > 0.0 { mu * w / total } else { 0.0 })
            .collect();
        let largest = lambdas.iter().copied().fold(0.0, f64::max);
        // PTRS proposes k up to about λ + 40√λ + 40; beyond the table ln_gamma takes over.
        let table_len = (largest + 40.0 * largest.sqrt() + 64.0).min(1e6) as usize;
        let cells: Vec<PoissonSampler> = lambdas.into_iter().map(PoissonSampler::new).collect();
        let of_kind = |ptrs: bool| {
            (0..cells.len())
                .filter(|&c| match cells[c] {
                    PoissonSampler::Ptrs(_) => ptrs,
                    PoissonSampler::Inversion { .. } => !ptrs,
                    PoissonSampler::Zero => false,
                })
                .collect()
        };
        let ptrs_cells: Vec<usize> = of_kind(true);
        let column = |f: fn(&Ptrs) -> f64| -> Vec<f64> {
            ptrs_cells
                .iter()
                .map(|&c| match &cells[c] {
                    PoissonSampler::Ptrs(p) => f(p),
                    _ => unreachable!("ptrs_cells lists PTRS cells"),
                })
                .collect()
        };
        Self {
            n,
            two_a: column(|p| 2.0 * p.a),
            b: column(|p| p.b),
            v_r: column(|p| p.v_r),
            shift: column(|p| p.shift),
            ptrs_cells,
            inversion_cells: of_kind(false),
            cells,
            log_factorial: log_factorial_table(table_len),
            alias: WeightedAliasIndex::new(weights).ok(),
        }
    }

    /// One draw into `out` (one count per cell).
    pub(crate) fn sample<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        out: &mut [u64],
        scratch: &mut Scratch,
    ) {
        out.iter_mut().for_each(|x| *x = 0);
        let Some(alias) = &self.alias else {
            return;
        };
        scratch.resize(self.ptrs_cells.len());
        loop {
            // PTRS in passes over columns. The first makes one proposal per cell without a
            // branch on the squeeze (it accepts about 60–70%, so as a branch it mispredicted
            // often) and lists the cells it did not accept. The next gathers the exact test's
            // terms for those, and a branch-free pass evaluates them (its exp vectorises); only
            // the proposals the test rejects (about one in ten) propose again. Every cell still
            // gets exactly PTRS's draw.
            let m = self.ptrs_cells.len();
            // All the proposals' uniforms first: u from the first half, v from the second.
            for x in scratch.uniforms.iter_mut() {
                *x = rng.random();
            }
            let (us_draws, v_draws) = scratch.uniforms.split_at(m);
            for (i, (&u, &v)) in us_draws.iter().zip(v_draws).enumerate() {
                let u = u - 0.5;
                let us = 0.5 - u.abs();
                let k = ((self.two_a[i] / us + self.b[i]) * u + self.shift[i]).floor();
                scratch.proposal[i] = k;
                scratch.squeezed[i] = u8::from((us >= 0.07) & (v <= self.v_r[i]));
            }
            let mut n_pending = 0;
            for (i, &c) in self.ptrs_cells.iter().enumerate() {
                let k = scratch.proposal[i];
                out[c] = k as u64;
                scratch.cell[n_pending] = c as u32;
                scratch.k[n_pending] = k;
                scratch.us[n_pending] = 0.5 - (us_draws[i] - 0.5).abs();
                scratch.v[n_pending] = v_draws[i];
                n_pending += usize::from(scratch.squeezed[i] == 0);
            }
            for q in 0..n_pending {
                let PoissonSampler::Ptrs(p) = &self.cells[scratch.cell[q] as usize] else {
                    unreachable!("ptrs_cells lists PTRS cells")
                };
                let [lhs, hat, log_pmf] = p.test_terms(
                    scratch.k[q],
                    scratch.us[q],
                    scratch.v[q],
                    &self.log_factorial,
                );
                scratch.lhs[q] = lhs;
                scratch.hat[q] = hat;
                scratch.log_pmf[q] = log_pmf;
            }
            // The verdicts, branch-free so that the exps vectorise; `lhs` becomes 1 (accept)
            // or 0.
            for ((lhs, &hat), &log_pmf) in scratch.lhs[..n_pending]
                .iter_mut()
                .zip(&scratch.hat[..n_pending])
                .zip(&scratch.log_pmf[..n_pending])
            {
                *lhs = f64::from(u8::from(passes([*lhs, hat, log_pmf])));
            }
            for q in 0..n_pending {
                if scratch.lhs[q] == 0.0 {
                    let c = scratch.cell[q] as usize;
                    let PoissonSampler::Ptrs(p) = &self.cells[c] else {
                        unreachable!("ptrs_cells lists PTRS cells")
                    };
                    out[c] = p.sample(rng, &self.log_factorial);
                }
            }
            // Inversion cells in their own loop: interleaved with PTRS, the dispatch on the
            // kind mispredicted whenever neighbouring cells differed.
            for &c in &self.inversion_cells {
                out[c] = self.cells[c].sample(rng, &self.log_factorial);
            }
            let total: u64 = out.iter().sum();
            if total <= self.n {
                for _ in total..self.n {
                    out[alias.sample(rng)] += 1;
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use statrs::distribution::{ChiSquared, ContinuousCDF, Discrete};

    /// Pearson's chi-square of `draws` against `pmf` over `lo..=hi` (the mass outside goes to
    /// the end bins), bins with expected count < 5 merged into their neighbours; the p-value.
    fn chi_square_p_value(pmf: impl Fn(u64) -> f64, lo: u64, hi: u64, draws: &[u64]) -> f64 {
        let mut observed = std::collections::BTreeMap::<u64, f64>::new();
        for &x in draws {
            *observed.entry(x).or_default() += 1.0;
        }
        let total = draws.len() as f64;
        let (mut stat, mut bins) = (0.0, 0usize);
        let (mut exp_acc, mut obs_acc) = (0.0, 0.0);
        obs_acc += observed.range(..lo).map(|(_, c)| c).sum::<f64>();
        for k in lo..=hi {
            exp_acc += total * pmf(k);
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
        if exp_acc > 0.0 || obs_acc > 0.0 {
            stat += (obs_acc - exp_acc).powi(2) / exp_acc.max(1e-300);
            bins += 1;
        }
        let dof = (bins - 1) as f64;
        1.0 - ChiSquared::new(dof).unwrap().cdf(stat)
    }

    /// Both branches (inversion below λ = 10, PTRS from 10) follow the Poisson pmf. Each case has
    /// 10⁶ draws, enough to reveal a 1% error in any well-populated bin; with 9 cases at the
    /// 10⁻⁴ level a false failure has probability below 10⁻³ (the seeds are fixed, so it is
    /// either always or never). Raising PTRS's v_r by 0.07 or its 1/α by 10% fails it.
    #[test]
    fn poisson_draws_follow_the_pmf() {
        let table = log_factorial_table(4096);
        for (case, lambda) in [0.3, 2.5, 9.99, 10.0, 12.0, 35.0, 212.0, 1500.0, 40_000.0]
            .into_iter()
            .enumerate()
        {
            let sampler = PoissonSampler::new(lambda);
            let mut rng = ChaCha8Rng::seed_from_u64(case as u64);
            let draws: Vec<u64> = (0..1_000_000)
                .map(|_| sampler.sample(&mut rng, &table))
                .collect();
            let pmf = statrs::distribution::Poisson::new(lambda).unwrap();
            let sd = lambda.sqrt();
            let lo = (lambda - 12.0 * sd).max(0.0) as u64;
            let hi = (lambda + 12.0 * sd + 20.0) as u64;
            let pv = chi_square_p_value(|k| pmf.pmf(k), lo, hi, &draws);
            assert!(pv > 1e-4, "Poisson({lambda}): chi-square p-value {pv}");
            let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
            let se = (lambda / draws.len() as f64).sqrt();
            assert!(
                (mean - lambda).abs() < 5.0 * se,
                "Poisson({lambda}): mean {mean}"
            );
        }
    }

    #[test]
    fn branch_free_exp_matches_exp() {
        let mut x = -699.9;
        while x < 5.0 {
            let (got, want) = (exp_branch_free(x), x.exp());
            assert!(
                (got - want).abs() <= 1e-15 * want,
                "exp({x}): {got} vs {want}"
            );
            x += 0.0173;
        }
        assert_eq!(exp_branch_free(-750.0), 0.0);
        assert_eq!(exp_branch_free(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn log_factorials_match_ln_gamma() {
        let table = log_factorial_table(3000);
        for k in [0usize, 1, 2, 10, 171, 2999] {
            let want = ln_gamma(k as f64 + 1.0);
            assert!((table[k] - want).abs() <= 1e-12 * want.max(1.0), "ln {k}!");
        }
    }

    /// Small n exercises the μ = n/2 set-up, frequent redraws and large top-ups: every one of
    /// the 15 outcomes of Multinomial(4; ½, 0.3, 0.2) appears at its pmf (chi-square over 10⁶
    /// draws, p-value > 10⁻⁴). Skipping the redraw (keeping draws with S > n) fails it.
    #[test]
    fn small_multinomial_matches_its_pmf() {
        let probs = [0.5, 0.3, 0.2];
        let sampler = Multinomial::new(4, &probs);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut out = [0u64; 3];
        // Outcome (a, b, c) with a + b + c = 4 coded as 5a + b.
        let draws: Vec<u64> = (0..1_000_000)
            .map(|_| {
                sampler.sample(&mut rng, &mut out, &mut Scratch::default());
                assert_eq!(out.iter().sum::<u64>(), 4);
                5 * out[0] + out[1]
            })
            .collect();
        let factorial = |k: u64| (1..=k).product::<u64>() as f64;
        let pmf = |code: u64| {
            let (a, b) = (code / 5, code % 5);
            if a + b > 4 {
                return 0.0;
            }
            let c = 4 - a - b;
            factorial(4) / (factorial(a) * factorial(b) * factorial(c))
                * probs[0].powi(a as i32)
                * probs[1].powi(b as i32)
                * probs[2].powi(c as i32)
        };
        let pv = chi_square_p_value(pmf, 0, 24, &draws);
        assert!(pv > 1e-4, "chi-square p-value {pv}");
    }

    /// Large means go through the two-pass PTRS of `Multinomial::sample`: each marginal of
    /// Multinomial(2000; ½, 0.3, 0.2) follows its Binomial(2000, p) pmf (chi-square over 2·10⁵
    /// draws, p-value > 10⁻⁴). Accepting every proposal the squeeze left for the exact test
    /// fails it.
    #[test]
    fn multinomial_marginals_follow_the_binomial_pmf() {
        let (n, probs) = (2_000u64, [0.5, 0.3, 0.2]);
        let sampler = Multinomial::new(n, &probs);
        assert_eq!(sampler.ptrs_cells.len(), 3);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (mut out, mut scratch) = ([0u64; 3], Scratch::default());
        let mut draws = vec![Vec::new(); 3];
        for _ in 0..200_000 {
            sampler.sample(&mut rng, &mut out, &mut scratch);
            for (column, &x) in draws.iter_mut().zip(&out) {
                column.push(x);
            }
        }
        for (column, &p) in draws.iter().zip(&probs) {
            let pmf = statrs::distribution::Binomial::new(p, n).unwrap();
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            let lo = (n as f64 * p - 12.0 * sd) as u64;
            let hi = (n as f64 * p + 12.0 * sd) as u64;
            let pv = chi_square_p_value(|k| pmf.pmf(k), lo, hi, column);
            assert!(pv > 1e-4, "p = {p}: chi-square p-value {pv}");
        }
    }

    /// At the bootstrap's scale: trials are conserved, each marginal is Binomial(n, p) in mean
    /// and variance, and two cells have the multinomial's covariance −n·pₐ·p_b (independent
    /// Poissons without the conditioning would give 0).
    #[test]
    fn large_multinomial_has_multinomial_moments() {
        let n = 135_624u64;
        let probs = [0.4, 0.3, 0.2, 0.1 - 1e-17, 1e-17];
        let sampler = Multinomial::new(n, &probs);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let rounds = 20_000;
        let mut out = [0u64; 5];
        let mut rows = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            sampler.sample(&mut rng, &mut out, &mut Scratch::default());
            assert_eq!(out.iter().sum::<u64>(), n);
            rows.push(out.map(|x| x as f64));
        }
        let nf = n as f64;
        let r = rounds as f64;
        let mean = |c: usize| rows.iter().map(|x| x[c]).sum::<f64>() / r;
        for (c, &p) in probs.iter().enumerate() {
            let (m, want) = (mean(c), nf * p);
            let var = rows.iter().map(|x| (x[c] - m).powi(2)).sum::<f64>() / (r - 1.0);
            let want_var = nf * p * (1.0 - p);
            assert!(
                (m - want).abs() < 5.0 * (want_var / r).sqrt() + 1e-9,
                "cell {c}: mean {m} vs {want}"
            );
            // The sample variance of a near-normal count has relative sd √(2/r) = 1%.
            assert!(
                (var - want_var).abs() <= 0.05 * want_var + 1e-9,
                "cell {c}: variance {var} vs {want_var}"
            );
        }
        let (m0, m1) = (mean(0), mean(1));
        let cov = rows.iter().map(|x| (x[0] - m0) * (x[1] - m1)).sum::<f64>() / (r - 1.0);
        let want = -nf * probs[0] * probs[1];
        assert!(
            (cov - want).abs() < 0.05 * want.abs(),
            "covariance {cov} vs {want}"
        );
    }
}
