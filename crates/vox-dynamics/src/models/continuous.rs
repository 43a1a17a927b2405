//! Continuous-opinion models: DeGroot, Friedkin–Johnsen, Hegselmann–Krause (on a graph and, with
//! a sorted window, on the complete graph) and Deffuant–Weisbuch.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::{Mutex, PoisonError};

use rand::Rng;

use super::{
    complete_graph_arc_blocks, complete_graph_arcs, CHANGE_TOLERANCE, CONFIDENCE_TOLERANCE,
};
use crate::error::{invalid, Result};
use crate::graph::{Graph, Topology};
use crate::record::StateView;
use crate::rng::{seeded, streams, SimRng};
use crate::schedule::{Scheduler, SweepOutcome, UpdateRequest, UpdateRule};

/// How initial opinions are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum InitialOpinions {
    /// Independent uniform draws on `[low, high)` (seeded). Default `[0, 1)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Equally spaced: xᵢ = low + (high − low) · i / (N − 1).
    Grid {
        /// First value.
        low: f64,
        /// Last value.
        high: f64,
    },
    /// Given explicitly, one per agent.
    Values(Vec<f64>),
}

impl Default for InitialOpinions {
    fn default() -> Self {
        InitialOpinions::Uniform {
            low: 0.0,
            high: 1.0,
        }
    }
}

impl InitialOpinions {
    /// The `n` initial opinions for `seed`.
    ///
    /// # Errors
    /// When explicit values do not number `n` or any value is not finite, or `low > high`.
    pub fn generate(&self, n: usize, seed: u64) -> Result<Vec<f64>> {
        let opinions = match self {
            InitialOpinions::Uniform { low, high } => {
                check_bounds(*low, *high)?;
                let mut rng = seeded(seed, streams::INIT);
                (0..n)
                    .map(|_| low + (high - low) * rng.random::<f64>())
                    .collect()
            }
            InitialOpinions::Grid { low, high } => {
                check_bounds(*low, *high)?;
                let denominator = n.saturating_sub(1).max(1) as f64;
                (0..n)
                    .map(|i| low + (high - low) * (i as f64 / denominator))
                    .collect()
            }
            InitialOpinions::Values(values) => {
                if values.len() != n {
                    return Err(invalid(
                        "params.initial.values",
                        format!("has {} values for {n} agents", values.len()),
                    ));
                }
                values.clone()
            }
        };
        if let Some(bad) = opinions.iter().find(|x| !x.is_finite()) {
            return Err(invalid(
                "params.initial",
                format!("opinion {bad} is not finite"),
            ));
        }
        Ok(opinions)
    }
}

fn check_bounds(low: f64, high: f64) -> Result<()> {
    if low.is_finite() && high.is_finite() && low <= high {
        Ok(())
    } else {
        Err(invalid(
            "params.initial",
            format!("need finite low <= high, got [{low}, {high}]"),
        ))
    }
}

/// Checks that ε is finite and non-negative.
fn check_epsilon(epsilon: f64) -> Result<()> {
    if epsilon.is_finite() && epsilon >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            "params.epsilon",
            format!("must be a finite number >= 0, got {epsilon}"),
        ))
    }
}

