//! Discrete-opinion models: the voter model and q-voter, and Krapivsky–Redner majority rule.

use std::ops::ControlFlow;

use rand::Rng;

use super::{complete_graph_arc_blocks, count_states, move_agent, place_fraction};
use crate::error::{invalid, Result};
use crate::graph::Topology;
use crate::record::StateView;
use crate::rng::SimRng;
use crate::schedule::{Scheduler, SweepOutcome, UpdateRequest, UpdateRule};

/// Labels of the two opinions; state 0 is `A`.
const AB: &[&str] = &["A", "B"];

fn check_fraction(key: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(invalid(key, format!("must be in [0, 1], got {value}")))
    }
}

/// Parameters of the q-voter model.
#[derive(Debug, Clone, PartialEq)]
pub struct QVoterParams {
    /// Group size q ≥ 1. Default 1 (the voter model).
    pub q: usize,
    /// Probability ε of flipping when the q neighbours are not unanimous. Default 0.
    pub flip_probability: f64,
    /// Initial fraction ρ of agents holding `A` (exactly round(ρN) agents, placed at random).
    /// Default ½.
    pub initial_fraction_a: f64,
}

impl Default for QVoterParams {
    fn default() -> Self {
        Self {
            q: 1,
            flip_probability: 0.0,
            initial_fraction_a: 0.5,
        }
    }
}

/// The q-voter model (Castellano, Muñoz & Pastor-Satorras 2009): an agent draws q neighbours
/// with repetition; if they agree it adopts their opinion, otherwise it flips with probability
/// ε. With q = 1 and ε = 0 this is the voter model (Clifford & Sudbury 1973; Holley & Liggett
/// 1975): copy a random neighbour. Under random-sequential updates on the complete graph the
/// mean consensus time is −N[ρ ln ρ + (1−ρ) ln(1−ρ)] sweeps and A wins with probability ρ.
#[derive(Debug, Clone)]
pub struct QVoter {
    topology: Topology,
    q: usize,
    flip_probability: f64,
    states: Vec<u8>,
    counts: Vec<u64>,
    /// The states packed one bit per agent for the complete-graph kernel; reused.
    bits: Vec<u64>,
}

/// Packs 0/1 `states` into `bits` (bit i of word i / 64 is agent i's state) and returns them.
fn pack_bits<'a>(states: &[u8], bits: &'a mut Vec<u64>) -> &'a mut [u64] {
    bits.clear();
    bits.extend(states.chunks(64).map(|chunk| {
        chunk
            .iter()
            .enumerate()
            .fold(0u64, |word, (j, &state)| word | (u64::from(state & 1) << j))
    }));
    bits
}

/// What [`voter_block`] leaves.
struct VoterBlock {
    /// Agents in A after the block.
    count_a: i64,
    /// Updates that changed an agent.
    n_changed: u64,
    /// The updates run when one brought the count of A to an edge, which stops the sweep.
    stopped_after: Option<usize>,
}

/// Runs the voter kernel's updates for a block of `arcs` (agent, partner) on packed `bits`,
/// from `count_a` agents in A, stopping right after an update where `at_edge(count)`. A
/// function of its own, not inlined into the kernel, so that LLVM keeps the loop's few
/// variables in registers: inlined next to the draws, it spilled and shuffled them, with
/// nearly 50 instructions per update.
#[inline(never)]
fn voter_block(
    bits: &mut [u64],
    arcs: &[(u32, u32)],
    mut count_a: i64,
    at_edge: impl Fn(i64) -> bool,
) -> VoterBlock {
    let mut n_changed = 0;
    for (ran, &(agent, partner)) in arcs.iter().enumerate() {
        let (agent, partner) = (agent as usize, partner as usize);
        let new = (bits[partner / 64] >> (partner % 64)) & 1;
        let word = &mut bits[agent / 64];
        let old = (*word >> (agent % 64)) & 1;
        *word ^= (old ^ new) << (agent % 64);
        // States are 0 (A) and 1 (B): B → A adds one A, A → B removes one.
        count_a += old as i64 - new as i64;
        n_changed += old ^ new;
        if at_edge(count_a) {
            return VoterBlock {
                count_a,
                n_changed,
                stopped_after: Some(ran + 1),
            };
        }
    }
    VoterBlock {
        count_a,
        n_changed,
        stopped_after: None,
    }
}

/// Unpacks `bits` (as [`pack_bits`] packed them) into `states`.
fn unpack_bits(bits: &[u64], states: &mut [u8]) {
    for (&word, chunk) in bits.iter().zip(states.chunks_mut(64)) {
        for (j, state) in chunk.iter_mut().enumerate() {
            *state = ((word >> j) & 1) as u8;
        }
    }
}

