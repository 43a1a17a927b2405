//! Spreading models: SIR/SEIR compartments, Maki–Thompson rumours, and a believer/skeptic
//! misinformation model with a time-stamped refutation schedule.

use rand::Rng;

use rand::RngCore;

use super::{count_states, move_agent, place_fraction};
use crate::error::{invalid, Result};
use crate::graph::{Graph, Topology};
use crate::record::StateView;
use crate::rng::{seeded, streams, SimRng};
use crate::schedule::{UpdateRequest, UpdateRule};

fn check_probability(key: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("must be a probability in [0, 1], got {value}"),
        ))
    }
}

/// Who listens to each agent when that is not the graph's own rows: the transposed adjacency
/// of a directed graph. `None` for the complete graph and undirected graphs, whose rows are
/// their own transpose (self-loops and duplicate arcs included).
fn listeners_of(topology: &Topology) -> Result<Option<Graph>> {
    match topology {
        Topology::Graph(graph) if graph.is_directed() => {
            let reversed: Vec<(u32, u32, f64)> = (0..graph.n_nodes())
                .flat_map(|i| graph.neighbors(i).iter().map(move |&j| (j, i as u32, 1.0)))
                .collect();
            Ok(Some(Graph::from_edges(
                graph.n_nodes(),
                &reversed,
                true,
                false,
            )?))
        }
        _ => Ok(None),
    }
}

/// Per agent, how many of the agents it listens to are in `state` (a scan of every row, done
/// once; models then keep the counts up to date with [`shift_listener_counts`]).
fn count_neighbors_in(graph: &Graph, states: &[u8], state: u8) -> Vec<u32> {
    (0..graph.n_nodes())
        .map(|i| {
            graph
                .neighbors(i)
                .iter()
                .filter(|&&j| states[j as usize] == state)
                .count() as u32
        })
        .collect()
}

const SIR_LABELS: &[&str] = &["S", "I", "R"];
const SEIR_LABELS: &[&str] = &["S", "E", "I", "R"];

/// Parameters of SIR / SEIR.
#[derive(Debug, Clone, PartialEq)]
pub struct CompartmentalParams {
    /// Per-contact, per-step transmission probability β from each infected neighbour.
    pub beta: f64,
    /// Per-step recovery probability γ of an infected agent.
    pub gamma: f64,
    /// Per-step probability σ that an exposed agent becomes infectious; `None` gives SIR.
    pub sigma: Option<f64>,
    /// Initial fraction infected (exactly round(fraction · N) agents, at random). Default 0.001.
    pub initial_infected: f64,
}

/// Discrete-time SIR / SEIR on a topology (as in NDlib): each step a susceptible agent with k
/// infected neighbours is infected with probability 1 − (1 − β)ᵏ, an exposed one becomes
/// infectious with probability σ, an infected one recovers with probability γ. The per-edge
/// transmissibility is T = β / (β + γ − βγ), so R₀ = ⟨k⟩ T (not β⟨k⟩/γ), and on the complete
/// graph the final size r solves r = 1 − e^(−R₀ r) as N → ∞.
///
/// **Clocks instead of a draw per agent and step.** Each agent carries a clock: the hazard it
/// has left before its next transition, drawn as Exp(1) when it enters a state. Each step it
/// spends that step's hazard, −k ln(1 − β) when susceptible with k infected neighbours,
/// −ln(1 − σ) when exposed, −ln(1 − γ) when infected, and moves on in the step its clock runs
/// out. An exponential is memoryless, so given that an agent has not moved yet it moves in a
/// step with probability 1 − e^(−hazard): exactly 1 − (1 − β)ᵏ, σ or γ. It is the same model as
/// one uniform draw per agent and step, but with one draw per transition (at most three per
/// agent and run), so a step is a pass of arithmetic over the agents that vectorises.
///
/// On an explicit graph each agent's k is kept up to date as agents become and stop being
/// infectious (each agent does so at most once per run), rather than counted over its
/// neighbours every step; the counts equal what that scan would give.
#[derive(Debug, Clone)]
pub struct Compartmental {
    topology: Topology,
    sigma: Option<f64>,
    states: Vec<u8>,
    counts: Vec<u64>,
    /// Per agent, how many of the agents it listens to are infected (explicit graphs only;
    /// empty on the complete graph, where k is the global count). Fits in `u32` because no
    /// row of the graph is longer (checked at construction).
    infected_neighbors: Vec<u32>,
    /// Who listens to each agent, for directed graphs (the transposed adjacency); `None` when
    /// the graph is undirected, since its rows are then their own transpose.
    listeners: Option<Graph>,
    /// Agents that became (`[1]`) or stopped being (`[0]`) infectious during the current
    /// synchronous sweep, reused across sweeps.
    infectious_changes: [Vec<u32>; 2],
    /// Per agent, the hazard left before its next transition: Exp(1) when drawn, +∞ once
    /// recovered (nothing is left to happen).
    clocks: Vec<f64>,
    /// Hazard spent per step, by state: index 0 per infected neighbour of a susceptible agent,
    /// then the exposed and infected states' own; 0 for the recovered state.
    hazards: [f64; 4],
    /// The state each state moves on to.
    moves_to: [u8; 4],
}

