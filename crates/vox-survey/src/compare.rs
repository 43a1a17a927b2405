//! Scoring a simulation against human data: per question × group metrics, aggregates with
//! bootstrap CIs, the three baselines (uniform, overall population, shuffled demographics) and
//! the split-half human ceiling. Pure statistics; no language model, no I/O.

use std::collections::{BTreeMap, HashMap};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::metrics::{self, BootstrapConfig, ItemMetrics, MeanCi};
use crate::records::DistributionRecord;

/// Settings of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareConfig {
    /// Bootstrap of the aggregate means (resamples, level, seed).
    pub bootstrap: BootstrapConfig,
    /// Random splits averaged for each item's split-half ceiling. Default 20.
    pub n_splits: usize,
    /// Seed of the shuffled-demographics baseline and the split-half ceiling. Default 0.
    pub seed: u64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            bootstrap: BootstrapConfig::default(),
            n_splits: 20,
            seed: 0,
        }
    }
}

/// The metrics of one question × group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionResult {
    /// Question id.
    pub question_id: String,
    /// Group label.
    pub group: String,
    /// The simulation's metrics against the human distribution.
    #[serde(flatten)]
    pub metrics: ItemMetrics,
    /// The aligned option texts (simulated options first, then unknown human options).
    pub options: Vec<String>,
    /// The simulated distribution over `options`.
    pub simulated: Vec<f64>,
    /// The human distribution over `options`.
    pub human: Vec<f64>,
    /// Uniform baseline's metrics on this item.
    pub baseline_uniform: ItemMetrics,
    /// Overall-population baseline's metrics on this item.
    pub baseline_overall: ItemMetrics,
    /// Shuffled-demographics baseline's metrics, when the question has two or more groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_shuffled: Option<ItemMetrics>,
    /// Split-half ceiling on this item, when the human record has counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<ItemMetrics>,
}

/// Means of each metric over items, with bootstrap CIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Mean `1 − JS distance`.
    pub similarity_js: MeanCi,
    /// Mean Wasserstein similarity over the ordinal items (absent when none is ordinal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity_wd: Option<MeanCi>,
    /// Mean total variation.
    pub tv: MeanCi,
    /// Mean KL(human ‖ simulated), nats.
    pub kl: MeanCi,
}

/// The baselines, scored on the same items as the simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baselines {
    /// Every group answers uniformly over the options.
    pub uniform: Aggregate,
    /// Every group is given the human overall distribution (respondent-weighted mixture of all
    /// human groups; equal weights where counts are missing).
    pub overall: Aggregate,
    /// Each group is given the *simulated* distribution of another group on the same question
    /// (a seeded derangement of group labels); absent when no question has two groups.
    pub shuffled_demographics: Option<Aggregate>,
}

/// Per-group summary for the report: mean similarity of the model and the baselines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Group label.
    pub group: String,
    /// Items scored.
    pub n: usize,
    /// The simulation's aggregate on this group.
    pub model: Aggregate,
    /// Mean `1 − JS` of the uniform baseline.
    pub uniform_similarity_js: f64,
    /// Mean `1 − JS` of the overall baseline.
    pub overall_similarity_js: f64,
    /// Mean `1 − JS` of the shuffled baseline, over the items that have one.
    pub shuffled_similarity_js: Option<f64>,
    /// Mean `1 − JS` of the split-half ceiling, over the items that have counts.
    pub ceiling_similarity_js: Option<f64>,
}

/// The full comparison: the JSON object printed by `vox survey compare --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    /// One entry per question × group present in both files.
    pub questions: Vec<QuestionResult>,
    /// Means with CIs over `questions`.
    pub aggregate: Aggregate,
    /// Baselines on the same items.
    pub baselines: Baselines,
    /// Split-half human agreement over the items with counts; `null` when the human file has
    /// no counts.
    pub ceiling: Option<Aggregate>,
    /// Per-group summaries, sorted by group.
    pub by_group: Vec<GroupSummary>,
    /// Problems found while aligning the files (unknown options, unmatched items).
    pub diagnostics: Vec<String>,
}

/// Why two files cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CompareError {
    /// No question × group appears in both.
    #[error("no question × group appears in both the simulated and the human file")]
    NoOverlap,
}

