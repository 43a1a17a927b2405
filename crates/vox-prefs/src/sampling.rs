//! Exact multinomial resampling for the bootstrap, by Poissonisation: one Poisson draw per
//! cell, each from a Walker alias table built once per cell, then a small categorical top-up
//! from one more alias table.
//!
//! Why tables: a bootstrap round needs one draw per (pair, outcome) cell (3,594 on the 140k
//! Arena votes) with the same parameters in every round. Conditional binomials change their
//! parameters on every call (`rand_distr`'s BTPE cost ~110 ns per draw here, a hand-written
//! BTRS ~45 ns); with Poissonisation the parameters are fixed per cell, but
//! `rand_distr::Poisson` still cost ~30 ns per cell and Hörmann's PTRS with its constants
//! precomputed ~25 ns. An alias table per cell turns each draw into one uniform, two loads
//! and a compare. A cell's table covers λ ± 4√λ (plus a few entries on the right for small
//! λ); one more entry stands for both tails together (mass about 10⁻⁴ or less), and a draw
//! that lands on it walks the tails by inversion. Memory is about 16 B × (8√λ + 7) per cell
//! (3 MB for the Arena votes). The draws are exact up to the 2⁻⁵³ resolution of the uniforms
//! and the f64 rounding of the pmf; the tests check them against the pmf with chi-square
//! tests.

use rand::Rng;

/// Where a cell's table reaches: λ ± `sds` standard deviations, and `right_extra` entries
/// more on the right, where the pmf of a small λ is skewed.
#[derive(Debug, Clone, Copy)]
struct TableSpan {
    sds: f64,
    right_extra: f64,
}

/// The bootstrap's tables: the tails hold about 10⁻⁴ of the mass or less.
const TABLE_SPAN: TableSpan = TableSpan {
    sds: 4.0,
    right_extra: 4.0,
};

/// Tail terms are summed until they fall below this fraction of the pmf at the mode; the rest
/// (below 10⁻¹⁸ of the mass for any λ a table can hold) is never drawn.
const TAIL_NEGLIGIBLE: f64 = 1e-20;

/// Walker alias tables of many discrete distributions, stored flat, each drawn with one
/// uniform: `u·L` picks one of the table's `L` columns, and the fractional part keeps the
/// column or takes its alias.
#[derive(Debug, Clone, Default)]
struct AliasTables {
    /// Per table: where its columns start in `columns`.
    first: Vec<u64>,
    /// Per table: how many columns it has (as f64, for `u·L`).
    len: Vec<f64>,
    /// Per column: the probability of keeping it, and its alias (an index within its table).
    columns: Vec<(f64, u32)>,
}

impl AliasTables {
    /// Appends a table for the distribution proportional to `weights` (finite, ≥ 0, with a
    /// positive sum, fewer than 2³² of them), by Vose's method, with `work` as scratch;
    /// returns its index. Each column keeps itself with its probability and otherwise takes
    /// its alias.
    fn push(&mut self, weights: &[f64], work: &mut VoseWork) -> usize {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        debug_assert!(total > 0.0 && total.is_finite() && n < u32::MAX as usize);
        let first = self.columns.len();
        self.columns
            .extend((0..n).map(|column| (1.0, column as u32)));
        let columns = &mut self.columns[first..];
        let VoseWork {
            scaled,
            small,
            large,
        } = work;
        scaled.clear();
        scaled.extend(weights.iter().map(|w| w * n as f64 / total));
        small.clear();
        large.clear();
        for (column, &x) in scaled.iter().enumerate() {
            if x < 1.0 {
                small.push(column);
            } else {
                large.push(column);
            }
        }
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            columns[s] = (scaled[s], l as u32);
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left in either list has scaled weight 1 up to rounding: it keeps itself.
        self.first.push(first as u64);
        self.len.push(n as f64);
        self.len.len() - 1
    }

    /// The column of table `table` chosen by `u ∈ [0, 1)` (the sampler does the two halves
    /// in separate loops).
    #[cfg(test)]
    fn draw(&self, table: usize, u: f64) -> usize {
        self.resolve(self.locate(table, u))
    }

