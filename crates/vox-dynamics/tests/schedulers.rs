//! Scheduler contracts that the LLM-agent protocols will rely on: a synchronous sweep hands the
//! rule every agent in one `propose_batch` call from one unchanged state, asynchronous ones hand
//! one request at a time, and the pairwise scheduler passes connected partners.

use std::borrow::Cow;
use std::sync::Mutex;

use vox_dynamics::graph::{erdos_renyi, Graph, Topology};
use vox_dynamics::models::{
    Compartmental, CompartmentalParams, Deffuant, DeffuantParams, HegselmannKrause, HkComplete,
    HkParams, InitialOpinions, QVoter, QVoterParams,
};
use vox_dynamics::rng::SimRng;
use vox_dynamics::{Scheduler, Simulation, StateView, SweepOutcome, UpdateRequest, UpdateRule};

/// A stand-in for a slow language-model agent: it logs every batch it is asked for and moves
/// each agent halfway to its partner (or to the mean, without one).
struct LoggingRule {
    topology: Topology,
    opinions: Vec<f64>,
    batches: Mutex<Vec<Vec<UpdateRequest>>>,
    requests: Mutex<Vec<UpdateRequest>>,
}

impl UpdateRule for LoggingRule {
    type Proposal = (usize, f64);
    fn name(&self) -> &'static str {
        "logging"
    }
    fn n_agents(&self) -> usize {
        self.opinions.len()
    }
    fn topology(&self) -> &Topology {
        &self.topology
    }
    fn propose(&self, request: UpdateRequest, _rng: &mut SimRng) -> (usize, f64) {
        self.requests.lock().unwrap().push(request);
        let target = match request.partner {
            Some(j) => self.opinions[j],
            None => self.opinions.iter().sum::<f64>() / self.opinions.len() as f64,
        };
        (
            request.agent_idx,
            0.5 * (self.opinions[request.agent_idx] + target),
        )
    }
    fn propose_batch(&self, requests: &[UpdateRequest], rng: &mut SimRng) -> Vec<(usize, f64)> {
        self.batches.lock().unwrap().push(requests.to_vec());
        requests.iter().map(|&r| self.propose(r, rng)).collect()
    }
    fn apply(&mut self, (i, value): (usize, f64)) -> bool {
        let changed = value != self.opinions[i];
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

fn logging_rule(topology: Topology) -> LoggingRule {
    let n = topology.n_agents();
    LoggingRule {
        topology,
        opinions: (0..n).map(|i| i as f64).collect(),
        batches: Mutex::new(Vec::new()),
        requests: Mutex::new(Vec::new()),
    }
}

#[test]
fn synchronous_sweeps_hand_the_whole_population_to_one_batch_from_one_state() {
    let mut sim = Simulation::new(
        logging_rule(Topology::Complete { n: 5 }),
        Scheduler::Synchronous,
        3,
    )
    .unwrap();
    sim.step();
    let batches = sim.rule().batches.lock().unwrap().clone();
    assert_eq!(batches.len(), 1);
    assert_eq!(
        batches[0].iter().map(|r| r.agent_idx).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    // Every agent moved halfway to the *old* mean 2, so proposals saw one unchanged state.
    assert_eq!(sim.rule().opinions, vec![1.0, 1.5, 2.0, 2.5, 3.0]);
}

fn graph_has(i: usize, j: usize) -> bool {
    i.abs_diff(j) == 1
}

#[test]
fn pairwise_sweeps_pass_connected_partners_one_request_at_a_time() {
    // A path 0 - 1 - 2 - 3: every partner must be a graph neighbour of its agent.
    let graph =
        Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)], false, false).unwrap();
    let rule = logging_rule(Topology::Graph(graph.clone()));
    let mut sim = Simulation::new(rule, Scheduler::Pairwise, 3).unwrap();
    sim.step();
    // Asynchronous schedulers call `propose` directly, never `propose_batch`.
    assert!(sim.rule().batches.lock().unwrap().is_empty());
    let requests = sim.rule().requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 4, "one sweep is N updates");
    for request in requests {
        let partner = request.partner.expect("pairwise passes a partner");
        assert!(
            graph_has(request.agent_idx, partner),
            "{request:?} is not an edge"
        );
    }
    let shuffled = Simulation::new(
        logging_rule(Topology::Graph(graph)),
        Scheduler::ShuffledSweep,
        3,
    );
    assert!(shuffled.is_ok());
}

