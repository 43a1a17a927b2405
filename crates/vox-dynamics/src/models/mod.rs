//! The classical models, each a small [`crate::UpdateRule`]: params, state and an update rule.
//!
//! Continuous opinions: [`DeGroot`], [`FriedkinJohnsen`], [`HegselmannKrause`] (any graph),
//! [`HkComplete`] (complete graph, sorted window) and [`Deffuant`]. Discrete opinions: [`QVoter`]
//! (the voter model is q = 1) and [`MajorityRule`]. Spreading: [`Compartmental`] (SIR/SEIR),
//! [`MakiThompson`] and [`Misinformation`].

mod continuous;
mod discrete;
mod spreading;

pub use continuous::{
    DeGroot, Deffuant, DeffuantParams, FjParams, FriedkinJohnsen, HegselmannKrause, HkComplete,
    HkParams, InitialOpinions, LinearParams,
};
pub use discrete::{MajorityParams, MajorityRule, QVoter, QVoterParams};
pub use spreading::{
    Compartmental, CompartmentalParams, Intervention, MakiThompson, MakiThompsonParams,
    Misinformation, MisinformationParams,
};

use rand::seq::index::sample;

use crate::rng::{seeded, streams};

/// Tolerance added to confidence bounds, in opinion units: a pair counts as within ε when
/// `|xᵢ − xⱼ| ≤ ε + 1e-9`. Grids such as xᵢ = i/1000 hold pairs exactly ε apart that float64
/// rounding would otherwise split at random (NOTES: ε = 0.05, 0.10, 0.18 on the 1001-point grid);
/// 1e-9 is far above float64 rounding of opinions in [0, 1] and far below any meaningful ε.
pub const CONFIDENCE_TOLERANCE: f64 = 1e-9;

/// Opinion change below which an agent counts as unchanged in continuous models that converge
/// only asymptotically (DeGroot, Friedkin–Johnsen, HK on graphs, Deffuant), in opinion units.
pub const CHANGE_TOLERANCE: f64 = 1e-12;

/// Most updates per block of the complete-graph Deffuant and voter kernels, which draw each
/// block's random words ahead (see [`crate::rng::WordsAhead`]).
pub(crate) const KERNEL_CHUNK: usize = 1024;

/// Words reserved per block: two per update plus a few for the rare draws that take a second
/// word, so that few words are left over to move to the front of the next block.
pub(crate) const KERNEL_WORDS: usize = 2 * KERNEL_CHUNK + 16;

/// Seeded placement of exactly `round(fraction · n)` agents in `state`, the rest in `base`.
pub(crate) fn place_fraction(n: usize, fraction: f64, state: u8, base: u8, seed: u64) -> Vec<u8> {
    let mut states = vec![base; n];
    let count = ((fraction * n as f64).round() as usize).min(n);
    let mut rng = seeded(seed, streams::INIT);
    for idx in sample(&mut rng, n, count).into_iter() {
        states[idx] = state;
    }
    states
}

/// Counts agents per state for `n_states` states.
pub(crate) fn count_states(states: &[u8], n_states: usize) -> Vec<u64> {
    let mut counts = vec![0u64; n_states];
    for &s in states {
        counts[s as usize] += 1;
    }
    counts
}