/// Agents per block of the synchronous kernel: a block's clocks are spent in one vectorised
/// pass, and only a block in which a clock ran out is scanned for its transitions.
const CLOCK_BLOCK: usize = 256;

/// Cap on a step's hazard, so that a probability of 1 (hazard +∞) spends any clock at once
/// while k · hazard stays a number (0 · ∞ would be NaN).
const MAX_HAZARD: f64 = 1e300;

/// The hazard −ln(1 − p) of an event of probability p per step, capped at [`MAX_HAZARD`].
fn step_hazard(p: f64) -> f64 {
    (-(-p).ln_1p()).min(MAX_HAZARD)
}

/// The clock of an agent entering `state`: +∞ when it is `recovered` (nothing is left to
/// happen), else a fresh [`exp1_clock`].
fn clock_entering(state: u8, recovered: u8, rng: &mut SimRng) -> f64 {
    if state == recovered {
        f64::INFINITY
    } else {
        exp1_clock(rng)
    }
}

/// An Exp(1) clock, −ln U with U uniform on (0, 1): the top 53 bits of a word, offset by half
/// a unit so that U is never 0 (nor 1), and the clock is finite and positive.
fn exp1_clock(rng: &mut SimRng) -> f64 {
    let u = ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
    -u.ln()
}

/// The hazard an agent in `state` with `k` infected neighbours spends in one step, written
/// with selects so that the pass over a block vectorises.
#[inline(always)]
fn hazard_of(hazards: &[f64; 4], state: u8, k: f64) -> f64 {
    let own = if state == 1 {
        hazards[1]
    } else if state == 2 {
        hazards[2]
    } else {
        0.0
    };
    if state == 0 {
        k * hazards[0]
    } else {
        own
    }
}

/// Spends one step's hazard from each clock of a block whose agents have `ks` infected
/// neighbours; returns whether any clock ran out. Branch-free, so the pass vectorises.
#[inline(always)]
fn spend_clocks(
    states: &[u8],
    ks: impl Iterator<Item = f64>,
    clocks: &mut [f64],
    hazards: &[f64; 4],
) -> bool {
    let mut ran_out = false;
    for ((clock, &state), k) in clocks.iter_mut().zip(states).zip(ks) {
        let left = *clock - hazard_of(hazards, state, k);
        *clock = left;
        ran_out |= left <= 0.0;
    }
    ran_out
}

/// Bit j set where `clocks[j]` ran out (at most 64 clocks), in a loop that vectorises.
#[inline(always)]
fn ran_out_mask(clocks: &[f64]) -> u64 {
    clocks
        .iter()
        .enumerate()
        .fold(0, |mask, (j, &clock)| mask | (u64::from(clock <= 0.0) << j))
}

/// Adds one to (or, when `became_infectious` is false, takes one from) the count of everyone
/// who listens to `agent`.
#[inline]
fn shift_listener_counts(
    graph: &Graph,
    listeners: Option<&Graph>,
    infected_neighbors: &mut [u32],
    agent: usize,
    became_infectious: bool,
) {
    let listening = listeners.unwrap_or(graph).neighbors(agent);
    if became_infectious {
        for &j in listening {
            infected_neighbors[j as usize] += 1;
        }
    } else {
        for &j in listening {
            infected_neighbors[j as usize] -= 1;
        }
    }
}

/// Agents whose rows [`shift_counts_in_batches`] touches ahead at a time.
const ROW_BATCH: usize = 1024;

/// [`shift_listener_counts`] for each of `agents` (who listen through `listening`'s rows), a
/// batch of agents at a time in two passes: the first reads the first listener of each
/// agent's row, the second shifts the counts. The rows are random accesses into an array
/// larger than the caches, and so are the counts; agent by agent, each agent's count updates
/// waited on its row. In the first pass nothing waits on one row before the next is asked for,
/// so many misses overlap, and the second pass finds the rows in cache.
fn shift_counts_in_batches(
    listening: &Graph,
    agents: &[u32],
    became_infectious: bool,
    counts: &mut [u32],
) {
    for batch in agents.chunks(ROW_BATCH) {
        let touched = batch.iter().fold(0u32, |acc, &agent| {
            acc ^ listening
                .neighbors(agent as usize)
                .first()
                .copied()
                .unwrap_or(0)
        });
        std::hint::black_box(touched);
        for &agent in batch {
            shift_listener_counts(listening, None, counts, agent as usize, became_infectious);
        }
    }
}