    /// Where `u ∈ [0, 1)` lands in table `table`: the index of its column in `columns`, the
    /// column, and the fractional part that decides between the column and its alias. No
    /// branch or table lookup, and whole numbers go through f64, so loops of it vectorise.
    #[inline(always)]
    fn locate(&self, table: usize, u: f64) -> Landing {
        let len = self.len[table];
        let x = u * len;
        // u·L can round up to L when u is the largest uniform below 1.
        let column = x.floor().min(len - 1.0);
        Landing {
            entry: self.first[table] + whole_f64_to_u64(column),
            column,
            fraction: x - column,
        }
    }

    /// The column that a [`Landing`] stands for.
    #[inline(always)]
    fn resolve(&self, landing: Landing) -> usize {
        choose(landing, self.fetch(landing))
    }

    /// The keep probability and alias of the column a [`Landing`] is on.
    #[inline(always)]
    fn fetch(&self, landing: Landing) -> (f64, u32) {
        self.columns[landing.entry as usize]
    }
}

/// The column a [`Landing`] stands for, given its column's `(keep, alias)`.
#[inline(always)]
fn choose(landing: Landing, (keep, alias): (f64, u32)) -> usize {
    // Which way it goes is a coin flip: a branch would mispredict half the time.
    std::hint::select_unpredictable(
        landing.fraction < keep,
        whole_f64_to_u64(landing.column) as usize,
        alias as usize,
    )
}

/// Scratch for [`AliasTables::push`], reused from table to table.
#[derive(Debug, Default)]
struct VoseWork {
    scaled: Vec<f64>,
    small: Vec<usize>,
    large: Vec<usize>,
}

/// Where a uniform lands in an alias table (see [`AliasTables::locate`]).
#[derive(Debug, Clone, Copy, Default)]
struct Landing {
    entry: u64,
    column: f64,
    fraction: f64,
}

/// `whole as u64` for a whole number in [0, 2⁵²): adding 2⁵² puts it in the low mantissa
/// bits. Unlike `as`, it needs no range checks, so it vectorises.
#[inline(always)]
fn whole_f64_to_u64(whole: f64) -> u64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    (whole + TWO_52).to_bits() - TWO_52.to_bits()
}

/// Poisson(λ) laid out for one alias draw: column `i` of its table is `k = lo + i` for
/// `k ∈ [lo, hi]`, and column `hi − lo + 1`, when the tails have mass, is both tails.
/// Weights are relative to the pmf at the mode, `w(⌊λ⌋) = 1`, by the recurrences
/// `w(k + 1) = w(k)·λ/(k + 1)` and `w(k − 1) = w(k)·k/λ`, so no factorial is evaluated.
#[derive(Debug, Clone)]
struct PoissonCell {
    lambda: f64,
    lo: u64,
    hi: u64,
    /// `w(lo)` and `w(hi)`, where the tails' recurrences start.
    w_lo: f64,
    w_hi: f64,
    /// The tails' total weight, summed in [`PoissonCell::tail_terms`] order.
    tail: f64,
}

impl PoissonCell {
    /// The cell for `lambda` (finite, ≥ 0) with its table over `span`; the table's weights
    /// go to `weights`.
    fn new(lambda: f64, span: TableSpan, weights: &mut Vec<f64>) -> Self {
        debug_assert!(lambda.is_finite() && lambda >= 0.0);
        let sd = lambda.sqrt();
        let mode = lambda.floor();
        let lo = (lambda - span.sds * sd).floor().clamp(0.0, mode) as u64;
        let hi = (lambda + span.sds * sd + span.right_extra).ceil().max(mode) as u64;
        let mode = mode as u64;
        weights.clear();
        weights.resize((hi - lo + 1) as usize, 0.0);
        weights[(mode - lo) as usize] = 1.0;
        for k in mode + 1..=hi {
            let i = (k - lo) as usize;
            weights[i] = weights[i - 1] * (lambda / k as f64);
        }
        for k in (lo..mode).rev() {
            let i = (k - lo) as usize;
            weights[i] = weights[i + 1] * ((k + 1) as f64 / lambda);
        }
        let mut cell = PoissonCell {
            lambda,
            lo,
            hi,
            w_lo: weights[0],
            w_hi: weights[weights.len() - 1],
            tail: 0.0,
        };
        cell.tail = cell.tail_terms().map(|(_, w)| w).sum();
        cell
    }

