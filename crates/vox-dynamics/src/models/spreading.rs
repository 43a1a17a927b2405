//! Spreading models: SIR/SEIR compartments, Maki–Thompson rumours, and a believer/skeptic
//! misinformation model with a time-stamped refutation schedule.

use rand::Rng;

use super::{count_states, move_agent, place_fraction};
use crate::error::{invalid, Result};
use crate::graph::{Graph, Topology};
use crate::record::StateView;
use crate::rng::SimRng;
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
/// On an explicit graph each agent's k is kept up to date as agents become and stop being
/// infectious (each agent does so at most once per run), rather than counted over its
/// neighbours every step; the counts equal what that scan would give, so the draws do too.
#[derive(Debug, Clone)]
pub struct Compartmental {
    topology: Topology,
    beta: f64,
    gamma: f64,
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
    /// Agents that became or stopped being infectious during the current synchronous sweep,
    /// reused across sweeps.
    infectious_changes: Vec<u32>,
    /// Random words drawn ahead by the synchronous kernel, reused across sweeps.
    draw_buffer: Vec<u64>,
    /// 1 − (1 − β)ᵏ for k = 0, 1, … up to the largest degree (at most
    /// [`INFECTION_TABLE_LEN`] entries), computed by the same expression as any k beyond it,
    /// so that a sweep calls `powf` once per degree rather than once per exposed agent.
    infection_probability: Vec<f64>,
}

/// Largest number of precomputed infection probabilities (degrees above it call `powf`).
const INFECTION_TABLE_LEN: usize = 4096;

/// Agents per block of the synchronous kernel, which keeps at least this many random words
/// drawn ahead (one per agent at most).
const DRAW_CHUNK: usize = 512;

/// 1 − (1 − β)ᵏ: the probability that at least one of k infected neighbours transmits.
fn infection_probability(beta: f64, k: u64) -> f64 {
    1.0 - (1.0 - beta).powf(k as f64)
}

/// One agent's SIR / SEIR transition, borrowed out of [`Compartmental`] so that a sweep can
/// write the states while it reads the probability table.
#[derive(Clone, Copy)]
struct Transition<'a> {
    beta: f64,
    gamma: f64,
    sigma: Option<f64>,
    infected: u8,
    infection_probability: &'a [f64],
}

impl Transition<'_> {
    /// The next state of an agent in `state` with `k` infected neighbours: one uniform draw
    /// for a susceptible agent with an infected neighbour, an exposed or an infected agent;
    /// none otherwise.
    #[inline(always)]
    fn next(self, state: u8, k: u64, rng: &mut SimRng) -> u8 {
        let exposed = self.sigma.map(|_| 1);
        if state == 0 {
            if k > 0 && rng.random::<f64>() < self.infection_probability(k) {
                exposed.unwrap_or(self.infected)
            } else {
                0
            }
        } else if Some(state) == exposed {
            if rng.random::<f64>() < self.sigma.unwrap_or(1.0) {
                self.infected
            } else {
                state
            }
        } else if state == self.infected {
            if rng.random::<f64>() < self.gamma {
                self.infected + 1
            } else {
                state
            }
        } else {
            state
        }
    }

    /// 1 − (1 − β)ᵏ, from the table when k is in it.
    #[inline]
    fn infection_probability(self, k: u64) -> f64 {
        match self.infection_probability.get(k as usize) {
            Some(&p) => p,
            None => infection_probability(self.beta, k),
        }
    }
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

