//! Reference test: recomputes Meister et al. (2024) "Benchmarking Distributional Alignment",
//! leaderboard row `gpt-4 (V), opinionqa, task1` (0.1809105888636142 in
//! `results/leaderboard_distrib_alignment_all.csv`; the OpinionQA part of the `three` row of
//! `leaderboard_distrib_alignment.csv`) from their stored model outputs and human counts, through
//! vox's importer and total-variation metric.
//!
//! Their conventions (see `vox_survey::import::meister`): human vector = counts/n over the
//! group's answers in alphabetical order including "Refused"; model vector = the stated
//! percentages × 0.01 by option letter, not renormalised; TV = ½Σ|p−q| by position; items with no
//! respondents (FEM2_W29 × Male) dropped, leaving 599 items over 6 groups; the published mean is
//! the mean of 1,000 unseeded bootstrap resample means, so only Monte-Carlo agreement (≈1.7e-4
//! standard deviation) is possible for the mean, while per-item TVs
//! (`results/eval_disagreement_bootstrapping.csv`) are reproduced exactly.
//!
//! The data lives in `../shared/data/distributional_alignment_meister2024/` (not committed: no
//! license). When it is absent the test says so and checks nothing else.

use std::path::PathBuf;

use vox_survey::import::meister;

const PUBLISHED_MEAN: f64 = 0.1809105888636142;
const GROUPS: [(&str, &str); 6] = [
    ("POLPARTY", "Democrat"),
    ("POLPARTY", "Republican"),
    ("SEX", "Male"),
    ("SEX", "Female"),
    ("RACE", "Black"),
    ("RACE", "White"),
];

fn data_dir() -> Option<PathBuf> {
    let root = std::env::var_os("VOX_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let dir = root.join("distributional_alignment_meister2024");
    dir.join("results/leaderboard_distrib_alignment_all.csv")
        .exists()
        .then_some(dir)
}

/// The per-item TVs of Meister et al.'s own evaluation for one group, from their CSV.
fn published_item_tvs(dir: &std::path::Path, attribute: &str, group: &str) -> Vec<f64> {
    let mut reader =
        csv::Reader::from_path(dir.join("results/eval_disagreement_bootstrapping.csv")).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        let fields: Vec<&str> = record.iter().collect();
        if fields[0] == "task1"
            && fields[1] == "gpt-4"
            && fields[2] == "opinionqa"
            && fields[4] == attribute
            && fields[5] == group
            && fields[6] == "express_distribution"
        {
            let list = fields[8].trim_matches(|c| c == '[' || c == ']');
            return list
                .split(',')
                .map(|v| v.trim().parse::<f64>().unwrap())
                .collect();
        }
    }
    panic!("no published row for {attribute} {group}");
}

#[test]
fn reproduces_gpt4_verbalised_opinionqa_row() {
    let Some(dir) = data_dir() else {
        eprintln!(
            "DATA ABSENT: ../shared/data/distributional_alignment_meister2024 was not found \
             (set VOX_SHARED_DATA); the Meister et al. reference row was not checked"
        );
        return;
    };
    let subset = "Pew_American_Trends_Panel_disagreement_100";
    let human_dir = dir.join("opinions_qa/data/human_resp").join(subset);
    let output_dir = dir
        .join("results/opinionqa/express_distribution/gpt-4/task1")
        .join(subset);
    let mut all = Vec::new();
    for (attribute, group) in GROUPS {
        let counts =
            meister::read_group_counts(&human_dir.join(format!("{attribute}_data.json"))).unwrap();
        let outputs =
            meister::read_model_outputs(&output_dir.join(attribute).join(format!("{group}.json")))
                .unwrap();
        let tvs: Vec<f64> = meister::item_tvs(&outputs, &counts, group)
            .into_iter()
            .map(|(_, tv)| tv)
            .collect();
        let published = published_item_tvs(&dir, attribute, group);
        assert_eq!(
            tvs.len(),
            published.len(),
            "{attribute} {group}: item count"
        );
        for (i, (ours, theirs)) in tvs.iter().zip(&published).enumerate() {
            assert!(
                (ours - theirs).abs() < 1e-12,
                "{attribute} {group} item {i}: {ours} vs {theirs}"
            );
        }
        all.extend(tvs);
    }
    assert_eq!(
        all.len(),
        599,
        "FEM2_W29 × Male has no respondents and is the only item dropped"
    );
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    // The published figure is a mean of unseeded bootstrap means: sd ≈ √(var/n/1000).
    let var = all.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (all.len() - 1) as f64;
    let noise_sd = (var / all.len() as f64 / 1000.0).sqrt();
    eprintln!("vox: mean TV {mean:.6} over {} items; published {PUBLISHED_MEAN:.6}; Monte-Carlo sd {noise_sd:.2e}", all.len());
    assert!(
        (mean - PUBLISHED_MEAN).abs() < 4.0 * noise_sd,
        "mean {mean} vs published {PUBLISHED_MEAN}"
    );
}