    /// The tails' (k, weight), left tail from `lo − 1` down, then right tail from `hi + 1` up,
    /// each until its weights are negligible (both are decreasing away from the mode).
    fn tail_terms(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        let left = (0..self.lo)
            .rev()
            .scan(self.w_lo, |w, k| {
                *w *= (k + 1) as f64 / self.lambda;
                Some((k, *w))
            })
            .take_while(|&(_, w)| w >= TAIL_NEGLIGIBLE);
        let right = (self.hi + 1..)
            .scan(self.w_hi, |w, k| {
                *w *= self.lambda / k as f64;
                Some((k, *w))
            })
            .take_while(|&(_, w)| w >= TAIL_NEGLIGIBLE);
        left.chain(right)
    }

    /// A draw from the tails given that the table's draw landed on them: inversion of the
    /// tails' distribution with the uniform `u`, walking the terms in the order they were
    /// summed.
    #[cold]
    fn tail_draw(&self, u: f64) -> u64 {
        let mut target = u * self.tail;
        let mut last = self.hi + 1;
        for (k, w) in self.tail_terms() {
            if target < w {
                return k;
            }
            target -= w;
            last = k;
        }
        // Rounding left `target` past the last term.
        last
    }
}

/// Poisson samplers for a list of means, each with its alias table.
#[derive(Debug, Clone, Default)]
struct PoissonTables {
    cells: Vec<PoissonCell>,
    /// Per cell: `lo`, the k of the table's first column (a copy of the cell's, kept dense
    /// for the draw loop).
    lo: Vec<u64>,
    /// Per cell: the table's column that stands for the tails (`usize::MAX` without one).
    tail_column: Vec<usize>,
    tables: AliasTables,
}

impl PoissonTables {
    /// Tables for `lambdas` (finite, ≥ 0) over `span`.
    fn new(lambdas: &[f64], span: TableSpan) -> Self {
        let mut out = PoissonTables::default();
        let (mut weights, mut work) = (Vec::new(), VoseWork::default());
        for &lambda in lambdas {
            let cell = PoissonCell::new(lambda, span, &mut weights);
            let tail_column = if cell.tail > 0.0 {
                weights.push(cell.tail);
                weights.len() - 1
            } else {
                usize::MAX
            };
            out.tables.push(&weights, &mut work);
            out.tail_column.push(tail_column);
            out.lo.push(cell.lo);
            out.cells.push(cell);
        }
        out
    }

    /// The count that column `column` of cell `c`'s table stands for; `rng` only in the rare
    /// case of a tail.
    #[inline(always)]
    fn count<R: Rng + ?Sized>(&self, c: usize, column: usize, rng: &mut R) -> u64 {
        if column == self.tail_column[c] {
            self.cells[c].tail_draw(rng.random())
        } else {
            self.lo[c] + column as u64
        }
    }

    /// A draw from cell `c` by the uniform `u`.
    #[cfg(test)]
    fn draw<R: Rng + ?Sized>(&self, c: usize, u: f64, rng: &mut R) -> u64 {
        self.count(c, self.tables.draw(c, u), rng)
    }
}

/// Scratch for [`Multinomial::sample`], kept by callers between draws: a round's uniforms,
/// then where they land in their tables.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scratch {
    uniforms: Vec<f64>,
    landings: Vec<Landing>,
    /// The landings' columns, `(keep, alias)`.
    fetched: Vec<(f64, u32)>,
}

/// Exact Multinomial(n, p) draws by Poissonisation, for many draws with the same (n, p).
///
/// Independent `Y_c ~ Poisson(μ·p_c)` have a total `S ~ Poisson(μ)`, and given `S = s` the
/// vector `Y` is Multinomial(s, p). So drawing `Y` until `S ≤ n` and adding `n − S` categorical
/// draws from `p` gives Multinomial(n, p) exactly, whatever `μ` is. With `μ = n − 3√n` about
/// one draw in 700 is redrawn and about `3√n` categorical draws are added.
#[derive(Debug, Clone)]
pub(crate) struct Multinomial {
    n: u64,
    /// The cells with positive probability; their Poissons are `poisson`'s cells in this order.
    positive: Vec<usize>,
    poisson: PoissonTables,
    /// The categorical over `positive` for the top-up (one table).
    categorical: AliasTables,
}

