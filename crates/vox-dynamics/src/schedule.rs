//! The update-rule trait that every model implements, and the schedulers that drive it.
//!
//! A scheduler decides *who updates when*; an [`UpdateRule`] decides *what an agent does*. The
//! split is two-phase on purpose:
//!
//! - [`UpdateRule::propose`] (and its batch form [`UpdateRule::propose_batch`]) reads the current
//!   state through `&self` and returns a proposal. It may be slow: a future language-model agent
//!   implements it with a model call. Because it cannot mutate the state, all proposals of one
//!   synchronous sweep can be computed concurrently, and the synchronous scheduler hands the rule
//!   the whole sweep in one `propose_batch` call so that an LLM-backed rule can fan the requests
//!   out (and await them) however it likes.
//! - [`UpdateRule::apply`] writes a proposal back. It must be cheap and deterministic.
//!
//! The schedulers never assume that `propose` is fast or that proposals are small, so the
//! LLM-agent protocols can reuse them, the recorder and the seed handling unchanged.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::graph::Topology;
use crate::record::StateView;
use crate::rng::SimRng;

/// One agent's turn: who updates, and (for pairwise scheduling) whom it meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateRequest {
    /// The agent whose update is requested.
    pub agent_idx: usize,
    /// The partner chosen by a pairwise scheduler; `None` lets the rule choose its own
    /// neighbours.
    pub partner: Option<usize>,
}

/// What happened in one sweep.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SweepOutcome {
    /// Agent updates (proposals applied) this sweep.
    pub n_updates: u64,
    /// Updates that changed the state by more than the rule's tolerance.
    pub n_changed: u64,
    /// Whether the sweep was synchronous (then `n_changed == 0` means a fixed point).
    pub synchronous: bool,
    /// Whether the rule reported an absorbing state during the sweep (the sweep stopped early).
    pub absorbed: bool,
}

/// A model's update rule: state, a read-only proposal step and a cheap write-back step.
///
/// Implementors must be `Sync` so that proposals can be computed from several threads.
pub trait UpdateRule: Sync {
    /// What an agent's update produces (for example the agent's new opinion).
    type Proposal: Send;

    /// Short model name as used in scenarios and `summary.json` (`"deffuant"`).
    fn name(&self) -> &'static str;

    /// Number of agents.
    fn n_agents(&self) -> usize;

    /// Who may interact with whom; the pairwise scheduler draws arcs from it.
    fn topology(&self) -> &Topology;

    /// Whether `scheduler` may drive this rule. Default: every scheduler.
    fn supports(&self, _scheduler: Scheduler) -> bool {
        true
    }

    /// Computes one agent's update from the current state. Must not depend on anything but the
    /// state, the request and `rng`.
    fn propose(&self, request: UpdateRequest, rng: &mut SimRng) -> Self::Proposal;

    /// Computes the updates of several agents from the same state. The default calls
    /// [`UpdateRule::propose`] in order; a slow (language-model) rule overrides it to issue the
    /// requests concurrently, drawing per-request seeds from `rng` to stay reproducible.
    fn propose_batch(&self, requests: &[UpdateRequest], rng: &mut SimRng) -> Vec<Self::Proposal> {
        requests
            .iter()
            .map(|&request| self.propose(request, rng))
            .collect()
    }

    /// Writes a proposal back; returns whether the state changed by more than the rule's
    /// tolerance.
    fn apply(&mut self, proposal: Self::Proposal) -> bool;

    /// A whole synchronous sweep done by a specialised kernel, when the rule has one (for
    /// example Hegselmann–Krause's sorted window on the complete graph). Returns the number of
    /// changed agents, or `None` to fall back to `propose_batch` + `apply`.
    fn synchronous_kernel(&mut self, _rng: &mut SimRng) -> Option<u64> {
        None
    }

    /// A whole asynchronous sweep under `scheduler` done by a specialised kernel, when the rule
    /// has one for that scheduler and topology (for example Deffuant and the voter model on the
    /// complete graph, where the per-update calls through the generic loop cost more than the
    /// update itself). The kernel must make exactly the random draws of the generic loop, in
    /// the same order, and leave exactly the same state and outcome, so that a run does not
    /// depend on whether the kernel exists. Returns `None` to fall back to `propose` + `apply`
    /// per update.
    fn asynchronous_kernel(
        &mut self,
        _scheduler: Scheduler,
        _rng: &mut SimRng,
    ) -> Option<SweepOutcome> {
        None
    }

    /// Called before each sweep with the 0-based index of the sweep about to run; time-stamped
    /// interventions hook in here. Default: nothing.
    fn before_sweep(&mut self, _sweep: u64, _rng: &mut SimRng) {}

