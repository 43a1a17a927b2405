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

use std::ops::ControlFlow;

use rand::seq::index::sample;

use crate::graph::complete_graph_arc_from_words;
use crate::rng::{seeded, streams, SimRng, WordsAhead};

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

/// Runs `update(agent, partner)` for up to `n` arcs of the complete graph on `n_words` agents,
/// drawn exactly as the generic loop draws them ([`complete_graph_arc_from_words`]) but from
/// blocks of words drawn ahead, so the kernels make no generator call per update. `update`
/// returns [`ControlFlow::Break`] to stop right after its update. Returns the number of updates
/// run; the generator ends where drawing those updates one by one would have left it.
#[inline(always)]
pub(crate) fn complete_graph_arcs(
    rng: &mut SimRng,
    n: usize,
    n_words: u32,
    mut update: impl FnMut(usize, usize) -> ControlFlow<()>,
) -> usize {
    let mut ahead = WordsAhead::default();
    let mut done = 0;
    'blocks: while done < n {
        let words = ahead.reserve(rng, KERNEL_WORDS);
        // An update takes two words, rarely up to four: the block stops while four remain.
        let last_start = words.len() - 4;
        let block_end = n.min(done + KERNEL_CHUNK);
        let mut next = 0;
        while done < block_end && next <= last_start {
            done += 1;
            let (agent, partner) = complete_graph_arc_from_words(n_words, words, &mut next);
            if update(agent, partner).is_break() {
                ahead.used(next);
                break 'blocks;
            }
        }
        ahead.used(next);
    }
    ahead.give_back(rng);
    done
}

/// [`complete_graph_arcs`] a block at a time: each block's arcs, as `(listener, speaker)` in
/// draw order, are drawn before any of them runs, so that a kernel sees a block's agents ahead
/// of its updates and can overlap their cache misses (Deffuant's 8 MB of opinions at N = 10⁶).
/// `run_block(arcs)` runs them in order, or returns [`ControlFlow::Break`] with how many it ran
/// to stop the run right after those. Returns the number of updates run; the generator ends
/// where drawing those updates one by one would have left it. Arcs are drawn in vectorised
/// spans where no draw takes a second word ([`draw_arc_span`]), else one by one.
#[inline(always)]
pub(crate) fn complete_graph_arc_blocks(
    rng: &mut SimRng,
    n: usize,
    n_words: u32,
    mut run_block: impl FnMut(&[(u32, u32)]) -> ControlFlow<usize>,
) -> usize {
    let mut ahead = WordsAhead::default();
    let mut arcs = [(0u32, 0u32); KERNEL_CHUNK];
    let mut done = 0;
    while done < n {
        let words = ahead.reserve(rng, KERNEL_WORDS);
        // An update takes two words, rarely up to four: the block stops while four remain.
        let last_start = words.len() - 4;
        let block_len = (n - done).min(KERNEL_CHUNK);
        let mut n_arcs = 0;
        let mut next = 0;
        // Arcs to draw one at a time before trying a span again.
        let mut one_by_one = 0;
        while n_arcs < block_len && next <= last_start {
            // A span's arcs all start within the words the loop below may start from.
            if one_by_one == 0
                && block_len - n_arcs >= ARC_SPAN
                && next + 2 * (ARC_SPAN - 1) <= last_start
            {
                let span_words = words[next..next + 2 * ARC_SPAN].try_into().unwrap();
                let span_arcs = (&mut arcs[n_arcs..n_arcs + ARC_SPAN]).try_into().unwrap();
                if draw_arc_span(n_words, span_words, span_arcs) {
                    n_arcs += ARC_SPAN;
                    next += 2 * ARC_SPAN;
                    continue;
                }
                one_by_one = ARC_SPAN;
            }
            let (listener, speaker) = complete_graph_arc_from_words(n_words, words, &mut next);
            // Both are below `n_words`, a u32.
            arcs[n_arcs] = (listener as u32, speaker as u32);
            n_arcs += 1;
            one_by_one = one_by_one.saturating_sub(1);
        }
        if let ControlFlow::Break(ran) = run_block(&arcs[..n_arcs]) {
            done += ran;
            // Stopped (once per run at most): count the words of the arcs that ran.
            let mut used = 0;
            for _ in 0..ran {
                complete_graph_arc_from_words(n_words, words, &mut used);
            }
            ahead.used(used);
            break;
        }
        done += n_arcs;
        ahead.used(next);
    }
    ahead.give_back(rng);
    done
}

/// Arcs per span of [`draw_arc_span`].
const ARC_SPAN: usize = 32;