/// Row-stochastic averaging weights of a graph: a weighted graph's rows must sum to 1; an
/// unweighted graph gives each neighbour 1/kᵢ.
fn check_stochastic(graph: &Graph) -> Result<()> {
    for i in 0..graph.n_nodes() {
        if let Some(weights) = graph.neighbor_weights(i) {
            let sum: f64 = weights.iter().sum();
            if weights.iter().any(|&w| w < 0.0) || (!weights.is_empty() && (sum - 1.0).abs() > 1e-9)
            {
                return Err(invalid(
                    "graph.weights",
                    format!(
                        "row {i} sums to {sum} or has a negative weight; W must be row-stochastic"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Σⱼ Wᵢⱼ xⱼ, or `None` for an agent that listens to nobody.
fn weighted_average(graph: &Graph, agent_idx: usize, opinions: &[f64]) -> Option<f64> {
    let row = graph.neighbors(agent_idx);
    if row.is_empty() {
        return None;
    }
    Some(match graph.neighbor_weights(agent_idx) {
        Some(weights) => row
            .iter()
            .zip(weights)
            .map(|(&j, &w)| w * opinions[j as usize])
            .sum(),
        None => row.iter().map(|&j| opinions[j as usize]).sum::<f64>() / row.len() as f64,
    })
}

/// Parameters of DeGroot averaging.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinearParams {
    /// Initial opinions. Default uniform on [0, 1).
    pub initial: InitialOpinions,
}

/// DeGroot (1974) averaging: xᵢ ← Σⱼ Wᵢⱼ xⱼ with a row-stochastic W given by the graph (weighted
/// rows must sum to 1; unweighted rows weigh each neighbour 1/kᵢ).
#[derive(Debug, Clone)]
pub struct DeGroot {
    topology: Topology,
    opinions: Vec<f64>,
}

impl DeGroot {
    /// A DeGroot model on `graph` with initial opinions seeded by `seed`.
    ///
    /// # Errors
    /// When W is not row-stochastic or the initial opinions are invalid.
    pub fn new(params: LinearParams, graph: Graph, seed: u64) -> Result<Self> {
        check_stochastic(&graph)?;
        let opinions = params.initial.generate(graph.n_nodes(), seed)?;
        Ok(Self {
            topology: Topology::Graph(graph),
            opinions,
        })
    }

    /// Opinions in agent order.
    pub fn opinions(&self) -> &[f64] {
        &self.opinions
    }

    fn graph(&self) -> &Graph {
        match &self.topology {
            Topology::Graph(graph) => graph,
            Topology::Complete { .. } => unreachable!("DeGroot is built from an explicit graph"),
        }
    }
}

impl UpdateRule for DeGroot {
    type Proposal = (usize, f64);

    fn name(&self) -> &'static str {
        "degroot"
    }
    fn n_agents(&self) -> usize {
        self.opinions.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    fn propose(&self, request: UpdateRequest, _rng: &mut SimRng) -> (usize, f64) {
        let i = request.agent_idx;
        (
            i,
            weighted_average(self.graph(), i, &self.opinions).unwrap_or(self.opinions[i]),
        )
    }
    fn apply(&mut self, (i, value): (usize, f64)) -> bool {
        let changed = (value - self.opinions[i]).abs() > CHANGE_TOLERANCE;
        self.opinions[i] = value;
        changed
    }
    fn view(&self) -> StateView<'_> {
        StateView::Continuous {
            opinions: Cow::Borrowed(&self.opinions),
            ranks: None,
        }
    }
}

/// Parameters of Friedkin–Johnsen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FjParams {
    /// Initial (and innate) opinions x₀. Default uniform on [0, 1).
    pub initial: InitialOpinions,
    /// Susceptibility λᵢ ∈ [0, 1] per agent (one value applies to all). Default 0.5.
    pub susceptibility: Vec<f64>,
}

/// Friedkin–Johnsen (1990): xᵢ ← λᵢ Σⱼ Wᵢⱼ xⱼ + (1 − λᵢ) x₀ᵢ, whose fixed point is
/// x* = (I − ΛW)⁻¹ (I − Λ) x₀ when it exists.
#[derive(Debug, Clone)]
pub struct FriedkinJohnsen {
    topology: Topology,
    susceptibility: Vec<f64>,
    innate: Vec<f64>,
    opinions: Vec<f64>,
}

impl FriedkinJohnsen {
    /// A Friedkin–Johnsen model on `graph` with initial opinions seeded by `seed`.
    ///
    /// # Errors
    /// When W is not row-stochastic, a susceptibility is outside [0, 1], or the number of
    /// susceptibilities is neither 1 nor N.
    pub fn new(params: FjParams, graph: Graph, seed: u64) -> Result<Self> {
        check_stochastic(&graph)?;
        let n = graph.n_nodes();
        let susceptibility = match params.susceptibility.len() {
            0 => vec![0.5; n],
            1 => vec![params.susceptibility[0]; n],
            len if len == n => params.susceptibility,
            len => {
                return Err(invalid(
                    "params.susceptibility",
                    format!("has {len} values for {n} agents (give 1 or {n})"),
                ))
            }
        };
        if let Some(bad) = susceptibility.iter().find(|l| !(0.0..=1.0).contains(*l)) {
            return Err(invalid(
                "params.susceptibility",
                format!("{bad} is outside [0, 1]"),
            ));
        }
        let innate = params.initial.generate(n, seed)?;
        Ok(Self {
            topology: Topology::Graph(graph),
            susceptibility,
            opinions: innate.clone(),
            innate,
        })
    }

    /// Opinions in agent order.
    pub fn opinions(&self) -> &[f64] {
        &self.opinions
    }
}

impl UpdateRule for FriedkinJohnsen {
    type Proposal = (usize, f64);

    fn name(&self) -> &'static str {
        "friedkin_johnsen"
    }
    fn n_agents(&self) -> usize {
        self.opinions.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    fn propose(&self, request: UpdateRequest, _rng: &mut SimRng) -> (usize, f64) {
        let i = request.agent_idx;
        let Topology::Graph(graph) = &self.topology else {
            unreachable!("built from a graph")
        };
        let social = weighted_average(graph, i, &self.opinions).unwrap_or(self.opinions[i]);
        let lambda = self.susceptibility[i];
        (i, lambda * social + (1.0 - lambda) * self.innate[i])
    }
    fn apply(&mut self, (i, value): (usize, f64)) -> bool {
        let changed = (value - self.opinions[i]).abs() > CHANGE_TOLERANCE;
        self.opinions[i] = value;
        changed
    }
    fn view(&self) -> StateView<'_> {
        StateView::Continuous {
            opinions: Cow::Borrowed(&self.opinions),
            ranks: None,
        }
    }
}

/// Parameters of Hegselmann–Krause.
#[derive(Debug, Clone, PartialEq)]
pub struct HkParams {
    /// Confidence bound ε (opinion units): agents average everyone within ε, self included,
    /// using `≤ ε +` [`CONFIDENCE_TOLERANCE`].
    pub epsilon: f64,
    /// Initial opinions. Default uniform on [0, 1).
    pub initial: InitialOpinions,
}

/// Hegselmann–Krause (2002) bounded confidence on any topology: xᵢ ← mean{xⱼ : j ∈ N(i) ∪ {i},
/// |xⱼ − xᵢ| ≤ ε}. O(kᵢ) per agent (O(N) on the implicit complete graph; use [`HkComplete`]
/// there for synchronous runs).
#[derive(Debug, Clone)]
pub struct HegselmannKrause {
    topology: Topology,
    epsilon: f64,
    opinions: Vec<f64>,
}

impl HegselmannKrause {
    /// An HK model on `topology` with initial opinions seeded by `seed`.
    ///
    /// # Errors
    /// When ε is negative or not finite, or the initial opinions are invalid.
    pub fn new(params: HkParams, topology: Topology, seed: u64) -> Result<Self> {
        check_epsilon(params.epsilon)?;
        let opinions = params.initial.generate(topology.n_agents(), seed)?;
        Ok(Self {
            topology,
            epsilon: params.epsilon,
            opinions,
        })
    }

    /// Opinions in agent order.
    pub fn opinions(&self) -> &[f64] {
        &self.opinions
    }
}

impl UpdateRule for HegselmannKrause {
    type Proposal = (usize, f64);

    fn name(&self) -> &'static str {
        "hk"
    }
    fn n_agents(&self) -> usize {
        self.opinions.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    fn propose(&self, request: UpdateRequest, _rng: &mut SimRng) -> (usize, f64) {
        let i = request.agent_idx;
        let xi = self.opinions[i];
        let bound = self.epsilon + CONFIDENCE_TOLERANCE;
        let (mut sum, mut count) = (xi, 1usize);
        let mut take = |xj: f64| {
            if (xj - xi).abs() <= bound {
                sum += xj;
                count += 1;
            }
        };
        match &self.topology {
            Topology::Complete { n } => (0..*n)
                .filter(|&j| j != i)
                .for_each(|j| take(self.opinions[j])),
            Topology::Graph(graph) => graph
                .neighbors(i)
                .iter()
                .filter(|&&j| j as usize != i)
                .for_each(|&j| take(self.opinions[j as usize])),
        }
        (i, sum / count as f64)
    }
    fn apply(&mut self, (i, value): (usize, f64)) -> bool {
        let changed = (value - self.opinions[i]).abs() > CHANGE_TOLERANCE;
        self.opinions[i] = value;
        changed
    }
    fn view(&self) -> StateView<'_> {
        StateView::Continuous {
            opinions: Cow::Borrowed(&self.opinions),
            ranks: None,
        }
    }
}

/// Bits of the quantisation levels across the initial opinion range in [`HkComplete`] for
/// `n_agents`: 40 (a resolution of about 9e-13 of the range) up to 2²² agents, then one bit
/// fewer per doubling (38 bits at N = 10⁷, 30 at 2³²), so that the levels of all N agents sum
/// to at most 2⁶² and every window sum, prefix sum and total fits an i64.
fn hk_level_bits(n_agents: usize) -> u32 {
    let ceil_log2 = usize::BITS - n_agents.saturating_sub(1).leading_zeros();
    40.min(62 - ceil_log2)
}

/// Hegselmann–Krause on the complete graph with an O(N log N) sorted-window sweep.
///
/// Opinions are kept sorted as integer levels (2⁴⁰ across the initial range, one bit fewer
/// per doubling above 2²² agents, so that all levels sum within an i64). HK preserves the
/// order of opinions on the complete graph, and the windows [xₖ − ε, xₖ + ε] of sorted agents
/// move monotonically, so one sweep is a sort (O(N log N), O(N) once sorted) plus a two-pointer
/// pass with exact integer sums. Agents at equal levels have equal windows, so
/// a sweep finds one window per run of equal levels (the runs are kept from sweep to sweep and
/// shrink as clusters form), and the agents' levels are written from the runs only when
/// something reads them (a view, the asynchronous path, a re-sort); results are the same as
/// from one window per agent. Integer sums make a collapsed cluster average to
/// exactly itself, so the run reaches an *exact* fixed point (no agent changes level) instead
/// of creeping by rounding errors. Pairs count as within ε when their levels differ by at most
/// ⌊(ε + [`CONFIDENCE_TOLERANCE`]) · levels / range⌋.
#[derive(Debug, Clone)]
pub struct HkComplete {
    topology: Topology,
    /// Opinion levels in ascending order, unless `levels_stale`.
    levels: Vec<i64>,
    /// `agent_of_rank[k]` is the agent holding `levels[k]`.
    agent_of_rank: Vec<u32>,
    /// Inverse of `agent_of_rank`.
    rank_of_agent: Vec<u32>,
    /// Opinion of level 0.
    low: f64,
    /// Opinion units per level.
    level_width: f64,
    /// ε in levels, tolerance included.
    epsilon_levels: i64,
    /// Runs of equal levels in `levels`, when `runs_valid`.
    runs: LevelRuns,
    /// Whether `runs` describes `levels` (a sweep keeps it up to date; `apply` does not).
    runs_valid: bool,
    /// Whether `levels` lags `runs` (only while `runs_valid`): a sweep by runs leaves writing
    /// every agent's level (as much memory traffic as the rest of a late sweep) to the first
    /// reader of `levels`, so that a run of sweeps writes them once, if at all.
    levels_stale: bool,
    /// Scratch for the next sweep's runs.
    next_runs: LevelRuns,
}

impl HkComplete {
    /// HK on the complete graph of `n_agents`, initial opinions seeded by `seed`.
    ///
    /// # Errors
    /// When ε is negative or not finite, or the initial opinions are invalid.
    pub fn new(params: HkParams, n_agents: usize, seed: u64) -> Result<Self> {
        check_epsilon(params.epsilon)?;
        if n_agents > u32::MAX as usize {
            return Err(invalid(
                "n_agents",
                "at most 4294967295 agents are supported",
            ));
        }
        let opinions = params.initial.generate(n_agents, seed)?;
        let low = opinions.iter().copied().fold(f64::INFINITY, f64::min);
        let high = opinions.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let range = if n_agents > 0 && high > low {
            high - low
        } else {
            1.0
        };
        let level_width = range / (1u64 << hk_level_bits(n_agents)) as f64;
        let low = if n_agents > 0 { low } else { 0.0 };
        let epsilon_levels = ((params.epsilon + CONFIDENCE_TOLERANCE) / level_width)
            .floor()
            .min(i64::MAX as f64 / 4.0) as i64;
        let mut pairs: Vec<(i64, u32)> = opinions
            .iter()
            .enumerate()
            .map(|(i, &x)| (((x - low) / level_width).round() as i64, i as u32))
            .collect();
        pairs.sort_unstable();
        let levels: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let agent_of_rank: Vec<u32> = pairs.iter().map(|p| p.1).collect();
        let mut model = Self {
            topology: Topology::Complete { n: n_agents },
            levels,
            rank_of_agent: vec![0; n_agents],
            agent_of_rank,
            low,
            level_width,
            epsilon_levels,
            runs: LevelRuns::default(),
            runs_valid: false,
            levels_stale: false,
            next_runs: LevelRuns::default(),
        };
        model.rebuild_ranks();
        // Built here, with the sweep's scratch written once, so that the first sweep does not
        // pay for faulting their pages in (about as much as the sweep itself).
        model.runs.rebuild(&model.levels);
        model.runs_valid = true;
        model.next_runs = model.runs.clone();
        Ok(model)
    }

    fn rebuild_ranks(&mut self) {
        for (rank, &agent) in self.agent_of_rank.iter().enumerate() {
            self.rank_of_agent[agent as usize] = rank as u32;
        }
    }

    fn opinion_of_level(&self, level: i64) -> f64 {
        self.low + level as f64 * self.level_width
    }

    /// Writes the levels from the runs where they lag them.
    fn sync_levels(&mut self) {
        if self.levels_stale {
            let parts = self.parts();
            fill_levels(&self.runs, &mut self.levels, parts);
            self.levels_stale = false;
        }
    }

    /// Parts a sweep, or a write of the agents' levels, splits into: rayon's threads from
    /// [`PARALLEL_WINDOW_AGENTS`] agents, else one.
    fn parts(&self) -> usize {
        if self.levels.len() >= PARALLEL_WINDOW_AGENTS {
            rayon::current_num_threads()
        } else {
            1
        }
    }

    /// The levels in ascending order, written from the runs where `levels` lags them.
    fn current_levels(&self) -> Cow<'_, [i64]> {
        if self.levels_stale {
            let mut levels = vec![0; self.levels.len()];
            fill_runs(&self.runs, &mut levels, 0);
            Cow::Owned(levels)
        } else {
            Cow::Borrowed(&self.levels)
        }
    }

    /// Opinions in agent order (O(N)).
    pub fn opinions(&self) -> Vec<f64> {
        let levels = self.current_levels();
        (0..levels.len())
            .map(|agent| self.opinion_of_level(levels[self.rank_of_agent[agent] as usize]))
            .collect()
    }

    /// Mean of the levels within ε of `levels[rank]` (rounded to the nearest level).
    fn window_mean(&self, rank: usize) -> i64 {
        if self.levels_stale {
            // The same window from the (valid, ascending) runs: the agent's run, the runs
            // within ε, and the exact sum and count from their prefixes.
            let runs = &self.runs;
            let n_runs = runs.n_runs();
            let run = runs.starts.partition_point(|&start| start as usize <= rank) - 1;
            let center = runs.values[run];
            let values = &runs.values[..n_runs];
            let start = values.partition_point(|&v| v < center - self.epsilon_levels);
            let end = values.partition_point(|&v| v <= center + self.epsilon_levels);
            let sum = runs.prefix[end] - runs.prefix[start];
            let count = runs.starts[end] - runs.starts[start];
            return (sum as f64 / f64::from(count)).round() as i64;
        }
        let center = self.levels[rank];
        let start = self
            .levels
            .partition_point(|&l| l < center - self.epsilon_levels);
        let end = self
            .levels
            .partition_point(|&l| l <= center + self.epsilon_levels);
        let sum: i64 = self.levels[start..end].iter().sum();
        (sum as f64 / (end - start) as f64).round() as i64
    }
}

impl UpdateRule for HkComplete {
    /// (agent, new level).
    type Proposal = (usize, i64);

    fn name(&self) -> &'static str {
        "hk"
    }
    fn n_agents(&self) -> usize {
        self.levels.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    /// The slow path for asynchronous schedulers: binary search plus a window sum, O(log N + w).
    fn propose(&self, request: UpdateRequest, _rng: &mut SimRng) -> (usize, i64) {
        let i = request.agent_idx;
        (i, self.window_mean(self.rank_of_agent[i] as usize))
    }
    /// Writes the level and restores sorted order by shifting the agent to its new rank.
    fn apply(&mut self, (i, level): (usize, i64)) -> bool {
        self.sync_levels();
        let mut rank = self.rank_of_agent[i] as usize;
        if self.levels[rank] == level {
            return false;
        }
        self.runs_valid = false;
        self.levels[rank] = level;
        while rank > 0 && self.levels[rank - 1] > level {
            self.levels.swap(rank - 1, rank);
            self.agent_of_rank.swap(rank - 1, rank);
            self.rank_of_agent[self.agent_of_rank[rank] as usize] = rank as u32;
            rank -= 1;
        }
        while rank + 1 < self.levels.len() && self.levels[rank + 1] < level {
            self.levels.swap(rank + 1, rank);
            self.agent_of_rank.swap(rank + 1, rank);
            self.rank_of_agent[self.agent_of_rank[rank] as usize] = rank as u32;
            rank += 1;
        }
        self.rank_of_agent[i] = rank as u32;
        true
    }
    fn synchronous_kernel(&mut self, _rng: &mut SimRng) -> Option<u64> {
        // All N levels sum to at most 2⁶² ([`hk_level_bits`]), so every sum fits an i64.
        let parts = self.parts();
        if !self.runs_valid {
            // `levels` is up to date whenever the runs are not.
            self.runs.rebuild(&self.levels);
        }
        let (changed, sorted) = run_pass(
            &mut self.runs,
            &mut self.next_runs,
            self.epsilon_levels,
            parts,
        );
        // The new runs describe the new levels (when they are unsorted, as a list of levels in
        // rank order, which `sync_levels` below writes before the sort).
        self.levels_stale |= changed > 0;
        self.runs_valid = sorted;
        if !sorted {
            // Exact HK keeps the order; rounding of the means can swap two near-equal
            // neighbours by one level, so restore the invariant (pdqsort is O(N) on such input).
            self.sync_levels();
            let mut pairs: Vec<(i64, u32)> = self
                .levels
                .iter()
                .copied()
                .zip(self.agent_of_rank.iter().copied())
                .collect();
            pairs.sort_unstable();
            for (k, (level, agent)) in pairs.into_iter().enumerate() {
                self.levels[k] = level;
                self.agent_of_rank[k] = agent;
            }
            self.rebuild_ranks();
        }
        Some(changed)
    }
    /// While the runs are valid (after any sweep), the runs of equal opinions, summarised in
    /// O(runs) and never written per agent; otherwise (after the asynchronous path) the written
    /// levels, whose runs are then out of date. Levels lag only while the runs are valid, so
    /// the second form never needs them written first.
    fn view(&self) -> StateView<'_> {
        let opinion = |level| self.opinion_of_level(level);
        if self.runs_valid {
            let n_runs = self.runs.n_runs();
            return StateView::ContinuousRuns {
                values: self.runs.values[..n_runs]
                    .iter()
                    .map(|&level| opinion(level))
                    .collect(),
                starts: &self.runs.starts,
                ranks: &self.rank_of_agent,
            };
        }
        debug_assert!(!self.levels_stale);
        StateView::Continuous {
            opinions: Cow::Owned(self.levels.iter().map(|&level| opinion(level)).collect()),
            ranks: Some(&self.rank_of_agent),
        }
    }
}

