//! Rating scales: mapping natural-log strengths to Elo-like points, with centring or anchoring.

/// A linear rating scale: `rating = init + scale / ln(base) × θ`, where θ is the natural-log
/// strength. Defaults: scale 400, base 10, init 1000 (arena-rank's and FastChat's convention).
#[derive(Debug, Clone, PartialEq)]
pub struct RatingScale {
    /// Points per factor of `base` in odds. Default 400.
    pub scale: f64,
    /// Odds base. Default 10.
    pub base: f64,
    /// Rating of the mean item (θ = 0). Default 1000.
    pub init: f64,
    /// Optional anchor: shift all ratings so that this item has this rating.
    pub anchor: Option<(String, f64)>,
}

impl Default for RatingScale {
    fn default() -> Self {
        RatingScale {
            scale: 400.0,
            base: 10.0,
            init: 1000.0,
            anchor: None,
        }
    }
}

impl RatingScale {
    /// Points per natural-log unit: `scale / ln(base)` (≈ 173.7 by default).
    pub fn points_per_nat(&self) -> f64 {
        self.scale / self.base.ln()
    }

    /// Maps natural-log strengths (mean-centred or not) to ratings. With an anchor, the returned
    /// offset is chosen so that the anchor item gets its rating; without one, θ = 0 maps to
    /// `init`. Returns `None` if the anchor item is not in `items`.
    pub fn offset(&self, theta: &[f64], items: &[String]) -> Option<f64> {
        match &self.anchor {
            None => Some(self.init),
            Some((name, rating)) => {
                let idx = items.iter().position(|n| n == name)?;
                Some(rating - self.points_per_nat() * theta[idx])
            }
        }
    }

    /// Ratings for `theta` (see [`RatingScale::offset`]).
    pub fn ratings(&self, theta: &[f64], items: &[String]) -> Option<Vec<f64>> {
        let offset = self.offset(theta, items)?;
        let k = self.points_per_nat();
        Some(theta.iter().map(|t| offset + k * t).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchoring_shifts_to_the_named_item() {
        let items = vec!["a".to_string(), "b".to_string()];
        let scale = RatingScale {
            anchor: Some(("b".into(), 1200.0)),
            ..RatingScale::default()
        };
        let r = scale.ratings(&[0.0, 10f64.ln()], &items).unwrap();
        assert!((r[1] - 1200.0).abs() < 1e-9);
        assert!((r[1] - r[0] - 400.0).abs() < 1e-9);
        assert!(RatingScale {
            anchor: Some(("zz".into(), 0.0)),
            ..RatingScale::default()
        }
        .ratings(&[0.0, 0.0], &items)
        .is_none());
    }
}