impl Multinomial {
    /// `n` trials over cells with probabilities `probs` (they need not sum to 1; cells that are
    /// not finite and positive get probability 0).
    pub(crate) fn new(n: u64, probs: &[f64]) -> Self {
        let positive: Vec<usize> = (0..probs.len())
            .filter(|&c| probs[c].is_finite() && probs[c] > 0.0)
            .collect();
        let weights: Vec<f64> = positive.iter().map(|&c| probs[c]).collect();
        let total: f64 = weights.iter().sum();
        let nf = n as f64;
        let mu = (nf - 3.0 * nf.sqrt()).max(0.5 * nf);
        let lambdas: Vec<f64> = weights.iter().map(|&w| mu * w / total).collect();
        let mut categorical = AliasTables::default();
        if !weights.is_empty() {
            categorical.push(&weights, &mut VoseWork::default());
        }
        Self {
            n,
            poisson: PoissonTables::new(&lambdas, TABLE_SPAN),
            positive,
            categorical,
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
        if self.positive.is_empty() || self.n == 0 {
            return;
        }
        let m = self.positive.len();
        let tables = &self.poisson.tables;
        loop {
            // Four loops: the uniforms (the generator alone); where each lands in its cell's
            // table (arithmetic only, vectorised); the table lookups alone, whose loop is so
            // short that many cells' cache misses are in flight at once (the tables, 3 MB for
            // the Arena votes, live in L3 or memory); then the draws from what they fetched.
            scratch.draw_uniforms(rng, m);
            for (c, (&u, landing)) in scratch
                .uniforms
                .iter()
                .zip(scratch.landings.iter_mut())
                .enumerate()
            {
                *landing = tables.locate(c, u);
            }
            for (&landing, fetched) in scratch.landings[..m].iter().zip(&mut scratch.fetched[..m]) {
                *fetched = tables.fetch(landing);
            }
            let mut total = 0u64;
            for (c, ((&cell, &landing), &fetched)) in self
                .positive
                .iter()
                .zip(&scratch.landings)
                .zip(&scratch.fetched)
                .enumerate()
            {
                let k = self.poisson.count(c, choose(landing, fetched), rng);
                out[cell] = k;
                total += k;
            }
            if total <= self.n {
                // The top-up the same way, from the one categorical table.
                let need = (self.n - total) as usize;
                scratch.draw_uniforms(rng, need);
                for (&u, landing) in scratch.uniforms.iter().zip(scratch.landings.iter_mut()) {
                    *landing = self.categorical.locate(0, u);
                }
                for &landing in &scratch.landings[..need] {
                    out[self.positive[self.categorical.resolve(landing)]] += 1;
                }
                return;
            }
        }
    }
}

impl Scratch {
    /// `len` uniforms in `uniforms`, with room for as many landings.
    fn draw_uniforms<R: Rng + ?Sized>(&mut self, rng: &mut R, len: usize) {
        self.uniforms.resize(len, 0.0);
        if self.landings.len() < len {
            self.landings.resize(len, Landing::default());
            self.fetched.resize(len, (0.0, 0));
        }
        for u in self.uniforms.iter_mut() {
            *u = rng.random();
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

    /// Every column of an alias table comes up at its weight (chi-square over 10⁶ draws,
    /// p-value > 10⁻⁴), zero weights never.
    #[test]
    fn alias_tables_draw_their_weights() {
        let weights = [0.0, 1.0, 2.5, 0.5, 3.0, 1e-3, 0.0, 7.0];
        let (mut tables, mut work) = (AliasTables::default(), VoseWork::default());
        tables.push(&[1.0, 1.0], &mut work);
        let t = tables.push(&weights, &mut work);
        let total: f64 = weights.iter().sum();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let draws: Vec<u64> = (0..1_000_000)
            .map(|_| tables.draw(t, rng.random()) as u64)
            .collect();
        assert!(draws.iter().all(|&c| weights[c as usize] > 0.0));
        let pv = chi_square_p_value(|c| weights[c as usize] / total, 0, 7, &draws);
        assert!(pv > 1e-4, "chi-square p-value {pv}");
    }

    /// Draws follow the Poisson pmf, with the tables as the bootstrap builds them (10⁶ draws
    /// per mean) and with tables only ±½ sd wide (2·10⁵ draws), where 3-60% of draws go through
    /// the tails' walk. Each case can reveal a 1% error in any well-populated bin; with 14
    /// cases at the 10⁻⁴ level a false failure has probability below 2·10⁻³ (the seeds are
    /// fixed, so it is either always or never). Returning k + 1 from the tails' walk, or
    /// keeping a column when the fraction equals its keep probability plus 0.01, fails it.
    #[test]
    fn poisson_draws_follow_the_pmf() {
        let wide = [0.3, 2.5, 9.99, 12.0, 35.0, 212.0, 1500.0, 40_000.0, 2e6];
        let narrow = [0.3, 2.5, 12.0, 35.0, 212.0];
        let narrow_span = TableSpan {
            sds: 0.5,
            right_extra: 0.0,
        };
        let cases = (wide.iter().map(|&l| (l, TABLE_SPAN, 1_000_000)))
            .chain(narrow.iter().map(|&l| (l, narrow_span, 200_000)));
        for (case, (lambda, span, n_draws)) in cases.enumerate() {
            let tables = PoissonTables::new(&[lambda], span);
            let cell = &tables.cells[0];
            let mut rng = ChaCha8Rng::seed_from_u64(case as u64);
            let draws: Vec<u64> = (0..n_draws)
                .map(|_| {
                    let u = rng.random();
                    tables.draw(0, u, &mut rng)
                })
                .collect();
            let in_tails = draws
                .iter()
                .filter(|&&k| k < cell.lo || k > cell.hi)
                .count();
            if span.sds < 1.0 {
                assert!(in_tails > n_draws / 50, "Poisson({lambda}): tails untested");
            }
            let pmf = statrs::distribution::Poisson::new(lambda).unwrap();
            let sd = lambda.sqrt();
            let lo = (lambda - 12.0 * sd).max(0.0) as u64;
            let hi = (lambda + 12.0 * sd + 20.0) as u64;
            let pv = chi_square_p_value(|k| pmf.pmf(k), lo, hi, &draws);
            assert!(
                pv > 1e-4,
                "Poisson({lambda}), {span:?}: chi-square p-value {pv}"
            );
            let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
            let se = (lambda / draws.len() as f64).sqrt();
            assert!(
                (mean - lambda).abs() < 5.0 * se,
                "Poisson({lambda}): mean {mean}"
            );
        }
    }

    /// A mean of 0 draws 0, and a table's tail mass is what the pmf leaves outside it (to
    /// 1e-10: statrs's pmf at k = 5000 goes through ln Γ(5001) ≈ 37,600, whose rounding alone
    /// moves it by ~4e-12).
    #[test]
    fn tables_account_for_all_the_mass() {
        let tables = PoissonTables::new(&[0.0], TABLE_SPAN);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!((0..1000).all(|_| {
            let u = rng.random();
            tables.draw(0, u, &mut rng) == 0
        }));
        for lambda in [0.7, 30.0, 5000.0] {
            let span = TableSpan {
                sds: 2.0,
                right_extra: 1.0,
            };
            let mut weights = Vec::new();
            let cell = PoissonCell::new(lambda, span, &mut weights);
            let total = weights.iter().sum::<f64>() + cell.tail;
            let pmf = statrs::distribution::Poisson::new(lambda).unwrap();
            let inside: f64 = (cell.lo..=cell.hi).map(|k| pmf.pmf(k)).sum();
            let table_share = weights.iter().sum::<f64>() / total;
            assert!(
                (table_share - inside).abs() < 1e-10,
                "λ = {lambda}: {table_share} vs {inside}"
            );
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

    /// Large means: each marginal of
    /// Multinomial(2000; ½, 0.3, 0.2) follows its Binomial(2000, p) pmf (chi-square over 2·10⁵
    /// draws, p-value > 10⁻⁴).
    #[test]
    fn multinomial_marginals_follow_the_binomial_pmf() {
        let (n, probs) = (2_000u64, [0.5, 0.3, 0.2]);
        let sampler = Multinomial::new(n, &probs);
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