/// One synchronous HK sweep over sorted `levels` into `next`: a two-pointer window
/// [level − ε, level + ε] with an exact running sum, one window per agent. The reference the
/// tests hold the kernel by runs to. Returns (changed agents, whether `next` is still sorted).
#[cfg(test)]
fn window_pass(levels: &[i64], next: &mut [i64], eps: i64) -> (u64, bool) {
    let n = levels.len();
    let (mut start, mut end) = (0usize, 0usize);
    let mut sum = 0i64;
    let mut changed = 0u64;
    let mut sorted = true;
    let mut previous = i64::MIN;
    for k in 0..n {
        let center = levels[k];
        while end < n && levels[end] <= center + eps {
            sum += levels[end];
            end += 1;
        }
        while levels[start] < center - eps {
            sum -= levels[start];
            start += 1;
        }
        // Relative error of the f64 division is 2⁻⁵³ of a value below 2⁴⁰ levels, far below
        // half a level, so a collapsed cluster maps exactly onto itself. Levels are >= 0, so
        // floor(x + ½) rounds to nearest (and compiles to one instruction, unlike `round`).
        let mean = (sum as f64 / (end - start) as f64 + 0.5).floor() as i64;
        changed += u64::from(mean != center);
        sorted &= mean >= previous;
        previous = mean;
        next[k] = mean;
    }
    (changed, sorted)
}

/// Agents from which a sweep is split over rayon's threads: below it a part's work would not
/// pay for waking a thread.
const PARALLEL_WINDOW_AGENTS: usize = 1 << 16;

/// Runs of equal levels among sorted agents. On the complete graph agents with equal levels
/// have equal windows and so equal next levels, so an HK sweep needs one window per *distinct*
/// level; runs shrink fast as clusters form (at N = 10⁶ from 10⁶ to a few thousand within ten
/// sweeps). Sums fit an i64 at any N ([`hk_level_bits`]).
#[derive(Debug, Clone, Default, PartialEq)]
struct LevelRuns {
    /// The levels of the runs (ascending while the levels are sorted), then [`RUN_PAD`] copies
    /// of `i64::MAX`, so that the window pointers can look ahead without a bounds test.
    values: Vec<i64>,
    /// `starts[j]` is the rank of the first agent of run `j`; the last entry is N.
    starts: Vec<u32>,
    /// `prefix[j]` is the exact sum of the levels of agents `0..starts[j]`; the last entry is
    /// the sum of all levels.
    prefix: Vec<i64>,
}

/// Sentinels after the run levels of [`LevelRuns`]: one per candidate of [`group_bounds`].
const RUN_PAD: usize = RUN_LOOKAHEAD;

