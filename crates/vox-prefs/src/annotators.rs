//! Heterogeneous annotators: per-annotator Bradley-Terry fits, agreement with the leave-one-out
//! majority, and Krippendorff's alpha (nominal).

use std::collections::HashMap;

use crate::bt::{BradleyTerry, BradleyTerryValidParams};
use crate::error::FitError;
use crate::judges::class_of;
use crate::votes::VoteSet;

/// A comparison unit by ids: (prompt, smaller item, larger item).
type UnitIds = (Option<u32>, u32, u32);

/// One annotator's summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnnotatorSummary {
    /// Annotator name.
    pub annotator: String,
    /// Votes cast.
    pub n_votes: usize,
    /// Votes on units that someone else also judged.
    pub n_shared: usize,
    /// Fraction of shared votes whose class (first wins / second wins / tie) equals the majority
    /// of the other annotators on that unit; `None` without shared votes.
    pub loo_agreement: Option<f64>,
    /// Natural-log strengths from this annotator's votes alone (indexed like the vote set's
    /// items; items they never saw stay at 0 under the penalty); `None` if the fit failed.
    pub log_strengths: Option<Vec<f64>>,
}

/// What [`analyse`] reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnnotatorReport {
    /// One row per annotator, in first-seen order.
    pub annotators: Vec<AnnotatorSummary>,
    /// Krippendorff's alpha (nominal, classes win/loss/tie in canonical orientation) over units
    /// with at least two votes; `None` if there are none.
    pub krippendorff_alpha: Option<f64>,
}

/// Per-annotator fits with `params` (use an L2 penalty: one annotator rarely sees every item)
/// plus reliability. Votes without an annotator are ignored.
pub fn analyse(
    votes: &VoteSet,
    params: &BradleyTerryValidParams,
) -> Result<AnnotatorReport, FitError> {
    // Units: (prompt, sorted pair) → list of (annotator, canonical class).
    let mut units: HashMap<UnitIds, Vec<(u32, usize)>> = HashMap::new();
    for v in votes.votes.iter() {
        let Some(annotator) = v.annotator else {
            continue;
        };
        let (i, j, score) = if v.a < v.b {
            (v.a, v.b, v.outcome.score_a())
        } else {
            (v.b, v.a, 1.0 - v.outcome.score_a())
        };
        units
            .entry((v.prompt, i, j))
            .or_default()
            .push((annotator, class_of(&[score])));
    }
    let n_annotators = votes.annotators.len();
    let mut shared = vec![0usize; n_annotators];
    let mut agree = vec![0usize; n_annotators];
    for list in units.values() {
        if list.len() < 2 {
            continue;
        }
        for (k, &(annotator, class)) in list.iter().enumerate() {
            let others: Vec<f64> = list
                .iter()
                .enumerate()
                .filter(|&(m, _)| m != k)
                .map(|(_, &(_, c))| [1.0, 0.0, 0.5][c])
                .collect();
            shared[annotator as usize] += 1;
            agree[annotator as usize] += usize::from(class_of(&others) == class);
        }
    }
    let mut annotators = Vec::with_capacity(n_annotators);
    for (id, name) in votes.annotators.names().iter().enumerate() {
        let own = votes.filter(|v| v.annotator == Some(id as u32));
        let fit = if own.votes.is_empty() {
            None
        } else {
            params.fit(&own).ok()
        };
        annotators.push(AnnotatorSummary {
            annotator: name.clone(),
            n_votes: own.votes.len(),
            n_shared: shared[id],
            loo_agreement: (shared[id] > 0).then(|| agree[id] as f64 / shared[id] as f64),
            log_strengths: fit.map(|f: BradleyTerry| f.log_strengths().to_vec()),
        });
    }
    let classes: Vec<Vec<usize>> = units
        .values()
        .map(|l| l.iter().map(|&(_, c)| c).collect())
        .collect();
    Ok(AnnotatorReport {
        annotators,
        krippendorff_alpha: krippendorff_alpha_nominal(&classes, 3),
    })
}

/// Krippendorff's alpha for nominal data: `1 − D_o / D_e` from the coincidence matrix. Each unit
/// lists the class labels (`0..n_classes`) it received; units with fewer than two are ignored.
pub fn krippendorff_alpha_nominal(units: &[Vec<usize>], n_classes: usize) -> Option<f64> {
    let mut o = vec![0.0; n_classes * n_classes];
    for labels in units.iter().filter(|l| l.len() >= 2) {
        let m = labels.len() as f64;
        for (x, &c) in labels.iter().enumerate() {
            for (y, &k) in labels.iter().enumerate() {
                if x != y {
                    o[c * n_classes + k] += 1.0 / (m - 1.0);
                }
            }
        }
    }
    let n_c: Vec<f64> = (0..n_classes)
        .map(|c| (0..n_classes).map(|k| o[c * n_classes + k]).sum())
        .collect();
    let n: f64 = n_c.iter().sum();
    if n < 2.0 {
        return None;
    }
    let mut d_o = 0.0;
    let mut d_e = 0.0;
    for c in 0..n_classes {
        for k in 0..n_classes {
            if c != k {
                d_o += o[c * n_classes + k];
                d_e += n_c[c] * n_c[k];
            }
        }
    }
    let d_o = d_o / n;
    let d_e = d_e / (n * (n - 1.0));
    (d_e > 0.0).then(|| 1.0 - d_o / d_e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn krippendorff_alpha_known_values() {
        // Perfect agreement → 1.
        assert_eq!(
            krippendorff_alpha_nominal(&[vec![0, 0], vec![1, 1], vec![2, 2]], 3),
            Some(1.0)
        );
        // Hand-computed: units {0,0},{0,1},{1,1}: o00=2, o01=o10=1, o11=2, n=6, n0=n1=3;
        // D_o = 2/6, D_e = 2·3·3/(6·5) = 0.6 → α = 1 − (1/3)/0.6 = 4/9.
        let a = krippendorff_alpha_nominal(&[vec![0, 0], vec![0, 1], vec![1, 1]], 3).unwrap();
        assert!((a - 4.0 / 9.0).abs() < 1e-12);
    }
}
