//! Scheduler contracts that the LLM-agent protocols will rely on: a synchronous sweep hands the
//! rule every agent in one `propose_batch` call from one unchanged state, asynchronous ones hand
//! one request at a time, and the pairwise scheduler passes connected partners.

use std::borrow::Cow;
use std::sync::Mutex;

use vox_dynamics::graph::{Graph, Topology};
use vox_dynamics::models::{HegselmannKrause, HkComplete, HkParams, InitialOpinions};
use vox_dynamics::rng::SimRng;
use vox_dynamics::{Scheduler, Simulation, StateView, UpdateRequest, UpdateRule};

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
            sorted: false,
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
