//! A simulation: one update rule, one scheduler, one seeded generator, and the run loop that
//! feeds the recorder and produces the run summary.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{invalid, Result};
use crate::record::{Recorder, Snapshot, StateView};
use crate::rng::{seeded, streams, SimRng};
use crate::schedule::{Scheduler, SweepOutcome, UpdateRule};

/// A model under a scheduler. `step()` runs one sweep.
#[derive(Debug)]
pub struct Simulation<R: UpdateRule> {
    rule: R,
    scheduler: Scheduler,
    seed: u64,
    rng: SimRng,
    sweeps_done: u64,
    /// Elapsed time in sweeps (agent updates / N for asynchronous schedulers).
    time: f64,
    consensus_time: Option<f64>,
    last_outcome: SweepOutcome,
    /// Whether the state is discrete, fixed at construction: asking the view every sweep would
    /// cost a model whose view is built on demand ([`crate::models::HkComplete`]) an O(N)
    /// allocation per sweep.
    discrete: bool,
}

impl<R: UpdateRule> Simulation<R> {
    /// Wraps `rule` under `scheduler`; `seed` drives the scheduler and the rule's random draws
    /// (initial states are seeded by the rule's own constructor).
    ///
    /// # Errors
    /// When the rule does not support the scheduler (Deffuant under synchronous updates).
    pub fn new(rule: R, scheduler: Scheduler, seed: u64) -> Result<Self> {
        if !rule.supports(scheduler) {
            return Err(invalid(
                "scheduler",
                format!(
                    "model `{}` cannot run under the `{}` scheduler",
                    rule.name(),
                    scheduler.as_str()
                ),
            ));
        }
        let mut simulation = Self {
            rule,
            scheduler,
            seed,
            rng: seeded(seed, streams::DYNAMICS),
            sweeps_done: 0,
            time: 0.0,
            consensus_time: None,
            last_outcome: SweepOutcome::default(),
            discrete: false,
        };
        simulation.discrete = matches!(simulation.rule.view(), StateView::Discrete { .. });
        simulation.check_discrete_consensus();
        Ok(simulation)
    }

    /// Runs one sweep and returns what happened.
    pub fn step(&mut self) -> SweepOutcome {
        let outcome = self
            .scheduler
            .sweep(&mut self.rule, self.sweeps_done, &mut self.rng);
        self.sweeps_done += 1;
        let n = self.rule.n_agents().max(1) as f64;
        self.time += if outcome.synchronous {
            1.0
        } else {
            outcome.n_updates as f64 / n
        };
        self.last_outcome = outcome;
        self.check_discrete_consensus();
        outcome
    }

    /// Discrete consensus is cheap (state counts), so it is checked after every sweep; an
    /// absorbed asynchronous sweep stops at the absorbing update, so the time is exact.
    fn check_discrete_consensus(&mut self) {
        if self.discrete && self.consensus_time.is_none() {
            if let StateView::Discrete { counts, .. } = self.rule.view() {
                if counts.iter().filter(|&&c| c > 0).count() <= 1 {
                    self.consensus_time = Some(self.time);
                }
            }
        }
    }

    /// The update rule (model state).
    pub fn rule(&self) -> &R {
        &self.rule
    }

    /// Sweeps run so far.
    pub fn sweeps_done(&self) -> u64 {
        self.sweeps_done
    }

    /// Elapsed time in sweeps.
    pub fn time(&self) -> f64 {
        self.time
    }

    /// Time (in sweeps) at which a discrete model first reached consensus, if it has.
    pub fn consensus_time(&self) -> Option<f64> {
        self.consensus_time
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The rule reported a fixed point or an absorbing state.
    Settled,
    /// `max_steps` sweeps ran without settling (not converged).
    MaxSteps,
}

/// The run summary written to `summary.json`. Fields that do not apply to a model are omitted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// Model name.
    pub model: String,
    /// Number of agents.
    pub n_agents: usize,
    /// Scenario seed.
    pub seed: u64,
    /// Scheduler name.
    pub scheduler: String,
    /// Sweeps run.
    pub steps: u64,
    /// Elapsed time in sweeps (fractional when an asynchronous run stopped mid-sweep).
    pub time: f64,
    /// Whether the run settled before `max_steps`.
    pub converged: bool,
    /// Why the run stopped.
    pub stop_reason: StopReason,
    /// Final mean opinion (continuous models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_mean: Option<f64>,
    /// Final population variance (continuous models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_variance: Option<f64>,
    /// Final number of opinion clusters (continuous models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_clusters: Option<usize>,
    /// Final cluster sizes, ascending by opinion (continuous models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_sizes: Option<Vec<usize>>,
    /// Final fraction per state (discrete and compartment models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_fraction: Option<BTreeMap<String, f64>>,
    /// Whether everyone ends in one state, or with every opinion within `cluster_gap` of every
    /// other.
    pub consensus: bool,
    /// Sweeps until consensus (discrete models: exact; continuous: the first recorded step with
    /// every opinion within `cluster_gap` of every other); `null` when never reached.
    pub consensus_time: Option<f64>,
}

