//! Recording: the state view models expose, the outputs declared once by name (Mesa
//! `DataCollector` style), per-step columns, optional full trajectories, and the run summary.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::error::{invalid, Result};
use crate::schedule::SweepOutcome;

/// The state of a model as the recorder sees it.
#[derive(Debug, Clone)]
pub enum StateView<'a> {
    /// Continuous opinions, one per agent.
    Continuous {
        /// Opinions; in agent order unless `ranks` is given.
        opinions: Cow<'a, [f64]>,
        /// When the model keeps its opinions sorted ascending (HK on the complete graph): each
        /// agent's rank, so that agent i holds `opinions[ranks[i]]`. Cluster counting then skips
        /// its sort. `None`: `opinions` is in agent order.
        ranks: Option<&'a [u32]>,
    },
    /// Continuous opinions held as runs of equal values (HK on the complete graph once
    /// clusters form): built and summarised in O(runs), so recording a step costs no pass
    /// over the agents.
    ContinuousRuns {
        /// The distinct opinions, ascending.
        values: Cow<'a, [f64]>,
        /// `starts[j]` is the rank of the first agent holding `values[j]`; the last entry is N.
        starts: &'a [u32],
        /// Each agent's rank in the ascending order of all N opinions.
        ranks: &'a [u32],
    },
    /// Discrete states (opinions or compartments), one per agent.
    Discrete {
        /// State index per agent, in agent order; indexes `labels`.
        states: &'a [u8],
        /// State names, for example `["S", "I", "R"]`.
        labels: &'static [&'static str],
        /// Number of agents per state, aligned with `labels`.
        counts: &'a [u64],
    },
}

impl StateView<'_> {
    /// Whether the view holds continuous opinions (not discrete states).
    pub fn is_continuous(&self) -> bool {
        !matches!(self, StateView::Discrete { .. })
    }

    /// Continuous opinions in agent order; `None` for discrete states.
    pub fn agent_opinions(&self) -> Option<Vec<f64>> {
        match self {
            StateView::Continuous {
                opinions,
                ranks: None,
            } => Some(opinions.to_vec()),
            StateView::Continuous {
                opinions,
                ranks: Some(ranks),
            } => Some(ranks.iter().map(|&r| opinions[r as usize]).collect()),
            StateView::ContinuousRuns {
                values,
                starts,
                ranks,
            } => {
                let ascending = expand_runs(values, starts);
                Some(ranks.iter().map(|&r| ascending[r as usize]).collect())
            }
            StateView::Discrete { .. } => None,
        }
    }
}

/// One opinion per agent, ascending, from runs of equal opinions.
fn expand_runs(values: &[f64], starts: &[u32]) -> Vec<f64> {
    let mut ascending = Vec::with_capacity(starts.last().map_or(0, |&n| n as usize));
    for (bounds, &value) in starts.windows(2).zip(values) {
        ascending.resize(bounds[1] as usize, value);
    }
    ascending
}

/// A per-step output, declared once by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `mean`: mean opinion (continuous models).
    Mean,
    /// `variance`: population variance of opinions (divides by N; continuous models).
    Variance,
    /// `n_clusters`: groups of sorted opinions separated by gaps larger than `cluster_gap`.
    NClusters,
    /// `consensus`: 1 when everyone holds one state (discrete), or when every opinion is within
    /// `cluster_gap` of every other (continuous: one cluster is not enough, since a dense
    /// spread of opinions has no gap larger than `cluster_gap` at large N).
    Consensus,
    /// `n_changed`: agents whose state changed by more than the rule's tolerance this sweep.
    NChanged,
    /// `fraction_<label>`: fraction of agents in each discrete state (one column per state).
    Fraction,
}

impl Output {
    /// Parses a declared output name.
    ///
    /// # Errors
    /// [`crate::DynamicsError::InvalidParameter`] for an unknown name, listing the known ones.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "mean" => Output::Mean,
            "variance" => Output::Variance,
            "n_clusters" => Output::NClusters,
            "consensus" => Output::Consensus,
            "n_changed" => Output::NChanged,
            "fraction" => Output::Fraction,
            other => {
                return Err(invalid(
                    "record.outputs",
                    format!("unknown output `{other}`; known: mean, variance, n_clusters, consensus, n_changed, fraction"),
                ))
            }
        })
    }

    /// The outputs recorded when a scenario declares none.
    pub fn defaults(continuous: bool) -> Vec<Output> {
        if continuous {
            vec![
                Output::Mean,
                Output::Variance,
                Output::NClusters,
                Output::Consensus,
                Output::NChanged,
            ]
        } else {
            vec![Output::Fraction, Output::Consensus, Output::NChanged]
        }
    }
}

