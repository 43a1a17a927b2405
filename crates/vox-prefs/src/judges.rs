//! Comparing two vote sets on the same pairs (e.g. crowd against GPT-4): agreement, Cohen's
//! kappa, per-item bias, position bias and order consistency.

use std::collections::{BTreeMap, HashMap};

use crate::votes::VoteSet;

/// The comparison unit: prompt (if any) and the two item names in sorted order.
pub type UnitKey = (Option<String>, String, String);

/// Per-unit outcome in canonical orientation (first key item's mean score: 1 win, 0 loss, ½ tie).
pub(crate) fn unit_scores(votes: &VoteSet) -> HashMap<UnitKey, Vec<f64>> {
    let mut out: HashMap<UnitKey, Vec<f64>> = HashMap::new();
    for v in &votes.votes {
        let (a, b) = (
            &votes.items.names()[v.a as usize],
            &votes.items.names()[v.b as usize],
        );
        let prompt = v.prompt.map(|p| votes.prompts.names()[p as usize].clone());
        let (key, score) = if a <= b {
            ((prompt, a.clone(), b.clone()), v.outcome.score_a())
        } else {
            ((prompt, b.clone(), a.clone()), 1.0 - v.outcome.score_a())
        };
        out.entry(key).or_default().push(score);
    }
    out
}

/// Majority class of scores: 0 = first item wins, 1 = second wins, 2 = tie (mean exactly ½).
pub(crate) fn class_of(scores: &[f64]) -> usize {
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    if mean > 0.5 {
        0
    } else if mean < 0.5 {
        1
    } else {
        2
    }
}

/// What [`agreement`] reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgreementReport {
    /// Units (prompt, unordered pair) judged in both sets.
    pub n_matched: usize,
    /// Units only in the first set.
    pub n_only_first: usize,
    /// Units only in the second set.
    pub n_only_second: usize,
    /// Fraction of matched units with the same majority class (win/loss/tie).
    pub agreement: f64,
    /// Same, over matched units where neither majority is a tie.
    pub agreement_without_ties: f64,
    /// Units counted in `agreement_without_ties`.
    pub n_without_ties: usize,
    /// Cohen's kappa over the three classes.
    pub cohen_kappa: f64,
    /// Per item: mean over matched units of (second set's score − first set's score) for that
    /// item, and the number of units. Positive: the second set favours the item.
    pub item_bias: BTreeMap<String, (f64, usize)>,
    /// Fraction of decisive votes won by the left/first item, in the first set.
    pub left_win_rate_first: f64,
    /// Same for the second set.
    pub left_win_rate_second: f64,
    /// Within the first set: units judged in both orders and the fraction with consistent
    /// outcomes; `None` if no unit was judged both ways.
    pub consistency_first: Option<(usize, f64)>,
    /// Same for the second set.
    pub consistency_second: Option<(usize, f64)>,
}

fn left_win_rate(votes: &VoteSet) -> f64 {
    let (mut left, mut decisive) = (0usize, 0usize);
    for v in &votes.votes {
        if !v.outcome.is_tie() {
            decisive += 1;
            left += usize::from(v.outcome.score_a() == 1.0);
        }
    }
    left as f64 / decisive.max(1) as f64
}

/// Of units judged in both orders (a, b) and (b, a), the fraction whose two orders give the same
/// canonical class.
fn consistency(votes: &VoteSet) -> Option<(usize, f64)> {
    let mut by_order: HashMap<(Option<u32>, u32, u32), Vec<f64>> = HashMap::new();
    for v in &votes.votes {
        by_order
            .entry((v.prompt, v.a, v.b))
            .or_default()
            .push(v.outcome.score_a());
    }
    let (mut n, mut same) = (0usize, 0usize);
    for (&(p, a, b), scores) in &by_order {
        if a < b {
            if let Some(rev) = by_order.get(&(p, b, a)) {
                let flipped: Vec<f64> = rev.iter().map(|s| 1.0 - s).collect();
                n += 1;
                same += usize::from(class_of(scores) == class_of(&flipped));
            }
        }
    }
    (n > 0).then(|| (n, same as f64 / n as f64))
}

/// Compares two vote sets unit by unit. Units are matched on prompt and unordered item pair;
/// several votes on a unit are reduced to their majority (mean score).
pub fn agreement(first: &VoteSet, second: &VoteSet) -> AgreementReport {
    let a = unit_scores(first);
    let b = unit_scores(second);
    let mut confusion = [[0usize; 3]; 3];
    let mut item_bias: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let (mut matched, mut decisive, mut decisive_same) = (0usize, 0usize, 0usize);
    for (key, sa) in &a {
        let Some(sb) = b.get(key) else { continue };
        matched += 1;
        let (ca, cb) = (class_of(sa), class_of(sb));
        confusion[ca][cb] += 1;
        if ca != 2 && cb != 2 {
            decisive += 1;
            decisive_same += usize::from(ca == cb);
        }
        let ma = sa.iter().sum::<f64>() / sa.len() as f64;
        let mb = sb.iter().sum::<f64>() / sb.len() as f64;
        for (item, delta) in [(&key.1, mb - ma), (&key.2, ma - mb)] {
            let e = item_bias.entry(item.clone()).or_insert((0.0, 0));
            e.0 += delta;
            e.1 += 1;
        }
    }
    for v in item_bias.values_mut() {
        v.0 /= v.1 as f64;
    }
    let total = matched.max(1) as f64;
    let observed = (0..3).map(|k| confusion[k][k]).sum::<usize>() as f64 / total;
    let expected: f64 = (0..3)
        .map(|k| {
            let row: usize = confusion[k].iter().sum();
            let col: usize = (0..3).map(|r| confusion[r][k]).sum();
            row as f64 * col as f64 / (total * total)
        })
        .sum();
    AgreementReport {
        n_matched: matched,
        n_only_first: a.len() - matched,
        n_only_second: b.keys().filter(|k| !a.contains_key(*k)).count(),
        agreement: observed,
        agreement_without_ties: decisive_same as f64 / decisive.max(1) as f64,
        n_without_ties: decisive,
        cohen_kappa: if expected < 1.0 {
            (observed - expected) / (1.0 - expected)
        } else {
            f64::NAN
        },
        item_bias,
        left_win_rate_first: left_win_rate(first),
        left_win_rate_second: left_win_rate(second),
        consistency_first: consistency(first),
        consistency_second: consistency(second),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::Outcome::*;

    #[test]
    fn identical_sets_agree_perfectly_and_flips_are_matched() {
        let first = VoteSet::from_triples(&[("x", "y", AWins), ("y", "z", Tie), ("x", "z", BWins)]);
        // Same judgments, with the first pair presented in the other order.
        let second =
            VoteSet::from_triples(&[("y", "x", BWins), ("y", "z", Tie), ("x", "z", BWins)]);
        let r = agreement(&first, &second);
        assert_eq!(r.n_matched, 3);
        assert_eq!(r.agreement, 1.0);
        assert_eq!(r.cohen_kappa, 1.0);
        let opposite =
            VoteSet::from_triples(&[("x", "y", BWins), ("y", "z", Tie), ("x", "z", AWins)]);
        let r = agreement(&first, &opposite);
        assert!((r.agreement - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.agreement_without_ties, 0.0);
        assert!(r.item_bias["y"].0 > 0.0);
    }

    #[test]
    fn order_consistency() {
        let votes = VoteSet::from_triples(&[
            ("x", "y", AWins),
            ("y", "x", BWins),
            ("x", "z", AWins),
            ("z", "x", AWins),
        ]);
        assert_eq!(consistency(&votes), Some((2, 0.5)));
    }
}