impl Compartmental {
    /// SIR (or SEIR when σ is given) on `topology`, initial infections and clocks drawn with
    /// `seed`.
    ///
    /// # Errors
    /// When a probability is outside [0, 1], or a graph row holds more than 2³² − 1 arcs.
    pub fn new(params: CompartmentalParams, topology: Topology, seed: u64) -> Result<Self> {
        check_probability("params.beta", params.beta)?;
        check_probability("params.gamma", params.gamma)?;
        check_probability("params.initial_infected", params.initial_infected)?;
        if let Some(sigma) = params.sigma {
            check_probability("params.sigma", sigma)?;
        }
        if let Topology::Graph(graph) = &topology {
            let max_degree = (0..graph.n_nodes())
                .map(|i| graph.degree(i))
                .max()
                .unwrap_or(0);
            if max_degree > u32::MAX as usize {
                return Err(invalid(
                    "graph",
                    format!(
                        "an agent listens to {max_degree} agents; SIR supports at most 2^32 - 1"
                    ),
                ));
            }
        }
        let listeners = listeners_of(&topology)?;
        let (beta, gamma) = (step_hazard(params.beta), step_hazard(params.gamma));
        let (hazards, moves_to) = match params.sigma {
            None => ([beta, gamma, 0.0, 0.0], [1, 2, 2, 3]),
            Some(sigma) => ([beta, step_hazard(sigma), gamma, 0.0], [1, 2, 3, 3]),
        };
        let mut model = Self {
            topology,
            sigma: params.sigma,
            states: Vec::new(),
            counts: Vec::new(),
            infected_neighbors: Vec::new(),
            listeners,
            infectious_changes: [Vec::new(), Vec::new()],
            clocks: Vec::new(),
            hazards,
            moves_to,
        };
        let infected = model.infected();
        model.states = place_fraction(
            model.topology.n_agents(),
            params.initial_infected,
            infected,
            0,
            seed,
        );
        model.counts = count_states(&model.states, model.labels().len());
        if let Topology::Graph(graph) = &model.topology {
            model.infected_neighbors = count_neighbors_in(graph, &model.states, infected);
        }
        let mut rng = seeded(seed, streams::CLOCKS);
        model.clocks = (0..model.states.len())
            .map(|_| exp1_clock(&mut rng))
            .collect();
        Ok(model)
    }

    fn labels(&self) -> &'static [&'static str] {
        if self.sigma.is_some() {
            SEIR_LABELS
        } else {
            SIR_LABELS
        }
    }

    fn exposed(&self) -> Option<u8> {
        self.sigma.map(|_| 1)
    }

    fn infected(&self) -> u8 {
        if self.sigma.is_some() {
            2
        } else {
            1
        }
    }

    fn recovered(&self) -> u8 {
        self.infected() + 1
    }

    /// Compartment per agent, indexing `["S", "I", "R"]` or `["S", "E", "I", "R"]`.
    pub fn states(&self) -> &[u8] {
        &self.states
    }

    /// Infected agents among those agent `i` listens to (the partner alone when a pairwise
    /// scheduler names one).
    #[inline]
    fn infected_neighbors(&self, i: usize, partner: Option<usize>) -> u64 {
        match (partner, &self.topology) {
            (Some(j), _) => u64::from(self.states[j] == self.infected()),
            (None, Topology::Complete { .. }) => self.counts[self.infected() as usize],
            (None, Topology::Graph(_)) => u64::from(self.infected_neighbors[i]),
        }
    }

    /// Sets agent `i` to `state`, keeping the compartment counts and (on a graph) the
    /// infected-neighbour counts up to date; returns whether it changed.
    fn set(&mut self, i: usize, state: u8) -> bool {
        let Some(old) = move_agent(&mut self.states, &mut self.counts, i, state) else {
            return false;
        };
        let infected = self.infected();
        if (old == infected) != (state == infected) {
            if let Topology::Graph(graph) = &self.topology {
                shift_listener_counts(
                    graph,
                    self.listeners.as_ref(),
                    &mut self.infected_neighbors,
                    i,
                    state == infected,
                );
            }
        }
        true
    }
}

impl UpdateRule for Compartmental {
    /// (agent, new state, its clock).
    type Proposal = (usize, u8, f64);