/// The next [`ARC_SPAN`] arcs of [`complete_graph_arc_from_words`] from `words` when none of
/// their draws takes a second word (each then takes exactly two), written to `arcs`; `false`
/// when one does, and then `arcs` holds garbage. Without the rare second word the draws are
/// independent and LLVM vectorises them; a span of 32 arcs at N = 10⁶ needs a second word
/// with probability 64 · 10⁶ / 2³² ≈ 1.5%.
#[inline(always)]
fn draw_arc_span(n: u32, words: &[u32; 2 * ARC_SPAN], arcs: &mut [(u32, u32); ARC_SPAN]) -> bool {
    let (listeners, others) = (u64::from(n), u64::from(n - 1));
    // As in `uniform_below_from_words`: a second word when the low half exceeds these.
    let (listener_limit, other_limit) = (n.wrapping_neg(), (n - 1).wrapping_neg());
    let mut second_word = false;
    for k in 0..ARC_SPAN {
        let listener_product = u64::from(words[2 * k]) * listeners;
        let other_product = u64::from(words[2 * k + 1]) * others;
        second_word |=
            (listener_product as u32 > listener_limit) | (other_product as u32 > other_limit);
        let listener = (listener_product >> 32) as u32;
        let other = (other_product >> 32) as u32;
        arcs[k] = (listener, other + u32::from(other >= listener));
    }
    !second_word
}

/// Moves agent `i` of a discrete model to `state`, keeping the per-state `counts`; returns its
/// old state when it changed.
#[inline]
pub(crate) fn move_agent(states: &mut [u8], counts: &mut [u64], i: usize, state: u8) -> Option<u8> {
    let old = states[i];
    if old == state {
        return None;
    }
    states[i] = state;
    counts[usize::from(old)] -= 1;
    counts[usize::from(state)] += 1;
    Some(old)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::complete_graph_arc;

    /// `draw(rng, n_agents, n, stop_after, arcs)` runs a kernel's arc loop over `n` updates on
    /// `n_agents` agents, pushing each arc to `arcs` and stopping right after the
    /// `stop_after`-th, and returns the updates it ran. Checks that they are the arcs one-by-one
    /// draws yield, and that the generator ends where those draws leave it.
    fn assert_draws_as_the_generic_loop(
        cases: &[(usize, usize, Option<usize>)],
        draw: impl Fn(&mut SimRng, usize, usize, Option<usize>, &mut Vec<(usize, usize)>) -> usize,
    ) {
        for &(n_agents, n, stop_after) in cases {
            let mut rng = seeded(9, 0);
            let mut reference = rng.clone();
            let mut arcs = Vec::new();
            let done = draw(&mut rng, n_agents, n, stop_after, &mut arcs);
            assert_eq!(done, arcs.len());
            assert_eq!(done, stop_after.unwrap_or(n));
            let want: Vec<_> = (0..done)
                .map(|_| complete_graph_arc(n_agents, &mut reference))
                .collect();
            assert_eq!(arcs, want, "arcs, n = {n}, stop {stop_after:?}");
            assert_eq!(
                rng.get_word_pos(),
                reference.get_word_pos(),
                "generator position, n = {n}, stop {stop_after:?}"
            );
        }
    }

    /// (agents, updates, stop after): all updates, or a stop in the first block, at a block's
    /// edge, or in a later block.
    const STOPS: [(usize, usize, Option<usize>); 5] = [
        (40, 3_000, None),
        (40, 3_000, Some(1)),
        (2_500, 5_000, Some(KERNEL_CHUNK)),
        (2_500, 5_000, Some(2 * KERNEL_CHUNK + 7)),
        (3, 10, Some(10)),
    ];

    /// The block loop yields the arcs that one-by-one draws yield, and leaves the generator
    /// where they leave it, whether it runs all `n` updates or stops early.
    #[test]
    fn complete_graph_arcs_draw_as_the_generic_loop_does() {
        assert_draws_as_the_generic_loop(&STOPS, |rng, n_agents, n, stop_after, arcs| {
            complete_graph_arcs(rng, n, n_agents as u32, |a, b| {
                arcs.push((a, b));
                if Some(arcs.len()) == stop_after {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
        });
    }

    /// Blocks of arcs drawn ahead are the arcs that one-by-one draws yield, and the generator
    /// ends where they leave it, whether the kernel runs all `n` updates or breaks off.
    #[test]
    fn complete_graph_arc_blocks_draw_as_the_generic_loop_does() {
        // Plus spans that take a second word (`draw_arc_span`): about half of them at 5·10⁷
        // agents, nearly all near 2³².
        let cases = [
            (50_000_000, 5_000, None),
            (u32::MAX as usize - 2, 5_000, Some(3_333)),
        ];
        let cases: Vec<_> = STOPS.iter().chain(&cases).copied().collect();
        assert_draws_as_the_generic_loop(&cases, |rng, n_agents, n, stop_after, arcs| {
            complete_graph_arc_blocks(rng, n, n_agents as u32, |block| {
                for (ran, &(a, b)) in block.iter().enumerate() {
                    arcs.push((a as usize, b as usize));
                    if Some(arcs.len()) == stop_after {
                        return ControlFlow::Break(ran + 1);
                    }
                }
                ControlFlow::Continue(())
            })
        });
    }
}