/// A simulation behind a trait object, so that scenario files can pick the model at run time.
pub trait Runnable: Send {
    /// Runs until settled or `max_steps` sweeps, recording into `recorder`; `progress` is called
    /// after every sweep with the number of sweeps done.
    fn run(
        &mut self,
        max_steps: u64,
        recorder: &mut Recorder,
        progress: &mut dyn FnMut(u64),
    ) -> RunSummary;

    /// Whether the state is continuous (opinions) rather than discrete.
    fn is_continuous(&self) -> bool;

    /// State labels of a discrete model (empty for continuous ones).
    fn labels(&self) -> Vec<&'static str>;

    /// The current state per agent, in agent order: opinions (continuous) or state indices as
    /// `f64` (discrete).
    fn state_values(&self) -> Vec<f64>;
}

impl<R: UpdateRule + Send> Runnable for Simulation<R> {
    fn run(
        &mut self,
        max_steps: u64,
        recorder: &mut Recorder,
        progress: &mut dyn FnMut(u64),
    ) -> RunSummary {
        let cluster_gap = recorder.config().cluster_gap;
        let mut continuous_consensus = None;
        let mut note_consensus = |recorder: &Recorder, time: f64| {
            if continuous_consensus.is_none() {
                if let Some(column) = recorder.columns().iter().find(|c| c.name == "consensus") {
                    if column.values.last() == Some(&1.0) {
                        continuous_consensus = Some(time);
                    }
                }
            }
        };
        recorder.record(0, 0.0, &SweepOutcome::default(), &self.rule.view(), true);
        note_consensus(recorder, 0.0);
        let mut stop_reason = StopReason::MaxSteps;
        let mut settled = self.rule.absorbed();
        while !settled && self.sweeps_done < max_steps {
            let outcome = self.step();
            settled = self.rule.settled(&outcome);
            let last = settled || self.sweeps_done == max_steps;
            recorder.record(
                self.sweeps_done,
                self.time,
                &outcome,
                &self.rule.view(),
                last,
            );
            note_consensus(recorder, self.time);
            progress(self.sweeps_done);
        }
        if settled {
            stop_reason = StopReason::Settled;
        }
        let view = self.rule.view();
        let snapshot = Snapshot::of(&view, cluster_gap);
        let continuous = view.is_continuous();
        RunSummary {
            model: self.rule.name().to_string(),
            n_agents: self.rule.n_agents(),
            seed: self.seed,
            scheduler: self.scheduler.as_str().to_string(),
            steps: self.sweeps_done,
            time: self.time,
            converged: settled,
            stop_reason,
            final_mean: snapshot.mean,
            final_variance: snapshot.variance,
            n_clusters: snapshot.cluster_sizes.as_ref().map(Vec::len),
            cluster_sizes: snapshot.cluster_sizes,
            final_fraction: snapshot.fractions,
            consensus: snapshot.consensus,
            consensus_time: if continuous {
                continuous_consensus.or(snapshot.consensus.then_some(self.time))
            } else {
                self.consensus_time
            },
        }
    }

    fn is_continuous(&self) -> bool {
        self.rule.view().is_continuous()
    }

    fn labels(&self) -> Vec<&'static str> {
        match self.rule.view() {
            StateView::Discrete { labels, .. } => labels.to_vec(),
            _ => Vec::new(),
        }
    }

    fn state_values(&self) -> Vec<f64> {
        match self.rule.view() {
            StateView::Discrete { states, .. } => states.iter().map(|&s| f64::from(s)).collect(),
            continuous => continuous.agent_opinions().unwrap_or_default(),
        }
    }
}