    fn name(&self) -> &'static str {
        if self.sigma.is_some() {
            "seir"
        } else {
            "sir"
        }
    }
    fn n_agents(&self) -> usize {
        self.states.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    /// Spends the step's hazard from the agent's clock; when it runs out, the agent moves on
    /// and draws the clock of its new state.
    fn propose(&self, request: UpdateRequest, rng: &mut SimRng) -> Self::Proposal {
        let i = request.agent_idx;
        let state = self.states[i];
        let k = self.infected_neighbors(i, request.partner) as f64;
        let left = self.clocks[i] - hazard_of(&self.hazards, state, k);
        if left <= 0.0 {
            let next = self.moves_to[usize::from(state)];
            (i, next, clock_entering(next, self.recovered(), rng))
        } else {
            (i, state, left)
        }
    }
    fn apply(&mut self, (i, state, clock): Self::Proposal) -> bool {
        self.clocks[i] = clock;
        self.set(i, state)
    }
    /// The generic synchronous sweep without its per-sweep vectors of requests and proposals:
    /// the same clocks spent, the same transitions and the same draws in the same order (agent
    /// order), so the same results. Each agent's next state depends only on its own state,
    /// clock and k, so states are written in place; the k of other agents move only after the
    /// sweep, so every agent sees the state at the start of the sweep.
    ///
    /// A block's clocks are spent in one branch-free pass (vectorised); a block where none ran
    /// out, the common case, needs nothing more.
    fn synchronous_kernel(&mut self, rng: &mut SimRng) -> Option<u64> {
        let infected = self.infected();
        let recovered = self.recovered();
        // On the complete graph every agent's k is the infected count at the start of the sweep.
        let complete_k = match self.topology {
            Topology::Complete { .. } => Some(self.counts[infected as usize] as f64),
            Topology::Graph(_) => None,
        };
        let hazards = self.hazards;
        let changes = &mut self.infectious_changes;
        changes.iter_mut().for_each(Vec::clear);
        let mut changed = 0;
        let n = self.states.len();
        for start in (0..n).step_by(CLOCK_BLOCK) {
            let end = n.min(start + CLOCK_BLOCK);
            let states = &mut self.states[start..end];
            let clocks = &mut self.clocks[start..end];
            let any = match complete_k {
                Some(k) => spend_clocks(states, std::iter::repeat(k), clocks, &hazards),
                None => spend_clocks(
                    states,
                    self.infected_neighbors[start..end]
                        .iter()
                        .map(|&k| k as f64),
                    clocks,
                    &hazards,
                ),
            };
            if !any {
                continue;
            }
            // The few clocks that ran out, found 64 at a time by a mask.
            for (first, (states, clocks)) in (start..)
                .step_by(64)
                .zip(states.chunks_mut(64).zip(clocks.chunks_mut(64)))
            {
                let mut mask = ran_out_mask(clocks);
                while mask != 0 {
                    let j = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    let old = states[j];
                    let new = self.moves_to[usize::from(old)];
                    states[j] = new;
                    clocks[j] = clock_entering(new, recovered, rng);
                    self.counts[usize::from(old)] -= 1;
                    self.counts[usize::from(new)] += 1;
                    changed += 1;
                    if (old == infected) != (new == infected) {
                        changes[usize::from(new == infected)].push((first + j) as u32);
                    }
                }
            }
        }
        if let Topology::Graph(graph) = &self.topology {
            let listening = self.listeners.as_ref().unwrap_or(graph);
            for (agents, became_infectious) in changes.iter().zip([false, true]) {
                shift_counts_in_batches(
                    listening,
                    agents,
                    became_infectious,
                    &mut self.infected_neighbors,
                );
            }
        }
        Some(changed)
    }
    fn stochastic(&self) -> bool {
        true
    }
    fn absorbed(&self) -> bool {
        self.counts[self.infected() as usize] == 0
            && self.exposed().is_none_or(|e| self.counts[e as usize] == 0)
    }
    fn view(&self) -> StateView<'_> {
        StateView::Discrete {
            states: &self.states,
            labels: self.labels(),
            counts: &self.counts,
        }
    }
}

const RUMOR_LABELS: &[&str] = &["ignorant", "spreader", "stifler"];

/// Parameters of Maki–Thompson.
#[derive(Debug, Clone, PartialEq)]
pub struct MakiThompsonParams {
    /// Initial number of spreaders (placed at random). Default 1.
    pub initial_spreaders: usize,
}

impl Default for MakiThompsonParams {
    fn default() -> Self {
        Self {
            initial_spreaders: 1,
        }
    }
}

/// Maki–Thompson (1973) rumour: a spreader contacts a random neighbour; an ignorant contact
/// becomes a spreader, otherwise the initiating spreader becomes a stifler. On the complete
/// graph the fraction that never hears the rumour tends to 0.203188 (root of
/// x = e^(−2(1−x))). Non-spreaders picked by a scheduler do nothing, which rescales time but
/// not the jump chain.
#[derive(Debug, Clone)]
pub struct MakiThompson {
    topology: Topology,
    states: Vec<u8>,
    counts: Vec<u64>,
}

impl MakiThompson {
    /// Maki–Thompson on `topology`, initial spreaders placed with `seed`.
    ///
    /// # Errors
    /// When there are more initial spreaders than agents.
    pub fn new(params: MakiThompsonParams, topology: Topology, seed: u64) -> Result<Self> {
        let n = topology.n_agents();
        if params.initial_spreaders > n {
            return Err(invalid(
                "params.initial_spreaders",
                format!("{} exceeds {n} agents", params.initial_spreaders),
            ));
        }
        let fraction = if n == 0 {
            0.0
        } else {
            params.initial_spreaders as f64 / n as f64
        };
        let states = place_fraction(n, fraction, 1, 0, seed);
        let counts = count_states(&states, 3);
        Ok(Self {
            topology,
            states,
            counts,
        })
    }

    /// State per agent (0 ignorant, 1 spreader, 2 stifler).
    pub fn states(&self) -> &[u8] {
        &self.states
    }
}

impl UpdateRule for MakiThompson {
    /// (agent, new state) for the one agent that changes.
    type Proposal = Option<(usize, u8)>;

    fn name(&self) -> &'static str {
        "maki_thompson"
    }
    fn n_agents(&self) -> usize {
        self.states.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    fn propose(&self, request: UpdateRequest, rng: &mut SimRng) -> Self::Proposal {
        let i = request.agent_idx;
        if self.states[i] != 1 {
            return None;
        }
        let j = request
            .partner
            .or_else(|| self.topology.random_neighbor(i, rng))?;
        Some(if self.states[j] == 0 { (j, 1) } else { (i, 2) })
    }
    fn apply(&mut self, proposal: Self::Proposal) -> bool {
        let Some((i, state)) = proposal else {
            return false;
        };
        move_agent(&mut self.states, &mut self.counts, i, state).is_some()
    }
    fn stochastic(&self) -> bool {
        true
    }
    fn absorbed(&self) -> bool {
        self.counts[1] == 0
    }
    fn view(&self) -> StateView<'_> {
        StateView::Discrete {
            states: &self.states,
            labels: RUMOR_LABELS,
            counts: &self.counts,
        }
    }
}