/// How to record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordConfig {
    /// Outputs to record each step, in column order.
    pub outputs: Vec<Output>,
    /// Record every `every`-th sweep (the initial state and the last sweep are always recorded).
    /// Default 1.
    pub every: u64,
    /// Also keep the full state of every agent at each recorded step. Default false; costs
    /// `8 N` (continuous) or `N` (discrete) bytes per recorded step.
    pub trajectories: bool,
    /// Opinion gap above which two sorted neighbours belong to different clusters, in opinion
    /// units; also the largest spread (max − min) that counts as consensus. Default 1e-3.
    pub cluster_gap: f64,
}

impl Default for RecordConfig {
    fn default() -> Self {
        Self {
            outputs: Vec::new(),
            every: 1,
            trajectories: false,
            cluster_gap: 1e-3,
        }
    }
}

/// A named column of per-step values.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name in `steps.parquet`.
    pub name: String,
    /// One value per recorded step.
    pub values: Vec<f64>,
}

/// Full per-agent states at the recorded steps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trajectories {
    /// Sweep index of each snapshot.
    pub steps: Vec<u64>,
    /// Snapshot per recorded step, in agent order (continuous opinions, or discrete state
    /// indices as `f64`).
    pub states: Vec<Vec<f64>>,
}

/// Summary statistics of one state.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Mean opinion (continuous models).
    pub mean: Option<f64>,
    /// Population variance (continuous models).
    pub variance: Option<f64>,
    /// Cluster sizes in ascending opinion order (continuous models).
    pub cluster_sizes: Option<Vec<usize>>,
    /// Fraction per state label (discrete models).
    pub fractions: Option<BTreeMap<String, f64>>,
    /// Everyone in one state, or every opinion within `cluster_gap` of every other.
    pub consensus: bool,
}

impl Snapshot {
    /// A continuous state's summary; consensus when every opinion is within `cluster_gap` of
    /// every other (`spread`, the largest minus the smallest, at most `cluster_gap`).
    fn continuous(
        mean: f64,
        variance: f64,
        cluster_sizes: Vec<usize>,
        spread: f64,
        cluster_gap: f64,
    ) -> Self {
        Snapshot {
            mean: Some(mean),
            variance: Some(variance),
            consensus: spread <= cluster_gap,
            cluster_sizes: Some(cluster_sizes),
            fractions: None,
        }
    }

    /// Summarises a state view. `cluster_gap` as in [`RecordConfig::cluster_gap`].
    pub fn of(view: &StateView<'_>, cluster_gap: f64) -> Self {
        match view {
            StateView::Continuous { opinions, ranks } => {
                let n = opinions.len().max(1) as f64;
                let mean = opinions.iter().sum::<f64>() / n;
                let variance = opinions
                    .iter()
                    .map(|x| (x - mean) * (x - mean))
                    .sum::<f64>()
                    / n;
                let ascending: Cow<'_, [f64]> = if ranks.is_some() {
                    Cow::Borrowed(opinions)
                } else {
                    let mut copy = opinions.to_vec();
                    copy.sort_unstable_by(f64::total_cmp);
                    Cow::Owned(copy)
                };
                Snapshot::continuous(
                    mean,
                    variance,
                    cluster_sizes(&ascending, cluster_gap),
                    sorted_spread(&ascending),
                    cluster_gap,
                )
            }
            StateView::ContinuousRuns { values, starts, .. } => {
                let counts = || starts.windows(2).map(|bounds| bounds[1] - bounds[0]);
                let n = f64::from(starts.last().copied().unwrap_or(0).max(1));
                let mean = values
                    .iter()
                    .zip(counts())
                    .map(|(x, count)| x * f64::from(count))
                    .sum::<f64>()
                    / n;
                let variance = values
                    .iter()
                    .zip(counts())
                    .map(|(x, count)| (x - mean) * (x - mean) * f64::from(count))
                    .sum::<f64>()
                    / n;
                // The gap rule over distinct values, each cluster as many agents as its runs.
                let run_size = |j: usize| (starts[j + 1] - starts[j]) as usize;
                let sizes = weighted_cluster_sizes(values, run_size, cluster_gap);
                Snapshot::continuous(mean, variance, sizes, sorted_spread(values), cluster_gap)
            }
            StateView::Discrete { labels, counts, .. } => {
                let total: u64 = counts.iter().sum();
                let fractions = labels
                    .iter()
                    .zip(counts.iter())
                    .map(|(label, &count)| (label.to_string(), count as f64 / total.max(1) as f64))
                    .collect();
                Snapshot {
                    mean: None,
                    variance: None,
                    cluster_sizes: None,
                    fractions: Some(fractions),
                    consensus: counts.iter().filter(|&&c| c > 0).count() <= 1,
                }
            }
        }
    }
}