impl QVoter {
    /// A q-voter model on `topology`, initial opinions placed with `seed`.
    ///
    /// # Errors
    /// When q = 0 or a probability is outside [0, 1].
    pub fn new(params: QVoterParams, topology: Topology, seed: u64) -> Result<Self> {
        if params.q == 0 {
            return Err(invalid("params.q", "must be at least 1"));
        }
        check_fraction("params.flip_probability", params.flip_probability)?;
        check_fraction("params.initial_fraction_a", params.initial_fraction_a)?;
        let states = place_fraction(topology.n_agents(), params.initial_fraction_a, 0, 1, seed);
        let counts = count_states(&states, 2);
        Ok(Self {
            topology,
            q: params.q,
            flip_probability: params.flip_probability,
            states,
            counts,
            bits: Vec::new(),
        })
    }

    /// State per agent (0 = A, 1 = B).
    pub fn states(&self) -> &[u8] {
        &self.states
    }
}

impl UpdateRule for QVoter {
    /// (agent, new state).
    type Proposal = (usize, u8);

    fn name(&self) -> &'static str {
        if self.q == 1 && self.flip_probability == 0.0 {
            "voter"
        } else {
            "q_voter"
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
        let current = self.states[i];
        let mut first = None;
        let mut unanimous = true;
        for draw in 0..self.q {
            let neighbor = if draw == 0 { request.partner } else { None }
                .or_else(|| self.topology.random_neighbor(i, rng));
            let Some(j) = neighbor else {
                return (i, current);
            };
            let state = self.states[j];
            match first {
                None => first = Some(state),
                Some(s) if s != state => unanimous = false,
                Some(_) => {}
            }
        }
        match first {
            Some(state) if unanimous => (i, state),
            _ if self.flip_probability > 0.0 && rng.random::<f64>() < self.flip_probability => {
                (i, 1 - current)
            }
            _ => (i, current),
        }
    }
    fn apply(&mut self, (i, state): (usize, u8)) -> bool {
        move_agent(&mut self.states, &mut self.counts, i, state).is_some()
    }
    /// The voter model (q = 1, no flips) under random-sequential or pairwise sweeps on the
    /// complete graph in one monomorphic loop: the same draws (agent, then a partner among the
    /// others) as `propose` + `apply`, drawn a block ahead (`complete_graph_arc_blocks`), a
    /// branch-free copy, and the absorption check only where the count of `A` hits 0 or N.
    fn asynchronous_kernel(
        &mut self,
        scheduler: Scheduler,
        rng: &mut SimRng,
    ) -> Option<SweepOutcome> {
        let Topology::Complete { n } = self.topology else {
            return None;
        };
        if n < 2
            || self.q != 1
            || self.flip_probability != 0.0
            || !matches!(scheduler, Scheduler::Pairwise | Scheduler::RandomSequential)
        {
            return None;
        }
        let Ok(n_words) = u32::try_from(n) else {
            return None;
        };
        // The sweep runs on a copy of the states packed one bit per agent (state 0 is A, 1 is
        // B), written back after it: updates read and write random agents, and at N = 10⁶ the
        // bytes (1 MB) spill out of L2 while the bits (125 KB) stay in it.
        let bits = pack_bits(&self.states[..n], &mut self.bits);
        let mut count_a = self.counts[0] as i64;
        // A local count rather than a field of a `SweepOutcome`, which LLVM keeps in memory.
        let mut n_changed = 0u64;
        // The generic loop stops at the update that makes the state absorbing, i.e. when a
        // change brings the count of A to 0 or n. Testing `old != new` there costs a branch
        // that is a coin flip while both opinions are common; it is implied unless the sweep
        // starts absorbed, and then nothing can change, so no count is an edge. One unsigned
        // comparison, `count_a − inner_low ≥ inner_len`, tells a count outside 1..n from one
        // inside; a sweep that starts absorbed keeps its count, which the range (count, all
        // of u64) never leaves.
        let (inner_low, inner_len) = if count_a == 0 || count_a == n as i64 {
            (count_a, u64::MAX)
        } else {
            (1, n as u64 - 1)
        };
        let at_edge = |count_a: i64| (count_a - inner_low) as u64 >= inner_len;
        let done = complete_graph_arc_blocks(rng, n, n_words, |arcs| {
            let block = voter_block(bits, arcs, count_a, at_edge);
            count_a = block.count_a;
            n_changed += block.n_changed;
            match block.stopped_after {
                Some(ran) => ControlFlow::Break(ran),
                None => ControlFlow::Continue(()),
            }
        });
        unpack_bits(bits, &mut self.states[..n]);
        // Reaching an edge always stops the sweep, so ending on one means it absorbed.
        let absorbed = at_edge(count_a);
        self.counts[0] = count_a as u64;
        self.counts[1] = n as u64 - count_a as u64;
        Some(SweepOutcome {
            n_updates: done as u64,
            n_changed,
            synchronous: false,
            absorbed,
        })
    }
    fn stochastic(&self) -> bool {
        true
    }
    fn absorbed(&self) -> bool {
        self.flip_probability == 0.0 && (self.counts[0] == 0 || self.counts[1] == 0)
    }
    fn view(&self) -> StateView<'_> {
        StateView::Discrete {
            states: &self.states,
            labels: AB,
            counts: &self.counts,
        }
    }
}