const MISINFO_LABELS: &[&str] = &["susceptible", "believer", "skeptic"];

/// A refutation broadcast at a given sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Intervention {
    /// 0-based sweep before which the broadcast happens.
    pub step: u64,
    /// Probability that the broadcast reaches a given agent.
    pub reach: f64,
    /// Probability that a reached believer or susceptible becomes a skeptic.
    pub efficacy: f64,
}

/// Parameters of the misinformation model.
#[derive(Debug, Clone, PartialEq)]
pub struct MisinformationParams {
    /// Spreading rate β: per-step probability that a susceptible agent with believing or
    /// skeptical neighbours takes a side.
    pub beta: f64,
    /// Credibility α ∈ [0, 1] of the hoax: sides are weighted nB(1 + α) against nF(1 − α).
    pub alpha: f64,
    /// Per-step probability that a believer checks the facts and becomes a skeptic.
    pub p_verify: f64,
    /// Per-step probability that a believer or skeptic forgets and becomes susceptible.
    pub p_forget: f64,
    /// Initial fraction of believers. Default 0.01.
    pub initial_believers: f64,
    /// Refutation broadcasts, in any order.
    pub interventions: Vec<Intervention>,
}

/// Hoax spreading with fact-checking (Tambuscio, Ruffo, Flammini & Menczer 2015), the classical
/// counterpart of FPS-style LLM fake-news simulations: susceptible, believer and skeptic
/// agents, plus refutation broadcasts given as a time-stamped schedule. A susceptible agent
/// with nB believing and nF skeptical neighbours becomes a believer with probability
/// β·nB(1+α)/(nB(1+α)+nF(1−α)) and a skeptic with β·nF(1−α)/(…); believers verify with
/// `p_verify`; believers and skeptics forget with `p_forget`.
#[derive(Debug, Clone)]
pub struct Misinformation {
    topology: Topology,
    params: MisinformationParams,
    states: Vec<u8>,
    counts: Vec<u64>,
    /// Per agent, believers and skeptics among those it listens to (explicit graphs only;
    /// empty on the complete graph), kept up to date on every change of side, as in
    /// [`Compartmental`].
    believer_neighbors: Vec<u32>,
    skeptic_neighbors: Vec<u32>,
    /// Who listens to each agent, for directed graphs; `None` otherwise.
    listeners: Option<Graph>,
}

impl Misinformation {
    /// The model on `topology`, initial believers placed with `seed`.
    ///
    /// # Errors
    /// When a probability is outside [0, 1].
    pub fn new(params: MisinformationParams, topology: Topology, seed: u64) -> Result<Self> {
        check_probability("params.beta", params.beta)?;
        check_probability("params.alpha", params.alpha)?;
        check_probability("params.p_verify", params.p_verify)?;
        check_probability("params.p_forget", params.p_forget)?;
        check_probability("params.initial_believers", params.initial_believers)?;
        for (k, intervention) in params.interventions.iter().enumerate() {
            check_probability(
                &format!("params.interventions[{k}].reach"),
                intervention.reach,
            )?;
            check_probability(
                &format!("params.interventions[{k}].efficacy"),
                intervention.efficacy,
            )?;
        }
        let mut params = params;
        params.interventions.sort_by_key(|i| i.step);
        let states = place_fraction(topology.n_agents(), params.initial_believers, 1, 0, seed);
        let counts = count_states(&states, 3);
        let (believer_neighbors, skeptic_neighbors) = match &topology {
            Topology::Graph(graph) => (
                count_neighbors_in(graph, &states, 1),
                count_neighbors_in(graph, &states, 2),
            ),
            Topology::Complete { .. } => (Vec::new(), Vec::new()),
        };
        Ok(Self {
            listeners: listeners_of(&topology)?,
            topology,
            params,
            states,
            counts,
            believer_neighbors,
            skeptic_neighbors,
        })
    }

    /// State per agent (0 susceptible, 1 believer, 2 skeptic).
    pub fn states(&self) -> &[u8] {
        &self.states
    }

    fn set(&mut self, i: usize, state: u8) -> bool {
        let Some(old) = move_agent(&mut self.states, &mut self.counts, i, state) else {
            return false;
        };
        if let Topology::Graph(graph) = &self.topology {
            let listeners = self.listeners.as_ref();
            for (side, counts) in [
                (1, &mut self.believer_neighbors),
                (2, &mut self.skeptic_neighbors),
            ] {
                if old == side || state == side {
                    shift_listener_counts(graph, listeners, counts, i, state == side);
                }
            }
        }
        true
    }

    /// Believers and skeptics among those agent `i` listens to (the complete graph uses the
    /// global counts, `i` itself excluded).
    fn sides_heard(&self, i: usize) -> (u64, u64) {
        match &self.topology {
            Topology::Complete { .. } => {
                let own = self.states[i];
                (
                    self.counts[1] - u64::from(own == 1),
                    self.counts[2] - u64::from(own == 2),
                )
            }
            Topology::Graph(_) => (
                u64::from(self.believer_neighbors[i]),
                u64::from(self.skeptic_neighbors[i]),
            ),
        }
    }
}

impl UpdateRule for Misinformation {
    /// (agent, new state).
    type Proposal = (usize, u8);