impl Compartmental {
    /// SIR (or SEIR when σ is given) on `topology`, initial infections placed with `seed`.
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
        let max_degree = match &topology {
            Topology::Complete { n } => n.saturating_sub(1),
            Topology::Graph(graph) => (0..graph.n_nodes())
                .map(|i| graph.degree(i))
                .max()
                .unwrap_or(0),
        };
        if matches!(topology, Topology::Graph(_)) && max_degree > u32::MAX as usize {
            return Err(invalid(
                "graph",
                format!("an agent listens to {max_degree} agents; SIR supports at most 2^32 - 1"),
            ));
        }
        let listeners = listeners_of(&topology)?;
        let mut model = Self {
            topology,
            beta: params.beta,
            gamma: params.gamma,
            sigma: params.sigma,
            states: Vec::new(),
            counts: Vec::new(),
            infected_neighbors: Vec::new(),
            listeners,
            infectious_changes: Vec::new(),
            draw_buffer: Vec::new(),
            infection_probability: (0..=max_degree.min(INFECTION_TABLE_LEN - 1) as u64)
                .map(|k| infection_probability(params.beta, k))
                .collect(),
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

    /// Compartment per agent, indexing `["S", "I", "R"]` or `["S", "E", "I", "R"]`.
    pub fn states(&self) -> &[u8] {
        &self.states
    }

    fn transition(&self) -> Transition<'_> {
        Transition {
            beta: self.beta,
            gamma: self.gamma,
            sigma: self.sigma,
            infected: self.infected(),
            infection_probability: &self.infection_probability,
        }
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
    /// (agent, new state).
    type Proposal = (usize, u8);

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
    fn propose(&self, request: UpdateRequest, rng: &mut SimRng) -> (usize, u8) {
        let i = request.agent_idx;
        let k = self.infected_neighbors(i, request.partner);
        (i, self.transition().next(self.states[i], k, rng))
    }
    fn apply(&mut self, (i, state): (usize, u8)) -> bool {
        self.set(i, state)
    }
    /// The generic synchronous sweep without its per-sweep vectors of requests and proposals:
    /// same proposals, same random draws in the same order, so the same results. Each agent's
    /// next state depends only on its own state and its k, so states are written in place;
    /// the k of other agents move only after the sweep, so every agent sees the state at the
    /// start of the sweep.
    ///
    /// Whether an agent draws depends on its state, which is scattered at random over the
    /// agents, so a branch per agent on it mispredicts often. The kernel instead generates the
    /// sweep's uniform words ahead in bulk, selects each agent's probability and next state
    /// from small per-state tables, and advances through the words by 0 or 1 without a
    /// branch; afterwards it winds the generator back over the words it did not use, so the
    /// generator ends where one draw per drawing agent would have left it.
    fn synchronous_kernel(&mut self, rng: &mut SimRng) -> Option<u64> {
        let infected = self.infected();
        let (beta, table) = (self.beta, &self.infection_probability);
        let infection = |k: u64| match table.get(k as usize) {
            Some(&p) => p,
            None => infection_probability(beta, k),
        };
        // Per state: whether it draws (a susceptible agent only with k > 0, filled in per
        // agent), the probability of moving on, and where it moves.
        let (draws, moves_with, moves_to) = match self.sigma {
            None => (
                [false, true, false, false],
                [0.0, self.gamma, 0.0, 0.0],
                [1, 2, 2, 3],
            ),
            Some(sigma) => (
                [false, true, true, false],
                [0.0, sigma, self.gamma, 0.0],
                [1, 2, 3, 3],
            ),
        };
        let complete_infection = match self.topology {
            Topology::Complete { .. } => Some(self.counts[infected as usize]),
            Topology::Graph(_) => None,
        }
        .map(|k| (k > 0, infection(k)));
        let infected_neighbors = &self.infected_neighbors;
        let words = &mut self.draw_buffer;
        words.resize(2 * DRAW_CHUNK, 0);
        let (mut next_word, mut n_words) = (0, 0);
        let changes = &mut self.infectious_changes;
        changes.clear();
        let mut changed = 0;
        let n = self.states.len();
        for chunk_start in (0..n).step_by(DRAW_CHUNK) {
            // At most one word per agent: keep a chunk's worth ready.
            if n_words - next_word < DRAW_CHUNK {
                words.copy_within(next_word..n_words, 0);
                n_words -= next_word;
                next_word = 0;
                rng.fill(&mut words[n_words..]);
                n_words = words.len();
            }
            let chunk_end = n.min(chunk_start + DRAW_CHUNK);
            for (i, state) in self.states[chunk_start..chunk_end].iter_mut().enumerate() {
                let i = chunk_start + i;
                let old = *state;
                let s = usize::from(old & 3);
                let (exposed, p_infection) = complete_infection.unwrap_or_else(|| {
                    let k = u64::from(infected_neighbors[i]);
                    (k > 0, infection(k))
                });
                let draw = if s == 0 { exposed } else { draws[s] };
                let p = if s == 0 { p_infection } else { moves_with[s] };
                // `rng.random::<f64>()`: the top 53 bits of a word, scaled to [0, 1).
                let u = (words[next_word] >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                next_word += usize::from(draw);
                let new = if draw & (u < p) { moves_to[s] } else { old };
                if new != old {
                    *state = new;
                    self.counts[usize::from(old)] -= 1;
                    self.counts[usize::from(new)] += 1;
                    changed += 1;
                    if (old == infected) != (new == infected) {
                        changes.push(i as u32);
                    }
                }
            }
        }
        // Two 32-bit words per draw; hand back the ones not used.
        rng.set_word_pos(rng.get_word_pos() - 2 * (n_words - next_word) as u128);
        if let Topology::Graph(graph) = &self.topology {
            for &i in changes.iter() {
                let i = i as usize;
                shift_listener_counts(
                    graph,
                    self.listeners.as_ref(),
                    &mut self.infected_neighbors,
                    i,
                    self.states[i] == infected,
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

    /// The transition as written before the counts were kept, draws included.
    fn reference_next_state(model: &Compartmental, i: usize, rng: &mut SimRng) -> u8 {
        let state = model.states[i];
        let infected = model.infected();
        if state == 0 {
            let k = scanned_infected_neighbors(model, i);
            if k > 0 && rng.random::<f64>() < 1.0 - (1.0 - model.beta).powf(k as f64) {
                model.exposed().unwrap_or(infected)
            } else {
                0
            }
        } else if Some(state) == model.exposed() {
            if rng.random::<f64>() < model.sigma.unwrap_or(1.0) {
                infected
            } else {
                state
            }
        } else if state == infected {
            if rng.random::<f64>() < model.gamma {
                infected + 1
            } else {
                state
            }
        } else {
            state
        }
    }

    /// One sweep that scans neighbours for k and never reads the kept counts: synchronous
    /// (every next state from the start state) or random sequential (the scheduler's loop).
    fn reference_sweep(model: &mut Compartmental, scheduler: Scheduler, rng: &mut SimRng) {
        let n = model.states.len();
        match scheduler {
            Scheduler::Synchronous => {
                let next: Vec<u8> = (0..n)
                    .map(|i| reference_next_state(model, i, rng))
                    .collect();
                model.states = next;
            }
            Scheduler::RandomSequential => {
                for _ in 0..n {
                    let i = rng.random_range(0..n);
                    let state = reference_next_state(model, i, rng);
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
            Topology::Graph(erdos_renyi(3 * DRAW_CHUNK + 77, 0.01, seed).unwrap()),
            Topology::Complete {
                n: 2 * DRAW_CHUNK + 1,
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