    /// Whether the state is absorbing (nothing can change any more: consensus in the voter
    /// model, no infected left in SIR). Checked after every change by asynchronous schedulers, so
    /// it must be O(1). Default: never.
    fn absorbed(&self) -> bool {
        false
    }

    /// Whether updates draw random numbers (SIR's infections, the voter model's partner), so
    /// that a sweep which changed nothing is no fixed point: the next one may change something.
    /// Default: false (DeGroot, Friedkin–Johnsen, Hegselmann–Krause).
    fn stochastic(&self) -> bool {
        false
    }

    /// Whether the run has settled after a sweep. Default: absorbed, or, for a rule that is
    /// not [`UpdateRule::stochastic`], a synchronous sweep that changed nothing.
    fn settled(&self, outcome: &SweepOutcome) -> bool {
        outcome.absorbed || (!self.stochastic() && outcome.synchronous && outcome.n_changed == 0)
    }

    /// The state as the recorder sees it.
    fn view(&self) -> StateView<'_>;
}

/// Who updates when. One *sweep* is `n_agents` agent updates for the asynchronous schedulers
/// and one update of every agent for the synchronous one; time is measured in sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheduler {
    /// Every agent proposes from the same state, then all proposals are applied.
    #[default]
    Synchronous,
    /// Each update picks a uniformly random agent (with replacement); `n_agents` per sweep.
    /// This is the order under which the voter-model closed forms hold.
    RandomSequential,
    /// Every agent updates once per sweep in a fresh random order (Mesa's `shuffle_do`).
    ShuffledSweep,
    /// Each update draws a uniformly random arc (listener, speaker) of the topology and passes
    /// the speaker as the partner; `n_agents` per sweep. Deffuant's classic order.
    Pairwise,
}

impl Scheduler {
    /// Name as written in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheduler::Synchronous => "synchronous",
            Scheduler::RandomSequential => "random_sequential",
            Scheduler::ShuffledSweep => "shuffled_sweep",
            Scheduler::Pairwise => "pairwise",
        }
    }

    /// Runs one sweep of `rule`.
    pub fn sweep<R: UpdateRule>(
        self,
        rule: &mut R,
        sweep_idx: u64,
        rng: &mut SimRng,
    ) -> SweepOutcome {
        rule.before_sweep(sweep_idx, rng);
        let n = rule.n_agents();
        let mut outcome = SweepOutcome {
            synchronous: self == Scheduler::Synchronous,
            ..Default::default()
        };
        if n == 0 {
            return outcome;
        }
        match self {
            Scheduler::Synchronous => {
                if let Some(changed) = rule.synchronous_kernel(rng) {
                    outcome.n_updates = n as u64;
                    outcome.n_changed = changed;
                } else {
                    let requests: Vec<UpdateRequest> = (0..n)
                        .map(|agent_idx| UpdateRequest {
                            agent_idx,
                            partner: None,
                        })
                        .collect();
                    let proposals = rule.propose_batch(&requests, rng);
                    for proposal in proposals {
                        outcome.n_updates += 1;
                        outcome.n_changed += u64::from(rule.apply(proposal));
                    }
                }
                outcome.absorbed = rule.absorbed();
            }
            Scheduler::RandomSequential | Scheduler::ShuffledSweep | Scheduler::Pairwise => {
                if let Some(kernel_outcome) = rule.asynchronous_kernel(self, rng) {
                    return kernel_outcome;
                }
                let order: Option<Vec<usize>> = (self == Scheduler::ShuffledSweep).then(|| {
                    let mut order: Vec<usize> = (0..n).collect();
                    order.shuffle(rng);
                    order
                });
                for k in 0..n {
                    let request = match self {
                        Scheduler::RandomSequential => UpdateRequest {
                            agent_idx: rng.random_range(0..n),
                            partner: None,
                        },
                        Scheduler::ShuffledSweep => UpdateRequest {
                            agent_idx: order.as_ref().map_or(k, |o| o[k]),
                            partner: None,
                        },
                        _ => match rule.topology().random_arc(rng) {
                            Some((agent_idx, partner)) => UpdateRequest {
                                agent_idx,
                                partner: Some(partner),
                            },
                            None => break,
                        },
                    };
                    let proposal = rule.propose(request, rng);
                    outcome.n_updates += 1;
                    if rule.apply(proposal) {
                        outcome.n_changed += 1;
                        if rule.absorbed() {
                            outcome.absorbed = true;
                            break;
                        }
                    }
                }
            }
        }
        outcome
    }
}