#[test]
fn asynchronous_hk_on_the_sorted_kernel_matches_the_generic_rule() {
    // HkComplete's asynchronous path keeps agents sorted by shifting the updated one; it must
    // agree with the generic O(N) update given the same random order.
    let params = HkParams {
        epsilon: 0.15,
        initial: InitialOpinions::Uniform {
            low: 0.0,
            high: 1.0,
        },
    };
    let mut sorted = Simulation::new(
        HkComplete::new(params.clone(), 300, 5).unwrap(),
        Scheduler::RandomSequential,
        9,
    )
    .unwrap();
    let mut generic = Simulation::new(
        HegselmannKrause::new(params, Topology::Complete { n: 300 }, 5).unwrap(),
        Scheduler::RandomSequential,
        9,
    )
    .unwrap();
    for _ in 0..40 {
        sorted.step();
        generic.step();
    }
    let a = sorted.rule().opinions();
    let b = generic.rule().opinions();
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f64, f64::max);
    // Levels are 2⁻⁴⁰ of the range apart, so rounding differs by ~1e-12 per update at most.
    assert!(
        worst < 1e-6,
        "sorted-window async HK differs from the generic rule by {worst}"
    );
}

/// A model with its specialised kernels hidden, so the scheduler drives it through the generic
/// `propose` + `apply` loop.
struct Generic<R>(R);

impl<R: UpdateRule> UpdateRule for Generic<R> {
    type Proposal = R::Proposal;
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn n_agents(&self) -> usize {
        self.0.n_agents()
    }
    fn topology(&self) -> &Topology {
        self.0.topology()
    }
    fn supports(&self, scheduler: Scheduler) -> bool {
        self.0.supports(scheduler)
    }
    fn propose(&self, request: UpdateRequest, rng: &mut SimRng) -> R::Proposal {
        self.0.propose(request, rng)
    }
    fn apply(&mut self, proposal: R::Proposal) -> bool {
        self.0.apply(proposal)
    }
    fn before_sweep(&mut self, sweep: u64, rng: &mut SimRng) {
        self.0.before_sweep(sweep, rng)
    }
    fn absorbed(&self) -> bool {
        self.0.absorbed()
    }
    fn settled(&self, outcome: &SweepOutcome) -> bool {
        self.0.settled(outcome)
    }
    fn view(&self) -> StateView<'_> {
        self.0.view()
    }
}

/// Runs `make()` with its kernels and through the generic loop, side by side, and checks that
/// every sweep's outcome and the state (bit for bit) agree.
fn assert_kernel_matches_generic<R: UpdateRule>(
    make: impl Fn() -> R,
    state: impl Fn(&R) -> Vec<u64>,
    scheduler: Scheduler,
    seed: u64,
    sweeps: usize,
) {
    let mut kernel = Simulation::new(make(), scheduler, seed).unwrap();
    let mut generic = Simulation::new(Generic(make()), scheduler, seed).unwrap();
    for sweep in 0..sweeps {
        let (a, b) = (kernel.step(), generic.step());
        assert_eq!(a, b, "sweep {sweep} under {scheduler:?}");
        assert!(
            state(kernel.rule()) == state(&generic.rule().0),
            "state differs after sweep {sweep} under {scheduler:?}"
        );
        assert_eq!(kernel.time().to_bits(), generic.time().to_bits());
        if a.absorbed {
            break;
        }
    }
}

#[test]
fn deffuant_complete_graph_kernel_matches_the_generic_loop_bit_for_bit() {
    // 3,077 agents span several of the kernel's blocks of words drawn ahead; from 2¹⁶ agents
    // on it runs in groups that load their opinions first (70,001 ends on a partial group).
    for (n, sweeps) in [(257, 60), (3077, 60), (70_001, 3)] {
        let make = || {
            let params = DeffuantParams {
                epsilon: 0.25,
                mu: 0.3,
                initial: InitialOpinions::default(),
                settle_tolerance: 1e-6,
            };
            Deffuant::new(params, Topology::Complete { n }, 4).unwrap()
        };
        let bits = |rule: &Deffuant| rule.opinions().iter().map(|x| x.to_bits()).collect();
        for scheduler in [Scheduler::Pairwise, Scheduler::RandomSequential] {
            assert_kernel_matches_generic(make, bits, scheduler, 11, sweeps);
        }
    }
}

