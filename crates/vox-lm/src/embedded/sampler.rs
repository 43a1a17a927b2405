//! Token selection from logits: greedy, or temperature with nucleus (top-p) sampling from a
//! seeded ChaCha stream so that equal seeds give equal text on every platform.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::Sampling;

/// Picks the next token id from one row of logits.
pub(crate) fn sample(logits: &[f32], sampling: &Sampling, rng: &mut ChaCha8Rng) -> u32 {
    if sampling.temperature <= 0.0 {
        return argmax(logits);
    }
    let inv_t = 1.0 / sampling.temperature;
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
    let mut probs: Vec<(u32, f64)> = logits
        .iter()
        .enumerate()
        .map(|(id, &l)| (id as u32, ((l as f64 - max) * inv_t).exp()))
        .collect();
    let total: f64 = probs.iter().map(|p| p.1).sum();
    // Sort by probability, ties by id, so the nucleus is well defined.
    probs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top_p = sampling.top_p.clamp(f64::MIN_POSITIVE, 1.0);
    let mut kept = 0.0;
    let mut cut = probs.len();
    for (i, (_, p)) in probs.iter().enumerate() {
        kept += p / total;
        if kept >= top_p {
            cut = i + 1;
            break;
        }
    }
    probs.truncate(cut);
    let mass: f64 = probs.iter().map(|p| p.1).sum();
    let mut target = rng.random::<f64>() * mass;
    for (id, p) in &probs {
        target -= p;
        if target <= 0.0 {
            return *id;
        }
    }
    probs.last().map(|p| p.0).unwrap_or(0)
}

fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn greedy_takes_the_largest_logit() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert_eq!(sample(&[0.1, 3.0, 2.0], &Sampling::greedy(), &mut rng), 1);
    }

    #[test]
    fn tiny_top_p_is_greedy_and_seeds_repeat() {
        let logits = [0.0f32, 1.0, 0.5, -1.0];
        let narrow = Sampling {
            temperature: 1.0,
            top_p: 1e-9,
            seed: 0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(sample(&logits, &narrow, &mut rng), 1);
        let wide = Sampling {
            temperature: 1.5,
            top_p: 1.0,
            seed: 0,
        };
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..20)
                .map(|_| sample(&logits, &wide, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }
}