impl LevelRuns {
    fn n_runs(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// The runs of `levels` (levels >= 0), in one branch-free pass: every agent writes its
    /// level, rank and prefix sum to the next free slot, which only a new level claims.
    fn rebuild(&mut self, levels: &[i64]) {
        let n = levels.len();
        self.values.clear();
        self.values.resize(n + RUN_PAD, i64::MAX);
        self.starts.clear();
        self.starts.resize(n + 1, 0);
        self.prefix.clear();
        self.prefix.resize(n + 1, 0);
        let mut n_runs = 0;
        let mut sum = 0i64;
        let mut previous = -1;
        for (rank, &level) in levels.iter().enumerate() {
            self.values[n_runs] = level;
            self.starts[n_runs] = rank as u32;
            self.prefix[n_runs] = sum;
            n_runs += usize::from(level != previous);
            previous = level;
            sum += level;
        }
        self.finish(n_runs, n as u32, sum);
    }

    /// Makes room for `n_runs` runs and their padding (reusing the allocation).
    fn reserve_runs(&mut self, n_runs: usize) {
        self.values.resize(n_runs + RUN_PAD, i64::MAX);
        self.starts.resize(n_runs + 1, 0);
        self.prefix.resize(n_runs + 1, 0);
    }

    /// Trims to the first `n_runs` runs, of `n` agents whose levels sum to `sum`, and pads.
    fn finish(&mut self, n_runs: usize, n: u32, sum: i64) {
        self.values.truncate(n_runs);
        self.values.resize(n_runs + RUN_PAD, i64::MAX);
        self.starts.truncate(n_runs);
        self.starts.push(n);
        self.prefix.truncate(n_runs);
        self.prefix.push(sum);
    }
}

/// Runs per block of [`part_pass`]: the block's scratch (36 B a run: sums, counts, next
/// levels, weighted levels, new-run flags) stays in L1 between its loops, and the per-block
/// calls and setup are spread over enough runs (512 measured ~4% faster than 128 at
/// N = 10⁶; 1024 no better).
const RUN_BLOCK: usize = 512;

/// Runs whose window bounds [`group_bounds`] finds together.
const RUN_GROUP: usize = 4;

/// Candidate runs per step of [`group_bounds`].
const RUN_LOOKAHEAD: usize = 8;

/// For ascending thresholds `limits` and a pointer `from` at or before the first bound, the
/// bound for each threshold: the end of the runs with `values[k] < limit` when `STRICT`, else
/// with `values[k] <= limit`. Every threshold is compared with [`RUN_LOOKAHEAD`] runs at once
/// (vectorised), and the loop steps on only while the last threshold passes them all. A
/// `while` loop per run instead mispredicts about once per run, since how far a window edge
/// moves from one run to the next is close to random.
#[inline(always)]
fn group_bounds<const STRICT: bool>(
    values: &[i64],
    from: usize,
    limits: [i64; RUN_GROUP],
) -> [usize; RUN_GROUP] {
    let mut passed = [0usize; RUN_GROUP];
    let mut at = from;
    loop {
        let ahead: &[i64; RUN_LOOKAHEAD] = values[at..at + RUN_LOOKAHEAD].try_into().unwrap();
        let mut step = [0i64; RUN_GROUP];
        for &value in ahead {
            for (count, &limit) in step.iter_mut().zip(&limits) {
                *count += i64::from(if STRICT {
                    value < limit
                } else {
                    value <= limit
                });
            }
        }
        for (total, &count) in passed.iter_mut().zip(&step) {
            *total += count as usize;
        }
        // The values ascend, so the last threshold passed them all when it passed the last
        // one; tested on the value itself, the branch need not wait for the vector sums.
        let (last, limit) = (ahead[RUN_LOOKAHEAD - 1], limits[RUN_GROUP - 1]);
        if STRICT && last >= limit || !STRICT && last > limit {
            break;
        }
        at += RUN_LOOKAHEAD;
    }
    passed.map(|count| from + count)
}

/// The window bounds `[lower, upper)` of the run at level `center`, moved on from those of an
/// earlier run one run at a time (for the few runs left over from whole groups).
fn single_bounds(values: &[i64], lower: &mut usize, upper: &mut usize, center: i64, eps: i64) {
    while values[*upper] <= center + eps {
        *upper += 1;
    }
    while values[*lower] < center - eps {
        *lower += 1;
    }
}

/// What one part of [`run_pass`] wrote, for joining the parts.
#[derive(Debug, Clone, Copy)]
struct PartRuns {
    /// Runs of new levels written at the start of the part's output.
    n_runs: usize,
    /// Sum of the new levels of the part's agents.
    sum: i64,
    /// Agents whose level changed.
    changed: u64,
    /// Whether the new levels are nondecreasing within the part.
    sorted: bool,
    /// New level of the part's first and last agents.
    first_level: i64,
    last_level: i64,
}

/// The window sums and counts of runs `block_first..block_first + sums.len()`, moving the
/// window bounds `(lower, upper)` on from an earlier run's: [`RUN_GROUP`] runs at a time by
/// [`group_bounds`], the rest one by one. A function of its own so that the pointers stay in
/// registers. `SINGLETONS`: every run holds one agent (`starts[j] == j`, as in the first
/// sweep), so a count is the difference of the bounds and `starts` is not read.
#[inline(never)]
fn block_windows<const SINGLETONS: bool>(
    runs: &LevelRuns,
    block_first: usize,
    eps: i64,
    (mut lower, mut upper): (usize, usize),
    sums: &mut [u64],
    counts: &mut [u32],
) -> (usize, usize) {
    let values = &runs.values[..];
    // Bounds never pass the last run; clamping to it (a conditional move) spares the bounds
    // tests of the prefix and start lookups.
    let last_run = runs.n_runs();
    let prefix = &runs.prefix[..=last_run];
    let starts = &runs.starts[..=last_run];
    let block_len = sums.len();
    let grouped_len = block_len - block_len % RUN_GROUP;
    for offset in (0..grouped_len).step_by(RUN_GROUP) {
        let centers: [i64; RUN_GROUP] = values[block_first + offset..][..RUN_GROUP]
            .try_into()
            .unwrap();
        let uppers = group_bounds::<false>(values, upper, centers.map(|c| c + eps));
        let lowers = group_bounds::<true>(values, lower, centers.map(|c| c - eps));
        for k in 0..RUN_GROUP {
            let (upper, lower) = (uppers[k].min(last_run), lowers[k].min(last_run));
            // Levels are >= 0, so the sum is too.
            sums[offset + k] = (prefix[upper] - prefix[lower]) as u64;
            counts[offset + k] = if SINGLETONS {
                (upper - lower) as u32
            } else {
                starts[upper] - starts[lower]
            };
        }
        upper = uppers[RUN_GROUP - 1];
        lower = lowers[RUN_GROUP - 1];
    }
    for offset in grouped_len..block_len {
        single_bounds(
            values,
            &mut lower,
            &mut upper,
            values[block_first + offset],
            eps,
        );
        sums[offset] = (runs.prefix[upper] - runs.prefix[lower]) as u64;
        counts[offset] = if SINGLETONS {
            (upper - lower) as u32
        } else {
            runs.starts[upper] - runs.starts[lower]
        };
    }
    (lower, upper)
}

/// The next levels `block_next` of runs `block_first..` from their window sums and counts,
/// in one vectorised loop that also counts the agents whose level changes (`weighted` gets
/// each run's agents' new levels summed), and then whether each run starts a new merged run
/// (`new_run`: 1 where its level differs from the run before, `previous` for the first).
/// Returns (changed agents, whether `block_next` is nondecreasing and starts at or above
/// `previous`). `SINGLETONS` (see [`block_windows`]): every run is one agent, so `starts` is
/// not read and `weighted` is not written (a run's weighted level is its level).
#[inline(always)]
fn block_levels<const SINGLETONS: bool>(
    runs: &LevelRuns,
    block_first: usize,
    (sums, counts): (&[u64], &[u32]),
    previous: i64,
    block_next: &mut [i64],
    weighted: &mut [i64],
    new_run: &mut [usize],
) -> (u64, bool) {
    let block_len = block_next.len();
    let values = &runs.values[block_first..block_first + block_len];
    // floor(x + ½) rounds to nearest for x >= 0, as in `window_pass`.
    let level_of = |window_sum: u64, count: u32| {
        whole_f64_to_i64((u64_to_f64(window_sum) / f64::from(count) + 0.5).floor())
    };
    let mut changed = 0u64;
    if SINGLETONS {
        for (((slot, &window_sum), &count), &old_level) in block_next
            .iter_mut()
            .zip(&sums[..block_len])
            .zip(&counts[..block_len])
            .zip(values)
        {
            let level = level_of(window_sum, count);
            *slot = level;
            changed += u64::from(level != old_level);
        }
    } else {
        let starts = &runs.starts[block_first..block_first + block_len + 1];
        for (((((slot, weight), &window_sum), &count), &old_level), bounds) in block_next
            .iter_mut()
            .zip(weighted.iter_mut())
            .zip(&sums[..block_len])
            .zip(&counts[..block_len])
            .zip(values)
            .zip(starts.windows(2))
        {
            let level = level_of(window_sum, count);
            let size = bounds[1] - bounds[0];
            *slot = level;
            *weight = level * i64::from(size);
            changed += u64::from(level != old_level) * u64::from(size);
        }
    }
    let Some(&first_level) = block_next.first() else {
        return (changed, true);
    };
    new_run[0] = usize::from(first_level != previous);
    // A fold rather than `all`, which would stop early and not vectorise.
    let sorted = block_next.windows(2).zip(&mut new_run[1..block_len]).fold(
        first_level >= previous,
        |sorted, (pair, new_run)| {
            *new_run = usize::from(pair[1] != pair[0]);
            sorted & (pair[1] >= pair[0])
        },
    );
    (changed, sorted)
}

/// Merges the next levels `block_next` of runs `block_first..` (with `weighted`, see
/// [`block_levels`]) into the part's output (see [`part_pass`]), starting at its run
/// `part.n_runs`: every run writes its level, start and prefix to the next free slot, which
/// only a run with a new level (`new_run`) claims. The slot index is clamped
/// to the run's own index (never smaller, as a slot is never after the run writing it),
/// which lets the compiler drop the bounds tests. A function of its own so that its
/// loop-carried sums stay in registers. `SINGLETONS` (see [`block_windows`]): a run's start
/// is its index and its weighted level its level, so neither `starts` nor `weighted` is read.
#[inline(never)]
fn merge_block<const SINGLETONS: bool>(
    runs: &LevelRuns,
    block_first: usize,
    (block_next, weighted, new_run): (&[i64], &[i64], &[usize]),
    part: PartRuns,
    out_values: &mut [i64],
    out_starts: &mut [u32],
    out_prefix: &mut [i64],
) -> PartRuns {
    let block_len = block_next.len();
    let starts = &runs.starts[block_first..block_first + block_len];
    let weighted = &weighted[..block_len];
    let new_run = &new_run[..block_len];
    let at = part.n_runs;
    let (out_values, out_starts, out_prefix) = (
        &mut out_values[at..at + block_len],
        &mut out_starts[at..at + block_len],
        &mut out_prefix[at..at + block_len],
    );
    let (mut n_runs, mut sum) = (0usize, part.sum);
    if SINGLETONS {
        for (run, (&level, &new_run)) in block_next.iter().zip(new_run).enumerate() {
            let slot = n_runs.min(run);
            out_values[slot] = level;
            out_starts[slot] = (block_first + run) as u32;
            out_prefix[slot] = sum;
            n_runs += new_run;
            sum += level;
        }
    } else {
        for (run, (((&level, &start), &weight), &new_run)) in block_next
            .iter()
            .zip(starts)
            .zip(weighted)
            .zip(new_run)
            .enumerate()
        {
            let slot = n_runs.min(run);
            out_values[slot] = level;
            out_starts[slot] = start;
            out_prefix[slot] = sum;
            n_runs += new_run;
            sum += weight;
        }
    }
    PartRuns {
        n_runs: at + n_runs,
        sum,
        ..part
    }
}

/// One part of an HK sweep by runs: the next level of runs `first..first + len` of `runs`
/// (the rounded mean of the levels within `eps`, exactly as [`window_pass`] computes it per
/// agent), merged on the fly into runs of the new levels, which go to the start of
/// `out_values`, `out_starts` and `out_prefix` (each at least `len` long; prefix sums from
/// the part's first agent). Per block of [`RUN_BLOCK`] runs: window bounds by
/// [`group_bounds`], sums and counts from the prefix arrays, a vectorised division loop, and
/// the branch-free merge.
fn part_pass<const SINGLETONS: bool>(
    runs: &LevelRuns,
    first: usize,
    eps: i64,
    out_values: &mut [i64],
    out_starts: &mut [u32],
    out_prefix: &mut [i64],
) -> PartRuns {
    let len = out_values.len();
    let n_runs = runs.n_runs();
    let values = &runs.values[..];
    let center = values[first];
    let mut lower = values[..n_runs].partition_point(|&v| v < center - eps);
    let mut upper = values[..n_runs].partition_point(|&v| v <= center + eps);
    let mut sums = [0u64; RUN_BLOCK];
    let mut counts = [0u32; RUN_BLOCK];
    let mut block_next = [0i64; RUN_BLOCK];
    let mut weighted = [0i64; RUN_BLOCK];
    let mut new_run = [0usize; RUN_BLOCK];
    let mut part = PartRuns {
        n_runs: 0,
        sum: 0,
        changed: 0,
        sorted: true,
        first_level: 0,
        last_level: 0,
    };
    // New levels are >= 0, so the first run of the part always starts a merged run.
    let mut previous = -1;
    for block_start in (0..len).step_by(RUN_BLOCK) {
        let block_len = RUN_BLOCK.min(len - block_start);
        let block_first = first + block_start;
        (lower, upper) = block_windows::<SINGLETONS>(
            runs,
            block_first,
            eps,
            (lower, upper),
            &mut sums[..block_len],
            &mut counts[..block_len],
        );
        let (changed, sorted) = block_levels::<SINGLETONS>(
            runs,
            block_first,
            (&sums[..block_len], &counts[..block_len]),
            previous,
            &mut block_next[..block_len],
            &mut weighted[..block_len],
            &mut new_run[..block_len],
        );
        part.changed += changed;
        part.sorted &= sorted;
        previous = block_next[block_len - 1];
        part = merge_block::<SINGLETONS>(
            runs,
            block_first,
            (
                &block_next[..block_len],
                &weighted[..block_len],
                &new_run[..block_len],
            ),
            part,
            out_values,
            out_starts,
            out_prefix,
        );
    }
    part.first_level = out_values[0];
    part.last_level = previous;
    part
}

/// Writes each run's level to its agents, for agents `first..first + levels.len()` (ranks).
/// A short run, the common case while many levels are distinct, gets one fixed-width write
/// whose tail the next runs overwrite, instead of a loop whose trip count the branch
/// predictor would have to guess for every run.
fn fill_runs(runs: &LevelRuns, levels: &mut [i64], first: usize) {
    const FILL_AHEAD: usize = 8;
    let len = levels.len();
    let n_runs = runs.n_runs();
    if n_runs == runs.starts[n_runs] as usize {
        // All levels distinct: a copy.
        levels.copy_from_slice(&runs.values[first..first + len]);
        return;
    }
    let last = first + len;
    let first_run = runs
        .starts
        .partition_point(|&start| start as usize <= first)
        - 1;
    let end_run = runs
        .starts
        .partition_point(|&start| (start as usize) < last);
    for (bounds, &level) in runs.starts[first_run..=end_run]
        .windows(2)
        .zip(&runs.values[first_run..end_run])
    {
        let from = (bounds[0] as usize).max(first) - first;
        let to = (bounds[1] as usize).min(last) - first;
        if to - from <= FILL_AHEAD && from + FILL_AHEAD <= len {
            levels[from..from + FILL_AHEAD].fill(level);
        } else {
            levels[from..to].fill(level);
        }
    }
}

/// Writes every agent's level from `runs`, split over `parts` rayon tasks by agents.
fn fill_levels(runs: &LevelRuns, levels: &mut [i64], parts: usize) {
    use rayon::prelude::*;
    if parts <= 1 {
        fill_runs(runs, levels, 0);
    } else {
        let agents_per_part = levels.len().div_ceil(parts).max(1);
        levels
            .par_chunks_mut(agents_per_part)
            .enumerate()
            .for_each(|(part, chunk)| fill_runs(runs, chunk, part * agents_per_part));
    }
}

/// One synchronous HK sweep of the levels described by `runs` (sorted), with the same result
/// as [`window_pass`]: the runs split into `parts` rayon tasks that each compute their runs'
/// next levels and merge equal neighbours into `next_runs`, and the parts are joined. Then
/// `runs` describes the new levels in rank order (`next_runs` is scratch; [`fill_levels`]
/// writes them per agent). Returns (changed agents, whether the levels are still sorted).
fn run_pass(
    runs: &mut LevelRuns,
    next_runs: &mut LevelRuns,
    eps: i64,
    parts: usize,
) -> (u64, bool) {
    let n_runs = runs.n_runs();
    if n_runs == 0 {
        return (0, true);
    }
    let n = runs.starts[n_runs];
    next_runs.reserve_runs(n_runs);
    let runs_per_part = n_runs.div_ceil(parts.max(1)).max(1);
    let (values, starts, prefix) = (
        &mut next_runs.values[..n_runs],
        &mut next_runs.starts[..n_runs],
        &mut next_runs.prefix[..n_runs],
    );
    // Every run one agent (the first sweep, where all levels are distinct): the passes skip
    // reading `starts` and the weighted levels.
    let singletons = n_runs == n as usize;
    let pass =
        |runs: &LevelRuns, first, values: &mut [i64], starts: &mut [u32], prefix: &mut [i64]| {
            if singletons {
                part_pass::<true>(runs, first, eps, values, starts, prefix)
            } else {
                part_pass::<false>(runs, first, eps, values, starts, prefix)
            }
        };
    let part_runs: Vec<PartRuns> = if parts <= 1 {
        vec![pass(runs, 0, values, starts, prefix)]
    } else {
        // The calling thread takes the first part itself and the pool the others. Called
        // from outside the pool (as a simulation's loop is), a parallel iterator has to wake
        // a sleeping worker, which then wakes the next: on a 2-core machine the second part
        // often started only when the first had finished, or milliseconds late in the first
        // sweep after building the model. Inside the pool this is an ordinary fork-join.
        let runs: &LevelRuns = runs;
        let mut found: Vec<Option<PartRuns>> = vec![None; n_runs.div_ceil(runs_per_part)];
        rayon::in_place_scope(|scope| {
            let mut part_outputs = values
                .chunks_mut(runs_per_part)
                .zip(starts.chunks_mut(runs_per_part))
                .zip(prefix.chunks_mut(runs_per_part))
                .zip(found.iter_mut())
                .enumerate();
            let first_part = part_outputs.next();
            for (part, (((values, starts), prefix), found)) in part_outputs {
                scope.spawn(move |_| {
                    *found = Some(pass(runs, part * runs_per_part, values, starts, prefix));
                });
            }
            if let Some((_, (((values, starts), prefix), found))) = first_part {
                *found = Some(pass(runs, 0, values, starts, prefix));
            }
        });
        found
            .into_iter()
            .map(|part| part.expect("every part ran"))
            .collect()
    };
    // Join the parts: move each part's runs down behind the previous part's, offsetting its
    // prefix sums, and join a run that continues across the boundary.
    let (mut joined, mut sum, mut changed, mut sorted, mut last_level) = (0, 0i64, 0u64, true, -1);
    for (part, found) in part_runs.iter().enumerate() {
        let offset = part * runs_per_part;
        changed += found.changed;
        sorted &= found.sorted && found.first_level >= last_level;
        let skip = usize::from(found.first_level == last_level);
        if offset != joined || skip > 0 || sum != 0 {
            let from = offset + skip..offset + found.n_runs;
            next_runs.values.copy_within(from.clone(), joined);
            next_runs.starts.copy_within(from.clone(), joined);
            next_runs.prefix.copy_within(from, joined);
            for prefix in &mut next_runs.prefix[joined..joined + found.n_runs - skip] {
                *prefix += sum;
            }
        }
        joined += found.n_runs - skip;
        sum += found.sum;
        last_level = found.last_level;
    }
    next_runs.finish(joined, n, sum);
    std::mem::swap(runs, next_runs);
    (changed, sorted)
}

/// `value as f64`, correctly rounded, in a form that vectorises without AVX-512: the high
/// and low 32-bit halves are placed in the mantissas of 2⁸⁴ and 2⁵², the offsets cancel
/// exactly, and the final addition rounds once.
#[inline(always)]
fn u64_to_f64(value: u64) -> f64 {
    const HIGH_OFFSET: u64 = 0x4530_0000_0000_0000; // 2⁸⁴
    const LOW_OFFSET: u64 = 0x4330_0000_0000_0000; // 2⁵²
    const BOTH: u64 = 0x4530_0000_0010_0000; // 2⁸⁴ + 2⁵²
    let high = f64::from_bits((value >> 32) | HIGH_OFFSET) - f64::from_bits(BOTH);
    let low = f64::from_bits((value & 0xFFFF_FFFF) | LOW_OFFSET);
    high + low
}

/// `whole as i64` for a whole number in [0, 2⁵²): adding 2⁵² puts it in the low mantissa bits.
#[inline(always)]
fn whole_f64_to_i64(whole: f64) -> i64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    ((whole + TWO_52).to_bits() - TWO_52.to_bits()) as i64
}