/// Parameters of majority rule.
#[derive(Debug, Clone, PartialEq)]
pub struct MajorityParams {
    /// Odd group size G ≥ 3. Default 3.
    pub group_size: usize,
    /// Initial fraction of `A`. Default ½.
    pub initial_fraction_a: f64,
}

impl Default for MajorityParams {
    fn default() -> Self {
        Self {
            group_size: 3,
            initial_fraction_a: 0.5,
        }
    }
}

/// Majority rule (Krapivsky & Redner 2003): an agent and G − 1 random neighbours form a group,
/// and the whole group adopts the group's majority opinion.
#[derive(Debug, Clone)]
pub struct MajorityRule {
    topology: Topology,
    group_size: usize,
    states: Vec<u8>,
    counts: Vec<u64>,
}

impl MajorityRule {
    /// Majority rule on `topology`, initial opinions placed with `seed`.
    ///
    /// # Errors
    /// When the group size is even or below 3, or the fraction is outside [0, 1].
    pub fn new(params: MajorityParams, topology: Topology, seed: u64) -> Result<Self> {
        if params.group_size < 3 || params.group_size.is_multiple_of(2) {
            return Err(invalid(
                "params.group_size",
                format!("must be odd and >= 3, got {}", params.group_size),
            ));
        }
        check_fraction("params.initial_fraction_a", params.initial_fraction_a)?;
        let states = place_fraction(topology.n_agents(), params.initial_fraction_a, 0, 1, seed);
        let counts = count_states(&states, 2);
        Ok(Self {
            topology,
            group_size: params.group_size,
            states,
            counts,
        })
    }

    /// State per agent (0 = A, 1 = B).
    pub fn states(&self) -> &[u8] {
        &self.states
    }
}

impl UpdateRule for MajorityRule {
    /// (group members, majority state).
    type Proposal = (Vec<usize>, u8);

    fn name(&self) -> &'static str {
        "majority"
    }
    fn n_agents(&self) -> usize {
        self.states.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    fn propose(&self, request: UpdateRequest, rng: &mut SimRng) -> Self::Proposal {
        let i = request.agent_idx;
        let mut group = vec![i];
        group.extend(request.partner);
        // Draw distinct members; a sparse neighbourhood may not have G − 1 distinct neighbours,
        // so stop after a bounded number of tries and let the (possibly smaller) group decide.
        let mut tries = 0;
        while group.len() < self.group_size && tries < 8 * self.group_size {
            tries += 1;
            match self.topology.random_neighbor(i, rng) {
                Some(j) if !group.contains(&j) => group.push(j),
                Some(_) => {}
                None => break,
            }
        }
        let n_a = group.iter().filter(|&&j| self.states[j] == 0).count();
        let majority = match (2 * n_a).cmp(&group.len()) {
            std::cmp::Ordering::Greater => 0,
            std::cmp::Ordering::Less => 1,
            std::cmp::Ordering::Equal => self.states[i], // a tie (even group) keeps the initiator's
        };
        (group, majority)
    }
    fn apply(&mut self, (group, state): Self::Proposal) -> bool {
        let mut changed = false;
        for j in group {
            changed |= move_agent(&mut self.states, &mut self.counts, j, state).is_some();
        }
        changed
    }
    fn stochastic(&self) -> bool {
        true
    }
    fn absorbed(&self) -> bool {
        self.counts[0] == 0 || self.counts[1] == 0
    }
    fn view(&self) -> StateView<'_> {
        StateView::Discrete {
            states: &self.states,
            labels: AB,
            counts: &self.counts,
        }
    }
}
