//! Seeded random-number generation: one portable generator type for every random entry point.

use rand::SeedableRng;

/// The generator used everywhere: ChaCha with 8 rounds, portable across platforms and `rand`
/// versions of the same major, so that a seed reproduces a run byte for byte.
pub type SimRng = rand_chacha::ChaCha8Rng;

/// A generator for `seed` and a named stream (`stream` keeps, say, the graph generator and the
/// initial opinions independent even when they share one scenario seed).
pub fn seeded(seed: u64, stream: u64) -> SimRng {
    let mut rng = SimRng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Stream ids, kept in one place so that no two consumers share one.
pub(crate) mod streams {
    /// Graph generators.
    pub const GRAPH: u64 = 1;
    /// Initial states.
    pub const INIT: u64 = 2;
    /// The scheduler and update rules.
    pub const DYNAMICS: u64 = 3;
}