/// Parameters of Deffuant–Weisbuch.
#[derive(Debug, Clone, PartialEq)]
pub struct DeffuantParams {
    /// Confidence bound ε (opinion units), with ≤ ε + [`CONFIDENCE_TOLERANCE`].
    pub epsilon: f64,
    /// Convergence parameter μ ∈ (0, ½]. Default ½.
    pub mu: f64,
    /// Initial opinions. Default uniform on [0, 1).
    pub initial: InitialOpinions,
    /// The run has settled when every interacting pair is either within this distance or
    /// farther apart than ε. Default 1e-6 (opinion units).
    pub settle_tolerance: f64,
}

/// Deffuant–Weisbuch (2000): a meeting pair within ε moves each by μ toward the other. Needs an
/// asynchronous scheduler (pairwise is the classic one); each meeting conserves xᵢ + xⱼ.
#[derive(Debug, Clone)]
pub struct Deffuant {
    topology: Topology,
    epsilon: f64,
    mu: f64,
    settle_tolerance: f64,
    opinions: Vec<f64>,
    /// The complete graph's settle test: groups from its last sort, reused to answer later
    /// tests without sorting (behind a mutex because `settled` takes `&self`).
    settle_groups: SettleGroups,
}

/// Deffuant's settle test on the complete graph, which sorts the opinions, splits them where
/// consecutive ones are more than ε apart, and asks every group to span at most the settle
/// tolerance. A quiet run repeats it every sweep while a few stragglers converge; sorting N
/// opinions each time cost more than the sweep. The groups of the last sort usually decide
/// the next test exactly without a sort (see [`GroupCache::certify`]), so it sorts only when
/// they do not.
#[derive(Debug, Default)]
struct SettleGroups(Mutex<GroupCache>);