/// Largest minus smallest of `sorted` (0 when empty).
fn sorted_spread(sorted: &[f64]) -> f64 {
    match (sorted.first(), sorted.last()) {
        (Some(low), Some(high)) => high - low,
        _ => 0.0,
    }
}

/// Sizes of the groups of `sorted` separated by gaps larger than `gap`.
pub fn cluster_sizes(sorted: &[f64], gap: f64) -> Vec<usize> {
    weighted_cluster_sizes(sorted, |_| 1, gap)
}

/// [`cluster_sizes`] where `sorted[k]` stands for `weight(k)` agents.
fn weighted_cluster_sizes(sorted: &[f64], weight: impl Fn(usize) -> usize, gap: f64) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut size = 0;
    for k in 0..sorted.len() {
        if k > 0 && sorted[k] - sorted[k - 1] > gap {
            sizes.push(size);
            size = 0;
        }
        size += weight(k);
    }
    if !sorted.is_empty() {
        sizes.push(size);
    }
    sizes
}

/// Collects the declared outputs step by step.
#[derive(Debug, Clone)]
pub struct Recorder {
    config: RecordConfig,
    steps: Vec<u64>,
    times: Vec<f64>,
    columns: Vec<Column>,
    trajectories: Option<Trajectories>,
    last_step: Option<u64>,
}

impl Recorder {
    /// A recorder for a model whose view is continuous (`continuous`) or discrete with `labels`.
    pub fn new(config: RecordConfig, continuous: bool, labels: &[&str]) -> Self {
        let mut config = config;
        if config.outputs.is_empty() {
            config.outputs = Output::defaults(continuous);
        }
        let mut columns = Vec::new();
        for output in &config.outputs {
            let names: Vec<String> = match output {
                Output::Mean if continuous => vec!["mean".into()],
                Output::Variance if continuous => vec!["variance".into()],
                Output::NClusters if continuous => vec!["n_clusters".into()],
                Output::Fraction if !continuous => {
                    labels.iter().map(|l| format!("fraction_{l}")).collect()
                }
                Output::Consensus => vec!["consensus".into()],
                Output::NChanged => vec!["n_changed".into()],
                // Outputs that do not apply to this kind of model are skipped, not errors, so
                // that one declaration can serve a sweep over models.
                _ => vec![],
            };
            columns.extend(names.into_iter().map(|name| Column {
                name,
                values: Vec::new(),
            }));
        }
        let trajectories = config.trajectories.then(Trajectories::default);
        Self {
            config,
            steps: Vec::new(),
            times: Vec::new(),
            columns,
            trajectories,
            last_step: None,
        }
    }

