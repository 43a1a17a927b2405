//! Spreading models: SIR/SEIR compartments, Maki–Thompson rumours, and a believer/skeptic
//! misinformation model with a time-stamped refutation schedule.

use rand::Rng;

use super::{count_states, place_fraction};
use crate::error::{invalid, Result};
use crate::graph::Topology;
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

/// Counts agents in `state` among those `agent_idx` listens to (the complete graph uses the
/// global count, `agent_idx` itself excluded).
fn neighbors_in(
    topology: &Topology,
    states: &[u8],
    counts: &[u64],
    agent_idx: usize,
    state: u8,
) -> u64 {
    match topology {
        Topology::Complete { .. } => counts[state as usize] - u64::from(states[agent_idx] == state),
        Topology::Graph(graph) => graph
            .neighbors(agent_idx)
            .iter()
            .filter(|&&j| states[j as usize] == state)
            .count() as u64,
    }
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
#[derive(Debug, Clone)]
pub struct Compartmental {
    topology: Topology,
    beta: f64,
    gamma: f64,
    sigma: Option<f64>,
    states: Vec<u8>,
    counts: Vec<u64>,
    /// Next-state buffer reused across synchronous sweeps.
    scratch: Vec<u8>,
    /// 1 − (1 − β)ᵏ for k = 0, 1, … up to the largest degree (at most
    /// [`INFECTION_TABLE_LEN`] entries), computed by the same expression as any k beyond it,
    /// so that a sweep calls `powf` once per degree rather than once per exposed agent.
    infection_probability: Vec<f64>,
}

/// Largest number of precomputed infection probabilities (degrees above it call `powf`).
const INFECTION_TABLE_LEN: usize = 4096;

/// 1 − (1 − β)ᵏ: the probability that at least one of k infected neighbours transmits.
fn infection_probability(beta: f64, k: u64) -> f64 {
    1.0 - (1.0 - beta).powf(k as f64)
}

impl Compartmental {
    /// SIR (or SEIR when σ is given) on `topology`, initial infections placed with `seed`.
    ///
    /// # Errors
    /// When a probability is outside [0, 1].
    pub fn new(params: CompartmentalParams, topology: Topology, seed: u64) -> Result<Self> {
        check_probability("params.beta", params.beta)?;
        check_probability("params.gamma", params.gamma)?;
        check_probability("params.initial_infected", params.initial_infected)?;
        if let Some(sigma) = params.sigma {
            check_probability("params.sigma", sigma)?;
        }
        let mut model = Self {
            topology,
            beta: params.beta,
            gamma: params.gamma,
            sigma: params.sigma,
            states: Vec::new(),
            counts: Vec::new(),
            scratch: Vec::new(),
            infection_probability: Vec::new(),
        };
        let max_degree = match &model.topology {
            Topology::Complete { n } => n.saturating_sub(1),
            Topology::Graph(graph) => (0..graph.n_nodes())
                .map(|i| graph.degree(i))
                .max()
                .unwrap_or(0),
        };
        model.infection_probability = (0..=max_degree.min(INFECTION_TABLE_LEN - 1) as u64)
            .map(|k| infection_probability(params.beta, k))
            .collect();
        let infected = model.infected();
        model.states = place_fraction(
            model.topology.n_agents(),
            params.initial_infected,
            infected,
            0,
            seed,
        );
        model.counts = count_states(&model.states, model.labels().len());
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

    /// 1 − (1 − β)ᵏ, from the table when k is in it.
    #[inline]
    fn infection_probability(&self, k: u64) -> f64 {
        match self.infection_probability.get(k as usize) {
            Some(&p) => p,
            None => infection_probability(self.beta, k),
        }
    }

    /// The next state of agent `i` (`propose` without the request): one uniform draw for a
    /// susceptible agent with an infected neighbour, an exposed or an infected agent; none
    /// otherwise.
    #[inline]
    fn next_state(&self, i: usize, partner: Option<usize>, rng: &mut SimRng) -> u8 {
        let state = self.states[i];
        let infected = self.infected();
        if state == 0 {
            let k = match (partner, &self.topology) {
                (Some(j), _) => u64::from(self.states[j] == infected),
                (None, Topology::Complete { .. }) => self.counts[infected as usize],
                // A sum of 0/1 rather than a filtered count: no branch per neighbour.
                (None, Topology::Graph(graph)) => graph
                    .neighbors(i)
                    .iter()
                    .map(|&j| u64::from(self.states[j as usize] == infected))
                    .sum(),
            };
            if k > 0 && rng.random::<f64>() < self.infection_probability(k) {
                self.exposed().unwrap_or(infected)
            } else {
                0
            }
        } else if Some(state) == self.exposed() {
            if rng.random::<f64>() < self.sigma.unwrap_or(1.0) {
                infected
            } else {
                state
            }
        } else if state == infected {
            if rng.random::<f64>() < self.gamma {
                self.recovered()
            } else {
                state
            }
        } else {
            state
        }
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
        (i, self.next_state(i, request.partner, rng))
    }
    fn apply(&mut self, (i, state): (usize, u8)) -> bool {
        let old = self.states[i];
        if old == state {
            return false;
        }
        self.states[i] = state;
        self.counts[old as usize] -= 1;
        self.counts[state as usize] += 1;
        true
    }
    /// The generic synchronous sweep without its two per-sweep vectors of requests and
    /// proposals: same proposals, same random draws in the same order, so the same results.
    fn synchronous_kernel(&mut self, rng: &mut SimRng) -> Option<u64> {
        let n = self.states.len();
        let mut next = std::mem::take(&mut self.scratch);
        next.clear();
        next.extend((0..n).map(|agent_idx| self.next_state(agent_idx, None, rng)));
        let mut changed = 0;
        for (i, &state) in next.iter().enumerate() {
            let old = self.states[i];
            if old != state {
                self.counts[old as usize] -= 1;
                self.counts[state as usize] += 1;
                changed += 1;
            }
        }
        self.scratch = std::mem::replace(&mut self.states, next);
        Some(changed)
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
        let old = self.states[i];
        if old == state {
            return false;
        }
        self.states[i] = state;
        self.counts[old as usize] -= 1;
        self.counts[state as usize] += 1;
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
        Ok(Self {
            topology,
            params,
            states,
            counts,
        })
    }

    /// State per agent (0 susceptible, 1 believer, 2 skeptic).
    pub fn states(&self) -> &[u8] {
        &self.states
    }

    fn set(&mut self, i: usize, state: u8) -> bool {
        let old = self.states[i];
        if old == state {
            return false;
        }
        self.states[i] = state;
        self.counts[old as usize] -= 1;
        self.counts[state as usize] += 1;
        true
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
                    None => (
                        neighbors_in(&self.topology, &self.states, &self.counts, i, 1),
                        neighbors_in(&self.topology, &self.states, &self.counts, i, 2),
                    ),
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