/// What [`SettleGroups`] remembers from its last sort.
#[derive(Debug, Default, Clone)]
struct GroupCache {
    /// Agents in ascending opinion order as of the last sort.
    order: Vec<usize>,
    /// Exclusive ends of the groups in `order`.
    ends: Vec<usize>,
    /// Group indices by ascending size: small groups are the slow ones to converge, so they
    /// are the likeliest witnesses that the run has not settled.
    by_size: Vec<usize>,
    /// (lowest, highest) current opinion per group, scratch for `certify`.
    spans: Vec<(f64, f64)>,
}

impl Clone for SettleGroups {
    fn clone(&self) -> Self {
        let cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Self(Mutex::new(cache.clone()))
    }
}

impl GroupCache {
    /// The exact answer of the sorting test for `opinions`, or `None` when the remembered
    /// groups cannot tell. Both answers are exact, not heuristics:
    ///
    /// - Not settled when a remembered group now spans more than `tolerance` but at most
    ///   `bound`: its two extreme agents are within ε, so the sort puts them in one group
    ///   (every gap between them is at most their distance), and that group spans more than
    ///   `tolerance`.
    /// - Settled when every remembered group spans at most `tolerance` and each lies more than
    ///   `bound` above the previous one: the sort then splits between them, so its groups are
    ///   pieces of these and span no more.
    ///
    /// Float subtraction is monotone, so the rounded spans and gaps compare as the sort's do.
    fn certify(&mut self, opinions: &[f64], bound: f64, tolerance: f64) -> Option<bool> {
        if self.order.len() != opinions.len() {
            return None;
        }
        self.spans.clear();
        self.spans.resize(self.ends.len(), (0.0, 0.0));
        for &group in &self.by_size {
            let start = if group == 0 { 0 } else { self.ends[group - 1] };
            let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
            for &agent in &self.order[start..self.ends[group]] {
                low = low.min(opinions[agent]);
                high = high.max(opinions[agent]);
            }
            let span = high - low;
            if span > tolerance && span <= bound {
                return Some(false);
            }
            self.spans[group] = (low, high);
        }
        let compact = self
            .spans
            .iter()
            .all(|&(low, high)| high - low <= tolerance);
        let apart = self.spans.windows(2).all(|w| w[1].0 - w[0].1 > bound);
        (compact && apart).then_some(true)
    }

    /// Sorts, remembers the groups, and answers the test.
    fn sort_and_test(&mut self, opinions: &[f64], bound: f64, tolerance: f64) -> bool {
        self.order.clear();
        self.order.extend(0..opinions.len());
        self.order
            .sort_unstable_by(|&a, &b| opinions[a].total_cmp(&opinions[b]));
        self.ends.clear();
        let mut settled = true;
        let mut group_start = 0;
        for k in 1..=self.order.len() {
            if k == self.order.len()
                || opinions[self.order[k]] - opinions[self.order[k - 1]] > bound
            {
                if opinions[self.order[k - 1]] - opinions[self.order[group_start]] > tolerance {
                    settled = false;
                }
                self.ends.push(k);
                group_start = k;
            }
        }
        let ends = &self.ends;
        let size = |group: usize| ends[group] - if group == 0 { 0 } else { ends[group - 1] };
        self.by_size.clear();
        self.by_size.extend(0..ends.len());
        self.by_size.sort_by_key(|&group| size(group));
        settled
    }
}

impl SettleGroups {
    fn test(&self, opinions: &[f64], bound: f64, tolerance: f64) -> bool {
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match cache.certify(opinions, bound, tolerance) {
            Some(settled) => settled,
            None => cache.sort_and_test(opinions, bound, tolerance),
        }
    }
}

/// Updates per group of the complete-graph Deffuant kernel, which loads a group's opinions in
/// one short loop and then runs its updates, in order, in a second loop that finds them in L1
/// (128 updates touch at most 256 cache lines, 16 KB). In one loop each update waits on its
/// own two loads (from L3 at N = 10⁶), and so few updates fit in the core's window that the
/// misses barely overlap. Groups of 64-256 measured alike, 1024 slower; loading while drawing
/// the arcs, or a group ahead of the updates, was slower too.
const DEFFUANT_GROUP: usize = 128;

/// Agents from which the complete-graph Deffuant kernel runs in groups ([`DEFFUANT_GROUP`]):
/// 2¹⁶ opinions fill 512 KB, an L2 cache. Below, the opinions stay in L2, the fused per-update
/// loop hides their latency, and the extra loop costs a quarter of the rate at N = 10⁴.
const DEFFUANT_GROUPS_FROM: usize = 1 << 16;

/// Runs `arcs` in groups of [`DEFFUANT_GROUP`], each loaded by `touch` before `meet` runs
/// its meetings; returns the meetings that changed an opinion. Not inlined into the kernel, so
/// that LLVM keeps its loops' variables in registers.
#[inline(never)]
fn deffuant_groups(
    opinions: &mut [f64],
    arcs: &[(u32, u32)],
    touch: impl Fn(&[f64], &[(u32, u32)]),
    meet: impl Fn(&mut [f64], usize, usize) -> u64,
) -> u64 {
    let mut n_changed = 0;
    for group in arcs.chunks(DEFFUANT_GROUP) {
        touch(opinions, group);
        for &(listener, speaker) in group {
            n_changed += meet(opinions, listener as usize, speaker as usize);
        }
    }
    n_changed
}

impl Deffuant {
    /// A Deffuant model on `topology` with initial opinions seeded by `seed`.
    ///
    /// # Errors
    /// When ε is negative, μ is outside (0, ½], or the initial opinions are invalid.
    pub fn new(params: DeffuantParams, topology: Topology, seed: u64) -> Result<Self> {
        check_epsilon(params.epsilon)?;
        if params.mu.is_nan() || params.mu <= 0.0 || params.mu > 0.5 {
            return Err(invalid(
                "params.mu",
                format!("must be in (0, 0.5], got {}", params.mu),
            ));
        }
        if params.settle_tolerance.is_nan() || params.settle_tolerance < 0.0 {
            return Err(invalid("params.settle_tolerance", "must be >= 0"));
        }
        let mut opinions = params.initial.generate(topology.n_agents(), seed)?;
        // −0.0 + 0.0 is +0.0 and every other value is unchanged: with no −0.0 to start from
        // none can arise (a sum is −0.0 only when both terms are), which lets the
        // complete-graph kernel add ±0.0 for an out-of-bound pair without changing anything.
        for x in &mut opinions {
            *x += 0.0;
        }
        Ok(Self {
            topology,
            epsilon: params.epsilon,
            mu: params.mu,
            settle_tolerance: params.settle_tolerance,
            opinions,
            settle_groups: SettleGroups::default(),
        })
    }

    /// Opinions in agent order.
    pub fn opinions(&self) -> &[f64] {
        &self.opinions
    }
}

impl UpdateRule for Deffuant {
    /// (i, j, shift of i); j shifts by the opposite amount.
    type Proposal = Option<(usize, usize, f64)>;