/// Compares simulated with human distributions, item by item (matched on question id and
/// group; options matched by exact text).
///
/// Human options that the simulation does not have are *unknown options*: they are kept (the
/// simulation gets probability 0 there), and each is reported in `diagnostics`.
pub fn compare(
    simulated: &[DistributionRecord],
    human: &[DistributionRecord],
    config: &CompareConfig,
) -> Result<CompareReport, CompareError> {
    let mut diagnostics = Vec::new();
    let simulated_by_key: HashMap<(&str, &str), &DistributionRecord> = simulated
        .iter()
        .map(|r| ((r.question_id.as_str(), r.group.as_str()), r))
        .collect();
    let overall = overall_distributions(human);

    // Simulated records by question, in file order, for the shuffled baseline.
    let mut simulated_groups: BTreeMap<&str, Vec<&DistributionRecord>> = BTreeMap::new();
    for record in simulated {
        simulated_groups
            .entry(record.question_id.as_str())
            .or_default()
            .push(record);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut shuffled: HashMap<(&str, &str), &DistributionRecord> = HashMap::new();
    for (question_id, groups) in &simulated_groups {
        let permutation = metrics::derangement(groups.len(), &mut rng);
        if groups.len() >= 2 {
            for (i, &j) in permutation.iter().enumerate() {
                shuffled.insert((question_id, groups[i].group.as_str()), groups[j]);
            }
        }
    }

    let mut questions = Vec::new();
    let mut n_unmatched = 0;
    for (index, human_record) in human.iter().enumerate() {
        let key = (
            human_record.question_id.as_str(),
            human_record.group.as_str(),
        );
        let Some(simulated_record) = simulated_by_key.get(&key) else {
            n_unmatched += 1;
            continue;
        };
        let aligned = align(simulated_record, human_record, &mut diagnostics);
        let ordinal = aligned.ordinal.as_deref();
        let model = metrics::item_metrics(&aligned.simulated, &aligned.human, ordinal);
        let k_asked = simulated_record.options.len();
        let mut uniform = vec![1.0 / k_asked as f64; k_asked];
        uniform.resize(aligned.options.len(), 0.0);
        let baseline_uniform = metrics::item_metrics(&uniform, &aligned.human, ordinal);
        let overall_here = &overall[human_record.question_id.as_str()];
        let overall_aligned = project(&overall_here.0, &overall_here.1, &aligned.options);
        let baseline_overall = metrics::item_metrics(&overall_aligned, &aligned.human, ordinal);
        let baseline_shuffled = shuffled.get(&key).map(|other| {
            let other_aligned = project(&other.options, &other.distribution, &aligned.options);
            metrics::item_metrics(&other_aligned, &aligned.human, ordinal)
        });
        let ceiling = human_record.counts.as_ref().and_then(|counts| {
            let counts = project(&human_record.options, counts, &aligned.options);
            metrics::split_half(
                &counts,
                ordinal,
                config.n_splits,
                config.seed.wrapping_add(index as u64 + 1),
            )
        });
        questions.push(QuestionResult {
            question_id: human_record.question_id.clone(),
            group: human_record.group.clone(),
            metrics: model,
            options: aligned.options,
            simulated: aligned.simulated,
            human: aligned.human,
            baseline_uniform,
            baseline_overall,
            baseline_shuffled,
            ceiling,
        });
    }
    if questions.is_empty() {
        return Err(CompareError::NoOverlap);
    }
    if n_unmatched > 0 {
        diagnostics.push(format!(
            "{n_unmatched} human question × group item(s) have no simulated distribution and were not scored"
        ));
    }
    let n_extra = simulated.len().saturating_sub(questions.len());
    if n_extra > 0 {
        diagnostics.push(format!(
            "{n_extra} simulated question × group item(s) have no human distribution and were not scored"
        ));
    }

    let bootstrap = &config.bootstrap;
    let all: Vec<&QuestionResult> = questions.iter().collect();
    let aggregate = aggregate_of(all.iter().map(|q| &q.metrics), bootstrap);
    let baselines = Baselines {
        uniform: aggregate_of(all.iter().map(|q| &q.baseline_uniform), bootstrap),
        overall: aggregate_of(all.iter().map(|q| &q.baseline_overall), bootstrap),
        shuffled_demographics: optional_aggregate(
            all.iter().filter_map(|q| q.baseline_shuffled.as_ref()),
            bootstrap,
        ),
    };
    let ceiling = optional_aggregate(all.iter().filter_map(|q| q.ceiling.as_ref()), bootstrap);
    let by_group = group_summaries(&questions, bootstrap);
    Ok(CompareReport {
        questions,
        aggregate,
        baselines,
        ceiling,
        by_group,
        diagnostics,
    })
}

struct Aligned {
    options: Vec<String>,
    simulated: Vec<f64>,
    human: Vec<f64>,
    ordinal: Option<Vec<f64>>,
}

fn align(
    simulated: &DistributionRecord,
    human: &DistributionRecord,
    diagnostics: &mut Vec<String>,
) -> Aligned {
    let mut options = simulated.options.clone();
    for (option, p) in human.options.iter().zip(&human.distribution) {
        if !options.contains(option) {
            diagnostics.push(format!(
                "question {:?} group {:?}: human option {option:?} (probability {p:.4}) is not an option of the simulation; kept with simulated probability 0",
                human.question_id, human.group
            ));
            options.push(option.clone());
        }
    }
    for option in &simulated.options {
        if !human.options.contains(option) {
            diagnostics.push(format!(
                "question {:?} group {:?}: simulated option {option:?} is missing from the human data; human probability taken as 0",
                human.question_id, human.group
            ));
        }
    }
    let simulated_aligned = project(&simulated.options, &simulated.distribution, &options);
    let human_aligned = project(&human.options, &human.distribution, &options);
    // Ordinal positions are only meaningful when every aligned option has one.
    let ordinal = human
        .ordinal
        .as_ref()
        .map(|o| (&human.options, o))
        .or(simulated.ordinal.as_ref().map(|o| (&simulated.options, o)))
        .and_then(|(names, values)| {
            options
                .iter()
                .map(|option| names.iter().position(|n| n == option).map(|i| values[i]))
                .collect::<Option<Vec<f64>>>()
        });
    Aligned {
        options,
        simulated: simulated_aligned,
        human: human_aligned,
        ordinal,
    }
}

/// Values keyed by `names`, placed in `target` order (0 where a name is absent).
fn project(names: &[String], values: &[f64], target: &[String]) -> Vec<f64> {
    target
        .iter()
        .map(|t| names.iter().position(|n| n == t).map_or(0.0, |i| values[i]))
        .collect()
}

/// Per question: the union of option names and the respondent-weighted mixture of all groups.
fn overall_distributions(human: &[DistributionRecord]) -> HashMap<&str, (Vec<String>, Vec<f64>)> {
    let mut by_question: BTreeMap<&str, Vec<&DistributionRecord>> = BTreeMap::new();
    for record in human {
        by_question
            .entry(record.question_id.as_str())
            .or_default()
            .push(record);
    }
    let mut out = HashMap::new();
    for (question_id, records) in by_question {
        let all_counted = records.iter().all(|r| r.counts.is_some());
        let mut names: Vec<String> = Vec::new();
        for record in &records {
            for option in &record.options {
                if !names.contains(option) {
                    names.push(option.clone());
                }
            }
        }
        let mut mass = vec![0.0; names.len()];
        for record in &records {
            let weight = if all_counted {
                record
                    .counts
                    .as_ref()
                    .map_or(1.0, |c| c.iter().sum::<f64>())
            } else {
                1.0
            };
            for (option, p) in record.options.iter().zip(&record.distribution) {
                let i = names
                    .iter()
                    .position(|n| n == option)
                    .expect("collected above");
                mass[i] += weight * p;
            }
        }
        let total: f64 = mass.iter().sum();
        if total > 0.0 {
            mass.iter_mut().for_each(|m| *m /= total);
        }
        out.insert(question_id, (names, mass));
    }
    out
}

fn aggregate_of<'a>(
    items: impl Iterator<Item = &'a ItemMetrics> + Clone,
    bootstrap: &BootstrapConfig,
) -> Aggregate {
    optional_aggregate(items, bootstrap).expect("callers pass at least one item")
}