#[test]
fn voter_complete_graph_kernel_matches_the_generic_loop_including_absorption() {
    let states = |rule: &QVoter| rule.states().iter().map(|&s| u64::from(s)).collect();
    let mut absorbed_runs = 0;
    for seed in 0..8 {
        let make = || {
            let params = QVoterParams {
                initial_fraction_a: 0.2,
                ..QVoterParams::default()
            };
            QVoter::new(params, Topology::Complete { n: 40 }, seed).unwrap()
        };
        for scheduler in [Scheduler::Pairwise, Scheduler::RandomSequential] {
            assert_kernel_matches_generic(make, states, scheduler, seed, 400);
            let mut sim = Simulation::new(make(), scheduler, seed).unwrap();
            absorbed_runs += usize::from((0..400).any(|_| sim.step().absorbed));
        }
    }
    // N = 40 from ρ = 0.2 reaches consensus in ~20 sweeps, so absorption mid-sweep is covered.
    assert!(
        absorbed_runs >= 12,
        "only {absorbed_runs} runs were absorbed"
    );
    // A sweep that starts absorbed changes nothing but still makes every draw.
    for initial_fraction_a in [0.0, 1.0] {
        let make = || {
            let params = QVoterParams {
                initial_fraction_a,
                ..QVoterParams::default()
            };
            QVoter::new(params, Topology::Complete { n: 1500 }, 3).unwrap()
        };
        for scheduler in [Scheduler::Pairwise, Scheduler::RandomSequential] {
            assert_kernel_matches_generic(make, states, scheduler, 3, 3);
        }
    }
}

#[test]
fn voter_kernel_absorbed_past_its_first_block_of_words_matches_the_generic_loop() {
    let states = |rule: &QVoter| rule.states().iter().map(|&s| u64::from(s)).collect();
    let mut late_absorptions = 0;
    for seed in 0..6 {
        // Five A agents among 2,500: the A opinion usually dies out within a few sweeps, at
        // any of the sweep's three blocks of 1,024 updates.
        let make = || {
            let params = QVoterParams {
                initial_fraction_a: 0.002,
                ..QVoterParams::default()
            };
            QVoter::new(params, Topology::Complete { n: 2500 }, seed).unwrap()
        };
        for scheduler in [Scheduler::Pairwise, Scheduler::RandomSequential] {
            assert_kernel_matches_generic(make, states, scheduler, seed, 100);
            let mut sim = Simulation::new(make(), scheduler, seed).unwrap();
            for _ in 0..100 {
                let outcome = sim.step();
                if outcome.absorbed {
                    late_absorptions += usize::from(outcome.n_updates > 1024);
                    break;
                }
            }
        }
    }
    assert!(
        late_absorptions >= 3,
        "only {late_absorptions} runs absorbed past the first block"
    );
}

#[test]
fn sir_and_seir_synchronous_kernel_matches_the_generic_loop() {
    let states = |rule: &Compartmental| rule.states().iter().map(|&s| u64::from(s)).collect();
    for (sigma, topology) in [
        (None, Topology::Graph(erdos_renyi(400, 0.03, 2).unwrap())),
        (
            Some(0.3),
            Topology::Graph(erdos_renyi(400, 0.03, 2).unwrap()),
        ),
        (None, Topology::Complete { n: 300 }),
    ] {
        let make = || {
            let params = CompartmentalParams {
                beta: 0.05,
                gamma: 0.1,
                sigma,
                initial_infected: 0.02,
            };
            Compartmental::new(params, topology.clone(), 6).unwrap()
        };
        assert_kernel_matches_generic(make, states, Scheduler::Synchronous, 8, 80);
    }
}

/// A synchronous sweep of a stochastic rule that changed nothing is no fixed point: an SIR run
/// with a few agents still infected (each recovering with probability 0.05 a sweep, so quiet
/// sweeps are common) settles only once nobody is infected, and a voter model only at
/// consensus. Settling on the first quiet sweep, as deterministic rules do, fails it.
#[test]
fn stochastic_rules_settle_only_when_absorbed() {
    let mut quiet_sweeps = 0;
    for seed in 0..10 {
        let params = CompartmentalParams {
            beta: 0.02,
            gamma: 0.05,
            sigma: None,
            initial_infected: 0.01,
        };
        let topology = Topology::Graph(erdos_renyi(300, 0.02, seed).unwrap());
        let rule = Compartmental::new(params, topology, seed).unwrap();
        let mut sim = Simulation::new(rule, Scheduler::Synchronous, seed).unwrap();
        for _ in 0..10_000 {
            let outcome = sim.step();
            quiet_sweeps += usize::from(outcome.n_changed == 0 && !sim.rule().absorbed());
            if sim.rule().settled(&outcome) {
                break;
            }
        }
        assert!(
            sim.rule().absorbed(),
            "SIR seed {seed} settled while infected"
        );
        let rule =
            QVoter::new(QVoterParams::default(), Topology::Complete { n: 30 }, seed).unwrap();
        let mut sim = Simulation::new(rule, Scheduler::Synchronous, seed).unwrap();
        for _ in 0..100_000 {
            let outcome = sim.step();
            if sim.rule().settled(&outcome) {
                break;
            }
        }
        assert!(
            sim.rule().absorbed(),
            "voter seed {seed} settled before consensus"
        );
    }
    assert!(
        quiet_sweeps > 10,
        "only {quiet_sweeps} quiet sweeps: nothing tested"
    );
}
