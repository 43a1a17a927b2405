//! Graphs: a compressed-sparse-row adjacency, the implicit complete graph, and seeded generators.
//!
//! Convention: row `i` of the adjacency lists the agents that agent `i` *listens to*. For a
//! directed edge-list row `source,target,weight` this means `source` listens to `target` with
//! that weight, which matches the row-stochastic matrix `W[i][j]` of DeGroot and
//! Friedkin–Johnsen. Undirected edges are stored in both rows.

mod generators;
mod io;

pub use generators::{
    barabasi_albert, complete, erdos_renyi, stochastic_block_model, watts_strogatz,
};
pub use io::{read_edge_list, EdgeListFormat};

use rand::Rng;

use crate::error::{invalid, Result};

/// A compact adjacency (CSR) graph with `u32` node ids, optionally weighted.
///
/// Memory: `8 (n + 1) + 4 m` bytes, plus `8 m` when weighted, where `m` counts stored directed
/// arcs (an undirected edge is two arcs).
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    directed: bool,
    /// `offsets[i]..offsets[i + 1]` indexes row `i` in `targets`; length `n_nodes + 1`.
    offsets: Vec<usize>,
    /// Neighbour ids, sorted within each row.
    targets: Vec<u32>,
    /// Arc weights aligned with `targets`, when the graph is weighted.
    weights: Option<Vec<f64>>,
}

