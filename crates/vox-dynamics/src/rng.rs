//! Seeded random-number generation: one portable generator type for every random entry point.

use rand::{Rng, SeedableRng};

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
    /// SIR/SEIR's initial clocks (see `Compartmental`).
    pub const CLOCKS: u64 = 4;
}

/// 32-bit words of a [`SimRng`] generated in bulk ahead of a kernel's draws. Drawing with
/// `next_u32` loads and stores the generator's buffer index on every word, a chain through
/// memory that costs more than a Deffuant or voter update; a kernel instead takes a slice of
/// words and keeps its own position in a register. [`WordsAhead::give_back`] winds the
/// generator back over the words left unused, so it ends exactly where drawing the same words
/// one at a time would have left it.
#[derive(Debug, Default)]
pub(crate) struct WordsAhead {
    words: Vec<u32>,
    next: usize,
}

impl WordsAhead {
    /// The words from the next unused one on, at least `count` of them: the unused ones
    /// kept, the rest drawn from `rng`. Report how many were used with [`WordsAhead::used`].
    pub(crate) fn reserve(&mut self, rng: &mut SimRng, count: usize) -> &[u32] {
        let left = self.words.len() - self.next;
        if left < count {
            self.words.copy_within(self.next.., 0);
            self.words.resize(count.max(self.words.len()), 0);
            rng.fill(&mut self.words[left..]);
            self.next = 0;
        }
        &self.words[self.next..]
    }

    /// Marks the first `count` words of the last [`WordsAhead::reserve`] as used.
    pub(crate) fn used(&mut self, count: usize) {
        self.next += count;
    }

    /// Winds `rng` back over the words drawn but not used.
    pub(crate) fn give_back(self, rng: &mut SimRng) {
        let unused = (self.words.len() - self.next) as u128;
        if unused > 0 {
            rng.set_word_pos(rng.get_word_pos() - unused);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::RngCore;

    use super::*;

    #[test]
    fn words_ahead_leave_the_generator_where_word_by_word_draws_do() {
        let mut ahead_rng = seeded(3, streams::DYNAMICS);
        let mut plain_rng = ahead_rng.clone();
        let mut ahead = WordsAhead::default();
        // Uneven reserves and uses, across ChaCha's 64-word buffers, then a plain draw.
        for (reserve, use_count) in [(5, 3), (100, 100), (7, 0), (64, 61), (300, 17), (1, 1)] {
            let words = ahead.reserve(&mut ahead_rng, reserve).to_vec();
            assert!(words.len() >= reserve);
            for &word in &words[..use_count] {
                assert_eq!(word, plain_rng.next_u32());
            }
            ahead.used(use_count);
        }
        ahead.give_back(&mut ahead_rng);
        assert_eq!(ahead_rng, plain_rng);
        assert_eq!(ahead_rng.next_u64(), plain_rng.next_u64());
    }
}