    fn name(&self) -> &'static str {
        "deffuant"
    }
    fn n_agents(&self) -> usize {
        self.opinions.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    fn propose(&self, request: UpdateRequest, rng: &mut SimRng) -> Self::Proposal {
        let i = request.agent_idx;
        let j = request
            .partner
            .or_else(|| self.topology.random_neighbor(i, rng))?;
        let difference = self.opinions[j] - self.opinions[i];
        (i != j && difference.abs() <= self.epsilon + CONFIDENCE_TOLERANCE).then_some((
            i,
            j,
            self.mu * difference,
        ))
    }
    fn apply(&mut self, proposal: Self::Proposal) -> bool {
        let Some((i, j, shift)) = proposal else {
            return false;
        };
        // Adding and subtracting the same shift keeps the pair's sum up to one rounding each.
        self.opinions[i] += shift;
        self.opinions[j] -= shift;
        shift.abs() > CHANGE_TOLERANCE
    }
    /// Pairwise and random-sequential sweeps on the complete graph in one monomorphic loop:
    /// the same draws (listener, then speaker among the others) and the same arithmetic as
    /// `propose` + `apply`, without a call and a proposal per update, and without a branch on
    /// the confidence test (an out-of-bound pair moves by ±0.0, which changes nothing). The
    /// arcs are drawn a block ahead, and each group's opinions loaded before its updates run
    /// (see `DEFFUANT_GROUP`).
    fn asynchronous_kernel(
        &mut self,
        scheduler: Scheduler,
        rng: &mut SimRng,
    ) -> Option<SweepOutcome> {
        let Topology::Complete { n } = self.topology else {
            return None;
        };
        if n < 2 || !matches!(scheduler, Scheduler::Pairwise | Scheduler::RandomSequential) {
            return None;
        }
        let Ok(n_words) = u32::try_from(n) else {
            return None;
        };
        let bound = self.epsilon + CONFIDENCE_TOLERANCE;
        let mu = self.mu;
        let opinions = &mut self.opinions[..n];
        let mut n_changed = 0u64;
        // One meeting, exactly as `propose` + `apply`.
        let meet = |opinions: &mut [f64], listener: usize, speaker: usize| {
            let (x_listener, x_speaker) = (opinions[listener], opinions[speaker]);
            let difference = x_speaker - x_listener;
            let within = f64::from(u8::from(difference.abs() <= bound));
            // μ·d for a pair within ε, else ±0.0, by arithmetic rather than a select: LLVM
            // lowers any select here (on floats, on bits, on masks) to a branch that
            // mispredicts on about half of the meetings. The clamp only keeps an overflowing d
            // (opinions near ±1e308) from turning 0 · ∞ into NaN; within ε it changes nothing,
            // so a meeting moves exactly as `apply` moves it. Adding or subtracting ±0.0 leaves
            // every opinion unchanged because none is −0.0 (see `new`).
            let step = mu * difference.clamp(-bound, bound) * within;
            opinions[listener] = x_listener + step;
            opinions[speaker] = x_speaker - step;
            u64::from(step.abs() > CHANGE_TOLERANCE)
        };
        // Loads a group's opinions; the values are only kept so that the loads happen.
        let touch = |opinions: &[f64], group: &[(u32, u32)]| {
            let mut loaded = 0u64;
            for &(listener, speaker) in group {
                loaded ^=
                    opinions[listener as usize].to_bits() ^ opinions[speaker as usize].to_bits();
            }
            std::hint::black_box(loaded);
        };
        if n < DEFFUANT_GROUPS_FROM {
            complete_graph_arcs(rng, n, n_words, |listener, speaker| {
                n_changed += meet(opinions, listener, speaker);
                ControlFlow::Continue(())
            });
        } else {
            complete_graph_arc_blocks(rng, n, n_words, |arcs| {
                n_changed += deffuant_groups(opinions, arcs, touch, meet);
                ControlFlow::Continue(())
            });
        }
        Some(SweepOutcome {
            n_updates: n as u64,
            n_changed,
            synchronous: false,
            absorbed: false,
        })
    }
    /// Simultaneous pair moves would double-book agents, so only asynchronous schedulers.
    fn supports(&self, scheduler: Scheduler) -> bool {
        scheduler != Scheduler::Synchronous
    }
    fn settled(&self, outcome: &SweepOutcome) -> bool {
        if outcome.n_changed > 0
            && outcome.n_updates > 0
            && outcome.n_changed * 1000 > outcome.n_updates
        {
            return false; // cheap early answer while much is still moving
        }
        let bound = self.epsilon + CONFIDENCE_TOLERANCE;
        match &self.topology {
            Topology::Complete { .. } => {
                self.settle_groups
                    .test(&self.opinions, bound, self.settle_tolerance)
            }
            Topology::Graph(graph) => (0..graph.n_nodes()).all(|i| {
                graph.neighbors(i).iter().all(|&j| {
                    let d = (self.opinions[j as usize] - self.opinions[i]).abs();
                    d <= self.settle_tolerance || d > bound
                })
            }),
        }
    }
    fn view(&self) -> StateView<'_> {
        StateView::Continuous {
            opinions: Cow::Borrowed(&self.opinions),
            ranks: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::record::Snapshot;

    #[test]
    fn u64_to_f64_rounds_like_a_cast() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let edges = [
            0u64,
            1,
            (1 << 53) + 1,
            (1 << 62) + 3,
            u64::MAX,
            u64::MAX - 1,
        ];
        for value in edges
            .into_iter()
            .chain((0..100_000).map(|_| rng.random::<u64>() >> rng.random_range(0..64)))
        {
            assert_eq!(
                u64_to_f64(value).to_bits(),
                (value as f64).to_bits(),
                "{value}"
            );
        }
    }

    /// Sweeps of the per-agent reference: `window_pass`, then a sort where rounding broke the
    /// order (as `HkComplete` does); (levels after each sweep, changed agents per sweep).
    fn reference_sweeps(mut levels: Vec<i64>, eps: i64, sweeps: usize) -> Vec<(Vec<i64>, u64)> {
        let mut next = vec![0; levels.len()];
        (0..sweeps)
            .map(|_| {
                let (changed, sorted) = window_pass(&levels, &mut next, eps);
                std::mem::swap(&mut levels, &mut next);
                if !sorted {
                    levels.sort_unstable();
                }
                (levels.clone(), changed)
            })
            .collect()
    }

    /// Level bits shrink above 2²² agents so that all levels sum to at most 2⁶² (i64 sums).
    #[test]
    fn hk_level_bits_keep_the_sum_of_all_levels_within_an_i64() {
        assert_eq!(hk_level_bits(0), 40);
        assert_eq!(hk_level_bits(1_000_000), 40);
        assert_eq!(hk_level_bits(1 << 22), 40);
        assert_eq!(hk_level_bits((1 << 22) + 1), 39);
        assert_eq!(hk_level_bits(10_000_000), 38);
        assert_eq!(hk_level_bits(u32::MAX as usize), 30);
        for n in [
            1usize,
            1 << 22,
            (1 << 22) + 1,
            10_000_000,
            u32::MAX as usize,
        ] {
            let most = (n as u128) << hk_level_bits(n);
            assert!(most <= 1u128 << 62, "n = {n}");
        }
    }

    /// Above 2²² agents (where an earlier version switched to one window per agent with i128
    /// sums) the sweep by runs still matches the per-agent reference, sweep by sweep.
    #[test]
    fn hk_complete_above_two_to_the_22_matches_the_per_agent_reference() {
        let n = (1 << 22) + 5;
        let params = HkParams {
            epsilon: 0.1,
            initial: InitialOpinions::default(),
        };
        let mut model = HkComplete::new(params, n, 4).unwrap();
        assert_eq!(*model.levels.last().unwrap(), 1 << 39);
        let expected = reference_sweeps(model.levels.clone(), model.epsilon_levels, 3);
        let mut rng = SimRng::seed_from_u64(4);
        for (sweep, (levels, changed)) in expected.iter().enumerate() {
            assert_eq!(
                model.synchronous_kernel(&mut rng),
                Some(*changed),
                "sweep {sweep}"
            );
            assert!(*model.current_levels() == levels[..], "sweep {sweep}");
        }
    }

    #[test]
    fn hk_complete_sweeps_match_the_per_agent_reference_on_any_thread_count() {
        // Above PARALLEL_WINDOW_AGENTS, so that sweeps split over threads.
        let n = PARALLEL_WINDOW_AGENTS + 4321;
        for (epsilon, seed) in [(0.1, 1), (0.02, 2), (0.3, 3)] {
            let params = HkParams {
                epsilon,
                initial: InitialOpinions::default(),
            };
            let model = HkComplete::new(params, n, seed).unwrap();
            let expected = reference_sweeps(model.levels.clone(), model.epsilon_levels, 25);
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut model = model.clone();
                let mut rng = SimRng::seed_from_u64(seed);
                pool.install(|| {
                    for (sweep, (levels, changed)) in expected.iter().enumerate() {
                        let got = model.synchronous_kernel(&mut rng);
                        let context =
                            format!("epsilon {epsilon}, {threads} threads, sweep {sweep}");
                        assert_eq!(got, Some(*changed), "{context}");
                        // Written from the runs where the sweep left them stale (in a copy,
                        // so that the next sweep starts from stale levels too).
                        assert!(*model.current_levels() == levels[..], "{context}");
                        let mut written = model.clone();
                        written.sync_levels();
                        assert!(written.levels == *levels, "{context}");
                        assert!(!model.levels_stale || model.runs_valid, "{context}");
                        if model.runs_valid {
                            let mut rebuilt = LevelRuns::default();
                            rebuilt.rebuild(&written.levels);
                            assert!(model.runs == rebuilt, "{context}");
                        }
                    }
                });
                // The run reached the fixed point (the last sweeps changed nothing).
                assert_eq!(expected.last().unwrap().1, 0);
            }
        }
    }

    /// HK on the complete graph keeps its opinions sorted; recorded trajectories must still
    /// be in agent order (they were recorded in rank order before `StateView` carried ranks),
    /// with the levels written and while they lag the runs.
    #[test]
    fn hk_complete_trajectories_are_in_agent_order() {
        use crate::record::{RecordConfig, Recorder};
        let params = HkParams {
            epsilon: 0.1,
            initial: InitialOpinions::default(),
        };
        let mut model = HkComplete::new(params, 500, 3).unwrap();
        let config = RecordConfig {
            trajectories: true,
            ..RecordConfig::default()
        };
        let mut recorder = Recorder::new(config, true, &[]);
        let mut rng = SimRng::seed_from_u64(3);
        let mut expected = Vec::new();
        for step in 0..4 {
            if step > 0 {
                model.synchronous_kernel(&mut rng);
            }
            let outcome = SweepOutcome::default();
            recorder.record(step, step as f64, &outcome, &model.view(), true);
            expected.push(model.opinions());
        }
        let recorded = &recorder.trajectories().unwrap().states;
        assert_eq!(recorded, &expected);
        // The initial opinions are uniform draws, not sorted: agent order is not rank order.
        assert!(expected[0].windows(2).any(|pair| pair[1] < pair[0]));
    }

    #[test]
    fn hk_complete_reads_stale_levels_as_written_ones() {
        // After sweeps by runs the levels lag the runs; every reader must see the levels a
        // written copy holds.
        for (n, epsilon) in [(3000, 0.05), (PARALLEL_WINDOW_AGENTS + 17, 0.2)] {
            let params = HkParams {
                epsilon,
                initial: InitialOpinions::default(),
            };
            let mut model = HkComplete::new(params, n, 5).unwrap();
            let mut rng = SimRng::seed_from_u64(5);
            let mut picks = rand_chacha::ChaCha8Rng::seed_from_u64(6);
            let mut stale_sweeps = 0;
            for sweep in 0..8 {
                model.synchronous_kernel(&mut rng);
                stale_sweeps += usize::from(model.levels_stale);
                let mut written = model.clone();
                written.sync_levels();
                let context = format!("n = {n}, sweep {sweep}");
                assert_eq!(model.opinions(), written.opinions(), "{context}");
                // The view by runs against one from the written levels: the same opinions per
                // agent, and the same summary (sums in another order: within rounding).
                let by_levels = StateView::Continuous {
                    opinions: written
                        .levels
                        .iter()
                        .map(|&level| written.opinion_of_level(level))
                        .collect(),
                    ranks: Some(&written.rank_of_agent),
                };
                let view = model.view();
                assert_eq!(
                    view.agent_opinions(),
                    by_levels.agent_opinions(),
                    "{context}"
                );
                let (summary, expected) =
                    (Snapshot::of(&view, 1e-3), Snapshot::of(&by_levels, 1e-3));
                assert_eq!(summary.cluster_sizes, expected.cluster_sizes, "{context}");
                assert_eq!(summary.consensus, expected.consensus, "{context}");
                let close =
                    |a: Option<f64>, b: Option<f64>| (a.unwrap() - b.unwrap()).abs() < 1e-12;
                assert!(close(summary.mean, expected.mean), "{context}");
                assert!(close(summary.variance, expected.variance), "{context}");
                for _ in 0..200 {
                    let agent_idx = picks.random_range(0..n);
                    let request = UpdateRequest {
                        agent_idx,
                        partner: None,
                    };
                    assert_eq!(
                        model.propose(request, &mut rng),
                        written.propose(request, &mut rng),
                        "{context}, agent {agent_idx}"
                    );
                }
            }
            assert!(stale_sweeps > 0, "n = {n}");
            // An asynchronous update writes the lagging levels first.
            let mut written = model.clone();
            written.sync_levels();
            for agent_idx in [0, n / 2, n - 1] {
                let proposal = (agent_idx, written.levels[written.levels.len() / 3] + 1);
                assert_eq!(model.apply(proposal), written.apply(proposal));
            }
            assert!(!model.levels_stale);
            assert_eq!(model.levels, written.levels);
            assert_eq!(model.opinions(), written.opinions());
        }
        // Levels on a grid with ε a whole number of steps, so that windows end exactly at
        // levels ± ε: the windows from the runs match those from the levels.
        let params = HkParams {
            epsilon: 0.1,
            initial: InitialOpinions::default(),
        };
        let mut model = HkComplete::new(params, 3000, 8).unwrap();
        let step = 1i64 << 30;
        model.epsilon_levels = 3 * step;
        model.levels = (0..3000).map(|k| (k as i64 * 7 % 40) * step).collect();
        model.levels.sort_unstable();
        model.runs.rebuild(&model.levels);
        model.runs_valid = true;
        let mut from_runs = model.clone();
        from_runs.levels_stale = true;
        let mut rng = SimRng::seed_from_u64(8);
        for agent_idx in 0..3000 {
            let request = UpdateRequest {
                agent_idx,
                partner: None,
            };
            assert_eq!(
                from_runs.propose(request, &mut rng),
                model.propose(request, &mut rng),
                "agent {agent_idx}"
            );
        }
    }

    #[test]
    fn run_pass_matches_the_scalar_pass() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let sizes = [
            1usize,
            2,
            7,
            RUN_GROUP + 1,
            RUN_BLOCK - 1,
            RUN_BLOCK,
            3 * RUN_BLOCK + 5,
            5000,
            20_000,
        ];
        for &n in &sizes {
            for eps in [0i64, 3, 1 << 20, 1 << 37, 1 << 41] {
                // Uniform levels, few distinct levels (collapsed clusters, long runs), and
                // many short runs.
                for distinct in [None, Some(4u64), Some(n as u64 / 2 + 1)] {
                    let mut levels: Vec<i64> = (0..n)
                        .map(|_| match distinct {
                            None => rng.random_range(0..=1i64 << 40),
                            Some(d) => rng.random_range(0..d) as i64 * ((1i64 << 40) / d as i64),
                        })
                        .collect();
                    levels.sort_unstable();
                    let mut runs = LevelRuns::default();
                    runs.rebuild(&levels);
                    let mut scalar = vec![0; n];
                    let expected = window_pass(&levels, &mut scalar, eps);
                    let mut rebuilt = LevelRuns::default();
                    rebuilt.rebuild(&scalar);
                    let mut next_runs = LevelRuns::default();
                    for parts in [1, 2, 3, 7] {
                        let context = format!("n = {n}, eps = {eps}, {distinct:?}, {parts} parts");
                        let mut next = levels.clone();
                        let mut next_level_runs = runs.clone();
                        let got = run_pass(&mut next_level_runs, &mut next_runs, eps, parts);
                        fill_levels(&next_level_runs, &mut next, parts);
                        assert_eq!(got, expected, "{context}");
                        assert_eq!(next, scalar, "{context}");
                        if expected.1 {
                            // The merged runs are the runs of the next levels.
                            assert_eq!(next_level_runs, rebuilt, "{context}");
                        }
                    }
                }
            }
        }
    }

    /// Deffuant's settle test on the complete graph as it was before groups were remembered:
    /// sort a copy, split at gaps over ε, ask every group to span at most the tolerance.
    fn settled_by_sorting(opinions: &[f64], bound: f64, tolerance: f64) -> bool {
        let mut sorted = opinions.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let mut group_start = 0;
        for k in 1..=sorted.len() {
            if k == sorted.len() || sorted[k] - sorted[k - 1] > bound {
                if sorted[k - 1] - sorted[group_start] > tolerance {
                    return false;
                }
                group_start = k;
            }
        }
        true
    }

    #[test]
    fn remembered_settle_groups_answer_as_the_sort_does() {
        let (mut certified_settled, mut certified_unsettled, mut sorted) = (0, 0, 0);
        for seed in 0..4 {
            for (n, epsilon, mu, tolerance) in [
                (300, 0.2, 0.5, 1e-6),
                (200, 0.3, 0.3, 1e-6),
                (250, 0.1, 0.5, 1e-3),
                (150, 0.02, 0.5, 0.05),
            ] {
                let params = DeffuantParams {
                    epsilon,
                    mu,
                    initial: InitialOpinions::default(),
                    settle_tolerance: tolerance,
                };
                let mut model = Deffuant::new(params, Topology::Complete { n }, seed).unwrap();
                let bound = epsilon + CONFIDENCE_TOLERANCE;
                let mut rng = SimRng::seed_from_u64(seed);
                let mut cache = GroupCache::default();
                for sweep in 0..400 {
                    let outcome = Scheduler::Pairwise.sweep(&mut model, sweep, &mut rng);
                    let expected = settled_by_sorting(&model.opinions, bound, tolerance);
                    let answer = match cache.certify(&model.opinions, bound, tolerance) {
                        Some(true) => {
                            certified_settled += 1;
                            true
                        }
                        Some(false) => {
                            certified_unsettled += 1;
                            false
                        }
                        None => {
                            sorted += 1;
                            cache.sort_and_test(&model.opinions, bound, tolerance)
                        }
                    };
                    let context = format!("seed {seed}, n {n}, epsilon {epsilon}, sweep {sweep}");
                    assert_eq!(answer, expected, "{context}");
                    let quiet = SweepOutcome {
                        n_changed: 0,
                        ..outcome
                    };
                    assert_eq!(model.settled(&quiet), expected, "{context}");
                }
            }
        }
        // Every path answered many times: settled and unsettled without a sort, and sorts.
        assert!(
            certified_settled > 100 && certified_unsettled > 100 && sorted > 100,
            "{certified_settled} settled, {certified_unsettled} unsettled, {sorted} sorted"
        );
    }

    /// Sorts `at_sort`, then checks what the remembered groups and the sort say about `now`
    /// (ε = 0.2, tolerance 1e-6).
    fn check_settle(at_sort: &[f64], now: &[f64], certified: Option<bool>, settled: bool) {
        let mut cache = GroupCache::default();
        cache.sort_and_test(at_sort, 0.2, 1e-6);
        assert_eq!(
            cache.certify(now, 0.2, 1e-6),
            certified,
            "{at_sort:?} -> {now:?}"
        );
        assert_eq!(settled_by_sorting(now, 0.2, 1e-6), settled, "{now:?}");
        assert_eq!(cache.sort_and_test(now, 0.2, 1e-6), settled, "{now:?}");
    }

    #[test]
    fn remembered_settle_groups_on_hand_made_moves() {
        // Unchanged settled groups.
        check_settle(
            &[0.0, 0.0, 0.5, 0.5],
            &[0.0, 0.0, 0.5, 0.5],
            Some(true),
            true,
        );
        // A group spreads within ε: a witness.
        check_settle(
            &[0.0, 0.0, 0.5, 0.5],
            &[0.0, 0.01, 0.5, 0.5],
            Some(false),
            false,
        );
        // Compact groups drift within ε of each other: they now meet.
        check_settle(&[0.0, 0.0, 0.5, 0.5], &[0.0, 0.0, 0.1, 0.1], None, false);
        // A chain breaks into groups farther apart than ε.
        check_settle(&[0.0, 0.15, 0.3], &[0.0, 0.0, 0.5], None, true);
        // Groups swap places but stay compact and apart.
        check_settle(&[0.0, 0.0, 0.5, 0.5], &[0.9, 0.9, 0.5, 0.5], None, true);
    }
}