impl Graph {
    /// Builds a graph with `n_nodes` nodes from `(source, target, weight)` triples.
    ///
    /// Undirected graphs store each edge in both rows. Weights are kept only when `weighted`.
    /// Duplicate arcs are kept (they add weight); self-loops are kept.
    ///
    /// # Errors
    /// [`crate::DynamicsError::InvalidParameter`] when a node id is `>= n_nodes` or `n_nodes`
    /// does not fit in `u32`.
    pub fn from_edges(
        n_nodes: usize,
        edges: &[(u32, u32, f64)],
        directed: bool,
        weighted: bool,
    ) -> Result<Self> {
        if n_nodes > u32::MAX as usize {
            return Err(invalid(
                "n_agents",
                "at most 4294967295 nodes are supported",
            ));
        }
        let mut degree = vec![0usize; n_nodes + 1];
        for &(source, target, _) in edges {
            for node in [source, target] {
                if node as usize >= n_nodes {
                    return Err(invalid(
                        "edges",
                        format!("node id {node} is out of range for {n_nodes} nodes"),
                    ));
                }
            }
            degree[source as usize] += 1;
            if !directed && source != target {
                degree[target as usize] += 1;
            }
        }
        let mut offsets = vec![0usize; n_nodes + 1];
        for i in 0..n_nodes {
            offsets[i + 1] = offsets[i] + degree[i];
        }
        let n_arcs = offsets[n_nodes];
        let mut cursor = offsets.clone();
        let mut targets = vec![0u32; n_arcs];
        let mut weights = if weighted {
            vec![0.0; n_arcs]
        } else {
            Vec::new()
        };
        let mut push = |from: u32, to: u32, weight: f64| {
            let slot = cursor[from as usize];
            cursor[from as usize] += 1;
            targets[slot] = to;
            if weighted {
                weights[slot] = weight;
            }
        };
        for &(source, target, weight) in edges {
            push(source, target, weight);
            if !directed && source != target {
                push(target, source, weight);
            }
        }
        // Sort each row so that the layout does not depend on edge order.
        for i in 0..n_nodes {
            let (start, end) = (offsets[i], offsets[i + 1]);
            if weighted {
                let mut row: Vec<(u32, f64)> = targets[start..end]
                    .iter()
                    .copied()
                    .zip(weights[start..end].iter().copied())
                    .collect();
                row.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
                for (k, (t, w)) in row.into_iter().enumerate() {
                    targets[start + k] = t;
                    weights[start + k] = w;
                }
            } else {
                targets[start..end].sort_unstable();
            }
        }
        Ok(Self {
            directed,
            offsets,
            targets,
            weights: weighted.then_some(weights),
        })
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of stored arcs (an undirected edge counts twice).
    pub fn n_arcs(&self) -> usize {
        self.targets.len()
    }

    /// Whether edges were read as directed.
    pub fn is_directed(&self) -> bool {
        self.directed
    }

    /// Whether arcs carry weights.
    pub fn is_weighted(&self) -> bool {
        self.weights.is_some()
    }

    /// The agents that `node` listens to, sorted by id.
    pub fn neighbors(&self, node: usize) -> &[u32] {
        &self.targets[self.offsets[node]..self.offsets[node + 1]]
    }

    /// Weights aligned with [`Graph::neighbors`]; `None` for an unweighted graph.
    pub fn neighbor_weights(&self, node: usize) -> Option<&[f64]> {
        self.weights
            .as_ref()
            .map(|w| &w[self.offsets[node]..self.offsets[node + 1]])
    }

    /// Out-degree of `node` (number of agents it listens to).
    pub fn degree(&self, node: usize) -> usize {
        self.offsets[node + 1] - self.offsets[node]
    }

    /// Mean out-degree ⟨k⟩.
    pub fn mean_degree(&self) -> f64 {
        if self.n_nodes() == 0 {
            0.0
        } else {
            self.n_arcs() as f64 / self.n_nodes() as f64
        }
    }

    /// The arc stored at CSR position `arc`, as `(source, target)`.
    fn arc(&self, arc: usize) -> (usize, usize) {
        // partition_point finds the row whose range holds `arc`.
        let source = self.offsets.partition_point(|&o| o <= arc) - 1;
        (source, self.targets[arc] as usize)
    }
}

/// A uniformly random ordered pair `(listener, speaker)` of distinct agents among `n >= 2`:
/// the listener uniform on `0..n`, the speaker uniform on the other `n − 1`. These are exactly
/// the draws of [`Topology::random_arc`] (and of a random-sequential pick followed by
/// [`Topology::random_neighbor`]) on the complete graph, so the models' complete-graph kernels
/// call this and stay draw-for-draw identical to the generic scheduler loop.
#[inline]
pub(crate) fn complete_graph_arc<R: Rng + ?Sized>(n: usize, rng: &mut R) -> (usize, usize) {
    let listener = uniform_below(n, rng);
    // Draw from the n − 1 others and skip over the listener.
    let other = uniform_below(n - 1, rng);
    (listener, other + usize::from(other >= listener))
}

/// A uniform draw on `0..bound` (`bound >= 1`): the same value, from the same draws, as
/// `rng.random_range(0..bound)` in rand 0.9, whose out-of-line call cost more than a whole
/// Deffuant or voter update. For bounds up to 2³² that is Canon's method: one 32-bit word
/// times the bound, high half as the result, and a second word only when the low half
/// lands within `bound` of 2³² (probability bound / 2³²). A unit test pins the equivalence.
#[inline(always)]
pub(crate) fn uniform_below<R: Rng + ?Sized>(bound: usize, rng: &mut R) -> usize {
    let Ok(range) = u32::try_from(bound) else {
        return rng.random_range(0..bound);
    };
    let product = u64::from(rng.next_u32()) * u64::from(range);
    let (high, low) = ((product >> 32) as u32, product as u32);
    if low > range.wrapping_neg() {
        let correction = ((u64::from(rng.next_u32()) * u64::from(range)) >> 32) as u32;
        (high + u32::from(low.checked_add(correction).is_none())) as usize
    } else {
        high as usize
    }
}

/// [`complete_graph_arc`] drawn from words of [`crate::rng::WordsAhead`] from position
/// `*next` on (which it advances): the same pair from the same words, for `n` in 2..2³².
#[inline(always)]
pub(crate) fn complete_graph_arc_from_words(
    n: u32,
    words: &[u32],
    next: &mut usize,
) -> (usize, usize) {
    let listener = uniform_below_from_words(n, words, next);
    let other = uniform_below_from_words(n - 1, words, next);
    (listener, other + usize::from(other >= listener))
}

/// [`uniform_below`] for `bound` in 1..2³² drawn from `words[*next..]`: one word, or two when
/// the first lands within `bound` of 2³².
#[inline(always)]
pub(crate) fn uniform_below_from_words(bound: u32, words: &[u32], next: &mut usize) -> usize {
    let product = u64::from(words[*next]) * u64::from(bound);
    *next += 1;
    let (high, low) = ((product >> 32) as u32, product as u32);
    if low > bound.wrapping_neg() {
        let correction = ((u64::from(words[*next]) * u64::from(bound)) >> 32) as u32;
        *next += 1;
        (high + u32::from(low.checked_add(correction).is_none())) as usize
    } else {
        high as usize
    }
}

/// Who interacts with whom: an explicit graph, or the complete graph kept implicit so that it
/// costs no memory at any size.
#[derive(Debug, Clone, PartialEq)]
pub enum Topology {
    /// Everyone listens to everyone else (no self-loops); `n` agents.
    Complete {
        /// Number of agents.
        n: usize,
    },
    /// An explicit adjacency.
    Graph(Graph),
}

impl Topology {
    /// Number of agents.
    pub fn n_agents(&self) -> usize {
        match self {
            Topology::Complete { n } => *n,
            Topology::Graph(graph) => graph.n_nodes(),
        }
    }