    fn name(&self) -> &'static str {
        "misinformation"
    }
    fn n_agents(&self) -> usize {
        self.states.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    fn propose(&self, request: UpdateRequest, rng: &mut SimRng) -> (usize, u8) {
        let i = request.agent_idx;
        let p = &self.params;
        let state = self.states[i];
        let u: f64 = rng.random();
        let next = match state {
            0 => {
                let (n_b, n_f) = match request.partner {
                    Some(j) => (
                        u64::from(self.states[j] == 1),
                        u64::from(self.states[j] == 2),
                    ),
                    None => self.sides_heard(i),
                };
                let pull_b = n_b as f64 * (1.0 + p.alpha);
                let pull_f = n_f as f64 * (1.0 - p.alpha);
                if pull_b + pull_f <= 0.0 {
                    0
                } else if u < p.beta * pull_b / (pull_b + pull_f) {
                    1
                } else if u < p.beta {
                    2
                } else {
                    0
                }
            }
            1 if u < p.p_forget => 0,
            1 if u < p.p_forget + p.p_verify * (1.0 - p.p_forget) => 2,
            2 if u < p.p_forget => 0,
            other => other,
        };
        (i, next)
    }
    fn apply(&mut self, (i, state): (usize, u8)) -> bool {
        self.set(i, state)
    }
    fn before_sweep(&mut self, sweep: u64, rng: &mut SimRng) {
        let due: Vec<Intervention> = self
            .params
            .interventions
            .iter()
            .filter(|i| i.step == sweep)
            .cloned()
            .collect();
        for intervention in due {
            for i in 0..self.states.len() {
                if self.states[i] != 2
                    && rng.random::<f64>() < intervention.reach
                    && rng.random::<f64>() < intervention.efficacy
                {
                    self.set(i, 2);
                }
            }
        }
    }
    fn stochastic(&self) -> bool {
        true
    }
    fn absorbed(&self) -> bool {
        // Without believers the hoax cannot come back.
        self.counts[1] == 0
    }
    fn view(&self) -> StateView<'_> {
        StateView::Discrete {
            states: &self.states,
            labels: MISINFO_LABELS,
            counts: &self.counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::graph::{barabasi_albert, erdos_renyi, watts_strogatz};
    use crate::schedule::Scheduler;

    /// k as SIR computed it before the counts were kept: a scan of the agent's row.
    fn scanned_infected_neighbors(model: &Compartmental, i: usize) -> u64 {
        match &model.topology {
            Topology::Complete { .. } => model.counts[model.infected() as usize],
            Topology::Graph(graph) => graph
                .neighbors(i)
                .iter()
                .filter(|&&j| model.states[j as usize] == model.infected())
                .count() as u64,
        }
    }

    /// The transition as the model defines it, with k by a scan instead of the kept counts:
    /// spend the step's hazard from the agent's clock, and on running out move on and draw the
    /// clock of the new state. Returns the next state and clock.
    fn reference_next(model: &Compartmental, i: usize, rng: &mut SimRng) -> (u8, f64) {
        let state = model.states[i];
        let per_step = match state {
            0 => scanned_infected_neighbors(model, i) as f64 * model.hazards[0],
            s if s == model.recovered() => 0.0,
            s => model.hazards[usize::from(s)],
        };
        let left = model.clocks[i] - per_step;
        if left > 0.0 {
            return (state, left);
        }
        let next = match state {
            0 => model.exposed().unwrap_or(model.infected()),
            s => s + 1,
        };
        let clock = if next == model.recovered() {
            f64::INFINITY
        } else {
            let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            -u.ln()
        };
        (next, clock)
    }

    /// One sweep that scans neighbours for k and never reads the kept counts: synchronous
    /// (every next state from the start state) or random sequential (the scheduler's loop).
    fn reference_sweep(model: &mut Compartmental, scheduler: Scheduler, rng: &mut SimRng) {
        let n = model.states.len();
        match scheduler {
            Scheduler::Synchronous => {
                let next: Vec<(u8, f64)> = (0..n).map(|i| reference_next(model, i, rng)).collect();
                (model.states, model.clocks) = next.into_iter().unzip();
            }
            Scheduler::RandomSequential => {
                for _ in 0..n {
                    let i = rng.random_range(0..n);
                    let (state, clock) = reference_next(model, i, rng);
                    model.clocks[i] = clock;
                    if state != model.states[i] {
                        model.states[i] = state;
                        model.counts = count_states(&model.states, model.labels().len());
                        if model.absorbed() {
                            break;
                        }
                    }
                }
            }
            other => unreachable!("no reference for {other:?}"),
        }
        model.counts = count_states(&model.states, model.labels().len());
    }

    /// Graphs with the awkward cases: hubs, self-loops, duplicate arcs and directed rows, and
    /// graphs spanning several of the kernel's blocks of drawn-ahead words.
    fn topologies(seed: u64) -> Vec<Topology> {
        let mut rng = SimRng::seed_from_u64(seed);
        let n = 150u32;
        let odd_edges: Vec<(u32, u32, f64)> = (0..900)
            .map(|_| (rng.random_range(0..n), rng.random_range(0..n), 1.0))
            .chain((0..20).map(|i| (i, i, 1.0)))
            .collect();
        vec![
            Topology::Graph(erdos_renyi(300, 0.03, seed).unwrap()),
            Topology::Graph(barabasi_albert(300, 3, seed).unwrap()),
            Topology::Graph(watts_strogatz(300, 6, 0.1, seed).unwrap()),
            Topology::Graph(Graph::from_edges(n as usize, &odd_edges, true, false).unwrap()),
            Topology::Graph(Graph::from_edges(n as usize, &odd_edges, false, false).unwrap()),
            Topology::Complete { n: 200 },
            Topology::Graph(erdos_renyi(3 * CLOCK_BLOCK + 77, 0.01, seed).unwrap()),
            Topology::Complete {
                n: 2 * CLOCK_BLOCK + 1,
            },
        ]
    }

    #[test]
    fn kept_infected_neighbor_counts_give_the_scans_draws_and_states() {
        let mut transitions = 0;
        for seed in 0..3 {
            for topology in topologies(seed) {
                for sigma in [None, Some(0.3)] {
                    for scheduler in [Scheduler::Synchronous, Scheduler::RandomSequential] {
                        let params = CompartmentalParams {
                            beta: 0.08,
                            gamma: 0.05,
                            sigma,
                            initial_infected: 0.03,
                        };
                        let mut model = Compartmental::new(params, topology.clone(), seed).unwrap();
                        let mut reference = model.clone();
                        let mut rng = SimRng::seed_from_u64(seed + 100);
                        let mut reference_rng = rng.clone();
                        for sweep in 0..80 {
                            let before = model.states.clone();
                            scheduler.sweep(&mut model, sweep, &mut rng);
                            reference_sweep(&mut reference, scheduler, &mut reference_rng);
                            let context = format!(
                                "seed {seed}, sweep {sweep}, {scheduler:?}, sigma {sigma:?}, {} agents",
                                topology.n_agents()
                            );
                            assert_eq!(model.states, reference.states, "{context}");
                            assert_eq!(model.counts, reference.counts, "{context}");
                            assert_eq!(model.clocks, reference.clocks, "{context}");
                            assert_eq!(rng, reference_rng, "draws differ: {context}");
                            if matches!(topology, Topology::Graph(_)) {
                                for i in 0..model.states.len() {
                                    assert_eq!(
                                        u64::from(model.infected_neighbors[i]),
                                        scanned_infected_neighbors(&model, i),
                                        "agent {i}: {context}"
                                    );
                                }
                            }
                            transitions += before
                                .iter()
                                .zip(&model.states)
                                .filter(|(a, b)| a != b)
                                .count();
                        }
                    }
                }
            }
        }
        // Infections and recoveries throughout, not a run that died at once.
        assert!(transitions > 20_000, "only {transitions} transitions");
    }

    /// Chi-square statistic of waiting times (in sweeps, from 1) against the geometric law
    /// with per-sweep probability `p`: bins 1..=11 and a tail bin for 12 on.
    fn geometric_chi_square(waits: &[u64], p: f64) -> f64 {
        let mut observed = [0u64; 12];
        for &w in waits {
            observed[(w as usize).clamp(1, 12) - 1] += 1;
        }
        let n = waits.len() as f64;
        (0..12)
            .map(|b| {
                let survive = (1.0 - p).powi(b as i32);
                let prob = if b < 11 { survive * p } else { survive };
                let expected = n * prob;
                (observed[b] as f64 - expected).powi(2) / expected
            })
            .sum()
    }

    /// The clocks give the model's per-step law: a susceptible agent with k infected
    /// neighbours is infected in a sweep with probability 1 − (1 − β)ᵏ, and an infected one
    /// recovers with probability γ, whatever happened in the sweeps before, so waiting times
    /// are geometric. 20,000 agents listening to the same 3 sources, which stay infected
    /// (γ = 0), and 20,000 agents infected at the start with β = 0; under both schedulers.
    /// The chi-square over 12 bins (11 degrees of freedom) must stay under 48.9, its
    /// p = 10⁻⁶ critical value, so a false failure is very unlikely; scaling a hazard by 1.1
    /// fails it.
    #[test]
    fn clocks_give_geometric_waiting_times() {
        let (m, sources) = (20_000usize, 3usize);
        for scheduler in [Scheduler::Synchronous, Scheduler::RandomSequential] {
            // Infection: agents sources.. listen to agents 0..sources, all infected.
            let beta = 0.1;
            let edges: Vec<(u32, u32, f64)> = (sources..sources + m)
                .flat_map(|i| (0..sources).map(move |s| (i as u32, s as u32, 1.0)))
                .collect();
            let graph = Graph::from_edges(sources + m, &edges, true, false).unwrap();
            let params = CompartmentalParams {
                beta,
                gamma: 0.0,
                sigma: None,
                initial_infected: 0.0,
            };
            let mut model = Compartmental::new(params, Topology::Graph(graph), 5).unwrap();
            model.states[..sources].fill(1);
            model.counts = count_states(&model.states, 3);
            if let Topology::Graph(graph) = &model.topology {
                model.infected_neighbors = count_neighbors_in(graph, &model.states, 1);
            }
            let mut rng = SimRng::seed_from_u64(7);
            let mut infected_at = vec![0u64; m];
            for sweep in 1..=400 {
                scheduler.sweep(&mut model, sweep - 1, &mut rng);
                for (at, &state) in infected_at.iter_mut().zip(&model.states[sources..]) {
                    if *at == 0 && state == 1 {
                        *at = sweep;
                    }
                }
            }
            assert!(infected_at.iter().all(|&t| t > 0), "{scheduler:?}");
            // Per sweep of random sequential updates an agent is picked Binomial(N, 1/N)
            // times, so only the synchronous waits are geometric in sweeps.
            if scheduler == Scheduler::Synchronous {
                let p = 1.0 - (1.0 - beta).powi(sources as i32);
                let chi = geometric_chi_square(&infected_at, p);
                assert!(chi < 48.9, "infection waits: chi-square {chi}");
            }

            // Recovery: everyone infected at the start, nobody transmits.
            let gamma = 0.15;
            let params = CompartmentalParams {
                beta: 0.0,
                gamma,
                sigma: None,
                initial_infected: 1.0,
            };
            let mut model = Compartmental::new(params, Topology::Complete { n: m }, 6).unwrap();
            let mut recovered_at = vec![0u64; m];
            for sweep in 1..=400 {
                scheduler.sweep(&mut model, sweep - 1, &mut rng);
                for (at, &state) in recovered_at.iter_mut().zip(&model.states) {
                    if *at == 0 && state == 2 {
                        *at = sweep;
                    }
                }
            }
            assert!(recovered_at.iter().all(|&t| t > 0), "{scheduler:?}");
            if scheduler == Scheduler::Synchronous {
                let chi = geometric_chi_square(&recovered_at, gamma);
                assert!(chi < 48.9, "recovery waits: chi-square {chi}");
            }
        }
    }

    /// Misinformation's proposal as written before the side counts were kept: k by a scan.
    fn reference_misinformation_propose(model: &Misinformation, i: usize, rng: &mut SimRng) -> u8 {
        let p = &model.params;
        let state = model.states[i];
        let u: f64 = rng.random();
        let heard = |side: u8| match &model.topology {
            Topology::Complete { .. } => {
                model.counts[side as usize] - u64::from(model.states[i] == side)
            }
            Topology::Graph(graph) => graph
                .neighbors(i)
                .iter()
                .filter(|&&j| model.states[j as usize] == side)
                .count() as u64,
        };
        match state {
            0 => {
                let pull_b = heard(1) as f64 * (1.0 + p.alpha);
                let pull_f = heard(2) as f64 * (1.0 - p.alpha);
                if pull_b + pull_f <= 0.0 {
                    0
                } else if u < p.beta * pull_b / (pull_b + pull_f) {
                    1
                } else if u < p.beta {
                    2
                } else {
                    0
                }
            }
            1 if u < p.p_forget => 0,
            1 if u < p.p_forget + p.p_verify * (1.0 - p.p_forget) => 2,
            2 if u < p.p_forget => 0,
            other => other,
        }
    }

    #[test]
    fn kept_side_counts_give_the_scans_misinformation_runs() {
        let mut changes = 0;
        for seed in 0..3 {
            for topology in topologies(seed) {
                for scheduler in [Scheduler::Synchronous, Scheduler::RandomSequential] {
                    let params = MisinformationParams {
                        beta: 0.5,
                        alpha: 0.4,
                        p_verify: 0.05,
                        p_forget: 0.1,
                        initial_believers: 0.05,
                        interventions: vec![Intervention {
                            step: 10,
                            reach: 0.5,
                            efficacy: 0.5,
                        }],
                    };
                    let mut model = Misinformation::new(params, topology.clone(), seed).unwrap();
                    let mut reference = model.clone();
                    let mut rng = SimRng::seed_from_u64(seed + 7);
                    let mut reference_rng = rng.clone();
                    let n = model.states.len();
                    for sweep in 0..30 {
                        let before = model.states.clone();
                        scheduler.sweep(&mut model, sweep, &mut rng);
                        reference.before_sweep(sweep, &mut reference_rng);
                        if scheduler == Scheduler::Synchronous {
                            let next: Vec<u8> = (0..n)
                                .map(|i| {
                                    reference_misinformation_propose(
                                        &reference,
                                        i,
                                        &mut reference_rng,
                                    )
                                })
                                .collect();
                            for (i, state) in next.into_iter().enumerate() {
                                reference.set(i, state);
                            }
                        } else {
                            for _ in 0..n {
                                let i = reference_rng.random_range(0..n);
                                let state = reference_misinformation_propose(
                                    &reference,
                                    i,
                                    &mut reference_rng,
                                );
                                if reference.set(i, state) && reference.absorbed() {
                                    break;
                                }
                            }
                        }
                        let context =
                            format!("seed {seed}, sweep {sweep}, {scheduler:?}, {n} agents");
                        assert_eq!(model.states, reference.states, "{context}");
                        assert_eq!(rng, reference_rng, "draws differ: {context}");
                        if let Topology::Graph(graph) = &model.topology {
                            assert_eq!(
                                model.believer_neighbors,
                                count_neighbors_in(graph, &model.states, 1),
                                "{context}"
                            );
                            assert_eq!(
                                model.skeptic_neighbors,
                                count_neighbors_in(graph, &model.states, 2),
                                "{context}"
                            );
                        }
                        changes += before
                            .iter()
                            .zip(&model.states)
                            .filter(|(a, b)| a != b)
                            .count();
                    }
                }
            }
        }
        assert!(changes > 20_000, "only {changes} changes of side");
    }
}