fn optional_aggregate<'a>(
    items: impl Iterator<Item = &'a ItemMetrics> + Clone,
    bootstrap: &BootstrapConfig,
) -> Option<Aggregate> {
    let js: Vec<f64> = items.clone().map(|m| m.similarity_js).collect();
    let wd: Vec<f64> = items.clone().filter_map(|m| m.similarity_wd).collect();
    let tv: Vec<f64> = items.clone().map(|m| m.tv).collect();
    let kl: Vec<f64> = items.map(|m| m.kl).collect();
    Some(Aggregate {
        similarity_js: metrics::bootstrap_mean(&js, bootstrap)?,
        similarity_wd: metrics::bootstrap_mean(&wd, bootstrap),
        tv: metrics::bootstrap_mean(&tv, bootstrap)?,
        kl: metrics::bootstrap_mean(&kl, bootstrap)?,
    })
}

fn group_summaries(questions: &[QuestionResult], bootstrap: &BootstrapConfig) -> Vec<GroupSummary> {
    let mut by_group: BTreeMap<&str, Vec<&QuestionResult>> = BTreeMap::new();
    for q in questions {
        by_group.entry(q.group.as_str()).or_default().push(q);
    }
    let mean = |values: Vec<f64>| -> Option<f64> {
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    by_group
        .into_iter()
        .map(|(group, items)| GroupSummary {
            group: group.to_string(),
            n: items.len(),
            model: aggregate_of(items.iter().map(|q| &q.metrics), bootstrap),
            uniform_similarity_js: mean(
                items
                    .iter()
                    .map(|q| q.baseline_uniform.similarity_js)
                    .collect(),
            )
            .unwrap_or(f64::NAN),
            overall_similarity_js: mean(
                items
                    .iter()
                    .map(|q| q.baseline_overall.similarity_js)
                    .collect(),
            )
            .unwrap_or(f64::NAN),
            shuffled_similarity_js: mean(
                items
                    .iter()
                    .filter_map(|q| q.baseline_shuffled.map(|m| m.similarity_js))
                    .collect(),
            ),
            ceiling_similarity_js: mean(
                items
                    .iter()
                    .filter_map(|q| q.ceiling.map(|m| m.similarity_js))
                    .collect(),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        q: &str,
        g: &str,
        options: &[&str],
        p: &[f64],
        counts: Option<&[f64]>,
    ) -> DistributionRecord {
        DistributionRecord {
            question_id: q.into(),
            group: g.into(),
            options: options.iter().map(|s| s.to_string()).collect(),
            distribution: p.to_vec(),
            ordinal: Some((0..options.len()).map(|i| i as f64).collect()),
            counts: counts.map(|c| c.to_vec()),
        }
    }

    #[test]
    fn perfect_simulation_scores_one_and_baselines_are_hand_computable() {
        let human = vec![
            record("q", "D", &["yes", "no"], &[0.8, 0.2], Some(&[80.0, 20.0])),
            record("q", "R", &["yes", "no"], &[0.2, 0.8], Some(&[20.0, 80.0])),
        ];
        let simulated: Vec<_> = human
            .iter()
            .map(|r| DistributionRecord {
                counts: None,
                ..r.clone()
            })
            .collect();
        let report = compare(&simulated, &human, &CompareConfig::default()).unwrap();
        assert_eq!(report.questions.len(), 2);
        assert!((report.aggregate.similarity_js.mean - 1.0).abs() < 1e-12);
        assert!(report.aggregate.tv.mean.abs() < 1e-12);
        // Uniform vs (0.8, 0.2): TV = 0.3 for both groups.
        assert!((report.baselines.uniform.tv.mean - 0.3).abs() < 1e-12);
        // Overall = (0.5, 0.5) weighted by 100 respondents each: also TV 0.3.
        assert!((report.baselines.overall.tv.mean - 0.3).abs() < 1e-12);
        // Shuffled: D gets R's answers and vice versa, TV = 0.6.
        let shuffled = report.baselines.shuffled_demographics.as_ref().unwrap();
        assert!((shuffled.tv.mean - 0.6).abs() < 1e-12);
        assert!(report.ceiling.is_some());
        assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    }

    #[test]
    fn unknown_human_options_are_reported_and_kept() {
        let human = vec![record(
            "q",
            "D",
            &["yes", "no", "maybe"],
            &[0.5, 0.3, 0.2],
            None,
        )];
        let simulated = vec![record("q", "D", &["yes", "no"], &[0.5, 0.5], None)];
        let report = compare(&simulated, &human, &CompareConfig::default()).unwrap();
        assert_eq!(report.questions[0].options, vec!["yes", "no", "maybe"]);
        // The 0.2 on "maybe" still counts: TV = ½(0 + 0.2 + 0.2) = 0.2.
        assert!((report.questions[0].metrics.tv - 0.2).abs() < 1e-12);
        assert!(
            report.diagnostics.iter().any(|d| d.contains("\"maybe\"")),
            "{:?}",
            report.diagnostics
        );
        assert!(report.ceiling.is_none());
        assert!(report.baselines.shuffled_demographics.is_none());
    }

    #[test]
    fn no_overlap_is_an_error() {
        let human = vec![record("q", "D", &["a", "b"], &[0.5, 0.5], None)];
        let simulated = vec![record("other", "D", &["a", "b"], &[0.5, 0.5], None)];
        assert_eq!(
            compare(&simulated, &human, &CompareConfig::default()),
            Err(CompareError::NoOverlap)
        );
    }
}