    /// A uniformly random agent that `agent` listens to, or `None` when it listens to nobody.
    pub fn random_neighbor<R: Rng + ?Sized>(&self, agent: usize, rng: &mut R) -> Option<usize> {
        match self {
            Topology::Complete { n } => {
                if *n < 2 {
                    return None;
                }
                // Draw from n - 1 others and skip over `agent`.
                let other = uniform_below(*n - 1, rng);
                Some(if other >= agent { other + 1 } else { other })
            }
            Topology::Graph(graph) => {
                let row = graph.neighbors(agent);
                if row.is_empty() {
                    None
                } else {
                    Some(row[rng.random_range(0..row.len())] as usize)
                }
            }
        }
    }

    /// A uniformly random ordered pair `(listener, speaker)` that is connected, or `None` when
    /// there are no arcs. On the complete graph this is a uniform pair of distinct agents.
    pub fn random_arc<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<(usize, usize)> {
        match self {
            Topology::Complete { n } => (*n >= 2).then(|| complete_graph_arc(*n, rng)),
            Topology::Graph(graph) => {
                if graph.n_arcs() == 0 {
                    None
                } else {
                    Some(graph.arc(rng.random_range(0..graph.n_arcs())))
                }
            }
        }
    }

    /// Mean number of agents each agent listens to.
    pub fn mean_degree(&self) -> f64 {
        match self {
            Topology::Complete { n } => n.saturating_sub(1) as f64,
            Topology::Graph(graph) => graph.mean_degree(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_rows_are_sorted_and_symmetric_for_undirected_edges() {
        let graph =
            Graph::from_edges(4, &[(2, 0, 1.0), (0, 1, 1.0), (3, 2, 1.0)], false, false).unwrap();
        assert_eq!(graph.neighbors(0), &[1, 2]);
        assert_eq!(graph.neighbors(2), &[0, 3]);
        assert_eq!(graph.n_arcs(), 6);
        assert_eq!(graph.arc(0), (0, 1));
        assert_eq!(graph.arc(5), (3, 2));
    }

    #[test]
    fn uniform_below_makes_exactly_rands_draws() {
        use rand::SeedableRng;
        let mut ours = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut rands = ours.clone();
        // Small, odd, power-of-two and near-2³² bounds (the last take the second-word branch
        // often enough to be exercised).
        let bounds = [
            1usize,
            2,
            3,
            10,
            1 << 20,
            1_000_003,
            (1 << 32) - 3,
            u32::MAX as usize,
        ];
        for _ in 0..20_000 {
            for &bound in &bounds {
                assert_eq!(
                    uniform_below(bound, &mut ours),
                    rands.random_range(0..bound)
                );
            }
        }
        assert_eq!(ours, rands, "both consumed the same words");
    }

    #[test]
    fn draws_from_words_ahead_match_the_generators_draws() {
        use crate::rng::{seeded, WordsAhead};
        let mut rng = seeded(9, 5);
        let mut plain = rng.clone();
        let mut ahead = WordsAhead::default();
        // Near-2³² bounds take the two-word branch often enough to be exercised.
        let bounds = [1u32, 2, 3, 10, 1_000_003, u32::MAX - 2, u32::MAX];
        for _ in 0..2_000 {
            let words = ahead.reserve(&mut rng, 4 * bounds.len());
            let mut next = 0;
            for &bound in &bounds {
                assert_eq!(
                    uniform_below_from_words(bound, words, &mut next),
                    uniform_below(bound as usize, &mut plain)
                );
                if bound >= 2 {
                    assert_eq!(
                        complete_graph_arc_from_words(bound, words, &mut next),
                        complete_graph_arc(bound as usize, &mut plain)
                    );
                }
            }
            ahead.used(next);
        }
        ahead.give_back(&mut rng);
        assert_eq!(rng, plain, "both consumed the same words");
    }

    #[test]
    fn out_of_range_node_is_an_error_not_a_panic() {
        let err = Graph::from_edges(2, &[(0, 5, 1.0)], true, false).unwrap_err();
        assert!(err.to_string().contains("node id 5"), "{err}");
    }
}