    /// Records sweep `step` (0 = the initial state) at `time` sweeps, when due or when `force`.
    pub fn record(
        &mut self,
        step: u64,
        time: f64,
        outcome: &SweepOutcome,
        view: &StateView<'_>,
        force: bool,
    ) {
        if !(force || step.is_multiple_of(self.config.every.max(1))) || self.last_step == Some(step)
        {
            return;
        }
        self.last_step = Some(step);
        let snapshot = Snapshot::of(view, self.config.cluster_gap);
        self.steps.push(step);
        self.times.push(time);
        // Fraction columns follow label order while the map is keyed by name, so look up by name.
        let fraction_by_name = snapshot.fractions.clone().unwrap_or_default();
        for column in &mut self.columns {
            let value = match column.name.as_str() {
                "mean" => snapshot.mean.unwrap_or(f64::NAN),
                "variance" => snapshot.variance.unwrap_or(f64::NAN),
                "n_clusters" => snapshot
                    .cluster_sizes
                    .as_ref()
                    .map_or(f64::NAN, |s| s.len() as f64),
                "consensus" => f64::from(u8::from(snapshot.consensus)),
                "n_changed" => outcome.n_changed as f64,
                name => name
                    .strip_prefix("fraction_")
                    .and_then(|label| fraction_by_name.get(label).copied())
                    .unwrap_or(f64::NAN),
            };
            column.values.push(value);
        }
        if let Some(trajectories) = &mut self.trajectories {
            trajectories.steps.push(step);
            trajectories.states.push(match view {
                StateView::Discrete { states, .. } => {
                    states.iter().map(|&s| f64::from(s)).collect()
                }
                continuous => continuous.agent_opinions().unwrap_or_default(),
            });
        }
    }

    /// Recorded sweep indices.
    pub fn steps(&self) -> &[u64] {
        &self.steps
    }

    /// Time of each recorded step, in sweeps (fractional when an asynchronous run stopped
    /// mid-sweep).
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// Recorded columns in declaration order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Full trajectories, when requested.
    pub fn trajectories(&self) -> Option<&Trajectories> {
        self.trajectories.as_ref()
    }

    /// The configuration in effect.
    pub fn config(&self) -> &RecordConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_split_on_gaps_larger_than_the_threshold() {
        assert_eq!(
            cluster_sizes(&[0.0, 0.0005, 0.5, 0.5, 1.0], 1e-3),
            vec![2, 2, 1]
        );
        assert_eq!(cluster_sizes(&[], 1e-3), Vec::<usize>::new());
    }

    /// Runs of equal opinions summarise as their expansion does, agent order included.
    #[test]
    fn runs_view_summarises_as_its_expansion() {
        let values = [0.1, 0.1005, 0.3, 0.9];
        let starts = [0u32, 3, 4, 8, 10];
        let ranks: Vec<u32> = vec![9, 0, 5, 1, 2, 8, 3, 4, 6, 7];
        let runs = StateView::ContinuousRuns {
            values: Cow::Borrowed(&values),
            starts: &starts,
            ranks: &ranks,
        };
        let ascending = expand_runs(&values, &starts);
        assert_eq!(
            ascending,
            [0.1, 0.1, 0.1, 0.1005, 0.3, 0.3, 0.3, 0.3, 0.9, 0.9]
        );
        let expanded = StateView::Continuous {
            opinions: Cow::Borrowed(&ascending),
            ranks: Some(&ranks),
        };
        assert_eq!(runs.agent_opinions(), expanded.agent_opinions());
        assert_eq!(runs.agent_opinions().unwrap()[0], 0.9);
        let (a, b) = (Snapshot::of(&runs, 1e-3), Snapshot::of(&expanded, 1e-3));
        assert_eq!(a.cluster_sizes, Some(vec![4, 4, 2]));
        assert_eq!(a.cluster_sizes, b.cluster_sizes);
        assert_eq!(a.consensus, b.consensus);
        assert!((a.mean.unwrap() - b.mean.unwrap()).abs() < 1e-15);
        assert!((a.variance.unwrap() - b.variance.unwrap()).abs() < 1e-15);
    }

    /// A dense spread of opinions is one cluster by the gap rule but not a consensus; opinions
    /// within `cluster_gap` of one another are.
    #[test]
    fn consensus_needs_every_opinion_within_the_gap() {
        let dense: Vec<f64> = (0..10_001).map(|k| k as f64 * 1e-4).collect();
        let ranks: Vec<u32> = (0..10_001).collect();
        let snapshot = Snapshot::of(
            &StateView::Continuous {
                opinions: Cow::Borrowed(&dense),
                ranks: Some(&ranks),
            },
            1e-3,
        );
        assert_eq!(snapshot.cluster_sizes, Some(vec![10_001]));
        assert!(!snapshot.consensus);
        let agreed = [0.4, 0.4003, 0.4009, 0.4];
        let snapshot = Snapshot::of(
            &StateView::Continuous {
                opinions: Cow::Borrowed(&agreed),
                ranks: None,
            },
            1e-3,
        );
        assert!(snapshot.consensus);
    }
}
