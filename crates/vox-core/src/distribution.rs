//! Probability distributions over a question's answer options.

use serde::{Deserialize, Serialize};

/// Why a vector of weights is not a distribution.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DistributionError {
    /// No options at all.
    #[error("a distribution needs at least one option")]
    Empty,
    /// A weight is negative, NaN or infinite.
    #[error("weight {index} is {value}; weights must be finite and non-negative")]
    InvalidWeight {
        /// Position of the bad weight.
        index: usize,
        /// The bad value.
        value: f64,
    },
    /// All weights are zero, so there is nothing to normalise.
    #[error("all weights are zero")]
    ZeroMass,
}

/// A probability distribution over `K` answer options: non-negative and summing to 1 (within
/// floating-point rounding). The option order is the question's option order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Distribution(Vec<f64>);

impl Distribution {
    /// Normalises non-negative weights (counts, unnormalised probabilities) to sum to 1.
    pub fn from_weights(weights: &[f64]) -> Result<Self, DistributionError> {
        if weights.is_empty() {
            return Err(DistributionError::Empty);
        }
        for (index, &value) in weights.iter().enumerate() {
            if !value.is_finite() || value < 0.0 {
                return Err(DistributionError::InvalidWeight { index, value });
            }
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return Err(DistributionError::ZeroMass);
        }
        Ok(Self(weights.iter().map(|w| w / total).collect()))
    }

    /// The softmax of natural-log scores (log-probabilities or logits), computed stably.
    pub fn from_logprobs(logprobs: &[f64]) -> Result<Self, DistributionError> {
        if logprobs.is_empty() {
            return Err(DistributionError::Empty);
        }
        if let Some((index, &value)) = logprobs.iter().enumerate().find(|(_, v)| v.is_nan()) {
            return Err(DistributionError::InvalidWeight { index, value });
        }
        let max = logprobs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY {
            return Err(DistributionError::ZeroMass);
        }
        let weights: Vec<f64> = logprobs.iter().map(|lp| (lp - max).exp()).collect();
        Self::from_weights(&weights)
    }

    /// The uniform distribution over `n_options` options.
    pub fn uniform(n_options: usize) -> Result<Self, DistributionError> {
        Self::from_weights(&vec![1.0; n_options])
    }

    /// The weighted mixture `Σ wᵢ pᵢ / Σ wᵢ` of distributions over the same options.
    pub fn mixture<'a>(
        parts: impl IntoIterator<Item = (f64, &'a Distribution)>,
    ) -> Result<Self, DistributionError> {
        let mut acc: Vec<f64> = Vec::new();
        for (weight, part) in parts {
            if acc.is_empty() {
                acc = vec![0.0; part.len()];
            }
            if !weight.is_finite() || weight < 0.0 {
                return Err(DistributionError::InvalidWeight {
                    index: 0,
                    value: weight,
                });
            }
            for (slot, p) in acc.iter_mut().zip(&part.0) {
                *slot += weight * p;
            }
        }
        Self::from_weights(&acc)
    }

    /// Probabilities, one per option, in option order.
    pub fn probs(&self) -> &[f64] {
        &self.0
    }

    /// Number of options.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a distribution has at least one option.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_of_logprobs_matches_hand_computation() {
        let d = Distribution::from_logprobs(&[0.0, (3.0f64).ln()]).unwrap();
        assert!((d.probs()[0] - 0.25).abs() < 1e-12);
        assert!((d.probs()[1] - 0.75).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_weights() {
        assert_eq!(
            Distribution::from_weights(&[]),
            Err(DistributionError::Empty)
        );
        assert_eq!(
            Distribution::from_weights(&[0.0, 0.0]),
            Err(DistributionError::ZeroMass)
        );
        assert!(matches!(
            Distribution::from_weights(&[1.0, -1.0]),
            Err(DistributionError::InvalidWeight { index: 1, .. })
        ));
    }

    #[test]
    fn mixture_weights_parts() {
        let a = Distribution::from_weights(&[1.0, 0.0]).unwrap();
        let b = Distribution::from_weights(&[0.0, 1.0]).unwrap();
        let m = Distribution::mixture([(3.0, &a), (1.0, &b)]).unwrap();
        assert_eq!(m.probs(), &[0.75, 0.25]);
    }
}
